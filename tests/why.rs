//! `loopwatch why PORT` (`explain`) on real sockets: each cause of a failed bind made for real
//! on this machine, and the binds the binary tried, read from its JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use rustix::fd::OwnedFd;
use rustix::net::{AddressFamily, SocketFlags, SocketType, bind, listen, socket_with, sockopt};
use serde_json::Value;

mod support;
use support::binary::{Run, as_nobody, loopwatch};

/// What `why PORT --json` said, and its text form.
struct Why {
    doc: Value,
    text: String,
}

impl Why {
    fn of(port: u16) -> Why {
        let json = loopwatch(&["why", &port.to_string(), "--json"]);
        assert_eq!(json.code(), Some(0), "stderr: {}", json.stderr);
        let text = loopwatch(&["why", &port.to_string()]);
        assert_eq!(text.code(), Some(0), "stderr: {}", text.stderr);
        Why {
            doc: json.json(),
            text: flat(&text.stdout),
        }
    }

    /// The result of one bind: `ok`, `in_use`, `permission_denied`...
    fn result(&self, proto: &str, address: &str, reuse: bool) -> &str {
        self.doc["bind_attempts"]
            .as_array()
            .expect("bind_attempts")
            .iter()
            .find(|a| a["proto"] == proto && a["address"] == address && a["reuse_address"] == reuse)
            .and_then(|a| a["result"].as_str())
            .unwrap_or_else(|| panic!("no {proto} {address} {reuse} in {:#}", self.doc))
    }

    fn says(&self, words: &str) {
        assert!(
            self.text.contains(words),
            "expected {words:?} in:\n{}",
            self.text
        );
    }
}

/// The text with its wrapping undone: sentences are asserted whole.
fn flat(text: &str) -> String {
    text.lines()
        .map(|line| match line.split_once("  ") {
            Some((label, rest)) if !label.trim().contains(' ') => rest.trim(),
            _ => line.trim(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn ipv6_loopback() -> bool {
    TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

fn dual_stack_default() -> bool {
    std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only").is_ok_and(|v| v.trim() == "0")
}

/// A TCP socket on `addr`, bound with the given options, listening or not.
fn tcp_socket(addr: SocketAddr, reuse_port: bool, listening: bool) -> OwnedFd {
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    // Close-on-exec: the binaries other tests spawn meanwhile must not inherit it.
    let fd = socket_with(family, SocketType::STREAM, SocketFlags::CLOEXEC, None).unwrap();
    if reuse_port {
        sockopt::set_socket_reuseport(&fd, true).unwrap();
    }
    bind(&fd, &addr).unwrap();
    if listening {
        listen(&fd, 8).unwrap();
    }
    fd
}

fn port_of(fd: &OwnedFd) -> u16 {
    let addr: SocketAddr = rustix::net::getsockname(fd).unwrap().try_into().unwrap();
    addr.port()
}

#[test]
fn a_wildcard_listener_covers_loopback_and_the_rest_is_free() {
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let why = Why::of(port);
    assert_eq!(why.result("tcp", "127.0.0.1", false), "in_use");
    assert_eq!(why.result("tcp", "127.0.0.1", true), "in_use");
    assert_eq!(why.result("tcp", "0.0.0.0", false), "in_use");
    assert_eq!(why.result("udp", "127.0.0.1", false), "ok");
    if ipv6_loopback() {
        assert_eq!(why.result("tcp", "::1", false), "ok");
    }
    why.says(&format!(
        "tcp 127.0.0.1:{port} fails: {} listens on 0.0.0.0:{port}, which covers every IPv4 address.",
        holder()
    ));
    // Every probe let go: the port binds again once the listener does.
    drop(listener);
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
}

/// `loopwatch 1234`'s own label for this test process.
fn holder() -> String {
    let name = std::fs::read_to_string("/proc/self/comm").unwrap();
    format!("{} {}", name.trim(), std::process::id())
}

#[test]
fn the_other_familys_dual_stack_listener_is_named() {
    if !ipv6_loopback() || !dual_stack_default() {
        println!("note: skipped: needs IPv6 and net.ipv6.bindv6only = 0");
        return;
    }
    let listener = TcpListener::bind((Ipv6Addr::UNSPECIFIED, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let why = Why::of(port);
    assert_eq!(why.result("tcp", "127.0.0.1", false), "in_use");
    why.says(&format!(
        "tcp 127.0.0.1:{port} and tcp 0.0.0.0:{port} fail: {} listens on [::]:{port}, a dual-stack socket that takes IPv4 too",
        holder()
    ));

    // Made IPv6-only, the same listener leaves IPv4 free, and that is said.
    let v6only = socket_with(
        AddressFamily::INET6,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .unwrap();
    sockopt::set_ipv6_v6only(&v6only, true).unwrap();
    bind(&v6only, &SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0))).unwrap();
    listen(&v6only, 8).unwrap();
    let port = port_of(&v6only);
    let why = Why::of(port);
    assert_eq!(why.result("tcp", "127.0.0.1", false), "ok");
    why.says(&format!("on [::]:{port} is IPv6-only (IPV6_V6ONLY)"));
}

#[test]
fn time_wait_fails_a_plain_bind_and_not_one_with_reuse_addr() {
    // A server that closes first leaves TIME_WAIT on its own port.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    let (accepted, _) = listener.accept().unwrap();
    drop(accepted);
    // The client sees the close, then closes its end: the server's end goes to TIME_WAIT.
    let mut byte = [0u8; 1];
    let _ = std::io::Read::read(&mut &client, &mut byte);
    drop(client);
    drop(listener);
    wait_for(port, "TIME_WAIT");
    let why = Why::of(port);
    assert_eq!(why.result("tcp", "127.0.0.1", false), "in_use");
    assert_eq!(why.result("tcp", "127.0.0.1", true), "ok");
    why.says(&format!(
        "1 connection in TIME_WAIT on port {port} keeps it reserved for up to a minute; with SO_REUSEADDR the bind succeeds (it did here)."
    ));
    why.says("Servers that set SO_REUSEADDR before binding");
    // No listener now or in the history: the side of the connection is not guessed.
    why.says("Which side opened it cannot be told");
}

/// Waits until `who PORT --json` lists a socket in `state` on the port.
fn wait_for(port: u16, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = loopwatch(&["who", &port.to_string(), "--json"]);
        if out.stdout.contains(&format!("\"state\": \"{state}\"")) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {state} on {port}: {}",
            out.stdout
        );
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_privileged_port_fails_for_an_unprivileged_user() {
    let start: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(1024);
    if start < 2 {
        println!("note: skipped: every port is unprivileged here");
        return;
    }
    // A privileged port nothing holds (root may bind it; the probe as nobody may not).
    let Some(port) = (1..start)
        .rev()
        .find(|&p| TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok())
    else {
        panic!("no free port below {start}");
    };
    let Some(run) = as_nobody(&["why", &port.to_string(), "--json"]) else {
        return;
    };
    let doc = json_of(&run);
    let attempts = doc["bind_attempts"].as_array().unwrap();
    assert!(
        attempts
            .iter()
            .filter(|a| a["address"] == "127.0.0.1" || a["address"] == "0.0.0.0")
            .all(|a| a["result"] == "permission_denied"),
        "{doc:#}"
    );
    let text = flat(&as_nobody(&["why", &port.to_string()]).unwrap().stdout);
    assert!(
        text.contains(&format!(
            "port {port} needs privilege (tried as uid 65534): ports below {start} need root or CAP_NET_BIND_SERVICE"
        )),
        "{text}"
    );
}

fn json_of(run: &Run) -> Value {
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr);
    run.json()
}

#[test]
fn a_reuse_port_group_is_named_and_blocks_others() {
    let first = tcp_socket(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), true, true);
    let port = port_of(&first);
    let second = tcp_socket(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), true, true);
    let why = Why::of(port);
    assert_eq!(why.result("tcp", "127.0.0.1", true), "in_use");
    why.says(&format!(
        "2 sockets listen on 127.0.0.1:{port} together, held by {}: a SO_REUSEPORT group.",
        holder()
    ));
    drop((first, second));
}

#[test]
fn a_socket_bound_without_listening_holds_the_port() {
    let bound = tcp_socket(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), false, false);
    let port = port_of(&bound);
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut numbers = release
        .split(['.', '-'])
        .map(|n| n.parse::<u32>().unwrap_or(0));
    if (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0)) < (6, 7) {
        println!("note: skipped: kernel {release} does not report bound sockets");
        return;
    }
    let why = Why::of(port);
    assert_eq!(why.result("tcp", "127.0.0.1", false), "in_use");
    why.says(&format!(
        "{} already has bound, without listening, 127.0.0.1:{port}.",
        holder()
    ));
    why.says("BOUND: a TCP socket bound to this port but neither listening nor connected");
    let who = loopwatch(&["who", &port.to_string(), "--json"]).json();
    assert_eq!(who["sockets"][0]["state"], "BOUND", "{who:#}");
}

#[test]
fn a_clients_source_port_is_named_with_its_connection() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (_accepted, _) = listener.accept().unwrap();
    let port = client.local_addr().unwrap().port();
    let why = Why::of(port);
    assert_eq!(why.result("tcp", "127.0.0.1", true), "in_use");
    why.says(&format!(
        "a connection uses port {port} as its own local port: {} 127.0.0.1:{port} → 127.0.0.1:{}",
        holder(),
        listener.local_addr().unwrap().port()
    ));
}

