//! What `loopwatch doctor` reads about the processes that hold sockets: whether each still
//! runs the file its path names, and whether the process that started its group still runs.
//! Read once, for the owners only, from `/proc` (Linux); elsewhere nothing is known.

use crate::model::{ExeState, ProcKey, ProcessHealth};

/// Health of each process in `keys`; a pid that now belongs to another process says nothing.
pub fn health(keys: &[ProcKey]) -> Vec<ProcessHealth> {
    keys.iter().map(|&key| one(key)).collect()
}

#[cfg(target_os = "linux")]
fn one(key: ProcKey) -> ProcessHealth {
    let unknown = ProcessHealth {
        key,
        exe: ExeState::Unknown,
        lineage: None,
    };
    // Read after the snapshot: the pid may be someone else's by now.
    if key.start_ticks != 0 && super::processes::start_ticks(key.pid) != key.start_ticks {
        return unknown;
    }
    let health = ProcessHealth {
        key,
        exe: linux::exe_state(key.pid),
        lineage: linux::lineage(key.pid),
    };
    if key.start_ticks != 0 && super::processes::start_ticks(key.pid) != key.start_ticks {
        return unknown;
    }
    health
}

#[cfg(not(target_os = "linux"))]
fn one(key: ProcKey) -> ProcessHealth {
    ProcessHealth {
        key,
        exe: ExeState::Unknown,
        lineage: None,
    }
}

/// The fields of a `/proc/<pid>/stat` line after the command name, which is in parentheses
/// and may itself hold spaces and parentheses: field 3 (state) first.
pub(crate) fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    Some(stat[stat.rfind(')')? + 1..].split_whitespace().collect())
}

/// Parent, process group and session from a `/proc/<pid>/stat` line.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn parse_family(stat: &str) -> Option<(u32, u32, u32)> {
    let fields = stat_fields(stat)?;
    let number = |i: usize| fields.get(i)?.parse::<u32>().ok();
    Some((number(1)?, number(2)?, number(3)?))
}

#[cfg(target_os = "linux")]
mod linux {
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    use super::parse_family;
    use crate::model::{ExeState, Lineage, OsText};

    const DELETED: &str = " (deleted)";

    /// Whether the process still runs the file at its executable's path: the running image
    /// (`/proc/<pid>/exe`, followed) against the file at that path now. Only a process that
    /// sees the same files as loopwatch (the same mount namespace) can be compared: a
    /// container's `/usr/bin/python3` is not the host's, and looking it up through
    /// `/proc/<pid>/root` would still follow absolute symlinks into the host's tree. For the
    /// others only the kernel's own ` (deleted)` mark is taken.
    pub(super) fn exe_state(pid: u32) -> ExeState {
        let Ok(target) = std::fs::read_link(format!("/proc/{pid}/exe")) else {
            return ExeState::Unknown;
        };
        let target = target.to_string_lossy().into_owned();
        let namespace = |of: &str| std::fs::read_link(format!("/proc/{of}/ns/mnt")).ok();
        let shared = namespace(&pid.to_string()).is_some_and(|ns| Some(ns) == namespace("self"));
        if !shared {
            return match target.strip_suffix(DELETED) {
                Some(path) => ExeState::Deleted(OsText::from(path)),
                None => ExeState::Unknown,
            };
        }
        let Ok(running) = std::fs::metadata(format!("/proc/{pid}/exe")) else {
            return ExeState::Unknown;
        };
        let same =
            |meta: &std::fs::Metadata| (meta.dev(), meta.ino()) == (running.dev(), running.ino());
        let found = std::fs::metadata(&target).ok();
        // A file really named `... (deleted)` is the one case the suffix lies.
        if found.as_ref().is_some_and(same) {
            return ExeState::Current;
        }
        if let Some(path) = target.strip_suffix(DELETED) {
            // An upgrade writes the new file and renames it over the old one, which is then
            // deleted: a file at the path again means replaced, none means deleted.
            return if Path::new(path).exists() {
                ExeState::Replaced(OsText::from(path))
            } else {
                ExeState::Deleted(OsText::from(path))
            };
        }
        match found {
            Some(_) => ExeState::Replaced(OsText::from(target)),
            None => ExeState::Unknown,
        }
    }

