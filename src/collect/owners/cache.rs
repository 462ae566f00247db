//! Socket inode -> pids, kept between ticks so a tick reads only what changed.
//!
//! Every process's socket descriptors are remembered with a fingerprint of its descriptor
//! table (see [`ProcessTable::fingerprint`]). On each tick:
//!
//! 1. the process list is read; processes that exited are forgotten;
//! 2. each process's fingerprint is taken (one `stat`); a process is read again only when it
//!    is new (a fork, a respawn, a reused pid), when its fingerprint changed (it opened,
//!    closed or was passed a descriptor), or on its resynchronisation turn (every
//!    [`RESYNC_TICKS`] ticks, spread over the ticks by pid);
//! 3. wanted inodes that no process is known to hold are looked for in the processes not read
//!    this tick, socket holders first, stopping once all are found; those still missing are
//!    not looked for again while they stay in the query (an owner hidden by permissions, a
//!    socket no process holds).
//!
//! Every holder of a socket is kept, since the index is built from whole descriptor tables.
//! What the fingerprint cannot see is a process that, between two ticks, closes one descriptor
//! and receives an already known socket in another (its count is unchanged): that holder shows
//! on its resynchronisation turn, at most [`RESYNC_TICKS`] ticks later. On kernels whose
//! fingerprint does not count descriptors (before Linux 6.2) every process is read every tick.

use std::collections::{HashMap, HashSet};

use super::super::{Holders, OwnerLookup, OwnerSource};

/// A process is read in full at least once every this many ticks, whatever its fingerprint.
pub const RESYNC_TICKS: u64 = 60;

/// Processes read per round while looking for missing inodes; the search stops after the round
/// that found the last one.
const SEARCH_BATCH: usize = 16;

/// A process's socket descriptors: `(fd, inode)`, sorted.
pub type SocketTable = Vec<(u32, u64)>;

/// Cheap facts about a process's descriptor table that change when it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    /// Differs between two processes that had the same pid.
    pub id: u64,
    /// How many descriptors are open (0 when the kernel does not say).
    pub descriptors: u64,
}

/// What the cache reads about processes: `/proc` on Linux ([`super::ProcFs`]), a fake in tests.
pub trait ProcessTable: Send {
    /// Every process now, ascending.
    fn pids(&self) -> Vec<u32>;
    /// `None` when the process is gone (or its fingerprint cannot be read).
    fn fingerprint(&self, pid: u32) -> Option<Fingerprint>;
    /// Each process's sockets; `None` for one whose descriptors cannot be read (another user's
    /// process, or one that exited). Free to read the processes in parallel, in any order.
    fn socket_tables(&self, pids: &[u32]) -> Vec<(u32, Option<SocketTable>)>;
    /// Whether a fingerprint changes when a descriptor is opened or closed.
    fn fingerprints_count_descriptors(&self) -> bool;
    /// Whether a read since the last call failed for want of a descriptor (EMFILE, ENFILE);
    /// asking clears it.
    fn ran_out_of_descriptors(&self) -> bool {
        false
    }
}

/// What one tick read, for tests and measurements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Processes read because they were new, changed, or due for resynchronisation.
    pub read: Vec<u32>,
    /// Processes read while looking for inodes no known process held.
    pub searched: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Known {
    fingerprint: Option<Fingerprint>,
    /// The socket inodes held, sorted and once each; `None` when unreadable.
    inodes: Option<Vec<u64>>,
}

/// The owner source for Linux: the cache over a [`ProcessTable`].
pub struct CachedOwners<T> {
    table: T,
    counts_descriptors: bool,
    known: HashMap<u32, Known>,
    /// Every remembered holder of each inode, ascending; kept in step with `known`.
    by_inode: rustc_hash::FxHashMap<u64, Holders>,
    /// Inodes searched for in every readable process without success.
    not_found: HashSet<u64>,
    tick: u64,
    report: TickReport,
}

impl<T: ProcessTable> CachedOwners<T> {
    pub fn new(table: T) -> Self {
        Self {
            counts_descriptors: table.fingerprints_count_descriptors(),
            table,
            known: HashMap::new(),
            by_inode: rustc_hash::FxHashMap::default(),
            not_found: HashSet::new(),
            tick: 0,
            report: TickReport::default(),
        }
    }

    /// What the last tick read.
    pub fn last_tick(&self) -> &TickReport {
        &self.report
    }

