//! A scripted [`ProcessControl`] for tests: which processes exist, what was "sent".

use super::{Current, OsError, Pinned, ProcessControl};
use crate::model::{ProcKey, Signal};

/// A [`ProcessControl`] that records instead of signalling, for tests.
#[derive(Debug, Default)]
pub struct FakeControl {
    /// pid => the process that has it now.
    pub processes: std::collections::HashMap<u32, Current>,
    /// Every signal "sent", in order.
    pub sent: Vec<(u32, Signal)>,
    /// Make `signal` fail like this.
    pub fail_with: Option<OsError>,
    /// pid => how many times it was given to a new process ([`FakeControl::replace`]).
    incarnations: std::collections::HashMap<u32, u64>,
    /// How many pins were taken.
    pub pins: usize,
}

impl FakeControl {
    /// A fake where each of these processes is alive and unchanged.
    pub fn with(keys: &[ProcKey]) -> Self {
        Self {
            processes: keys
                .iter()
                .map(|k| {
                    (
                        k.pid,
                        Current {
                            start_time: k.start_time,
                            start_ticks: k.start_ticks,
                            kernel_thread: false,
                        },
                    )
                })
                .collect(),
            ..Self::default()
        }
    }
}

impl FakeControl {
    /// `pid` exits and is given to another process that looks like `current`: handles on the
    /// old one reach nothing from now on, as with a pidfd.
    pub fn replace(&mut self, pid: u32, current: Current) {
        *self.incarnations.entry(pid).or_default() += 1;
        self.processes.insert(pid, current);
    }

    /// `pid` exits and nothing takes it.
    pub fn exit(&mut self, pid: u32) {
        *self.incarnations.entry(pid).or_default() += 1;
        self.processes.remove(&pid);
    }
}

impl ProcessControl for FakeControl {
    fn pin(&mut self, pid: u32) -> Result<Pinned, OsError> {
        let current = *self.processes.get(&pid).ok_or(OsError::NoSuchProcess)?;
        self.pins += 1;
        let incarnation = self.incarnations.get(&pid).copied().unwrap_or(0);
        Ok(Pinned::fake(pid, current, incarnation))
    }

    fn signal(&mut self, pinned: &Pinned, signal: Signal) -> Result<(), OsError> {
        if let Some(error) = self.fail_with.clone() {
            return Err(error);
        }
        let alive = self.processes.contains_key(&pinned.pid)
            && pinned.fake_incarnation()
                == Some(self.incarnations.get(&pinned.pid).copied().unwrap_or(0));
        if !alive {
            return Err(OsError::NoSuchProcess);
        }
        self.sent.push((pinned.pid, signal));
        Ok(())
    }
}
