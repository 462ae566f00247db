//! The only code that reads the OS. Everything else receives a [`Snapshot`].
//!
//! Collection is split into three sources so each can be faked, cached or replaced per platform:
//! sockets (what is bound), owners (which pids hold each socket) and processes (what those pids
//! are). [`join`] combines their answers into a snapshot without touching the OS.

pub mod bind_probe;
pub mod clock;
pub mod containers;
pub mod details;
pub mod engine;
pub mod facts;
#[cfg(any(test, feature = "testing"))]
pub mod fake;
pub mod health;
pub mod join;
pub mod owners;
pub mod poller;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod process_files;
pub mod processes;
pub mod signals;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub mod sock_diag;
pub mod sockets;
pub mod units;

use std::collections::HashMap;
use std::net::IpAddr;

#[cfg(test)]
use crate::model::OsText;
use crate::model::{ProcKey, Proto, Snapshot, SocketState};
// Re-exported to the collectors below: the vocabulary they answer in.
use crate::model::{CollectError, Query};

/// A socket as the OS reports it, before owners are joined in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSocket {
    pub proto: Proto,
    /// As reported: may be IPv4-mapped IPv6; [`join`] normalises it.
    pub local_addr: IpAddr,
    pub local_port: u16,
    pub remote: Option<(IpAddr, u16)>,
    pub state: SocketState,
    /// Kernel socket inode; 0 when the platform has none or the kernel holds the socket alone.
    pub inode: u64,
    /// Owning uid, where the platform reports it.
    pub uid: Option<u32>,
    /// Owning pids when the platform's socket API reports them itself (non-Linux); `None` means
    /// "ask the [`OwnerSource`]".
    pub pids: Option<Vec<u32>>,
}

/// The pids holding one socket. Shared: the owner cache hands its lists to every tick, and at
/// 100,000 sockets a copy of each would be 100,000 allocations a second.
pub type Holders = std::sync::Arc<[u32]>;

/// The pids holding each socket inode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerLookup {
    pub pids_by_inode: rustc_hash::FxHashMap<u64, Holders>,
    /// Some process could not be read because this process had no descriptor left: a socket
    /// not found may be held by any process, and says so.
    pub out_of_descriptors: bool,
    /// No process was read yet: every socket's owner is [`UnknownOwner::Reading`] (see
    /// [`Collector::sockets_first`]).
    ///
    /// [`UnknownOwner::Reading`]: crate::model::UnknownOwner::Reading
    pub not_read: bool,
}

/// What loopwatch shows about an owning process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub key: ProcKey,
    pub name: String,
    pub user: Option<String>,
    pub cmdline: Vec<String>,
}

/// Who is looking: decides whether a socket with no visible owner is hidden by permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    /// Effective uid, where the platform has numeric uids.
    pub uid: Option<u32>,
    /// Can read every process's sockets (root on Unix).
    pub privileged: bool,
}

impl Viewer {
    /// This process, as the OS sees it.
    #[cfg(unix)]
    pub fn current() -> Viewer {
        let euid = rustix::process::geteuid();
        Viewer {
            uid: Some(euid.as_raw()),
            privileged: euid.is_root(),
        }
    }

    /// This process, as the OS sees it. Windows has no numeric uid, and netstat2 reports the
    /// owning pid of every socket there whoever asks, so nothing is hidden by permissions.
    #[cfg(not(unix))]
    pub fn current() -> Viewer {
        Viewer {
            uid: None,
            privileged: true,
        }
    }
}

/// Lists sockets.
pub trait SocketSource: Send {
    fn sockets(&mut self, query: &Query) -> Result<Vec<RawSocket>, CollectError>;
}

/// Finds which pids hold the given socket inodes.
pub trait OwnerSource: Send {
    fn owners(&mut self, inodes: &[u64]) -> OwnerLookup;
}

/// Describes processes by pid, and names uids.
pub trait ProcessSource: Send {
    fn processes(&mut self, pids: &[u32]) -> HashMap<u32, ProcessInfo>;
    fn user_name(&mut self, uid: u32) -> Option<String>;
}

/// Produces snapshots; the poller and the one-shot modes only see this.
pub trait Collector: Send {
    fn collect(&mut self, query: &Query) -> Result<Snapshot, CollectError>;

    /// Like [`Collector::collect`], but `None` when the snapshot would equal the one this
    /// collector returned last (after an error, the next success is always returned). The
    /// poller asks this every tick, so an unchanged system costs neither a snapshot nor a frame.
    fn collect_changed(&mut self, query: &Query) -> Result<Option<Snapshot>, CollectError> {
        self.collect(query).map(Some)
    }

