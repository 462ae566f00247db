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

impl ProcessControl for FakeControl {
    fn pin(&mut self, pid: u32) -> Result<Pinned, OsError> {
        let current = *self.processes.get(&pid).ok_or(OsError::NoSuchProcess)?;
        Ok(Pinned::by_pid(pid, current))
    }

    fn signal(&mut self, pinned: &Pinned, signal: Signal) -> Result<(), OsError> {
        if let Some(error) = self.fail_with.clone() {
            return Err(error);
        }
        self.sent.push((pinned.pid, signal));
        Ok(())
    }
}
