//! Time as loopwatch is handed it: a wall-clock [`Stamp`], and the [`Clock`] that loops which
//! wait (`kill`, `watch`) read, so tests script time instead of sleeping.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, FixedOffset, Offset as _, SecondsFormat, Utc};

/// A moment, as the wall clock read it, with the local UTC offset of that moment so that it can
/// be printed as local time without asking the OS again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub time: SystemTime,
    /// Seconds east of UTC.
    pub utc_offset: i32,
}

impl Stamp {
    /// Now, in local time. Only the runtime calls this; everything else is handed stamps.
    pub fn now() -> Stamp {
        Stamp {
            time: SystemTime::now(),
            utc_offset: chrono::Local::now().offset().local_minus_utc(),
        }
    }

    /// A UTC stamp `secs` seconds after the epoch (fixtures, tests).
    pub fn at_secs(secs: u64) -> Stamp {
        Stamp {
            time: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
            utc_offset: 0,
        }
    }

    /// This stamp moved `by` later.
    #[must_use]
    pub fn plus(self, by: Duration) -> Stamp {
        Stamp {
            time: self.time + by,
            ..self
        }
    }

    /// Time from `earlier` to this stamp; zero if the clock went backwards.
    pub fn since(self, earlier: Stamp) -> Duration {
        self.time.duration_since(earlier.time).unwrap_or_default()
    }

    fn local(self) -> DateTime<FixedOffset> {
        let offset = FixedOffset::east_opt(self.utc_offset).unwrap_or_else(|| Utc.fix());
        DateTime::<Utc>::from(self.time).with_timezone(&offset)
    }

    /// `14:03:41`, local time.
    pub fn clock(self) -> String {
        self.local().format("%H:%M:%S").to_string()
    }

    /// `2026-11-26T14:03:41.123+01:00`: for JSON.
    pub fn rfc3339(self) -> String {
        self.local().to_rfc3339_opts(SecondsFormat::Millis, false)
    }
}

/// Time for the loops that wait (`kill` following a port, `watch`): the system's in `main`,
/// scripted in tests.
pub trait Clock {
    /// The wall clock now.
    fn now(&self) -> Stamp;
    /// Time since the clock was started.
    fn elapsed(&self) -> Duration;
    /// Waits `duration`; `false` when a terminating signal cut the wait short (time to stop).
    fn wait(&mut self, duration: Duration) -> bool;
}
