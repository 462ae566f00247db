//! Plain-language explanations of a socket or a port, generated from a snapshot and the
//! system's settings: what the address means, which address families are bound, what the port
//! number says, what usually runs there, what the state means, and who is at the other end.
//!
//! Pure: sockets and [`SystemFacts`] in, sentences out. The `e` view and `loopwatch explain`
//! both print these.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::OnceLock;

use crate::domain::forward;
use crate::domain::history::Event;
use crate::domain::text::{self, WARNING_MARK};
use crate::model::SystemFacts;
use crate::model::{
    Proto, Scope, Socket, SocketState, UnknownOwner, format_endpoint, owners_label,
};

/// The port table shipped with loopwatch: what usually listens on common ports.
const PORTS_TSV: &str = include_str!("../../assets/ports.tsv");

/// What a paragraph is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Topic {
    Summary,
    Forward,
    Address,
    Family,
    Connection,
    State,
    Range,
    Service,
    /// What binding the port now meets (`loopwatch explain PORT` tries it).
    Bind,
}

impl Topic {
    /// The label printed before the paragraph, and the JSON `topic`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Topic::Summary => "socket",
            Topic::Forward => "forwards",
            Topic::Address => "address",
            Topic::Family => "IPv4/IPv6",
            Topic::Connection => "connection",
            Topic::State => "state",
            Topic::Range => "port range",
            Topic::Service => "usually",
            Topic::Bind => "bind",
        }
    }
}

/// One paragraph of an explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Paragraph {
    pub(crate) topic: Topic,
    pub(crate) text: String,
    /// Something the reader should act on (e.g. exposed to the network); drawn with a symbol.
    pub(crate) warning: bool,
}

/// A title and its paragraphs, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Explanation {
    pub(crate) title: String,
    pub(crate) paragraphs: Vec<Paragraph>,
}

impl Explanation {
    pub(crate) fn push(&mut self, topic: Topic, text: impl Into<String>) {
        self.paragraphs.push(Paragraph {
            topic,
            text: text.into(),
            warning: false,
        });
    }

    pub(crate) fn warn(&mut self, topic: Topic, text: impl Into<String>) {
        self.paragraphs.push(Paragraph {
            topic,
            text: text.into(),
            warning: true,
        });
    }

    /// Plain text for a terminal `width` columns wide: the title, then each paragraph with its
    /// label, wrapped under a hanging indent. Warnings start with the warning mark.
    pub(crate) fn to_text(&self, width: usize) -> String {
        let label_width = self.label_width();
        let mut out = format!("{}\n", self.title);
        for line in self.lines(width.saturating_sub(label_width + 2).max(20)) {
            // Writing to a String cannot fail.
            let _ = writeln!(out, "{:>label_width$}  {}", line.label, line.text);
        }
        out
    }

    /// The lines the explanation view shows in `width` columns (a space, the labels, two
    /// spaces, the text): what it draws, and what the app scrolls through.
    pub(crate) fn view_lines(&self, width: usize) -> Vec<Laid<'_>> {
        self.lines(width.saturating_sub(self.label_width() + 3).max(10))
    }

    /// The widest topic label.
    pub(crate) fn label_width(&self) -> usize {
        self.paragraphs
            .iter()
            .map(|p| text::width(p.topic.as_str()))
            .max()
            .unwrap_or(0)
    }

    /// Every paragraph wrapped so its text fits `room` columns; warnings start with the mark.
    fn lines(&self, room: usize) -> Vec<Laid<'_>> {
        let mut lines = Vec::new();
        for p in &self.paragraphs {
            let text = if p.warning {
                format!("{WARNING_MARK} {}", p.text)
            } else {
                p.text.clone()
            };
            for (i, line) in text::wrap(&text, room).into_iter().enumerate() {
                lines.push(Laid {
                    label: if i == 0 { p.topic.as_str() } else { "" },
                    text: line,
                    warning: p.warning,
                });
            }
        }
        lines
    }
}

/// How many sockets' owners are hidden by permissions, and the way to see them: one sentence
/// for the status line and the text commands' stderr alike. `None` when none are.
pub(crate) fn hidden_owners(count: usize) -> Option<String> {
    match count {
        0 => None,
        1 => Some("the owner of 1 socket is hidden: run as root to see it".to_string()),
        n => Some(format!(
            "owners of {n} sockets are hidden: run as root to see them"
        )),
    }
}

/// The same, for narrow terminals: still the count and the way out.
pub(crate) fn hidden_owners_short(count: usize) -> String {
    let noun = if count == 1 { "owner" } else { "owners" };
    format!("{count} {noun} hidden: run as root")
}

/// One line of an explanation laid out to a width: the topic label on a paragraph's first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Laid<'e> {
    pub(crate) label: &'e str,
    pub(crate) text: String,
    pub(crate) warning: bool,
}

