//! The only code in loopwatch that sends a signal.
//!
//! A signal is addressed to a process as loopwatch *showed* it: a pid plus that process's start
//! time ([`ProcKey`]). [`hold`] refuses pid 1, loopwatch itself and kernel threads, then pins
//! the process that has the pid right now (a pidfd on Linux, so a pid reused after this point
//! can never be hit) and checks that it is the one that was shown. The stop dialog and the
//! `kill` plan hold their targets as soon as they are shown ([`Holds`]), so the yes signals
//! through the handle taken then: a target that exits while the question is open can never be
//! replaced by another process under its pid. [`send`] is hold-then-signal in one step.
//! The OS side is the small [`ProcessControl`] trait, so tests can prove what is and is not sent.

#[cfg(any(test, feature = "testing"))]
mod fake;
pub(crate) mod stop;

#[cfg(any(test, feature = "testing"))]
pub use fake::FakeControl;

use crate::model::{CollectError, Signal, Target};

/// What the OS says about the process that has a pid right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Current {
    pub start_time: u64,
    /// In clock ticks since boot, 0 where unknown: see [`crate::model::ProcKey`].
    pub start_ticks: u64,
    pub kernel_thread: bool,
}

/// A process held fast between the identity check and the signal.
#[derive(Debug)]
pub struct Pinned {
    pub pid: u32,
    pub current: Current,
    handle: Handle,
}

#[derive(Debug)]
enum Handle {
    /// A pidfd: signals reach exactly the process it was opened for, or fail with ESRCH.
    #[cfg(target_os = "linux")]
    Pidfd(std::os::fd::OwnedFd),
    /// Platforms without pidfds address the pid itself: the identity must be checked again
    /// right before each signal.
    Pid,
    /// A fake's stand-in for a pidfd: the incarnation of the pid it was opened for.
    #[cfg(any(test, feature = "testing"))]
    Fake(u64),
}

impl Pinned {
    /// A pin by pid alone, for platforms without process handles.
    pub fn by_pid(pid: u32, current: Current) -> Self {
        Self {
            pid,
            current,
            handle: Handle::Pid,
        }
    }

    /// A fake handle on one incarnation of `pid`, behaving like a pidfd.
    #[cfg(any(test, feature = "testing"))]
    pub fn fake(pid: u32, current: Current, incarnation: u64) -> Self {
        Self {
            pid,
            current,
            handle: Handle::Fake(incarnation),
        }
    }

    /// The incarnation a fake handle was opened for.
    #[cfg(any(test, feature = "testing"))]
    pub fn fake_incarnation(&self) -> Option<u64> {
        match self.handle {
            Handle::Fake(incarnation) => Some(incarnation),
            _ => None,
        }
    }

    /// Whether signals through this pin reach only the process it was taken on, however long
    /// it is kept.
    fn is_exact(&self) -> bool {
        !matches!(self.handle, Handle::Pid)
    }
}

/// How the OS refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OsError {
    /// ESRCH: no process has this pid (any more).
    NoSuchProcess,
    /// EPERM: the process belongs to someone else.
    NotPermitted,
    Other(String),
}

/// The OS operations [`send`] needs.
pub trait ProcessControl {
    /// Pins the process that has `pid` now and describes it.
    fn pin(&mut self, pid: u32) -> Result<Pinned, OsError>;
    /// Signals the pinned process.
    fn signal(&mut self, pinned: &Pinned, signal: Signal) -> Result<(), OsError>;
}

/// Why a signal was not sent. Every message ends by saying what did (not) happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KillError {
    #[error(
        "refusing to signal pid 1 ({0}): it is the init process, and stopping it takes the whole system or container down; nothing was sent"
    )]
    Init(String),
    #[error("refusing to signal loopwatch itself (pid {0}); nothing was sent")]
    Myself(u32),
    #[error("refusing to signal {0}: it is a kernel thread, not a program; nothing was sent")]
    KernelThread(String),
    #[error("process {0} has exited; pid now belongs to another process; nothing was sent")]
    Reused(u32),
    #[error("{0} has already exited; nothing was sent")]
    Gone(String),
    #[error("not permitted: {process} belongs to {owner}; run loopwatch as root or as that user")]
    NotPermitted { process: String, owner: String },
    #[error("{process} no longer holds port {port}; nothing was sent")]
    NoLongerHolds { process: String, port: u16 },
    #[error("could not signal {process}: {reason}")]
    Other { process: String, reason: String },
}

/// A signal that was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub target: Target,
    pub signal: Signal,
}

