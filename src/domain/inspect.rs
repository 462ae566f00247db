//! What the inspect view and the stop dialog say about a socket's owner, worked out from a
//! snapshot and the owner's [`ProcessDetails`]. Pure, so every sentence is unit-tested.

use std::net::IpAddr;
use std::time::Duration;

use super::forward;
use super::page::{self, Page};
use super::supervisor::{Behind, Supervision};
use crate::model::{
    Container, DetailsError, EngineView, Forwarder, Owner, ProcKey, ProcessDetails, Proto, Signal,
    Snapshot, Socket, SocketState, Target, UnknownOwner, format_endpoint, is_engine_proxy,
    process_label,
};

/// Other sockets held by the process: what else goes away when it stops, its listeners
/// first, each part in listing order.
pub(crate) fn other_sockets<'a>(
    snapshot: &'a Snapshot,
    key: ProcKey,
    except: &Socket,
) -> Vec<&'a Socket> {
    let except = except.key();
    let mut others: Vec<&Socket> = snapshot
        .sockets
        .iter()
        .filter(|s| s.key() != except && s.owners.iter().any(|o| o.key == key))
        .collect();
    others.sort_by_key(|s| !s.state.is_listening());
    others
}

/// The client ends of connections to a TCP listener: sockets whose remote end is the listener.
/// Only the client side is listed; the server's accepted sockets belong to the listener's owner.
pub(crate) fn clients<'a>(snapshot: &'a Snapshot, listener: &Socket) -> Vec<&'a Socket> {
    if listener.proto != Proto::Tcp || listener.state != SocketState::Listen {
        return Vec::new();
    }
    snapshot
        .sockets
        .iter()
        .filter(|s| {
            s.proto == Proto::Tcp
                && s.state == SocketState::Established
                && s.remote.is_some_and(|(addr, port)| {
                    port == listener.local_port && reaches(listener.local_addr, addr)
                })
        })
        .collect()
}

/// Whether a listener bound to `bound` accepts connections addressed to `to`.
fn reaches(bound: IpAddr, to: IpAddr) -> bool {
    bound == to || bound.is_unspecified()
}

/// The ports a process listens on, for the stop dialog: `tcp 127.0.0.1:3000`, one per socket.
pub(crate) fn listening_ports(snapshot: &Snapshot, key: ProcKey) -> Vec<String> {
    let mut ports: Vec<String> = snapshot
        .sockets
        .iter()
        .filter(|s| s.state.is_listening() && s.owners.iter().any(|o| o.key == key))
        .map(|s| format!("{} {}", s.proto, s.local_endpoint()))
        .collect();
    ports.sort();
    ports.dedup();
    ports
}

/// How many connection ends the process holds.
pub(crate) fn connection_count(snapshot: &Snapshot, key: ProcKey) -> usize {
    snapshot
        .sockets
        .iter()
        .filter(|s| !s.state.is_listening() && s.owners.iter().any(|o| o.key == key))
        .count()
}

/// `systemd 1 > tmux 900 > zsh 1201 > node 4812`: oldest first, ending with the process.
pub(crate) fn ancestry_line(details: &ProcessDetails) -> String {
    let mut parts: Vec<String> = details
        .ancestry
        .iter()
        .rev()
        .map(|a| process_label(&a.name, a.pid))
        .collect();
    parts.push(process_label(&details.name, details.key.pid));
    parts.join(" > ")
}

/// `3d 4h`, `2h 05m`, `4m 10s`, `12s`.
pub(crate) fn uptime(duration: Duration) -> String {
    let secs = duration.as_secs();
    let (days, hours, minutes, seconds) =
        (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes:02}m")
    } else if minutes > 0 {
        format!("{minutes}m {seconds:02}s")
    } else {
        format!("{seconds}s")
    }
}

/// `512 KiB`, `48.2 MiB`, `1.5 GiB`.
pub(crate) fn bytes(amount: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    #[allow(clippy::cast_precision_loss)] // a display value
    let mut value = amount as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The socket's reach, in words.
pub(crate) fn scope_sentence(socket: &Socket) -> &'static str {
    match socket.scope {
        crate::model::Scope::Loopback => "loopback: only this machine can connect",
        crate::model::Scope::AllInterfaces => {
            "all interfaces: reachable through loopback and from the network"
        }
        crate::model::Scope::ThisHost => {
            "one address of this host: reachable from its network, not through loopback"
        }
    }
}

