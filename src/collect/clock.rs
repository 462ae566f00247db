//! The system's [`Clock`]: wall time, a monotonic start, and waits that a terminating signal
//! can cut short.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::model::{Clock, Stamp};

pub struct SystemClock {
    start: Instant,
    /// Fed once by the signal thread, when the clock is interruptible.
    interrupted: Option<Receiver<()>>,
}

impl SystemClock {
    /// A clock whose waits run to the end; signals keep their default effect.
    pub fn new() -> SystemClock {
        SystemClock {
            start: Instant::now(),
            interrupted: None,
        }
    }

    /// A clock whose waits end early on SIGTERM, SIGHUP, SIGINT or SIGQUIT (then `wait` says
    /// `false`), so a loop can finish its line and leave instead of dying mid-write.
    pub fn interruptible() -> anyhow::Result<SystemClock> {
        let (tx, rx) = mpsc::channel();
        super::signals::on_terminate(move || {
            let _ = tx.send(());
        })?;
        Ok(SystemClock {
            start: Instant::now(),
            interrupted: Some(rx),
        })
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Stamp {
        Stamp::now()
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn wait(&mut self, duration: Duration) -> bool {
        if let Some(signals) = &self.interrupted {
            match signals.recv_timeout(duration) {
                Ok(()) => return false,
                Err(RecvTimeoutError::Timeout) => return true,
                // The signal thread is gone: wait without it.
                Err(RecvTimeoutError::Disconnected) => {}
            }
        }
        std::thread::sleep(duration);
        true
    }
}
