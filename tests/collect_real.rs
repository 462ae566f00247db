//! The real collector against real sockets this test binds. Tests run in parallel in one
//! process, so every assertion is about ports the test itself bound.

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use loopwatch::collect::system_collector;
use loopwatch::model::Query;
use loopwatch::model::{Proto, Scope, Snapshot, Socket, SocketState};

const DEADLINE: Duration = Duration::from_secs(5);
const POLL_PAUSE: Duration = Duration::from_millis(20);

// Helpers panic with a message rather than `expect`: clippy allows that only in test functions.
fn collect(query: Query) -> Snapshot {
    let mut collector =
        system_collector().unwrap_or_else(|e| panic!("the system collector starts: {e}"));
    collector
        .collect(&query)
        .unwrap_or_else(|e| panic!("the socket table is readable: {e}"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The sockets on `port` with protocol `proto`.
fn on_port(snapshot: &Snapshot, proto: Proto, port: u16) -> Vec<&Socket> {
    snapshot
        .sockets
        .iter()
        .filter(|s| s.proto == proto && s.local_port == port)
        .collect()
}

/// Binding IPv6 fails on hosts without it; those cases are skipped there, loudly.
fn bind_tcp(addr: &str) -> Option<TcpListener> {
    TcpListener::bind(addr)
        .inspect_err(|e| eprintln!("skipping {addr}: {e}"))
        .ok()
}

fn bind_udp(addr: &str) -> Option<UdpSocket> {
    UdpSocket::bind(addr)
        .inspect_err(|e| eprintln!("skipping {addr}: {e}"))
        .ok()
}

fn assert_owned_by_me(socket: &Socket) {
    let me = std::process::id();
    let owner = socket
        .owners
        .iter()
        .find(|o| o.key.pid == me)
        .unwrap_or_else(|| panic!("{socket:?} should be owned by this process ({me})"));
    assert!(owner.key.start_time > 0, "{owner:?}");
    assert!(!owner.name.is_empty(), "{owner:?}");
    assert_eq!(socket.unknown, None);
}

#[test]
fn finds_our_listeners_and_udp_sockets_with_their_scope() {
    let cases = [
        ("127.0.0.1:0", "127.0.0.1", Scope::Loopback),
        ("[::1]:0", "::1", Scope::Loopback),
        ("0.0.0.0:0", "0.0.0.0", Scope::AllInterfaces),
        ("[::]:0", "::", Scope::AllInterfaces),
    ];
    let tcp: Vec<_> = cases
        .iter()
        .filter_map(|(bind, addr, scope)| Some((bind_tcp(bind)?, *addr, *scope)))
        .collect();
    let udp: Vec<_> = cases
        .iter()
        .filter(|(bind, ..)| *bind != "[::]:0")
        .filter_map(|(bind, addr, scope)| Some((bind_udp(bind)?, *addr, *scope)))
        .collect();
    assert!(tcp.len() >= 2 && udp.len() >= 2, "IPv4 binds always work");

    let snapshot = collect(Query::default());
    #[cfg(unix)]
    assert_eq!(snapshot.privileged, rustix::process::geteuid().is_root());
    for (listener, addr, scope) in &tcp {
        let port = listener.local_addr().unwrap().port();
        let found = on_port(&snapshot, Proto::Tcp, port);
        assert_eq!(found.len(), 1, "tcp {addr}:{port}: {found:?}");
        let socket = found[0];
        assert_eq!(socket.local_addr, ip(addr));
        assert_eq!(socket.scope, *scope);
        assert_eq!(socket.state, SocketState::Listen);
        assert_eq!(socket.remote, None);
        assert_ne!(socket.inode, 0);
        assert_owned_by_me(socket);
    }
    for (socket, addr, scope) in &udp {
        let port = socket.local_addr().unwrap().port();
        let found = on_port(&snapshot, Proto::Udp, port);
        assert_eq!(found.len(), 1, "udp {addr}:{port}: {found:?}");
        let socket = found[0];
        assert_eq!(socket.local_addr, ip(addr));
        assert_eq!(socket.scope, *scope);
        assert_eq!(socket.state, SocketState::Bound);
        assert_owned_by_me(socket);
    }
}

#[test]
fn connections_appear_only_when_asked_for() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server_addr = listener.local_addr().unwrap();
    let client = TcpStream::connect(server_addr).unwrap();
    let (server_end, client_addr) = listener.accept().unwrap();
    let port = server_addr.port();

    let listeners_only = collect(Query::default());
    let found = on_port(&listeners_only, Proto::Tcp, port);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].state, SocketState::Listen);
    assert!(on_port(&listeners_only, Proto::Tcp, client_addr.port()).is_empty());

    let with_connections = collect(Query {
        connections: true,
        ..Query::default()
    });
    let established = |local: SocketAddr, remote: SocketAddr| {
        let found: Vec<&Socket> = on_port(&with_connections, Proto::Tcp, local.port())
            .into_iter()
            .filter(|s| s.state == SocketState::Established)
            .collect();
        assert_eq!(found.len(), 1, "{local} -> {remote}: {found:?}");
        assert_eq!(found[0].local_addr, local.ip());
        assert_eq!(found[0].remote, Some((remote.ip(), remote.port())));
        assert_owned_by_me(found[0]);
    };
    established(server_addr, client_addr);
    established(client_addr, server_addr);
    drop((client, server_end));
}