/// What usually runs on `port` (for `proto`), from the shipped table. Never an assertion: the
/// owning process is what actually holds it.
pub(crate) fn usual_service(port: u16, proto: Proto) -> Option<&'static str> {
    static TABLE: OnceLock<Vec<(u16, &'static str, &'static str)>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        PORTS_TSV
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut fields = l.split('\t');
                let port = fields.next()?.trim().parse().ok()?;
                let proto = fields.next()?.trim();
                let what = fields.next()?.trim();
                Some((port, proto, what))
            })
            .collect()
    });
    table
        .iter()
        .find(|(p, pr, _)| *p == port && (*pr == "both" || *pr == proto.as_str()))
        .map(|(_, _, what)| *what)
}

/// Explains one socket, with `all` (the snapshot it came from) for the context: the other
/// sockets on its port, the other end of a connection; `earlier` holds listeners that closed
/// while loopwatch watched (the history), which tell the side of a connection they left.
pub(crate) fn socket(
    socket: &Socket,
    all: &[Socket],
    facts: &SystemFacts,
    earlier: &[&Event],
) -> Explanation {
    let mut e = Explanation {
        title: format!(
            "{} {} · {}",
            socket.proto,
            endpoint_with_remote(socket),
            socket.state
        ),
        paragraphs: Vec::new(),
    };
    e.push(Topic::Summary, holders_sentence(socket));
    if let Some(text) = forward_sentence(socket, &socket.local_endpoint()) {
        e.push(Topic::Forward, text);
    }
    address(&mut e, socket);
    if socket.state.is_listening() {
        family(&mut e, socket.proto, socket.local_port, all, facts);
    }
    if socket.remote.is_some() {
        e.push(
            Topic::Connection,
            connection_sentence(socket, all, earlier, facts),
        );
    }
    e.push(Topic::State, state_sentence(socket.proto, socket.state));
    // The server end of an accepted connection shares its listener's port.
    let server_end = all.iter().any(|o| {
        o.proto == socket.proto && o.local_port == socket.local_port && o.state.is_listening()
    });
    let usage = if socket.state.is_listening() || server_end {
        PortUse::Bound
    } else {
        PortUse::Connection
    };
    range(&mut e, socket.local_port, usage, facts);
    if socket.state.is_listening() {
        service(&mut e, socket.local_port, socket.proto, true);
    }
    e
}

/// Explains a port: every socket on it (listeners first), or, when nothing holds it, what
/// binding it would take.
pub(crate) fn port(port: u16, all: &[Socket], facts: &SystemFacts) -> Explanation {
    let mut on_port: Vec<&Socket> = all.iter().filter(|s| s.local_port == port).collect();
    on_port.sort_by_key(|s| (!s.state.is_listening(), s.proto, s.local_addr, s.remote));
    let mut e = Explanation {
        title: format!("port {port}"),
        paragraphs: Vec::new(),
    };
    if on_port.is_empty() {
        e.push(
            Topic::Summary,
            format!("Nothing holds port {port} right now: no socket is bound to it."),
        );
        range(&mut e, port, PortUse::Free, facts);
        e.push(Topic::Range, free_port_privilege(port, facts));
        service(&mut e, port, Proto::Tcp, false);
        return e;
    }
    for s in &on_port {
        e.push(
            Topic::Summary,
            format!(
                "{} {} {}: {}",
                s.proto,
                endpoint_with_remote(s),
                s.state,
                holders_sentence(s)
            ),
        );
    }
    let listeners: Vec<&Socket> = on_port
        .iter()
        .copied()
        .filter(|s| s.state.is_listening())
        .collect();
    // One paragraph per forward, naming all its listeners (IPv4 and IPv6 lead to one place).
    let mut forwards: Vec<(&Socket, Vec<String>)> = Vec::new();
    for s in &listeners {
        let Some(forward) = &s.forward else { continue };
        let same = forwards.iter_mut().find(|(first, _)| {
            first.forward.as_deref() == Some(&**forward)
                && first.primary_owner().map(|o| o.key) == s.primary_owner().map(|o| o.key)
        });
        match same {
            Some((_, ends)) => ends.push(s.local_endpoint()),
            None => forwards.push((s, vec![s.local_endpoint()])),
        }
    }
    for (s, ends) in forwards {
        if let Some(text) = forward_sentence(s, &ends.join(" and ")) {
            e.push(Topic::Forward, text);
        }
    }
    let mut seen_addresses: Vec<IpAddr> = Vec::new();
    for s in &listeners {
        if !seen_addresses.contains(&s.local_addr) {
            seen_addresses.push(s.local_addr);
            address(&mut e, s);
        }
    }
    let mut seen_protos: Vec<Proto> = Vec::new();
    for s in &listeners {
        if !seen_protos.contains(&s.proto) {
            seen_protos.push(s.proto);
            family(&mut e, s.proto, port, all, facts);
        }
    }
    // Connection ends on this port, a few at most: past that they repeat one another.
    for s in on_port.iter().filter(|s| s.remote.is_some()).take(4) {
        e.push(Topic::Connection, connection_sentence(s, all, &[], facts));
    }
    let mut seen_states: Vec<SocketState> = Vec::new();
    for s in &on_port {
        if !seen_states.contains(&s.state) {
            seen_states.push(s.state);
            e.push(Topic::State, state_sentence(s.proto, s.state));
        }
    }
    let usage = if listeners.is_empty() {
        PortUse::Connection
    } else {
        PortUse::Bound
    };
    range(&mut e, port, usage, facts);
    if let Some(first) = listeners.first() {
        service(&mut e, port, first.proto, true);
    }
    e
}

