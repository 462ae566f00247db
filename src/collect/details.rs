//! Everything the inspect view and the kill dialog show about one process: executable, working
//! directory, uptime, CPU and memory, status, its ancestry up to pid 1 (each ancestor's name
//! and arguments) and its child count, and what stands behind it: its cgroup, and for a
//! systemd service what systemd says about it ([`UnitAsker`]).
//!
//! Read on demand (only while a process is being inspected or about to be signalled), through a
//! sysinfo `System` of its own so the table's collector keeps its small, owners-only cache. The
//! environment is never read: it holds secrets.

use std::time::Duration;

use sysinfo::{Pid, Process, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

use super::processes::{UserNames, start_ticks};
use super::units::UnitAsker;
use super::{CollectError, Viewer};
use crate::model::{
    Ancestor, DetailsError, OsText, Placement, ProcKey, ProcessDetails, Provenance, Readable,
};

/// Reads process details. A trait so the UI runtime can be tested without a live process.
pub trait DetailsSource: Send {
    fn details(&mut self, key: ProcKey) -> Result<ProcessDetails, DetailsError>;
    /// What stands behind `pid` (systemd not asked), for naming who restarted a process;
    /// `None` when it has exited.
    fn provenance(&mut self, pid: u32) -> Option<Provenance>;
}

pub struct SysinfoDetails {
    system: System,
    users: Option<UserNames>,
    viewer: Viewer,
    /// The process whose CPU was sampled last: a second look at it can report a percentage.
    sampled: Option<ProcKey>,
    units: UnitAsker,
}

impl SysinfoDetails {
    pub fn new() -> Result<Self, CollectError> {
        Self::with_units(UnitAsker::system())
    }

    /// Details whose systemd questions go to `units` (tests give it a fake systemctl).
    pub fn with_units(units: UnitAsker) -> Result<Self, CollectError> {
        Ok(Self {
            system: super::processes::new_system()?,
            users: UserNames::new().ok(),
            viewer: Viewer::current(),
            sampled: None,
            units,
        })
    }

    /// Names, parents and start times of every process: cheap (one stat per process), and only
    /// done on demand.
    fn refresh_table(&mut self) {
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing().without_tasks(),
        );
    }

    /// Parent first, each with the arguments it shows now.
    fn ancestry(&self, mut pid: Pid) -> Vec<Ancestor> {
        let mut chain = Vec::new();
        let mut child_ticks = start_ticks(pid.as_u32());
        while let Some(parent) = self.system.process(pid).and_then(Process::parent) {
            let Some(process) = self.system.process(parent) else {
                break;
            };
            let ticks = start_ticks(parent.as_u32());
            // A parent started before its child: one that started later took the pid of a
            // parent that exited after the table was read. The chain ends there.
            if ticks != 0 && child_ticks != 0 && ticks > child_ticks {
                break;
            }
            chain.push(Ancestor {
                pid: parent.as_u32(),
                name: process.name().to_string_lossy().into_owned().into(),
                argv: argv_of(parent.as_u32(), ticks),
            });
            child_ticks = ticks;
            // A cycle cannot happen in a consistent table; a bound keeps a torn read harmless.
            if parent.as_u32() <= 1 || chain.len() > 64 {
                break;
            }
            pid = parent;
        }
        chain
    }

    /// May this user read another process's private fields (cwd, exe)?
    fn may_read(&self, process: &Process) -> bool {
        if self.viewer.privileged {
            return true;
        }
        match (self.viewer.uid, process.user_id()) {
            (Some(me), Some(owner)) => same_uid(owner, me),
            _ => true,
        }
    }

    fn readable(&self, process: &Process, value: Option<String>) -> Readable<OsText> {
        match value {
            Some(value) if !value.is_empty() => Readable::Value(value.into()),
            _ if !self.may_read(process) => Readable::Denied,
            _ => Readable::Missing,
        }
    }
}

