//! `loopwatch doctor`: everything listening, checked for what people regret later: a
//! database or cache on every interface, a server on one address family while `localhost`
//! resolves to the other first, TIME_WAIT and CLOSE_WAIT piling up, listeners inside the
//! ephemeral range, programs whose executable was deleted or replaced, and processes left
//! behind by the process that started them. Pure: snapshot, system facts and process health
//! in, findings out, each naming the socket, the process and the fix.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use crate::model::{
    ExeState, Owner, ProcKey, ProcessHealth, Proto, Scope, Snapshot, Socket, SocketState,
    SystemFacts, UnknownOwner, format_endpoint, owners_label,
};

/// CLOSE_WAIT ends one process holds on one port before it counts as a leak.
pub(crate) const CLOSE_WAIT_PILE: usize = 10;
/// TIME_WAIT ends on one server port, or to one remote endpoint, before they count as a
/// pile-up (a busy machine keeps hundreds as a matter of course).
pub(crate) const TIME_WAIT_PILE: usize = 500;

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    ExposedDatabase,
    LocalhostFamily,
    CloseWait,
    TimeWait,
    DeletedExecutable,
    ReplacedExecutable,
    Orphaned,
    EphemeralListener,
}

impl Kind {
    /// Stable machine-readable name (JSON).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::ExposedDatabase => "exposed_database",
            Kind::LocalhostFamily => "localhost_family",
            Kind::CloseWait => "close_wait",
            Kind::TimeWait => "time_wait",
            Kind::DeletedExecutable => "deleted_executable",
            Kind::ReplacedExecutable => "replaced_executable",
            Kind::Orphaned => "orphaned",
            Kind::EphemeralListener => "ephemeral_listener",
        }
    }

    /// A few words heading the finding.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Kind::ExposedDatabase => "database on every interface",
            Kind::LocalhostFamily => "localhost reaches the other family",
            Kind::CloseWait => "CLOSE_WAIT pile-up",
            Kind::TimeWait => "TIME_WAIT pile-up",
            Kind::DeletedExecutable => "executable deleted",
            Kind::ReplacedExecutable => "executable replaced",
            Kind::Orphaned => "left behind",
            Kind::EphemeralListener => "listener in the ephemeral range",
        }
    }
}

/// One thing worth fixing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding<'s> {
    pub(crate) kind: Kind,
    /// The sockets it is about (several for a pile-up, or a server on `0.0.0.0` and `::`).
    pub(crate) sockets: Vec<&'s Socket>,
    /// The process it is about, when one is known.
    pub(crate) owner: Option<&'s Owner>,
    /// What is wrong, in a sentence or two.
    pub(crate) text: String,
    /// What to do about it.
    pub(crate) fix: String,
}

/// Everything `doctor` found, and how much it looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report<'s> {
    pub(crate) findings: Vec<Finding<'s>>,
    /// Listening TCP sockets and bound UDP sockets checked.
    pub(crate) listeners: usize,
    /// Processes holding them whose executable and parentage were checked.
    pub(crate) processes: usize,
    /// Listeners whose process is hidden by permissions, so only their socket was checked.
    pub(crate) hidden: usize,
    /// Listeners whose process is not visible at all (another PID namespace, or gone).
    pub(crate) unseen: usize,
    /// Listeners whose process was not looked for: loopwatch ran out of file descriptors.
    pub(crate) starved: usize,
}

/// A database or cache: how to recognise it and how to keep it on loopback.
struct Database {
    label: &'static str,
    names: &'static [&'static str],
    ports: &'static [u16],
    /// Where its bind address is set.
    setting: &'static str,
}

