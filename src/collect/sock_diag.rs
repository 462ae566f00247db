//! The kernel's socket table through NETLINK_SOCK_DIAG, asking only for what the query wants.
//!
//! A plain dump returns every state of every socket. The kernel can filter for us, and this
//! module asks it to: a view of listeners asks TCP for the LISTEN state only (the kernel then never
//! walks its table of connections), and `who PORT` attaches an inet_diag bytecode filter
//! (`sport = PORT`, the condition `ss 'sport = :PORT'` uses) so only that port's sockets come
//! back. Messages are parsed by netlink-packet-sock-diag; only the bytecode attribute, which
//! that crate does not model, is written here.

use std::collections::VecDeque;
use std::io;

use netlink_packet_core::Parseable;
use netlink_packet_core::{
    ErrorBuffer, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NetlinkBuffer, NetlinkHeader,
    NetlinkMessage,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::constants::{
    AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, SOCK_DIAG_BY_FAMILY,
};
use netlink_packet_sock_diag::inet::{
    ExtensionFlags, InetRequest, InetResponseHeader, SocketId, StateFlags,
};
use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use netlink_sys::{Socket, SocketAddr};

use super::sockets::{tcp_socket, udp_socket};
use super::{Query, RawSocket};
use crate::model::SocketState;

/// The kernel fills at most 32 KiB per read of a dump (and only that much once it has seen a
/// buffer this large); an 8 KiB buffer takes four reads for the same messages.
const RECV_BUFFER_LEN: usize = 32 * 1024;

/// `1 << TCP_BOUND_INACTIVE` (Linux 6.7+): TCP sockets bound to a port but neither listening
/// nor connected, which block binds like a listener does. Older kernels ignore the bit.
/// Reported with the state TCP_CLOSE and no peer, and shown as `BOUND`.
const BOUND_INACTIVE: u32 = 1 << 13;

/// Where `inet_diag_req_v2.idiag_states` sits in a request: after the 16-byte netlink header
/// and four one-byte fields.
const STATES_OFFSET: usize = 20;

/// `INET_DIAG_REQ_BYTECODE`: the request attribute holding a filter program.
const INET_DIAG_REQ_BYTECODE: u16 = 1;
/// `INET_DIAG_BC_S_COND`: "the source (local) address and port match this host condition".
const INET_DIAG_BC_S_COND: u8 = 7;
/// `struct inet_diag_bc_op` (code, yes, no: 4 bytes) followed by `struct inet_diag_hostcond`
/// with no address (family, prefix length, padding, port: 8 bytes).
const BYTECODE_LEN: u8 = 12;

/// One dump request: a family and protocol, the TCP states wanted, an optional port filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Request {
    family: u8,
    protocol: u8,
    /// The `StateFlags` bits (kept as bits so the request stays `Copy`).
    states: u32,
    port: Option<u16>,
}

/// The requests that answer `query`: TCP and UDP, IPv4 and IPv6 (the kernel picks its diag
/// handler by family, so each family is its own dump).
fn requests(query: Query) -> Vec<Request> {
    // A listener-only view never needs the connection table; `who` wants every state, and
    // the sockets bound but not listening, which hold a port as surely as a listener.
    let tcp_states = if query.port.is_some() {
        StateFlags::all().bits() | BOUND_INACTIVE
    } else if query.connections {
        StateFlags::all().bits()
    } else {
        StateFlags::LISTEN.bits()
    };
    let mut requests = Vec::with_capacity(4);
    for (protocol, states) in [
        (IPPROTO_TCP, tcp_states),
        (IPPROTO_UDP, StateFlags::all().bits()),
    ] {
        for family in [AF_INET, AF_INET6] {
            requests.push(Request {
                family,
                protocol,
                states,
                port: query.port,
            });
        }
    }
    requests
}

/// The request as bytes: a netlink header and `inet_diag_req_v2`, then, for a port, the
/// bytecode attribute.
fn encode(request: Request) -> Vec<u8> {
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let socket_id = if request.family == AF_INET6 {
        SocketId::new_v6()
    } else {
        SocketId::new_v4()
    };
    let mut packet = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family: request.family,
            protocol: request.protocol,
            extensions: ExtensionFlags::empty(),
            states: StateFlags::from_bits_truncate(request.states),
            socket_id,
        })
        .into(),
    );
    packet.finalize();
    let mut bytes = vec![0; packet.buffer_len()];
    packet.serialize(&mut bytes);
    // The crate's flags stop at the states it knows; the kernel takes the bits as they are.
    if let Some(states) = bytes.get_mut(STATES_OFFSET..STATES_OFFSET + 4) {
        states.copy_from_slice(&request.states.to_ne_bytes());
    }
    if let Some(port) = request.port {
        append_port_filter(&mut bytes, port);
    }
    bytes
}

