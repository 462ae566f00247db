//! The socket table.
//!
//! On Linux and Android the kernel's sock_diag dump is read directly ([`super::sock_diag`]),
//! without pids and filtered by the kernel; owners are resolved afterwards, only for the
//! wanted sockets, by the [`OwnerSource`](super::OwnerSource). Other platforms read netstat2,
//! which reports pids with each socket.

use std::error::Error;
use std::net::IpAddr;

use super::join::wants;
use super::{CollectError, Query, RawSocket, SocketSource};
use crate::model::{Proto, SocketState};

/// Consecutive failed items after which the dump is considered broken. netstat2 retries a
/// failed netlink `recv` on the next call, so a persistent error would otherwise never end.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const MAX_CONSECUTIVE_ERRORS: usize = 64;
/// loopwatch's own sock_diag dump stops at its first error (a half-read netlink stream cannot
/// resume), so one error means sockets are missing: fail the collection rather than show a
/// partial table, or let `kill` read a missing listener as a released port.
#[cfg(any(target_os = "linux", target_os = "android"))]
const MAX_CONSECUTIVE_ERRORS: usize = 1;

/// Lists TCP and UDP sockets of both address families, as this platform reports them.
#[derive(Debug, Default)]
pub struct SystemSockets;

impl SystemSockets {
    pub fn new() -> Self {
        Self
    }
}

