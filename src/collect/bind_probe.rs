//! Real binds, each closed at once: what a server starting on a port now would meet.
//!
//! The four addresses a server binds (127.0.0.1, ::1, 0.0.0.0, ::), TCP and UDP, without and
//! with `SO_REUSEADDR`: sixteen `bind()` calls that never `listen()`, so no client can connect
//! to a probe. A probe that binds still holds the port until the next call closes it: a server
//! binding there in those microseconds is refused, and a datagram arriving then may land in a
//! UDP probe, which is why each is closed before the next is made. `SO_REUSEPORT` is never set: a probe that joined a reuse-port group and
//! left would change the kernel's cached state of that port for the servers bound there.
//! An IPv6 wildcard keeps the system's default `IPV6_V6ONLY`, as a server's usually does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::{BindAttempt, BindAttempts, BindOutcome, Proto};

/// The addresses a server binds, in the order they are reported.
pub const ADDRESSES: [IpAddr; 4] = [
    IpAddr::V4(Ipv4Addr::LOCALHOST),
    IpAddr::V6(Ipv6Addr::LOCALHOST),
    IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    IpAddr::V6(Ipv6Addr::UNSPECIFIED),
];

/// Tries every bind a server could make on `port`.
pub fn probe(port: u16) -> BindAttempts {
    #[cfg(unix)]
    {
        let mut attempts = Vec::with_capacity(16);
        for proto in [Proto::Tcp, Proto::Udp] {
            for addr in ADDRESSES {
                for reuse_addr in [false, true] {
                    attempts.push(BindAttempt {
                        proto,
                        addr,
                        reuse_addr,
                        outcome: unix::bind_once(proto, addr, port, reuse_addr),
                    });
                }
            }
        }
        BindAttempts::Tried(attempts)
    }
    #[cfg(not(unix))]
    {
        let _ = port;
        BindAttempts::NotTried
    }
}

#[cfg(unix)]
mod unix {
    use std::net::{IpAddr, SocketAddr};

    use rustix::io::Errno;
    use rustix::net::{AddressFamily, SocketFlags, SocketType, bind, socket_with, sockopt};

    use crate::model::{BindOutcome, Proto};

    /// One socket, one bind, closed when it goes out of scope.
    pub(super) fn bind_once(
        proto: Proto,
        addr: IpAddr,
        port: u16,
        reuse_addr: bool,
    ) -> BindOutcome {
        let family = if addr.is_ipv4() {
            AddressFamily::INET
        } else {
            AddressFamily::INET6
        };
        let kind = match proto {
            Proto::Tcp => SocketType::STREAM,
            Proto::Udp => SocketType::DGRAM,
        };
        // Close-on-exec, so not even a fork at this instant carries a probe along.
        let attempt = socket_with(family, kind, SocketFlags::CLOEXEC, None).and_then(|fd| {
            if reuse_addr {
                sockopt::set_socket_reuseaddr(&fd, true)?;
            }
            bind(&fd, &SocketAddr::new(addr, port))
        });
        match attempt {
            Ok(()) => BindOutcome::Bound,
            Err(Errno::ADDRINUSE) => BindOutcome::InUse,
            Err(Errno::ACCESS | Errno::PERM) => BindOutcome::Denied,
            Err(Errno::ADDRNOTAVAIL) => BindOutcome::Unavailable,
            Err(Errno::AFNOSUPPORT) => BindOutcome::NoFamily,
            Err(other) => BindOutcome::Other(std::io::Error::from(other).to_string()),
        }
    }
}

/// The outcome of `attempts` for one bind, if it was tried.
pub fn outcome_of(
    attempts: &[BindAttempt],
    proto: Proto,
    addr: IpAddr,
    reuse_addr: bool,
) -> Option<&BindOutcome> {
    attempts
        .iter()
        .find(|a| a.proto == proto && a.addr == addr && a.reuse_addr == reuse_addr)
        .map(|a| &a.outcome)
}

#[cfg(all(test, unix))]
mod tests {
    use std::net::{TcpListener, UdpSocket};

    use super::*;

    fn tried(port: u16) -> Vec<BindAttempt> {
        match probe(port) {
            BindAttempts::Tried(attempts) => attempts,
            BindAttempts::NotTried => panic!("Unix makes the attempts"),
        }
    }

    #[test]
    fn a_loopback_listener_blocks_its_address_and_the_wildcards_not_the_other_family() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let attempts = tried(port);
        assert_eq!(attempts.len(), 16);
        let tcp = |addr: IpAddr, reuse| outcome_of(&attempts, Proto::Tcp, addr, reuse).cloned();
        assert_eq!(tcp(ADDRESSES[0], false), Some(BindOutcome::InUse));
        assert_eq!(tcp(ADDRESSES[0], true), Some(BindOutcome::InUse));
        assert_eq!(tcp(ADDRESSES[2], false), Some(BindOutcome::InUse));
        // ::1 is free wherever IPv6 loopback exists.
        assert!(matches!(
            tcp(ADDRESSES[1], false),
            Some(BindOutcome::Bound | BindOutcome::Unavailable | BindOutcome::NoFamily)
        ));
        // TCP and UDP ports are separate.
        assert_eq!(
            outcome_of(&attempts, Proto::Udp, ADDRESSES[0], false),
            Some(&BindOutcome::Bound)
        );
        // The probes let go: the port binds again once the listener does.
        drop(listener);
        assert!(TcpListener::bind(("127.0.0.1", port)).is_ok());
    }

    #[test]
    fn a_udp_socket_blocks_udp_only() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let attempts = tried(port);
        assert_eq!(
            outcome_of(&attempts, Proto::Udp, ADDRESSES[0], true),
            Some(&BindOutcome::InUse),
            "the holder did not set SO_REUSEADDR"
        );
        assert_eq!(
            outcome_of(&attempts, Proto::Tcp, ADDRESSES[0], false),
            Some(&BindOutcome::Bound)
        );
    }
}