    /// The snapshot returned last, made again from what it was made of (no OS access), or
    /// `None` where this collector cannot (before the first, after an error). A wrapper that
    /// adds to snapshots asks this instead of keeping a copy of every snapshot it was handed.
    fn last_again(&mut self) -> Option<Snapshot> {
        None
    }

    /// The sockets alone, every owner marked as still being read, where reading the owners
    /// would hold a first frame back (a large table); `None` where it would not. The next
    /// collection joins owners to this same dump, so the socket table is not read twice and
    /// the snapshot that follows lists exactly these sockets.
    fn sockets_first(&mut self, _query: &Query) -> Result<Option<Snapshot>, CollectError> {
        Ok(None)
    }
}

/// From this many sockets whose owners must be looked for, the live table's first look is
/// drawn before they are: each costs a `readlink` in `/proc` (~3 us), so from here on the
/// owners would hold the first frame back by more than ~60 ms (at 100,000 sockets, ~300 ms).
pub const DRAW_BEFORE_OWNERS_FROM: usize = 20_000;

/// Reads sockets, then only the owners and processes of the sockets the query wants, and joins
/// them. Each source is a trait object so tests and other platforms can swap one out.
pub struct SystemCollector {
    sockets: Box<dyn SocketSource>,
    owners: Box<dyn OwnerSource>,
    processes: Box<dyn ProcessSource>,
    viewer: Viewer,
    /// What the last snapshot was joined from, so an unchanged tick skips the join.
    last_inputs: Option<Inputs>,
    /// The dump [`Collector::sockets_first`] showed, with its query, for the next collection.
    first_dump: Option<(Query, Vec<RawSocket>)>,
    /// See [`DRAW_BEFORE_OWNERS_FROM`].
    draw_before_owners_from: usize,
}

/// Everything a snapshot is joined from: equal inputs make an equal snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Inputs {
    raw: Vec<RawSocket>,
    lookup: OwnerLookup,
    processes: HashMap<u32, ProcessInfo>,
    users: HashMap<u32, String>,
}

impl SystemCollector {
    pub fn new(
        sockets: Box<dyn SocketSource>,
        owners: Box<dyn OwnerSource>,
        processes: Box<dyn ProcessSource>,
        viewer: Viewer,
    ) -> Self {
        Self {
            sockets,
            owners,
            processes,
            viewer,
            last_inputs: None,
            first_dump: None,
            draw_before_owners_from: DRAW_BEFORE_OWNERS_FROM,
        }
    }

    /// Draws the first look before owners from `sockets` sockets instead of
    /// [`DRAW_BEFORE_OWNERS_FROM`] (tests, which cannot open that many in CI).
    #[must_use]
    pub fn drawing_before_owners_from(mut self, sockets: usize) -> Self {
        self.draw_before_owners_from = sockets;
        self
    }

    /// The real sources for this platform, seen by this process.
    pub fn for_this_platform() -> Result<Self, CollectError> {
        Ok(Self::new(
            Box::new(sockets::SystemSockets::new()),
            owners::platform_owner_source(),
            Box::new(processes::SystemProcesses::new()?),
            Viewer::current(),
        ))
    }

    /// Names every distinct uid among `raw` sockets.
    fn user_names(&mut self, raw: &[RawSocket]) -> HashMap<u32, String> {
        let mut uids: Vec<u32> = raw.iter().filter_map(|r| r.uid).collect();
        uids.sort_unstable();
        uids.dedup();
        uids.into_iter()
            .filter_map(|uid| Some((uid, self.processes.user_name(uid)?)))
            .collect()
    }

    /// The sockets `query` wants.
    fn dump(&mut self, query: Query) -> Result<Vec<RawSocket>, CollectError> {
        let mut raw = self.sockets.sockets(&query)?;
        // Sources should filter early (before building every row); this covers one that does not.
        raw.retain(|r| join::wants(&query, r));
        // Kept until the next tick for comparison: at its size, not the capacity it grew to.
        raw.shrink_to_fit();
        Ok(raw)
    }

    /// Reads sockets (or takes the dump the first look showed), then only the owners and
    /// processes of the sockets the query wants.
    fn inputs(&mut self, query: Query) -> Result<Inputs, CollectError> {
        let raw = match self.first_dump.take() {
            Some((shown, raw)) if shown == query => raw,
            _ => self.dump(query)?,
        };
        let lookup = self.owners.owners(&inodes_needing_owners(&raw));
        let processes = self.processes.processes(&owning_pids(&raw, &lookup));
        let users = self.user_names(&raw);
        Ok(Inputs {
            raw,
            lookup,
            processes,
            users,
        })
    }

