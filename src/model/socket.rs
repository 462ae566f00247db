//! What a socket is, who owns it, and a snapshot of them all.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use std::sync::Arc;

use super::{Container, EngineView, Forward, OsText};

/// Transport protocol of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Socket state. TCP states follow the kernel's names; a UDP socket is simply `Bound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SocketState {
    Listen,
    Established,
    SynSent,
    SynReceived,
    FinWait1,
    FinWait2,
    TimeWait,
    Closed,
    CloseWait,
    LastAck,
    Closing,
    /// A UDP socket bound to a local address (UDP has no connection states), or a TCP socket
    /// bound to a port but neither listening nor connected.
    Bound,
    Unknown,
}

impl SocketState {
    /// Every state, for tests and tables that must cover them all.
    pub const ALL: [SocketState; 13] = [
        SocketState::Listen,
        SocketState::Established,
        SocketState::SynSent,
        SocketState::SynReceived,
        SocketState::FinWait1,
        SocketState::FinWait2,
        SocketState::TimeWait,
        SocketState::Closed,
        SocketState::CloseWait,
        SocketState::LastAck,
        SocketState::Closing,
        SocketState::Bound,
        SocketState::Unknown,
    ];

    /// The conventional upper-case name (`LISTEN`, `TIME_WAIT`, ...), as `ss` and `netstat` print it.
    pub fn as_str(self) -> &'static str {
        match self {
            SocketState::Listen => "LISTEN",
            SocketState::Established => "ESTABLISHED",
            SocketState::SynSent => "SYN_SENT",
            SocketState::SynReceived => "SYN_RECV",
            SocketState::FinWait1 => "FIN_WAIT1",
            SocketState::FinWait2 => "FIN_WAIT2",
            SocketState::TimeWait => "TIME_WAIT",
            SocketState::Closed => "CLOSED",
            SocketState::CloseWait => "CLOSE_WAIT",
            SocketState::LastAck => "LAST_ACK",
            SocketState::Closing => "CLOSING",
            SocketState::Bound => "BOUND",
            SocketState::Unknown => "UNKNOWN",
        }
    }

    /// Listeners and bound UDP sockets: what a server holds. Everything else is a connection end.
    pub fn is_listening(self) -> bool {
        matches!(self, SocketState::Listen | SocketState::Bound)
    }
}

impl fmt::Display for SocketState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which clients can reach a socket's local address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// 127.0.0.0/8 or ::1: only this machine can connect.
    Loopback,
    /// 0.0.0.0 or `::`: loopback reaches it, and so does every network interface.
    AllInterfaces,
    /// A specific non-loopback address of this host (not reachable through loopback).
    ThisHost,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Loopback => "loopback",
            Scope::AllInterfaces => "all interfaces",
            Scope::ThisHost => "this host",
        }
    }

    /// Classifies an address that has already been normalised with [`normalize_addr`].
    pub fn of(addr: IpAddr) -> Scope {
        if addr.is_loopback() {
            Scope::Loopback
        } else if addr.is_unspecified() {
            Scope::AllInterfaces
        } else {
            Scope::ThisHost
        }
    }

    /// Exposed beyond this machine: worth a visible warning.
    pub fn is_exposed(self) -> bool {
        self == Scope::AllInterfaces
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Turns an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) into the IPv4 address it stands for,
/// so one socket reads the same whichever family the kernel reported it in.
pub fn normalize_addr(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        IpAddr::V4(_) => addr,
    }
}

/// The address of a wildcard-bound socket of the given family (for fixtures and parsing).
pub fn unspecified(v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

/// A process identity that survives pid reuse: the pid plus the process's start time, in
/// seconds since the epoch (as shown) and, on Linux, in the kernel's clock ticks since boot
/// (`/proc/<pid>/stat` field 22), which tells apart two processes that got the same pid within
/// one second. `start_ticks` is 0 where the platform does not report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcKey {
    pub pid: u32,
    pub start_time: u64,
    pub start_ticks: u64,
}

