//! One process in depth, as the inspect view and the stop dialog show it.

use std::borrow::Cow;
use std::time::Duration;

use crate::model::{OsText, ProcKey, UnitAnswer};

/// A field the OS may refuse to show.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Readable<T> {
    Value(T),
    /// Owned by another user; root could read it.
    Denied,
    /// Not available (kernel thread, exited meanwhile, or not reported on this platform).
    Missing,
}

impl Readable<OsText> {
    /// The value (inert), or why there is none, in words.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Readable::Value(value) => value.inert(),
            Readable::Denied => "(hidden: owned by another user; run as root to see it)".into(),
            Readable::Missing => "(not available)".into(),
        }
    }
}

/// One process, as the inspect view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessDetails {
    pub key: ProcKey,
    pub name: OsText,
    pub user: Option<OsText>,
    pub exe: Readable<OsText>,
    pub cmdline: Vec<OsText>,
    pub cwd: Readable<OsText>,
    /// When it started, in this machine's local time (`2026-11-26 09:17:40`).
    pub started: String,
    pub run_time: Duration,
    /// Percent of one core since the previous look; `None` on the first look.
    pub cpu_percent: Option<f32>,
    /// Resident memory.
    pub memory_bytes: u64,
    /// `Run`, `Sleep`, `Zombie`, ... as the OS reports it.
    pub status: String,
    /// Parent first, up to pid 1 (or as far as this user can see).
    pub ancestry: Vec<Ancestor>,
    /// Processes whose parent this is.
    pub children: usize,
    /// `/proc/<pid>/cgroup`, as read: which unit or container it runs in.
    pub cgroup: Readable<OsText>,
    /// What systemd said about the service its cgroup names; `None` when it is in no service
    /// (nothing was asked).
    pub unit: Option<UnitAnswer>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ancestor {
    pub pid: u32,
    pub name: OsText,
    /// Its arguments as it shows them now. A program may rewrite them (Node's
    /// `process.title`), so they say what it calls itself, not what it is.
    pub argv: Readable<Vec<OsText>>,
}

impl Ancestor {
    /// An ancestor known by pid and name only (its arguments not read).
    pub fn named(pid: u32, name: &str) -> Self {
        Self {
            pid,
            name: name.into(),
            argv: Readable::Missing,
        }
    }
}

/// What stands behind a process, without asking systemd: its ancestry and its cgroup. Enough
/// to name who restarted it.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// Parent first.
    pub ancestry: Vec<Ancestor>,
    pub cgroup: Readable<OsText>,
}

/// Why there are no details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetailsError {
    #[error("process {0} has exited")]
    Gone(u32),
    #[error("process {0} has exited; its pid now belongs to another process")]
    Reused(u32),
}