/// What someone about to stop `target` for holding `socket` might not expect: that it is a
/// client rather than a server, that it forwards the port elsewhere (and what stopping it ends
/// and leaves running), or that other processes keep the socket open anyway.
pub(crate) fn stop_warnings(socket: &Socket, target: &Target) -> Vec<String> {
    let mut warnings = Vec::new();
    if !socket.state.is_listening() {
        warnings.push(format!(
            "port {} here is a connection end ({}), not a server: stopping {} ends more than this connection",
            socket.local_port, socket.state, target.name
        ));
    }
    warnings.extend(forward_warning(socket, target));
    let others = socket.owners.len().saturating_sub(1);
    if others > 0 {
        warnings.push(format!(
            "{others} other process(es) share this socket and keep it open; inspect (Enter, Tab) to pick another"
        ));
    }
    warnings
}

/// For a forwarder's socket: where the port leads, and that stopping `target` ends the tunnel
/// (and its other forwards) but not the service behind it.
pub(crate) fn forward_warning(socket: &Socket, target: &Target) -> Option<String> {
    let (Some(forward), None, Some(owner)) =
        (&socket.forward, &socket.container, socket.primary_owner())
    else {
        return None;
    };
    if owner.key != target.key {
        return None;
    }
    let others = forward::parse(&owner.argv).len().saturating_sub(1);
    Some(format!(
        "this port leads to {} ({}): {}",
        forward.target,
        forward.how(),
        forward::stop_text(
            forward,
            &process_label(&target.name, target.key.pid),
            others
        )
    ))
}

/// What the inspect view is about: a socket, which of its holders is shown, and what is known
/// about that process.
pub(crate) struct Subject<'a> {
    pub(crate) socket: &'a Socket,
    /// Index into `socket.owners`.
    pub(crate) holder: usize,
    /// The socket was not in the latest snapshot.
    pub(crate) closed: bool,
    /// The shown holder's details: `None` while they are being read.
    pub(crate) details: Option<&'a Result<ProcessDetails, DetailsError>>,
    /// Where the holder's other sockets and the listener's clients are found.
    pub(crate) snapshot: &'a Snapshot,
}

/// Every line of the inspect view, laid out to `width` columns (long values wrap under their
/// field): what the view draws and what the app scrolls through.
pub(crate) fn page(subject: &Subject, width: usize) -> Vec<page::Line> {
    let mut out = Page::new(width);
    let socket = subject.socket;
    let snapshot = subject.snapshot;

    out.heading("socket");
    if subject.closed {
        out.warning("this socket has closed since it was selected");
    }
    let family = if socket.local_addr.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    };
    out.field("protocol", &format!("{}, {family}", socket.proto));
    out.field(
        "local",
        &format!("{}  ({})", socket.local_endpoint(), scope_sentence(socket)),
    );
    if let Some((addr, port)) = socket.remote {
        out.field("remote", &format_endpoint(addr, port));
    }
    out.field("state", socket.state.as_str());
    if socket.inode != 0 {
        out.field("inode", &socket.inode.to_string());
    }
    holders(&mut out, socket, subject.holder);
    container_part(&mut out, socket, &snapshot.engine);
    forward_part(&mut out, socket);

    if let Some(owner) = socket.owners.get(subject.holder) {
        out.blank();
        out.heading(&format!("process {}", owner.label()));
        match subject.details {
            Some(Ok(details)) => {
                process(&mut out, details);
                managed_part(&mut out, details, &snapshot.engine);
            }
            Some(Err(error)) => out.warning(&gone_text(error)),
            None => out.dim("reading…"),
        }
        others_part(&mut out, snapshot, owner.key, socket);
    }
    clients_part(&mut out, snapshot, socket);
    out.into_lines()
}

fn holders(out: &mut Page, socket: &Socket, holder: usize) {
    match &socket.owners[..] {
        [] => {
            let reason = socket.unknown.map_or("unknown", UnknownOwner::explain);
            out.field("held by", &format!("unknown: {reason}"));
        }
        [one] => out.field("held by", &owner_text(one)),
        many => {
            let list: Vec<String> = many
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    let mark = if i == holder { "▸" } else { "·" };
                    format!("{mark} {}", owner_text(o))
                })
                .collect();
            out.field(
                "held by",
                &format!("{} processes share it (Tab shows the next)", many.len()),
            );
            for item in list {
                out.field("", &item);
            }
        }
    }
}