/// Appends `sport = port` as an inet_diag bytecode attribute and fixes the message length.
///
/// The program is one S_COND op: on a match jump to its end (accept), otherwise four bytes
/// past it (reject), as the kernel's `inet_diag_bc_run` defines. The host condition has family
/// AF_UNSPEC and no address, so only the port is compared. Attributes and the op are in host
/// byte order; the port in the condition too (the kernel compares `ntohs(sport)`).
fn append_port_filter(bytes: &mut Vec<u8>, port: u16) {
    let attribute_len = 4 + u16::from(BYTECODE_LEN);
    let accept = BYTECODE_LEN;
    let reject = u16::from(BYTECODE_LEN) + 4;
    bytes.extend_from_slice(&attribute_len.to_ne_bytes());
    bytes.extend_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
    bytes.extend_from_slice(&[INET_DIAG_BC_S_COND, accept]);
    bytes.extend_from_slice(&reject.to_ne_bytes());
    // family AF_UNSPEC, prefix length 0, two bytes of padding, then `int port`.
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    bytes.extend_from_slice(&i32::from(port).to_ne_bytes());
    let total = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    bytes[..4].copy_from_slice(&total.to_ne_bytes());
}

/// Reads every socket `query` wants, with its inode and uid (owners are found afterwards).
/// Sockets stream from one netlink socket, one request after the other.
pub fn dump(query: &Query) -> io::Result<Dump> {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    Ok(Dump {
        socket,
        pending: requests(*query).into(),
        current: None,
        buf: vec![0; RECV_BUFFER_LEN],
        offset: 0,
        len: 0,
    })
}

/// The sockets of a dump in progress; an error ends the dump.
pub struct Dump {
    socket: Socket,
    pending: VecDeque<Request>,
    /// The request whose answer is being read.
    current: Option<Request>,
    buf: Vec<u8>,
    offset: usize,
    len: usize,
}

impl Dump {
    fn next_socket(&mut self) -> io::Result<Option<RawSocket>> {
        loop {
            let Some(request) = self.current else {
                let Some(request) = self.pending.pop_front() else {
                    return Ok(None);
                };
                self.socket.send(&encode(request), 0)?;
                self.current = Some(request);
                self.offset = 0;
                self.len = 0;
                continue;
            };
            if self.offset >= self.len {
                self.len = self.socket.recv(&mut &mut self.buf[..], 0)?;
                self.offset = 0;
                if self.len == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the socket dump ended without its closing message",
                    ));
                }
            }
            let (message, taken) =
                parse_message(&self.buf[self.offset..self.len], request.protocol)?;
            self.offset = self.offset.saturating_add(taken);
            match message {
                Message::Socket(socket) => return Ok(Some(socket)),
                Message::Done => {
                    self.current = None;
                    self.offset = self.len; // anything after DONE belongs to no request
                }
                Message::Other => {}
            }
        }
    }
}

/// What one netlink message of a dump says.
#[derive(Debug)]
enum Message {
    Socket(RawSocket),
    /// The dump of one request is complete.
    Done,
    /// A message that carries nothing for us.
    Other,
}

/// Parses the message at the start of `bytes` (what the kernel sent; untrusted in the sense
/// that a malformed one must be an error, never a panic or a loop), with how many bytes it
/// takes, padding included. A failed dump's errno comes back as the error.
fn parse_message(bytes: &[u8], protocol: u8) -> io::Result<(Message, usize)> {
    // Only the fixed message header is parsed: the attributes the kernel adds to every
    // socket (shutdown state, cgroup, socket options) are never read, so never decoded.
    let message = NetlinkBuffer::new_checked(bytes).map_err(invalid_data)?;
    let length = usize::try_from(message.length()).unwrap_or(usize::MAX);
    if length == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a zero-length netlink message",
        ));
    }
    // Messages start on 4-byte boundaries.
    let taken = length.next_multiple_of(4);
    let parsed = match message.message_type() {
        SOCK_DIAG_BY_FAMILY => {
            let header = InetResponseHeader::parse(message.payload()).map_err(invalid_data)?;
            Message::Socket(raw_socket(&header, protocol))
        }
        NLMSG_DONE => {
            // The kernel ends a failed dump with a negative errno here.
            if let Some(code) = message
                .payload()
                .first_chunk::<4>()
                .map(|b| i32::from_ne_bytes(*b))
                && code < 0
            {
                return Err(io::Error::from_raw_os_error(code.saturating_neg()));
            }
            Message::Done
        }
        NLMSG_ERROR => {
            let error = ErrorBuffer::new_checked(message.payload()).map_err(invalid_data)?;
            if let Some(code) = error.code() {
                return Err(io::Error::from_raw_os_error(code.get().saturating_neg()));
            }
            Message::Other
        }
        _ => Message::Other,
    };
    Ok((parsed, taken))
}