const DATABASES: &[Database] = &[
    Database {
        label: "PostgreSQL",
        names: &["postgres", "postmaster"],
        ports: &[5432],
        setting: "listen_addresses = 'localhost' in postgresql.conf",
    },
    Database {
        label: "MySQL/MariaDB",
        names: &["mysqld", "mariadbd"],
        ports: &[3306, 33060],
        setting: "bind-address = 127.0.0.1 under [mysqld] in my.cnf",
    },
    Database {
        label: "Redis",
        names: &["redis-server", "valkey-server", "keydb-server"],
        ports: &[6379],
        setting: "bind 127.0.0.1 -::1 in redis.conf",
    },
    Database {
        label: "Memcached",
        names: &["memcached"],
        ports: &[11211],
        setting: "-l 127.0.0.1 on its command line (or in /etc/memcached.conf)",
    },
    Database {
        label: "MongoDB",
        names: &["mongod", "mongos"],
        ports: &[27017],
        setting: "net.bindIp: 127.0.0.1 in mongod.conf",
    },
    Database {
        label: "Elasticsearch/OpenSearch",
        names: &[],
        ports: &[9200, 9300],
        setting: "network.host: 127.0.0.1 in its .yml",
    },
    Database {
        label: "etcd",
        names: &["etcd"],
        ports: &[2379, 2380],
        setting: "--listen-client-urls http://127.0.0.1:2379",
    },
    Database {
        label: "CouchDB",
        names: &[],
        ports: &[5984],
        setting: "bind_address = 127.0.0.1 under [chttpd] in local.ini",
    },
    Database {
        label: "InfluxDB",
        names: &["influxd"],
        ports: &[8086],
        setting: "http-bind-address = \"127.0.0.1:8086\"",
    },
    Database {
        label: "Cassandra",
        names: &[],
        ports: &[9042],
        setting: "rpc_address: 127.0.0.1 in cassandra.yaml",
    },
    Database {
        label: "ClickHouse",
        names: &["clickhouse-server", "clickhouse"],
        ports: &[8123],
        setting: "<listen_host>127.0.0.1</listen_host> in its config.xml",
    },
    Database {
        label: "RabbitMQ",
        names: &[],
        ports: &[5672],
        setting: "listeners.tcp.default = 127.0.0.1:5672 in rabbitmq.conf",
    },
    Database {
        label: "CockroachDB",
        names: &["cockroach"],
        ports: &[26257],
        setting: "--listen-addr=127.0.0.1",
    },
];

/// Checks everything listening in `snapshot`.
pub(crate) fn examine<'s>(
    snapshot: &'s Snapshot,
    facts: &SystemFacts,
    health: &[ProcessHealth],
) -> Report<'s> {
    let listeners: Vec<&Socket> = snapshot
        .sockets
        .iter()
        .filter(|s| s.state.is_listening() && s.scope != Scope::ThisHost)
        .collect();
    let mut findings = Vec::new();
    exposed_databases(&listeners, &mut findings);
    localhost_family(&listeners, facts, &mut findings);
    close_wait(&snapshot.sockets, &mut findings);
    time_wait(&snapshot.sockets, &listeners, &mut findings);
    let processes = process_health(&listeners, health, &mut findings);
    ephemeral(&listeners, facts, &mut findings);
    Report {
        findings,
        listeners: listeners.len(),
        processes,
        hidden: listeners
            .iter()
            .filter(|s| s.unknown == Some(UnknownOwner::PermissionDenied))
            .count(),
        unseen: listeners
            .iter()
            .filter(|s| s.unknown == Some(UnknownOwner::NotFound))
            .count(),
        starved: listeners
            .iter()
            .filter(|s| s.unknown == Some(UnknownOwner::OutOfDescriptors))
            .count(),
    }
}

/// `redis-server 812`, or what is known of a socket whose process is not shown.
fn who(socket: &Socket) -> String {
    owners_label(&socket.owners).unwrap_or_else(|| match &socket.user {
        Some(user) => format!("{} (user {user})", socket.process_label()),
        None => socket.process_label(),
    })
}

/// `0.0.0.0:6379 and [::]:6379`.
fn endpoints(sockets: &[&Socket]) -> String {
    let all: Vec<String> = sockets.iter().map(|s| s.local_endpoint()).collect();
    match all.as_slice() {
        [rest @ .., last] if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => all.concat(),
    }
}

