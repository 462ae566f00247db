//! The real binary in a real terminal: it shows a port this test holds, filters to it, and
//! quits leaving the terminal as it was.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use support::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_loopwatch");
const PATIENCE: Duration = Duration::from_secs(15);

/// The line the shell prints after loopwatch exits. The command types `"lw""exit=$?"` so the
/// echoed command line itself never matches.
fn exit_line(screen: &str) -> Option<&str> {
    screen
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("lwexit="))
}

#[test]
fn shows_a_held_port_filters_to_it_and_quits_cleanly() {
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let other_port = other.local_addr().unwrap().port().to_string();

    let Some(tmux) = Tmux::start("filter", 120, 30) else {
        return;
    };
    tmux.wait_for("the shell prompt", PATIENCE, |s| s.contains('$'));
    tmux.type_text(&format!("{BIN} --interval 200ms; echo \"lw\"\"exit=$?\"; stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo"));
    tmux.keys(&["Enter"]);

    tmux.wait_for("both held ports on screen", PATIENCE, |s| {
        s.contains(&port) && s.contains(&other_port)
    });
    assert_eq!(
        tmux.pane_var("alternate_on"),
        "1",
        "the TUI uses the alternate screen"
    );
    assert_eq!(
        tmux.pane_var("mouse_any_flag"),
        "1",
        "the TUI captures the mouse"
    );

    tmux.type_text("/");
    tmux.type_text(&port);
    let filtered = tmux.wait_for("the filter to hide the other port", PATIENCE, |s| {
        s.contains(&port) && !s.contains(&other_port)
    });
    let own_pid = std::process::id().to_string();
    let row = filtered
        .lines()
        .find(|line| line.contains(&port) && line.contains("127.0.0.1"))
        .unwrap_or_else(|| panic!("no row for port {port}:\n{filtered}"));
    assert!(
        row.contains(&own_pid),
        "the row names this test's pid {own_pid}: {row}"
    );

    tmux.keys(&["Enter"]);
    tmux.type_text("q");
    let after = tmux.wait_for("the shell after quitting", PATIENCE, |s| {
        exit_line(s).is_some()
    });
    assert_eq!(
        exit_line(&after),
        Some("lwexit=0"),
        "loopwatch exited 0:\n{after}"
    );
    tmux.wait_for("stty output", PATIENCE, |s| {
        s.lines().any(|l| l.trim() == "icanon") && s.lines().any(|l| l.trim() == "echo")
    });
    assert_eq!(
        tmux.pane_var("alternate_on"),
        "0",
        "the alternate screen was left"
    );
    assert_eq!(
        tmux.pane_var("mouse_any_flag"),
        "0",
        "mouse capture was undone"
    );
    drop(held);
    drop(other);
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    for signal in ["TERM", "HUP"] {
        let Some(tmux) = Tmux::start(&format!("sig{signal}"), 100, 24) else {
            return;
        };
        tmux.wait_for("the shell prompt", PATIENCE, |s| s.contains('$'));
        tmux.type_text(&format!("{BIN} --interval 200ms; echo \"lw\"\"exit=$?\"; stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo"));
        tmux.keys(&["Enter"]);
        tmux.wait_for_var("mouse_any_flag", "1", PATIENCE);
        tmux.wait_for("the table header", PATIENCE, |s| s.contains("Port"));

        let shell = tmux.pane_var("pane_pid");
        let child = std::process::Command::new("pgrep")
            .args(["-P", &shell])
            .output()
            .unwrap();
        let pid = String::from_utf8_lossy(&child.stdout).trim().to_string();
        assert!(!pid.is_empty(), "loopwatch runs under the pane's shell");
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(status.success());

        let after = tmux.wait_for("the shell after the signal", PATIENCE, |s| {
            exit_line(s).is_some()
        });
        // The conventional status for a signalled program is 128 + the signal; loopwatch
        // catches the signal to restore the terminal, then leaves normally.
        assert_eq!(exit_line(&after), Some("lwexit=0"), "SIG{signal}:\n{after}");
        tmux.wait_for("stty output", PATIENCE, |s| {
            s.lines().any(|l| l.trim() == "icanon") && s.lines().any(|l| l.trim() == "echo")
        });
        assert_eq!(
            tmux.pane_var("alternate_on"),
            "0",
            "SIG{signal}: alternate screen left"
        );
        assert_eq!(
            tmux.pane_var("mouse_any_flag"),
            "0",
            "SIG{signal}: mouse capture undone"
        );
    }
}
