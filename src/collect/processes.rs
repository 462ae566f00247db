//! What the owning processes are, read through one long-lived `sysinfo::System`.
//!
//! Only the pids that own a shown socket are refreshed, and only for what loopwatch shows
//! (name, start time, command line, user). sysinfo keeps every process it ever refreshed, and
//! refreshing a pid list never drops pids that left the list, so the cache is pruned here.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sysinfo::{
    Pid, Process, ProcessRefreshKind, ProcessesToUpdate, System, Uid, UpdateKind, Users,
};

use super::{CollectError, ProcessInfo, ProcessSource};
use crate::model::ProcKey;

/// How many processes that no longer own a shown socket may linger in the cache before it is
/// rebuilt. Rebuilding costs one re-read of each owner's command line; lingering costs memory.
const STALE_PROCESS_ALLOWANCE: usize = 256;

/// A uid missing from the user list triggers a re-read of it, at most this often: a uid with no
/// name at all (containers, deleted users) would otherwise re-read it on every refresh.
const USERS_REREAD_INTERVAL: Duration = Duration::from_secs(10);

/// Process details from sysinfo.
pub struct SysinfoProcesses {
    /// One sysinfo `System` per thread that describes processes new to loopwatch: a `System`
    /// is refreshed through `&mut`, and a one-shot answer meets every owning process for the
    /// first time (at 1,000 processes, ~75 us each on one thread).
    systems: Vec<System>,
    users: UserNames,
    stale_allowance: usize,
    /// Each owning process as last described, with what its `/proc/<pid>/stat` said then. A
    /// tick reads that one file per process: the same start (to the clock tick) and the same
    /// name mean the same process, unchanged in all loopwatch shows of it, so sysinfo's
    /// three reads per process are spent only on processes that are new or renamed.
    described: HashMap<u32, Described>,
}

/// A process's description and the `/proc/<pid>/stat` facts it was made under.
struct Described {
    stat: StatFacts,
    info: ProcessInfo,
}

/// A process new to loopwatch as one describing thread found it; its user is named after.
struct Fresh {
    info: ProcessInfo,
    uid: Option<Uid>,
    /// The stat facts read before sysinfo read the process, when they agree with those read
    /// after (the same start and name): the description is then known to be of one process,
    /// unchanged throughout, and may be remembered.
    remembered: Option<StatFacts>,
}

/// From this many new processes on, they are described on two threads. Starting a thread
/// costs ~30 us, describing a process ~75 us: below a handful it does not pay.
const PARALLEL_MIN_PIDS: usize = 8;

/// From `/proc/<pid>/stat`: the name (field 2) and the start in clock ticks (field 22).
#[derive(Debug, Clone, PartialEq, Eq)]
struct StatFacts {
    name: String,
    start_ticks: u64,
}

impl StatFacts {
    /// `None` when the process is gone, or the platform has no such file.
    fn read(pid: u32) -> Option<StatFacts> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            StatFacts::parse(&stat)
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = pid;
            None
        }
    }

    #[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
    fn parse(stat: &str) -> Option<StatFacts> {
        let name = &stat[stat.find('(')? + 1..stat.rfind(')')?];
        Some(StatFacts {
            name: name.to_string(),
            start_ticks: parse_start_ticks(stat).filter(|&ticks| ticks != 0)?,
        })
    }
}

impl SysinfoProcesses {
    pub fn new() -> Result<Self, CollectError> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Self {
            systems: (0..threads.clamp(1, 2))
                .map(|_| new_system())
                .collect::<Result<_, _>>()?,
            users: UserNames::new()?,
            stale_allowance: STALE_PROCESS_ALLOWANCE,
            described: HashMap::new(),
        })
    }

    /// Starts a `System` from empty when too many processes that nobody asked about anymore
    /// linger in it. Those that exited are never refreshed again, so sysinfo never notices.
    fn prune(&mut self, wanted: usize) {
        for system in &mut self.systems {
            if system.processes().len() > wanted + self.stale_allowance
                && let Ok(fresh) = new_system()
            {
                *system = fresh;
            }
        }
    }

    /// Every process any `System` holds (tests).
    #[cfg(test)]
    fn held(&self) -> Vec<u32> {
        self.systems
            .iter()
            .flat_map(|system| system.processes().keys().map(|pid| pid.as_u32()))
            .collect()
    }
}