/// A process that holds a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub key: ProcKey,
    pub name: OsText,
    /// User name, or the numeric uid when it has no name; `None` when unreadable.
    pub user: Option<OsText>,
    /// The command line, arguments joined by spaces; empty when unreadable (e.g. kernel threads).
    pub cmdline: OsText,
    /// The same arguments one by one, `argv[0]` first (a path may hold spaces).
    pub argv: Arc<[OsText]>,
}

impl Owner {
    /// `node 4812`: how every message and view names a process.
    pub fn label(&self) -> String {
        process_label(&self.name, self.key.pid)
    }
}

/// `node 4812`: a process named the one way loopwatch names processes.
pub fn process_label(name: &OsText, pid: u32) -> String {
    format!("{name} {pid}")
}

/// `node 4812`, or `node 4812 +2` when two more processes share the socket; `None` when no
/// owner is visible.
pub fn owners_label(owners: &[Owner]) -> Option<String> {
    match owners {
        [] => None,
        [one] => Some(one.label()),
        [first, rest @ ..] => Some(format!("{} +{}", first.label(), rest.len())),
    }
}

/// The order a snapshot lists its sockets in: by port, then by key.
pub fn listing_order(a: &Socket, b: &Socket) -> std::cmp::Ordering {
    a.local_port
        .cmp(&b.local_port)
        .then_with(|| a.key().cmp(&b.key()))
}

/// Why a socket's owning process is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnknownOwner {
    /// The socket belongs to another user and this process may not read their file descriptors.
    PermissionDenied,
    /// No process holds it: the kernel keeps it (e.g. TIME_WAIT after both ends closed).
    Kernel,
    /// No visible process holds it: it closed between two reads, or its owner lives in another
    /// PID namespace (a container) whose processes this /proc does not show.
    NotFound,
    /// This platform does not report socket owners.
    Unsupported,
    /// loopwatch ran out of file descriptors while looking (EMFILE, ENFILE): the owner may be
    /// any process.
    OutOfDescriptors,
    /// No process listens: a container engine forwards the port to a container with NAT rules
    /// alone (Docker's `userland-proxy: false`); `Socket::container` names the container.
    Nat,
    /// Not looked for yet: the live table draws a large table's first look before the owners
    /// are read from `/proc`, and the next snapshot, a moment later, names them.
    Reading,
}

impl UnknownOwner {
    /// A short reason for a table cell.
    pub fn short(self) -> &'static str {
        match self {
            UnknownOwner::PermissionDenied => "hidden",
            UnknownOwner::Kernel => "kernel",
            UnknownOwner::NotFound => "not found",
            UnknownOwner::Unsupported => "unknown",
            UnknownOwner::OutOfDescriptors => "no fds",
            UnknownOwner::Nat => "NAT",
            UnknownOwner::Reading => "reading",
        }
    }

    /// A sentence for detail views and one-shot output.
    pub fn explain(self) -> &'static str {
        match self {
            UnknownOwner::PermissionDenied => {
                "owned by another user; run loopwatch as root to see the process"
            }
            UnknownOwner::Kernel => "held by the kernel, no process owns it (e.g. TIME_WAIT)",
            UnknownOwner::NotFound => {
                "no visible process holds it: it may have just closed, or its owner runs in another container or PID namespace"
            }
            UnknownOwner::Unsupported => "this platform does not report socket owners",
            UnknownOwner::OutOfDescriptors => {
                "loopwatch ran out of file descriptors while looking for it: raise the limit (ulimit -n)"
            }
            UnknownOwner::Nat => {
                "no process listens: the container engine forwards this port to a container with NAT rules"
            }
            UnknownOwner::Reading => {
                "its owner is still being read: a large table shows before its owners, which follow in a moment"
            }
        }
    }

    /// Stable machine-readable name (JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            UnknownOwner::PermissionDenied => "permission_denied",
            UnknownOwner::Kernel => "kernel",
            UnknownOwner::NotFound => "not_found",
            UnknownOwner::Unsupported => "unsupported",
            UnknownOwner::OutOfDescriptors => "out_of_descriptors",
            UnknownOwner::Nat => "nat",
            UnknownOwner::Reading => "reading",
        }
    }
}