    /// Brings the remembered tables up to date (steps 1 and 2); returns the fingerprints taken.
    fn refresh(&mut self) -> HashMap<u32, Option<Fingerprint>> {
        let pids = self.table.pids();
        let alive: HashSet<u32> = pids.iter().copied().collect();
        let exited: Vec<u32> = self
            .known
            .keys()
            .copied()
            .filter(|pid| !alive.contains(pid))
            .collect();
        for pid in exited {
            if let Some(known) = self.known.remove(&pid) {
                self.unindex(pid, known.inodes.as_deref());
            }
        }

        let mut prints = HashMap::with_capacity(pids.len());
        let mut due = Vec::new();
        for pid in pids {
            let print = self.table.fingerprint(pid);
            let unchanged = self.counts_descriptors
                && self
                    .known
                    .get(&pid)
                    .is_some_and(|known| known.fingerprint == print);
            if !unchanged || self.resync_turn(pid) {
                due.push(pid);
            }
            prints.insert(pid, print);
        }
        self.read(&due, &prints);
        self.report.read = due;
        prints
    }

    fn resync_turn(&self, pid: u32) -> bool {
        (u64::from(pid) + self.tick).is_multiple_of(RESYNC_TICKS)
    }

    /// Reads `pids` and remembers their tables with the fingerprints taken before the read (so
    /// a change during the read shows as a changed fingerprint next tick).
    fn read(&mut self, pids: &[u32], prints: &HashMap<u32, Option<Fingerprint>>) {
        if pids.is_empty() {
            return;
        }
        for (pid, table) in self.table.socket_tables(pids) {
            let known = Known {
                fingerprint: prints.get(&pid).copied().flatten(),
                inodes: table.map(|table| {
                    let mut inodes: Vec<u64> = table.into_iter().map(|(_, inode)| inode).collect();
                    inodes.sort_unstable();
                    inodes.dedup();
                    inodes
                }),
            };
            match self.known.get_mut(&pid) {
                // Only the fingerprint moved (a file, a pipe): the index stays as it is.
                Some(old) if old.inodes == known.inodes => old.fingerprint = known.fingerprint,
                _ => {
                    for &inode in known.inodes.iter().flatten() {
                        let holders = self.by_inode.entry(inode).or_insert_with(|| [].into());
                        if let Err(at) = holders.binary_search(&pid) {
                            let mut more = holders.to_vec();
                            more.insert(at, pid);
                            *holders = more.into();
                        }
                    }
                    let new_inodes = known.inodes.clone();
                    if let Some(old) = self.known.insert(pid, known) {
                        let gone: Vec<u64> = old
                            .inodes
                            .into_iter()
                            .flatten()
                            .filter(|inode| {
                                new_inodes
                                    .as_ref()
                                    .is_none_or(|new| new.binary_search(inode).is_err())
                            })
                            .collect();
                        self.unindex(pid, Some(&gone));
                    }
                }
            }
        }
    }

    /// Drops `pid` as a holder of `inodes`.
    fn unindex(&mut self, pid: u32, inodes: Option<&[u64]>) {
        for inode in inodes.into_iter().flatten() {
            if let Some(holders) = self.by_inode.get_mut(inode)
                && holders.contains(&pid)
            {
                let rest: Vec<u32> = holders.iter().copied().filter(|&h| h != pid).collect();
                if rest.is_empty() {
                    self.by_inode.remove(inode);
                } else {
                    *holders = rest.into();
                }
            }
        }
    }

    /// Step 3: looks for `missing` inodes in processes not read this tick.
    fn search(&mut self, mut missing: HashSet<u64>, prints: &HashMap<u32, Option<Fingerprint>>) {
        let read_now: HashSet<u32> = self.report.read.iter().copied().collect();
        // Processes that already hold sockets are the likeliest to hold a new one.
        let mut candidates: Vec<(usize, u32)> = self
            .known
            .iter()
            .filter(|(pid, known)| known.inodes.is_some() && !read_now.contains(pid))
            .map(|(&pid, known)| (known.inodes.as_ref().map_or(0, Vec::len), pid))
            .collect();
        candidates.sort_unstable_by(|a, b| b.cmp(a));
        let candidates: Vec<u32> = candidates.into_iter().map(|(_, pid)| pid).collect();
        for batch in candidates.chunks(SEARCH_BATCH) {
            self.read(batch, prints);
            self.report.searched.extend_from_slice(batch);
            for pid in batch {
                for inode in self
                    .known
                    .get(pid)
                    .and_then(|k| k.inodes.as_ref())
                    .into_iter()
                    .flatten()
                {
                    missing.remove(inode);
                }
            }
            if missing.is_empty() {
                break;
            }
        }
        self.not_found.extend(missing);
    }
}