/// Adds `finding`, or merges it into one of the same kind, process and port (a server on
/// both `0.0.0.0` and `::` is one finding).
fn add<'s>(findings: &mut Vec<Finding<'s>>, finding: Finding<'s>) {
    let key = |f: &Finding| {
        (
            f.kind,
            f.owner.map(|o| o.key),
            f.sockets.first().map(|s| (s.proto, s.local_port)),
        )
    };
    match findings.iter_mut().find(|f| key(f) == key(&finding)) {
        Some(existing) => existing.sockets.extend(finding.sockets),
        None => findings.push(finding),
    }
}

/// A server, its port and the database it was recognised as.
type DatabaseKey = (Option<ProcKey>, u16, &'static str);

fn exposed_databases<'s>(listeners: &[&'s Socket], findings: &mut Vec<Finding<'s>>) {
    let mut found: Vec<(&Database, &'s Socket, bool)> = Vec::new();
    for &socket in listeners.iter().filter(|s| s.scope.is_exposed()) {
        let name = socket.primary_owner().map(|o| o.name.raw());
        let by_name = DATABASES
            .iter()
            .find(|d| name.is_some_and(|n| d.names.contains(&n)));
        let by_port = || {
            DATABASES
                .iter()
                .find(|d| socket.proto == Proto::Tcp && d.ports.contains(&socket.local_port))
        };
        if let Some(db) = by_name {
            found.push((db, socket, true));
        } else if let Some(db) = by_port() {
            found.push((db, socket, false));
        }
    }
    // One finding per server and port, naming every wildcard it is on.
    let mut grouped: BTreeMap<DatabaseKey, (bool, Vec<&'s Socket>, &Database)> = BTreeMap::new();
    for (db, socket, by_name) in found {
        let key = (
            socket.primary_owner().map(|o| o.key),
            socket.local_port,
            db.label,
        );
        grouped
            .entry(key)
            .or_insert((by_name, Vec::new(), db))
            .1
            .push(socket);
    }
    for ((_, port, _), (by_name, sockets, db)) in grouped {
        let first = sockets[0];
        let recognised = if by_name {
            "by its name"
        } else {
            "going by the port it uses"
        };
        let text = format!(
            "{} listens on {}, every interface: {} ({recognised}) is a database or cache, reachable from the network unless a firewall stops it.",
            who(first),
            endpoints(&sockets),
            db.label
        );
        let fix = match &first.container {
            Some(container) => format!(
                "publish it on loopback only: `-p 127.0.0.1:{port}:PORT` (compose: \"127.0.0.1:{port}:PORT\") for container {}",
                container.name
            ),
            None => format!("bind it to loopback ({}), then restart it", db.setting),
        };
        findings.push(Finding {
            kind: Kind::ExposedDatabase,
            owner: first.primary_owner(),
            sockets,
            text,
            fix,
        });
    }
}

/// Servers that only one family reaches while `localhost` resolves to the other first.
fn localhost_family<'s>(
    listeners: &[&'s Socket],
    facts: &SystemFacts,
    findings: &mut Vec<Finding<'s>>,
) {
    let Some(localhost) = facts.localhost else {
        return;
    };
    let dual_stack = facts.bindv6only == Some(false);
    let mut ports: Vec<u16> = listeners
        .iter()
        .filter(|s| s.proto == Proto::Tcp)
        .map(|s| s.local_port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    for port in ports {
        let on_port: Vec<&'s Socket> = listeners
            .iter()
            .copied()
            .filter(|s| s.proto == Proto::Tcp && s.local_port == port)
            .collect();
        let v6_wildcard = on_port
            .iter()
            .any(|s| s.local_addr.is_ipv6() && s.local_addr.is_unspecified());
        let v4 = on_port.iter().any(|s| s.local_addr.is_ipv4()) || (v6_wildcard && dual_stack);
        let v6 = on_port.iter().any(|s| s.local_addr.is_ipv6());
        let (bound, missing) = match (v4, v6) {
            (true, false) if localhost.first.is_ipv6() => ("IPv4", "::1"),
            (false, true) if localhost.first.is_ipv4() => ("IPv6", "127.0.0.1"),
            _ => continue,
        };
        let first = localhost.first;
        findings.push(Finding {
            kind: Kind::LocalhostFamily,
            owner: on_port[0].primary_owner(),
            text: format!(
                "{} listens on {} (only {bound}), but `localhost` resolves to {first} first here: a client that tries only the first address gets \"connection refused\" at localhost:{port}.",
                who(on_port[0]),
                endpoints(&on_port)
            ),
            fix: format!(
                "bind {missing} as well, or point its clients at {} instead of localhost",
                on_port[0].local_addr
            ),
            sockets: on_port,
        });
    }
}

fn close_wait<'s>(all: &'s [Socket], findings: &mut Vec<Finding<'s>>) {
    let mut piles: BTreeMap<(u16, Option<ProcKey>), Vec<&'s Socket>> = BTreeMap::new();
    for socket in all.iter().filter(|s| s.state == SocketState::CloseWait) {
        piles
            .entry((socket.local_port, socket.primary_owner().map(|o| o.key)))
            .or_default()
            .push(socket);
    }
    for ((port, _), sockets) in piles {
        if sockets.len() < CLOSE_WAIT_PILE {
            continue;
        }
        let holder = who(sockets[0]);
        findings.push(Finding {
            kind: Kind::CloseWait,
            owner: sockets[0].primary_owner(),
            text: format!(
                "{holder} holds {} connections on port {port} in CLOSE_WAIT: their other ends closed long ago, but {holder} never closed its own. It is leaking connections, and each one keeps a descriptor.",
                sockets.len()
            ),
            fix: "find where it forgets to close connections (a missing close() or release to a pool); restarting it frees them for now".to_string(),
            sockets,
        });
    }
}

fn time_wait<'s>(all: &'s [Socket], listeners: &[&Socket], findings: &mut Vec<Finding<'s>>) {
    // A server that closes first leaves TIME_WAIT on its own port; a client that opens a new
    // connection per request leaves it towards one remote endpoint.
    let mut piles: BTreeMap<(bool, IpAddr, u16), Vec<&'s Socket>> = BTreeMap::new();
    for socket in all.iter().filter(|s| s.state == SocketState::TimeWait) {
        let serving = listeners
            .iter()
            .any(|l| l.proto == socket.proto && l.local_port == socket.local_port);
        let key = match (serving, socket.remote) {
            (true, _) => (true, socket.local_addr, socket.local_port),
            (false, Some((addr, port))) => (false, addr, port),
            (false, None) => continue,
        };
        piles.entry(key).or_default().push(socket);
    }
    for ((serving, addr, port), sockets) in piles {
        if sockets.len() < TIME_WAIT_PILE {
            continue;
        }
        let (text, fix) = if serving {
            (
                format!(
                    "{} connections to port {port} here are in TIME_WAIT: its server closes connections first, so each one waits out a minute or so on this side.",
                    sockets.len()
                ),
                "let clients close first or keep connections alive (HTTP keep-alive, pooling); a server that sets SO_REUSEADDR still restarts cleanly".to_string(),
            )
        } else {
            (
                format!(
                    "{} connections to {} are in TIME_WAIT: a client opens a new connection per request and closes it itself, using up local ports.",
                    sockets.len(),
                    format_endpoint(addr, port)
                ),
                "reuse connections (keep-alive, a connection pool); each TIME_WAIT holds one of the ephemeral ports for about a minute".to_string(),
            )
        };
        findings.push(Finding {
            kind: Kind::TimeWait,
            owner: None,
            sockets,
            text,
            fix,
        });
    }
}

