//! The real binary in a real terminal: it shows a port this test holds, filters to it, and
//! quits leaving the terminal as it was.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use support::spawn_listener;
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

    // Narrow to this test's own pid first: on a busy host its ports may be pages down.
    let own_pid = std::process::id().to_string();
    tmux.wait_for("the first snapshot", PATIENCE, |s| s.contains(" socket"));
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
    tmux.type_text(&own_pid);
    tmux.wait_for("both held ports on screen", PATIENCE, |s| {
        s.contains(&port) && s.contains(&other_port)
    });

    tmux.type_text(" ");
    tmux.type_text(&port);
    let filtered = tmux.wait_for("the filter to hide the other port", PATIENCE, |s| {
        s.contains(&port) && !s.contains(&other_port)
    });
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

/// A python child listening on 127.0.0.1: filtered to, stopped with `x` + `y`, and seen gone.
#[test]
fn x_then_y_stops_a_spawned_server_and_reports_the_release() {
    use std::os::unix::process::ExitStatusExt;

    let (mut child, port, pid) = spawn_listener();

    let Some(tmux) = Tmux::start("stop", 120, 30) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    tmux.wait_for("the shell prompt", PATIENCE, |s| s.contains('$'));
    tmux.type_text(&format!("{BIN} --interval 200ms; echo \"lw\"\"exit=$?\""));
    tmux.keys(&["Enter"]);
    // Filter first: on a busy host the port may be far below the first page.
    tmux.wait_for("the first snapshot", PATIENCE, |s| s.contains(" socket"));
    tmux.type_text("/");
    tmux.type_text(&format!("{port} {pid}"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("only the child's row", PATIENCE, |s| {
        s.contains("1 shown") && s.lines().any(|l| l.contains(&port) && l.contains(&pid))
    });

    // A key typed ahead of the dialog never answers it: `x` and Enter in one burst leave the
    // dialog open and the process alone.
    tmux.keys(&["x", "Enter"]);
    tmux.wait_for("the stop dialog", PATIENCE, |s| {
        s.contains(&format!("stop python3 {pid}?"))
    });
    std::thread::sleep(Duration::from_millis(500)); // long enough for a wrong answer to act
    let still = tmux.screen();
    assert!(still.contains(&format!("stop python3 {pid}?")), "{still}");
    assert!(
        child.try_wait().unwrap().is_none(),
        "Enter typed ahead sent nothing"
    );
    tmux.type_text("n");
    tmux.wait_for("the cancel message", PATIENCE, |s| {
        s.contains("cancelled: nothing was sent")
    });

    tmux.type_text("x");
    let dialog = tmux.wait_for("the stop dialog", PATIENCE, |s| {
        s.contains(&format!("stop python3 {pid}?"))
    });
    assert!(dialog.contains("send SIGTERM"), "{dialog}");
    assert!(
        dialog.contains(&format!("tcp 127.0.0.1:{port}")),
        "the dialog names the port it holds:\n{dialog}"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "nothing is sent before the answer"
    );

    tmux.type_text("y");
    let after = tmux.wait_for("the release message and the row gone", PATIENCE, |s| {
        s.contains(&format!("port {port} released after")) && s.contains("0 shown")
    });
    assert!(
        !after
            .lines()
            .any(|l| l.contains(&pid) && l.contains("LISTEN")),
        "{after}"
    );
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(15), "stopped by SIGTERM");

    tmux.type_text("q");
    let done = tmux.wait_for("the shell after quitting", PATIENCE, |s| {
        exit_line(s).is_some()
    });
    assert_eq!(exit_line(&done), Some("lwexit=0"), "{done}");
}

/// With too few descriptors for the keyboard reader, loopwatch does not sit on a screen that
/// cannot hear `q`: it gives the terminal back and says what to raise.
#[test]
fn too_few_descriptors_end_with_the_reason_and_a_usable_terminal() {
    let Some(tmux) = Tmux::start("fdlimit", 120, 30) else {
        return;
    };
    tmux.wait_for("the shell prompt", PATIENCE, |s| s.contains('$'));
    tmux.type_text(&format!(
        "(ulimit -n 6; {BIN}; echo \"lw\"\"exit=$?\"); stty -a | tr ' ' '\\n' | grep -x -e icanon -e echo"
    ));
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("loopwatch to give up", PATIENCE, |s| exit_line(s).is_some());
    assert_eq!(exit_line(&screen), Some("lwexit=1"), "{screen}");
    assert!(screen.contains("raise the limit (ulimit -n)"), "{screen}");
    // Cooked mode again: the shell can be typed into.
    let screen = tmux.wait_for("stty's report", PATIENCE, |s| {
        s.lines().any(|l| l.trim() == "icanon")
    });
    assert!(screen.lines().any(|l| l.trim() == "echo"), "{screen}");
}

/// Ctrl-Z gives the shell a usable terminal (no alternate screen, no mouse reporting) and `fg`
/// brings the table back whole, as in vim or htop.
#[test]
fn ctrl_z_hands_the_terminal_to_the_shell_and_fg_brings_the_table_back() {
    let Some(tmux) = Tmux::start("suspend", 120, 30) else {
        return;
    };
    tmux.wait_for("the shell prompt", PATIENCE, |s| s.contains('$'));
    // Alone on its line: a shell goes on to the next command of a list when a job stops.
    tmux.type_text(&format!("{BIN} --interval 200ms"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the table", PATIENCE, |s| s.contains("sorted by"));
    tmux.wait_for_var("alternate_on", "1", PATIENCE);

    tmux.keys(&["C-z"]);
    tmux.wait_for_var("alternate_on", "0", PATIENCE);
    tmux.wait_for_var("mouse_any_flag", "0", PATIENCE);
    tmux.wait_for("the shell to take over", PATIENCE, |s| {
        s.lines()
            .any(|l| l.to_ascii_lowercase().contains("stopped"))
    });

    tmux.type_text("fg");
    tmux.keys(&["Enter"]);
    tmux.wait_for_var("alternate_on", "1", PATIENCE);
    tmux.wait_for_var("mouse_any_flag", "1", PATIENCE);
    tmux.wait_for("the table drawn again", PATIENCE, |s| {
        s.lines().next().is_some_and(|l| l.contains("sorted by"))
    });
    tmux.keys(&["q"]);
    tmux.wait_for_var("alternate_on", "0", PATIENCE);
    tmux.type_text("echo \"lw\"\"exit=$?\"");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the exit status", PATIENCE, |s| exit_line(s).is_some());
    assert_eq!(exit_line(&screen), Some("lwexit=0"), "{screen}");
}

/// Stopped with Ctrl-Z while the stop dialog is open: a `y` typed right after `fg`, before the
/// screen is back, answers nothing; and a window shrunk while stopped (the shell got the
/// resize, not loopwatch) closes the dialog unanswered on the way back.
#[test]
fn a_dialog_left_with_ctrl_z_is_never_answered_blind() {
    let (mut child, port, pid) = spawn_listener();
    let Some(tmux) = Tmux::start("blind", 120, 30) else {
        let _ = child.kill();
        let _ = child.wait();
        return;
    };
    let dialog = format!("stop python3 {pid}?");
    tmux.wait_for("the shell prompt", PATIENCE, |s| s.contains('$'));
    tmux.type_text(&format!("{BIN} --interval 200ms"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the first snapshot", PATIENCE, |s| s.contains(" socket"));
    tmux.type_text(&format!("/{port} {pid}"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("only the child's row", PATIENCE, |s| s.contains("1 shown"));
    let stopped = |s: &str| {
        s.lines()
            .any(|l| l.to_ascii_lowercase().contains("stopped"))
    };

    // `fg`, Enter and `y` in one burst: the y reaches loopwatch before its screen is back.
    tmux.type_text("x");
    tmux.wait_for("the stop dialog", PATIENCE, |s| s.contains(&dialog));
    tmux.keys(&["C-z"]);
    tmux.wait_for("the shell to take over", PATIENCE, stopped);
    tmux.keys(&["f", "g", "Enter", "y"]);
    tmux.wait_for("the dialog drawn again", PATIENCE, |s| s.contains(&dialog));
    std::thread::sleep(Duration::from_millis(500)); // long enough for a wrong answer to act
    assert!(tmux.screen().contains(&dialog), "{}", tmux.screen());
    assert!(
        child.try_wait().unwrap().is_none(),
        "the blind y sent nothing"
    );

    // Shrunk while stopped, then back: the dialog is closed, and a y answers nothing.
    tmux.keys(&["C-z"]);
    tmux.wait_for("the shell to take over", PATIENCE, stopped);
    tmux.resize(10, 3);
    tmux.keys(&["f", "g", "Enter"]);
    tmux.wait_for("the too-small notice", PATIENCE, |s| s.contains("10x3"));
    tmux.type_text("y");
    tmux.resize(120, 30);
    tmux.wait_for("the dialog closed unanswered", PATIENCE, |s| {
        s.contains("did not fit")
    });
    assert!(child.try_wait().unwrap().is_none(), "nothing was sent");
    tmux.keys(&["q"]);
    let _ = child.kill();
    let _ = child.wait();
}