impl DetailsSource for SysinfoDetails {
    fn details(&mut self, key: ProcKey) -> Result<ProcessDetails, DetailsError> {
        self.refresh_table();
        let pid = Pid::from_u32(key.pid);
        // The private fields, for this one process. CPU needs two looks; the first reads 0.
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[pid]),
            true,
            ProcessRefreshKind::nothing()
                .without_tasks()
                .with_cpu()
                .with_memory()
                .with_exe(UpdateKind::OnlyIfNotSet)
                .with_cmd(UpdateKind::OnlyIfNotSet)
                .with_user(UpdateKind::OnlyIfNotSet)
                .with_cwd(UpdateKind::Always),
        );
        let process = self
            .system
            .process(pid)
            .ok_or(DetailsError::Gone(key.pid))?;
        if (process.start_time(), super::processes::start_ticks(key.pid))
            != (key.start_time, key.start_ticks)
        {
            return Err(DetailsError::Reused(key.pid));
        }
        let second_look = self.sampled == Some(key);
        let children = self
            .system
            .processes()
            .values()
            .filter(|p| p.parent() == Some(pid) && p.thread_kind().is_none())
            .count();
        let user = process
            .user_id()
            .and_then(|uid| Some(self.users.as_mut()?.name_or_id(uid)));
        let details = ProcessDetails {
            key,
            name: process.name().to_string_lossy().into_owned().into(),
            user: user.map(OsText::from),
            exe: self.readable(
                process,
                process.exe().map(|p| p.to_string_lossy().into_owned()),
            ),
            cmdline: process
                .cmd()
                .iter()
                .map(|a| OsText::from(a.to_string_lossy().into_owned()))
                .collect(),
            cwd: self.readable(
                process,
                process.cwd().map(|p| p.to_string_lossy().into_owned()),
            ),
            started: local_time(process.start_time()),
            run_time: Duration::from_secs(process.run_time()),
            cpu_percent: second_look.then(|| process.cpu_usage()),
            memory_bytes: process.memory(),
            status: process.status().to_string(),
            ancestry: self.ancestry(pid),
            children,
            cgroup: cgroup_of(key.pid, key.start_ticks),
            unit: None,
        };
        let unit = match &details.cgroup {
            Readable::Value(text) => match Placement::from_proc(text.raw()) {
                // Scopes are never restarted: nothing to ask.
                Placement::Unit(unit) if !unit.is_scope() => Some(self.units.ask(&unit, key.pid)),
                _ => None,
            },
            _ => None,
        };
        self.sampled = Some(key);
        Ok(ProcessDetails { unit, ..details })
    }

    fn provenance(&mut self, pid: u32) -> Option<Provenance> {
        self.refresh_table();
        self.system.process(Pid::from_u32(pid))?;
        Some(Provenance {
            ancestry: self.ancestry(Pid::from_u32(pid)),
            cgroup: cgroup_of(pid, start_ticks(pid)),
        })
    }
}

/// The most read of one `/proc` file: more than any cgroup path or supervisor's command line.
#[cfg(any(target_os = "linux", target_os = "android"))]
const PROC_LIMIT: u64 = 64 * 1024;

/// `/proc/<pid>/<file>`, provided the process is still the one that started at `ticks`
/// afterwards (0: not known, then the pid alone).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn read_proc(pid: u32, file: &str, ticks: u64) -> Readable<String> {
    use std::io::Read as _;
    let read = std::fs::File::open(format!("/proc/{pid}/{file}")).and_then(|f| {
        let mut bytes = Vec::new();
        f.take(PROC_LIMIT).read_to_end(&mut bytes).map(|_| bytes)
    });
    match read {
        Ok(bytes) if ticks == 0 || start_ticks(pid) == ticks => {
            Readable::Value(String::from_utf8_lossy(&bytes).into_owned())
        }
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => Readable::Denied,
        // Gone, or exited while being read: whatever has the pid now is another process.
        Ok(_) | Err(_) => Readable::Missing,
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn read_proc(_pid: u32, _file: &str, _ticks: u64) -> Readable<String> {
    Readable::Missing
}

/// A process's arguments as it shows them now: NUL-separated, with the padding a rewritten
/// title leaves (`npm run dev\0\0\0`) dropped.
fn argv_of(pid: u32, ticks: u64) -> Readable<Vec<OsText>> {
    match read_proc(pid, "cmdline", ticks) {
        Readable::Value(text) => {
            let mut argv: Vec<OsText> = text.split('\0').map(OsText::from).collect();
            while argv.last().is_some_and(OsText::is_empty) {
                argv.pop();
            }
            Readable::Value(argv)
        }
        Readable::Denied => Readable::Denied,
        Readable::Missing => Readable::Missing,
    }
}

fn cgroup_of(pid: u32, ticks: u64) -> Readable<OsText> {
    match read_proc(pid, "cgroup", ticks) {
        Readable::Value(text) => Readable::Value(text.into()),
        Readable::Denied => Readable::Denied,
        Readable::Missing => Readable::Missing,
    }
}

/// Seconds since the epoch as local wall-clock time.
fn local_time(epoch_seconds: u64) -> String {
    i64::try_from(epoch_seconds)
        .ok()
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or_else(
            || "(unknown)".to_string(),
            |utc| {
                utc.with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            },
        )
}

#[cfg(unix)]
fn same_uid(owner: &sysinfo::Uid, me: u32) -> bool {
    **owner == me
}

/// Windows has no numeric uids (and no viewer uid to compare with).
#[cfg(not(unix))]
fn same_uid(_owner: &sysinfo::Uid, _me: u32) -> bool {
    true
}

/// Details made up for tests.
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Default)]
pub struct FakeDetails {
    pub details: std::collections::HashMap<u32, ProcessDetails>,
}

