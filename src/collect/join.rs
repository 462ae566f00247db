//! Pure combination of what the sources found into a [`Snapshot`]: which sockets a query wants,
//! address normalisation, scope, de-duplication, and why an owner is unknown. No OS access here,
//! so every rule is a table test.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{OwnerLookup, ProcessInfo, Query, RawSocket, Viewer};
use crate::model::{
    OsText, Owner, Scope, Snapshot, Socket, SocketKey, SocketState, UnknownOwner, normalize_addr,
};

/// Whether `query` wants `raw`. Cheap, so sources call it before any owner lookup.
///
/// The rules themselves live in [`Query::admits`], shared with the app; this only brings a raw
/// socket to the terms they are stated in: the scope of its normalised address.
pub fn wants(query: &Query, raw: &RawSocket) -> bool {
    let scope = Scope::of(normalize_addr(raw.local_addr));
    query.admits(scope, raw.state, raw.local_port)
}

/// Joins raw sockets with their owners and processes.
///
/// `processes` holds what is known about each owning pid; a pid missing from it exited between
/// the owner lookup and the process read, and is dropped. `users` names the sockets' uids.
pub fn join<P: BuildHasher, U: BuildHasher>(
    raw: &[RawSocket],
    owners: &OwnerLookup,
    processes: &HashMap<u32, ProcessInfo, P>,
    users: &HashMap<u32, String, U>,
    viewer: Viewer,
) -> Snapshot {
    let mut shared = Shared::default();
    let (first, mut merged) = dedupe(raw);
    let mut sockets = Vec::with_capacity(first.iter().filter(|&&keep| keep).count());
    sockets.extend(
        raw.iter()
            .zip(first)
            .enumerate()
            .filter(|(_, (_, keep))| *keep)
            .map(|(i, (raw, _))| {
                let mut raw = normalized(raw);
                if let Some(pids) = merged.remove(&i) {
                    raw.to_mut().pids = Some(pids);
                }
                join_one(&raw, owners, processes, users, viewer, &mut shared)
            }),
    );
    // Listed in order here, on the collector's thread, so the UI's own call only checks: the
    // same order on every refresh, whatever order the kernel's hash tables gave. Keys are
    // unique after `dedupe`, so the unstable sort (no scratch copy) is deterministic.
    sockets.sort_unstable_by(crate::model::listing_order);
    Snapshot {
        sockets,
        privileged: viewer.privileged,
        ..Default::default()
    }
}

/// A raw socket with its addresses normalised, so the same socket reported through an IPv6
/// dump (`::ffff:127.0.0.1`) and an IPv4 one compares equal. Borrowed when already normal
/// (nearly always): the collector keeps the raw sockets, and a copy of 100,000 would be most of
/// a join's memory.
fn normalized(raw: &RawSocket) -> Cow<'_, RawSocket> {
    let local = normalize_addr(raw.local_addr);
    let remote = raw.remote.map(|(addr, port)| (normalize_addr(addr), port));
    if local == raw.local_addr && remote == raw.remote {
        return Cow::Borrowed(raw);
    }
    let mut owned = raw.clone();
    owned.local_addr = local;
    owned.remote = remote;
    Cow::Owned(owned)
}

/// The key of `raw` once normalised (see [`normalized`]), without copying it.
fn normal_key(raw: &RawSocket) -> SocketKey {
    SocketKey {
        proto: raw.proto,
        local_addr: normalize_addr(raw.local_addr),
        local_port: raw.local_port,
        remote: raw.remote.map(|(addr, port)| (normalize_addr(addr), port)),
        inode: raw.inode,
    }
}

