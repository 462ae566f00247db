//! What the owning processes are: name, start, command line and user.
//!
//! On Linux each process new to loopwatch is read from its `/proc/<pid>` files
//! ([`super::process_files`]), on two threads when there are many (a one-shot answer meets every
//! owner for the first time); elsewhere through one long-lived `sysinfo::System`. A process
//! already described is answered from memory after one read of its `stat`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[cfg(not(any(target_os = "linux", target_os = "android")))]
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, UpdateKind};
use sysinfo::{System, Uid, Users};

#[cfg(any(target_os = "linux", target_os = "android"))]
use super::process_files::{self, ProcessFiles, StatFacts, Unread};
use super::{CollectError, ProcessInfo, ProcessSource};
use crate::model::ProcKey;

/// How many processes that no longer own a shown socket may linger in sysinfo's cache before
/// it is rebuilt. Rebuilding costs one re-read of each owner's command line; lingering costs
/// memory.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const STALE_PROCESS_ALLOWANCE: usize = 256;

/// A uid missing from the user list triggers a re-read of it, at most this often: a uid with no
/// name at all (containers, deleted users) would otherwise re-read it on every refresh.
const USERS_REREAD_INTERVAL: Duration = Duration::from_secs(10);

/// From this many new processes on, they are read on two threads. Starting a thread costs
/// ~30 us, reading a process ~40 us: below a handful it does not pay.
#[cfg(any(target_os = "linux", target_os = "android"))]
const PARALLEL_MIN_PIDS: usize = 8;

/// The owning processes, described.
pub struct SystemProcesses {
    users: UserNames,
    /// Boot time and clock ticks a second, to give a start in ticks as seconds since the epoch
    /// exactly as sysinfo does (the stop path compares the two).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    clock: (u64, u64),
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    system: System,
    /// Each owning process as last described, with what its `/proc/<pid>/stat` said then. A
    /// tick reads that one file per process: the same start (to the clock tick), name and
    /// place of its arguments mean the same process running the same program, so its other
    /// files are read only when it is new or changed.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    described: HashMap<u32, Described>,
}

/// A process's description and the `/proc/<pid>/stat` facts it was made under.
#[cfg(any(target_os = "linux", target_os = "android"))]
struct Described {
    stat: StatFacts,
    info: ProcessInfo,
}

impl SystemProcesses {
    pub fn new() -> Result<Self, CollectError> {
        Ok(Self {
            users: UserNames::new()?,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            clock: (
                System::boot_time().unwrap_or(0),
                rustix::param::clock_ticks_per_second().max(1),
            ),
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            system: new_system()?,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            described: HashMap::new(),
        })
    }
}