/// Deleted or replaced executables and processes left behind by their group's leader; the
/// number of processes checked.
fn process_health<'s>(
    listeners: &[&'s Socket],
    health: &[ProcessHealth],
    findings: &mut Vec<Finding<'s>>,
) -> usize {
    let mut held_by: HashMap<ProcKey, Vec<&'s Socket>> = HashMap::new();
    for &socket in listeners {
        for owner in socket.owners.iter() {
            held_by.entry(owner.key).or_default().push(socket);
        }
    }
    let mut checked = 0;
    for entry in health {
        let Some(held) = held_by.get(&entry.key).cloned() else {
            continue;
        };
        let Some(owner) = held
            .first()
            .and_then(|s| s.owners.iter().find(|o| o.key == entry.key))
        else {
            continue;
        };
        checked += 1;
        let label = owner.label();
        let ports = endpoints(&held);
        match &entry.exe {
            ExeState::Deleted(path) => add(
                findings,
                Finding {
                    kind: Kind::DeletedExecutable,
                    sockets: held.clone(),
                    owner: Some(owner),
                    text: format!(
                        "{label} (listening on {ports}) runs {path}, which was deleted after it started: it runs code that is no longer on disk."
                    ),
                    fix: format!(
                        "restart {} so it runs what is installed now, or stop it if it should be gone",
                        owner.name
                    ),
                },
            ),
            ExeState::Replaced(path) => add(
                findings,
                Finding {
                    kind: Kind::ReplacedExecutable,
                    sockets: held.clone(),
                    owner: Some(owner),
                    text: format!(
                        "{label} (listening on {ports}) runs an older {path}: the file was replaced after it started (an upgrade), and it still runs the old code."
                    ),
                    fix: format!("restart {} to run the new version", owner.name),
                },
            ),
            ExeState::Current | ExeState::Unknown => {}
        }
        let Some(lineage) = &entry.lineage else {
            continue;
        };
        // The group's starter is gone, the group is not a daemon's session of its own, the
        // process did not start the group itself, and no process of its own session other
        // than init holds the group (a shell still running it as a job): it was left behind.
        let held_by_its_session = lineage
            .adopted_by
            .as_ref()
            .is_some_and(|(pid, _)| *pid > 1 && lineage.adopter_sid == Some(lineage.sid));
        if !lineage.group_leader_alive
            && lineage.pgid != lineage.sid
            && lineage.pgid != entry.key.pid
            && !held_by_its_session
        {
            let adopted = lineage
                .adopted_by
                .as_ref()
                .map_or_else(String::new, |(pid, name)| {
                    format!(" and now belongs to {name} {pid}")
                });
            add(
                findings,
                Finding {
                    kind: Kind::Orphaned,
                    owner: Some(owner),
                    text: format!(
                        "{label} (listening on {ports}) was left behind: the process that started its group (pid {}) has exited{adopted}. Nothing stops it when its terminal or launcher goes away.",
                        lineage.pgid
                    ),
                    fix: format!(
                        "if it is stale, stop it: `loopwatch kill {}`",
                        held[0].local_port
                    ),
                    sockets: held,
                },
            );
        }
    }
    checked
}