impl Sent {
    pub fn message(&self) -> String {
        format!("sent {} to {}", self.signal, self.target.label())
    }
}

/// A target pinned and found to be the process that was shown.
#[derive(Debug)]
pub struct Held {
    target: Target,
    pinned: Pinned,
}

/// Pins the process that has `target`'s pid now, if, and only if, it is the one that was
/// shown and may be signalled at all. `own_pid` is loopwatch's pid.
pub fn hold(
    control: &mut dyn ProcessControl,
    target: &Target,
    own_pid: u32,
) -> Result<Held, KillError> {
    if let Some(refusal) = refusal(target, own_pid) {
        return Err(refusal);
    }
    let pid = target.key.pid;
    let pinned = control.pin(pid).map_err(|e| os_error(e, target))?;
    if (pinned.current.start_time, pinned.current.start_ticks)
        != (target.key.start_time, target.key.start_ticks)
    {
        return Err(KillError::Reused(pid));
    }
    if pinned.current.kernel_thread {
        return Err(KillError::KernelThread(target.label()));
    }
    Ok(Held {
        target: target.clone(),
        pinned,
    })
}

impl Held {
    /// Signals the held process (an exited one fails as [`KillError::Gone`]).
    pub fn signal(
        &self,
        control: &mut dyn ProcessControl,
        signal: Signal,
    ) -> Result<Sent, KillError> {
        control
            .signal(&self.pinned, signal)
            .map_err(|e| os_error(e, &self.target))?;
        Ok(Sent {
            target: self.target.clone(),
            signal,
        })
    }
}

/// Sends `signal` to `target` if, and only if, the process with its pid is still the one that
/// was shown. `own_pid` is loopwatch's pid.
pub fn send(
    control: &mut dyn ProcessControl,
    target: &Target,
    signal: Signal,
    own_pid: u32,
) -> Result<Sent, KillError> {
    hold(control, target, own_pid)?.signal(control, signal)
}

/// The targets of a question, held from the moment it was shown (the stop dialog, the `kill`
/// plan) until it is answered; dropping it lets the handles go.
#[derive(Debug, Default)]
pub struct Holds(Vec<(Target, Result<Held, KillError>)>);

impl Holds {
    /// Holds each target now, remembering why any could not be held.
    pub fn take(control: &mut dyn ProcessControl, targets: &[Target], own_pid: u32) -> Self {
        Self(
            targets
                .iter()
                .map(|target| (target.clone(), hold(control, target, own_pid)))
                .collect(),
        )
    }

    /// Whether these are the holds for exactly `targets`.
    pub fn are_for(&self, targets: &[Target]) -> bool {
        self.0.len() == targets.len() && self.0.iter().zip(targets).all(|((t, _), u)| t == u)
    }

    /// Signals `target` through the handle taken when it was shown. A target that was not
    /// held then, or whose pin is only a pid (no pidfds here), is checked afresh instead.
    pub fn send(
        &self,
        control: &mut dyn ProcessControl,
        target: &Target,
        signal: Signal,
        own_pid: u32,
    ) -> Result<Sent, KillError> {
        match self.0.iter().find(|(t, _)| t == target).map(|(_, h)| h) {
            Some(Ok(held)) if held.pinned.is_exact() => held.signal(control, signal),
            // It was not the shown process (or not signallable) already when it was shown.
            Some(Err(error)) => Err(error.clone()),
            Some(Ok(_)) | None => send(control, target, signal, own_pid),
        }
    }
}

/// The refusals that need no look at the OS: pid 1 and loopwatch itself. (Kernel threads are
/// recognised only once the process is pinned.)
pub fn refusal(target: &Target, own_pid: u32) -> Option<KillError> {
    if target.key.pid == 1 {
        Some(KillError::Init(target.name.to_string()))
    } else if target.key.pid == own_pid {
        Some(KillError::Myself(own_pid))
    } else {
        None
    }
}

fn os_error(error: OsError, target: &Target) -> KillError {
    match error {
        OsError::NoSuchProcess => KillError::Gone(target.label()),
        OsError::NotPermitted => KillError::NotPermitted {
            process: target.label(),
            owner: target
                .user
                .as_ref()
                .map_or_else(|| "another user".to_string(), |u| format!("user {u}")),
        },
        OsError::Other(reason) => KillError::Other {
            process: target.label(),
            reason,
        },
    }
}