/// Finds repeated sockets (equal once normalised): which reports are the first of their socket,
/// in order of appearance, and for a first report whose repeats carried pids of their own, all
/// of them. Platforms that list sockets per process (macOS lists one row per pid and fd, with no
/// inode) report a shared socket once per holder, so the duplicates' pids are merged into the
/// first instead of being lost. Indices are sorted by key rather than hashed: 4 bytes per
/// socket instead of a table of keys, at 100,000 sockets a tenth of the memory.
fn dedupe(raw: &[RawSocket]) -> (Vec<bool>, HashMap<usize, Vec<u32>>) {
    let mut first = vec![true; raw.len()];
    let mut merged: HashMap<usize, Vec<u32>> = HashMap::new();
    let mut order: Vec<usize> = (0..raw.len()).collect();
    // Reports of one socket carry its inode, so only reports sharing an inode (and protocol)
    // can repeat each other: a cheap sort on those finds the few runs worth comparing whole.
    // Ties keep their order of appearance, so the first of each run is the first report.
    order.sort_unstable_by_key(|&i| (raw[i].inode, raw[i].proto, i));
    for run in
        order.chunk_by_mut(|&a, &b| (raw[a].inode, raw[a].proto) == (raw[b].inode, raw[b].proto))
    {
        if run.len() < 2 {
            continue;
        }
        run.sort_by_key(|&i| (normal_key(&raw[i]), i));
        for same in run.chunk_by(|&a, &b| normal_key(&raw[a]) == normal_key(&raw[b])) {
            let [keeper, repeats @ ..] = same else {
                continue;
            };
            if repeats.is_empty() {
                continue;
            }
            let mut pids = raw[*keeper].pids.clone();
            for &repeat in repeats {
                first[repeat] = false;
                if let Some(more) = &raw[repeat].pids {
                    pids.get_or_insert_with(Vec::new).extend(more);
                }
            }
            if let Some(pids) = pids {
                merged.insert(*keeper, pids);
            }
        }
    }
    (first, merged)
}

/// Owners, owner lists and user names built once and shared by every socket that has them: a
/// process with 10,000 connections is one set of strings and one list, not 10,000 copies.
#[derive(Default)]
struct Shared {
    owners: FxHashMap<u32, Owner>,
    owner_lists: FxHashMap<Box<[u32]>, Arc<[Owner]>>,
    users: FxHashMap<u32, OsText>,
}

fn join_one<P: BuildHasher, U: BuildHasher>(
    raw: &RawSocket,
    owners: &OwnerLookup,
    processes: &HashMap<u32, ProcessInfo, P>,
    users: &HashMap<u32, String, U>,
    viewer: Viewer,
    shared: &mut Shared,
) -> Socket {
    let pids = owning_pids(raw, owners);
    // One list per set of pids, shared by every socket those processes hold together.
    let found: Arc<[Owner]> = if let Some(list) = shared.owner_lists.get(&pids[..]) {
        Arc::clone(list)
    } else {
        let list: Arc<[Owner]> = pids
            .iter()
            .filter_map(|pid| {
                let info = processes.get(pid)?;
                Some(
                    shared
                        .owners
                        .entry(*pid)
                        .or_insert_with(|| owner_from(info))
                        .clone(),
                )
            })
            .collect();
        shared
            .owner_lists
            .insert(pids.to_vec().into(), Arc::clone(&list));
        list
    };
    let unknown = if found.is_empty() {
        Some(unknown_reason(raw, !pids.is_empty(), viewer, owners))
    } else {
        None
    };
    Socket {
        proto: raw.proto,
        local_addr: raw.local_addr,
        local_port: raw.local_port,
        remote: raw.remote,
        state: raw.state,
        scope: Scope::of(raw.local_addr),
        inode: raw.inode,
        uid: raw.uid,
        user: raw.uid.and_then(|uid| {
            let name = users.get(&uid)?;
            Some(
                shared
                    .users
                    .entry(uid)
                    .or_insert_with(|| OsText::from(name.as_str()))
                    .clone(),
            )
        }),
        owners: found,
        unknown,
        container: None,
        forward: None,
    }
}

/// The pids holding `raw`, ascending and without repeats: reported by the socket source itself
/// where the platform does that, else found by inode. Pid 0 is never a process that can be shown
/// (Windows uses it for "no process", e.g. TIME_WAIT).
pub(crate) fn owning_pids<'a>(raw: &'a RawSocket, owners: &'a OwnerLookup) -> Cow<'a, [u32]> {
    let reported = match &raw.pids {
        Some(pids) => pids.as_slice(),
        None if raw.inode == 0 => &[],
        None => owners
            .pids_by_inode
            .get(&raw.inode)
            .map_or(&[][..], |pids| &pids[..]),
    };
    // The owner cache's lists are already so: borrowed, nothing allocated per socket.
    if reported.windows(2).all(|w| w[0] < w[1]) && !reported.contains(&0) {
        return Cow::Borrowed(reported);
    }
    let mut pids: Vec<u32> = reported.iter().copied().filter(|&pid| pid != 0).collect();
    pids.sort_unstable();
    pids.dedup();
    Cow::Owned(pids)
}