/// Describes `pids`, processes new to loopwatch, sharing them among the `systems` (one thread
/// each) when there are enough to pay for the threads.
fn describe_new(systems: &mut [System], pids: &[u32]) -> Vec<Fresh> {
    let workers = if pids.len() >= PARALLEL_MIN_PIDS {
        systems.len()
    } else {
        1
    };
    let Some((first, others)) = systems.split_first_mut() else {
        return Vec::new();
    };
    if workers <= 1 {
        return describe_through(first, pids);
    }
    let mut shares = pids.chunks(pids.len().div_ceil(workers));
    let first_pids = shares.next().unwrap_or_default();
    let mut all = std::thread::scope(|scope| {
        let helpers: Vec<_> = others
            .iter_mut()
            .zip(shares)
            .map(|(system, pids)| scope.spawn(move || describe_through(system, pids)))
            .collect();
        let mut all = describe_through(first, first_pids);
        for helper in helpers {
            // A describing thread can only panic on a bug: carried on, not hidden as processes
            // that seem to have exited.
            all.extend(
                helper
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            );
        }
        all
    });
    // A process one thread could not read has exited, or the other thread held the last
    // descriptor this process may open (a low `ulimit -n`): one thread alone tries again, so
    // sharing the work never makes a process "not found" that one thread would have read.
    if all.len() < pids.len() {
        let read: std::collections::HashSet<u32> = all.iter().map(|f| f.info.key.pid).collect();
        let missed: Vec<u32> = pids.iter().copied().filter(|p| !read.contains(p)).collect();
        all.extend(describe_through(first, &missed));
    }
    all
}

/// Describes `pids` through one `System`. Each process's stat is read before sysinfo reads it
/// and again after: when both agree, what sysinfo read in between was that one process, not
/// one that took its pid meanwhile, and it may be remembered.
fn describe_through(system: &mut System, pids: &[u32]) -> Vec<Fresh> {
    let before: Vec<Option<StatFacts>> = pids.iter().map(|&pid| StatFacts::read(pid)).collect();
    let wanted: Vec<Pid> = pids.iter().map(|&pid| Pid::from_u32(pid)).collect();
    // `true` drops the wanted pids that exited, so they are not described from stale data. A
    // pid that was reused is detected by sysinfo (its start time changed) and re-read.
    system.refresh_processes_specifics(ProcessesToUpdate::Some(&wanted), true, refresh_kind());
    pids.iter()
        .zip(before)
        .filter_map(|(&pid, before)| {
            let process = system.process(Pid::from_u32(pid))?;
            let after = StatFacts::read(pid);
            // Another start: the pid was taken by another process while sysinfo read it, and
            // what it read may be either's. The holder found in `/proc` is gone: left out, as
            // if read a moment later.
            if let (Some(before), Some(after)) = (&before, &after)
                && before.start_ticks != after.start_ticks
            {
                return None;
            }
            let (info, uid) = describe(process, after.as_ref());
            // An empty command line is never remembered: right after a fork, mid-exec, it
            // reads empty for a moment, and the next read heals it.
            let remembered =
                before.filter(|b| after.as_ref() == Some(b) && !info.cmdline.is_empty());
            Some(Fresh {
                info,
                uid,
                remembered,
            })
        })
        .collect()
}

/// A sysinfo `System`, the one way loopwatch opens one (collector, details, signalling).
pub fn new_system() -> Result<System, CollectError> {
    System::new().map_err(|e| CollectError::Processes(e.to_string()))
}

/// Name and start time come with every refresh, and the command line and user with each
/// refresh asked for: only processes new to loopwatch or renamed are refreshed (the rest are
/// answered from [`SysinfoProcesses::described`]), and a renamed one may have run another
/// program in the same pid. Tasks never (threads share the process's sockets).
fn refresh_kind() -> ProcessRefreshKind {
    ProcessRefreshKind::nothing()
        .without_tasks()
        .with_cmd(UpdateKind::Always)
        .with_user(UpdateKind::Always)
}

