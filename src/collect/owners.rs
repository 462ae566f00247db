//! Which processes hold a socket.
//!
//! Linux names a socket only by inode; the processes holding it are found by reading the
//! `/proc/<pid>/fd/*` links (`socket:[INODE]`). A socket can be held by many processes at once
//! (pre-fork servers, inherited descriptors), so every holder is collected. Other platforms
//! report pids with the socket itself, and use [`NoOwners`].

use super::{OwnerLookup, OwnerSource};

#[cfg(any(target_os = "linux", target_os = "android"))]
pub use procfs::{ProcFdOwners, SocketFd};

/// The owner source for this platform.
pub fn platform_owner_source() -> Box<dyn OwnerSource> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        Box::new(ProcFdOwners::new())
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        Box::new(NoOwners)
    }
}

/// For platforms whose socket source reports pids itself: there is nothing to look up.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoOwners;

impl OwnerSource for NoOwners {
    fn owners(&mut self, _inodes: &[u64]) -> OwnerLookup {
        OwnerLookup::default()
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod procfs {
    use std::collections::{HashMap, HashSet};
    use std::fmt::Write as _;
    use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
    use std::path::{Path, PathBuf};

    use rustix::fs::{Dir, Mode, OFlags};

    use super::super::{OwnerLookup, OwnerSource};

    /// From this many processes on, the walk is split across two threads. The cost is the
    /// kernel's: one `readlink` of a `/proc/<pid>/fd` entry takes ~5 us. Measured on a 2-core VM
    /// (`walk_timing` below): 478 processes 13 ms on one thread, 7-9 ms on two; 77 processes
    /// ~1.8 ms either way, where starting a thread is no longer paid back reliably.
    const PARALLEL_MIN_PIDS: usize = 128;

    /// The longest link worth reading: `socket:[` + a u64 + `]` is 29 bytes. Longer links are
    /// paths of ordinary files and are cut short harmlessly, since they never parse as sockets.
    const LINK_BUF_LEN: usize = 32;

    /// One descriptor of one process that refers to a wanted socket. Kept fine-grained so a
    /// cache can re-check a single descriptor with [`ProcFdOwners::holds`] instead of walking
    /// every process again.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct SocketFd {
        pub inode: u64,
        pub pid: u32,
        pub fd: u32,
    }

    /// Finds socket holders by walking `/proc/<pid>/fd`.
    #[derive(Debug, Clone)]
    pub struct ProcFdOwners {
        proc_root: PathBuf,
        max_workers: usize,
    }

    impl Default for ProcFdOwners {
        fn default() -> Self {
            Self::new()
        }
    }

    impl ProcFdOwners {
        pub fn new() -> Self {
            Self::with_root("/proc")
        }

        /// Walks a `/proc`-shaped tree at `proc_root` (tests use a fake one).
        pub fn with_root(proc_root: impl Into<PathBuf>) -> Self {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            Self {
                proc_root: proc_root.into(),
                max_workers: cores.min(2),
            }
        }

        /// Caps the threads used for a walk (1 = walk on the caller's thread).
        #[must_use]
        pub fn with_max_workers(mut self, workers: usize) -> Self {
            self.max_workers = workers.max(1);
            self
        }

        /// Every descriptor, in every process, that refers to one of `wanted`, ordered by inode,
        /// pid and fd. Processes and descriptors that cannot be read (another user's, or gone
        /// meanwhile) are skipped.
        pub fn scan(&self, wanted: &HashSet<u64>) -> Vec<SocketFd> {
            if wanted.is_empty() {
                return Vec::new();
            }
            let Ok(root) = open_dir(rustix::fs::CWD, &self.proc_root) else {
                return Vec::new();
            };
            let pids = list_pids(&self.proc_root);
            let mut hits = if pids.len() >= PARALLEL_MIN_PIDS && self.max_workers > 1 {
                scan_in_parallel(root.as_fd(), &pids, wanted, self.max_workers)
            } else {
                scan_pids(root.as_fd(), &pids, wanted)
            };
            hits.sort_unstable();
            hits
        }

        /// Whether `hit` still holds: the process still has that descriptor open on that socket.
        /// One `readlink`, for validating a cached answer.
        pub fn holds(&self, hit: SocketFd) -> bool {
            let link = self
                .proc_root
                .join(hit.pid.to_string())
                .join("fd")
                .join(hit.fd.to_string());
            std::fs::read_link(link)
                .ok()
                .and_then(|target| socket_inode(target.as_os_str().as_encoded_bytes()))
                == Some(hit.inode)
        }
    }

    impl OwnerSource for ProcFdOwners {
        fn owners(&mut self, inodes: &[u64]) -> OwnerLookup {
            // Inode 0 is a socket no descriptor refers to; it can never be found.
            let wanted: HashSet<u64> = inodes.iter().copied().filter(|&i| i != 0).collect();
            lookup_from(&self.scan(&wanted))
        }
    }

    /// Groups descriptors by inode: each inode's pids ascending, once each (a process holding a
    /// socket through two descriptors is still one owner).
    fn lookup_from(hits: &[SocketFd]) -> OwnerLookup {
        let mut pids_by_inode: HashMap<u64, Vec<u32>> = HashMap::new();
        for hit in hits {
            pids_by_inode.entry(hit.inode).or_default().push(hit.pid);
        }
        for pids in pids_by_inode.values_mut() {
            pids.sort_unstable();
            pids.dedup();
        }
        OwnerLookup { pids_by_inode }
    }

    /// Processes only: numeric top-level entries. Threads are not listed there (they live
    /// under `/proc/<pid>/task`) and share their process's descriptor table anyway.
    fn list_pids(proc_root: &Path) -> Vec<u32> {
        let Ok(entries) = std::fs::read_dir(proc_root) else {
            return Vec::new();
        };
        entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .collect()
    }

    fn scan_in_parallel(
        root: BorrowedFd<'_>,
        pids: &[u32],
        wanted: &HashSet<u64>,
        workers: usize,
    ) -> Vec<SocketFd> {
        let chunk = pids.len().div_ceil(workers);
        std::thread::scope(|scope| {
            let handles: Vec<_> = pids
                .chunks(chunk)
                .map(|part| scope.spawn(move || scan_pids(root, part, wanted)))
                .collect();
            handles
                .into_iter()
                // A worker can only panic on a bug; its share is then missing, not the walk.
                .filter_map(|handle| handle.join().ok())
                .flatten()
                .collect()
        })
    }

    /// Walks `pids` with one set of buffers reused across every process and descriptor.
    fn scan_pids(root: BorrowedFd<'_>, pids: &[u32], wanted: &HashSet<u64>) -> Vec<SocketFd> {
        let mut hits = Vec::new();
        let mut path = String::with_capacity(24);
        let mut link = [0u8; LINK_BUF_LEN];
        for &pid in pids {
            path.clear();
            // Writing to a String cannot fail.
            let _ = write!(path, "{pid}/fd");
            scan_pid(root, &path, pid, wanted, &mut link, &mut hits);
        }
        hits
    }

    fn scan_pid(
        root: BorrowedFd<'_>,
        fd_dir: &str,
        pid: u32,
        wanted: &HashSet<u64>,
        link: &mut [u8; LINK_BUF_LEN],
        hits: &mut Vec<SocketFd>,
    ) {
        // EACCES (another user's process) and ENOENT (it exited) both mean: nothing to see.
        let Ok(dir_fd) = open_dir(root, fd_dir) else {
            return;
        };
        let Ok(mut dir) = Dir::new(dir_fd) else {
            return;
        };
        while let Some(Ok(entry)) = dir.read() {
            let name = entry.file_name().to_bytes();
            let Some(fd) = parse_decimal(name).and_then(|n| u32::try_from(n).ok()) else {
                continue; // "." and ".."
            };
            let Ok(dir_ref) = dir.fd() else {
                return;
            };
            let Ok(len) = rustix::fs::readlinkat_raw(dir_ref, entry.file_name(), &mut link[..])
            else {
                continue; // closed meanwhile
            };
            if let Some(inode) = link.get(..len).and_then(socket_inode)
                && wanted.contains(&inode)
            {
                hits.push(SocketFd { inode, pid, fd });
            }
        }
    }

    fn open_dir(at: impl AsFd, path: impl rustix::path::Arg) -> rustix::io::Result<OwnedFd> {
        rustix::fs::openat(
            at,
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
    }

    /// The inode in a `socket:[INODE]` link target.
    fn socket_inode(link: &[u8]) -> Option<u64> {
        let digits = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
        parse_decimal(digits)
    }

    fn parse_decimal(digits: &[u8]) -> Option<u64> {
        if digits.is_empty() {
            return None;
        }
        digits.iter().try_fold(0u64, |n, &b| {
            let digit = char::from(b).to_digit(10)?;
            n.checked_mul(10)?.checked_add(u64::from(digit))
        })
    }

    #[cfg(test)]
    mod tests {
        use std::net::{TcpListener, UdpSocket};
        use std::os::unix::fs::symlink;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::Instant;

        use super::*;

        /// A throwaway `/proc`-shaped directory, removed on drop.
        struct FakeProc {
            root: PathBuf,
        }

        impl FakeProc {
            fn new() -> Self {
                static NEXT: AtomicUsize = AtomicUsize::new(0);
                let root = std::env::temp_dir().join(format!(
                    "loopwatch-fake-proc-{}-{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&root).unwrap();
                Self { root }
            }

            /// `pid`'s descriptor `fd` points at `target` (symlink targets need not exist).
            fn fd(&self, pid: &str, fd: u32, target: &str) -> &Self {
                let dir = self.root.join(pid).join("fd");
                std::fs::create_dir_all(&dir).unwrap();
                symlink(target, dir.join(fd.to_string())).unwrap();
                self
            }

            fn owners(&self, workers: usize) -> ProcFdOwners {
                ProcFdOwners::with_root(&self.root).with_max_workers(workers)
            }
        }

        impl Drop for FakeProc {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.root);
            }
        }

        fn inodes(list: &[u64]) -> HashSet<u64> {
            list.iter().copied().collect()
        }

        #[test]
        fn parses_socket_links_only() {
            for (link, inode) in [
                (&b"socket:[12345]"[..], Some(12345)),
                (b"socket:[0]", Some(0)),
                (b"socket:[18446744073709551615]", Some(u64::MAX)),
                (b"socket:[18446744073709551616]", None),
                (b"socket:[]", None),
                (b"socket:[12a]", None),
                (b"socket:[12", None),
                (b"pipe:[12345]", None),
                (b"anon_inode:[eventpoll]", None),
                (b"/tmp/socket:[1]", None),
            ] {
                assert_eq!(
                    socket_inode(link),
                    inode,
                    "{}",
                    String::from_utf8_lossy(link)
                );
            }
        }

        #[test]
        fn finds_every_holder_of_a_shared_socket() {
            let proc = FakeProc::new();
            proc.fd("2100", 3, "socket:[555]")
                .fd("2101", 3, "socket:[555]")
                .fd("2101", 7, "socket:[555]") // the same socket twice in one process
                .fd("2102", 4, "socket:[555]")
                .fd("2103", 9, "socket:[555]")
                .fd("2103", 0, "/dev/null")
                .fd("300", 5, "socket:[777]")
                .fd("300", 6, "socket:[888]") // not wanted
                .fd("301", 1, "pipe:[555]");
            for workers in [1, 2] {
                let lookup = proc.owners(workers).owners(&[555, 777]);
                assert_eq!(lookup.pids_by_inode.len(), 2, "workers={workers}");
                assert_eq!(lookup.pids_by_inode[&555], [2100, 2101, 2102, 2103]);
                assert_eq!(lookup.pids_by_inode[&777], [300]);
            }
        }

        #[test]
        fn skips_non_process_entries_and_unreadable_processes() {
            let proc = FakeProc::new();
            proc.fd("10", 3, "socket:[1]")
                .fd("self", 3, "socket:[1]")
                .fd("net", 3, "socket:[1]");
            std::fs::create_dir_all(proc.root.join("11")).unwrap(); // no fd dir: gone
            std::fs::write(proc.root.join("12"), b"not a directory").unwrap();
            let lookup = proc.owners(1).owners(&[1]);
            assert_eq!(lookup.pids_by_inode[&1], [10]);
        }

        #[test]
        fn nothing_wanted_means_no_walk() {
            let missing = ProcFdOwners::with_root("/nonexistent/loopwatch-proc");
            assert!(missing.clone().owners(&[]).pids_by_inode.is_empty());
            assert!(missing.clone().owners(&[0]).pids_by_inode.is_empty());
            assert!(
                missing.scan(&inodes(&[5])).is_empty(),
                "a missing /proc is no owners"
            );
        }

        #[test]
        fn scan_reports_descriptors_and_holds_rechecks_one() {
            let proc = FakeProc::new();
            proc.fd("20", 4, "socket:[9]").fd("21", 8, "socket:[9]");
            let owners = proc.owners(1);
            let hits = owners.scan(&inodes(&[9]));
            assert_eq!(
                hits,
                [
                    SocketFd {
                        inode: 9,
                        pid: 20,
                        fd: 4
                    },
                    SocketFd {
                        inode: 9,
                        pid: 21,
                        fd: 8
                    },
                ]
            );
            assert!(owners.holds(hits[0]));
            std::fs::remove_file(proc.root.join("20/fd/4")).unwrap();
            assert!(!owners.holds(hits[0]), "descriptor closed");
            assert!(
                !owners.holds(SocketFd {
                    inode: 10,
                    ..hits[1]
                }),
                "other socket"
            );
        }

        #[test]
        fn finds_this_process_holding_real_sockets() {
            let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
            let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
            let tcp_inode = rustix::fs::fstat(&tcp).unwrap().st_ino;
            let udp_inode = rustix::fs::fstat(&udp).unwrap().st_ino;
            let me = std::process::id();
            for workers in [1, 2] {
                let lookup = ProcFdOwners::new()
                    .with_max_workers(workers)
                    .owners(&[tcp_inode, udp_inode]);
                assert!(lookup.pids_by_inode[&tcp_inode].contains(&me));
                assert!(lookup.pids_by_inode[&udp_inode].contains(&me));
            }
        }

        /// `cargo test --release -- --ignored --nocapture walk_timing`: one vs two workers on
        /// this machine's real /proc (spawn extra processes to see the crossover).
        #[test]
        #[ignore = "a measurement, not a check"]
        fn walk_timing() {
            let wanted = inodes(&[1]);
            let pids = list_pids(Path::new("/proc")).len();
            for workers in [1, 2, 1, 2] {
                let root = open_dir(rustix::fs::CWD, "/proc").unwrap();
                let all = list_pids(Path::new("/proc"));
                let runs = 50u32;
                let start = Instant::now();
                for _ in 0..runs {
                    if workers > 1 {
                        scan_in_parallel(root.as_fd(), &all, &wanted, workers);
                    } else {
                        scan_pids(root.as_fd(), &all, &wanted);
                    }
                }
                let per_walk = start.elapsed() / runs;
                println!("{pids} processes, {workers} worker(s): {per_walk:?} per walk");
            }
        }
    }
}