fn owner_from(info: &ProcessInfo) -> Owner {
    Owner {
        key: info.key,
        name: info.name.as_str().into(),
        user: info.user.as_deref().map(OsText::new),
        cmdline: info.cmdline.join(" ").into(),
        argv: info.cmdline.iter().map(OsText::new).collect(),
    }
}

/// Why no owner is shown for `raw`. `had_pids` says some pid held it when we looked, but none of
/// them could be described (they exited in between).
fn unknown_reason(
    raw: &RawSocket,
    had_pids: bool,
    viewer: Viewer,
    lookup: &OwnerLookup,
) -> UnknownOwner {
    if had_pids {
        return UnknownOwner::NotFound;
    }
    // TIME_WAIT outlives every process on every platform.
    if raw.state == SocketState::TimeWait {
        return UnknownOwner::Kernel;
    }
    let asks_owner_source = raw.pids.is_none();
    if asks_owner_source && raw.inode == 0 {
        // With a uid the platform does report sockets by inode (Linux), and inode 0 means no file
        // refers to the socket: the kernel holds it (TIME_WAIT, SYN_RECV, kernel UDP sockets of
        // WireGuard or VXLAN). With neither pids nor inode nor uid nothing could ever name the
        // owner: the platform does not report owners.
        return if raw.uid.is_some() {
            UnknownOwner::Kernel
        } else {
            UnknownOwner::Unsupported
        };
    }
    // Not looked for yet (the first look at a large table): nothing is known either way.
    if asks_owner_source && lookup.not_read {
        return UnknownOwner::Reading;
    }
    // The search was cut short: any process may hold it, this user's or another's.
    if asks_owner_source && lookup.out_of_descriptors {
        return UnknownOwner::OutOfDescriptors;
    }
    if is_hidden_from(raw, viewer) {
        return UnknownOwner::PermissionDenied;
    }
    UnknownOwner::NotFound
}

