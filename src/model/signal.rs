//! The signals loopwatch offers and the process a signal is meant for.

use std::fmt;

use crate::model::{OsText, Owner, ProcKey, process_label};

/// The signals loopwatch offers. TERM asks a process to exit; KILL cannot be caught.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    Term,
    Int,
    Hup,
    Kill,
}

impl Signal {
    /// The conventional name, `SIGTERM` etc.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Term => "SIGTERM",
            Signal::Int => "SIGINT",
            Signal::Hup => "SIGHUP",
            Signal::Kill => "SIGKILL",
        }
    }

    /// The name without `SIG`, as `kill -s` and the JSON output spell it.
    pub fn short_name(self) -> &'static str {
        &self.name()[3..]
    }

    /// Accepts `TERM`, `SIGTERM`, `term` or the signal's number.
    pub fn parse(text: &str) -> Result<Signal, UnknownSignal> {
        let upper = text.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
        match bare {
            "TERM" | "15" => Ok(Signal::Term),
            "INT" | "2" => Ok(Signal::Int),
            "HUP" | "1" => Ok(Signal::Hup),
            "KILL" | "9" => Ok(Signal::Kill),
            _ => Err(UnknownSignal),
        }
    }
}

/// A signal name loopwatch does not offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("signal must be one of TERM, INT, HUP, KILL")]
pub struct UnknownSignal;

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The process a signal is meant for, as it was shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub key: ProcKey,
    pub name: OsText,
    pub user: Option<OsText>,
}

impl Target {
    /// The process as this owner of a socket showed it.
    pub fn of(owner: &Owner) -> Self {
        Self {
            key: owner.key,
            name: owner.name.clone(),
            user: owner.user.clone(),
        }
    }

    /// `node 4812`, the way messages name a process.
    pub fn label(&self) -> String {
        process_label(&self.name, self.key.pid)
    }
}