impl SocketSource for SystemSockets {
    fn sockets(&mut self, query: &Query) -> Result<Vec<RawSocket>, CollectError> {
        let dump = open_dump(*query).map_err(|e| {
            CollectError::Sockets(format!("opening the socket dump failed: {}", describe(&e)))
        })?;
        keep_wanted(dump, *query)
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn open_dump(query: Query) -> std::io::Result<super::sock_diag::Dump> {
    super::sock_diag::dump(&query)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn open_dump(
    _query: Query,
) -> Result<impl Iterator<Item = Result<RawSocket, netstat2::error::Error>>, netstat2::error::Error>
{
    netstat2::iterate_sockets_info(
        netstat2::AddressFamilyFlags::IPV4 | netstat2::AddressFamilyFlags::IPV6,
        netstat2::ProtocolFlags::TCP | netstat2::ProtocolFlags::UDP,
    )
    .map(|dump| dump.map(|item| item.map(netstat::raw_socket)))
}

/// Converts the dump, dropping unwanted sockets as they stream by. A malformed entry is skipped;
/// a dump that keeps failing is an error.
fn keep_wanted<E: Error>(
    dump: impl Iterator<Item = Result<RawSocket, E>>,
    query: Query,
) -> Result<Vec<RawSocket>, CollectError> {
    let mut kept = Vec::new();
    let mut consecutive_errors = 0;
    for item in dump {
        match item {
            Ok(raw) => {
                consecutive_errors = 0;
                if wants(&query, &raw) {
                    kept.push(raw);
                }
            }
            Err(e) => {
                consecutive_errors += 1;
                if consecutive_errors >= MAX_CONSECUTIVE_ERRORS {
                    return Err(CollectError::Sockets(format!(
                        "reading the socket dump keeps failing: {}",
                        describe(&e)
                    )));
                }
            }
        }
    }
    Ok(kept)
}

/// An error with its causes: netstat2's own messages ("Failed to call ffi") name no reason.
fn describe(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A TCP socket with no inode, uid or pids yet. A listener has no peer; neither does a socket
/// whose peer is the all-zero placeholder (CLOSED sockets), so both show no remote end rather
/// than `0.0.0.0:0`.
pub(super) fn tcp_socket(
    local: (IpAddr, u16),
    remote: (IpAddr, u16),
    state: SocketState,
) -> RawSocket {
    let has_peer = state != SocketState::Listen && !(remote.0.is_unspecified() && remote.1 == 0);
    RawSocket {
        proto: Proto::Tcp,
        local_addr: local.0,
        local_port: local.1,
        remote: has_peer.then_some(remote),
        state,
        inode: 0,
        uid: None,
        pids: None,
    }
}

/// A bound UDP socket with no peer, inode, uid or pids yet.
pub(super) fn udp_socket(local: (IpAddr, u16)) -> RawSocket {
    RawSocket {
        proto: Proto::Udp,
        local_addr: local.0,
        local_port: local.1,
        remote: None,
        state: SocketState::Bound,
        inode: 0,
        uid: None,
        pids: None,
    }
}

/// netstat2's types, read where it is the socket source.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod netstat {
    use netstat2::{ProtocolSocketInfo, SocketInfo, TcpState};

    use super::{RawSocket, tcp_socket, udp_socket};
    use crate::model::SocketState;

    /// The socket with its pids (sorted, without zero); these platforms report no inode or uid.
    pub(super) fn raw_socket(info: SocketInfo) -> RawSocket {
        let mut pids: Vec<u32> = info
            .associated_pids
            .iter()
            .copied()
            .filter(|&pid| pid != 0)
            .collect();
        pids.sort_unstable();
        pids.dedup();
        let raw = match info.protocol_socket_info {
            ProtocolSocketInfo::Tcp(tcp) => tcp_socket(
                (tcp.local_addr, tcp.local_port),
                (tcp.remote_addr, tcp.remote_port),
                tcp_state(tcp.state),
            ),
            // netstat2 does not report a connected UDP socket's peer.
            ProtocolSocketInfo::Udp(udp) => udp_socket((udp.local_addr, udp.local_port)),
        };
        RawSocket {
            pids: Some(pids),
            ..raw
        }
    }

    pub(super) fn tcp_state(state: TcpState) -> SocketState {
        match state {
            TcpState::Listen => SocketState::Listen,
            TcpState::Established => SocketState::Established,
            TcpState::SynSent => SocketState::SynSent,
            TcpState::SynReceived => SocketState::SynReceived,
            TcpState::FinWait1 => SocketState::FinWait1,
            TcpState::FinWait2 => SocketState::FinWait2,
            TcpState::TimeWait => SocketState::TimeWait,
            // Windows' DELETE_TCB is a connection being torn down: closed in all but name.
            TcpState::Closed | TcpState::DeleteTcb => SocketState::Closed,
            TcpState::CloseWait => SocketState::CloseWait,
            TcpState::LastAck => SocketState::LastAck,
            TcpState::Closing => SocketState::Closing,
            TcpState::Unknown => SocketState::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;
    use std::net::{TcpListener, UdpSocket};

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[derive(Debug)]
    struct Broken;

    impl fmt::Display for Broken {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("broken entry")
        }
    }

    impl Error for Broken {}

    /// An error whose message names no reason, with the reason as its source.
    #[derive(Debug)]
    struct Wrapped(std::io::Error);

    impl fmt::Display for Wrapped {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Failed to call ffi")
        }
    }

    impl Error for Wrapped {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn listeners_have_no_remote_and_connections_do() {
        let listener = tcp_socket(
            (ip("127.0.0.1"), 80),
            (ip("0.0.0.0"), 0),
            SocketState::Listen,
        );
        assert_eq!(listener.proto, Proto::Tcp);
        assert_eq!(listener.state, SocketState::Listen);
        assert_eq!(listener.remote, None);

        let conn = tcp_socket(
            (ip("::ffff:127.0.0.1"), 80),
            (ip("::ffff:127.0.0.1"), 41000),
            SocketState::Established,
        );
        assert_eq!(
            conn.remote,
            Some((ip("::ffff:127.0.0.1"), 41000)),
            "join normalises, not this"
        );
        assert_eq!(conn.local_port, 80);

        let closed = tcp_socket((ip("127.0.0.1"), 80), (ip("::"), 0), SocketState::Closed);
        assert_eq!(closed.remote, None);
    }

    #[test]
    fn udp_is_bound_without_remote() {
        let udp = udp_socket((ip("127.0.0.53"), 53));
        assert_eq!(udp.proto, Proto::Udp);
        assert_eq!(udp.state, SocketState::Bound);
        assert_eq!(udp.remote, None);
        assert_eq!(udp.local_addr, ip("127.0.0.53"));
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn one_failed_entry_fails_the_collection_rather_than_hide_sockets() {
        let dump = vec![
            Ok(udp_socket((ip("0.0.0.0"), 5353))),
            Err(Broken),
            Ok(udp_socket((ip("127.0.0.1"), 53))),
        ];
        let err = keep_wanted(dump.into_iter(), Query::default()).unwrap_err();
        assert!(err.to_string().contains("broken entry"), "{err}");
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    #[test]
    fn the_query_filters_while_reading_and_bad_entries_are_skipped() {
        let unspecified = (ip("0.0.0.0"), 0);
        let dump = vec![
            Ok(tcp_socket(
                (ip("127.0.0.1"), 80),
                unspecified,
                SocketState::Listen,
            )),
            Err(Broken),
            Ok(tcp_socket(
                (ip("127.0.0.1"), 80),
                (ip("127.0.0.1"), 4000),
                SocketState::Established,
            )),
            Ok(tcp_socket(
                (ip("192.168.1.4"), 22),
                unspecified,
                SocketState::Listen,
            )),
            Ok(udp_socket((ip("0.0.0.0"), 5353))),
        ];
        let kept = keep_wanted(dump.into_iter(), Query::default()).unwrap();
        let ports: Vec<u16> = kept.iter().map(|r| r.local_port).collect();
        assert_eq!(ports, [80, 5353]);
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    #[test]
    fn netstat2_states_and_pids_map_to_the_model() {
        use netstat2::{ProtocolSocketInfo, SocketInfo, TcpState, UdpSocketInfo};
        for (theirs, ours) in [
            (TcpState::Listen, SocketState::Listen),
            (TcpState::Established, SocketState::Established),
            (TcpState::SynSent, SocketState::SynSent),
            (TcpState::SynReceived, SocketState::SynReceived),
            (TcpState::FinWait1, SocketState::FinWait1),
            (TcpState::FinWait2, SocketState::FinWait2),
            (TcpState::TimeWait, SocketState::TimeWait),
            (TcpState::Closed, SocketState::Closed),
            (TcpState::DeleteTcb, SocketState::Closed),
            (TcpState::CloseWait, SocketState::CloseWait),
            (TcpState::LastAck, SocketState::LastAck),
            (TcpState::Closing, SocketState::Closing),
            (TcpState::Unknown, SocketState::Unknown),
        ] {
            assert_eq!(netstat::tcp_state(theirs), ours, "{theirs:?}");
        }
        let udp = netstat::raw_socket(SocketInfo {
            protocol_socket_info: ProtocolSocketInfo::Udp(UdpSocketInfo {
                local_addr: ip("127.0.0.1"),
                local_port: 53,
            }),
            associated_pids: vec![30, 0, 10, 30],
        });
        assert_eq!(
            (udp.inode, udp.uid, udp.pids),
            (0, None, Some(vec![10, 30]))
        );
    }

    #[test]
    fn a_dump_that_keeps_failing_is_an_error() {
        let dump = std::iter::repeat_with(|| Err::<RawSocket, _>(Broken)).take(1000);
        let err = keep_wanted(dump, Query::default()).unwrap_err();
        assert!(err.to_string().contains("broken entry"), "{err}");
    }

    #[test]
    fn errors_are_described_with_their_causes() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "no netlink for you");
        assert_eq!(
            describe(&Wrapped(io)),
            "Failed to call ffi: no netlink for you"
        );
    }

    #[test]
    fn finds_a_real_listener_and_udp_socket() {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tcp_port = tcp.local_addr().unwrap().port();
        let udp_port = udp.local_addr().unwrap().port();
        let found = SystemSockets::new().sockets(&Query::default()).unwrap();
        assert!(found.iter().any(|r| r.proto == Proto::Tcp
            && r.local_port == tcp_port
            && r.state == SocketState::Listen));
        assert!(found.iter().any(|r| r.proto == Proto::Udp
            && r.local_port == udp_port
            && r.state == SocketState::Bound));
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert!(
            found
                .iter()
                .filter(|r| r.local_port == tcp_port || r.local_port == udp_port)
                .all(|r| r.inode != 0 && r.uid.is_some() && r.pids.is_none()),
            "Linux reports inode and uid and leaves pids to the owner source"
        );
    }
}
