//! Why the live table asks the kernel for its socket table every tick rather than skipping the
//! dump when "nothing changed". The cheap signals of change an unprivileged process can read
//! are the per-protocol counts in `/proc/net/sockstat{,6}` (they move when a socket is hashed
//! or unhashed, created or freed) and the sock_diag destroy groups (a message for every socket
//! freed). Each test here makes, for real, a change a user can make that both leave silent,
//! while the socket table loopwatch shows changed: a skip built on them would show a stale
//! table. Should a kernel ever report these, the tests fail and the skip can be reconsidered.
//!
//! Other processes may open and close sockets meanwhile, which moves the counts; each test
//! therefore tries a few times and needs one quiet attempt.
#![cfg(target_os = "linux")]

use std::net::UdpSocket;
use std::os::fd::AsFd;
use std::time::Duration;

use loopwatch::collect::system_collector;
use loopwatch::model::{Proto, Query, SocketState};
use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use netlink_sys::{Socket, SocketAddr};

/// The destroy groups: SKNLGRP_INET_TCP_DESTROY, _UDP_, INET6_TCP_, INET6_UDP_ (1 to 4).
const DESTROY_GROUPS: u32 = 0b1111;
const ATTEMPTS: usize = 20;

/// Every line of `/proc/net/sockstat` and `sockstat6`, as the kernel wrote them.
fn sockstat() -> String {
    let v4 = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    let v6 = std::fs::read_to_string("/proc/net/sockstat6").unwrap_or_default();
    // "sockets: used N" counts every socket of every family (netlink, Unix...): not a
    // per-protocol signal, and the test's own netlink socket is one.
    v4.lines()
        .chain(v6.lines())
        .filter(|l| !l.starts_with("sockets:"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A subscription to the destroy groups, which an unprivileged process may join.
fn destroy_events() -> Socket {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG).unwrap_or_else(|e| panic!("netlink: {e}"));
    socket
        .bind(&SocketAddr::new(0, DESTROY_GROUPS))
        .unwrap_or_else(|e| panic!("joining the destroy groups: {e}"));
    socket
        .set_non_blocking(true)
        .unwrap_or_else(|e| panic!("non-blocking: {e}"));
    socket
}

/// How many destroy messages arrived, after giving the kernel's work queue time to send them.
fn destroyed(events: &Socket) -> usize {
    std::thread::sleep(Duration::from_millis(100));
    let mut count = 0;
    let mut buf = vec![0u8; 1 << 16];
    while let Ok(n) = events.recv(&mut &mut buf[..], 0) {
        if n == 0 {
            break;
        }
        count += 1;
    }
    count
}

/// The sockets loopwatch shows of `proto` on `port` (a port query: every state), as state and
/// inode.
fn shown_state(proto: Proto, port: u16) -> Vec<(SocketState, u64)> {
    system_collector()
        .and_then(|mut c| c.collect(&Query::port(port)))
        .unwrap_or_else(|e| panic!("collect: {e}"))
        .sockets
        .iter()
        .filter(|s| s.proto == proto && s.local_port == port)
        .map(|s| (s.state, s.inode))
        .collect()
}

/// The tests make sockets and watch the counts: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Sets up with `setup`, then runs `change` on it until one attempt leaves the signals silent
/// around the change alone. `shows_change` says, from the states loopwatch shows before and
/// after, that the socket table changed.
fn silent_change<S>(
    setup: impl Fn() -> (S, Proto, u16),
    change: impl Fn(&S),
    shows_change: impl Fn(&[(SocketState, u64)], &[(SocketState, u64)]) -> bool,
) {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for _ in 0..ATTEMPTS {
        let (sockets, proto, port) = setup();
        let was = shown_state(proto, port);
        let events = destroy_events();
        let _ = destroyed(&events);
        let before = sockstat();
        change(&sockets);
        let after = sockstat();
        let messages = destroyed(&events);
        let is = shown_state(proto, port);
        assert!(
            shows_change(&was, &is),
            "the change must show in the socket table: {was:?} -> {is:?}"
        );
        if before == after && messages == 0 {
            return;
        }
    }
    panic!("in {ATTEMPTS} attempts the signals always moved: the kernel may report this now");
}

/// A bound UDP socket that connects leaves the listeners (`Bound`) for the connection ends
/// (`ESTABLISHED`): no count moves, nothing is freed.
#[test]
fn a_bound_udp_socket_connecting_moves_no_count_and_frees_nothing() {
    silent_change(
        || {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
            let port = socket.local_addr().map_or(0, |a| a.port());
            (socket, Proto::Udp, port)
        },
        |socket| {
            socket
                .connect("127.0.0.1:9")
                .unwrap_or_else(|e| panic!("connect: {e}"));
        },
        |was, is| {
            let states =
                |shown: &[(SocketState, u64)]| shown.iter().map(|s| s.0).collect::<Vec<_>>();
            states(was) == [SocketState::Bound] && states(is) == [SocketState::Established]
        },
    );
}

/// A listener shut down and another socket, bound to the same port earlier, listening in its
/// place: one socket leaves the hash and one joins it, none is created or freed. The port
/// shows a new listener (another inode) where the old one was.
#[test]
fn a_listener_swapped_for_one_bound_earlier_moves_no_count_and_frees_nothing() {
    use rustix::net::{AddressFamily, Shutdown, SocketType, ipproto, sockopt};
    silent_change(
        || {
            let bound = |port: u16| {
                let socket = rustix::net::socket(
                    AddressFamily::INET,
                    SocketType::STREAM,
                    Some(ipproto::TCP),
                )
                .unwrap_or_else(|e| panic!("socket: {e}"));
                sockopt::set_socket_reuseport(&socket, true)
                    .unwrap_or_else(|e| panic!("SO_REUSEPORT: {e}"));
                rustix::net::bind(&socket, &std::net::SocketAddr::from(([127, 0, 0, 1], port)))
                    .unwrap_or_else(|e| panic!("bind: {e}"));
                socket
            };
            let first = bound(0);
            rustix::net::listen(&first, 16).unwrap_or_else(|e| panic!("listen: {e}"));
            let port = rustix::net::getsockname(&first)
                .ok()
                .and_then(|a| std::net::SocketAddr::try_from(a).ok())
                .map_or(0, |a| a.port());
            let second = bound(port);
            ((first, second), Proto::Tcp, port)
        },
        |(first, second)| {
            rustix::net::shutdown(first.as_fd(), Shutdown::Both)
                .unwrap_or_else(|e| panic!("shutdown: {e}"));
            rustix::net::listen(second, 16).unwrap_or_else(|e| panic!("listen: {e}"));
        },
        // One listener before and one after, and not the same socket.
        |was, is| {
            let listener = |shown: &[(SocketState, u64)]| {
                let mut listening = shown.iter().filter(|s| s.0 == SocketState::Listen);
                match (listening.next(), listening.next()) {
                    (Some(&(_, inode)), None) => Some(inode),
                    _ => None,
                }
            };
            matches!((listener(was), listener(is)), (Some(a), Some(b)) if a != b)
        },
    );
}