impl ProcessSource for SysinfoProcesses {
    fn processes(&mut self, pids: &[u32]) -> HashMap<u32, ProcessInfo> {
        if pids.is_empty() {
            return HashMap::new();
        }
        self.prune(pids.len());
        let mut found = HashMap::with_capacity(pids.len());
        let mut described = HashMap::with_capacity(pids.len());
        let mut unknown = Vec::new();
        for &pid in pids {
            match self.described.remove(&pid) {
                Some(known) if StatFacts::read(pid).as_ref() == Some(&known.stat) => {
                    found.insert(pid, known.info.clone());
                    described.insert(pid, known);
                }
                _ => unknown.push(pid),
            }
        }
        for fresh in describe_new(&mut self.systems, &unknown) {
            let info = ProcessInfo {
                user: fresh.uid.map(|uid| self.users.name_or_id(&uid)),
                ..fresh.info
            };
            let pid = info.key.pid;
            if let Some(stat) = fresh.remembered {
                described.insert(
                    pid,
                    Described {
                        stat,
                        info: info.clone(),
                    },
                );
            }
            found.insert(pid, info);
        }
        self.described = described;
        found
    }

    fn user_name(&mut self, uid: u32) -> Option<String> {
        let uid = uid_from(uid)?;
        Some(self.users.name_or_id(&uid))
    }
}

/// When `pid` started, in clock ticks since boot (`/proc/<pid>/stat` field 22): exact where
/// the start time in seconds is not. 0 where it cannot be read (gone, or not Linux).
pub fn start_ticks(pid: u32) -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| parse_start_ticks(&stat))
            .unwrap_or(0)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = pid;
        0
    }
}

/// Field 22 of a `/proc/<pid>/stat` line. The command name (field 2) is in parentheses and may
/// itself hold spaces and parentheses, so the fields are counted after its last `)`.
#[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
fn parse_start_ticks(stat: &str) -> Option<u64> {
    // After the name come field 3 (state) onwards: field 22 is the 20th of them.
    super::health::stat_fields(stat)?.get(19)?.parse().ok()
}

/// What loopwatch shows of `process`, with its uid for the user's name (named by the caller,
/// which holds the names already looked up). The name and start come from `stat`, read after
/// sysinfo's read: sysinfo keeps the name it first read for as long as the pid lives, which
/// after an `exec` is another program's.
fn describe(process: &Process, stat: Option<&StatFacts>) -> (ProcessInfo, Option<Uid>) {
    let info = ProcessInfo {
        key: ProcKey {
            pid: process.pid().as_u32(),
            start_time: process.start_time(),
            start_ticks: stat.map_or(0, |s| s.start_ticks),
        },
        name: stat.map_or_else(
            || process.name().to_string_lossy().into_owned(),
            |s| s.name.clone(),
        ),
        user: None,
        cmdline: process
            .cmd()
            .iter()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect(),
    };
    (info, process.user_id().cloned())
}

#[cfg(unix)]
fn uid_from(uid: u32) -> Option<Uid> {
    Uid::try_from(usize::try_from(uid).ok()?).ok()
}

/// Windows identifies users by SID, not by a number.
#[cfg(not(unix))]
fn uid_from(_uid: u32) -> Option<Uid> {
    None
}

/// User names from sysinfo's user list, re-read lazily when an unknown uid shows up.
pub(crate) struct UserNames {
    users: Users,
    /// Names already resolved, by uid (Unix: the NSS lookup is not free).
    #[cfg(unix)]
    known: HashMap<u32, String>,
    last_read: Option<Instant>,
}

impl UserNames {
    pub(crate) fn new() -> Result<Self, CollectError> {
        Ok(Self {
            users: Users::new().map_err(|e| CollectError::Processes(e.to_string()))?,
            #[cfg(unix)]
            known: HashMap::new(),
            last_read: None,
        })
    }

    /// The user's name, or the id itself when it has none.
    pub(crate) fn name_or_id(&mut self, uid: &Uid) -> String {
        self.name(uid).unwrap_or_else(|| (**uid).to_string())
    }

    fn name(&mut self, uid: &Uid) -> Option<String> {
        if let Some(name) = self.lookup(uid) {
            return Some(name);
        }
        if self
            .last_read
            .is_some_and(|at| at.elapsed() < USERS_REREAD_INTERVAL)
        {
            return None;
        }
        self.users.refresh();
        self.last_read = Some(Instant::now());
        self.lookup(uid)
    }

