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
    system: System,
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
        Ok(Self {
            system: new_system()?,
            users: UserNames::new()?,
            stale_allowance: STALE_PROCESS_ALLOWANCE,
            described: HashMap::new(),
        })
    }

    /// Starts from an empty cache when too many processes that nobody asked about anymore
    /// linger in it. Those that exited are never refreshed again, so sysinfo never notices.
    fn prune(&mut self, wanted: usize) {
        if self.system.processes().len() > wanted + self.stale_allowance
            && let Ok(fresh) = new_system()
        {
            self.system = fresh;
        }
    }
}

/// A sysinfo `System`, the one way loopwatch opens one (collector, details, signalling).
pub fn new_system() -> Result<System, CollectError> {
    System::new().map_err(|e| CollectError::Processes(e.to_string()))
}

/// Name and start time come with every refresh; the command line and user are read once per
/// process (they do not change), and tasks never (threads share the process's sockets).
fn refresh_kind() -> ProcessRefreshKind {
    ProcessRefreshKind::nothing()
        .without_tasks()
        .with_cmd(UpdateKind::OnlyIfNotSet)
        .with_user(UpdateKind::OnlyIfNotSet)
}

impl ProcessSource for SysinfoProcesses {
    fn processes(&mut self, pids: &[u32]) -> HashMap<u32, ProcessInfo> {
        if pids.is_empty() {
            return HashMap::new();
        }
        self.prune(pids.len());
        let mut found = HashMap::with_capacity(pids.len());
        let mut described = HashMap::with_capacity(pids.len());
        let mut unknown: Vec<(u32, Option<StatFacts>)> = Vec::new();
        for &pid in pids {
            let stat = StatFacts::read(pid);
            match (self.described.remove(&pid), stat) {
                (Some(known), Some(stat)) if known.stat == stat => {
                    found.insert(pid, known.info.clone());
                    described.insert(pid, known);
                }
                (_, stat) => unknown.push((pid, stat)),
            }
        }
        if !unknown.is_empty() {
            let wanted: Vec<Pid> = unknown.iter().map(|&(pid, _)| Pid::from_u32(pid)).collect();
            // `true` drops the wanted pids that exited, so they are not described from stale
            // data. A pid that was reused is detected by sysinfo (its start time changed) and
            // re-read.
            self.system.refresh_processes_specifics(
                ProcessesToUpdate::Some(&wanted),
                true,
                refresh_kind(),
            );
            for (pid, stat) in unknown {
                let Some(process) = self.system.process(Pid::from_u32(pid)) else {
                    continue;
                };
                let info = describe(process, &mut self.users);
                // Remembered only when the stat read before agrees with what sysinfo found
                // (the same start): a process replaced in between is read afresh next time.
                // An empty command line is never remembered: right after a fork, mid-exec,
                // it reads empty for a moment, and the next read heals it.
                if let Some(stat) = stat
                    .filter(|s| s.start_ticks == info.key.start_ticks && !info.cmdline.is_empty())
                {
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

fn describe(process: &Process, users: &mut UserNames) -> ProcessInfo {
    ProcessInfo {
        key: ProcKey {
            pid: process.pid().as_u32(),
            start_time: process.start_time(),
            start_ticks: start_ticks(process.pid().as_u32()),
        },
        name: process.name().to_string_lossy().into_owned(),
        user: process.user_id().map(|uid| users.name_or_id(uid)),
        cmdline: process
            .cmd()
            .iter()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect(),
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
        assert!(
            source.system.process(Pid::from_u32(pid)).is_none(),
            "pruned"
        );
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
        assert!(source.system.processes().len() <= 1);
        assert!(
            source
                .system
                .process(Pid::from_u32(sleeper.pid()))
                .is_none()
        );
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
        assert!(source.system.processes().is_empty());
    }
}
