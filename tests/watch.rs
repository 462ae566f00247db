//! `loopwatch watch`, `explain` and the config file, run as the built binary against
//! listeners this test opens and closes itself.
// Helpers outside #[test] fns are not covered by clippy.toml's allow-*-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, Ipv6Addr, TcpListener, UdpSocket};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_loopwatch");
/// Far above a normal run; only a hung binary reaches it.
const DEADLINE: Duration = Duration::from_secs(30);

/// Tests here pick a free port and bind it later; run one at a time so none of them takes the
/// port another has just found free.
static PORTS: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    PORTS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A listener on 127.0.0.1 whose port no other TCP or UDP socket uses on either address
/// family, so what `watch` sees on that port is this test's alone (other programs may hold
/// thousands of ports).
fn held_port() -> (TcpListener, u16) {
    let usable = |result: std::io::Result<()>| match result {
        Ok(()) => true,
        // No IPv6 on this machine: nothing can be bound there either.
        Err(e) => e.kind() == std::io::ErrorKind::AddrNotAvailable,
    };
    for _ in 0..100 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let alone = usable(TcpListener::bind((Ipv6Addr::LOCALHOST, port)).map(drop))
            && usable(UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).map(drop))
            && usable(UdpSocket::bind((Ipv6Addr::LOCALHOST, port)).map(drop));
        if alone {
            return (listener, port);
        }
    }
    panic!("no port is free on both families");
}

/// A port as [`held_port`] finds one, let go again for the test to bind later.
fn free_port() -> u16 {
    held_port().1
}

fn bind(port: u16) -> TcpListener {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap()
}

/// A running `loopwatch` whose stdout lines arrive on a channel.
struct Running {
    child: Child,
    lines: Receiver<String>,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines }
    }

    fn line_within(&self, wait: Duration) -> Option<String> {
        self.lines.recv_timeout(wait).ok()
    }

    fn wait(&mut self) -> (ExitStatus, String) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    pipe.read_to_string(&mut stderr).unwrap();
                }
                return (status, stderr);
            }
            if start.elapsed() > DEADLINE {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("loopwatch did not exit within {DEADLINE:?}");
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn event(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

#[cfg(unix)]
#[test]
fn watch_json_reports_a_listener_opening_and_closing_then_stops_on_sigterm() {
    let _one = one_at_a_time();
    let port = free_port();
    let mut watch = Running::start(&["watch", "--json", "--interval", "100ms", &port.to_string()]);

    // The watch's first collection is its baseline; a listener bound before it is not an
    // "opened" event. Bind, and if no event comes, close and bind again until one does.
    let deadline = Instant::now() + DEADLINE;
    let listener = loop {
        assert!(Instant::now() < deadline, "no opened event for port {port}");
        let listener = bind(port);
        if let Some(line) = watch.line_within(Duration::from_secs(2)) {
            let opened = event(&line);
            assert_eq!(opened["event"], "opened", "{line}");
            break (listener, opened);
        }
        drop(listener);
        // Seen in the baseline: its closing is reported; drain it and try again.
        let _ = watch.line_within(Duration::from_secs(2));
    };
    let (listener, opened) = listener;
    assert_eq!(opened["version"], 1);
    assert_eq!(opened["socket"]["local_port"], port);
    assert_eq!(opened["socket"]["local_address"], "127.0.0.1");
    assert_eq!(opened["socket"]["state"], "LISTEN");
    assert_eq!(opened["socket"]["proto"], "tcp");
    assert_eq!(
        opened["socket"]["owners"][0]["pid"],
        u64::from(std::process::id())
    );
    let time = opened["time"].as_str().unwrap();
    assert!(time.len() >= 24 && time.as_bytes()[10] == b'T', "{time}");

    drop(listener);
    let line = watch
        .line_within(DEADLINE)
        .expect("a closed event after the listener closed");
    let closed = event(&line);
    assert_eq!(closed["event"], "closed", "{line}");
    assert_eq!(closed["socket"]["local_port"], port);

    watch.signal("TERM");
    let (status, stderr) = watch.wait();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
}

#[test]
fn until_open_exits_0_when_the_port_opens() {
    let _one = one_at_a_time();
    let port = free_port();
    let mut watch = Running::start(&[
        "watch",
        "--until-open",
        &port.to_string(),
        "--timeout",
        "30",
        "--interval",
        "100ms",
    ]);
    let _listener = bind(port);
    let (status, stderr) = watch.wait();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
}

#[test]
fn until_open_exits_1_on_timeout_with_one_line() {
    let _one = one_at_a_time();
    let port = free_port();
    let mut watch = Running::start(&[
        "watch",
        "--until-open",
        &port.to_string(),
        "--timeout",
        "0.5",
        "--interval",
        "100ms",
    ]);
    let (status, stderr) = watch.wait();
    assert_eq!(status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(
        stderr,
        format!("loopwatch: port {port} did not open within 0.5s\n")
    );
}

#[test]
fn until_closed_exits_0_when_the_listener_goes() {
    let _one = one_at_a_time();
    let (listener, port) = held_port();
    let mut watch = Running::start(&[
        "watch",
        "--until-closed",
        &port.to_string(),
        "--timeout",
        "30",
        "--interval",
        "100ms",
    ]);
    drop(listener);
    let (status, stderr) = watch.wait();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
}

#[test]
fn explain_names_this_process_and_the_address() {
    let _one = one_at_a_time();
    let (listener, port) = held_port();
    let mut run = Running::start(&["explain", &port.to_string()]);
    let mut text = String::new();
    while let Some(line) = run.line_within(DEADLINE) {
        text.push_str(&line);
        text.push('\n');
    }
    let (status, _) = run.wait();
    assert_eq!(status.code(), Some(0));
    assert!(text.starts_with(&format!("port {port}\n")), "{text}");
    // Named by pid. (A thread of this test binary may be forking another test's child at
    // that moment, which holds the socket too until it execs: then two holders are named.)
    let me = std::process::id().to_string();
    assert!(
        text.contains(&format!("(pid {me}")) || text.contains(&format!(" {me},")),
        "{text}"
    );
    assert!(text.contains("loopback address"), "{text}");
    assert!(text.contains("Only IPv4 is bound"), "{text}");
    drop(listener);
}

#[test]
fn a_bad_config_file_is_refused_with_one_line_naming_the_key() {
    let dir = std::env::temp_dir().join(format!("loopwatch-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config.toml");
    for (text, message) in [
        ("colour = \"red\"\n", "unknown key `colour`"),
        ("interval = \"5ms\"\n", "`interval` must be a duration"),
    ] {
        std::fs::write(&file, text).unwrap();
        let mut run = Running::start(&["--config", file.to_str().unwrap(), "list"]);
        let (status, stderr) = run.wait();
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(stderr.contains("config.toml"), "{stderr}");
    }
    std::fs::write(&file, "interval = \"2s\"\nread_only = true\n").unwrap();
    let mut run = Running::start(&["list", "--config", file.to_str().unwrap()]);
    let (status, stderr) = run.wait();
    assert_eq!(status.code(), Some(0), "{stderr}");
    // read_only in the file disables kill as --read-only does.
    std::fs::write(&file, "read_only = true\n").unwrap();
    let mut run = Running::start(&["--config", file.to_str().unwrap(), "kill", "1", "--yes"]);
    let (status, stderr) = run.wait();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("kill is disabled in read-only mode"),
        "{stderr}"
    );
    let mut missing = Running::start(&["--config", "/nonexistent/loopwatch.toml", "list"]);
    let (status, stderr) = missing.wait();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot read it"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