fn endpoint_with_remote(s: &Socket) -> String {
    let local = format_endpoint(s.local_addr, s.local_port);
    match s.remote {
        Some((addr, port)) => format!("{local} → {}", format_endpoint(addr, port)),
        None => local,
    }
}

/// `node 4812`, `nginx 2100 +3`.
fn process_label(s: &Socket) -> Option<String> {
    owners_label(&s.owners)
}

/// Who holds the socket, in a sentence.
fn holders_sentence(s: &Socket) -> String {
    match &s.owners[..] {
        [] => match s.unknown {
            Some(reason) => {
                let user = s
                    .user
                    .as_ref()
                    .map(ToString::to_string)
                    .or_else(|| s.uid.map(|u| format!("uid {u}")));
                match user.filter(|_| reason != UnknownOwner::Kernel) {
                    Some(user) => format!("Socket of user {user}, {}.", reason.explain()),
                    None => format!("The owning process is not shown: {}.", reason.explain()),
                }
            }
            None => "The owning process is not known.".to_string(),
        },
        [one] => {
            let user = one
                .user
                .as_ref()
                .map_or(String::new(), |u| format!(", user {u}"));
            let command = if one.cmdline.is_empty() {
                String::new()
            } else {
                format!(": {}", one.cmdline)
            };
            format!("Held by {} (pid {}{user}){command}.", one.name, one.key.pid)
        }
        many => {
            let pids: Vec<String> = many.iter().map(|o| o.key.pid.to_string()).collect();
            format!(
                "Held by {} processes ({} {}): they share this one socket, as pre-fork workers or children that inherited it do. Every one of them must exit before the port is free.",
                many.len(),
                many[0].name,
                pids.join(", ")
            )
        }
    }
}

/// Where a forwarder's listening socket (at `local`) leads, when its command line says.
fn forward_sentence(s: &Socket, local: &str) -> Option<String> {
    let forward = s.forward.as_ref()?;
    let holder = s.primary_owner()?.label();
    Some(forward::sentence(forward, &holder, local))
}

fn address(e: &mut Explanation, s: &Socket) {
    let addr = s.local_addr;
    let end = if s.remote.is_some() { "This end" } else { "It" };
    match s.scope {
        Scope::Loopback => e.push(
            Topic::Address,
            format!(
                "{addr} is a loopback address: only programs on this machine can connect to it; other machines cannot reach it."
            ),
        ),
        Scope::AllInterfaces if s.remote.is_none() => {
            let family = if addr.is_ipv6() { "IPv6 " } else { "" };
            let private = if addr.is_ipv6() { "::1" } else { "127.0.0.1" };
            e.warn(
                Topic::Address,
                format!(
                    "{addr} is the wildcard address: the socket accepts connections on every {family}network interface, so other machines on the network can reach it too, unless a firewall stops them. Bind to {private} to keep it private to this machine."
                ),
            );
        }
        Scope::AllInterfaces => e.push(
            Topic::Address,
            format!("{end} has no specific local address ({addr})."),
        ),
        Scope::ThisHost => e.push(
            Topic::Address,
            format!(
                "{addr} is a specific address of this machine: clients reach it through that address's network, not through loopback (127.0.0.1 does not reach it)."
            ),
        ),
    }
}

/// Which address families are bound on `port`, and what that means for `localhost`.
fn family(e: &mut Explanation, proto: Proto, port: u16, all: &[Socket], facts: &SystemFacts) {
    let listening: Vec<&Socket> = all
        .iter()
        .filter(|s| s.proto == proto && s.local_port == port && s.state.is_listening())
        .filter(|s| s.scope != Scope::ThisHost)
        .collect();
    let v4 = listening.iter().any(|s| s.local_addr.is_ipv4());
    let v6_wildcard = listening
        .iter()
        .any(|s| s.local_addr.is_ipv6() && s.local_addr.is_unspecified());
    let v6 = listening.iter().any(|s| s.local_addr.is_ipv6());
    let dual_stack = match facts.bindv6only {
        Some(false) => {
            "On this system (net.ipv6.bindv6only = 0) a socket bound to :: also accepts IPv4, so 127.0.0.1 reaches it too, unless the program asked for IPv6 only (IPV6_V6ONLY)."
        }
        Some(true) => {
            "On this system (net.ipv6.bindv6only = 1) a socket bound to :: accepts IPv6 only: clients using 127.0.0.1 do not reach it."
        }
        None => {
            "Whether a socket bound to :: also accepts IPv4 depends on a system setting (IPV6_V6ONLY) that loopwatch cannot read here."
        }
    };
    match (v4, v6) {
        (true, true) => e.push(
            Topic::Family,
            format!(
                "Both IPv4 and IPv6 are bound on port {port}, so `localhost` reaches it whichever address it resolves to."
            ),
        ),
        (true, false) => one_family(e, port, false, facts),
        (false, true) if v6_wildcard => e.push(Topic::Family, dual_stack),
        (false, true) => one_family(e, port, true, facts),
        (false, false) => {}
    }
}