fn invalid_data(error: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error.to_string())
}

impl Iterator for Dump {
    type Item = io::Result<RawSocket>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_socket() {
            Ok(socket) => socket.map(Ok),
            Err(error) => {
                // One error ends the dump: a half-read netlink stream cannot be resumed.
                self.pending.clear();
                self.current = None;
                self.offset = self.len;
                Some(Err(error))
            }
        }
    }
}

/// The kernel reports a UDP socket that `connect()`ed as `TCP_ESTABLISHED`.
const UDP_CONNECTED: u8 = 1;

/// One socket of the dump. A connected UDP socket is the end of a conversation with its peer,
/// like a TCP connection, so it carries its peer and shows as established.
fn raw_socket(header: &InetResponseHeader, protocol: u8) -> RawSocket {
    let id = &header.socket_id;
    let local = (id.source_address, id.source_port);
    let remote = (id.destination_address, id.destination_port);
    let mut raw = if protocol == IPPROTO_UDP {
        let mut udp = udp_socket(local);
        if header.state == UDP_CONNECTED {
            udp.remote = Some(remote);
            udp.state = SocketState::Established;
        }
        udp
    } else {
        let mut tcp = tcp_socket(local, remote, tcp_state(header.state));
        // Closed with no peer is a socket bound to the port and nothing more (the dump
        // reports those only when asked, see BOUND_INACTIVE): it holds the port like a
        // bound UDP socket does.
        if tcp.state == SocketState::Closed && tcp.remote.is_none() {
            tcp.state = SocketState::Bound;
        }
        tcp
    };
    raw.inode = u64::from(header.inode);
    raw.uid = Some(header.uid);
    raw
}