/// The identity of a row: stable across refreshes and re-sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketKey {
    pub proto: Proto,
    pub local_addr: IpAddr,
    pub local_port: u16,
    pub remote: Option<(IpAddr, u16)>,
    /// Kernel inode of the socket (0 where unknown, e.g. TIME_WAIT or non-Linux).
    pub inode: u64,
}

/// One socket reachable (or, with `--all`, bound) on this host, joined with its owners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    pub proto: Proto,
    /// Local address, IPv4-mapped IPv6 already turned into IPv4.
    pub local_addr: IpAddr,
    pub local_port: u16,
    /// Remote end of a connection; `None` for listeners and bound UDP sockets.
    pub remote: Option<(IpAddr, u16)>,
    pub state: SocketState,
    pub scope: Scope,
    pub inode: u64,
    /// The socket's owning uid as the kernel reports it (known even when the process is hidden).
    pub uid: Option<u32>,
    /// User name for `uid`.
    pub user: Option<OsText>,
    /// Every process holding the socket, ordered by pid. Empty when `unknown` is set.
    pub owners: Arc<[Owner]>,
    /// Set when no owner could be shown, with the reason.
    pub unknown: Option<UnknownOwner>,
    /// The container this socket serves: behind an engine proxy's socket, or the container
    /// itself for a port the engine publishes with NAT rules only (`UnknownOwner::Nat`).
    pub container: Option<Arc<Container>>,
    /// Where the socket leads when its first owner is a forwarder (`ssh -L`, `kubectl
    /// port-forward`, socat, docker-proxy) and this is the listening end of one of its
    /// forwards, as its command line says. Collection leaves it unset; the views set it from
    /// the owner's argv.
    pub forward: Option<Arc<Forward>>,
}

impl Socket {
    pub fn key(&self) -> SocketKey {
        SocketKey {
            proto: self.proto,
            local_addr: self.local_addr,
            local_port: self.local_port,
            remote: self.remote,
            inode: self.inode,
        }
    }

    /// The first owner, the one a single-pid column shows.
    pub fn primary_owner(&self) -> Option<&Owner> {
        self.owners.first()
    }

    /// The pid column: "812", "812 +3" for a shared socket, or "-" when unknown.
    pub fn pid_label(&self) -> String {
        match &self.owners[..] {
            [] => "-".to_string(),
            [one] => one.key.pid.to_string(),
            [first, rest @ ..] => format!("{} +{}", first.key.pid, rest.len()),
        }
    }

    /// The process column: the owner's name, or the unknown reason in parentheses; with the
    /// container it serves after `->` (`docker-proxy -> web`), or `container web` for a port
    /// published by NAT rules alone; else with where a forwarder sends it (`ssh ->
    /// db.internal:5432`).
    pub fn process_label(&self) -> String {
        let holder = match (self.primary_owner(), self.unknown) {
            (None, Some(UnknownOwner::Nat)) => String::new(),
            (Some(owner), _) => owner.name.to_string(),
            (None, Some(reason)) => format!("({})", reason.short()),
            (None, None) => "(unknown)".to_string(),
        };
        match &self.container {
            Some(container) if holder.is_empty() => format!("container {}", container.name),
            Some(container) => format!("{holder} -> {}", container.name),
            None if holder.is_empty() => "(unknown)".to_string(),
            None => match &self.forward {
                Some(forward) => format!("{holder} -> {}", forward.target),
                None => holder,
            },
        }
    }