/// Another user's socket, which an unprivileged viewer cannot trace to a process: their
/// `/proc/<pid>/fd` is unreadable to us.
fn is_hidden_from(raw: &RawSocket, viewer: Viewer) -> bool {
    !viewer.privileged && raw.uid.is_some_and(|uid| Some(uid) != viewer.uid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ProcKey, Proto};
    use std::net::{IpAddr, SocketAddr};

    const ME: u32 = 1000;
    const OTHER: u32 = 110;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn raw(proto: Proto, addr: &str, port: u16, state: SocketState, inode: u64) -> RawSocket {
        RawSocket {
            proto,
            local_addr: ip(addr),
            local_port: port,
            remote: None,
            state,
            inode,
            uid: Some(ME),
            pids: None,
        }
    }

    fn tcp_listen(addr: &str, port: u16, inode: u64) -> RawSocket {
        raw(Proto::Tcp, addr, port, SocketState::Listen, inode)
    }

    fn tcp_conn(local: (&str, u16), remote: (&str, u16), state: SocketState) -> RawSocket {
        let mut r = raw(Proto::Tcp, local.0, local.1, state, 0);
        r.remote = Some((ip(remote.0), remote.1));
        r
    }

    fn udp(addr: &str, port: u16, inode: u64) -> RawSocket {
        raw(Proto::Udp, addr, port, SocketState::Bound, inode)
    }

    fn info(pid: u32, name: &str) -> ProcessInfo {
        ProcessInfo {
            key: ProcKey {
                pid,
                start_time: 1_700_000_000 + u64::from(pid),
                start_ticks: 0,
            },
            name: name.to_string(),
            user: Some("ana".to_string()),
            cmdline: vec![name.to_string(), "--serve".to_string()],
        }
    }

    fn processes(pids: &[u32]) -> HashMap<u32, ProcessInfo> {
        pids.iter().map(|&pid| (pid, info(pid, "srv"))).collect()
    }

    fn lookup(entries: &[(u64, &[u32])]) -> OwnerLookup {
        OwnerLookup {
            pids_by_inode: entries
                .iter()
                .map(|(inode, pids)| (*inode, (*pids).into()))
                .collect(),
            ..OwnerLookup::default()
        }
    }

    fn users() -> HashMap<u32, String> {
        HashMap::from([(ME, "ana".to_string()), (OTHER, "redis".to_string())])
    }

    const USER: Viewer = Viewer {
        uid: Some(ME),
        privileged: false,
    };
    const ROOT: Viewer = Viewer {
        uid: Some(0),
        privileged: true,
    };

    fn join_one_socket(
        r: RawSocket,
        owners: &OwnerLookup,
        procs: &HashMap<u32, ProcessInfo>,
        viewer: Viewer,
    ) -> Socket {
        let snapshot = join(&[r], owners, procs, &users(), viewer);
        assert_eq!(snapshot.sockets.len(), 1);
        snapshot.sockets.into_iter().next().unwrap()
    }

    /// A TCP socket at `endpoint` (`addr:port`, IPv6 in brackets), for compact tables.
    fn tcp_at(endpoint: &str, state: SocketState) -> RawSocket {
        let at: SocketAddr = endpoint.parse().unwrap();
        raw(Proto::Tcp, &at.ip().to_string(), at.port(), state, 1)
    }

    fn udp_at(endpoint: &str) -> RawSocket {
        RawSocket {
            proto: Proto::Udp,
            state: SocketState::Bound,
            ..tcp_at(endpoint, SocketState::Bound)
        }
    }

    fn conn_at(local: &str, remote: &str) -> RawSocket {
        let peer: SocketAddr = remote.parse().unwrap();
        RawSocket {
            remote: Some((peer.ip(), peer.port())),
            ..tcp_at(local, SocketState::Established)
        }
    }

    #[test]
    fn wants_reachable_listeners_and_asked_for_extras() {
        let plain = Query::default();
        let conns = Query {
            connections: true,
            ..Query::default()
        };
        let all = Query {
            all_addresses: true,
            ..Query::default()
        };
        let listen = SocketState::Listen;
        let cases = [
            (
                "loopback listener",
                plain,
                tcp_at("127.0.0.1:80", listen),
                true,
            ),
            (
                "other loopback ip",
                plain,
                tcp_at("127.0.0.53:80", listen),
                true,
            ),
            ("v6 loopback", plain, tcp_at("[::1]:80", listen), true),
            (
                "mapped loopback",
                plain,
                tcp_at("[::ffff:127.0.0.1]:80", listen),
                true,
            ),
            ("wildcard v4", plain, tcp_at("0.0.0.0:80", listen), true),
            ("wildcard v6", plain, tcp_at("[::]:80", listen), true),
            ("udp bound", plain, udp_at("127.0.0.1:53"), true),
            (
                "this host hidden",
                plain,
                tcp_at("192.168.1.4:80", listen),
                false,
            ),
            (
                "mapped this host",
                plain,
                tcp_at("[::ffff:10.0.0.2]:80", listen),
                false,
            ),
            (
                "this host with --all",
                all,
                tcp_at("192.168.1.4:80", listen),
                true,
            ),
            ("udp this host", plain, udp_at("10.1.1.1:53"), false),
            (
                "connection hidden",
                plain,
                conn_at("127.0.0.1:5000", "127.0.0.1:80"),
                false,
            ),
            (
                "connection asked",
                conns,
                conn_at("127.0.0.1:5000", "127.0.0.1:80"),
                true,
            ),
            (
                "this-host connection",
                conns,
                conn_at("10.0.0.2:5000", "10.0.0.9:80"),
                false,
            ),
            (
                "time wait asked",
                conns,
                tcp_at("127.0.0.1:5000", SocketState::TimeWait),
                true,
            ),
        ];
        for (name, query, socket, expected) in cases {
            assert_eq!(wants(&query, &socket), expected, "{name}");
        }
    }

    #[test]
    fn a_port_query_wants_everything_on_that_local_port() {
        let port = Query {
            port: Some(5432),
            ..Query::default()
        };
        let listen = SocketState::Listen;
        let cases = [
            ("matches", tcp_at("127.0.0.1:5432", listen), true),
            ("other port", tcp_at("127.0.0.1:5433", listen), false),
            ("udp too", udp_at("127.0.0.1:5432"), true),
            (
                "connections too",
                conn_at("127.0.0.1:5432", "127.0.0.1:41000"),
                true,
            ),
            ("this host too", tcp_at("192.168.1.4:5432", listen), true),
            (
                "the client end",
                conn_at("127.0.0.1:41000", "127.0.0.1:5432"),
                false,
            ),
        ];
        for (name, socket, expected) in cases {
            assert_eq!(wants(&port, &socket), expected, "{name}");
        }
    }

    #[test]
    fn mapped_ipv4_is_normalised_in_local_and_remote_and_scoped_from_it() {
        let mut r = tcp_conn(
            ("::ffff:127.0.0.1", 8080),
            ("::ffff:127.0.0.1", 41000),
            SocketState::Established,
        );
        r.inode = 7;
        let s = join_one_socket(r, &lookup(&[(7, &[42])]), &processes(&[42]), ROOT);
        assert_eq!(s.local_addr, ip("127.0.0.1"));
        assert_eq!(s.remote, Some((ip("127.0.0.1"), 41000)));
        assert_eq!(s.scope, Scope::Loopback);

        let wildcard = join_one_socket(
            tcp_listen("::", 80, 8),
            &OwnerLookup::default(),
            &HashMap::new(),
            ROOT,
        );
        assert_eq!(wildcard.scope, Scope::AllInterfaces);
    }

    #[test]
    fn shared_socket_lists_every_holder_by_pid() {
        let r = tcp_listen("0.0.0.0", 8080, 99);
        let owners = lookup(&[(99, &[2103, 2100, 2102, 2101, 2100])]);
        let s = join_one_socket(r, &owners, &processes(&[2100, 2101, 2102, 2103]), USER);
        let pids: Vec<u32> = s.owners.iter().map(|o| o.key.pid).collect();
        assert_eq!(pids, [2100, 2101, 2102, 2103]);
        assert_eq!(s.unknown, None);
        assert_eq!(s.owners[0].cmdline, "srv --serve");
        assert_eq!(s.owners[0].key.start_time, 1_700_002_100);
        assert_eq!(s.pid_label(), "2100 +3");
    }

    #[test]
    fn pids_reported_by_the_socket_source_win_over_the_lookup() {
        let mut r = tcp_listen("127.0.0.1", 80, 0);
        r.pids = Some(vec![9, 0, 7, 9]);
        r.uid = None;
        let s = join_one_socket(r, &lookup(&[(0, &[1])]), &processes(&[1, 7, 9]), ROOT);
        let pids: Vec<u32> = s.owners.iter().map(|o| o.key.pid).collect();
        assert_eq!(pids, [7, 9], "pid 0 is no process; repeats collapse");
    }

    #[test]
    fn owners_that_exited_meanwhile_are_dropped() {
        let owners = lookup(&[(5, &[10, 11])]);
        let partly = join_one_socket(
            tcp_listen("127.0.0.1", 80, 5),
            &owners,
            &processes(&[11]),
            USER,
        );
        assert_eq!(partly.owners.len(), 1);
        assert_eq!(partly.owners[0].key.pid, 11);

        let gone = join_one_socket(
            tcp_listen("127.0.0.1", 80, 5),
            &owners,
            &HashMap::new(),
            USER,
        );
        assert!(gone.owners.is_empty());
        assert_eq!(gone.unknown, Some(UnknownOwner::NotFound));
    }

    /// A TIME_WAIT connection end of root's: held by the kernel, known without any process.
    fn root_time_wait() -> RawSocket {
        let mut time_wait = tcp_conn(
            ("127.0.0.1", 41000),
            ("127.0.0.1", 5432),
            SocketState::TimeWait,
        );
        time_wait.uid = Some(0);
        time_wait
    }

    #[test]
    fn unknown_owner_reasons() {
        use UnknownOwner::{Kernel, NotFound, PermissionDenied, Unsupported};

        let time_wait = root_time_wait();
        let mut syn_recv = tcp_conn(
            ("127.0.0.1", 80),
            ("127.0.0.1", 41001),
            SocketState::SynReceived,
        );
        syn_recv.uid = Some(0);
        let mut kernel_udp = udp("0.0.0.0", 51820, 0);
        kernel_udp.uid = Some(0);
        let mut others = tcp_listen("127.0.0.1", 6379, 31);
        others.uid = Some(OTHER);
        let mine_but_unfound = tcp_listen("127.0.0.1", 3000, 32);
        let mut no_uid = tcp_listen("127.0.0.1", 3001, 33);
        no_uid.uid = None;
        let mut windows_time_wait = time_wait.clone();
        windows_time_wait.uid = None;
        windows_time_wait.pids = Some(vec![0]);
        let mut windows_no_pid = tcp_listen("127.0.0.1", 3002, 0);
        windows_no_pid.uid = None;
        windows_no_pid.pids = Some(vec![0]);
        let mut no_information = tcp_listen("127.0.0.1", 3003, 0);
        no_information.uid = None;

        let cases: Vec<(&str, RawSocket, Viewer, UnknownOwner)> = vec![
            ("time wait", time_wait.clone(), USER, Kernel),
            ("time wait as root", time_wait, ROOT, Kernel),
            ("syn recv has no inode", syn_recv, USER, Kernel),
            ("kernel udp socket", kernel_udp, USER, Kernel),
            (
                "another user's socket",
                others.clone(),
                USER,
                PermissionDenied,
            ),
            (
                "root sees everything, so it is gone",
                others,
                ROOT,
                NotFound,
            ),
            ("own socket not found", mine_but_unfound, USER, NotFound),
            ("no uid to compare", no_uid, USER, NotFound),
            ("windows time wait pid 0", windows_time_wait, ROOT, Kernel),
            ("windows pid 0 listener", windows_no_pid, ROOT, NotFound),
            ("platform without owners", no_information, ROOT, Unsupported),
        ];
        for (name, r, viewer, expected) in cases {
            let s = join_one_socket(r, &OwnerLookup::default(), &HashMap::new(), viewer);
            assert!(s.owners.is_empty(), "{name}");
            assert_eq!(s.unknown, Some(expected), "{name}");
        }
    }

    /// Before any process is read, a socket's owner is "reading", whoever may be looking;
    /// what needs no process to know (the kernel holds it) is said at once.
    #[test]
    fn owners_not_read_yet_are_reading_except_the_kernels() {
        let not_read = OwnerLookup {
            not_read: true,
            ..OwnerLookup::default()
        };
        let time_wait = root_time_wait();
        let mut others = tcp_listen("127.0.0.1", 6379, 31);
        others.uid = Some(OTHER);
        let mine = tcp_listen("127.0.0.1", 3000, 32);
        for (raw, viewer, expected) in [
            (time_wait, USER, UnknownOwner::Kernel),
            (others, USER, UnknownOwner::Reading),
            (mine.clone(), USER, UnknownOwner::Reading),
            (mine, ROOT, UnknownOwner::Reading),
        ] {
            let s = join_one_socket(raw, &not_read, &HashMap::new(), viewer);
            assert!(s.owners.is_empty());
            assert_eq!(s.unknown, Some(expected));
        }
    }

    #[test]
    fn hidden_owner_keeps_the_sockets_uid_and_user() {
        let mut r = tcp_listen("127.0.0.1", 6379, 31);
        r.uid = Some(OTHER);
        let snapshot = join(
            &[r],
            &OwnerLookup::default(),
            &HashMap::new(),
            &users(),
            USER,
        );
        let s = &snapshot.sockets[0];
        assert_eq!(s.uid, Some(OTHER));
        assert_eq!(s.user.as_ref().map(OsText::raw), Some("redis"));
        assert_eq!(s.user_label(), "redis");
        assert_eq!(snapshot.hidden_owner_count(), 1);
        assert!(!snapshot.privileged);
    }

    #[test]
    fn inode_zero_is_never_looked_up() {
        // A stale lookup entry for inode 0 must not make a kernel-held socket look owned.
        let r = tcp_conn(
            ("127.0.0.1", 41000),
            ("127.0.0.1", 80),
            SocketState::FinWait2,
        );
        let s = join_one_socket(r, &lookup(&[(0, &[1])]), &processes(&[1]), ROOT);
        assert!(s.owners.is_empty());
        assert_eq!(s.unknown, Some(UnknownOwner::Kernel));
    }

    #[test]
    fn identical_sockets_are_reported_once_keeping_the_first() {
        let first = tcp_listen("::ffff:127.0.0.1", 80, 5);
        let mut same_after_normalising = tcp_listen("127.0.0.1", 80, 5);
        same_after_normalising.uid = Some(OTHER);
        let different_inode = tcp_listen("127.0.0.1", 80, 6);
        let snapshot = join(
            &[first, same_after_normalising, different_inode],
            &lookup(&[(5, &[1]), (6, &[2])]),
            &processes(&[1, 2]),
            &users(),
            ROOT,
        );
        let inodes: Vec<u64> = snapshot.sockets.iter().map(|s| s.inode).collect();
        assert_eq!(inodes, [5, 6]);
        assert_eq!(snapshot.sockets[0].uid, Some(ME), "the first report wins");
        assert!(snapshot.privileged);
    }

    #[test]
    fn duplicates_from_per_process_listings_merge_their_pids() {
        let per_pid = |pid| {
            let mut r = tcp_listen("0.0.0.0", 8080, 0);
            r.uid = None;
            r.pids = Some(vec![pid]);
            r
        };
        let snapshot = join(
            &[per_pid(12), per_pid(10), per_pid(11), per_pid(10)],
            &OwnerLookup::default(),
            &processes(&[10, 11, 12]),
            &users(),
            ROOT,
        );
        assert_eq!(snapshot.sockets.len(), 1);
        let pids: Vec<u32> = snapshot.sockets[0]
            .owners
            .iter()
            .map(|o| o.key.pid)
            .collect();
        assert_eq!(pids, [10, 11, 12]);
    }
}

