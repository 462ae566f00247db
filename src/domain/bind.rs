//! Why a server cannot bind a port, from the binds loopwatch really tried and the sockets on
//! the port: a listener on the same or a wildcard address, the other family's dual-stack `::`,
//! TIME_WAIT, a socket bound without listening, a client's source port, a reuse-port group, a
//! privileged port, or something that cannot be seen. Pure: attempts and sockets in, sentences
//! out.

use std::net::IpAddr;

use super::explain::{Explanation, Topic};
use crate::model::{
    BindAttempt, BindOutcome, Proto, Socket, SocketState, SystemFacts, UnknownOwner,
    format_endpoint, owners_label,
};

/// How many sockets one sentence names before it says how many more there are.
const NAMED: usize = 3;

/// Servers that set `SO_REUSEADDR` before they bind, so TIME_WAIT never stops them.
const REUSING_SERVERS: &str = "nginx, Node.js, Go's net.Listen, Rust's TcpListener, Java, Redis, PostgreSQL and Python's http.server do";

/// What the bind attempts found, as paragraphs appended to `e`. `uid` is the user the
/// attempts ran as (a privileged port is privileged for that user).
pub(crate) fn explain(
    e: &mut Explanation,
    port: u16,
    attempts: &[BindAttempt],
    on_port: &[&Socket],
    facts: &SystemFacts,
    uid: Option<u32>,
) {
    if attempts.is_empty() {
        return;
    }
    e.push(Topic::Bind, summary(port, attempts));
    let dual_stack_probe = facts.bindv6only == Some(false);
    // Failures with the same cause are said once, naming every bind they stop.
    let mut causes: Vec<(String, Vec<String>)> = Vec::new();
    let mut time_wait_seen = false;
    for attempt in attempts.iter().filter(|a| !a.reuse_addr) {
        if attempt.outcome.is_bound() {
            continue;
        }
        let with_reuse = attempts
            .iter()
            .find(|a| a.reuse_addr && a.proto == attempt.proto && a.addr == attempt.addr)
            .map(|a| &a.outcome);
        let cause = match &attempt.outcome {
            BindOutcome::InUse => {
                let blockers = blockers(attempt, on_port, dual_stack_probe);
                time_wait_seen |= blockers.time_wait > 0 && blockers.holders.is_empty();
                in_use(port, attempt.proto, &blockers, with_reuse, facts)
            }
            BindOutcome::Denied => privileged(port, facts, uid),
            BindOutcome::Unavailable => format!(
                "{} is not an address of this machine right now, so nothing can bind it (is IPv6 off on the loopback interface?).",
                attempt.addr
            ),
            BindOutcome::NoFamily => "IPv6 is not available on this system.".to_string(),
            BindOutcome::Other(error) => format!("the OS refused: {error}."),
            BindOutcome::Bound => continue,
        };
        let bind = format!("{} {}", attempt.proto, format_endpoint(attempt.addr, port));
        match causes.iter_mut().find(|(text, _)| *text == cause) {
            Some((_, binds)) => binds.push(bind),
            None => causes.push((cause, vec![bind])),
        }
    }
    for (cause, binds) in causes {
        let verb = if binds.len() == 1 { "fails" } else { "fail" };
        e.warn(Topic::Bind, format!("{} {verb}: {cause}", and_list(&binds)));
    }
    if time_wait_seen {
        e.push(
            Topic::Bind,
            format!(
                "TIME_WAIT is the kernel keeping a closed connection's addresses for about a minute to catch late packets; nothing can be stopped to free it. Servers that set SO_REUSEADDR before binding ({REUSING_SERVERS}) bind anyway when those connections' sockets set it too; a program that calls bind() without it (plain C, Python's socket module) gets \"address already in use\" until they expire."
            ),
        );
    }
    reuse_port_groups(e, port, on_port);
    v6_only_listeners(e, port, attempts, on_port);
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `tcp: 127.0.0.1 in use, ::1 free, ...` for each protocol, or `free on all four addresses`.
fn summary(port: u16, attempts: &[BindAttempt]) -> String {
    let mut parts = Vec::new();
    for proto in [Proto::Tcp, Proto::Udp] {
        let plain: Vec<&BindAttempt> = attempts
            .iter()
            .filter(|a| a.proto == proto && !a.reuse_addr)
            .collect();
        if plain.is_empty() {
            continue;
        }
        if plain.iter().all(|a| a.outcome.is_bound()) {
            parts.push(format!("{proto} free on all {} addresses", plain.len()));
            continue;
        }
        let each: Vec<String> = plain
            .iter()
            .map(|a| {
                let reused = attempts
                    .iter()
                    .find(|r| r.reuse_addr && r.proto == a.proto && r.addr == a.addr)
                    .is_some_and(|r| r.outcome.is_bound());
                if !a.outcome.is_bound() && reused {
                    format!("{} {} (binds with SO_REUSEADDR)", a.addr, a.outcome.short())
                } else {
                    format!("{} {}", a.addr, a.outcome.short())
                }
            })
            .collect();
        parts.push(format!("{proto} {}", each.join(", ")));
    }
    format!(
        "Binding port {port} now, as a server would (each socket closed at once, never listening): {}.",
        parts.join("; ")
    )
}

/// How a socket on the port stands in the way of a bind to an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Overlap {
    /// The very address.
    Same,
    /// The holder is the wildcard of the bind's family.
    HolderWildcard,
    /// The holder is `::`, which takes IPv4 too unless it is IPv6-only.
    HolderDualStack,
    /// The bind is a wildcard over the holder's address.
    BindWildcard,
    /// The bind is `::`, which takes IPv4 too on this system.
    BindDualStack,
}

