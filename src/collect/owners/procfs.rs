//! Reading `/proc`: which processes exist, a cheap fingerprint of each one's descriptor table,
//! and the sockets each one's descriptors refer to.
//!
//! Linux names a socket only by inode; a process holds it when one of its `/proc/<pid>/fd/*`
//! links reads `socket:[INODE]`. That `readlink` (~3-5 us on a small VM) is the whole cost of
//! owner lookups, so [`ProcFs::socket_tables`] spreads it over two threads, and the cache in
//! [`super::cache`] avoids it for processes whose fingerprint did not change.

use std::fmt::Write as _;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rustix::fs::{Dir, Mode, OFlags};

use super::cache::{Fingerprint, ProcessTable, SocketTable};

/// From this many processes on, a scan is shared by two threads. Starting a thread costs
/// ~30 us, a process's descriptors ~5 us each: below a handful of processes it does not pay.
const PARALLEL_MIN_PIDS: usize = 8;

/// The longest link worth reading: `socket:[` + a u64 + `]` is 29 bytes. Longer links are
/// paths of ordinary files and are cut short harmlessly, since they never parse as sockets.
const LINK_BUF_LEN: usize = 32;

/// The real `/proc` (or a tree shaped like it, for tests).
#[derive(Debug, Clone)]
pub struct ProcFs {
    root: PathBuf,
    max_workers: usize,
    /// A read failed since the last ask because this process had no descriptor left.
    out_of_descriptors: Arc<AtomicBool>,
}

impl Default for ProcFs {
    fn default() -> Self {
        Self::new()
    }
}

impl ProcFs {
    pub fn new() -> Self {
        Self::with_root("/proc")
    }

    /// Reads a `/proc`-shaped tree at `root` (tests use a fake one).
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            root: root.into(),
            max_workers: cores.min(2),
            out_of_descriptors: Arc::default(),
        }
    }

    /// Caps the threads used for a scan (1 = scan on the caller's thread).
    #[must_use]
    pub fn with_max_workers(mut self, workers: usize) -> Self {
        self.max_workers = workers.max(1);
        self
    }
}

impl ProcessTable for ProcFs {
    /// Processes only: numeric top-level entries. Threads are not listed there (they live
    /// under `/proc/<pid>/task`) and share their process's descriptor table anyway.
    fn pids(&self) -> Vec<u32> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut pids: Vec<u32> = entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .collect();
        pids.sort_unstable();
        pids
    }

    /// `stat` of `/proc/<pid>/fd`: its inode is made anew for each process (so a reused pid
    /// shows), and since Linux 6.2 its size is the number of open descriptors. Works for other
    /// users' processes too, whose descriptors cannot be read.
    fn fingerprint(&self, pid: u32) -> Option<Fingerprint> {
        let mut path = self.root.clone();
        path.push(pid.to_string());
        path.push("fd");
        let stat = rustix::fs::stat(&path).ok()?;
        Some(Fingerprint {
            id: stat.st_ino,
            descriptors: u64::try_from(stat.st_size).unwrap_or(0),
        })
    }

    fn socket_tables(&self, pids: &[u32]) -> Vec<(u32, Option<SocketTable>)> {
        let root = match open_dir(rustix::fs::CWD, &self.root) {
            Ok(root) => root,
            Err(errno) => {
                note_exhaustion(errno, &self.out_of_descriptors);
                return pids.iter().map(|&pid| (pid, None)).collect();
            }
        };
        let workers = if pids.len() >= PARALLEL_MIN_PIDS {
            self.max_workers
        } else {
            1
        };
        if workers > 1 {
            read_in_parallel(root.as_fd(), pids, workers, &self.out_of_descriptors)
        } else {
            let mut reader = Reader::new(root.as_fd(), &self.out_of_descriptors);
            pids.iter().map(|&pid| (pid, reader.read(pid))).collect()
        }
    }

    fn ran_out_of_descriptors(&self) -> bool {
        self.out_of_descriptors.swap(false, Ordering::Relaxed)
    }

    fn fingerprints_count_descriptors(&self) -> bool {
        // Our own table has stdin, stdout, stderr at least: a size of 0 means an older kernel.
        self.fingerprint(std::process::id())
            .is_some_and(|f| f.descriptors > 0)
    }
}