    /// The user column: the owning process's user, else the socket's own uid's user.
    pub fn user_label(&self) -> String {
        self.primary_owner()
            .and_then(|o| o.user.as_ref().map(OsText::to_string))
            .or_else(|| self.user.as_ref().map(OsText::to_string))
            .or_else(|| self.uid.map(|u| u.to_string()))
            .unwrap_or_else(|| "-".to_string())
    }

    /// The first owner's command line, inert.
    pub fn cmdline_label(&self) -> std::borrow::Cow<'_, str> {
        self.primary_owner()
            .map_or("".into(), |o| o.cmdline.inert())
    }

    /// `127.0.0.1:5432`, `[::1]:5432`, `*:5432` style rendering of the local end.
    pub fn local_endpoint(&self) -> String {
        format_endpoint(self.local_addr, self.local_port)
    }
}

/// Renders an address and port the way people type them: IPv6 in brackets.
pub fn format_endpoint(addr: IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// Everything one collection found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub sockets: Vec<Socket>,
    /// Whether the collector could see every process's sockets (root, or an OS without limits).
    pub privileged: bool,
    /// What the container engine said, when one was asked.
    pub engine: EngineView,
    /// A large table's first look: the sockets alone, every owner that needs a process read
    /// marked [`UnknownOwner::Reading`]. The snapshot that follows joins owners to the same
    /// dump.
    pub reading_owners: bool,
}

impl Snapshot {
    /// Puts the sockets in listing order, by port and then by key: the order that rows equal
    /// in a sorted column keep (see `domain::sort`). The collector lists them so already, and
    /// then this only checks; sockets added afterwards (a container's NAT rows) or a snapshot
    /// made by hand are sorted here.
    pub fn put_in_listing_order(&mut self) {
        if !self
            .sockets
            .is_sorted_by(|a, b| listing_order(a, b).is_le())
        {
            // Stable: two rows can share a key (the NAT rows of a port two containers
            // publish), and they keep the order they came in.
            self.sockets.sort_by(listing_order);
        }
    }

    /// Listeners and bound UDP sockets on `port`: what "the port is held" means.
    pub fn listeners_on(&self, port: u16) -> impl Iterator<Item = &Socket> {
        self.sockets
            .iter()
            .filter(move |s| s.local_port == port && s.state.is_listening())
    }

    /// How many sockets' owners are hidden by permissions.
    pub fn hidden_owner_count(&self) -> usize {
        self.sockets
            .iter()
            .filter(|s| s.unknown == Some(UnknownOwner::PermissionDenied))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ipv4_is_shown_as_ipv4() {
        let mapped: IpAddr = "::ffff:127.0.0.5".parse().unwrap();
        assert_eq!(
            normalize_addr(mapped),
            "127.0.0.5".parse::<IpAddr>().unwrap()
        );
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(normalize_addr(v6), v6);
    }

    #[test]
    fn scope_classifies_loopback_wildcard_and_specific() {
        for (addr, scope) in [
            ("127.0.0.1", Scope::Loopback),
            ("127.3.2.1", Scope::Loopback),
            ("::1", Scope::Loopback),
            ("0.0.0.0", Scope::AllInterfaces),
            ("::", Scope::AllInterfaces),
            ("192.168.1.4", Scope::ThisHost),
            ("fe80::1", Scope::ThisHost),
        ] {
            let ip: IpAddr = addr.parse().unwrap();
            assert_eq!(Scope::of(normalize_addr(ip)), scope, "{addr}");
        }
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(Scope::of(normalize_addr(mapped)), Scope::Loopback);
    }

    #[test]
    fn endpoints_bracket_ipv6() {
        assert_eq!(format_endpoint("::1".parse().unwrap(), 80), "[::1]:80");
        assert_eq!(
            format_endpoint("127.0.0.1".parse().unwrap(), 80),
            "127.0.0.1:80"
        );
    }
}