#[test]
fn a_port_query_returns_only_that_port_with_its_connections() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let _other = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (_server_end, _) = listener.accept().unwrap();

    let snapshot = collect(Query {
        port: Some(port),
        ..Query::default()
    });
    assert!(
        snapshot.sockets.iter().all(|s| s.local_port == port),
        "{snapshot:?}"
    );
    let states: Vec<SocketState> = snapshot.sockets.iter().map(|s| s.state).collect();
    assert!(states.contains(&SocketState::Listen), "{states:?}");
    assert!(states.contains(&SocketState::Established), "{states:?}");
}

/// A UDP socket that `connect()`ed talks to one peer: it is a connection end with that
/// peer as its remote, not a server, and shows only with connections.
#[test]
fn a_connected_udp_socket_is_a_connection_end_with_its_peer() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server_port = server.local_addr().unwrap().port();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.connect(("127.0.0.1", server_port)).unwrap();
    let client_port = client.local_addr().unwrap().port();

    let everything = collect(Query::port(client_port));
    let found = on_port(&everything, Proto::Udp, client_port);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].state, SocketState::Established);
    assert_eq!(found[0].remote, Some((ip("127.0.0.1"), server_port)));
    assert!(!found[0].state.is_listening());

    let listeners = collect(Query::default());
    assert!(
        on_port(&listeners, Proto::Udp, client_port).is_empty(),
        "not among the servers"
    );
    let server_row = on_port(&listeners, Proto::Udp, server_port);
    assert_eq!(server_row.len(), 1, "the unconnected one still is");
    assert_eq!(server_row[0].state, SocketState::Bound);
    assert_eq!(server_row[0].remote, None);
}

#[test]
fn closed_sockets_disappear() {
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut collector = system_collector().unwrap();
    let first = collector.collect(&Query::default()).unwrap();
    // Identified by inode too: a parallel test may be handed the same port once it is free.
    let ours: Vec<(Proto, u16, u64)> = [
        (Proto::Tcp, tcp.local_addr().unwrap().port()),
        (Proto::Udp, udp.local_addr().unwrap().port()),
    ]
    .into_iter()
    .flat_map(|(proto, port)| {
        on_port(&first, proto, port)
            .into_iter()
            .map(move |s| (proto, port, s.inode))
            .collect::<Vec<_>>()
    })
    .collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    let present = |snapshot: &Snapshot| {
        snapshot
            .sockets
            .iter()
            .any(|s| ours.contains(&(s.proto, s.local_port, s.inode)))
    };

    drop((tcp, udp));
    let deadline = Instant::now() + DEADLINE;
    while present(&collector.collect(&Query::default()).unwrap()) {
        assert!(
            Instant::now() < deadline,
            "closed sockets still listed after {DEADLINE:?}"
        );
        std::thread::sleep(POLL_PAUSE);
    }
}