    fn join(&self, inputs: &Inputs) -> Snapshot {
        join::join(
            &inputs.raw,
            &inputs.lookup,
            &inputs.processes,
            &inputs.users,
            self.viewer,
        )
    }
}

impl Collector for SystemCollector {
    fn collect(&mut self, query: &Query) -> Result<Snapshot, CollectError> {
        let inputs = self.inputs(*query);
        self.last_inputs = None;
        let inputs = inputs?;
        let snapshot = self.join(&inputs);
        self.last_inputs = Some(inputs);
        Ok(snapshot)
    }

    fn collect_changed(&mut self, query: &Query) -> Result<Option<Snapshot>, CollectError> {
        let inputs = self
            .inputs(*query)
            .inspect_err(|_| self.last_inputs = None)?;
        if self.last_inputs.as_ref() == Some(&inputs) {
            return Ok(None);
        }
        let snapshot = self.join(&inputs);
        self.last_inputs = Some(inputs);
        Ok(Some(snapshot))
    }

    fn last_again(&mut self) -> Option<Snapshot> {
        self.last_inputs.as_ref().map(|inputs| self.join(inputs))
    }

    fn sockets_first(&mut self, query: &Query) -> Result<Option<Snapshot>, CollectError> {
        let raw = self.dump(*query)?;
        let unread = raw
            .iter()
            .filter(|r| r.pids.is_none() && r.inode != 0)
            .count();
        let first = (unread >= self.draw_before_owners_from).then(|| {
            let users = self.user_names(&raw);
            let not_read = OwnerLookup {
                not_read: true,
                ..OwnerLookup::default()
            };
            Snapshot {
                reading_owners: true,
                ..join::join(&raw, &not_read, &HashMap::new(), &users, self.viewer)
            }
        });
        self.first_dump = Some((*query, raw));
        Ok(first)
    }
}

/// Inodes the owner source must resolve: sockets whose source gave no pids. Inode 0 is a socket
/// no file refers to (TIME_WAIT, kernel-held), which no process can be found holding.
fn inodes_needing_owners(raw: &[RawSocket]) -> Vec<u64> {
    let mut inodes: Vec<u64> = raw
        .iter()
        .filter(|r| r.pids.is_none() && r.inode != 0)
        .map(|r| r.inode)
        .collect();
    inodes.sort_unstable();
    inodes.dedup();
    inodes
}

