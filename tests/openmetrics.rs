//! `loopwatch list --format openmetrics` from the built binary, over real listeners (one held by
//! a process whose name holds a quote, a backslash and a newline), checked by Prometheus's own
//! `promtool check metrics`.
//!
//! Without promtool (Debian: `apt-get install prometheus`) the test says so and skips, unless
//! LOOPWATCH_REQUIRE_TMUX or CI is set, as on CI, where a missing tool is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_loopwatch");

/// The name the holder gives itself (15 bytes at most: the kernel's limit).
const HOSTILE_NAME: &str = "q\"b\\s\nx\u{1b}[2J";

/// Sets its own process name, listens on 127.0.0.1, prints the port, holds it until killed.
const HOLDER: &str = r#"
import ctypes, socket, sys, time
libc = ctypes.CDLL(None)
libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL: die with the parent
libc.prctl(15, sys.argv[1].encode())  # PR_SET_NAME
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(300)
"#;

fn promtool() -> Option<&'static str> {
    if Command::new("promtool").arg("--version").output().is_ok() {
        return Some("promtool");
    }
    let required =
        std::env::var_os("LOOPWATCH_REQUIRE_TMUX").is_some() || std::env::var_os("CI").is_some();
    assert!(
        !required,
        "promtool is required here (LOOPWATCH_REQUIRE_TMUX or CI is set) but not installed: apt-get install prometheus"
    );
    eprintln!(
        "SKIPPED: promtool is not installed (apt-get install prometheus); the OpenMetrics output is NOT validated"
    );
    None
}

struct Holder(Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn hostile_holder() -> (Holder, u16) {
    let mut child = Command::new("python3")
        .args(["-c", HOLDER, HOSTILE_NAME])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for this test");
    let mut port = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    (Holder(child), port.trim().parse().expect("a port"))
}

fn loopwatch(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run loopwatch");
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn openmetrics_of_real_listeners_passes_promtool() {
    let Some(promtool) = promtool() else { return };
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_port = plain.local_addr().unwrap().port();
    let (_holder, hostile_port) = hostile_holder();

    let (ok, text, stderr) = loopwatch(&["list", "--format", "openmetrics"]);
    assert!(ok, "{stderr}");
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        text.contains("# TYPE loopwatch_socket_info gauge\n"),
        "{text}"
    );
    assert!(
        text.contains("loopwatch_listeners{scope=\"loopback\"} "),
        "{text}"
    );
    let line_of = |port: u16| {
        text.lines()
            .find(|l| {
                l.starts_with("loopwatch_socket_info{") && l.contains(&format!(",port=\"{port}\","))
            })
            .unwrap_or_else(|| panic!("no series for port {port}:\n{text}"))
            .to_string()
    };
    let plain_line = line_of(plain_port);
    assert!(
        plain_line.contains("proto=\"tcp\",address=\"127.0.0.1\"")
            && plain_line.contains("scope=\"loopback\",state=\"listen\"")
            && plain_line.ends_with("} 1"),
        "{plain_line}"
    );
    // The name arrives as every text output shows it (newline and escape sequence as visible
    // escapes), then escaped as the format wants (\" \\).
    let hostile_line = line_of(hostile_port);
    assert!(
        hostile_line.contains(r#"process="q\"b\\s\\nx\\e[2J""#),
        "{hostile_line}"
    );
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "only newlines end lines:\n{text}"
    );
    // Neither the command line nor the pid is a label.
    assert!(
        !text.contains("PR_SET_NAME") && !text.contains("pid="),
        "{text}"
    );

    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    check
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let checked = check.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool check metrics refused it:\n{}{}\n{text}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    drop(plain);
}

#[test]
fn json_is_the_same_with_either_flag_and_clashing_flags_are_refused() {
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = plain.local_addr().unwrap().port();
    for args in [&["list", "--json"][..], &["list", "--format", "json"]] {
        let (ok, out, err) = loopwatch(args);
        assert!(ok, "{args:?}: {err}");
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["version"], 1, "{args:?}");
        let ports: Vec<u64> = doc["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["local_port"].as_u64())
            .collect();
        assert!(ports.contains(&u64::from(port)), "{args:?}: {out}");
    }
    let (ok, _, err) = loopwatch(&["list", "--json", "--format", "openmetrics"]);
    assert!(!ok);
    assert!(err.contains("--json and --format disagree"), "{err}");
    drop(plain);
}