/// The container behind the socket, as the engine describes it; or, for an engine proxy's
/// socket the engine could not be asked about, why not.
fn container_part(out: &mut Page, socket: &Socket, engine: &EngineView) {
    let Some(container) = &socket.container else {
        let proxied = socket.owners.iter().any(|o| is_engine_proxy(o.name.raw()));
        if let (true, EngineView::Unreachable { endpoint, reason }) = (proxied, engine) {
            out.warning(&format!(
                "the container engine ({endpoint}) could not be asked: {reason}; only the proxy's command line says where it leads"
            ));
        }
        return;
    };
    out.blank();
    out.heading("container");
    out.field("name", &container.name.to_string());
    out.field("image", &container.image.to_string());
    if let Some((project, service)) = &container.compose {
        out.field("compose", &format!("project {project}, service {service}"));
    }
    out.field("id", container.short_id());
    let published = socket
        .state
        .is_listening()
        .then(|| container.publishing(socket.proto, socket.local_addr, socket.local_port))
        .flatten();
    if let Some(published) = published {
        let inside = match container.addresses.first() {
            Some(&addr) => format_endpoint(addr, published.container_port),
            None => format!("port {}", published.container_port),
        };
        out.field("inside", &format!("{} {inside}", socket.proto));
    }
    out.field("stop", &container_stop_sentence(socket, container));
}

/// At most this many of a process's forwards are listed; a count stands for the rest.
const FORWARDS_LISTED: usize = 20;

/// Where a forwarder's socket leads, what stopping the forwarder ends (every forward it sets
/// up) and what it leaves running. A container the engine named says it better: not repeated.
fn forward_part(out: &mut Page, socket: &Socket) {
    let (Some(forward), None, Some(owner)) =
        (&socket.forward, &socket.container, socket.primary_owner())
    else {
        return;
    };
    let all = forward::parse(&owner.argv);
    let others = all.len().saturating_sub(1);
    out.blank();
    out.heading("forwards to");
    out.field("via", &forward::via_text(forward));
    out.field("target", &forward::target_text(forward));
    let stop = forward::stop_text(forward, &owner.label(), others);
    if forward.via == Forwarder::DockerProxy {
        out.warning(&stop);
    } else {
        out.field("stop", &stop);
    }
    if others == 0 {
        return;
    }
    out.blank();
    out.heading(&format!(
        "every forward of {} (all end with it)",
        owner.label()
    ));
    for each in all.iter().take(FORWARDS_LISTED) {
        let mark = if each == &**forward { "▸" } else { "·" };
        out.item(&format!("{mark} {}", forward::line_text(each)));
    }
    if all.len() > FORWARDS_LISTED {
        out.dim(&format!("… and {} more", all.len() - FORWARDS_LISTED));
    }
}

/// What stopping means for a socket that serves a container: the container is what to stop.
pub(crate) fn container_stop_sentence(socket: &Socket, container: &Container) -> String {
    let holder = if socket.owners.is_empty() {
        "no process holds this port: the engine's NAT rules forward it"
    } else {
        "stopping the proxy would break the port and leave the container running"
    };
    format!(
        "{holder}; stop the container instead: x here asks to, or `docker stop {}`",
        container.name
    )
}

fn owner_text(owner: &Owner) -> String {
    match &owner.user {
        Some(user) => format!("{} ({user})", owner.label()),
        None => owner.label(),
    }
}

fn process(out: &mut Page, details: &ProcessDetails) {
    out.field(
        "user",
        &details
            .user
            .as_ref()
            .map_or_else(|| "(unknown)".to_string(), ToString::to_string),
    );
    out.field("executable", &details.exe.text());
    let cmdline = details
        .cmdline
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    out.field(
        "command",
        if cmdline.is_empty() {
            "(none: a kernel thread, or hidden)"
        } else {
            &cmdline
        },
    );
    out.field("directory", &details.cwd.text());
    out.field(
        "started",
        &format!("{} (up {})", details.started, uptime(details.run_time)),
    );
    // CPU is a rate: it needs a second look, one refresh later.
    let cpu = details.cpu_percent.map_or_else(
        || "CPU measuring…".to_string(),
        |cpu| format!("{cpu:.1}% of one core"),
    );
    out.field(
        "cpu, memory",
        &format!("{cpu}, {} resident", bytes(details.memory_bytes)),
    );
    let children = match details.children {
        0 => "no child processes".to_string(),
        1 => "1 child process".to_string(),
        n => format!("{n} child processes"),
    };
    out.field("status", &format!("{}, {children}", details.status));
    out.field("ancestry", &ancestry_line(details));
}