#[cfg(any(test, feature = "testing"))]
impl DetailsSource for FakeDetails {
    fn details(&mut self, key: ProcKey) -> Result<ProcessDetails, DetailsError> {
        let details = self
            .details
            .get(&key.pid)
            .ok_or(DetailsError::Gone(key.pid))?;
        if details.key == key {
            Ok(details.clone())
        } else {
            Err(DetailsError::Reused(key.pid))
        }
    }

    fn provenance(&mut self, pid: u32) -> Option<Provenance> {
        let details = self.details.get(&pid)?;
        Some(Provenance {
            ancestry: details.ancestry.clone(),
            cgroup: details.cgroup.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn describes_a_live_child_and_its_ancestry() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let mut source = SysinfoDetails::new().unwrap();
        let pid = child.id();
        // The key as the collector would have built it.
        let start_time = {
            let mut system = System::new().unwrap();
            system.refresh_processes(ProcessesToUpdate::Some(&[Pid::from_u32(pid)]), true);
            system.process(Pid::from_u32(pid)).unwrap().start_time()
        };
        let key = ProcKey {
            pid,
            start_time,
            start_ticks: crate::collect::processes::start_ticks(pid),
        };
        let first = source.details(key).unwrap();
        assert_eq!(first.name, "sleep");
        assert_eq!(first.cmdline, vec!["sleep", "30"]);
        assert_eq!(first.cpu_percent, None, "one look cannot measure CPU");
        assert_eq!(
            first.ancestry[0].pid,
            std::process::id(),
            "parent is this test"
        );
        assert!(matches!(&first.cwd, Readable::Value(dir) if !dir.is_empty()));
        assert_eq!(first.children, 0);
        let second = source.details(key).unwrap();
        assert!(second.cpu_percent.is_some());
        assert_eq!(
            source.provenance(pid).unwrap().ancestry[0].pid,
            std::process::id()
        );

        let wrong = ProcKey {
            pid,
            start_time: start_time + 7,
            start_ticks: 0,
        };
        assert_eq!(source.details(wrong), Err(DetailsError::Reused(pid)));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(source.details(key), Err(DetailsError::Gone(pid)));
    }

    /// The key of a child this test spawned, as the collector would have built it.
    fn key_of(pid: u32) -> ProcKey {
        let mut system = System::new().unwrap();
        system.refresh_processes(ProcessesToUpdate::Some(&[Pid::from_u32(pid)]), true);
        ProcKey {
            pid,
            start_time: system.process(Pid::from_u32(pid)).unwrap().start_time(),
            start_ticks: crate::collect::processes::start_ticks(pid),
        }
    }

    /// The cgroup and the ancestors' arguments as this machine really has them, and systemd
    /// asked only for a process that runs in a service.
    #[cfg(target_os = "linux")]
    #[test]
    fn reads_the_cgroup_and_each_ancestors_arguments() {
        use std::os::unix::fs::PermissionsExt as _;

        let dir = std::env::temp_dir().join(format!("loopwatch-details-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (fake, log) = (dir.join("systemctl"), dir.join("calls"));
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\necho \"$@\" >> '{}'\necho Restart=always",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut source =
            SysinfoDetails::with_units(UnitAsker::new(&fake, crate::collect::units::TIMEOUT, true))
                .unwrap();

        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let details = source.details(key_of(child.id())).unwrap();
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        assert_eq!(details.cgroup, Readable::Value(own.clone().into()));
        // Its parent is this test: its arguments are the ones this test runs with.
        let argv: Vec<OsText> = std::env::args().map(OsText::from).collect();
        assert_eq!(details.ancestry[0].argv, Readable::Value(argv));
        // systemd is asked about a service, and about nothing else.
        match Placement::from_proc(&own) {
            Placement::Unit(unit) if !unit.is_scope() => {
                assert!(details.unit.is_some());
                assert!(std::fs::read_to_string(&log).unwrap().contains(&unit.name));
            }
            _ => {
                assert_eq!(details.unit, None);
                assert!(
                    !log.exists(),
                    "systemd was asked about a process in no service"
                );
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// An ancestor that exits between two reads, or whose pid another process took, gives no
    /// arguments rather than another process's.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_process_gone_or_replaced_gives_no_arguments() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        let ticks = crate::collect::processes::start_ticks(pid);
        // A process caught in exec shows no arguments for a moment.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while argv_of(pid, ticks) == Readable::Value(Vec::new()) {
            assert!(
                std::time::Instant::now() < deadline,
                "sleep never showed its arguments"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            argv_of(pid, ticks),
            Readable::Value(vec!["sleep".into(), "30".into()])
        );
        assert_eq!(
            argv_of(pid, ticks + 1),
            Readable::Missing,
            "another start: another process"
        );
        assert_eq!(cgroup_of(pid, ticks + 1), Readable::Missing);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(argv_of(pid, ticks), Readable::Missing);
        assert_eq!(cgroup_of(pid, ticks), Readable::Missing);
        let mut source = SysinfoDetails::new().unwrap();
        assert_eq!(source.provenance(pid), None);
    }
}