fn overlap(holder: IpAddr, bind: IpAddr, dual_stack_bind: bool) -> Option<Overlap> {
    if holder == bind {
        return Some(Overlap::Same);
    }
    if holder.is_ipv4() == bind.is_ipv4() {
        return if holder.is_unspecified() {
            Some(Overlap::HolderWildcard)
        } else if bind.is_unspecified() {
            Some(Overlap::BindWildcard)
        } else {
            None
        };
    }
    if holder.is_ipv6() && holder.is_unspecified() {
        Some(Overlap::HolderDualStack)
    } else if bind.is_ipv6() && bind.is_unspecified() && dual_stack_bind {
        Some(Overlap::BindDualStack)
    } else {
        None
    }
}

/// The sockets on the port that stand in the way of one bind, by kind.
#[derive(Debug, Default)]
struct Blockers<'s> {
    /// Listeners, bound UDP sockets and TCP sockets bound without listening, with how.
    holders: Vec<(&'s Socket, Overlap)>,
    /// Connection ends in TIME_WAIT.
    time_wait: usize,
    /// Other connection ends using the port as their local port.
    connections: Vec<&'s Socket>,
}

fn blockers<'s>(
    attempt: &BindAttempt,
    on_port: &[&'s Socket],
    dual_stack_bind: bool,
) -> Blockers<'s> {
    let mut found = Blockers::default();
    let mut dual_stack = Vec::new();
    for &socket in on_port.iter().filter(|s| s.proto == attempt.proto) {
        let Some(how) = overlap(socket.local_addr, attempt.addr, dual_stack_bind) else {
            continue;
        };
        if socket.state.is_listening() {
            // A `::` holder covers IPv4 only if it is dual-stack, which only the failure tells:
            // it is named when nothing of the bind's own family explains it.
            if how == Overlap::HolderDualStack {
                dual_stack.push((socket, how));
            } else {
                found.holders.push((socket, how));
            }
        } else if socket.state == SocketState::TimeWait {
            found.time_wait += 1;
        } else if how != Overlap::HolderDualStack {
            found.connections.push(socket);
        }
    }
    if found.holders.is_empty() {
        found.holders = dual_stack;
    }
    found
}