/// Shares `pids` among `workers` threads, each taking the next unread process, so one process
/// with thousands of sockets does not leave the other thread idle.
fn read_in_parallel(
    root: BorrowedFd<'_>,
    pids: &[u32],
    workers: usize,
    out_of_descriptors: &AtomicBool,
) -> Vec<(u32, Option<SocketTable>)> {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut reader = Reader::new(root, out_of_descriptors);
        let mut done = Vec::new();
        while let Some(&pid) = pids.get(next.fetch_add(1, Ordering::Relaxed)) {
            done.push((pid, reader.read(pid)));
        }
        done
    };
    std::thread::scope(|scope| {
        // A thread that cannot be had (a low `ulimit -u`) leaves its share to the others: the
        // work is taken from one queue.
        let helpers: Vec<_> = (1..workers)
            .filter_map(|_| std::thread::Builder::new().spawn_scoped(scope, work).ok())
            .collect();
        let mut all = work();
        for helper in helpers {
            // A worker can only panic on a bug; the processes it took are then left out, and
            // read as unreadable below, rather than failing the whole lookup.
            if let Ok(part) = helper.join() {
                all.extend(part);
            }
        }
        if all.len() < pids.len() {
            let read: std::collections::HashSet<u32> = all.iter().map(|(pid, _)| *pid).collect();
            all.extend(
                pids.iter()
                    .filter(|p| !read.contains(p))
                    .map(|&p| (p, None)),
            );
        }
        all
    })
}

/// Reads descriptor tables with one set of buffers reused across processes and descriptors.
struct Reader<'a> {
    root: BorrowedFd<'a>,
    path: String,
    link: [u8; LINK_BUF_LEN],
    out_of_descriptors: &'a AtomicBool,
}

impl<'a> Reader<'a> {
    fn new(root: BorrowedFd<'a>, out_of_descriptors: &'a AtomicBool) -> Self {
        Self {
            root,
            path: String::with_capacity(24),
            link: [0; LINK_BUF_LEN],
            out_of_descriptors,
        }
    }

    /// The sockets `pid` holds, by descriptor; `None` when its table cannot be read: another
    /// user's process (EACCES) or one that exited (ENOENT).
    fn read(&mut self, pid: u32) -> Option<SocketTable> {
        self.path.clear();
        // Writing to a String cannot fail.
        let _ = write!(self.path, "{pid}/fd");
        let dir_fd = open_dir(self.root, self.path.as_str())
            .inspect_err(|&errno| note_exhaustion(errno, self.out_of_descriptors))
            .ok()?;
        let mut dir = Dir::new(dir_fd).ok()?;
        let mut table = SocketTable::new();
        while let Some(Ok(entry)) = dir.read() {
            let Some(fd) =
                parse_decimal(entry.file_name().to_bytes()).and_then(|n| u32::try_from(n).ok())
            else {
                continue; // "." and ".."
            };
            let Ok(dir_ref) = dir.fd() else {
                break;
            };
            let Ok(len) =
                rustix::fs::readlinkat_raw(dir_ref, entry.file_name(), &mut self.link[..])
            else {
                continue; // closed meanwhile
            };
            if let Some(inode) = self.link.get(..len).and_then(socket_inode) {
                table.push((fd, inode));
            }
        }
        table.sort_unstable();
        Some(table)
    }
}

