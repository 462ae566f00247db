//! One process as its `/proc/<pid>` files tell it: `stat`, `cmdline` and `status`.
//!
//! The files are read through one descriptor of the process's folder, so each is of that one
//! process: once its pid is taken by another, reads through the old folder fail. And they are
//! bracketed by two reads of `stat`: a process that runs another program (`exec`) between them
//! is read again, so one program's name is never shown with another's command line.
//!
//! Read as bytes: a name or argument need not be UTF-8, and is shown escaped, never dropped.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

/// How many times a process whose `stat` moved while it was read is read again before it is
/// described without a command line (one that `exec`s without pause never settles).
const SETTLE_ATTEMPTS: usize = 3;

/// From `/proc/<pid>/stat`: what tells one process, running one program, from any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StatFacts {
    /// Field 2, the command name (as the kernel keeps it: at most 15 bytes).
    pub(super) name: String,
    /// Field 22, the start in clock ticks since boot: with the pid, the process's identity.
    pub(super) start_ticks: u64,
    /// Fields 48 and 49, where the program's arguments lie in its memory: they move when the
    /// process runs another program, even one of the same name (the stack is placed at random,
    /// as Linux does by default). 0 where the kernel does not tell this reader.
    pub(super) args_at: (u64, u64),
}

impl StatFacts {
    /// `None` when the process is gone.
    pub(super) fn read(pid: u32) -> Option<StatFacts> {
        let mut file = std::fs::File::open(format!("/proc/{pid}/stat")).ok()?;
        let mut bytes = Vec::with_capacity(512);
        file.read_to_end(&mut bytes).ok()?;
        StatFacts::parse(&bytes)
    }

    /// The name is between the first `(` and the last `)` (it may hold either, and spaces);
    /// the numbered fields follow the last `)`.
    pub(super) fn parse(stat: &[u8]) -> Option<StatFacts> {
        let stat = String::from_utf8_lossy(stat);
        let name = &stat[stat.find('(')? + 1..stat.rfind(')')?];
        let fields = super::health::stat_fields(&stat)?;
        // After the name come field 3 (state) onwards: field N is at N - 3.
        let number = |field: usize| fields.get(field - 3)?.parse::<u64>().ok();
        Some(StatFacts {
            name: name.to_string(),
            start_ticks: number(22).filter(|&ticks| ticks != 0)?,
            args_at: (number(48).unwrap_or(0), number(49).unwrap_or(0)),
        })
    }
}

/// What loopwatch shows of a process, read through its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ProcessFiles {
    pub(super) stat: StatFacts,
    /// Its arguments, empty ones left out (as `ps` and sysinfo do).
    pub(super) cmdline: Vec<String>,
    /// The real uid, from `status`.
    pub(super) uid: Option<u32>,
    /// `stat` read the same before and after: the files are of one program. `false` when it
    /// never settled: the command line is then left empty rather than guessed.
    pub(super) settled: bool,
}

/// Why a process could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unread {
    /// It exited (or its pid was taken by another meanwhile).
    Gone,
    /// This process had no descriptor left to read it with.
    OutOfDescriptors,
}

/// Reads `pid`'s name, start, command line and user.
pub(super) fn read(pid: u32) -> Result<ProcessFiles, Unread> {
    let folder = open(
        rustix::fs::CWD,
        format!("/proc/{pid}"),
        OFlags::PATH | OFlags::DIRECTORY,
    )?;
    let mut last = None;
    for _ in 0..SETTLE_ATTEMPTS {
        let before = stat_of(&folder)?;
        let cmdline = arguments(&read_file(&folder, "cmdline")?);
        let uid = real_uid(&read_file(&folder, "status")?);
        let after = stat_of(&folder)?;
        if after.start_ticks != before.start_ticks {
            // A folder is of one process: its start cannot change. Read as gone, to be safe.
            return Err(Unread::Gone);
        }
        if after == before {
            return Ok(ProcessFiles {
                stat: after,
                cmdline,
                uid,
                settled: true,
            });
        }
        last = Some((after, uid));
    }
    let (stat, uid) = last.ok_or(Unread::Gone)?;
    Ok(ProcessFiles {
        stat,
        cmdline: Vec::new(),
        uid,
        settled: false,
    })
}