/// A TCP socket bound to the port but neither listening nor connected.
fn is_bound_only(socket: &Socket) -> bool {
    socket.proto == Proto::Tcp && socket.state == SocketState::Bound
}

/// Why a bind met "address already in use".
fn in_use(
    port: u16,
    proto: Proto,
    blockers: &Blockers,
    with_reuse: Option<&BindOutcome>,
    facts: &SystemFacts,
) -> String {
    let reuse_binds = with_reuse.is_some_and(BindOutcome::is_bound);
    if !blockers.holders.is_empty() {
        // A reuse-port group's sockets read alike: each sentence once.
        let mut said: Vec<String> = Vec::new();
        for &(socket, how) in &blockers.holders {
            let sentence = holder_sentence(socket, how, facts);
            if !said.contains(&sentence) {
                said.push(sentence);
            }
        }
        let more = said.len().saturating_sub(NAMED);
        said.truncate(NAMED);
        if more > 0 {
            said.push(format!("and {more} more"));
        }
        let mut text = format!("{}.", said.join("; "));
        if proto == Proto::Udp && reuse_binds {
            text.push_str(" They set SO_REUSEADDR, so another socket that sets it too binds beside them (it did here) and the datagrams are shared.");
        }
        return text;
    }
    if !blockers.connections.is_empty() {
        let mut said: Vec<String> = blockers
            .connections
            .iter()
            .take(NAMED)
            .map(|socket| {
                let remote = socket.remote.map_or_else(String::new, |(a, p)| {
                    format!(" → {}", format_endpoint(a, p))
                });
                format!(
                    "{} {}{remote} ({})",
                    who(socket),
                    socket.local_endpoint(),
                    socket.state
                )
            })
            .collect();
        if blockers.connections.len() > NAMED {
            said.push(format!("and {} more", blockers.connections.len() - NAMED));
        }
        let ephemeral = match facts.ephemeral {
            Some((low, high)) if (low..=high).contains(&port) => format!(
                " Port {port} lies in this system's ephemeral range ({low}-{high}), which the OS hands to outgoing connections: a server that needs a fixed port is safer outside it."
            ),
            _ => String::new(),
        };
        return format!(
            "a connection uses port {port} as its own local port: {}. The port is free again once that connection closes.{ephemeral}",
            said.join("; ")
        );
    }
    if blockers.time_wait > 0 {
        let n = blockers.time_wait;
        let (connections, keep) = if n == 1 {
            ("1 connection".to_string(), "keeps")
        } else {
            (format!("{n} connections"), "keep")
        };
        return if reuse_binds {
            format!(
                "{connections} in TIME_WAIT on port {port} {keep} it reserved for up to a minute; with SO_REUSEADDR the bind succeeds (it did here)."
            )
        } else {
            format!(
                "{connections} in TIME_WAIT on port {port} {keep} it reserved, and SO_REUSEADDR does not help here: those connections' own sockets did not set it. It frees itself about a minute after they closed."
            )
        };
    }
    format!(
        "no socket on port {port} that loopwatch can see covers it, so something that cannot be seen from here holds it (a socket that closed a moment ago, or one in a part of the system this user cannot see): the port is not free."
    )
}