impl<T: ProcessTable> OwnerSource for CachedOwners<T> {
    fn owners(&mut self, inodes: &[u64]) -> OwnerLookup {
        self.tick += 1;
        self.report = TickReport::default();
        // Inode 0 is a socket no descriptor refers to; it can never be found. The collector
        // passes the inodes sorted already, which makes this sort a single pass.
        let mut wanted: Vec<u64> = inodes.iter().copied().filter(|&i| i != 0).collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            return OwnerLookup::default();
        }
        let prints = self.refresh();

        if !self.not_found.is_empty() {
            self.not_found
                .retain(|inode| wanted.binary_search(inode).is_ok());
        }
        let mut pids_by_inode = rustc_hash::FxHashMap::with_capacity_and_hasher(
            wanted.len(),
            rustc_hash::FxBuildHasher,
        );
        let mut missing = HashSet::new();
        for &inode in &wanted {
            match self.by_inode.get(&inode) {
                Some(pids) => {
                    pids_by_inode.insert(inode, pids.clone());
                }
                None if self.not_found.contains(&inode) => {}
                None => {
                    missing.insert(inode);
                }
            }
        }
        if !missing.is_empty() {
            let searched_for: Vec<u64> = missing.iter().copied().collect();
            self.search(missing, &prints);
            for inode in searched_for {
                if let Some(pids) = self.by_inode.get(&inode) {
                    pids_by_inode.insert(inode, pids.clone());
                }
            }
        }
        let out_of_descriptors = self.table.ran_out_of_descriptors();
        if out_of_descriptors {
            // A read cut short proves nothing: no inode is remembered as held by no one, and
            // no process as unreadable, so the next lookup tries them all again.
            self.not_found.clear();
            self.known.retain(|_, known| known.inodes.is_some());
        }
        OwnerLookup {
            pids_by_inode,
            out_of_descriptors,
            not_read: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// One fake process: a descriptor table where `None` is a non-socket file.
    #[derive(Debug, Clone)]
    struct FakeProcess {
        id: u64,
        fds: BTreeMap<u32, Option<u64>>,
        readable: bool,
    }

    #[derive(Debug, Default)]
    struct World {
        processes: BTreeMap<u32, FakeProcess>,
        counts_descriptors: bool,
        next_id: u64,
        /// Every read fails for want of a descriptor (EMFILE).
        short_of_descriptors: bool,
    }

    /// A process table the test changes between ticks.
    #[derive(Debug, Clone, Default)]
    struct Fake(Arc<Mutex<World>>);

    impl Fake {
        fn new() -> Self {
            let fake = Fake::default();
            fake.world().counts_descriptors = true;
            fake
        }

        fn world(&self) -> std::sync::MutexGuard<'_, World> {
            self.0.lock().unwrap()
        }

        /// Starts `pid` holding `sockets` (fd 3 upwards) after stdin, stdout and stderr.
        fn spawn(&self, pid: u32, sockets: &[u64]) -> &Self {
            let mut world = self.world();
            world.next_id += 1;
            let mut fds: BTreeMap<u32, Option<u64>> = (0..3).map(|fd| (fd, None)).collect();
            for (fd, &inode) in (3..).zip(sockets) {
                fds.insert(fd, Some(inode));
            }
            let id = world.next_id;
            world.processes.insert(
                pid,
                FakeProcess {
                    id,
                    fds,
                    readable: true,
                },
            );
            self
        }

        /// `child` starts as a copy of `parent`'s descriptor table.
        fn fork(&self, parent: u32, child: u32) {
            let mut world = self.world();
            world.next_id += 1;
            let mut copy = world.processes[&parent].clone();
            copy.id = world.next_id;
            world.processes.insert(child, copy);
        }

        fn open(&self, pid: u32, fd: u32, inode: Option<u64>) {
            self.world()
                .processes
                .get_mut(&pid)
                .unwrap()
                .fds
                .insert(fd, inode);
        }

        fn close(&self, pid: u32, fd: u32) {
            self.world()
                .processes
                .get_mut(&pid)
                .unwrap()
                .fds
                .remove(&fd);
        }

        fn exit(&self, pid: u32) {
            self.world().processes.remove(&pid);
        }

        fn hide(&self, pid: u32) {
            self.world().processes.get_mut(&pid).unwrap().readable = false;
        }
    }

    impl ProcessTable for Fake {
        fn pids(&self) -> Vec<u32> {
            self.world().processes.keys().copied().collect()
        }

        fn fingerprint(&self, pid: u32) -> Option<Fingerprint> {
            let world = self.world();
            let process = world.processes.get(&pid)?;
            let descriptors = if world.counts_descriptors {
                process.fds.len() as u64
            } else {
                0
            };
            Some(Fingerprint {
                id: process.id,
                descriptors,
            })
        }