/// Only one family is bound: whether clients of `localhost` get there, from what `localhost`
/// really resolves to here when that is known.
fn one_family(e: &mut Explanation, port: u16, bound_v6: bool, facts: &SystemFacts) {
    let (bound, other, own_addr, other_addr) = if bound_v6 {
        ("IPv6", "IPv4", "[::1]", "127.0.0.1")
    } else {
        ("IPv4", "IPv6", "127.0.0.1", "::1")
    };
    let Some(localhost) = facts.localhost else {
        let text = if bound_v6 {
            format!(
                "Only IPv6 is bound on port {port}. A client that resolves `localhost` to 127.0.0.1 (or connects to 127.0.0.1 directly) will not reach it: connect to [::1] explicitly, or bind 127.0.0.1 too."
            )
        } else {
            format!(
                "Only IPv4 is bound on port {port}. A client that resolves `localhost` to ::1 first (many browsers and Node.js 17+ do) will not reach it unless it falls back to 127.0.0.1: connect to 127.0.0.1 explicitly, or bind ::1 too."
            )
        };
        e.push(Topic::Family, text);
        return;
    };
    let order = resolution(&localhost);
    if localhost.first.is_ipv6() == bound_v6 {
        let fallback = if (bound_v6 && localhost.v4) || (!bound_v6 && localhost.v6) {
            format!(
                " A client given {other_addr} explicitly, or on a system that resolves `localhost` to {other} first, is refused."
            )
        } else {
            String::new()
        };
        e.push(
            Topic::Family,
            format!(
                "Only {bound} is bound on port {port}, and `localhost` resolves to {order} here, so clients of localhost:{port} reach it.{fallback}"
            ),
        );
    } else {
        e.warn(
            Topic::Family,
            format!(
                "Only {bound} is bound on port {port}, but `localhost` resolves to {order} here: a client that tries only the first address (Node.js 17 to 19, many HTTP libraries) gets \"connection refused\" at localhost:{port}; Node.js 20+ and browsers try the next address. Connect to {own_addr} explicitly, or bind {other_addr} too."
            ),
        );
    }
}

/// `::1 first, then 127.0.0.1 (getaddrinfo; /etc/hosts maps it to both)`.
fn resolution(localhost: &crate::model::Localhost) -> String {
    let first = localhost.first;
    let order = match (first.is_ipv4(), localhost.v4, localhost.v6) {
        (true, _, true) => format!("{first} first, then ::1"),
        (false, true, _) => format!("{first} first, then 127.0.0.1"),
        _ => format!("{first} only"),
    };
    let hosts = match localhost.hosts_file {
        Some((true, true)) => "; /etc/hosts maps it to both",
        Some((true, false)) => "; /etc/hosts maps it to IPv4 only",
        Some((false, true)) => "; /etc/hosts maps it to IPv6 only",
        Some((false, false)) => "; /etc/hosts does not name it",
        None => "",
    };
    format!("{order} (the resolver's order{hosts})")
}

/// How the port in question is used, which changes what its number says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortUse {
    /// A listener or bound UDP socket: someone chose the port, or asked the OS for any.
    Bound,
    /// The local end of a connection.
    Connection,
    /// Nothing holds it.
    Free,
}

fn range(e: &mut Explanation, port: u16, usage: PortUse, facts: &SystemFacts) {
    let class = match port {
        0..=1023 => format!(
            "{port} is in the well-known range (0-1023), reserved for standard services; binding it needs privilege on most systems."
        ),
        1024..=49151 => format!(
            "{port} is in the registered range (1024-49151): any user may bind it, and services pick such ports by convention."
        ),
        _ => format!(
            "{port} is in the dynamic/private range (49152-65535), meant for temporary use."
        ),
    };
    let ephemeral = match (facts.ephemeral, usage) {
        (Some((low, high)), _) if !(low..=high).contains(&port) => match usage {
            PortUse::Bound => format!(
                " It is outside this system's ephemeral range ({low}-{high}), so it was chosen, not handed out by the OS."
            ),
            PortUse::Connection => format!(
                " It is outside this system's ephemeral range ({low}-{high}): the program asked for this port itself."
            ),
            PortUse::Free => String::new(),
        },
        (Some((low, high)), PortUse::Bound) => format!(
            " It lies in this system's ephemeral range ({low}-{high}), the ports the OS hands out on its own: a server here likely asked for \"any free port\" and got this one."
        ),
        (Some((low, high)), PortUse::Connection) => format!(
            " It lies in this system's ephemeral range ({low}-{high}): the OS picked it for this connection."
        ),
        (Some((low, high)), PortUse::Free) => format!(
            " It lies in this system's ephemeral range ({low}-{high}): the OS may hand it out to any outgoing connection, so a server that needs it can find it taken."
        ),
        (None, _) => String::new(),
    };
    e.push(Topic::Range, format!("{class}{ephemeral}"));
}

