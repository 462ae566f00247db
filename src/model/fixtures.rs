//! Fixture builders for tests and benchmarks: sockets, owners and snapshots with fixed,
//! deterministic values.

use std::net::IpAddr;

use super::{OsText, Owner, ProcKey, Proto, Scope, Snapshot, Socket, SocketState, UnknownOwner};

/// An owner with a fixed start time derived from the pid, so fixtures stay deterministic.
pub fn owner(pid: u32, name: &str, user: &str, cmdline: &str) -> Owner {
    Owner {
        key: ProcKey {
            pid,
            start_time: 1_764_139_200 + u64::from(pid),
            start_ticks: 0,
        },
        name: name.into(),
        user: Some(user.into()),
        cmdline: cmdline.into(),
        argv: cmdline
            .split(' ')
            .filter(|a| !a.is_empty())
            .map(OsText::from)
            .collect(),
    }
}

/// A process named and started as a hostile local user may: an OSC title sequence in its name,
/// a bidi override in its user, and in its arguments a screen clear, a cursor move up over
/// the line before, a newline forging a line, a C1 CSI and zero-width characters.
pub fn hostile_owner(pid: u32) -> Owner {
    owner(
        pid,
        "ev\u{1b}]0;pwned\u{7}il",
        "ro\u{202e}ot",
        "node \u{1b}[2J\u{1b}[2K\r\u{1b}[1Asend SIGTERM to sshd 1\nfake row\u{9b}31m\u{200b}\u{2066}x\u{feff}",
    )
}

/// A TCP listener on `addr:port` held by `owners`.
pub fn listener(addr: &str, port: u16, owners: Vec<Owner>) -> Socket {
    socket(Proto::Tcp, addr, port, SocketState::Listen, owners)
}

/// A bound UDP socket on `addr:port` held by `owners`.
pub fn udp(addr: &str, port: u16, owners: Vec<Owner>) -> Socket {
    socket(Proto::Udp, addr, port, SocketState::Bound, owners)
}

/// A TCP connection end from `local` to `remote`.
pub fn connection(
    local: (&str, u16),
    remote: (&str, u16),
    state: SocketState,
    owners: Vec<Owner>,
) -> Socket {
    let mut s = socket(Proto::Tcp, local.0, local.1, state, owners);
    s.remote = Some((parse(remote.0), remote.1));
    s.inode = fake_inode(&s);
    s
}

/// A listener whose owner is hidden by permissions; only the socket's uid is known.
pub fn hidden_listener(addr: &str, port: u16, uid: u32, user: &str) -> Socket {
    let mut s = socket(Proto::Tcp, addr, port, SocketState::Listen, Vec::new());
    s.unknown = Some(UnknownOwner::PermissionDenied);
    s.uid = Some(uid);
    s.user = Some(user.into());
    s
}

pub fn socket(
    proto: Proto,
    addr: &str,
    port: u16,
    state: SocketState,
    owners: Vec<Owner>,
) -> Socket {
    let local_addr = parse(addr);
    let unknown = owners
        .is_empty()
        .then_some(if state == SocketState::TimeWait {
            UnknownOwner::Kernel
        } else {
            UnknownOwner::NotFound
        });
    let user = owners.first().and_then(|o| o.user.clone());
    let mut s = Socket {
        proto,
        local_addr,
        local_port: port,
        remote: None,
        state,
        scope: Scope::of(local_addr),
        inode: 0,
        uid: Some(1000),
        user,
        owners: owners.into(),
        unknown,
        container: None,
        forward: None,
    };
    s.inode = fake_inode(&s);
    s
}

/// `node server.js` (pid 4812, user alice) listening on 127.0.0.1:3000, and nothing else: the
/// process the stop tests stop.
pub fn node_on_3000() -> Snapshot {
    Snapshot {
        sockets: vec![listener(
            "127.0.0.1",
            3000,
            vec![owner(4812, "node", "alice", "node server.js")],
        )],
        privileged: true,
        ..Default::default()
    }
}

/// A small, varied snapshot: dev servers, a database, a shared pre-fork socket, UDP, IPv6,
/// a wildcard listener, a hidden owner and a loopback connection pair.
pub fn sample_snapshot() -> Snapshot {
    let node = owner(4812, "node", "ana", "node server.js");
    let pg = owner(
        912,
        "postgres",
        "postgres",
        "/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main",
    );
    let nginx: Vec<Owner> = [
        (2100, "nginx: master process"),
        (2101, "nginx: worker process"),
        (2102, "nginx: worker process"),
        (2103, "nginx: worker process"),
    ]
    .iter()
    .map(|(pid, cmd)| owner(*pid, "nginx", "www-data", cmd))
    .collect();
    let curl = owner(7001, "curl", "ana", "curl http://127.0.0.1:5173/");
    Snapshot {
        sockets: vec![
            listener("127.0.0.1", 5173, vec![node.clone()]),
            listener("::1", 5173, vec![node.clone()]),
            listener("127.0.0.1", 5432, vec![pg.clone()]),
            listener("0.0.0.0", 8080, nginx),
            listener(
                "::",
                9229,
                vec![owner(
                    5120,
                    "node",
                    "ana",
                    "node --inspect=0.0.0.0:9229 worker.js",
                )],
            ),
            udp(
                "127.0.0.53",
                53,
                vec![owner(
                    640,
                    "systemd-resolve",
                    "systemd-resolve",
                    "/lib/systemd/systemd-resolved",
                )],
            ),
            udp(
                "0.0.0.0",
                5353,
                vec![owner(
                    701,
                    "avahi-daemon",
                    "avahi",
                    "avahi-daemon: running [host.local]",
                )],
            ),
            hidden_listener("127.0.0.1", 6379, 110, "redis"),
            connection(
                ("127.0.0.1", 62893),
                ("127.0.0.1", 5173),
                SocketState::Established,
                vec![curl],
            ),
            connection(
                ("127.0.0.1", 5173),
                ("127.0.0.1", 62893),
                SocketState::Established,
                vec![node],
            ),
            connection(
                ("127.0.0.1", 41000),
                ("127.0.0.1", 5432),
                SocketState::TimeWait,
                Vec::new(),
            ),
        ],
        privileged: false,
        ..Default::default()
    }
}