        fn socket_tables(&self, pids: &[u32]) -> Vec<(u32, Option<SocketTable>)> {
            let world = self.world();
            pids.iter()
                .map(|&pid| {
                    let readable = |p: &&FakeProcess| p.readable && !world.short_of_descriptors;
                    let table = world.processes.get(&pid).filter(readable).map(|p| {
                        p.fds
                            .iter()
                            .filter_map(|(&fd, inode)| Some((fd, (*inode)?)))
                            .collect()
                    });
                    (pid, table)
                })
                .collect()
        }

        fn fingerprints_count_descriptors(&self) -> bool {
            self.world().counts_descriptors
        }

        fn ran_out_of_descriptors(&self) -> bool {
            self.world().short_of_descriptors
        }
    }

    /// A lookup that ran out of descriptors says so, and the next one, with descriptors to
    /// spare, finds the owner: nothing read during the shortage is taken as an answer.
    #[test]
    fn a_lookup_short_of_descriptors_is_retried_in_full() {
        let fake = Fake::new();
        fake.spawn(A, &[7]);
        let mut cache = CachedOwners::new(fake.clone());
        fake.world().short_of_descriptors = true;
        let short = cache.owners(&[7]);
        assert!(short.out_of_descriptors);
        assert!(short.pids_by_inode.is_empty());
        let again = cache.owners(&[7]);
        assert!(again.out_of_descriptors, "still short: still said");
        fake.world().short_of_descriptors = false;
        assert_eq!(owners_of(&mut cache, &[7]), map(&[(7, &[A])]));
    }

    fn owners_of(cache: &mut CachedOwners<Fake>, inodes: &[u64]) -> BTreeMap<u64, Vec<u32>> {
        cache
            .owners(inodes)
            .pids_by_inode
            .into_iter()
            .map(|(inode, pids)| (inode, pids.to_vec()))
            .collect()
    }

    fn map(entries: &[(u64, &[u32])]) -> BTreeMap<u64, Vec<u32>> {
        entries.iter().map(|(i, p)| (*i, p.to_vec())).collect()
    }

    /// Pids chosen so none is on its resynchronisation turn in the first ticks of a test:
    /// `(pid + tick) % RESYNC_TICKS == 0` first holds at tick 19 (for A) with these.
    const A: u32 = 101;
    const B: u32 = 201;
    const C: u32 = 301;

    #[test]
    fn the_first_tick_reads_every_process_and_finds_every_holder() {
        let fake = Fake::new();
        fake.spawn(A, &[50, 51]).spawn(B, &[50]).spawn(C, &[]);
        let mut cache = CachedOwners::new(fake.clone());
        assert_eq!(
            owners_of(&mut cache, &[50, 51, 52, 0]),
            map(&[(50, &[A, B]), (51, &[A])])
        );
        assert_eq!(cache.last_tick().read, [A, B, C]);
        assert_eq!(
            cache.last_tick().searched,
            [] as [u32; 0],
            "52 is held by no one: no search"
        );
    }

    #[test]
    fn a_quiet_tick_reads_no_descriptor() {
        let fake = Fake::new();
        fake.spawn(A, &[50]).spawn(B, &[51]);
        let mut cache = CachedOwners::new(fake.clone());
        let first = owners_of(&mut cache, &[50, 51]);
        assert_eq!(owners_of(&mut cache, &[50, 51]), first);
        assert_eq!(cache.last_tick(), &TickReport::default());
    }

    #[test]
    fn a_forked_child_shows_on_the_next_tick_and_the_parent_closing_too() {
        let fake = Fake::new();
        fake.spawn(A, &[50]);
        let mut cache = CachedOwners::new(fake.clone());
        owners_of(&mut cache, &[50]);
        fake.fork(A, B);
        assert_eq!(owners_of(&mut cache, &[50]), map(&[(50, &[A, B])]));
        assert_eq!(cache.last_tick().read, [B], "only the new process is read");
        fake.close(A, 3);
        assert_eq!(owners_of(&mut cache, &[50]), map(&[(50, &[B])]));
        assert_eq!(
            cache.last_tick().read,
            [A],
            "only the changed process is read"
        );
    }

    #[test]
    fn a_passed_descriptor_shows_on_the_next_tick() {
        let fake = Fake::new();
        fake.spawn(A, &[50]).spawn(B, &[]);
        let mut cache = CachedOwners::new(fake.clone());
        owners_of(&mut cache, &[50]);
        fake.open(B, 7, Some(50)); // received over a Unix socket
        assert_eq!(owners_of(&mut cache, &[50]), map(&[(50, &[A, B])]));
        fake.close(A, 3);
        assert_eq!(owners_of(&mut cache, &[50]), map(&[(50, &[B])]));
    }