#[cfg(unix)]
mod shared {
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Command, Stdio};

    use rustix::process::{Pid, Signal, kill_process};

    use super::*;

    /// A Python process that binds a listener, forks, and keeps it open in both processes:
    /// the shape of a pre-fork server. Both are killed when this is dropped.
    struct ForkedServer {
        child: Child,
        forked: Option<Pid>,
        port: u16,
    }

    const SCRIPT: &str = r#"
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
pid = os.fork()
if pid == 0:
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL: die with the parent
    except Exception:
        pass
    time.sleep(30)
    os._exit(0)
print(s.getsockname()[1], pid, flush=True)
time.sleep(30)
"#;

    impl ForkedServer {
        fn start() -> Option<Self> {
            let child = Command::new("python3")
                .args(["-c", SCRIPT])
                .stdout(Stdio::piped())
                .spawn()
                .inspect_err(|e| eprintln!("skipping: cannot run python3: {e}"))
                .ok()?;
            let mut server = ForkedServer {
                child,
                forked: None,
                port: 0,
            };
            let mut line = String::new();
            let stdout = server.child.stdout.take()?;
            BufReader::new(stdout).read_line(&mut line).ok()?;
            let mut fields = line.split_whitespace().map(str::parse::<i32>);
            server.port = u16::try_from(fields.next()?.ok()?).ok()?;
            server.forked = Pid::from_raw(fields.next()?.ok()?);
            Some(server)
        }

        fn pids(&self) -> Vec<u32> {
            let mut pids = vec![self.child.id()];
            pids.extend(self.forked.map(|p| p.as_raw_nonzero().get().unsigned_abs()));
            pids.sort_unstable();
            pids
        }
    }

    impl Drop for ForkedServer {
        fn drop(&mut self) {
            if let Some(forked) = self.forked {
                let _ = kill_process(forked, Signal::KILL);
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    #[test]
    fn a_socket_shared_by_two_processes_lists_both() {
        let Some(server) = ForkedServer::start() else {
            return;
        };
        let snapshot = collect(Query::default());
        let found = on_port(&snapshot, Proto::Tcp, server.port);
        assert_eq!(found.len(), 1, "{found:?}");
        let pids: Vec<u32> = found[0].owners.iter().map(|o| o.key.pid).collect();
        assert_eq!(pids, server.pids());
        assert!(
            found[0]
                .owners
                .iter()
                .all(|o| o.name.raw().starts_with("python")),
            "{found:?}"
        );
        assert_eq!(found[0].pid_label(), format!("{} +1", pids[0]));
    }
}

/// A large table's first look, made here from two sockets: the sockets are there before any
/// owner is read, each marked as being read, and the collection that follows joins owners to
/// that same dump, so it lists the very same sockets.
#[test]
fn the_first_look_lists_the_sockets_before_their_owners() {
    use loopwatch::collect::{Collector, SystemCollector};
    use loopwatch::model::UnknownOwner;

    let tcp = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let ports = [
        (Proto::Tcp, tcp.local_addr().map_or(0, |a| a.port())),
        (Proto::Udp, udp.local_addr().map_or(0, |a| a.port())),
    ];
    let mut collector = SystemCollector::for_this_platform()
        .unwrap_or_else(|e| panic!("the system collector starts: {e}"))
        .drawing_before_owners_from(2);
    let query = Query::default();
    let first = collector
        .sockets_first(&query)
        .unwrap_or_else(|e| panic!("the socket table is readable: {e}"))
        .unwrap_or_else(|| panic!("two sockets or more to read: a first look"));
    let full = collector
        .collect(&query)
        .unwrap_or_else(|e| panic!("the socket table is readable: {e}"));
    for (proto, port) in ports {
        let before = on_port(&first, proto, port);
        assert_eq!(before.len(), 1, "{proto:?} {port}");
        assert!(before[0].owners.is_empty());
        assert_eq!(before[0].unknown, Some(UnknownOwner::Reading));
        let after = on_port(&full, proto, port);
        assert_eq!(after.len(), 1, "{proto:?} {port}");
        assert_owned_by_me(after[0]);
    }
    let keys = |s: &Snapshot| s.sockets.iter().map(Socket::key).collect::<Vec<_>>();
    assert_eq!(keys(&first), keys(&full), "the same dump, joined");
}