#[cfg(test)]
mod dedupe_properties {
    use std::collections::hash_map::Entry;

    use proptest::prelude::*;

    use super::*;
    use crate::model::Proto;

    /// The rule stated plainly: keep the first report of each normalised key, in order of
    /// appearance, with the pids of every repeat added to it.
    fn reference(raw: &[RawSocket]) -> Vec<RawSocket> {
        let mut index_of: HashMap<SocketKey, usize> = HashMap::new();
        let mut kept: Vec<RawSocket> = Vec::new();
        for socket in raw {
            let socket = normalized(socket).into_owned();
            match index_of.entry(normal_key(&socket)) {
                Entry::Vacant(slot) => {
                    slot.insert(kept.len());
                    kept.push(socket);
                }
                Entry::Occupied(slot) => {
                    if let Some(more) = &socket.pids {
                        kept[*slot.get()]
                            .pids
                            .get_or_insert_with(Vec::new)
                            .extend(more);
                    }
                }
            }
        }
        kept
    }

    fn fast(raw: &[RawSocket]) -> Vec<RawSocket> {
        let (first, mut merged) = dedupe(raw);
        raw.iter()
            .zip(first)
            .enumerate()
            .filter(|(_, (_, keep))| *keep)
            .map(|(i, (socket, _))| {
                let mut socket = normalized(socket).into_owned();
                if let Some(pids) = merged.remove(&i) {
                    socket.pids = Some(pids);
                }
                socket
            })
            .collect()
    }

    fn any_raw() -> impl Strategy<Value = RawSocket> {
        let addrs = ["127.0.0.1", "::ffff:127.0.0.1", "::1", "0.0.0.0"];
        (
            any::<bool>(),
            0..addrs.len(),
            0..3u16,
            0..3u64,
            proptest::option::of(proptest::collection::vec(0..4u32, 0..3)),
            any::<bool>(),
        )
            .prop_map(move |(tcp, addr, port, inode, pids, connected)| RawSocket {
                proto: if tcp { Proto::Tcp } else { Proto::Udp },
                local_addr: addrs[addr]
                    .parse()
                    .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
                local_port: port,
                remote: connected.then(|| {
                    (
                        "::ffff:127.0.0.1"
                            .parse()
                            .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
                        9,
                    )
                }),
                state: SocketState::Listen,
                inode,
                uid: None,
                pids,
            })
    }

    proptest! {
        /// The inode-first dedupe keeps, merges and orders exactly as the plain rule does.
        #[test]
        fn dedupe_agrees_with_the_plain_rule(raw in proptest::collection::vec(any_raw(), 0..40)) {
            prop_assert_eq!(fast(&raw), reference(&raw));
        }
    }
}