/// Whether binding a free port would need privilege.
fn free_port_privilege(port: u16, facts: &SystemFacts) -> String {
    match facts.unprivileged_port_start {
        Some(start) if port < start => format!(
            "Binding it needs privilege: ports below {start} need root or CAP_NET_BIND_SERVICE on this system (net.ipv4.ip_unprivileged_port_start = {start})."
        ),
        Some(start) => format!(
            "Any user may bind it: this system lets unprivileged programs bind ports from {start} up."
        ),
        None if port < 1024 => {
            "Binding it needs privilege on most systems (root, or CAP_NET_BIND_SERVICE on Linux)."
                .to_string()
        }
        None => "Any user may bind it on most systems.".to_string(),
    }
}

fn service(e: &mut Explanation, port: u16, proto: Proto, held: bool) {
    if let Some(what) = usual_service(port, proto) {
        let caveat = if held {
            "Only usually: any program may use any port; the holder above is what is really there."
        } else {
            "Only usually: any program may use any port."
        };
        e.push(
            Topic::Service,
            format!("Port {port}/{proto} is usually: {what}. {caveat}"),
        );
    }
}

/// The state in one sentence.
pub(crate) fn state_sentence(proto: Proto, state: SocketState) -> &'static str {
    if proto == Proto::Tcp && state == SocketState::Bound {
        return "BOUND: a TCP socket bound to this port but neither listening nor connected (a server that has not called listen() yet, or a client about to connect from this port). It keeps the port from other binds all the same.";
    }
    if proto == Proto::Udp && state == SocketState::Established {
        return "ESTABLISHED: a UDP socket connected to one peer: it sends there and takes datagrams from it alone. UDP has no connections; this is the socket's own setting, and it makes it a client's end, not a server.";
    }
    match state {
        SocketState::Listen => {
            "LISTEN: waiting for incoming connections; each accepted connection gets its own socket on the same port."
        }
        SocketState::Bound => {
            "BOUND: a UDP socket receiving datagrams sent to this address and port. UDP has no connections, so there is no listening or connected state."
        }
        SocketState::Established => {
            "ESTABLISHED: the connection is open and data can flow both ways."
        }
        SocketState::SynSent => {
            "SYN_SENT: this end asked to connect and is waiting for the other end to answer."
        }
        SocketState::SynReceived => {
            "SYN_RECV: a connection request arrived and was answered; waiting for the final acknowledgement."
        }
        SocketState::FinWait1 => {
            "FIN_WAIT1: this end closed its side and waits for the other end to acknowledge."
        }
        SocketState::FinWait2 => {
            "FIN_WAIT2: this end closed its side; waiting for the other end to close too."
        }
        SocketState::TimeWait => {
            "TIME_WAIT: the connection is over; the kernel keeps the address pair reserved for a minute or so to catch late packets. No process holds it and it goes away by itself; a server restarting on this port may meanwhile see \"address already in use\" unless it sets SO_REUSEADDR."
        }
        SocketState::CloseWait => {
            "CLOSE_WAIT: the other end closed the connection, but the process here has not closed its socket yet. Many of these usually mean a program that forgets to close connections."
        }
        SocketState::LastAck => "LAST_ACK: both ends closed; waiting for the last acknowledgement.",
        SocketState::Closing => {
            "CLOSING: both ends closed at the same moment; waiting for acknowledgement."
        }
        SocketState::Closed => "CLOSED: the socket is not in use.",
        SocketState::Unknown => "The state could not be read.",
    }
}