/// A sysinfo `System`, the one way loopwatch opens one (details, signalling, other platforms).
pub fn new_system() -> Result<System, CollectError> {
    System::new().map_err(|e| CollectError::Processes(e.to_string()))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl ProcessSource for SystemProcesses {
    fn processes(&mut self, pids: &[u32]) -> HashMap<u32, ProcessInfo> {
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
        for (pid, files) in read_new(&unknown) {
            let (boot_time, ticks_a_second) = self.clock;
            let remembered =
                (files.settled && !files.cmdline.is_empty()).then(|| files.stat.clone());
            let info = ProcessInfo {
                key: ProcKey {
                    pid,
                    start_time: boot_time.saturating_add(files.stat.start_ticks / ticks_a_second),
                    start_ticks: files.stat.start_ticks,
                },
                name: files.stat.name,
                user: files
                    .uid
                    .and_then(uid_from)
                    .map(|uid| self.users.name_or_id(&uid)),
                cmdline: files.cmdline,
            };
            // An empty command line is never remembered: right after a fork, mid-exec, it
            // reads empty for a moment, and the next read heals it.
            if let Some(stat) = remembered {
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

/// Reads `pids`, processes new to loopwatch, sharing them between two threads when there are
/// enough to pay for the second. A process left unread for want of descriptors is read again
/// on one thread: sharing the work must never make an owner "not found" that one thread would
/// have read (a low `ulimit -n`). The gone are left out.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn read_new(pids: &[u32]) -> Vec<(u32, ProcessFiles)> {
    let read_all = |pids: &[u32]| -> Vec<(u32, Result<ProcessFiles, Unread>)> {
        pids.iter()
            .map(|&pid| (pid, process_files::read(pid)))
            .collect()
    };
    let two_threads = pids.len() >= PARALLEL_MIN_PIDS
        && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    let results = if two_threads {
        let (mine, theirs) = pids.split_at(pids.len() / 2);
        std::thread::scope(|scope| {
            // No thread to be had (a low `ulimit -u`): this one reads them all.
            let helper = std::thread::Builder::new()
                .spawn_scoped(scope, || read_all(theirs))
                .ok();
            let mut results = read_all(mine);
            match helper {
                // A reading thread can only panic on a bug: carried on, not hidden as processes
                // that seem to have exited.
                Some(helper) => results.extend(
                    helper
                        .join()
                        .unwrap_or_else(|e| std::panic::resume_unwind(e)),
                ),
                None => results.extend(read_all(theirs)),
            }
            results
        })
    } else {
        read_all(pids)
    };
    let mut read = Vec::with_capacity(results.len());
    for (pid, result) in results {
        match result {
            Ok(files) => read.push((pid, files)),
            Err(Unread::OutOfDescriptors) if two_threads => {
                if let Ok(files) = process_files::read(pid) {
                    read.push((pid, files));
                }
            }
            Err(_) => {}
        }
    }
    read
}

/// Name and start time come with every refresh; the command line and user are read once per
/// process (they do not change), and tasks never (threads share the process's sockets).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn refresh_kind() -> ProcessRefreshKind {
    ProcessRefreshKind::nothing()
        .without_tasks()
        .with_cmd(UpdateKind::OnlyIfNotSet)
        .with_user(UpdateKind::OnlyIfNotSet)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
impl ProcessSource for SystemProcesses {
    fn processes(&mut self, pids: &[u32]) -> HashMap<u32, ProcessInfo> {
        if pids.is_empty() {
            return HashMap::new();
        }
        // sysinfo keeps every process it ever refreshed, and refreshing a pid list never drops
        // pids that left the list: start from empty when too many linger.
        if self.system.processes().len() > pids.len() + STALE_PROCESS_ALLOWANCE
            && let Ok(fresh) = new_system()
        {
            self.system = fresh;
        }
        let wanted: Vec<Pid> = pids.iter().map(|&pid| Pid::from_u32(pid)).collect();
        // `true` drops the wanted pids that exited, so they are not described from stale data.
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&wanted),
            true,
            refresh_kind(),
        );
        let mut found = HashMap::with_capacity(pids.len());
        for &pid in pids {
            let Some(process) = self.system.process(Pid::from_u32(pid)) else {
                continue;
            };
            let info = ProcessInfo {
                key: ProcKey {
                    pid,
                    start_time: process.start_time(),
                    start_ticks: 0,
                },
                name: process.name().to_string_lossy().into_owned(),
                user: process.user_id().map(|uid| self.users.name_or_id(uid)),
                cmdline: process
                    .cmd()
                    .iter()
                    .map(|arg| arg.to_string_lossy().into_owned())
                    .collect(),
            };
            found.insert(pid, info);
        }
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
        StatFacts::read(pid).map_or(0, |stat| stat.start_ticks)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = pid;
        0
    }
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

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_a_start_in_ticks() {
        assert!(start_ticks(std::process::id()) > 0);
        assert_eq!(start_ticks(NO_SUCH_PID), 0);
    }

    /// A process described once is described again from one read of its stat, and a process
    /// that renames itself (`prctl(PR_SET_NAME)`, as many servers do) is read afresh at once
    /// under its new name.
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

        let mut source = SystemProcesses::new().unwrap();
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
        let mut source = SystemProcesses::new().unwrap();
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

    /// A python child that runs `then` (python code) once its stdin closes, and the pipe
    /// that closes it.
    #[cfg(target_os = "linux")]
    fn python_then(then: &str) -> (Child, Option<std::process::ChildStdin>) {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;
        let script = format!(
            "import ctypes, os, sys\nprint('ready', flush=True)\nsys.stdin.readline()\n{then}\n"
        );
        let mut child = Command::new("python3")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        (child, stdin)
    }

    /// Polls `source` for `pid` until `done` holds of what it says, for up to 5 s.
    #[cfg(target_os = "linux")]
    fn described_until(
        source: &mut SystemProcesses,
        pid: u32,
        done: impl Fn(&ProcessInfo) -> bool,
    ) -> ProcessInfo {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = source.processes(&[pid]);
            if let Some(info) = found.get(&pid).filter(|info| done(info)) {
                return info.clone();
            }
            assert!(Instant::now() < deadline, "never: {found:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A program that runs another of the same name in its pid (an interpreter re-run, a
    /// server's re-exec) keeps its name and start: the new command line shows all the same.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_process_that_runs_a_program_of_the_same_name_shows_the_new_command_line() {
        let (mut child, mut stdin) = python_then(
            "os.execvp('python3', ['python3', '-c', 'import time; time.sleep(30)', 'second'])",
        );
        let pid = child.id();
        let mut source = SystemProcesses::new().unwrap();
        let before = source.processes(&[pid])[&pid].clone();
        assert!(source.described.contains_key(&pid), "remembered");
        drop(stdin.take());
        let after = described_until(&mut source, pid, |info| {
            info.cmdline.last().is_some_and(|arg| arg == "second")
        });
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!((after.key, &after.name), (before.key, &before.name));
    }

    /// A program run with no arguments at all shows none: not the arguments of the program
    /// the pid ran before, which a hostile process could otherwise keep on show.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_process_that_runs_a_program_with_no_arguments_shows_none() {
        // python3 with no argv reads commands from its stdin, kept open here: it stays.
        let (mut child, mut stdin) = python_then(
            "exe = os.fsencode(sys.executable)\n\
             argv = (ctypes.c_char_p * 1)(None)\n\
             env = (ctypes.c_char_p * 1)(None)\n\
             ctypes.CDLL(None).execve(exe, argv, env)",
        );
        let pid = child.id();
        let mut source = SystemProcesses::new().unwrap();
        let before = source.processes(&[pid])[&pid].clone();
        assert!(before.cmdline.len() > 2, "{before:?}");
        // One line (not EOF) sends the script on to exec; python then waits on the pipe.
        std::io::Write::write_all(stdin.as_mut().unwrap(), b"\n").unwrap();
        let after = described_until(&mut source, pid, |info| info.cmdline.is_empty());
        assert_eq!(after.key, before.key);
        assert!(
            !source.described.contains_key(&pid),
            "an empty one is read again"
        );
        drop(stdin.take());
        let _ = child.kill();
        let _ = child.wait();
    }

    /// A process that runs one program after another without pause, among others read at the
    /// same time: each answer is of one program, its name with its own command line (or with
    /// none, where it never held still), never one program's name with the other's arguments.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_process_switching_programs_is_never_shown_as_a_mix_of_two() {
        // sh runs env, which runs sh, which runs env...: the name alternates, and so does argv.
        let again = r#"exec env sh -c "$0" "$0""#;
        let mut flipper = Command::new("sh")
            .args(["-c", again, again])
            .spawn()
            .unwrap();
        let sleepers: Vec<Sleeper> = (0..PARALLEL_MIN_PIDS * 3)
            .map(|_| Sleeper::spawn())
            .collect();
        let mut pids: Vec<u32> = sleepers.iter().map(Sleeper::pid).collect();
        pids.insert(0, flipper.id());
        let (mut seen, mut mixed) = (0, Vec::new());
        let deadline = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < deadline {
            // A fresh source each time: every process is new to it, as to a one-shot answer.
            let found = SystemProcesses::new().unwrap().processes(&pids);
            if let Some(info) = found.get(&flipper.id()) {
                seen += 1;
                if info
                    .cmdline
                    .first()
                    .is_some_and(|first| *first != info.name)
                {
                    mixed.push(info.clone());
                }
            }
        }
        let _ = flipper.kill();
        let _ = flipper.wait();
        assert!(seen > 10, "read {seen} times");
        assert!(
            mixed.is_empty(),
            "{} of {seen}: {:?}",
            mixed.len(),
            mixed.first()
        );
    }

    /// A one-shot answer meets every owning process for the first time: enough of them are
    /// read on two threads, and every one of them exactly once and as itself, the gone ones
    /// left out.
    #[cfg(target_os = "linux")]
    #[test]
    fn many_new_processes_are_each_described_as_themselves() {
        let sleepers: Vec<Sleeper> = (0..PARALLEL_MIN_PIDS * 2)
            .map(|_| Sleeper::spawn())
            .collect();
        let mut pids: Vec<u32> = sleepers.iter().map(Sleeper::pid).collect();
        pids.push(NO_SUCH_PID);
        pids.push(std::process::id());
        let mut source = SystemProcesses::new().unwrap();
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
    }

    #[test]
    fn describes_this_process() {
        let me = std::process::id();
        let mut source = SystemProcesses::new().unwrap();
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
        let mut source = SystemProcesses::new().unwrap();
        // Right after spawn the child may be mid-exec: its command line reads empty for a
        // moment, and an empty one is read again on the next refresh, so polling heals it.
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
        #[cfg(target_os = "linux")]
        assert!(!source.described.contains_key(&pid), "forgotten");
    }

    #[cfg(unix)]
    #[test]
    fn names_users_and_falls_back_to_the_number() {
        let mut source = SystemProcesses::new().unwrap();
        assert_eq!(source.user_name(0).as_deref(), Some("root"));
        assert_eq!(source.user_name(3_999_999).as_deref(), Some("3999999"));
        // A second miss right after must not re-read the user list.
        let read_at = source.users.last_read;
        assert_eq!(source.user_name(3_999_998).as_deref(), Some("3999998"));
        assert_eq!(source.users.last_read, read_at);
    }

    #[test]
    fn nothing_asked_reads_nothing() {
        let mut source = SystemProcesses::new().unwrap();
        assert!(source.processes(&[]).is_empty());
        #[cfg(target_os = "linux")]
        assert!(source.described.is_empty());
    }
}
