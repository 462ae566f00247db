//! What `loopwatch doctor` reads about a process beyond its sockets: whether it still runs the
//! file its path names, and whether the process that started it is still there.

use super::{OsText, ProcKey};

/// A running program's executable compared with the file at its path now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExeState {
    /// The path still holds the file it was started from.
    Current,
    /// The file was deleted after it started (`/proc/<pid>/exe` ends in ` (deleted)`).
    Deleted(OsText),
    /// The path holds another file now (an upgrade): the process still runs the old one.
    Replaced(OsText),
    /// Not readable: another user's process without root, a kernel thread, or this platform.
    Unknown,
}

/// Where a process stands among its relatives, from `/proc/<pid>/stat` of it and of its
/// ancestors in the same process group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lineage {
    pub ppid: u32,
    /// Its process group: a shell job, or what a launcher such as `npm run` started.
    pub pgid: u32,
    /// Its session: a terminal's login shell, or a daemon of its own.
    pub sid: u32,
    /// Whether the process whose pid is the group's id (the one that started the group) still
    /// runs.
    pub group_leader_alive: bool,
    /// The parent of the group's topmost process here: who adopted the group once its leader
    /// died (`init 1`, a `systemd --user`), with its name.
    pub adopted_by: Option<(u32, OsText)>,
    /// That parent's session. In the process's own session (a shell that ran `true | server`,
    /// whose first process exited) the group is still one of its jobs: job control and the
    /// terminal's hangup reach it.
    pub adopter_sid: Option<u32>,
}

/// One process as `doctor` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessHealth {
    pub key: ProcKey,
    pub exe: ExeState,
    /// `None` when `/proc/<pid>/stat` could not be read (or on other platforms).
    pub lineage: Option<Lineage>,
}