/// Forwarders and what they lead to: an ssh tunnel (`-L`, with `-R` and `-D` beside it,
/// through a jump host), `kubectl port-forward`, socat, a docker-proxy no engine was asked
/// about, and a plain server for contrast.
pub fn tunnels() -> Snapshot {
    let ssh = owner(
        4120,
        "ssh",
        "ana",
        "ssh -N -L 127.0.0.1:15432:db.internal:5432 -R 9000:localhost:3000 -D 1080 -J jump.example bastion",
    );
    let kubectl = owner(
        5100,
        "kubectl",
        "ana",
        "kubectl -n shop port-forward svc/postgres 25432:5432",
    );
    let socat = owner(
        6100,
        "socat",
        "ana",
        "socat TCP-LISTEN:8081,bind=127.0.0.1,fork,reuseaddr TCP:127.0.0.1:80",
    );
    let proxy = owner(
        7200,
        "docker-proxy",
        "root",
        "/usr/bin/docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 18080 -container-ip 172.17.0.2 -container-port 8080",
    );
    Snapshot {
        sockets: vec![
            listener("127.0.0.1", 15432, vec![ssh.clone()]),
            listener("127.0.0.1", 1080, vec![ssh.clone()]),
            listener("::1", 1080, vec![ssh.clone()]),
            connection(
                ("10.0.0.7", 51022),
                ("10.0.0.5", 22),
                SocketState::Established,
                vec![ssh],
            ),
            listener("127.0.0.1", 25432, vec![kubectl.clone()]),
            listener("::1", 25432, vec![kubectl]),
            listener("127.0.0.1", 8081, vec![socat]),
            listener("127.0.0.1", 18080, vec![proxy]),
            listener(
                "127.0.0.1",
                3000,
                vec![owner(4812, "node", "ana", "node server.js")],
            ),
        ],
        privileged: true,
        ..Default::default()
    }
}

/// A busy host: `n` sockets (listeners on 127.0.0.1, ::1 and 0.0.0.0, UDP, connection ends)
/// held by 50 processes, for benchmarks and tests of large tables.
pub fn many_sockets(n: usize) -> Snapshot {
    let addrs = ["127.0.0.1", "::1", "0.0.0.0"];
    let sockets = (0..n)
        .map(|i| {
            let pid = 1000 + u32::try_from(i % 50).unwrap_or(0);
            let owners = vec![owner(
                pid,
                "server",
                "ana",
                "server --port-range 10000-60000",
            )];
            let port = u16::try_from(10_000 + i % 50_000).unwrap_or(u16::MAX);
            let mut s = match i % 10 {
                0..=3 => listener(addrs[i % 3], port, owners),
                4 | 5 => udp(addrs[i % 3], port, owners),
                _ => connection(
                    ("127.0.0.1", port),
                    ("127.0.0.1", 5432),
                    SocketState::Established,
                    owners,
                ),
            };
            // Distinct inodes, as the kernel's are.
            s.inode = 1_000_000 + i as u64;
            s
        })
        .collect();
    Snapshot {
        sockets,
        privileged: false,
        ..Default::default()
    }
}

fn parse(addr: &str) -> IpAddr {
    addr.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// A deterministic, distinct inode per fixture socket (the real kernel's are just as arbitrary).
fn fake_inode(s: &Socket) -> u64 {
    let remote_port = s.remote.map_or(0, |(_, p)| u64::from(p));
    let family = u64::from(s.local_addr.is_ipv6());
    let proto = u64::from(s.proto == Proto::Udp);
    100_000 + u64::from(s.local_port) * 100_000 + remote_port * 4 + family * 2 + proto
}

/// [`sample_snapshot`] plus a vite dev server on 127.0.0.1:3000 that opened since.
pub fn sample_with_vite() -> Snapshot {
    let mut s = sample_snapshot();
    s.sockets.push(listener(
        "127.0.0.1",
        3000,
        vec![owner(4900, "node", "ana", "vite")],
    ));
    s
}

/// Property-test settings for the parsers fed from outside: `default` cases in `cargo test`,
/// or as many as `LOOPWATCH_FUZZ_CASES` asks for (`scripts/fuzz.sh` runs them long).
#[cfg(test)]
pub(crate) fn fuzz_config(default: u32) -> proptest::prelude::ProptestConfig {
    let cases = std::env::var("LOOPWATCH_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    proptest::prelude::ProptestConfig {
        // A long run is about finding new inputs, not shrinking old ones slowly.
        max_shrink_iters: 4096,
        ..proptest::prelude::ProptestConfig::with_cases(cases)
    }
}