/// What stands behind the process, and what each of the two stop keys would lead to.
fn managed_part(out: &mut Page, details: &ProcessDetails, engine: &EngineView) {
    let supervision = Supervision::of(&Behind::details(details, engine));
    // Nothing stands behind it (a readable cgroup, no unit, no container, no supervisor): one
    // line says so, and the clients and other sockets stay in view.
    if supervision.summary(Signal::Term).is_none() {
        out.field(
            "behind",
            &format!(
                "{}: nothing loopwatch knows of restarts it",
                supervision.headline()
            ),
        );
        return;
    }
    out.blank();
    out.heading("what stands behind it");
    out.field("behind", &supervision.headline());
    for signal in [Signal::Term, Signal::Kill] {
        out.field(
            &format!("on {}", signal.name()),
            &supervision.after(signal).text,
        );
    }
    if let Some(command) = supervision.for_good() {
        out.field("for good", &command);
    }
    if let Some(chain) = supervision.chain(&process_label(&details.name, details.key.pid)) {
        out.field("chain", &chain);
    }
    if let Some(note) = supervision.cgroup_note() {
        out.field("cgroup", &note);
    }
}

fn gone_text(error: &DetailsError) -> String {
    format!("{error}; the table shows what holds the port now")
}

fn others_part(out: &mut Page, snapshot: &Snapshot, key: ProcKey, socket: &Socket) {
    let others = other_sockets(snapshot, key, socket);
    out.blank();
    out.heading("also holds (stops with it)");
    if others.is_empty() {
        out.dim("no other socket in view");
    }
    for other in others {
        out.item(&socket_text(other));
    }
}

fn clients_part(out: &mut Page, snapshot: &Snapshot, socket: &Socket) {
    if !socket.state.is_listening() || socket.proto != Proto::Tcp {
        return;
    }
    let clients = clients(snapshot, socket);
    out.blank();
    out.heading("clients connected");
    if clients.is_empty() {
        out.dim("none on loopback right now");
    }
    for client in clients {
        let who = client
            .primary_owner()
            .map_or_else(|| client.process_label(), Owner::label);
        out.item(&format!("{who}  from {}", client.local_endpoint()));
    }
}

