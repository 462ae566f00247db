//! What the user asked for, after parsing and validation: the vocabulary `run` dispatches on
//! and the one-shot commands take.

use std::path::PathBuf;
use std::time::Duration;

use crate::model::{Proto, Query, Signal, Socket};

/// What the user asked for, after parsing and validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// The interactive table.
    Tui {
        interval: Option<Duration>,
        query: Query,
        read_only: bool,
        /// Config settings the command line turns off.
        unset: Unset,
    },
    /// One snapshot of the same rows the table shows, printed once.
    List {
        format: ListFormat,
        query: Query,
        only: Only,
        text: TextOptions,
    },
    /// Every socket on some local ports, with all of their owners.
    Who {
        ports: Vec<u16>,
        format: Format,
        only: Only,
        text: TextOptions,
    },
    /// Stop the owners of the listeners on a port.
    Kill(KillRequest),
    /// One line per change until interrupted, or until a port opens or closes.
    Watch(Watch),
    /// A port in plain words.
    Explain { port: u16, format: Format },
    /// Everything listening, checked for what to fix.
    Doctor { format: Format },
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
    pub(crate) only: Only,
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

/// `-t`/`-u`/`-4`/`-6`: which sockets a one-shot shows. As with ss, neither or both of a pair
/// means both: `-t -u` is TCP and UDP, `-4 -6` is either family.
#[allow(clippy::struct_excessive_bools)] // one per flag
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Only {
    pub(crate) tcp: bool,
    pub(crate) udp: bool,
    pub(crate) ipv4: bool,
    pub(crate) ipv6: bool,
}

impl Only {
    /// Whether `socket` is one the flags ask for. An IPv4-mapped IPv6 address counts as IPv4.
    pub(crate) fn admits(self, socket: &Socket) -> bool {
        let proto = self.tcp == self.udp
            || match socket.proto {
                Proto::Tcp => self.tcp,
                Proto::Udp => self.udp,
            };
        let family =
            self.ipv4 == self.ipv6 || socket.local_addr.to_canonical().is_ipv4() == self.ipv4;
        proto && family
    }

    /// Whether any of the flags was given.
    pub(crate) fn is_set(self) -> bool {
        self != Only::default()
    }
}

/// How a text table prints (JSON ignores these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextOptions {
    /// The column titles (`-H`/`--no-header` drops them).
    pub(crate) header: bool,
    /// ANSI colour for the exposed mark and listening states (`--color`).
    pub(crate) colour: bool,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            header: true,
            colour: false,
        }
    }
}

/// The `--no-*` flags: settings of the config file the command line turns off for one run.
/// (`read_only` has none: a config's read-only mode is lifted only by editing the file.)
#[allow(clippy::struct_excessive_bools)] // one per flag
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Unset {
    /// `--no-connections`: `connections = true` does not apply.
    pub(crate) connections: bool,
    /// `--no-all`: `all_addresses = true` does not apply.
    pub(crate) all_addresses: bool,
    /// `--no-grouped`: `grouped = true` does not apply.
    pub(crate) grouped: bool,
    /// `--no-sort-descending`: `sort_descending = true` does not apply.
    pub(crate) sort_descending: bool,
}

/// The command plus the settings that come from the command line but belong to no one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    pub(crate) command: Command,
    /// `--config PATH` or `LOOPWATCH_CONFIG`: the config file to use instead of the default.
    pub(crate) config: Option<PathBuf>,
    /// `--no-config`: no settings from any file (only its `read_only = true` still holds).
    pub(crate) no_config: bool,
    /// `--color WHEN`, when given.
    pub(crate) color: Option<super::display::ColorWhen>,
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

/// How `list` prints: as the other one-shot modes do, or as metrics for Prometheus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ListFormat {
    /// An aligned table for people.
    Text,
    /// The versioned JSON document (`version: 1`), as `--json`.
    Json,
    /// The OpenMetrics text exposition, for Prometheus (e.g. node_exporter's textfile collector).
    #[value(name = "openmetrics")]
    OpenMetrics,
}

impl From<Format> for ListFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Text => ListFormat::Text,
            Format::Json => ListFormat::Json,
        }
    }
}

impl Command {
    /// Colour for the text tables, when the caller decided this output gets it.
    #[must_use]
    pub(crate) fn with_colour(mut self, colour: bool) -> Command {
        if let Command::List { text, .. } | Command::Who { text, .. } = &mut self {
            text.colour = colour;
        }
        self
    }

    /// The live table needs a terminal; when stdout is a pipe or a file, print the rows it would
    /// have shown instead, so `loopwatch | grep node` does what it looks like it does.
    #[must_use]
    pub(crate) fn for_stdout(self, stdout_is_terminal: bool) -> Command {
        match self {
            Command::Tui { query, .. } if !stdout_is_terminal => Command::List {
                format: ListFormat::Text,
                query,
                only: Only::default(),
                text: TextOptions::default(),
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
