//! The built binary's generated texts: shell completions and the man page.
// Helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_loopwatch");
const SUBCOMMANDS: [&str; 7] = [
    "list",
    "who",
    "kill",
    "watch",
    "explain",
    "completions",
    "man",
];

fn loopwatch(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run loopwatch")
}

/// Runs `program args` with `input` on its stdin.
fn with_stdin(program: &str, args: &[&str], input: &[u8]) -> Option<Output> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(input).ok()?;
    child.wait_with_output().ok()
}

#[test]
fn the_bash_completion_is_valid_bash_and_completes_the_subcommands() {
    let out = loopwatch(&["completions", "bash"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = String::from_utf8(out.stdout.clone()).unwrap();
    for name in SUBCOMMANDS {
        assert!(script.contains(name), "no {name} in:\n{script}");
    }
    let check = with_stdin("bash", &["-n"], &out.stdout).expect("bash");
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Sourced, it registers a completion for loopwatch.
    let mut source = b"set -e\n".to_vec();
    source.extend_from_slice(&out.stdout);
    source.extend_from_slice(b"\ncomplete -p loopwatch\n");
    let sourced = with_stdin("bash", &[], &source).expect("bash");
    assert!(
        sourced.status.success(),
        "{}",
        String::from_utf8_lossy(&sourced.stderr)
    );
    assert!(String::from_utf8_lossy(&sourced.stdout).contains("loopwatch"));

    // `kill --signal <TAB>` offers the four signals, not file names.
    let mut ask = out.stdout.clone();
    ask.extend_from_slice(
        b"\nCOMP_WORDS=(loopwatch kill --signal '')\nCOMP_CWORD=3\nCOMP_LINE='loopwatch kill --signal '\n\
          COMP_POINT=${#COMP_LINE}\n_loopwatch loopwatch '' --signal\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n",
    );
    let offered = with_stdin("bash", &[], &ask).expect("bash");
    let offered = String::from_utf8_lossy(&offered.stdout);
    let words: Vec<&str> = offered.lines().collect();
    assert_eq!(words, ["TERM", "INT", "HUP", "KILL"], "{offered}");
}

#[test]
fn every_shell_has_completions_and_an_unknown_one_is_a_usage_error() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = loopwatch(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("until-open"),
            "{shell}"
        );
    }
    let out = loopwatch(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[test]
fn the_man_page_is_roff_that_renders_and_names_every_subcommand() {
    let out = loopwatch(&["man"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        page.lines().any(|l| l.starts_with(".TH loopwatch 1")),
        "{page}"
    );
    for name in SUBCOMMANDS {
        assert!(page.contains(name), "no {name} in:\n{page}");
    }
    // Rendered by man(1) where it is installed (.ci/run installs it).
    let Some(rendered) = with_stdin("man", &["-l", "-"], &out.stdout) else {
        assert!(
            std::env::var_os("LOOPWATCH_REQUIRE_MAN").is_none(),
            "man is not installed"
        );
        return;
    };
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    for heading in ["NAME", "SYNOPSIS", "COMMANDS"] {
        assert!(text.contains(heading), "no {heading} in:\n{text}");
    }
    for name in SUBCOMMANDS {
        assert!(text.contains(name), "no {name} in:\n{text}");
    }
}

#[cfg(unix)]
#[test]
fn a_reader_that_leaves_early_ends_them_quietly() {
    for script in [
        r#""$0" man | head -1 >/dev/null; exit "${PIPESTATUS[0]}""#,
        r#""$0" completions bash | head -c1 >/dev/null; exit "${PIPESTATUS[0]}""#,
        r#"exec "$0" man >&-"#,
    ] {
        let out = Command::new("bash")
            .args(["-c", script, BIN])
            .stdin(Stdio::null())
            .output()
            .expect("bash");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{script}");
    }
    // The read end closed before loopwatch writes: its write gets EPIPE.
    for args in [&["man"][..], &["completions", "zsh"]] {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn loopwatch");
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
    }
}