fn ephemeral<'s>(listeners: &[&'s Socket], facts: &SystemFacts, findings: &mut Vec<Finding<'s>>) {
    let Some((low, high)) = facts.ephemeral else {
        return;
    };
    for &socket in listeners
        .iter()
        .filter(|s| (low..=high).contains(&s.local_port))
    {
        add(
            findings,
            Finding {
                kind: Kind::EphemeralListener,
                owner: socket.primary_owner(),
                text: format!(
                    "{} listens on {}, inside the ephemeral range ({low}-{high}) the OS hands to outgoing connections: after a restart, a client's connection may already hold the port.",
                    who(socket),
                    socket.local_endpoint()
                ),
                fix: format!(
                    "use a port below {low}, or reserve this one (sysctl net.ipv4.ip_local_reserved_ports={})",
                    socket.local_port
                ),
                sockets: vec![socket],
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::{connection, hidden_listener, listener, owner, udp};
    use crate::model::{Lineage, Localhost, OsText};

    fn facts() -> SystemFacts {
        SystemFacts {
            localhost: Some(Localhost {
                first: "::1".parse().unwrap(),
                v4: true,
                v6: true,
                hosts_file: Some((true, true)),
            }),
            ..SystemFacts::linux_defaults()
        }
    }

    fn healthy(owner: &Owner) -> ProcessHealth {
        ProcessHealth {
            key: owner.key,
            exe: ExeState::Current,
            lineage: Some(Lineage {
                ppid: 1,
                pgid: owner.key.pid,
                sid: owner.key.pid,
                group_leader_alive: true,
                adopted_by: Some((1, "systemd".into())),
                adopter_sid: Some(1),
            }),
        }
    }

    /// A machine with nothing to report: loopback servers on both families, a few
    /// connections, nothing inside the ephemeral range.
    fn clean() -> (Snapshot, Vec<ProcessHealth>) {
        let postgres = owner(700, "postgres", "postgres", "postgres -D /var/lib/pg");
        let node = owner(4812, "node", "ana", "node server.js");
        let mut sockets = vec![
            listener("127.0.0.1", 5432, vec![postgres.clone()]),
            listener("::1", 5432, vec![postgres.clone()]),
            listener("127.0.0.1", 3000, vec![node.clone()]),
            listener("::1", 3000, vec![node.clone()]),
            udp("127.0.0.1", 5353, vec![node.clone()]),
            // Nginx on every interface is a web server, not a database.
            listener(
                "0.0.0.0",
                8080,
                vec![owner(900, "nginx", "www-data", "nginx")],
            ),
            listener("::", 8080, vec![owner(900, "nginx", "www-data", "nginx")]),
        ];
        for i in 0..(CLOSE_WAIT_PILE - 1) {
            sockets.push(connection(
                ("127.0.0.1", 3000),
                ("127.0.0.1", 41000 + u16::try_from(i).unwrap()),
                SocketState::CloseWait,
                vec![node.clone()],
            ));
        }
        let health = vec![healthy(&postgres), healthy(&node)];
        (
            Snapshot {
                sockets,
                privileged: true,
                ..Default::default()
            },
            health,
        )
    }

    #[test]
    fn a_clean_machine_has_no_findings() {
        let (snapshot, health) = clean();
        let report = examine(&snapshot, &facts(), &health);
        assert_eq!(report.findings, Vec::new());
        assert_eq!(report.listeners, 7);
        assert_eq!(report.processes, 2);
        assert_eq!(report.hidden, 0);
        assert_eq!(report.unseen, 0);
    }

    /// A machine with one instance of each finding.
    fn one_of_each() -> (Snapshot, Vec<ProcessHealth>) {
        let redis = owner(812, "redis-server", "redis", "redis-server *:6379");
        let vite = owner(4990, "node", "ana", "node node_modules/.bin/vite");
        let old = owner(1200, "sshd", "root", "sshd: /usr/sbin/sshd");
        let gone = owner(1300, "python3", "ana", "python3 -m http.server 8000");
        let leaky = owner(1400, "java", "ana", "java -jar app.jar");
        let picked = owner(1500, "code", "ana", "code --ms-enable-electron");
        let mut sockets = vec![
            listener("0.0.0.0", 6379, vec![redis.clone()]),
            listener("::", 6379, vec![redis.clone()]),
            listener("127.0.0.1", 5173, vec![vite.clone()]),
            listener("127.0.0.1", 2222, vec![old.clone()]),
            listener("::1", 2222, vec![old.clone()]),
            listener("127.0.0.1", 8000, vec![gone.clone()]),
            listener("::1", 8000, vec![gone.clone()]),
            listener("127.0.0.1", 9090, vec![leaky.clone()]),
            listener("::1", 9090, vec![leaky.clone()]),
            listener("::1", 45123, vec![picked.clone()]),
            listener("127.0.0.1", 45123, vec![picked.clone()]),
            hidden_listener("127.0.0.1", 1234, 0, "root"),
            hidden_listener("::1", 1234, 0, "root"),
        ];
        for i in 0..CLOSE_WAIT_PILE {
            sockets.push(connection(
                ("127.0.0.1", 9090),
                ("127.0.0.1", 42000 + u16::try_from(i).unwrap()),
                SocketState::CloseWait,
                vec![leaky.clone()],
            ));
        }
        for i in 0..TIME_WAIT_PILE {
            sockets.push(connection(
                ("127.0.0.1", 33000 + u16::try_from(i).unwrap()),
                ("127.0.0.1", 5432),
                SocketState::TimeWait,
                vec![],
            ));
        }
        let snapshot = Snapshot {
            sockets,
            privileged: false,
            ..Default::default()
        };
        let mut deleted = healthy(&gone);
        deleted.exe = ExeState::Deleted("/tmp/venv/bin/python3".into());
        let mut replaced = healthy(&old);
        replaced.exe = ExeState::Replaced("/usr/sbin/sshd".into());
        let mut orphan = healthy(&vite);
        orphan.lineage = Some(Lineage {
            ppid: 1,
            pgid: 4980,
            sid: 4000,
            group_leader_alive: false,
            adopted_by: Some((1, OsText::from("init"))),
            adopter_sid: Some(1),
        });
        // Also found: vite on 127.0.0.1 only, while localhost resolves to ::1 first.
        let health = vec![
            healthy(&redis),
            orphan,
            replaced,
            deleted,
            healthy(&leaky),
            healthy(&picked),
        ];
        (snapshot, health)
    }

    /// One instance of each finding, each naming its socket, its process and its fix.
    #[test]
    fn each_finding_is_found_once() {
        let (snapshot, health) = one_of_each();
        let report = examine(&snapshot, &facts(), &health);
        let kinds: Vec<Kind> = report.findings.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::ExposedDatabase,
                Kind::LocalhostFamily,
                Kind::CloseWait,
                Kind::TimeWait,
                Kind::Orphaned,
                Kind::ReplacedExecutable,
                Kind::DeletedExecutable,
                Kind::EphemeralListener,
            ],
            "{:#?}",
            report.findings
        );
        assert_eq!(report.hidden, 2);
        assert_eq!(report.processes, 6);
        let text = |kind: Kind| {
            let f = report.findings.iter().find(|f| f.kind == kind).unwrap();
            format!("{} | fix: {}", f.text, f.fix)
        };
        assert_eq!(
            text(Kind::ExposedDatabase),
            "redis-server 812 listens on 0.0.0.0:6379 and [::]:6379, every interface: Redis (by its name) is a database or cache, reachable from the network unless a firewall stops it. | fix: bind it to loopback (bind 127.0.0.1 -::1 in redis.conf), then restart it"
        );
        assert_eq!(
            text(Kind::LocalhostFamily),
            "node 4990 listens on 127.0.0.1:5173 (only IPv4), but `localhost` resolves to ::1 first here: a client that tries only the first address gets \"connection refused\" at localhost:5173. | fix: bind ::1 as well, or point its clients at 127.0.0.1 instead of localhost"
        );
        assert!(
            text(Kind::CloseWait)
                .starts_with("java 1400 holds 10 connections on port 9090 in CLOSE_WAIT"),
            "{}",
            text(Kind::CloseWait)
        );
        assert!(
            text(Kind::TimeWait).starts_with("500 connections to 127.0.0.1:5432 are in TIME_WAIT"),
            "{}",
            text(Kind::TimeWait)
        );
        assert_eq!(
            text(Kind::Orphaned),
            "node 4990 (listening on 127.0.0.1:5173) was left behind: the process that started its group (pid 4980) has exited and now belongs to init 1. Nothing stops it when its terminal or launcher goes away. | fix: if it is stale, stop it: `loopwatch kill 5173`"
        );
        assert_eq!(
            text(Kind::ReplacedExecutable),
            "sshd 1200 (listening on 127.0.0.1:2222 and [::1]:2222) runs an older /usr/sbin/sshd: the file was replaced after it started (an upgrade), and it still runs the old code. | fix: restart sshd to run the new version"
        );
        assert!(
            text(Kind::DeletedExecutable).starts_with(
                "python3 1300 (listening on 127.0.0.1:8000 and [::1]:8000) runs /tmp/venv/bin/python3, which was deleted"
            )
        );
        assert_eq!(
            text(Kind::EphemeralListener),
            "code 1500 listens on [::1]:45123, inside the ephemeral range (32768-60999) the OS hands to outgoing connections: after a restart, a client's connection may already hold the port. | fix: use a port below 32768, or reserve this one (sysctl net.ipv4.ip_local_reserved_ports=45123)"
        );
        let ephemeral = report
            .findings
            .iter()
            .find(|f| f.kind == Kind::EphemeralListener)
            .unwrap();
        assert_eq!(ephemeral.sockets.len(), 2, "both families, one finding");
    }

    #[test]
    fn a_published_database_is_fixed_where_it_is_published() {
        let mut proxy = listener(
            "0.0.0.0",
            5432,
            vec![owner(300, "docker-proxy", "root", "docker-proxy")],
        );
        proxy.container = Some(std::sync::Arc::new(crate::model::Container {
            id: "ab".repeat(32),
            name: "db".into(),
            image: "postgres:16".into(),
            compose: None,
            addresses: vec![],
            ports: vec![],
        }));
        let snapshot = Snapshot {
            sockets: vec![proxy],
            ..Default::default()
        };
        let report = examine(&snapshot, &SystemFacts::default(), &[]);
        assert_eq!(report.findings.len(), 1);
        assert!(
            report.findings[0]
                .fix
                .starts_with("publish it on loopback only: `-p 127.0.0.1:5432:PORT`"),
            "{:?}",
            report.findings[0]
        );
        assert!(
            report.findings[0]
                .text
                .contains("going by the port it uses")
        );
    }

    #[test]
    fn a_daemon_of_its_own_session_is_not_left_behind() {
        let daemon = owner(2000, "dnsmasq", "nobody", "dnsmasq");
        let snapshot = Snapshot {
            sockets: vec![udp("127.0.0.1", 5300, vec![daemon.clone()])],
            ..Default::default()
        };
        // A double-forked daemon: its group and session are its dead first child's.
        let health = ProcessHealth {
            key: daemon.key,
            exe: ExeState::Current,
            lineage: Some(Lineage {
                ppid: 1,
                pgid: 1999,
                sid: 1999,
                group_leader_alive: false,
                adopted_by: Some((1, "init".into())),
                adopter_sid: Some(1),
            }),
        };
        let report = examine(&snapshot, &SystemFacts::default(), &[health]);
        assert_eq!(report.findings, Vec::new());
    }

    /// `true | python3 -m http.server` typed in a terminal: the pipeline's first process leads
    /// the job's group and exits at once, the server's parent is the shell, which still runs
    /// the job in the foreground. Nothing was left behind.
    #[test]
    fn a_job_of_a_live_shell_whose_first_process_exited_is_not_left_behind() {
        let server = owner(28338, "python3", "ana", "python3 -m http.server 8000");
        let snapshot = Snapshot {
            sockets: vec![listener("127.0.0.1", 8000, vec![server.clone()])],
            ..Default::default()
        };
        let job = |adopted_by: (u32, &str), adopter_sid: u32| ProcessHealth {
            key: server.key,
            exe: ExeState::Current,
            lineage: Some(Lineage {
                ppid: adopted_by.0,
                pgid: 28337,
                sid: 28298,
                group_leader_alive: false,
                adopted_by: Some((adopted_by.0, adopted_by.1.into())),
                adopter_sid: Some(adopter_sid),
            }),
        };
        // The terminal's shell, or a shell started inside it: the same session.
        for (adopter, sid) in [((28298, "bash"), 28298), ((28310, "bash"), 28298)] {
            let report = examine(&snapshot, &SystemFacts::default(), &[job(adopter, sid)]);
            assert_eq!(report.findings, Vec::new(), "{adopter:?}");
        }
        // Adopted by init, or by a `systemd --user` of another session, once the shell is gone.
        for (adopter, sid) in [((1, "init"), 1), ((900, "systemd"), 900)] {
            let report = examine(&snapshot, &SystemFacts::default(), &[job(adopter, sid)]);
            assert_eq!(
                report.findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
                [Kind::Orphaned],
                "{adopter:?}"
            );
        }
        // Init of a whole container's session adopts as much as any init does.
        let mut session_one = job((1, "init"), 1);
        if let Some(lineage) = &mut session_one.lineage {
            lineage.sid = 1;
        }
        let report = examine(&snapshot, &SystemFacts::default(), &[session_one]);
        assert_eq!(report.findings.len(), 1);
    }
}