    /// On Unix, asks the C library (NSS: /etc/passwd, LDAP, systemd-homed...), remembering
    /// answers; sysinfo's own list reads /etc/passwd only and skips accounts whose shell is
    /// `/bin/false`, which is how most daemons (mysql, redis, postgres) are set up.
    #[cfg(unix)]
    fn lookup(&mut self, uid: &Uid) -> Option<String> {
        let raw: u32 = **uid;
        if let Some(name) = self.known.get(&raw) {
            return Some(name.clone());
        }
        let name = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(raw))
            .ok()
            .flatten()
            .map(|user| user.name)
            .or_else(|| {
                self.users
                    .get_user_by_id(uid)
                    .map(|user| user.name().to_string())
            })?;
        self.known.insert(raw, name.clone());
        Some(name)
    }

    #[cfg(not(unix))]
    fn lookup(&mut self, uid: &Uid) -> Option<String> {
        self.users
            .get_user_by_id(uid)
            .map(|user| user.name().to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Child, Command};
    use std::time::Duration;

    use super::*;

    /// A `sleep` child that is killed and reaped however the test ends.
    struct Sleeper(Child);

    impl Sleeper {
        fn spawn() -> Self {
            Self(Command::new("sleep").arg("30").spawn().unwrap())
        }

        fn pid(&self) -> u32 {
            self.0.id()
        }

        fn end(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    impl Drop for Sleeper {
        fn drop(&mut self) {
            self.end();
        }
    }

    /// Beyond Linux's largest possible pid_max (2^22), so never a live process.
    const NO_SUCH_PID: u32 = 4_194_304 + 17;

    #[test]
    fn the_start_in_ticks_is_field_22_even_with_a_hostile_name() {
        let stat = "4812 (evil) 1 2 (x) S 1 4812 4812 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_ticks(stat), Some(987_654));
        assert_eq!(parse_start_ticks("garbage"), None);
        #[cfg(target_os = "linux")]
        assert!(
            start_ticks(std::process::id()) > 0,
            "this process has a start"
        );
    }

    #[test]
    fn stat_facts_take_the_name_between_the_first_and_last_parenthesis() {
        let stat = "4812 (evil) 1 2 (x) S 1 4812 4812 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(
            StatFacts::parse(stat),
            Some(StatFacts {
                name: "evil) 1 2 (x".to_string(),
                start_ticks: 987_654
            })
        );
        assert_eq!(StatFacts::parse("garbage"), None);
    }

    /// A process described once is described again from one read of its stat, and a process
    /// that renames itself (`prctl(PR_SET_NAME)`, as many servers do) is read afresh at once
    /// (what sysinfo then calls it is sysinfo's affair; the re-read is what is checked).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_known_process_is_answered_from_memory_until_it_renames_itself() {
        use std::io::{BufRead, BufReader, Write};
        use std::process::Stdio;
        let script = "import ctypes, sys\n\
            print('ready', flush=True)\n\
            sys.stdin.readline()\n\
            ctypes.CDLL(None).prctl(15, b'renamed-now', 0, 0, 0)\n\
            print('done', flush=True)\n\
            sys.stdin.readline()\n";
        let mut child = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let pid = child.id();

        let mut source = SysinfoProcesses::new().unwrap();
        let first = source.processes(&[pid])[&pid].clone();
        assert!(source.described.contains_key(&pid), "remembered");
        let again = source.processes(&[pid])[&pid].clone();
        assert_eq!(again, first);

        writeln!(stdin).unwrap();
        line.clear();
        stdout.read_line(&mut line).unwrap();
        let renamed = source.processes(&[pid])[&pid].clone();
        assert_eq!(
            source.described[&pid].stat.name, "renamed-now",
            "read afresh"
        );
        assert_eq!(renamed.key, first.key, "the same process");

        let _ = child.kill();
        let _ = child.wait();
        assert!(source.processes(&[pid]).is_empty(), "gone, not remembered");
        assert!(!source.described.contains_key(&pid));
    }

    /// A process that runs another program in its own pid (a wrapper's `exec`) is another
    /// command from then on: its new command line is shown, not the one read before.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_process_that_runs_another_program_in_its_pid_shows_the_new_command_line() {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;
        let script = "import os, sys\n\
            print('ready', flush=True)\n\
            sys.stdin.readline()\n\
            os.execvp('sleep', ['sleep', '31'])\n";
        let mut child = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let pid = child.id();
        let mut source = SysinfoProcesses::new().unwrap();
        let before = source.processes(&[pid])[&pid].clone();
        assert_eq!(before.name, "python3");

        drop(stdin.take()); // EOF: the script goes on to exec
        let deadline = Instant::now() + Duration::from_secs(5);
        let after = loop {
            let found = source.processes(&[pid]);
            if let Some(info) = found.get(&pid).filter(|info| info.name == "sleep") {
                break info.clone();
            }
            assert!(Instant::now() < deadline, "never saw the exec: {found:?}");
            std::thread::sleep(Duration::from_millis(5));
        };
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(after.key, before.key, "the same process");
        assert_eq!(after.cmdline, ["sleep", "31"], "not python's command line");
    }

    /// A one-shot answer meets every owning process for the first time: enough of them are
    /// described on two threads, each with its own `System`, and every one of them exactly once
    /// and as itself, the gone ones left out.
    #[test]
    fn many_new_processes_are_each_described_as_themselves() {
        let sleepers: Vec<Sleeper> = (0..PARALLEL_MIN_PIDS * 2)
            .map(|_| Sleeper::spawn())
            .collect();
        let mut pids: Vec<u32> = sleepers.iter().map(Sleeper::pid).collect();
        pids.push(NO_SUCH_PID);
        pids.push(std::process::id());
        let mut source = SysinfoProcesses::new().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let found = loop {
            // Right after spawn a child may be mid-exec (see `a_process_that_exited_is_dropped`).
            let found = source.processes(&pids);
            if sleepers
                .iter()
                .all(|s| found[&s.pid()].cmdline == ["sleep", "30"])
            {
                break found;
            }
            assert!(Instant::now() < deadline, "no command lines: {found:?}");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(found.len(), pids.len() - 1, "all but the missing pid");
        for (pid, info) in &found {
            assert_eq!(info.key.pid, *pid);
            assert_eq!(info.key.start_ticks, start_ticks(*pid), "its own start");
            assert!(info.user.is_some(), "{pid} has a user");
        }
        if source.systems.len() > 1 {
            assert!(
                source.systems.iter().all(|s| !s.processes().is_empty()),
                "both threads took a share"
            );
        }
    }

    #[test]
    fn describes_this_process() {
        let me = std::process::id();
        let mut source = SysinfoProcesses::new().unwrap();
        let found = source.processes(&[me, NO_SUCH_PID]);
        assert_eq!(found.len(), 1, "the missing pid is left out");
        let info = &found[&me];
        assert_eq!(info.key.pid, me);
        assert!(
            info.key.start_time > 1_500_000_000,
            "seconds since the epoch"
        );
        assert!(!info.name.is_empty());
        assert!(!info.cmdline.is_empty());
        assert!(info.user.is_some());
    }

    #[test]
    fn a_process_that_exited_is_dropped() {
        let mut sleeper = Sleeper::spawn();
        let pid = sleeper.pid();
        let mut source = SysinfoProcesses::new().unwrap();
        // Right after spawn the child may be mid-exec: its command line reads empty for a
        // moment. sysinfo reads an empty one again on the next refresh, so polling heals it.
        let deadline = Instant::now() + Duration::from_secs(5);
        let described = loop {
            let found = source.processes(&[pid]);
            if found.get(&pid).is_some_and(|info| !info.cmdline.is_empty()) {
                break found[&pid].clone();
            }
            assert!(
                Instant::now() < deadline,
                "no command line for {pid}: {found:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(described.name, "sleep");
        assert_eq!(described.cmdline, ["sleep", "30"]);
        sleeper.end();
        assert!(source.processes(&[pid]).is_empty());
        assert!(!source.held().contains(&pid), "pruned");
    }

    #[test]
    fn the_cache_is_rebuilt_when_stale_processes_pile_up() {
        let sleeper = Sleeper::spawn();
        let me = std::process::id();
        let mut source = SysinfoProcesses::new().unwrap();
        source.stale_allowance = 0;
        assert_eq!(source.processes(&[me, sleeper.pid()]).len(), 2);
        // The sleeper still runs but no longer owns anything we show: it must not linger.
        assert!(source.processes(&[me]).contains_key(&me));
        assert!(source.held().len() <= 1);
        assert!(!source.held().contains(&sleeper.pid()));
    }

    #[cfg(unix)]
    #[test]
    fn names_users_and_falls_back_to_the_number() {
        let mut source = SysinfoProcesses::new().unwrap();
        assert_eq!(source.user_name(0).as_deref(), Some("root"));
        assert_eq!(source.user_name(3_999_999).as_deref(), Some("3999999"));
        // A second miss right after must not re-read the user list.
        let read_at = source.users.last_read;
        assert_eq!(source.user_name(3_999_998).as_deref(), Some("3999998"));
        assert_eq!(source.users.last_read, read_at);
    }

    #[test]
    fn nothing_asked_reads_nothing() {
        let mut source = SysinfoProcesses::new().unwrap();
        assert!(source.processes(&[]).is_empty());
        assert!(source.held().is_empty());
    }
}