fn socket_text(socket: &Socket) -> String {
    match socket.remote {
        Some((addr, port)) => format!(
            "{} {} → {} {}",
            socket.proto,
            socket.local_endpoint(),
            format_endpoint(addr, port),
            socket.state
        ),
        None => format!(
            "{} {} {}",
            socket.proto,
            socket.local_endpoint(),
            socket.state
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::{connection, listener, owner, tunnels};
    use crate::model::{Ancestor, Readable};

    fn details() -> ProcessDetails {
        ProcessDetails {
            key: ProcKey {
                pid: 4812,
                start_time: 1,
                start_ticks: 0,
            },
            name: "node".into(),
            user: Some("alice".into()),
            exe: Readable::Value("/usr/bin/node".into()),
            cmdline: vec!["node".into(), "server.js".into()],
            cwd: Readable::Denied,
            started: "2026-11-26 09:17:40".into(),
            run_time: Duration::from_secs(3725),
            cpu_percent: None,
            memory_bytes: 50 * 1024 * 1024,
            status: "Sleep".into(),
            ancestry: vec![Ancestor::named(4800, "npm"), Ancestor::named(1, "systemd")],
            children: 2,
            cgroup: Readable::Value("0::/user.slice/user-1000.slice/session-2.scope\n".into()),
            unit: None,
        }
    }

    #[test]
    fn ancestry_reads_from_init_down() {
        assert_eq!(
            ancestry_line(&details()),
            "systemd 1 > npm 4800 > node 4812"
        );
    }

    #[test]
    fn clients_are_the_far_ends_of_connections_to_the_listener() {
        let server = owner(4812, "node", "alice", "node server.js");
        let curl = owner(5000, "curl", "alice", "curl localhost:3000");
        let listen = listener("0.0.0.0", 3000, vec![server.clone()]);
        let snapshot = Snapshot {
            sockets: vec![
                listen.clone(),
                // The client end, and the server's accepted end of the same connection.
                connection(
                    ("127.0.0.1", 51000),
                    ("127.0.0.1", 3000),
                    SocketState::Established,
                    vec![curl],
                ),
                connection(
                    ("127.0.0.1", 3000),
                    ("127.0.0.1", 51000),
                    SocketState::Established,
                    vec![server.clone()],
                ),
                // A connection to another port.
                connection(
                    ("127.0.0.1", 51001),
                    ("127.0.0.1", 5432),
                    SocketState::Established,
                    vec![],
                ),
            ],
            privileged: true,
            ..Default::default()
        };
        let found = clients(&snapshot, &listen);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].owners[0].name, "curl");
        let others = other_sockets(&snapshot, server.key, &listen);
        assert_eq!(others.len(), 1, "the accepted end");
        assert_eq!(connection_count(&snapshot, server.key), 1);
        assert_eq!(
            listening_ports(&snapshot, server.key),
            vec!["tcp 0.0.0.0:3000"]
        );
    }

    /// The page's text, one string per line, for `socket` of `snapshot`.
    fn page_text(snapshot: &Snapshot, socket: &Socket, width: usize) -> Vec<String> {
        let subject = Subject {
            socket,
            holder: 0,
            closed: false,
            details: None,
            snapshot,
        };
        page(&subject, width)
            .into_iter()
            .map(|l| format!("{}{}", l.lead, l.text))
            .collect()
    }

    fn attached_tunnels() -> Snapshot {
        let mut snapshot = tunnels();
        forward::attach(&mut snapshot.sockets);
        snapshot
    }

    #[test]
    fn an_ssh_tunnel_names_its_target_far_side_and_every_forward_that_ends_with_it() {
        let snapshot = attached_tunnels();
        let lines = page_text(&snapshot, &snapshot.sockets[0], 200);
        let at = lines.iter().position(|l| l == "forwards to").unwrap();
        assert_eq!(
            lines[at + 1..at + 4],
            [
                "  via         ssh -L, through the ssh connection to bastion via jump.example",
                "  target      db.internal:5432, as seen from bastion via jump.example",
                "  stop        stopping ssh 4120 ends this forward and the 2 other forwards it sets up; the service at db.internal:5432 keeps running",
            ]
        );
        let list = lines
            .iter()
            .position(|l| l == "every forward of ssh 4120 (all end with it)")
            .unwrap();
        assert_eq!(
            lines[list + 1..list + 4],
            [
                "    ▸ -L 127.0.0.1:15432 → db.internal:5432",
                "    · -R localhost:9000 on bastion → localhost:3000 from here",
                "    · -D localhost:1080 → SOCKS",
            ]
        );
        // Before the process's own part, right under the socket's.
        let process = lines
            .iter()
            .position(|l| l.starts_with("process "))
            .unwrap();
        assert!(at < process);
    }

    #[test]
    fn each_forwarder_says_what_stopping_it_leaves_running() {
        let snapshot = attached_tunnels();
        let text = |port: u16| {
            let socket = snapshot
                .sockets
                .iter()
                .find(|s| s.local_port == port)
                .unwrap();
            page_text(&snapshot, socket, 200).join("\n")
        };
        assert!(text(25432).contains("target      port 5432 of svc/postgres, in a pod it selects"));
        assert!(text(25432).contains("the pod keeps running"));
        assert!(text(8081).contains("the service at 127.0.0.1:80 keeps running"));
        assert!(text(1080).contains("whatever each SOCKS client asks for, reached from bastion"));
        let proxy = text(18080);
        assert!(
            proxy.contains("target      172.17.0.2:8080, a container's address"),
            "{proxy}"
        );
        assert!(
            proxy.contains(
                "⚠ stopping docker-proxy 7200 ends this forward; the container keeps running"
            ),
            "{proxy}"
        );
        assert!(!text(3000).contains("forwards to"));
        assert!(
            !text(8081).contains("every forward of"),
            "one forward: no list"
        );
    }

    #[test]
    fn a_container_the_engine_named_replaces_the_proxys_forward() {
        let mut snapshot = attached_tunnels();
        let proxy = snapshot
            .sockets
            .iter_mut()
            .find(|s| s.local_port == 18080)
            .unwrap();
        proxy.container = Some(std::sync::Arc::new(Container {
            id: "9b8996495768aa".into(),
            name: "shop-web-1".into(),
            image: "busybox".into(),
            compose: None,
            addresses: vec!["172.17.0.2".parse().unwrap()],
            ports: Vec::new(),
        }));
        let socket = proxy.clone();
        let text = page_text(&snapshot, &socket, 120).join("\n");
        assert!(
            text.contains("container") && !text.contains("forwards to"),
            "{text}"
        );
        assert_eq!(socket.process_label(), "docker-proxy -> shop-web-1");
    }

    #[test]
    fn the_list_of_forwards_is_bounded() {
        let forwards: Vec<String> = (0..500).map(|i| format!("-L {}:h:1", 10_000 + i)).collect();
        let ssh = owner(
            4120,
            "ssh",
            "ana",
            &format!("ssh {} bastion", forwards.join(" ")),
        );
        let mut snapshot = Snapshot {
            sockets: vec![listener("127.0.0.1", 10_000, vec![ssh])],
            ..Default::default()
        };
        forward::attach(&mut snapshot.sockets);
        let lines = page_text(&snapshot, &snapshot.sockets[0], 120);
        assert_eq!(
            lines.iter().filter(|l| l.contains(" -L ")).count(),
            FORWARDS_LISTED
        );
        assert!(lines.iter().any(|l| l == "  … and 480 more"), "{lines:?}");
    }

    #[test]
    fn stopping_a_forwarder_warns_what_ends_and_what_keeps_running() {
        let snapshot = attached_tunnels();
        let tunnel = &snapshot.sockets[0];
        let warnings = stop_warnings(tunnel, &Target::of(&tunnel.owners[0]));
        assert_eq!(
            warnings,
            [
                "this port leads to db.internal:5432 (ssh -L): stopping ssh 4120 ends this forward and the 2 other forwards it sets up; the service at db.internal:5432 keeps running"
            ]
        );
        let node = snapshot
            .sockets
            .iter()
            .find(|s| s.local_port == 3000)
            .unwrap();
        assert!(stop_warnings(node, &Target::of(&node.owners[0])).is_empty());
    }

    /// Nothing behind a process takes one line, so the clients stay in view; something behind
    /// it gets its own part.
    #[test]
    fn nothing_behind_takes_one_line_and_something_a_part() {
        let node = owner(4812, "node", "alice", "node server.js");
        let snapshot = Snapshot {
            sockets: vec![listener("127.0.0.1", 3000, vec![node])],
            privileged: true,
            ..Default::default()
        };
        let text = |details: &ProcessDetails| -> Vec<String> {
            let details = Ok(details.clone());
            let subject = Subject {
                socket: &snapshot.sockets[0],
                holder: 0,
                closed: false,
                details: Some(&details),
                snapshot: &snapshot,
            };
            page(&subject, 200)
                .into_iter()
                .map(|l| format!("{}{}", l.lead, l.text))
                .collect()
        };
        let mut plain = details();
        plain.ancestry = vec![Ancestor::named(1, "init")];
        plain.cgroup = Readable::Value("0::/\n".into());
        let lines = text(&plain);
        assert!(
            lines.contains(&"  behind      no service manager (cgroup /), no container, no known supervisor among its ancestors: nothing loopwatch knows of restarts it".to_string()),
            "{lines:#?}"
        );
        assert!(
            !lines.iter().any(|l| l == "what stands behind it"),
            "{lines:#?}"
        );
        let run_by_npm = text(&details());
        assert!(
            run_by_npm.iter().any(|l| l == "what stands behind it"),
            "{run_by_npm:#?}"
        );
    }

    #[test]
    fn sizes_and_durations_read_naturally() {
        assert_eq!(uptime(Duration::from_secs(12)), "12s");
        assert_eq!(uptime(Duration::from_secs(250)), "4m 10s");
        assert_eq!(uptime(Duration::from_secs(3725)), "1h 02m");
        assert_eq!(uptime(Duration::from_hours(3 * 24 + 4)), "3d 4h");
        assert_eq!(bytes(512 * 1024), "512 KiB");
        assert_eq!(bytes(50 * 1024 * 1024 + 200 * 1024), "50.2 MiB");
    }

    #[test]
    fn each_scope_says_who_can_connect() {
        let at = |addr: &str| scope_sentence(&listener(addr, 80, Vec::new()));
        assert!(at("127.0.0.1").contains("only this machine"));
        assert!(at("::1").contains("only this machine"));
        assert!(at("0.0.0.0").contains("from the network"));
        assert!(at("::").contains("from the network"));
        assert!(at("192.168.1.4").contains("not through loopback"));
        // Three scopes, three different answers.
        assert_ne!(at("127.0.0.1"), at("0.0.0.0"));
        assert_ne!(at("0.0.0.0"), at("192.168.1.4"));
    }
}