/// The real OS: pidfds on Linux, the pid elsewhere; identity read through sysinfo so start
/// times compare exactly with the ones the snapshot showed.
pub struct SystemControl {
    system: sysinfo::System,
}

impl SystemControl {
    pub fn new() -> Result<Self, CollectError> {
        Ok(Self {
            system: crate::collect::processes::new_system()?,
        })
    }

    /// Reads the process that has `pid` now, the same way the collector did.
    fn current(&mut self, pid: u32) -> Result<Current, OsError> {
        let wanted = [sysinfo::Pid::from_u32(pid)];
        self.system.refresh_processes_specifics(
            sysinfo::ProcessesToUpdate::Some(&wanted),
            true,
            sysinfo::ProcessRefreshKind::nothing().without_tasks(),
        );
        let process = self
            .system
            .process(wanted[0])
            .ok_or(OsError::NoSuchProcess)?;
        Ok(Current {
            start_time: process.start_time(),
            start_ticks: crate::collect::processes::start_ticks(pid),
            kernel_thread: process.thread_kind() == Some(sysinfo::ThreadKind::Kernel),
        })
    }
}

impl ProcessControl for SystemControl {
    #[cfg(target_os = "linux")]
    fn pin(&mut self, pid: u32) -> Result<Pinned, OsError> {
        use rustix::process::{Pid, PidfdFlags, pidfd_open};
        let raw = i32::try_from(pid).map_err(|_| OsError::NoSuchProcess)?;
        let rustix_pid = Pid::from_raw(raw).ok_or(OsError::NoSuchProcess)?;
        // Open the handle first, then read the identity: if it matches, the handle is that
        // process, whatever happens to the pid afterwards.
        let fd = match pidfd_open(rustix_pid, PidfdFlags::empty()) {
            Ok(fd) => fd,
            // Before Linux 5.3: no pidfds; the identity is then checked before each signal.
            Err(rustix::io::Errno::NOSYS) => return Ok(Pinned::by_pid(pid, self.current(pid)?)),
            Err(error) => return Err(errno(error)),
        };
        let current = self.current(pid)?;
        Ok(Pinned {
            pid,
            current,
            handle: Handle::Pidfd(fd),
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn pin(&mut self, pid: u32) -> Result<Pinned, OsError> {
        // No process handles here: the check and the signal are a few microseconds apart.
        Ok(Pinned::by_pid(pid, self.current(pid)?))
    }

    fn signal(&mut self, pinned: &Pinned, signal: Signal) -> Result<(), OsError> {
        match &pinned.handle {
            #[cfg(target_os = "linux")]
            Handle::Pidfd(fd) => {
                rustix::process::pidfd_send_signal(fd, rustix_signal(signal)).map_err(errno)
            }
            Handle::Pid => signal_pid(&self.system, pinned.pid, signal),
            #[cfg(any(test, feature = "testing"))]
            Handle::Fake(_) => Err(OsError::Other("a fake pin reached the real OS".into())),
        }
    }
}

#[cfg(unix)]
fn rustix_signal(signal: Signal) -> rustix::process::Signal {
    use rustix::process::Signal as S;
    match signal {
        Signal::Term => S::TERM,
        Signal::Int => S::INT,
        Signal::Hup => S::HUP,
        Signal::Kill => S::KILL,
    }
}

#[cfg(unix)]
fn errno(error: rustix::io::Errno) -> OsError {
    match error {
        rustix::io::Errno::SRCH => OsError::NoSuchProcess,
        rustix::io::Errno::PERM | rustix::io::Errno::ACCESS => OsError::NotPermitted,
        other => OsError::Other(other.to_string()),
    }
}

#[cfg(unix)]
fn signal_pid(_system: &sysinfo::System, pid: u32, signal: Signal) -> Result<(), OsError> {
    let raw = i32::try_from(pid).map_err(|_| OsError::NoSuchProcess)?;
    let pid = rustix::process::Pid::from_raw(raw).ok_or(OsError::NoSuchProcess)?;
    rustix::process::kill_process(pid, rustix_signal(signal)).map_err(errno)
}

#[cfg(not(unix))]
fn signal_pid(system: &sysinfo::System, pid: u32, signal: Signal) -> Result<(), OsError> {
    let sysinfo_signal = match signal {
        Signal::Term => sysinfo::Signal::Term,
        Signal::Int => sysinfo::Signal::Interrupt,
        Signal::Hup => sysinfo::Signal::Hangup,
        Signal::Kill => sysinfo::Signal::Kill,
    };
    let process = system
        .process(sysinfo::Pid::from_u32(pid))
        .ok_or(OsError::NoSuchProcess)?;
    match process.kill_with(sysinfo_signal) {
        Some(true) => Ok(()),
        Some(false) => Err(OsError::NotPermitted),
        None => Err(OsError::Other(format!(
            "{signal} is not available on this platform; use KILL"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProcKey;

    fn target(pid: u32, start_time: u64) -> Target {
        Target {
            key: ProcKey {
                pid,
                start_time,
                start_ticks: 0,
            },
            name: "node".into(),
            user: Some("alice".into()),
        }
    }

    #[test]
    fn sends_to_the_process_that_was_shown() {
        let t = target(4812, 1000);
        let mut control = FakeControl::with(&[t.key]);
        let sent = send(&mut control, &t, Signal::Term, 1).unwrap();
        assert_eq!(control.sent, vec![(4812, Signal::Term)]);
        assert_eq!(sent.message(), "sent SIGTERM to node 4812");
    }

    #[test]
    fn a_changed_start_time_aborts_before_anything_is_sent() {
        let t = target(4812, 1000);
        let mut control = FakeControl::with(&[ProcKey {
            pid: 4812,
            start_time: 1005,
            start_ticks: 0,
        }]);
        let error = send(&mut control, &t, Signal::Kill, 1).unwrap_err();
        assert_eq!(
            error.to_string(),
            "process 4812 has exited; pid now belongs to another process; nothing was sent"
        );
        assert!(control.sent.is_empty());
    }

    /// Same pid, same second, another process: only the start in ticks tells them apart.
    #[test]
    fn a_pid_reused_within_the_same_second_is_not_signalled() {
        let shown = Target {
            key: ProcKey {
                pid: 4812,
                start_time: 1000,
                start_ticks: 500_000,
            },
            ..target(4812, 1000)
        };
        let mut control = FakeControl::with(&[ProcKey {
            start_ticks: 500_037,
            ..shown.key
        }]);
        assert!(matches!(
            send(&mut control, &shown, Signal::Term, 1),
            Err(KillError::Reused(4812))
        ));
        assert!(control.sent.is_empty());
    }

    #[test]
    fn refuses_init_itself_and_kernel_threads() {
        let mut control = FakeControl::with(&[ProcKey {
            pid: 1,
            start_time: 0,
            start_ticks: 0,
        }]);
        let init = Target {
            name: "systemd".into(),
            ..target(1, 0)
        };
        assert!(matches!(
            send(&mut control, &init, Signal::Term, 99),
            Err(KillError::Init(_))
        ));
        let me = target(99, 0);
        assert_eq!(
            send(&mut control, &me, Signal::Term, 99),
            Err(KillError::Myself(99))
        );
        let kthread = target(7, 0);
        control.processes.insert(
            7,
            Current {
                start_time: 0,
                start_ticks: 0,
                kernel_thread: true,
            },
        );
        let error = send(&mut control, &kthread, Signal::Kill, 99).unwrap_err();
        assert!(error.to_string().contains("kernel thread"), "{error}");
        assert!(control.sent.is_empty());
    }

    #[test]
    fn os_errors_read_as_plain_words() {
        let t = target(4812, 1000);
        let mut control = FakeControl::with(&[t.key]);
        control.fail_with = Some(OsError::NotPermitted);
        assert_eq!(
            send(&mut control, &t, Signal::Term, 1)
                .unwrap_err()
                .to_string(),
            "not permitted: node 4812 belongs to user alice; run loopwatch as root or as that user"
        );
        control.fail_with = Some(OsError::NoSuchProcess);
        assert_eq!(
            send(&mut control, &t, Signal::Term, 1)
                .unwrap_err()
                .to_string(),
            "node 4812 has already exited; nothing was sent"
        );
        let mut empty = FakeControl::default();
        assert!(matches!(
            send(&mut empty, &t, Signal::Term, 1),
            Err(KillError::Gone(_))
        ));
    }

    #[test]
    fn signal_names_parse_every_usual_spelling() {
        for (text, signal) in [
            ("TERM", Signal::Term),
            ("sigterm", Signal::Term),
            ("15", Signal::Term),
            ("int", Signal::Int),
            ("HUP", Signal::Hup),
            ("SIGKILL", Signal::Kill),
            ("9", Signal::Kill),
        ] {
            assert_eq!(Signal::parse(text), Ok(signal), "{text}");
        }
        assert!(Signal::parse("STOP").is_err());
        assert_eq!(Signal::Kill.short_name(), "KILL");
    }
}