/// `node 4812 listens on 0.0.0.0:3000, which covers every IPv4 address`.
fn holder_sentence(socket: &Socket, how: Overlap, facts: &SystemFacts) -> String {
    let who = who(socket);
    let verb = if socket.state == SocketState::Listen {
        "listens on"
    } else if is_bound_only(socket) {
        "has bound, without listening,"
    } else {
        "has bound"
    };
    let at = socket.local_endpoint();
    let family = if socket.local_addr.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    };
    match how {
        Overlap::Same => format!("{who} already {verb} {at}"),
        Overlap::HolderWildcard => {
            format!("{who} {verb} {at}, which covers every {family} address")
        }
        Overlap::HolderDualStack => format!(
            "{who} {verb} {at}, a dual-stack socket that takes IPv4 too{}",
            match facts.bindv6only {
                Some(false) => " (net.ipv6.bindv6only = 0 here)",
                _ => "",
            }
        ),
        Overlap::BindWildcard => format!("a wildcard would overlap {at}, which {who} holds"),
        Overlap::BindDualStack => format!(
            "a socket on :: takes IPv4 too here (net.ipv6.bindv6only = 0), and {who} holds {at}"
        ),
    }
}

/// `node 4812`, or why the holder is not shown.
fn who(socket: &Socket) -> String {
    if let Some(label) = owners_label(&socket.owners) {
        return label;
    }
    let of_user = socket
        .user
        .as_ref()
        .map_or_else(String::new, |user| format!(" of user {user}"));
    match socket.unknown {
        Some(UnknownOwner::PermissionDenied) => {
            format!("a process{of_user} (hidden: run as root to see it)")
        }
        Some(UnknownOwner::Kernel) => "the kernel".to_string(),
        Some(UnknownOwner::Nat) => socket.process_label(),
        Some(UnknownOwner::OutOfDescriptors) => format!(
            "a socket{of_user} whose process loopwatch could not look for (out of file descriptors: raise ulimit -n)"
        ),
        Some(UnknownOwner::NotFound) => format!(
            "a socket{of_user} whose process is not visible here (another container or PID namespace, or it just closed)"
        ),
        // `why` reads owners before it answers; a first look of the live table is never here.
        Some(UnknownOwner::Unsupported | UnknownOwner::Reading) | None => {
            format!("a socket{of_user}")
        }
    }
}

fn privileged(port: u16, facts: &SystemFacts, uid: Option<u32>) -> String {
    let user = uid.map_or_else(String::new, |uid| format!(" (tried as uid {uid})"));
    match facts.unprivileged_port_start {
        Some(start) if port < start => format!(
            "port {port} needs privilege{user}: ports below {start} need root or CAP_NET_BIND_SERVICE on this system (net.ipv4.ip_unprivileged_port_start = {start})."
        ),
        _ => format!("the OS refused permission to bind port {port}{user}."),
    }
}

/// Several listeners on one address and port can only be a SO_REUSEPORT group.
fn reuse_port_groups(e: &mut Explanation, port: u16, on_port: &[&Socket]) {
    let mut seen: Vec<(Proto, IpAddr)> = Vec::new();
    for socket in on_port
        .iter()
        .filter(|s| s.proto == Proto::Tcp && s.state == SocketState::Listen)
    {
        let at = (socket.proto, socket.local_addr);
        if seen.contains(&at) {
            continue;
        }
        seen.push(at);
        let group: Vec<&&Socket> = on_port
            .iter()
            .filter(|s| s.proto == at.0 && s.local_addr == at.1 && s.state == SocketState::Listen)
            .collect();
        if group.len() < 2 {
            continue;
        }
        let users: Vec<String> = group.iter().map(|s| s.user_label()).collect();
        let mut holders: Vec<String> = group.iter().map(|s| who(s)).collect();
        holders.dedup();
        e.push(
            Topic::Bind,
            format!(
                "{} sockets listen on {} together, held by {}: a SO_REUSEPORT group. Only a server of the same user ({}) that also sets SO_REUSEPORT can join it, and it then takes a share of the connections; any other bind gets \"address already in use\".",
                group.len(),
                format_endpoint(at.1, port),
                holders.join(", "),
                users.first().map_or("-", String::as_str)
            ),
        );
    }
}

