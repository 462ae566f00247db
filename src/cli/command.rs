//! What the user asked for, after parsing and validation: the vocabulary `run` dispatches on
//! and the one-shot commands take.

use std::path::PathBuf;
use std::time::Duration;

use crate::model::{Query, Signal};

/// What the user asked for, after parsing and validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// The interactive table.
    Tui {
        interval: Option<Duration>,
        query: Query,
        read_only: bool,
    },
    /// One snapshot of the same rows the table shows, printed once.
    List { format: Format, query: Query },
    /// Every socket on one local port, with all of its owners.
    Who { port: u16, format: Format },
    /// Stop the owners of the listeners on a port.
    Kill(KillRequest),
    /// One line per change until interrupted, or until a port opens or closes.
    Watch(Watch),
    /// A port in plain words.
    Explain { port: u16, format: Format },
    /// The completion script for a shell, on stdout.
    Completions(clap_complete::Shell),
    /// The man page, on stdout.
    Man,
}

/// `loopwatch watch`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Watch {
    /// Only these local ports (all when empty).
    pub(crate) ports: Vec<u16>,
    pub(crate) format: Format,
    pub(crate) query: Query,
    pub(crate) interval: Duration,
    pub(crate) until: Option<Until>,
    /// With `until`: give up after this long.
    pub(crate) timeout: Option<Duration>,
}

/// What `watch` waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    /// Something listens on the port.
    Open(u16),
    /// Nothing listens on the port.
    Closed(u16),
}

impl Until {
    pub(crate) fn port(self) -> u16 {
        match self {
            Until::Open(port) | Until::Closed(port) => port,
        }
    }
}

/// The command plus the settings that come from the command line but belong to no one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    pub(crate) command: Command,
    /// `--config PATH`: the config file to use instead of the default one.
    pub(crate) config: Option<PathBuf>,
}

/// How a one-shot mode prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// An aligned table for people.
    Text,
    /// The versioned JSON document (`version: 1`), for scripts.
    Json,
}

impl Format {
    pub(super) fn from_json_flag(json: bool) -> Format {
        if json { Format::Json } else { Format::Text }
    }
}

impl Command {
    /// The live table needs a terminal; when stdout is a pipe or a file, print the rows it would
    /// have shown instead, so `loopwatch | grep node` does what it looks like it does.
    #[must_use]
    pub(crate) fn for_stdout(self, stdout_is_terminal: bool) -> Command {
        match self {
            Command::Tui { query, .. } if !stdout_is_terminal => Command::List {
                format: Format::Text,
                query,
            },
            other => other,
        }
    }
}

/// What the user asked `kill` to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KillRequest {
    pub(crate) port: u16,
    pub(crate) signal: Signal,
    /// Confirmed on the command line: do not ask.
    pub(crate) yes: bool,
    /// Say what would be sent, send nothing.
    pub(crate) dry_run: bool,
    pub(crate) format: Format,
    /// How long the port may stay held after the signal.
    pub(crate) timeout: Duration,
}