    /// The process's parent, group and session; whether the group's leader still runs; and,
    /// walking up while the parents stay in the group, who the group's topmost process
    /// belongs to now.
    pub(super) fn lineage(pid: u32) -> Option<Lineage> {
        let (parent, group, session) = family(pid)?;
        // A pid stays taken while it names a group, so a live `/proc/<group>` is the leader.
        let group_leader_alive = Path::new(&format!("/proc/{group}")).exists();
        let mut top_parent = parent;
        let mut top_family = family(top_parent);
        // A cycle cannot happen in a consistent table; the bound keeps a torn read harmless.
        for _ in 0..64 {
            match top_family {
                Some((up, up_group, _)) if up_group == group && top_parent > 1 => {
                    top_parent = up;
                    top_family = family(up);
                }
                _ => break,
            }
        }
        let adopted_by = std::fs::read_to_string(format!("/proc/{top_parent}/comm"))
            .ok()
            .map(|name| (top_parent, OsText::from(name.trim_end_matches('\n'))));
        Some(Lineage {
            ppid: parent,
            pgid: group,
            sid: session,
            group_leader_alive,
            adopted_by,
            adopter_sid: top_family.map(|(_, _, sid)| sid),
        })
    }

    fn family(pid: u32) -> Option<(u32, u32, u32)> {
        parse_family(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_group_and_session_survive_a_hostile_name() {
        let stat = "4812 (a) 1 2 (b) S 1 4800 900 34816 4800 4194560 100";
        assert_eq!(parse_family(stat), Some((1, 4800, 900)));
        assert_eq!(parse_family("garbage"), None);
        assert_eq!(parse_family("1 (x) S 1 two 3"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_deleted_executable_is_told_from_a_current_one() {
        use std::process::Command;
        let dir = std::env::temp_dir().join(format!("loopwatch-health-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let copy = dir.join("sleep-copy");
        std::fs::copy("/bin/sleep", &copy).unwrap();
        let upgraded = dir.join("sleep-upgraded");
        std::fs::copy("/bin/sleep", &upgraded).unwrap();
        // A copy made a moment ago may be held open for writing by a child another test
        // thread forked meanwhile, until that child execs: exec fails (ETXTBSY) until then.
        let spawn = |program: &std::path::Path| {
            for _ in 0..500 {
                match Command::new(program).arg("30").spawn() {
                    Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    started => return started.unwrap(),
                }
            }
            panic!("{} stayed busy", program.display());
        };
        let mut current = spawn(std::path::Path::new("/bin/sleep"));
        let mut deleted = spawn(&copy);
        let mut replaced = spawn(&upgraded);
        std::fs::remove_file(&copy).unwrap();
        // As a package upgrade does: a new file renamed over the old path.
        let fresh = dir.join("sleep-new");
        std::fs::copy("/bin/sleep", &fresh).unwrap();
        std::fs::rename(&fresh, &upgraded).unwrap();
        let key = |pid: u32| ProcKey {
            pid,
            start_time: 0,
            start_ticks: super::super::processes::start_ticks(pid),
        };
        let found = health(&[key(current.id()), key(deleted.id()), key(replaced.id())]);
        assert_eq!(found[0].exe, ExeState::Current);
        assert_eq!(
            found[1].exe,
            ExeState::Deleted(crate::model::OsText::from(copy.to_string_lossy().as_ref()))
        );
        assert_eq!(
            found[2].exe,
            ExeState::Replaced(crate::model::OsText::from(
                upgraded.to_string_lossy().as_ref()
            ))
        );
        let lineage = found[0].lineage.clone().unwrap();
        assert_eq!(lineage.ppid, std::process::id());
        // The child is in this test's process group, whose leader may be a shell that has
        // exited already (a test run from a background job): the answer must match /proc.
        let group = rustix::process::getpgrp()
            .as_raw_nonzero()
            .get()
            .unsigned_abs();
        assert_eq!(lineage.pgid, group);
        assert_eq!(
            lineage.group_leader_alive,
            std::path::Path::new(&format!("/proc/{group}")).exists()
        );
        // A pid whose start no longer matches says nothing.
        let stale = ProcKey {
            start_ticks: 1,
            ..key(current.id())
        };
        assert_eq!(health(&[stale])[0].exe, ExeState::Unknown);
        for child in [&mut current, &mut deleted, &mut replaced] {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