/// A `::` listener that did not stop an IPv4 bind is IPv6-only: worth saying, since a
/// dual-stack one would have.
fn v6_only_listeners(
    e: &mut Explanation,
    port: u16,
    attempts: &[BindAttempt],
    on_port: &[&Socket],
) {
    for socket in on_port.iter().filter(|s| {
        s.state.is_listening() && s.local_addr.is_ipv6() && s.local_addr.is_unspecified()
    }) {
        let v4_free = attempts.iter().any(|a| {
            a.proto == socket.proto && !a.reuse_addr && a.addr.is_ipv4() && a.outcome.is_bound()
        });
        let v4_held = on_port
            .iter()
            .any(|s| s.proto == socket.proto && s.local_addr.is_ipv4());
        if v4_free && !v4_held {
            e.push(
                Topic::Bind,
                format!(
                    "{} on {} is IPv6-only (IPV6_V6ONLY): an IPv4 bind on port {port} succeeds beside it.",
                    who(socket),
                    socket.local_endpoint()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::{connection, hidden_listener, listener, owner, socket, udp};

    const ADDRS: [&str; 4] = ["127.0.0.1", "::1", "0.0.0.0", "::"];

    /// Attempts where the binds in `failing` (proto, address, with reuse) meet `outcome` and
    /// every other bind succeeds.
    fn attempts(failing: &[(Proto, &str, bool)], outcome: &BindOutcome) -> Vec<BindAttempt> {
        let mut all = Vec::new();
        for proto in [Proto::Tcp, Proto::Udp] {
            for addr in ADDRS {
                for reuse_addr in [false, true] {
                    let fails = failing.contains(&(proto, addr, reuse_addr));
                    all.push(BindAttempt {
                        proto,
                        addr: addr.parse().unwrap(),
                        reuse_addr,
                        outcome: if fails {
                            outcome.clone()
                        } else {
                            BindOutcome::Bound
                        },
                    });
                }
            }
        }
        all
    }

    fn text(port: u16, attempts: &[BindAttempt], on_port: &[Socket]) -> String {
        let mut e = Explanation {
            title: format!("port {port}"),
            paragraphs: Vec::new(),
        };
        let refs: Vec<&Socket> = on_port.iter().collect();
        explain(
            &mut e,
            port,
            attempts,
            &refs,
            &SystemFacts::linux_defaults(),
            Some(1000),
        );
        e.to_text(2000)
    }

    fn both(addr: &'static str) -> [(Proto, &'static str, bool); 2] {
        [(Proto::Tcp, addr, false), (Proto::Tcp, addr, true)]
    }

    #[test]
    fn a_free_port_says_so_in_one_line() {
        let out = text(3000, &attempts(&[], &BindOutcome::InUse), &[]);
        assert!(
            out.contains("tcp free on all 4 addresses; udp free on all 4 addresses"),
            "{out}"
        );
        assert!(!out.contains("fails"), "{out}");
    }

    #[test]
    fn a_wildcard_listener_covers_the_loopback_address() {
        let node = owner(4812, "node", "alice", "node server.js");
        let failing: Vec<_> = [both("127.0.0.1"), both("0.0.0.0"), both("::")].concat();
        let out = text(
            3000,
            &attempts(&failing, &BindOutcome::InUse),
            &[listener("0.0.0.0", 3000, vec![node])],
        );
        assert!(
            out.contains("tcp 127.0.0.1:3000 fails: node 4812 listens on 0.0.0.0:3000, which covers every IPv4 address."),
            "{out}"
        );
        assert!(
            out.contains("tcp 0.0.0.0:3000 fails: node 4812 already listens on 0.0.0.0:3000."),
            "{out}"
        );
        assert!(
            out.contains("tcp [::]:3000 fails: a socket on :: takes IPv4 too here (net.ipv6.bindv6only = 0), and node 4812 holds 0.0.0.0:3000."),
            "{out}"
        );
        assert!(out.contains("::1 free"), "{out}");
    }

    #[test]
    fn a_dual_stack_listener_is_named_for_the_ipv4_binds() {
        let java = owner(700, "java", "bob", "java -jar app.jar");
        let failing: Vec<_> = ADDRS.iter().flat_map(|a| both(a)).collect();
        let out = text(
            8080,
            &attempts(&failing, &BindOutcome::InUse),
            &[listener("::", 8080, vec![java])],
        );
        assert!(
            out.contains("tcp 127.0.0.1:8080 and tcp 0.0.0.0:8080 fail: java 700 listens on [::]:8080, a dual-stack socket that takes IPv4 too (net.ipv6.bindv6only = 0 here)."),
            "{out}"
        );
        assert!(
            out.contains("tcp [::1]:8080 fails: java 700 listens on [::]:8080, which covers every IPv6 address."),
            "{out}"
        );
    }

    #[test]
    fn an_ipv6_only_wildcard_is_told_by_the_free_ipv4_binds() {
        let failing: Vec<_> = [both("::1"), both("::")].concat();
        let out = text(
            8080,
            &attempts(&failing, &BindOutcome::InUse),
            &[listener(
                "::",
                8080,
                vec![owner(700, "java", "bob", "java")],
            )],
        );
        assert!(
            out.contains("java 700 on [::]:8080 is IPv6-only (IPV6_V6ONLY)"),
            "{out}"
        );
        assert!(!out.contains("tcp 127.0.0.1:8080 fails"), "{out}");
    }

    #[test]
    fn time_wait_is_harmless_with_reuse_and_said_so() {
        let failing = [
            (Proto::Tcp, "127.0.0.1", false),
            (Proto::Tcp, "0.0.0.0", false),
            (Proto::Tcp, "::", false),
        ];
        let tw = connection(
            ("127.0.0.1", 5000),
            ("127.0.0.1", 40000),
            SocketState::TimeWait,
            vec![],
        );
        let out = text(5000, &attempts(&failing, &BindOutcome::InUse), &[tw]);
        assert!(
            out.contains("tcp 127.0.0.1:5000, tcp 0.0.0.0:5000 and tcp [::]:5000 fail: 1 connection in TIME_WAIT on port 5000 keeps it reserved for up to a minute; with SO_REUSEADDR the bind succeeds (it did here)."),
            "{out}"
        );
        assert!(
            out.contains("127.0.0.1 in use (binds with SO_REUSEADDR)"),
            "{out}"
        );
        assert!(out.contains("Servers that set SO_REUSEADDR"), "{out}");
    }

    #[test]
    fn time_wait_that_reuse_cannot_pass_is_told_apart() {
        let failing: Vec<_> = both("127.0.0.1").to_vec();
        let tw = connection(
            ("127.0.0.1", 40000),
            ("127.0.0.1", 5432),
            SocketState::TimeWait,
            vec![],
        );
        let out = text(40000, &attempts(&failing, &BindOutcome::InUse), &[tw]);
        assert!(
            out.contains(
                "SO_REUSEADDR does not help here: those connections' own sockets did not set it"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_clients_source_port_is_named_with_its_connection() {
        let curl = owner(7001, "curl", "alice", "curl localhost:3000");
        let client = connection(
            ("127.0.0.1", 45000),
            ("127.0.0.1", 3000),
            SocketState::Established,
            vec![curl],
        );
        let failing: Vec<_> = [both("127.0.0.1"), both("0.0.0.0")].concat();
        let out = text(45000, &attempts(&failing, &BindOutcome::InUse), &[client]);
        assert!(
            out.contains("a connection uses port 45000 as its own local port: curl 7001 127.0.0.1:45000 → 127.0.0.1:3000 (ESTABLISHED)"),
            "{out}"
        );
        assert!(out.contains("ephemeral range (32768-60999)"), "{out}");
    }

    #[test]
    fn a_socket_bound_without_listening_holds_the_port() {
        let python = owner(900, "python3", "alice", "python3 half.py");
        let bound = socket(
            Proto::Tcp,
            "127.0.0.1",
            6000,
            SocketState::Bound,
            vec![python],
        );
        let out = text(
            6000,
            &attempts(&both("127.0.0.1"), &BindOutcome::InUse),
            &[bound],
        );
        assert!(
            out.contains("python3 900 already has bound, without listening, 127.0.0.1:6000."),
            "{out}"
        );
    }

    #[test]
    fn a_reuse_port_group_is_named() {
        let a = owner(10, "nginx", "www", "nginx: worker");
        let b = owner(11, "nginx", "www", "nginx: worker");
        let mut first = listener("127.0.0.1", 8443, vec![a]);
        first.inode = 1;
        let mut second = listener("127.0.0.1", 8443, vec![b]);
        second.inode = 2;
        let out = text(
            8443,
            &attempts(&both("127.0.0.1"), &BindOutcome::InUse),
            &[first, second],
        );
        assert!(
            out.contains("2 sockets listen on 127.0.0.1:8443 together, held by nginx 10, nginx 11: a SO_REUSEPORT group. Only a server of the same user (www)"),
            "{out}"
        );
    }

    #[test]
    fn a_privileged_port_names_the_setting_once_for_every_bind() {
        let failing: Vec<(Proto, &str, bool)> = [Proto::Tcp, Proto::Udp]
            .into_iter()
            .flat_map(|p| {
                ADDRS
                    .into_iter()
                    .flat_map(move |a| [(p, a, false), (p, a, true)])
            })
            .collect();
        let out = text(80, &attempts(&failing, &BindOutcome::Denied), &[]);
        assert_eq!(out.matches("fail").count(), 1, "{out}");
        assert!(
            out.contains("udp 0.0.0.0:80 and udp [::]:80 fail: port 80 needs privilege (tried as uid 1000): ports below 1024 need root or CAP_NET_BIND_SERVICE on this system (net.ipv4.ip_unprivileged_port_start = 1024)."),
            "{out}"
        );
    }

    #[test]
    fn a_bind_nothing_visible_explains_is_not_called_free() {
        let out = text(
            7000,
            &attempts(&both("127.0.0.1"), &BindOutcome::InUse),
            &[],
        );
        assert!(
            out.contains("something that cannot be seen from here holds it"),
            "{out}"
        );
        assert!(out.contains("the port is not free"), "{out}");
    }

    #[test]
    fn a_hidden_owner_is_named_by_its_user() {
        let out = text(
            5432,
            &attempts(&both("127.0.0.1"), &BindOutcome::InUse),
            &[hidden_listener("127.0.0.1", 5432, 110, "postgres")],
        );
        assert!(
            out.contains("a process of user postgres (hidden: run as root to see it) already listens on 127.0.0.1:5432"),
            "{out}"
        );
    }

    #[test]
    fn udp_sharing_with_reuse_is_said() {
        let failing = [(Proto::Udp, "127.0.0.1", false)];
        let out = text(
            5353,
            &attempts(&failing, &BindOutcome::InUse),
            &[udp(
                "127.0.0.1",
                5353,
                vec![owner(5, "avahi", "avahi", "avahi")],
            )],
        );
        assert!(out.contains("They set SO_REUSEADDR"), "{out}");
    }

    #[test]
    fn hostile_names_stay_inert() {
        let evil = owner(66, "\u{1b}]0;pwn\u{7}", "x\u{202e}y", "evil");
        let out = text(
            9000,
            &attempts(&both("127.0.0.1"), &BindOutcome::InUse),
            &[listener("127.0.0.1", 9000, vec![evil])],
        );
        assert!(
            out.lines().all(|l| !l.chars().any(crate::model::is_unsafe)),
            "{out:?}"
        );
        assert!(out.contains(r"\e]0;pwn\x07 66"), "{out:?}");
    }
}