fn stat_of(folder: &OwnedFd) -> Result<StatFacts, Unread> {
    StatFacts::parse(&read_file(folder, "stat")?).ok_or(Unread::Gone)
}

fn open(at: impl AsFd, path: impl rustix::path::Arg, flags: OFlags) -> Result<OwnedFd, Unread> {
    rustix::fs::openat(at, path, flags | OFlags::CLOEXEC, Mode::empty()).map_err(unread)
}

fn read_file(folder: &OwnedFd, name: &str) -> Result<Vec<u8>, Unread> {
    let file = open(folder, name, OFlags::RDONLY)?;
    let mut bytes = Vec::new();
    std::fs::File::from(file)
        .read_to_end(&mut bytes)
        .map_err(|e| unread(Errno::from_io_error(&e).unwrap_or(Errno::NOENT)))?;
    Ok(bytes)
}

fn unread(errno: Errno) -> Unread {
    if errno == Errno::MFILE || errno == Errno::NFILE {
        Unread::OutOfDescriptors
    } else {
        Unread::Gone
    }
}

/// `cmdline`'s NUL-separated arguments. A process that rewrote its arguments (`setproctitle`)
/// may have left one string with spaces: it is shown as it is.
fn arguments(cmdline: &[u8]) -> Vec<String> {
    cmdline
        .split(|&b| b == 0)
        .filter(|arg| !arg.is_empty())
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// The first number of `status`'s `Uid:` line: real, effective, saved, filesystem.
fn real_uid(status: &[u8]) -> Option<u32> {
    let line = status
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"Uid:"))?;
    std::str::from_utf8(line)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_facts_take_the_name_between_the_first_and_last_parenthesis() {
        let mut stat = b"4812 (evil) 1 2 (x) S 1 4812 4812 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10".to_vec();
        // Fields 25 to 49, each its own number: arg_start and arg_end last.
        for field in 25..=49 {
            stat.extend_from_slice(format!(" {field}").as_bytes());
        }
        assert_eq!(
            StatFacts::parse(&stat),
            Some(StatFacts {
                name: "evil) 1 2 (x".to_string(),
                start_ticks: 987_654,
                args_at: (48, 49),
            })
        );
        assert_eq!(StatFacts::parse(b"garbage"), None);
        assert_eq!(StatFacts::parse(b"1 (x) S 1 1 1"), None, "no start");
    }

    /// A name that is not UTF-8 (`prctl(PR_SET_NAME)` takes any bytes) still has a start.
    #[test]
    fn a_name_that_is_not_utf8_keeps_its_start() {
        let stat = b"7 (\xff\xfeBAD) S 1 7 7 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 4242 1000 10";
        let facts = StatFacts::parse(stat).unwrap();
        assert_eq!(facts.start_ticks, 4242);
        assert_eq!(facts.name, "\u{fffd}\u{fffd}BAD");
        assert_eq!(facts.args_at, (0, 0), "fields the kernel did not give");
    }

    #[test]
    fn arguments_split_on_nul_and_skip_empty_ones() {
        assert_eq!(arguments(b"python3\0-c\0\0x y\0"), ["python3", "-c", "x y"]);
        assert_eq!(
            arguments(b"nginx: master process"),
            ["nginx: master process"]
        );
        assert_eq!(arguments(b""), Vec::<String>::new());
        assert_eq!(arguments(b"a\xffb\0"), ["a\u{fffd}b"]);
    }

    #[test]
    fn the_real_uid_is_the_first_of_the_uid_line() {
        let status = b"Name:\tx\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\n";
        assert_eq!(real_uid(status), Some(1000));
        assert_eq!(real_uid(b"Name:\tx\n"), None);
    }

    #[test]
    fn reads_this_process() {
        let me = read(std::process::id()).unwrap();
        assert!(me.settled);
        assert_eq!(Some(&me.stat), StatFacts::read(std::process::id()).as_ref());
        assert!(!me.cmdline.is_empty());
        assert_eq!(me.uid, Some(rustix::process::getuid().as_raw()));
        assert_eq!(read(4_194_304 + 17), Err(Unread::Gone), "beyond pid_max");
    }
}