/// `this is the client end of a connection to 127.0.0.1:3000, held by curl 7001; the server is
/// node 4812`, or the server end's equivalent; or, when no listener on either end tells which
/// side opened it, that it cannot be told. `earlier` holds listeners that have closed (the
/// history), which may have left this connection behind.
fn connection_sentence(
    s: &Socket,
    all: &[Socket],
    earlier: &[&Event],
    facts: &SystemFacts,
) -> String {
    let Some((remote_addr, remote_port)) = s.remote else {
        return String::new();
    };
    let remote = format_endpoint(remote_addr, remote_port);
    let held = match (process_label(s), s.unknown) {
        (Some(p), _) => format!("held by {p}"),
        (None, Some(UnknownOwner::Kernel)) => "no longer held by any process".to_string(),
        (None, Some(UnknownOwner::PermissionDenied)) => {
            "held by another user's process that loopwatch cannot see".to_string()
        }
        (None, _) => "whose owner is not shown".to_string(),
    };
    let peer = all.iter().find(|o| {
        o.proto == s.proto
            && o.local_addr == remote_addr
            && o.local_port == remote_port
            && o.remote == Some((s.local_addr, s.local_port))
    });
    let covers = |o: &Socket, addr: IpAddr, port: u16| {
        o.proto == s.proto
            && o.local_port == port
            && o.state.is_listening()
            && (o.local_addr == addr || o.local_addr.is_unspecified())
    };
    let listener_on = |addr: IpAddr, port: u16| all.iter().find(|o| covers(o, addr, port));
    if let Some(own_listener) = listener_on(s.local_addr, s.local_port) {
        // This end's port has a listener: it is the server's side of an accepted connection.
        let client = peer
            .and_then(process_label)
            .map_or_else(String::new, |p| format!(" ({p})"));
        let server = process_label(own_listener).unwrap_or_else(|| own_listener.process_label());
        let same = own_listener
            .owners
            .iter()
            .map(|o| o.key)
            .eq(s.owners.iter().map(|o| o.key));
        let held = if same {
            String::new()
        } else {
            format!(", {held}")
        };
        return format!(
            "This is the server end of a connection from {remote}{client}, accepted by {server}, which listens on port {}{held}.",
            s.local_port
        );
    }
    let place = if remote_addr.is_loopback() {
        String::new()
    } else {
        " (another machine, or another address of this one)".to_string()
    };
    let service = usual_service(remote_port, s.proto).map_or_else(String::new, |w| {
        format!(" Port {remote_port} is usually: {w}.")
    });
    if let Some(server) = listener_on(remote_addr, remote_port) {
        let server = process_label(server).unwrap_or_else(|| server.process_label());
        return format!(
            "This is the client end of a connection to {remote}{place}, {held}; the server is {server}.{service}"
        );
    }
    // The listener this end was accepted by may have closed first, leaving it behind.
    let gone = earlier
        .iter()
        .rev()
        .find(|event| covers(&event.socket, s.local_addr, s.local_port));
    if let Some(gone) = gone {
        let server = process_label(&gone.socket).unwrap_or_else(|| gone.socket.process_label());
        return format!(
            "This is most likely the server end of a connection from {remote}, {held}: {server} listened on {} until {}, and the connection outlived its listener.",
            gone.socket.local_endpoint(),
            gone.time.clock()
        );
    }
    let ephemeral = |port: u16| {
        facts
            .ephemeral
            .is_some_and(|(low, high)| (low..=high).contains(&port))
    };
    let likely = match (ephemeral(s.local_port), ephemeral(remote_port)) {
        (true, false) => format!(
            " Port {} lies in the ephemeral range, where the OS picks clients' ports, so this is most likely the client end.",
            s.local_port
        ),
        (false, true) => format!(
            " Port {remote_port} lies in the ephemeral range, where the OS picks clients' ports, so this is most likely the server end, its listener gone."
        ),
        _ => String::new(),
    };
    let far = if peer.is_some() {
        "the other end is here too, and nothing listens on its port either"
    } else {
        "the far end is not a socket loopwatch sees"
    };
    format!(
        "This is one end of a connection with {remote}{place}, {held}. Which side opened it cannot be told: nothing listens on port {} here now, and {far}.{likely}{service}",
        s.local_port
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Stamp;
    use crate::model::fixtures::{
        connection, hidden_listener, listener, owner, sample_snapshot, tunnels, udp,
    };

    fn facts() -> SystemFacts {
        SystemFacts::linux_defaults()
    }

    fn find(all: &[Socket], addr: &str, port: u16) -> Socket {
        let addr: IpAddr = addr.parse().unwrap();
        all.iter()
            .find(|s| s.local_addr == addr && s.local_port == port)
            .cloned()
            .unwrap()
    }

    fn text_of(s: &Socket, all: &[Socket]) -> String {
        socket(s, all, &facts(), &[]).to_text(100)
    }

    #[test]
    fn hidden_owners_are_counted_in_one_sentence() {
        assert_eq!(hidden_owners(0), None);
        assert_eq!(
            hidden_owners(1).as_deref(),
            Some("the owner of 1 socket is hidden: run as root to see it")
        );
        assert_eq!(
            hidden_owners(12).as_deref(),
            Some("owners of 12 sockets are hidden: run as root to see them")
        );
        assert_eq!(hidden_owners_short(3), "3 owners hidden: run as root");
    }

    #[test]
    fn the_port_table_parses_and_says_usually() {
        assert_eq!(usual_service(5432, Proto::Tcp), Some("PostgreSQL"));
        assert_eq!(
            usual_service(5353, Proto::Udp),
            Some("mDNS (Avahi, Bonjour)")
        );
        assert_eq!(usual_service(5353, Proto::Tcp), None);
        assert!(usual_service(53, Proto::Tcp).is_some() && usual_service(53, Proto::Udp).is_some());
        for port in [
            22, 53, 80, 443, 3000, 5000, 5173, 5432, 6379, 8000, 8080, 9229, 27017,
        ] {
            assert!(usual_service(port, Proto::Tcp).is_some(), "{port}");
        }
    }

    #[test]
    fn every_state_has_its_sentence_under_its_own_name() {
        for state in SocketState::ALL
            .into_iter()
            .filter(|&s| s != SocketState::Unknown)
        {
            let sentence = state_sentence(Proto::Tcp, state);
            assert!(
                sentence.starts_with(&format!("{}: ", state.as_str())),
                "{state:?}: {sentence}"
            );
        }
        assert_ne!(
            state_sentence(Proto::Udp, SocketState::Established),
            state_sentence(Proto::Tcp, SocketState::Established),
            "a connected UDP socket is not a TCP connection"
        );
    }

    #[test]
    fn loopback_listener_on_ipv4_only() {
        let all = sample_snapshot().sockets;
        insta::assert_snapshot!(text_of(&find(&all, "127.0.0.1", 5432), &all));
    }

    #[test]
    fn loopback_listener_on_both_families() {
        let all = sample_snapshot().sockets;
        insta::assert_snapshot!(text_of(&find(&all, "::1", 5173), &all));
    }

    #[test]
    fn wildcard_ipv4_listener_warns_and_lists_shared_holders() {
        let all = sample_snapshot().sockets;
        let e = socket(&find(&all, "0.0.0.0", 8080), &all, &facts(), &[]);
        assert!(
            e.paragraphs
                .iter()
                .any(|p| p.warning && p.topic == Topic::Address)
        );
        insta::assert_snapshot!(e.to_text(100));
    }

    #[test]
    fn wildcard_ipv6_listener_per_dual_stack_setting() {
        let all = sample_snapshot().sockets;
        let debugger = find(&all, "::", 9229);
        insta::assert_snapshot!(text_of(&debugger, &all));
        let v6only = SystemFacts {
            bindv6only: Some(true),
            ..facts()
        };
        let text = socket(&debugger, &all, &v6only, &[]).to_text(100);
        assert!(text.contains("accepts IPv6 only"), "{text}");
        let unknown = socket(&debugger, &all, &SystemFacts::default(), &[]).to_text(100);
        assert!(unknown.contains("cannot read here"), "{unknown}");
        assert!(!unknown.contains("ephemeral"), "{unknown}");
    }

    #[test]
    fn ipv6_only_loopback_listener() {
        let all = vec![listener(
            "::1",
            8000,
            vec![owner(
                300,
                "python3",
                "ana",
                "python3 -m http.server --bind ::1",
            )],
        )];
        insta::assert_snapshot!(text_of(&all[0], &all));
    }

    #[test]
    fn specific_address_of_this_host() {
        let all = vec![listener(
            "192.168.1.20",
            8443,
            vec![owner(3000, "caddy", "caddy", "caddy run")],
        )];
        insta::assert_snapshot!(text_of(&all[0], &all));
    }

    #[test]
    fn udp_in_the_well_known_range() {
        let all = sample_snapshot().sockets;
        insta::assert_snapshot!(text_of(&find(&all, "127.0.0.53", 53), &all));
    }

    #[test]
    fn forwarders_say_where_their_ports_lead() {
        let mut all = tunnels().sockets;
        forward::attach(&mut all);
        let texts: Vec<String> = [15432, 1080, 25432, 8081, 18080]
            .iter()
            .map(|&p| port(p, &all, &facts()).to_text(100))
            .collect();
        insta::assert_snapshot!(texts.join("\n"));
        let forwards = |p: u16| {
            port(p, &all, &facts())
                .paragraphs
                .into_iter()
                .filter(|p| p.topic == Topic::Forward)
                .map(|p| p.text)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            forwards(15432),
            [
                "ssh 4120 forwards 127.0.0.1:15432 to db.internal:5432 as seen from bastion via jump.example (ssh -L): connections here reach that remote service through the ssh connection. Stopping ssh 4120 ends the tunnel, not the service."
            ]
        );
        assert_eq!(forwards(1080).len(), 1, "one paragraph for both families");
        assert!(forwards(3000).is_empty());
        let one = socket(&find(&all, "127.0.0.1", 25432), &all, &facts(), &[]);
        assert_eq!(
            one.paragraphs[1].topic,
            Topic::Forward,
            "right after who holds it"
        );
        assert!(
            one.paragraphs[1]
                .text
                .contains("port 5432 of svc/postgres in namespace shop")
        );
    }

    #[test]
    fn hidden_owner() {
        let all = vec![hidden_listener("127.0.0.1", 6379, 110, "redis")];
        insta::assert_snapshot!(text_of(&all[0], &all));
    }

    #[test]
    fn client_end_of_a_connection_names_both_processes() {
        let all = sample_snapshot().sockets;
        let client = find(&all, "127.0.0.1", 62893);
        let e = socket(&client, &all, &facts(), &[]);
        assert!(
            e.paragraphs.iter().any(|p| p.text.contains(
                "the client end of a connection to 127.0.0.1:5173, held by curl 7001; the server is node 4812"
            )),
            "{e:?}"
        );
        insta::assert_snapshot!(e.to_text(100));
    }

    #[test]
    fn server_end_of_a_connection() {
        let all = sample_snapshot().sockets;
        let server_end = all
            .iter()
            .find(|s| s.local_port == 5173 && s.remote.is_some())
            .unwrap();
        insta::assert_snapshot!(text_of(server_end, &all));
    }

    /// A server that closed first leaves TIME_WAIT on its own port: with the listener in the
    /// history, that is said; without it, the side is not guessed.
    #[test]
    fn time_wait_left_by_a_server_that_closed_first() {
        let left = connection(
            ("127.0.0.1", 8000),
            ("127.0.0.1", 45000),
            SocketState::TimeWait,
            vec![],
        );
        let all = vec![left.clone()];
        let unknown = socket(&left, &all, &facts(), &[]).to_text(400);
        assert!(
            unknown.contains("Which side opened it cannot be told"),
            "{unknown}"
        );
        assert!(
            !unknown.contains("client end of a connection to"),
            "{unknown}"
        );
        assert!(
            unknown.contains("Port 45000 lies in the ephemeral range, where the OS picks clients' ports, so this is most likely the server end"),
            "{unknown}"
        );
        let server = listener(
            "127.0.0.1",
            8000,
            vec![owner(600, "python3", "ana", "python3 -m http.server")],
        );
        let closed = Event {
            time: Stamp::at_secs(14 * 3600 + 3 * 60 + 41),
            kind: crate::domain::history::EventKind::Closed,
            socket: server,
            previous_owners: [].into(),
        };
        let known = socket(&left, &all, &facts(), &[&closed]).to_text(200);
        assert!(
            known.contains("This is most likely the server end of a connection from 127.0.0.1:45000, no longer held by any process: python3 600 listened on 127.0.0.1:8000 until 14:03:41"),
            "{known}"
        );
    }

    fn resolving(first: &str, v4: bool, v6: bool) -> SystemFacts {
        SystemFacts {
            localhost: Some(crate::model::Localhost {
                first: first.parse().unwrap(),
                v4,
                v6,
                hosts_file: Some((v4, v6)),
            }),
            ..facts()
        }
    }

    /// The client side of "connection refused": what `localhost` resolves to here, against
    /// the family that is bound.
    #[test]
    fn localhost_resolution_decides_who_is_refused() {
        let ipv4_only = vec![listener(
            "127.0.0.1",
            3000,
            vec![owner(1, "node", "a", "node")],
        )];
        let refused = port(3000, &ipv4_only, &resolving("::1", true, true)).to_text(300);
        assert!(
            refused.contains("Only IPv4 is bound on port 3000, but `localhost` resolves to ::1 first, then 127.0.0.1 (the resolver's order; /etc/hosts maps it to both) here: a client that tries only the first address (Node.js 17 to 19, many HTTP libraries) gets \"connection refused\" at localhost:3000"),
            "{refused}"
        );
        let reached = port(3000, &ipv4_only, &resolving("127.0.0.1", true, false)).to_text(300);
        assert!(
            reached.contains("Only IPv4 is bound on port 3000, and `localhost` resolves to 127.0.0.1 only (the resolver's order; /etc/hosts maps it to IPv4 only) here, so clients of localhost:3000 reach it."),
            "{reached}"
        );
        let ipv6_only = vec![listener("::1", 3000, vec![owner(1, "node", "a", "node")])];
        let other_way = port(3000, &ipv6_only, &resolving("127.0.0.1", true, true)).to_text(300);
        assert!(
            other_way.contains("Only IPv6 is bound on port 3000, but `localhost` resolves to 127.0.0.1 first, then ::1"),
            "{other_way}"
        );
        assert!(
            other_way.contains("Connect to [::1] explicitly, or bind 127.0.0.1 too."),
            "{other_way}"
        );
    }

    #[test]
    fn time_wait_held_by_the_kernel() {
        let all = sample_snapshot().sockets;
        insta::assert_snapshot!(text_of(&find(&all, "127.0.0.1", 41000), &all));
    }

    #[test]
    fn close_wait_to_another_machine() {
        let all = vec![connection(
            ("10.0.0.5", 50544),
            ("93.184.216.34", 443),
            SocketState::CloseWait,
            vec![owner(900, "firefox", "ana", "firefox")],
        )];
        insta::assert_snapshot!(text_of(&all[0], &all));
    }

    #[test]
    fn free_ports_say_whether_binding_needs_privilege() {
        let all = sample_snapshot().sockets;
        insta::assert_snapshot!(port(80, &all, &facts()).to_text(100));
        let high = port(40000, &all, &facts()).to_text(100);
        assert!(high.contains("Nothing holds port 40000"), "{high}");
        assert!(high.contains("Any user may bind it"), "{high}");
        assert!(high.contains("ephemeral range (32768-60999)"), "{high}");
        let open = SystemFacts {
            unprivileged_port_start: Some(0),
            ..facts()
        };
        assert!(
            port(80, &all, &open)
                .to_text(100)
                .contains("Any user may bind it")
        );
    }

    #[test]
    fn a_port_with_listeners_and_connections() {
        let all = sample_snapshot().sockets;
        insta::assert_snapshot!(port(5173, &all, &facts()).to_text(100));
    }

    #[test]
    fn a_port_that_is_only_a_client_end() {
        let all = sample_snapshot().sockets;
        let e = port(62893, &all, &facts());
        assert!(
            e.paragraphs
                .iter()
                .any(|p| p.text.contains("the server is node 4812"))
        );
        assert!(!e.paragraphs.iter().any(|p| p.topic == Topic::Service));
    }

    #[test]
    fn udp_and_tcp_on_one_port_get_a_family_note_each() {
        let all = vec![
            udp("127.0.0.1", 5000, vec![owner(1, "a", "ana", "a")]),
            listener("0.0.0.0", 5000, vec![owner(2, "b", "ana", "b")]),
        ];
        let e = port(5000, &all, &facts());
        assert_eq!(
            e.paragraphs
                .iter()
                .filter(|p| p.topic == Topic::Family)
                .count(),
            2
        );
    }
}
