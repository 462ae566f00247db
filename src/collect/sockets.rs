//! The socket table, read through netstat2.
//!
//! On Linux and Android the kernel's sock_diag dump is read directly ([`super::sock_diag`]),
//! without pids and filtered by the kernel: netstat2 would otherwise dump every state and
//! readlink every `/proc/*/fd` entry on every call. Owners are resolved afterwards, only for
//! the wanted sockets, by the [`OwnerSource`](super::OwnerSource). Other platforms read
//! netstat2, which reports pids with each socket.

use std::error::Error;

use netstat2::{ProtocolSocketInfo, SocketInfo, TcpSocketInfo, TcpState, UdpSocketInfo};

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

/// Lists TCP and UDP sockets of both address families through netstat2.
#[derive(Debug, Default)]
pub struct NetstatSockets;

impl NetstatSockets {
    pub fn new() -> Self {
        Self
    }
}

impl SocketSource for NetstatSockets {
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
) -> Result<impl Iterator<Item = Result<SocketInfo, netstat2::error::Error>>, netstat2::error::Error>
{
    netstat2::iterate_sockets_info(families(), protocols())
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn families() -> netstat2::AddressFamilyFlags {
    netstat2::AddressFamilyFlags::IPV4 | netstat2::AddressFamilyFlags::IPV6
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn protocols() -> netstat2::ProtocolFlags {
    netstat2::ProtocolFlags::TCP | netstat2::ProtocolFlags::UDP
}

/// Converts the dump, dropping unwanted sockets as they stream by. A malformed entry is skipped;
/// a dump that keeps failing is an error.
fn keep_wanted<T: Into<RawSocket>, E: Error>(
    dump: impl Iterator<Item = Result<T, E>>,
    query: Query,
) -> Result<Vec<RawSocket>, CollectError> {
    let mut kept = Vec::new();
    let mut consecutive_errors = 0;
    for item in dump {
        match item {
            Ok(info) => {
                consecutive_errors = 0;
                let raw = info.into();
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

impl From<SocketInfo> for RawSocket {
    fn from(info: SocketInfo) -> Self {
        raw_socket(info)
    }
}

/// A connected UDP socket is the end of a conversation with its peer, like a TCP connection.
#[cfg(any(target_os = "linux", target_os = "android"))]
impl From<super::sock_diag::DiagSocket> for RawSocket {
    fn from(socket: super::sock_diag::DiagSocket) -> Self {
        let mut raw = raw_socket(socket.info);
        if let Some(peer) = socket.udp_peer {
            raw.remote = Some(peer);
            raw.state = SocketState::Established;
        }
        raw
    }
}

fn raw_socket(info: SocketInfo) -> RawSocket {
    let (inode, uid, pids) = identity(&info);
    match info.protocol_socket_info {
        ProtocolSocketInfo::Tcp(tcp) => tcp_socket(&tcp, inode, uid, pids),
        ProtocolSocketInfo::Udp(udp) => udp_socket(&udp, inode, uid, pids),
    }
}

/// Inode, uid and pids as this platform reports them.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn identity(info: &SocketInfo) -> (u64, Option<u32>, Option<Vec<u32>>) {
    (u64::from(info.inode), Some(info.uid), None)
}

/// Inode, uid and pids as this platform reports them: pids only, in no particular order.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn identity(info: &SocketInfo) -> (u64, Option<u32>, Option<Vec<u32>>) {
    let mut pids: Vec<u32> = info
        .associated_pids
        .iter()
        .copied()
        .filter(|&pid| pid != 0)
        .collect();
    pids.sort_unstable();
    pids.dedup();
    (0, None, Some(pids))
}

fn tcp_socket(
    tcp: &TcpSocketInfo,
    inode: u64,
    uid: Option<u32>,
    pids: Option<Vec<u32>>,
) -> RawSocket {
    let state = tcp_state(tcp.state);
    // A listener has no peer; neither does a socket whose peer is the all-zero placeholder
    // (CLOSED sockets), so both show no remote end rather than `0.0.0.0:0`.
    let has_peer =
        state != SocketState::Listen && !(tcp.remote_addr.is_unspecified() && tcp.remote_port == 0);
    RawSocket {
        proto: Proto::Tcp,
        local_addr: tcp.local_addr,
        local_port: tcp.local_port,
        remote: has_peer.then_some((tcp.remote_addr, tcp.remote_port)),
        state,
        inode,
        uid,
        pids,
    }
}

/// UDP has no states; netstat2 does not report a connected UDP socket's peer either.
fn udp_socket(
    udp: &UdpSocketInfo,
    inode: u64,
    uid: Option<u32>,
    pids: Option<Vec<u32>>,
) -> RawSocket {
    RawSocket {
        proto: Proto::Udp,
        local_addr: udp.local_addr,
        local_port: udp.local_port,
        remote: None,
        state: SocketState::Bound,
        inode,
        uid,
        pids,
    }
}

fn tcp_state(state: TcpState) -> SocketState {
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

#[cfg(test)]
mod tests {
    use std::fmt;
    use std::net::{IpAddr, TcpListener, UdpSocket};

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn tcp_info(local: (&str, u16), remote: (&str, u16), state: TcpState) -> SocketInfo {
        info(ProtocolSocketInfo::Tcp(TcpSocketInfo {
            local_addr: ip(local.0),
            local_port: local.1,
            remote_addr: ip(remote.0),
            remote_port: remote.1,
            state,
        }))
    }

    fn udp_info(local: (&str, u16)) -> SocketInfo {
        info(ProtocolSocketInfo::Udp(UdpSocketInfo {
            local_addr: ip(local.0),
            local_port: local.1,
        }))
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn info(protocol_socket_info: ProtocolSocketInfo) -> SocketInfo {
        SocketInfo {
            protocol_socket_info,
            associated_pids: Vec::new(),
            inode: 4242,
            uid: 1000,
        }
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn info(protocol_socket_info: ProtocolSocketInfo) -> SocketInfo {
        SocketInfo {
            protocol_socket_info,
            associated_pids: vec![30, 0, 10, 30],
        }
    }

    #[derive(Debug)]
    struct Broken;

    impl fmt::Display for Broken {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("broken entry")
        }
    }

    impl Error for Broken {}

    #[test]
    fn tcp_states_map_to_the_model() {
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
            assert_eq!(tcp_state(theirs), ours, "{theirs:?}");
        }
    }

    #[test]
    fn listeners_have_no_remote_and_connections_do() {
        let listener = raw_socket(tcp_info(
            ("127.0.0.1", 80),
            ("0.0.0.0", 0),
            TcpState::Listen,
        ));
        assert_eq!(listener.proto, Proto::Tcp);
        assert_eq!(listener.state, SocketState::Listen);
        assert_eq!(listener.remote, None);

        let conn = raw_socket(tcp_info(
            ("::ffff:127.0.0.1", 80),
            ("::ffff:127.0.0.1", 41000),
            TcpState::Established,
        ));
        assert_eq!(
            conn.remote,
            Some((ip("::ffff:127.0.0.1"), 41000)),
            "join normalises, not this"
        );
        assert_eq!(conn.local_port, 80);

        let closed = raw_socket(tcp_info(("127.0.0.1", 80), ("::", 0), TcpState::Closed));
        assert_eq!(closed.remote, None);
    }

    #[test]
    fn udp_is_bound_without_remote() {
        let udp = raw_socket(udp_info(("127.0.0.53", 53)));
        assert_eq!(udp.proto, Proto::Udp);
        assert_eq!(udp.state, SocketState::Bound);
        assert_eq!(udp.remote, None);
        assert_eq!(udp.local_addr, ip("127.0.0.53"));
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn linux_reports_inode_and_uid_and_leaves_pids_to_the_owner_source() {
        let udp = raw_socket(udp_info(("127.0.0.1", 53)));
        assert_eq!((udp.inode, udp.uid, udp.pids), (4242, Some(1000), None));
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    #[test]
    fn other_platforms_report_sorted_pids_without_zero() {
        let udp = raw_socket(udp_info(("127.0.0.1", 53)));
        assert_eq!(
            (udp.inode, udp.uid, udp.pids),
            (0, None, Some(vec![10, 30]))
        );
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn one_failed_entry_fails_the_collection_rather_than_hide_sockets() {
        let dump = vec![
            Ok(udp_info(("0.0.0.0", 5353))),
            Err(Broken),
            Ok(udp_info(("127.0.0.1", 53))),
        ];
        let err = keep_wanted(dump.into_iter(), Query::default()).unwrap_err();
        assert!(err.to_string().contains("broken entry"), "{err}");
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    #[test]
    fn the_query_filters_while_reading_and_bad_entries_are_skipped() {
        let dump = vec![
            Ok(tcp_info(
                ("127.0.0.1", 80),
                ("0.0.0.0", 0),
                TcpState::Listen,
            )),
            Err(Broken),
            Ok(tcp_info(
                ("127.0.0.1", 80),
                ("127.0.0.1", 4000),
                TcpState::Established,
            )),
            Ok(tcp_info(
                ("192.168.1.4", 22),
                ("0.0.0.0", 0),
                TcpState::Listen,
            )),
            Ok(udp_info(("0.0.0.0", 5353))),
        ];
        let kept = keep_wanted(dump.into_iter(), Query::default()).unwrap();
        let ports: Vec<u16> = kept.iter().map(|r| r.local_port).collect();
        assert_eq!(ports, [80, 5353]);
    }

    #[test]
    fn a_dump_that_keeps_failing_is_an_error() {
        let dump = std::iter::repeat_with(|| Err::<SocketInfo, _>(Broken)).take(1000);
        let err = keep_wanted(dump, Query::default()).unwrap_err();
        assert!(err.to_string().contains("broken entry"), "{err}");
    }

    #[test]
    fn errors_are_described_with_their_causes() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "no netlink for you");
        let wrapped = netstat2::error::Error::OsError(io);
        assert_eq!(describe(&wrapped), "Failed to call ffi: no netlink for you");
    }

    #[test]
    fn finds_a_real_listener_and_udp_socket() {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tcp_port = tcp.local_addr().unwrap().port();
        let udp_port = udp.local_addr().unwrap().port();
        let found = NetstatSockets::new().sockets(&Query::default()).unwrap();
        assert!(found.iter().any(|r| r.proto == Proto::Tcp
            && r.local_port == tcp_port
            && r.state == SocketState::Listen));
        assert!(found.iter().any(|r| r.proto == Proto::Udp
            && r.local_port == udp_port
            && r.state == SocketState::Bound));
    }
}