/// Every pid that holds one of `raw`, by the same rule the join uses for each socket.
///
/// The lookup holds only the inodes of sockets that needed owners ([`inodes_needing_owners`]),
/// so its lists are those sockets' pids: read once each, not looked up once per socket.
fn owning_pids(raw: &[RawSocket], lookup: &OwnerLookup) -> Vec<u32> {
    let mut pids: Vec<u32> = Vec::new();
    let reported = raw.iter().filter_map(|r| r.pids.as_deref());
    for holders in reported.chain(lookup.pids_by_inode.values().map(|h| &h[..])) {
        for &pid in holders {
            // Sockets of one process come in runs: most repeats are the pid just seen.
            if pid != 0 && pids.last() != Some(&pid) {
                pids.push(pid);
            }
        }
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// The collector for this platform.
pub fn system_collector() -> Result<Box<dyn Collector>, CollectError> {
    Ok(Box::new(SystemCollector::for_this_platform()?))
}

/// How the container engine is asked by a collector that joins its answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineAsking {
    /// Once, on first use: a one-shot command.
    Once,
    /// By a thread that follows the engine's events: the live table and `watch`.
    Watched,
}

/// The collector for this platform, with the container engine's answers joined in (the
/// engine named by `DOCKER_HOST`, or the first of the usual sockets that exists).
pub fn system_collector_with_engine(
    asking: EngineAsking,
) -> Result<Box<dyn Collector>, CollectError> {
    let endpoint = engine::Endpoint::from_env();
    let source: Box<dyn containers::EngineSource> = match asking {
        EngineAsking::Once => Box::new(containers::AskOnce::new(endpoint)),
        EngineAsking::Watched => Box::new(containers::EngineWatch::start(endpoint)),
    };
    Ok(Box::new(containers::WithContainers::new(
        system_collector()?,
        source,
    )))
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::model::{Socket, UnknownOwner};

    /// What the scripted sources were asked, shared with the test.
    #[derive(Debug, Default)]
    struct Calls {
        inodes: Vec<Vec<u64>>,
        pids: Vec<Vec<u32>>,
        uids: Vec<u32>,
    }

    type Log = Arc<Mutex<Calls>>;

    struct Sockets(Vec<RawSocket>);
    struct Owners(Log, OwnerLookup);
    struct Processes(Log);

    impl SocketSource for Sockets {
        fn sockets(&mut self, _query: &Query) -> Result<Vec<RawSocket>, CollectError> {
            Ok(self.0.clone()) // unfiltered on purpose: the collector must filter anyway
        }
    }

    impl OwnerSource for Owners {
        fn owners(&mut self, inodes: &[u64]) -> OwnerLookup {
            self.0.lock().unwrap().inodes.push(inodes.to_vec());
            self.1.clone()
        }
    }

    impl ProcessSource for Processes {
        fn processes(&mut self, pids: &[u32]) -> HashMap<u32, ProcessInfo> {
            self.0.lock().unwrap().pids.push(pids.to_vec());
            pids.iter()
                .map(|&pid| {
                    let info = ProcessInfo {
                        key: ProcKey {
                            pid,
                            start_time: 1,
                            start_ticks: 0,
                        },
                        name: format!("p{pid}"),
                        user: None,
                        cmdline: Vec::new(),
                    };
                    (pid, info)
                })
                .collect()
        }

        fn user_name(&mut self, uid: u32) -> Option<String> {
            self.0.lock().unwrap().uids.push(uid);
            Some(format!("user{uid}"))
        }
    }

    fn raw(
        addr: &str,
        port: u16,
        state: SocketState,
        inode: u64,
        pids: Option<Vec<u32>>,
    ) -> RawSocket {
        RawSocket {
            proto: Proto::Tcp,
            local_addr: addr.parse::<IpAddr>().unwrap(),
            local_port: port,
            remote: None,
            state,
            inode,
            uid: Some(port.into()),
            pids,
        }
    }

    #[test]
    fn asks_each_source_only_about_wanted_sockets() {
        let log = Log::default();
        let lookup = OwnerLookup {
            pids_by_inode: [(11, Holders::from([7, 5])), (12, Holders::from([5]))]
                .into_iter()
                .collect(),
            ..OwnerLookup::default()
        };
        let mut collector = SystemCollector::new(
            Box::new(Sockets(vec![
                raw("127.0.0.1", 1, SocketState::Listen, 11, None),
                raw("::1", 2, SocketState::Listen, 12, None),
                raw("::1", 2, SocketState::Listen, 12, None), // reported twice
                raw("0.0.0.0", 3, SocketState::Listen, 0, Some(vec![9, 0])),
                raw("127.0.0.1", 4, SocketState::TimeWait, 0, None),
                raw("127.0.0.1", 5, SocketState::Established, 15, None),
                raw("10.0.0.1", 6, SocketState::Listen, 16, None), // not wanted
            ])),
            Box::new(Owners(Arc::clone(&log), lookup)),
            Box::new(Processes(Arc::clone(&log))),
            Viewer {
                uid: Some(1),
                privileged: false,
            },
        );
        let query = Query {
            connections: true,
            ..Query::default()
        };
        let snapshot = collector.collect(&query).unwrap();

        let calls = log.lock().unwrap();
        assert_eq!(
            calls.inodes,
            [vec![11, 12, 15]],
            "no inode 0, no unwanted socket, no repeats"
        );
        assert_eq!(calls.pids, [vec![5, 7, 9]], "every owner once, pid 0 never");
        assert_eq!(calls.uids, [1, 2, 3, 4, 5]);

        let ports: Vec<u16> = snapshot.sockets.iter().map(|s| s.local_port).collect();
        assert_eq!(ports, [1, 2, 3, 4, 5]);
        let owners = |i: usize| -> Vec<u32> {
            snapshot.sockets[i]
                .owners
                .iter()
                .map(|o| o.key.pid)
                .collect()
        };
        assert_eq!(owners(0), [5, 7]);
        assert_eq!(owners(1), [5]);
        assert_eq!(owners(2), [9]);
        assert_eq!(snapshot.sockets[3].unknown, Some(UnknownOwner::Kernel));
        assert_eq!(
            snapshot.sockets[4].unknown,
            Some(UnknownOwner::PermissionDenied),
            "uid 5 is not the viewer's"
        );
        assert_eq!(
            snapshot.sockets[0].user.as_ref().map(OsText::raw),
            Some("user1")
        );
        assert!(!snapshot.privileged);
    }

    #[test]
    fn an_unchanged_system_is_reported_as_such() {
        let log = Log::default();
        let lookup = OwnerLookup {
            pids_by_inode: [(11, Holders::from([7]))].into_iter().collect(),
            ..OwnerLookup::default()
        };
        let mut collector = SystemCollector::new(
            Box::new(Sockets(vec![raw(
                "127.0.0.1",
                1,
                SocketState::Listen,
                11,
                None,
            )])),
            Box::new(Owners(Arc::clone(&log), lookup)),
            Box::new(Processes(Arc::clone(&log))),
            Viewer::current(),
        );
        let query = Query::default();
        let first = collector.collect_changed(&query).unwrap();
        assert_eq!(first.unwrap().sockets.len(), 1);
        assert_eq!(collector.collect_changed(&query).unwrap(), None);
        // A plain collect always answers, and the next tick still knows nothing changed.
        assert_eq!(collector.collect(&query).unwrap().sockets.len(), 1);
        assert_eq!(collector.collect_changed(&query).unwrap(), None);
    }

    /// A socket source that counts its dumps.
    struct CountedSockets(Vec<RawSocket>, Arc<std::sync::atomic::AtomicUsize>);

    impl SocketSource for CountedSockets {
        fn sockets(&mut self, _query: &Query) -> Result<Vec<RawSocket>, CollectError> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(self.0.clone())
        }
    }

    #[test]
    fn a_large_tables_first_look_comes_before_its_owners_from_the_same_dump() {
        let table = vec![
            raw("127.0.0.1", 1, SocketState::Listen, 11, None),
            raw("127.0.0.1", 2, SocketState::Listen, 12, None),
            raw("127.0.0.1", 3, SocketState::TimeWait, 0, None),
        ];
        let collector = |log: &Log, dumps: &Arc<std::sync::atomic::AtomicUsize>, from| {
            let lookup = OwnerLookup {
                pids_by_inode: [(11, Holders::from([7])), (12, Holders::from([7]))]
                    .into_iter()
                    .collect(),
                ..OwnerLookup::default()
            };
            SystemCollector::new(
                Box::new(CountedSockets(table.clone(), Arc::clone(dumps))),
                Box::new(Owners(Arc::clone(log), lookup)),
                Box::new(Processes(Arc::clone(log))),
                Viewer {
                    uid: Some(0),
                    privileged: true,
                },
            )
            .drawing_before_owners_from(from)
        };
        let query = Query::EVERYTHING;
        let dumped = |dumps: &Arc<std::sync::atomic::AtomicUsize>| {
            dumps.load(std::sync::atomic::Ordering::Relaxed)
        };

        let (log, dumps) = (Log::default(), Arc::default());
        let mut large = collector(&log, &dumps, 2);
        let first = large
            .sockets_first(&query)
            .unwrap()
            .expect("two owners to read");
        let reasons: Vec<Option<UnknownOwner>> = first.sockets.iter().map(|s| s.unknown).collect();
        assert_eq!(
            reasons,
            [
                Some(UnknownOwner::Reading),
                Some(UnknownOwner::Reading),
                Some(UnknownOwner::Kernel),
            ],
            "what needs no process read is said at once"
        );
        assert!(log.lock().unwrap().inodes.is_empty(), "no owner read yet");
        let full = large.collect_changed(&query).unwrap().expect("news");
        assert_eq!(dumped(&dumps), 1, "the first look's dump is the one joined");
        let keys = |s: &Snapshot| s.sockets.iter().map(Socket::key).collect::<Vec<_>>();
        assert_eq!(keys(&first), keys(&full));
        assert!(full.sockets[..2].iter().all(|s| s.owners[0].key.pid == 7));
        assert!(large.collect_changed(&query).unwrap().is_none());
        assert_eq!(dumped(&dumps), 2, "later ticks dump afresh");

        // Below the threshold nothing is drawn first, and the dump is still read once.
        let (log, dumps) = (Log::default(), Arc::default());
        let mut small = collector(&log, &dumps, 3);
        assert!(small.sockets_first(&query).unwrap().is_none());
        assert_eq!(small.collect(&query).unwrap().sockets.len(), 3);
        assert_eq!(dumped(&dumps), 1);

        // Another query than the one shown is dumped for itself.
        let (log, dumps) = (Log::default(), Arc::default());
        let mut other = collector(&log, &dumps, 2);
        assert!(other.sockets_first(&query).unwrap().is_some());
        other.collect(&Query::default()).unwrap();
        assert_eq!(dumped(&dumps), 2);
    }

    /// Checked against the kernel's own account of this process, not the call `current` makes.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_viewer_is_this_process() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        // `Uid:	real	effective	saved	filesystem`
        let effective: u32 = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|uids| uids.split_whitespace().nth(1))
            .and_then(|uid| uid.parse().ok())
            .unwrap();
        let viewer = Viewer::current();
        assert_eq!(viewer.uid, Some(effective));
        assert_eq!(viewer.privileged, effective == 0);
    }
}
