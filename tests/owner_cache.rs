//! The owner cache against real processes: sockets reopened by another process, inherited by a
//! forked child, and passed over a Unix socket each show their true owners on the very next
//! tick. The test drives the collector tick by tick; it only waits for a holder to say it has
//! done what it was told (tests/support/holder.py).
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use loopwatch::collect::{Collector, system_collector};
use loopwatch::model::Query;
use loopwatch::model::{Proto, SocketState};

const HOLDER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/holder.py");

/// A holder process; killed and reaped however the test ends (its forked children die with it).
struct Holder {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Holder {
    fn spawn() -> Holder {
        let mut child = Command::new("python3")
            .arg(HOLDER)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("python3 runs the holder: {e}"));
        let stdin = child.stdin.take().unwrap_or_else(|| panic!("stdin"));
        let stdout = BufReader::new(child.stdout.take().unwrap_or_else(|| panic!("stdout")));
        Holder {
            child,
            stdin,
            stdout,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a command and returns the holder's answer.
    fn ask(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap_or_else(|e| panic!("{command}: {e}"));
        self.stdin
            .flush()
            .unwrap_or_else(|e| panic!("{command}: {e}"));
        self.answer()
    }

    /// The next line the holder writes (blocks until it has done what it was told).
    fn answer(&mut self) -> String {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("holder answer: {e}"));
        assert!(!line.is_empty(), "the holder exited");
        line.trim().to_string()
    }

    /// Binds a listener (`port` 0: any) and returns its port.
    fn listen(&mut self, port: u16) -> u16 {
        let answer = self.ask(&format!("listen {port}"));
        answer
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("listen answered {answer:?}"))
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh path for a Unix socket, removed on drop.
struct SocketPath(PathBuf);

impl SocketPath {
    fn new(name: &str) -> SocketPath {
        let path =
            std::env::temp_dir().join(format!("loopwatch-{name}-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        SocketPath(path)
    }

    fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or_else(|| panic!("utf-8 temp dir"))
    }
}

impl Drop for SocketPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// One tick of the live table's collector: the owners of the TCP listener on `port`, ascending
/// (empty when the port has no listener).
fn tick(collector: &mut dyn Collector, port: u16) -> Vec<u32> {
    let snapshot = collector
        .collect(&Query::default())
        .unwrap_or_else(|e| panic!("collect: {e}"));
    let mut listeners = snapshot.sockets.iter().filter(|s| {
        s.proto == Proto::Tcp && s.local_port == port && s.state == SocketState::Listen
    });
    let Some(socket) = listeners.next() else {
        return Vec::new();
    };
    assert!(listeners.next().is_none(), "one listener on {port}");
    socket.owners.iter().map(|o| o.key.pid).collect()
}

fn collector() -> Box<dyn Collector> {
    system_collector().unwrap_or_else(|e| panic!("collector: {e}"))
}

fn sorted(mut pids: Vec<u32>) -> Vec<u32> {
    pids.sort_unstable();
    pids
}

#[test]
fn a_port_reopened_by_another_process_shows_the_new_owner() {
    let mut collector = collector();
    let mut first = Holder::spawn();
    let port = first.listen(0);
    assert_eq!(tick(collector.as_mut(), port), [first.pid()]);

    // Closed, and the same port opened by another process between two ticks.
    assert_eq!(first.ask("close"), "ok");
    let mut second = Holder::spawn();
    assert_eq!(second.listen(port), port);
    assert_eq!(tick(collector.as_mut(), port), [second.pid()]);

    // Killed outright, and replaced.
    second.kill();
    let mut third = Holder::spawn();
    assert_eq!(third.listen(port), port);
    assert_eq!(tick(collector.as_mut(), port), [third.pid()]);
}

#[test]
fn a_socket_inherited_by_a_forked_child_shows_both_then_the_child() {
    let mut collector = collector();
    let mut parent = Holder::spawn();
    let port = parent.listen(0);
    assert_eq!(tick(collector.as_mut(), port), [parent.pid()]);

    let answer = parent.ask("fork");
    let child: u32 = answer
        .strip_prefix("child ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("fork answered {answer:?}"));
    assert_eq!(
        tick(collector.as_mut(), port),
        sorted(vec![parent.pid(), child])
    );

    assert_eq!(parent.ask("close"), "ok");
    assert_eq!(tick(collector.as_mut(), port), [child]);
}

#[test]
fn a_socket_passed_over_a_unix_socket_shows_the_receiver() {
    let mut collector = collector();
    let mut sender = Holder::spawn();
    let port = sender.listen(0);
    let mut receiver = Holder::spawn();
    let path = SocketPath::new("pass");
    assert_eq!(receiver.ask(&format!("recv {}", path.as_str())), "ready");
    // Both processes are known to the cache before the descriptor moves.
    assert_eq!(tick(collector.as_mut(), port), [sender.pid()]);

    assert_eq!(sender.ask(&format!("send {}", path.as_str())), "sent");
    assert_eq!(receiver.answer(), "got");
    assert_eq!(
        tick(collector.as_mut(), port),
        sorted(vec![sender.pid(), receiver.pid()])
    );

    assert_eq!(sender.ask("close"), "ok");
    assert_eq!(tick(collector.as_mut(), port), [receiver.pid()]);
}
