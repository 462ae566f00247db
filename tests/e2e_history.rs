//! The real binary in a real terminal: a listener opened while loopwatch runs appears marked
//! new, enters the history, and its closing is recorded too.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use support::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_loopwatch");
const PATIENCE: Duration = Duration::from_secs(15);

#[test]
fn a_listener_opened_while_watching_is_marked_new_and_enters_the_history() {
    let Some(tmux) = Tmux::start("history", 120, 30) else {
        return;
    };
    tmux.wait_for("the shell prompt", PATIENCE, |s| s.contains('$'));
    tmux.type_text(&format!("{BIN} --interval 200ms; echo \"lw\"\"exit=$?\""));
    tmux.keys(&["Enter"]);
    // The first collection is on screen: what opens from now on is a change.
    tmux.wait_for("the first snapshot", PATIENCE, |s| {
        s.lines().next().is_some_and(|l| l.contains(" socket"))
    });

    // A port nothing holds yet; the table is filtered to it and this process (the machine may
    // have thousands of other sockets).
    let port = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port().to_string()
    };
    let pid = std::process::id().to_string();
    tmux.type_text(&format!("/{port} {pid}"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the empty filtered table", PATIENCE, |s| {
        s.contains("no sockets match")
    });

    let listener = TcpListener::bind(format!("127.0.0.1:{port}")).unwrap();
    let endpoint = format!("127.0.0.1:{port}");
    let marked_row = |l: &&str| l.contains(&port) && (l.starts_with(" +") || l.starts_with(">+"));
    let screen = tmux.wait_for("the new listener, marked new", PATIENCE, |s| {
        s.lines().any(|l| marked_row(&l))
    });
    let row = screen.lines().find(marked_row).unwrap();
    assert!(row.contains(&pid), "the row names this test's pid: {row}");
    assert!(row.contains("LISTEN"), "{row}");

    // The history has its own filter; the table's does not apply to it.
    tmux.type_text("h");
    tmux.wait_for("the history view", PATIENCE, |s| {
        s.lines().next().is_some_and(|l| l.contains("history"))
    });
    tmux.type_text(&format!("/{endpoint} {pid}"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the opening in the history", PATIENCE, |s| {
        s.lines().any(|l| l.contains(&format!("+ tcp {endpoint}")))
    });

    drop(listener);
    tmux.wait_for("the closing in the history", PATIENCE, |s| {
        s.lines().any(|l| l.contains(&format!("- tcp {endpoint}")))
            && s.lines().next().is_some_and(|l| l.contains("2 match"))
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the table again", PATIENCE, |s| s.contains("Local address"));

    tmux.type_text("q");
    let after = tmux.wait_for("the shell after quitting", PATIENCE, |s| {
        s.lines().any(|l| l.trim().starts_with("lwexit="))
    });
    assert!(
        after.lines().any(|l| l.trim() == "lwexit=0"),
        "loopwatch exited 0:\n{after}"
    );
}