    #[test]
    fn a_replaced_owner_shows_at_once() {
        let fake = Fake::new();
        fake.spawn(A, &[50]);
        let mut cache = CachedOwners::new(fake.clone());
        owners_of(&mut cache, &[50]);
        // Killed, and the port reopened by a new process: a new socket, a new inode.
        fake.exit(A);
        fake.spawn(B, &[60]);
        assert_eq!(owners_of(&mut cache, &[60]), map(&[(60, &[B])]));
        // The same pid reused by another process holding another socket, with as many
        // descriptors as before: the fingerprint's id still tells them apart.
        fake.exit(B);
        fake.spawn(B, &[70]);
        assert_eq!(owners_of(&mut cache, &[70]), map(&[(70, &[B])]));
        assert_eq!(cache.last_tick().read, [B]);
    }

    #[test]
    fn a_new_socket_behind_an_unchanged_count_is_searched_for() {
        let fake = Fake::new();
        fake.spawn(A, &[50]).spawn(B, &[51]).spawn(C, &[]);
        let mut cache = CachedOwners::new(fake.clone());
        owners_of(&mut cache, &[50, 51]);
        // B closes one socket and opens another between two ticks: same count.
        fake.close(B, 3);
        fake.open(B, 3, Some(52));
        assert_eq!(
            owners_of(&mut cache, &[50, 52]),
            map(&[(50, &[A]), (52, &[B])])
        );
        assert!(cache.last_tick().read.is_empty());
        assert!(cache.last_tick().searched.contains(&B));
        assert_eq!(
            cache.last_tick().searched.last(),
            Some(&C),
            "holds no socket: searched last"
        );
    }

    #[test]
    fn a_known_socket_behind_an_unchanged_count_shows_by_the_resync() {
        let fake = Fake::new();
        fake.spawn(A, &[50]).spawn(B, &[]);
        let mut cache = CachedOwners::new(fake.clone());
        owners_of(&mut cache, &[50]);
        // B closes a file and receives A's socket in its place: nothing a stat can see.
        fake.close(B, 2);
        fake.open(B, 2, Some(50));
        let mut ticks = 0;
        while owners_of(&mut cache, &[50]) != map(&[(50, &[A, B])]) {
            ticks += 1;
            assert!(ticks <= RESYNC_TICKS, "still not seen after {ticks} ticks");
        }
    }

    #[test]
    fn a_hidden_owner_is_searched_for_once() {
        let fake = Fake::new();
        fake.spawn(A, &[50]).spawn(B, &[51]);
        fake.hide(B);
        let mut cache = CachedOwners::new(fake.clone());
        assert_eq!(owners_of(&mut cache, &[50, 51]), map(&[(50, &[A])]));
        assert_eq!(owners_of(&mut cache, &[50, 51]), map(&[(50, &[A])]));
        assert!(cache.last_tick().searched.is_empty(), "not searched again");
        assert!(cache.last_tick().read.is_empty());
    }

    #[test]
    fn without_descriptor_counts_every_process_is_read_every_tick() {
        let fake = Fake::new();
        fake.world().counts_descriptors = false;
        fake.spawn(A, &[50]).spawn(B, &[]);
        let mut cache = CachedOwners::new(fake.clone());
        owners_of(&mut cache, &[50]);
        fake.open(B, 9, Some(50));
        assert_eq!(owners_of(&mut cache, &[50]), map(&[(50, &[A, B])]));
        assert_eq!(cache.last_tick().read, [A, B]);
    }

    #[test]
    fn every_process_is_resynchronised_within_the_period() {
        let fake = Fake::new();
        fake.spawn(A, &[50]).spawn(B, &[51]).spawn(C, &[52]);
        let mut cache = CachedOwners::new(fake.clone());
        owners_of(&mut cache, &[50]);
        let mut read = HashSet::new();
        for _ in 0..RESYNC_TICKS {
            owners_of(&mut cache, &[50]);
            read.extend(cache.last_tick().read.iter().copied());
        }
        assert_eq!(read, HashSet::from([A, B, C]));
    }

    #[test]
    fn nothing_wanted_reads_nothing() {
        let fake = Fake::new();
        fake.spawn(A, &[50]);
        let mut cache = CachedOwners::new(fake.clone());
        assert!(cache.owners(&[]).pids_by_inode.is_empty());
        assert!(cache.owners(&[0]).pids_by_inode.is_empty());
        assert!(cache.last_tick().read.is_empty());
    }
}