/// Remembers an EMFILE or ENFILE: the lookup then says it could not finish, instead of "not
/// found".
fn note_exhaustion(errno: rustix::io::Errno, flag: &AtomicBool) {
    if matches!(errno, rustix::io::Errno::MFILE | rustix::io::Errno::NFILE) {
        flag.store(true, Ordering::Relaxed);
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

        fn procfs(&self, workers: usize) -> ProcFs {
            ProcFs::with_root(&self.root).with_max_workers(workers)
        }
    }

    impl Drop for FakeProc {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    fn sorted(mut tables: Vec<(u32, Option<SocketTable>)>) -> Vec<(u32, Option<SocketTable>)> {
        tables.sort();
        tables
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
    fn reads_every_socket_descriptor_of_every_process() {
        let proc = FakeProc::new();
        proc.fd("2100", 3, "socket:[555]")
            .fd("2101", 3, "socket:[555]")
            .fd("2101", 7, "socket:[555]") // the same socket twice in one process
            .fd("2103", 9, "socket:[555]")
            .fd("2103", 0, "/dev/null")
            .fd("300", 5, "socket:[777]")
            .fd("301", 1, "pipe:[555]");
        let pids = [300, 301, 2100, 2101, 2103, 2104];
        let expected = vec![
            (300, Some(vec![(5, 777)])),
            (301, Some(vec![])),
            (2100, Some(vec![(3, 555)])),
            (2101, Some(vec![(3, 555), (7, 555)])),
            (2103, Some(vec![(9, 555)])),
            (2104, None), // no such process
        ];
        for workers in [1, 2] {
            let procfs = proc.procfs(workers);
            assert_eq!(procfs.pids(), [300, 301, 2100, 2101, 2103]);
            // Enough processes that two workers really share them.
            let many: Vec<u32> = pids.iter().copied().cycle().take(24).collect();
            let tables = sorted(procfs.socket_tables(&many));
            assert_eq!(tables.len(), 24, "workers={workers}");
            let mut once = tables;
            once.dedup();
            assert_eq!(once, expected, "workers={workers}");
        }
    }

    #[test]
    fn skips_non_process_entries() {
        let proc = FakeProc::new();
        proc.fd("10", 3, "socket:[1]")
            .fd("self", 3, "socket:[1]")
            .fd("net", 3, "socket:[1]");
        std::fs::write(proc.root.join("12"), b"not a directory").unwrap();
        let procfs = proc.procfs(1);
        assert_eq!(procfs.pids(), [10, 12]);
        assert_eq!(
            procfs.socket_tables(&[10, 12]),
            [(10, Some(vec![(3, 1)])), (12, None)]
        );
    }

    #[test]
    fn a_missing_proc_has_no_processes() {
        let missing = ProcFs::with_root("/nonexistent/loopwatch-proc");
        assert!(missing.pids().is_empty());
        assert_eq!(missing.socket_tables(&[1]), [(1, None)]);
        assert_eq!(missing.fingerprint(1), None);
    }

    #[test]
    fn reads_this_process_holding_real_sockets() {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tcp_inode = rustix::fs::fstat(&tcp).unwrap().st_ino;
        let udp_inode = rustix::fs::fstat(&udp).unwrap().st_ino;
        let me = std::process::id();
        for workers in [1, 2] {
            let tables = ProcFs::new().with_max_workers(workers).socket_tables(&[me]);
            let inodes: Vec<u64> = tables[0].1.iter().flatten().map(|&(_, i)| i).collect();
            assert!(inodes.contains(&tcp_inode) && inodes.contains(&udp_inode));
        }
    }

    #[test]
    fn the_fingerprint_follows_the_descriptor_count() {
        let procfs = ProcFs::new();
        if !procfs.fingerprints_count_descriptors() {
            eprintln!("skipped: this kernel (before 6.2) does not count descriptors in stat");
            return;
        }
        let me = std::process::id();
        // Other tests open and close descriptors meanwhile: only compare what this test holds.
        let before = procfs.fingerprint(me).unwrap();
        let held: Vec<UdpSocket> = (0..64)
            .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        let after = procfs.fingerprint(me).unwrap();
        assert_eq!(before.id, after.id, "same process, same fingerprint id");
        assert!(
            after.descriptors >= before.descriptors + 32,
            "{before:?} {after:?}"
        );
        drop(held);
    }
}