/// The kernel's TCP state numbers (`include/net/tcp_states.h`).
fn tcp_state(state: u8) -> SocketState {
    match state {
        1 => SocketState::Established,
        2 => SocketState::SynSent,
        3 => SocketState::SynReceived,
        4 => SocketState::FinWait1,
        5 => SocketState::FinWait2,
        6 => SocketState::TimeWait,
        7 => SocketState::Closed,
        8 => SocketState::CloseWait,
        9 => SocketState::LastAck,
        10 => SocketState::Listen,
        11 => SocketState::Closing,
        _ => SocketState::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream, UdpSocket};

    use super::*;

    use crate::model::Proto;

    fn ports_of(query: Query) -> Vec<(bool, u16, SocketState)> {
        dump(&query)
            .unwrap()
            .map(|raw| {
                let raw = raw.unwrap();
                (raw.proto == Proto::Tcp, raw.local_port, raw.state)
            })
            .collect()
    }

    #[test]
    fn kernel_tcp_states_map_to_the_model() {
        let names: Vec<SocketState> = (0..=12).map(tcp_state).collect();
        assert_eq!(
            names,
            [
                SocketState::Unknown,
                SocketState::Established,
                SocketState::SynSent,
                SocketState::SynReceived,
                SocketState::FinWait1,
                SocketState::FinWait2,
                SocketState::TimeWait,
                SocketState::Closed,
                SocketState::CloseWait,
                SocketState::LastAck,
                SocketState::Listen,
                SocketState::Closing,
                SocketState::Unknown,
            ]
        );
    }

    proptest::proptest! {
        #![proptest_config(crate::model::fixtures::fuzz_config(2048))]

        /// Whatever bytes arrive, parsing answers or fails; a stream of them is consumed in
        /// steps that always advance, so a malformed dump cannot panic or spin.
        #[test]
        fn any_bytes_parse_or_fail_and_always_advance(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            udp in proptest::prelude::any::<bool>(),
        ) {
            let protocol = if udp { IPPROTO_UDP } else { IPPROTO_TCP };
            let mut offset = 0;
            while offset < bytes.len() {
                match parse_message(&bytes[offset..], protocol) {
                    Ok((_, taken)) => {
                        proptest::prop_assert!(taken > 0);
                        offset = offset.saturating_add(taken);
                    }
                    Err(_) => break,
                }
            }
        }

        /// Real-looking headers with any length and type: still no panic.
        #[test]
        fn headers_with_any_length_and_type_never_panic(
            length in 0u32..700,
            kind in proptest::prelude::any::<u16>(),
            rest in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
        ) {
            let mut bytes = length.to_ne_bytes().to_vec();
            bytes.extend_from_slice(&kind.to_ne_bytes());
            bytes.extend_from_slice(&[0; 10]);
            bytes.extend_from_slice(&rest);
            let _ = parse_message(&bytes, IPPROTO_TCP);
        }
    }

    #[test]
    fn a_listener_view_asks_tcp_for_listeners_only() {
        let listen = requests(Query::default());
        assert_eq!(listen.len(), 4);
        assert!(
            listen
                .iter()
                .filter(|r| r.protocol == IPPROTO_TCP)
                .all(|r| r.states == StateFlags::LISTEN.bits())
        );
        let who = requests(Query {
            port: Some(80),
            ..Query::default()
        });
        assert!(who.iter().all(|r| r.port == Some(80)));
        for r in &who {
            let wanted = if r.protocol == IPPROTO_TCP {
                StateFlags::all().bits() | BOUND_INACTIVE
            } else {
                StateFlags::all().bits()
            };
            assert_eq!(r.states, wanted);
            // The bit the crate does not know reaches the kernel all the same.
            assert_eq!(
                encode(*r)[STATES_OFFSET..STATES_OFFSET + 4],
                wanted.to_ne_bytes()
            );
        }
    }

    /// Linux 6.7 and later report a TCP socket that is bound and nothing else, to a port
    /// query only; earlier kernels never do.
    #[test]
    fn a_socket_bound_but_not_listening_shows_to_a_port_query() {
        // Close-on-exec: processes other tests spawn meanwhile must not inherit it.
        let socket = rustix::net::socket_with(
            rustix::net::AddressFamily::INET,
            rustix::net::SocketType::STREAM,
            rustix::net::SocketFlags::CLOEXEC,
            None,
        )
        .unwrap();
        rustix::net::bind(&socket, &std::net::SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let port = match rustix::net::getsockname(&socket).unwrap().try_into() {
            Ok(std::net::SocketAddr::V4(addr)) => addr.port(),
            other => panic!("{other:?}"),
        };
        let found = ports_of(Query::port(port));
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        let mut numbers = release
            .split(['.', '-'])
            .map(|n| n.parse::<u32>().unwrap_or(0));
        let version = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
        if version >= (6, 7) {
            assert_eq!(found, [(true, port, SocketState::Bound)]);
        } else {
            eprintln!("kernel {release} does not report bound sockets: {found:?}");
        }
        assert!(
            !ports_of(Query::EVERYTHING)
                .iter()
                .any(|&(tcp, p, _)| tcp && p == port),
            "only a port query asks for them"
        );
    }

    #[test]
    fn the_port_filter_is_a_well_formed_attribute() {
        let plain = encode(requests(Query::default())[0]);
        let mut request = requests(Query::default())[0];
        request.port = Some(0x1234);
        let filtered = encode(request);
        assert_eq!(filtered.len(), plain.len() + 16);
        assert_eq!(
            &filtered[..4],
            &u32::try_from(filtered.len()).unwrap().to_ne_bytes()
        );
        let attribute = &filtered[plain.len()..];
        assert_eq!(&attribute[..2], &16u16.to_ne_bytes());
        assert_eq!(&attribute[2..4], &1u16.to_ne_bytes());
        assert_eq!(&attribute[4..6], &[INET_DIAG_BC_S_COND, 12]);
        assert_eq!(&attribute[6..8], &16u16.to_ne_bytes());
        assert_eq!(&attribute[12..], &0x1234i32.to_ne_bytes());
    }

    #[test]
    fn the_kernel_filters_by_port_and_state() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_server_end, _) = listener.accept().unwrap();
        let udp = UdpSocket::bind(("127.0.0.1", 0)).unwrap();
        let udp_port = udp.local_addr().unwrap().port();
        let client_port = client.local_addr().unwrap().port();

        let who = ports_of(Query {
            port: Some(port),
            ..Query::default()
        });
        assert!(who.iter().all(|&(_, p, _)| p == port), "{who:?}");
        assert!(who.contains(&(true, port, SocketState::Listen)));
        assert!(
            who.contains(&(true, port, SocketState::Established)),
            "the accepted end"
        );

        let listeners = ports_of(Query::default());
        assert!(listeners.contains(&(true, port, SocketState::Listen)));
        assert!(listeners.contains(&(false, udp_port, SocketState::Bound)));
        assert!(
            listeners
                .iter()
                .all(|&(tcp, _, state)| !tcp || state == SocketState::Listen),
            "no connection in a listener view"
        );

        let everything = ports_of(Query::EVERYTHING);
        assert!(everything.contains(&(true, client_port, SocketState::Established)));
    }
}
