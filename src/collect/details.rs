//! Everything the inspect view and the kill dialog show about one process: executable, working
//! directory, uptime, CPU and memory, status, its ancestry up to pid 1 and its child count.
//!
//! Read on demand (only while a process is being inspected or about to be signalled), through a
//! sysinfo `System` of its own so the table's collector keeps its small, owners-only cache. The
//! environment is never read: it holds secrets.

use std::time::Duration;

use sysinfo::{Pid, Process, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

use super::processes::UserNames;
use super::{CollectError, Viewer};
use crate::model::{Ancestor, DetailsError, OsText, ProcKey, ProcessDetails, Readable};

/// Reads process details. A trait so the UI runtime can be tested without a live process.
pub trait DetailsSource {
    fn details(&mut self, key: ProcKey) -> Result<ProcessDetails, DetailsError>;
    /// The parent of `pid`, for naming who restarted a process.
    fn parent(&mut self, pid: u32) -> Option<Ancestor>;
}

pub struct SysinfoDetails {
    system: System,
    users: Option<UserNames>,
    viewer: Viewer,
    /// The process whose CPU was sampled last: a second look at it can report a percentage.
    sampled: Option<ProcKey>,
}

impl SysinfoDetails {
    pub fn new() -> Result<Self, CollectError> {
        Ok(Self {
            system: super::processes::new_system()?,
            users: UserNames::new().ok(),
            viewer: Viewer::current(),
            sampled: None,
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

    fn ancestry(&self, mut pid: Pid) -> Vec<Ancestor> {
        let mut chain = Vec::new();
        while let Some(parent) = self.system.process(pid).and_then(Process::parent) {
            let Some(process) = self.system.process(parent) else {
                break;
            };
            chain.push(Ancestor {
                pid: parent.as_u32(),
                name: process.name().to_string_lossy().into_owned().into(),
            });
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
        };
        self.sampled = Some(key);
        Ok(details)
    }

    fn parent(&mut self, pid: u32) -> Option<Ancestor> {
        self.refresh_table();
        self.ancestry(Pid::from_u32(pid)).into_iter().next()
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

    fn parent(&mut self, pid: u32) -> Option<Ancestor> {
        self.details.get(&pid)?.ancestry.first().cloned()
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
        assert_eq!(source.parent(pid).unwrap().pid, std::process::id());

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
}