#[test]
fn a_free_port_is_free_on_every_address_and_stays_free() {
    let port = support::free_port();
    let why = Why::of(port);
    if ipv6_loopback() {
        why.says(&format!(
            "Binding port {port} now, as a server would (each socket closed at once, never listening): tcp free on all 4 addresses; udp free on all 4 addresses."
        ));
    }
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
}

/// Out of descriptors, the holder cannot be looked for: said so, and the binds still tell.
#[test]
fn with_few_descriptors_the_unknown_holder_is_said_so() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut command = std::process::Command::new("/bin/sh");
    command.args([
        "-c",
        "ulimit -n 5 && exec \"$0\" why \"$1\"",
        support::binary::BIN,
        &port.to_string(),
    ]);
    let run = support::binary::run(command);
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr);
    let text = flat(&run.stdout);
    assert!(
        text.contains(&format!("whose process loopwatch could not look for (out of file descriptors: raise ulimit -n) already listens on 127.0.0.1:{port}."))
            || text.contains(&format!("tcp 127.0.0.1:{port} fails: {} already listens", holder())),
        "{text}"
    );
}

/// Another user's listener, seen by a user who may not read its process: the bind is named as
/// blocked by a hidden process of that user, never by a guess, never "free".
#[test]
fn another_users_listener_is_named_by_its_user() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let Some(run) = as_nobody(&["why", &port.to_string()]) else {
        return;
    };
    assert_eq!(run.code(), Some(0), "stderr: {}", run.stderr);
    let text = flat(&run.stdout);
    let user = if rustix::process::geteuid().is_root() {
        "root".to_string()
    } else {
        rustix::process::geteuid().as_raw().to_string()
    };
    assert!(
        text.contains(&format!(
            "tcp 127.0.0.1:{port} fails: a process of user {user} (hidden: run as root to see it) already listens on 127.0.0.1:{port}."
        )),
        "{text}"
    );
}
