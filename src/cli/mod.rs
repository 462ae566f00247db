//! The command line: clap's view of the arguments, and the pure step that turns them into the
//! one [`Command`] `main` runs.
//!
//! Everything here is free of I/O so the whole grammar can be tested as a table of argv =>
//! `Command` (or usage error). The one runtime fact that changes the mode, whether stdout is a
//! terminal, is applied afterwards by [`Command::for_stdout`].

mod command;
pub(crate) mod config;
pub(crate) mod display;
pub(crate) mod generate;
mod values;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{Args as ClapArgs, CommandFactory, FromArgMatches, Parser, Subcommand};

pub(crate) use self::command::{
    Command, Format, Invocation, KillRequest, ListFormat, Only, TextOptions, Unset, Until, Watch,
};
pub(crate) use self::config::ReadOnly;
pub(crate) use self::values::parse_interval;
use self::values::{parse_port, parse_port_or_command, parse_timeout, parse_wait_timeout};
use crate::app::DEFAULT_INTERVAL;
use crate::model::{Query, Signal};

const EXAMPLES: &str = "\
Examples:
  loopwatch                      live table of what listens on loopback
  loopwatch -c --interval 500ms  include connections, refresh twice a second
  loopwatch 5432                 who holds port 5432? (same as: loopwatch who 5432)
  loopwatch who 5432 --json      the same, for scripts
  loopwatch who 3000 5173 -t -4  several ports, TCP over IPv4 only (as ss: -u UDP, -6 IPv6)
  loopwatch list --all           one-shot table, also sockets bound to other addresses
  loopwatch watch --json         one JSON line per socket opened, closed or changing owner
  loopwatch watch --until-open 5173 --timeout 30
                                 wait for a dev server: exit 0 once it listens, 1 after 30 s
  loopwatch explain 62893        what is this port? in plain words
  loopwatch why 3000             why can a server not bind port 3000? (tries the binds)
  loopwatch doctor               what listens that should not, or not like that
  loopwatch kill 5173            stop the server on port 5173 (asks first; --yes to skip)
  loopwatch --read-only          a live table that can never stop anything
  loopwatch completions bash     shell completions (also zsh, fish, powershell, elvish)
  loopwatch man                  the man page, as roff

Exit status: 0 ok, 1 nothing bound to the port or a runtime failure, 2 bad usage.";

/// Parses an argv (program name first) into a [`Command`].
///
/// `--help` and `--version` come back as errors too (clap's `DisplayHelp`/`DisplayVersion`
/// kinds); `clap::Error::exit` prints them to stdout and exits 0.
#[cfg(test)]
pub(crate) fn parse_command<I, T>(argv: I) -> Result<Command, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    parse_invocation(argv).map(|invocation| invocation.command)
}

/// Parses an argv into the [`Command`] and the global settings around it.
pub(crate) fn parse_invocation<I, T>(argv: I) -> Result<Invocation, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let subcommand = argv.iter().skip(1).find_map(|arg| {
        let arg = arg.to_str()?;
        // By its name or an alias (`why` is `explain`): the usage shown is the command's.
        Args::command()
            .get_subcommands()
            .find(|sub| sub.get_name() == arg || sub.get_all_aliases().any(|alias| alias == arg))
            .map(|sub| sub.get_name().to_string())
    });
    if let Some(negative) = negative_port(&argv) {
        let message = values::InvalidValue::Port.message(&negative);
        return Err(match subcommand.as_deref() {
            Some(name) => subcommand_error(name, message),
            None => usage_error(message),
        });
    }
    let matches = Args::command()
        .try_get_matches_from(argv)
        .map_err(port_then_command)
        .map_err(|e| with_usage(e, subcommand.as_deref()))?;
    let parsed = Args::from_arg_matches(&matches)?;
    let typed = matches.value_source("config") == Some(clap::parser::ValueSource::CommandLine);
    if parsed.no_config && typed {
        return Err(usage_error(
            "--config and --no-config contradict each other: give one",
        ));
    }
    let (config, no_config, color) = (parsed.config.clone(), parsed.no_config, parsed.color);
    Ok(Invocation {
        command: parsed.into_command()?,
        config,
        no_config,
        color,
    })
}

/// clap shows no usage after a bad value: give the one of the command it was given to.
fn with_usage(error: clap::Error, subcommand: Option<&str>) -> clap::Error {
    let message = match value_message(&error) {
        Some(message) => message,
        // A value clap refused itself (not one of the possible values, a signal name): its
        // message on one line, the possible values included, without the tips.
        None if matches!(
            error.kind(),
            ErrorKind::InvalidValue | ErrorKind::ValueValidation
        ) =>
        {
            let rendered = error.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            let message = message.join(" ");
            message
                .strip_prefix("error: ")
                .unwrap_or(&message)
                .to_string()
        }
        None => return error,
    };
    match subcommand {
        Some(name) => subcommand_error(name, message),
        None => usage_error(message),
    }
}

/// `loopwatch 5432 list`: once a PORT is given, clap reads a command name as another port.
fn port_then_command(error: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue};
    let value = match error.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(value)) => value.clone(),
        _ => return error,
    };
    let is_command = Args::command()
        .get_subcommands()
        .any(|sub| sub.get_name() == value);
    // The top level's optional PORT, not a subcommand's: `who 80 list` is a bad port.
    let top_level = matches!(
        error.get(ContextKind::InvalidArg),
        Some(ContextValue::String(arg)) if arg.starts_with('[')
    );
    if error.kind() == ErrorKind::ValueValidation && is_command && top_level {
        usage_error(format!(
            "give a PORT or a command, not both: e.g. `loopwatch {value} PORT`"
        ))
    } else {
        error
    }
}

/// `loopwatch -1`, `loopwatch who -5`: a negative number where a port goes is a bad port, not
/// an unknown flag (clap would suggest `-- -1`). `-4`, `-6` and `-46` are the family flags;
/// the value of an option (`--interval -1`) is that option's to judge.
fn negative_port(argv: &[OsString]) -> Option<String> {
    let mut with_values = Vec::new();
    collect_value_options(&Args::command(), &mut with_values);
    let mut value_next = false;
    for arg in argv.iter().skip(1) {
        if std::mem::take(&mut value_next) {
            continue;
        }
        let Some(arg) = arg.to_str() else { continue };
        if arg == "--" {
            return None;
        }
        if with_values.iter().any(|option| option == arg) {
            value_next = true;
            continue;
        }
        let digits = arg.strip_prefix('-').unwrap_or_default();
        let number = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        if number && !digits.bytes().all(|b| b == b'4' || b == b'6') {
            return Some(arg.to_string());
        }
    }
    None
}

/// `--interval`, `-s` and every other option, in any subcommand, that takes a value.
fn collect_value_options(command: &clap::Command, into: &mut Vec<String>) {
    for arg in command.get_arguments() {
        if arg.is_positional() || !arg.get_action().takes_values() {
            continue;
        }
        into.extend(arg.get_long().map(|long| format!("--{long}")));
        into.extend(arg.get_short().map(|short| format!("-{short}")));
    }
    for sub in command.get_subcommands() {
        collect_value_options(sub, into);
    }
}

/// The raw command line as clap sees it. Prefer [`parse_command`]; this is public for
/// `--help` generation and completions.
// Command-line switches are booleans by nature.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Parser)]
#[command(
    name = "loopwatch",
    version,
    about = "Show which processes hold the sockets reachable on this machine's loopback",
    long_about = "Show which processes hold the sockets reachable on this machine's loopback.\n\n\
        Without a PORT or a command, opens a live table (or, when stdout is not a terminal, \
        prints it once).",
    after_help = EXAMPLES
)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub(crate) command: Option<Subcommands>,

    /// Show who holds these local ports (shorthand for `loopwatch who PORT...`).
    #[arg(value_name = "PORT", value_parser = parse_port_or_command, value_delimiter = ',')]
    pub(crate) port: Vec<u16>,

    #[command(flatten)]
    pub(crate) only: OnlyArgs,

    /// Print text tables without the column titles (with PORT).
    #[arg(short = 'H', long)]
    pub(crate) no_header: bool,

    /// How often the live table refreshes: 250ms, 1s, 1.5s, 1m or 2 (seconds); 100ms to 60s.
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = parse_interval,
        allow_hyphen_values = true,
        conflicts_with = "port"
    )]
    pub(crate) interval: Option<Duration>,

    #[command(flatten)]
    pub(crate) filter: Filter,

    /// Print JSON instead of a table (with PORT).
    #[arg(long)]
    pub(crate) json: bool,

    /// Read settings from this TOML file instead of the default
    /// ($XDG_CONFIG_HOME/loopwatch/config.toml or the platform's equivalent); without the
    /// flag, a non-empty LOOPWATCH_CONFIG names the file.
    #[arg(long, value_name = "PATH", global = true)]
    pub(crate) config: Option<PathBuf>,

    /// Colour the output: auto (on a terminal, unless NO_COLOR or TERM=dumb; CLICOLOR_FORCE
    /// forces it), always or never. For the live table and the text tables alike.
    #[arg(long, value_name = "WHEN", global = true)]
    pub(crate) color: Option<display::ColorWhen>,

    /// Ignore the config file's settings (its read_only = true still holds: edit the file to
    /// lift it).
    #[arg(long, global = true)]
    pub(crate) no_config: bool,

    /// Start ungrouped, whatever the config file's `grouped` says.
    #[arg(long)]
    pub(crate) no_grouped: bool,

    /// Start sorted ascending, whatever the config file's `sort_descending` says.
    #[arg(long)]
    pub(crate) no_sort_descending: bool,

    /// Never stop a process: the stop keys and `kill` are disabled (for demos and classrooms).
    /// Also set by LOOPWATCH_READ_ONLY=1.
    #[arg(long, global = true, env = "LOOPWATCH_READ_ONLY", value_parser = clap::builder::FalseyValueParser::new())]
    pub(crate) read_only: bool,
}

/// Which sockets the table and `list` include beyond loopback listeners.
// Command-line switches are booleans by nature.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Copy, Default, ClapArgs)]
pub(crate) struct Filter {
    /// Also show sockets bound to specific non-loopback addresses of this host.
    #[arg(short, long, overrides_with = "no_all")]
    pub(crate) all: bool,

    /// Undo -a, or `all_addresses = true` in the config file.
    #[arg(long, overrides_with = "all")]
    pub(crate) no_all: bool,

    /// Also show TCP connection ends (ESTABLISHED, TIME_WAIT, ...), not only listeners.
    #[arg(short, long, overrides_with = "no_connections")]
    pub(crate) connections: bool,

    /// Undo -c, or `connections = true` in the config file.
    #[arg(long, overrides_with = "connections")]
    pub(crate) no_connections: bool,
}

/// `-t`/`-u`/`-4`/`-6`, as ss and lsof take them.
// Command-line switches are booleans by nature.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Copy, Default, ClapArgs)]
pub(crate) struct OnlyArgs {
    /// Only TCP sockets (with -u: both).
    #[arg(short = 't', long)]
    pub(crate) tcp: bool,

    /// Only UDP sockets (with -t: both).
    #[arg(short = 'u', long)]
    pub(crate) udp: bool,

    /// Only IPv4 sockets (with -6: both).
    #[arg(short = '4', long)]
    pub(crate) ipv4: bool,

    /// Only IPv6 sockets (with -4: both).
    #[arg(short = '6', long)]
    pub(crate) ipv6: bool,
}

impl OnlyArgs {
    /// Given on either side of a subcommand, a flag counts.
    fn or(self, other: OnlyArgs) -> Only {
        Only {
            tcp: self.tcp || other.tcp,
            udp: self.udp || other.udp,
            ipv4: self.ipv4 || other.ipv4,
            ipv6: self.ipv6 || other.ipv6,
        }
    }
}

/// Each toggle as the command line left it: on, off, or not mentioned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Toggles {
    all: Option<bool>,
    connections: Option<bool>,
}

impl Filter {
    fn toggles(self) -> Toggles {
        let tri = |on: bool, off: bool| (on || off).then_some(on);
        Toggles {
            all: tri(self.all, self.no_all),
            connections: tri(self.connections, self.no_connections),
        }
    }

    /// A flag given on either side of a subcommand counts; after it, it wins
    /// (`loopwatch -a list --no-all` shows loopback only).
    fn or(self, after: Filter) -> Toggles {
        let (before, after) = (self.toggles(), after.toggles());
        Toggles {
            all: after.all.or(before.all),
            connections: after.connections.or(before.connections),
        }
    }
}

impl Toggles {
    fn query(self) -> Query {
        Query {
            connections: self.connections.unwrap_or(false),
            all_addresses: self.all.unwrap_or(false),
            port: None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Subcommands {
    /// Print the table once and exit.
    List {
        #[command(flatten)]
        filter: Filter,

        #[command(flatten)]
        only: OnlyArgs,

        /// Print the table without the column titles.
        #[arg(short = 'H', long)]
        no_header: bool,

        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,

        /// Print as text (a table), json (as --json) or openmetrics (Prometheus exposition).
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<ListFormat>,
    },
    /// Show every socket on local ports and the processes that hold them
    ///
    /// Listeners and connection ends, TCP and UDP, on any address. Exits 1 when nothing is
    /// bound to a port given (each free port is named on stderr).
    Who {
        /// The local ports, 1 to 65535 (`3000 5173` or `3000,5173`).
        #[arg(value_name = "PORT", value_parser = parse_port, value_delimiter = ',', required = true)]
        ports: Vec<u16>,

        #[command(flatten)]
        only: OnlyArgs,

        /// Print the table without the column titles.
        #[arg(short = 'H', long)]
        no_header: bool,

        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Stop the process(es) listening on a port, then report whether the port came free
    ///
    /// Only owners of listeners (servers) are signalled, never clients connected to the port.
    /// Each process is checked to still be the one that was found (pid and start time) right
    /// before it is signalled. Asks first on a terminal; without one, needs --yes. Exits 0
    /// when the port was released, 1 when nothing listened, nothing was sent, or the port is
    /// still (or again) held.
    Kill {
        /// The local port, 1 to 65535.
        #[arg(value_name = "PORT", value_parser = parse_port)]
        port: u16,

        /// The signal to send: TERM (ask to exit), INT, HUP or KILL (cannot be caught).
        #[arg(long, short, value_name = "SIGNAL", default_value = "TERM", value_parser = values::SignalParser, hide_possible_values = true)]
        signal: Signal,

        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,

        /// Show what would be sent, and send nothing.
        #[arg(long)]
        dry_run: bool,

        /// How long to wait for the port to come free, in seconds (0.1 to 600).
        #[arg(long, value_name = "SECONDS", default_value = "3", value_parser = parse_timeout, allow_hyphen_values = true)]
        timeout: Duration,

        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print a line for every socket that opens, closes or changes owner
    ///
    /// Runs until interrupted, or with --until-open/--until-closed until that happens (exit 0)
    /// or --timeout passes (exit 1).
    Watch {
        /// Only sockets on any of these local ports (`5173 5432` or `5173,5432`; default:
        /// every port the table would show).
        #[arg(value_name = "PORT", value_parser = parse_port, value_delimiter = ',')]
        ports: Vec<u16>,

        #[command(flatten)]
        filter: Filter,

        #[command(flatten)]
        only: OnlyArgs,

        /// One JSON object per line (NDJSON) instead of text.
        #[arg(long)]
        json: bool,

        /// Exit 0 as soon as something listens on PORT.
        #[arg(long, value_name = "PORT", value_parser = parse_port, conflicts_with = "until_closed", allow_negative_numbers = true)]
        until_open: Option<u16>,

        /// Exit 0 as soon as nothing listens on PORT.
        #[arg(long, value_name = "PORT", value_parser = parse_port, allow_negative_numbers = true)]
        until_closed: Option<u16>,

        /// With --until-open/--until-closed: give up after this many seconds and exit 1.
        #[arg(long, value_name = "SECONDS", value_parser = parse_wait_timeout, allow_hyphen_values = true)]
        timeout: Option<Duration>,

        /// How often to look: 250ms, 1s, 1m, 2 (seconds); 100ms to 60s.
        #[arg(long, value_name = "DURATION", value_parser = parse_interval, allow_hyphen_values = true)]
        interval: Option<Duration>,
    },
    /// Explain a port in plain words, and why a server cannot bind it (tries the binds)
    #[command(visible_alias = "why")]
    Explain {
        /// The local port, 1 to 65535.
        #[arg(value_name = "PORT", value_parser = parse_port)]
        port: u16,

        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check everything listening: databases on every interface, localhost on the other
    /// family, TIME_WAIT/CLOSE_WAIT pile-ups, ephemeral ports, deleted or replaced programs,
    /// processes left behind (exit 1 with findings)
    Doctor {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the shell completion script for SHELL
    ///
    /// e.g. `loopwatch completions bash > ~/.local/share/bash-completion/completions/loopwatch`
    Completions {
        /// The shell to complete for.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    ///
    /// e.g. `loopwatch man > ~/.local/share/man/man1/loopwatch.1`
    Man,
}

impl Args {
    /// Validates the combinations clap's attributes cannot express and picks the mode.
    ///
    /// Flags that mean the same thing before and after a subcommand are merged
    /// (`loopwatch -a list` is `loopwatch list -a`); ones that would be silently ignored are
    /// errors, so a user never believes an option took effect when it did not.
    pub(crate) fn into_command(mut self) -> Result<Command, clap::Error> {
        let Some(sub) = self.command.take() else {
            return self.into_top_level_command();
        };
        self.refuse_flags_moot_for(&sub)?;
        Ok(match sub {
            Subcommands::List {
                filter,
                only,
                no_header,
                json,
                format,
            } => {
                let json = json || self.json;
                if json && format.is_some_and(|f| f != ListFormat::Json) {
                    return Err(subcommand_error(
                        "list",
                        "--json and --format disagree: give one of them",
                    ));
                }
                Command::List {
                    format: format.unwrap_or_else(|| Format::from_json_flag(json).into()),
                    query: self.filter.or(filter).query(),
                    only: self.only.or(only),
                    text: text_options(no_header || self.no_header),
                }
            }
            // `-a`/`-c` are moot here: `who` already covers every address and connection.
            Subcommands::Who {
                ports,
                only,
                no_header,
                json,
            } => Command::Who {
                ports,
                format: Format::from_json_flag(json || self.json),
                only: self.only.or(only),
                text: text_options(no_header || self.no_header),
            },
            Subcommands::Kill { .. } if self.read_only => {
                return Err(subcommand_error("kill", ReadOnly::Flag.refusal()));
            }
            Subcommands::Kill {
                port,
                signal,
                yes,
                dry_run,
                timeout,
                json,
            } => Command::Kill(KillRequest {
                port,
                signal,
                yes,
                dry_run,
                format: Format::from_json_flag(json || self.json),
                timeout,
            }),
            Subcommands::Watch { .. } if self.no_header => {
                return Err(subcommand_error(
                    "watch",
                    "-H applies to tables: watch prints no column titles",
                ));
            }
            Subcommands::Watch {
                ports,
                filter,
                only,
                json,
                until_open,
                until_closed,
                timeout,
                interval,
            } => {
                let until = until_open
                    .map(Until::Open)
                    .or(until_closed.map(Until::Closed));
                if timeout.is_some() && until.is_none() {
                    return Err(subcommand_error(
                        "watch",
                        "--timeout needs --until-open PORT or --until-closed PORT",
                    ));
                }
                Command::Watch(Watch {
                    ports,
                    format: Format::from_json_flag(json || self.json),
                    query: self.filter.or(filter).query(),
                    only: self.only.or(only),
                    interval: interval.unwrap_or(DEFAULT_INTERVAL),
                    until,
                    timeout,
                })
            }
            Subcommands::Explain { port, json } => Command::Explain {
                port,
                format: Format::from_json_flag(json || self.json),
            },
            Subcommands::Doctor { json } => Command::Doctor {
                format: Format::from_json_flag(json || self.json),
            },
            Subcommands::Completions { shell } => Command::Completions(shell),
            Subcommands::Man => Command::Man,
        })
    }

    /// Top-level flags that mean nothing to the subcommand given are errors, not ignored.
    fn refuse_flags_moot_for(&self, sub: &Subcommands) -> Result<(), clap::Error> {
        if let Some(port) = self.port.first() {
            return Err(usage_error(format!(
                "give a PORT or a command, not both: e.g. `loopwatch who {port}`"
            )));
        }
        let top_only = self.only.or(OnlyArgs::default());
        if (top_only.is_set() || self.no_header)
            && !matches!(
                *sub,
                Subcommands::List { .. } | Subcommands::Who { .. } | Subcommands::Watch { .. }
            )
        {
            return Err(usage_error(
                "-t, -u, -4, -6 and -H apply to list, who and watch only",
            ));
        }
        if self.interval.is_some() {
            return Err(usage_error(
                "--interval applies to the live table only: drop it, or drop the command",
            ));
        }
        if self.no_grouped || self.no_sort_descending {
            return Err(usage_error(
                "--no-grouped and --no-sort-descending apply to the live table only: drop them, or drop the command",
            ));
        }
        Ok(())
    }

    fn into_top_level_command(self) -> Result<Command, clap::Error> {
        if !self.port.is_empty() {
            return Ok(Command::Who {
                ports: self.port,
                format: Format::from_json_flag(self.json),
                only: self.only.or(OnlyArgs::default()),
                text: text_options(self.no_header),
            });
        }
        if self.only.or(OnlyArgs::default()).is_set() || self.no_header {
            return Err(usage_error(
                "-t, -u, -4, -6 and -H apply to one-shot output: use `loopwatch list -t` or `loopwatch PORT -t`",
            ));
        }
        if self.json {
            return Err(usage_error(
                "--json applies to one-shot output: use `loopwatch list --json` or `loopwatch PORT --json`",
            ));
        }
        let toggles = self.filter.toggles();
        Ok(Command::Tui {
            interval: self.interval,
            query: toggles.query(),
            read_only: self.read_only,
            unset: Unset {
                connections: toggles.connections == Some(false),
                all_addresses: toggles.all == Some(false),
                grouped: self.no_grouped,
                sort_descending: self.no_sort_descending,
            },
        })
    }
}

fn text_options(no_header: bool) -> TextOptions {
    TextOptions {
        header: !no_header,
        ..TextOptions::default()
    }
}

/// A usage error (exit 2) in clap's format, so every bad command line reads the same.
fn usage_error(message: impl std::fmt::Display) -> clap::Error {
    Args::command().error(ErrorKind::ArgumentConflict, message)
}

/// A usage error of one subcommand: its usage line, not the top level's, follows the message.
fn subcommand_error(name: &str, message: impl std::fmt::Display) -> clap::Error {
    let mut command = Args::command();
    // Building names the subcommands `loopwatch NAME` for their usage lines.
    command.build();
    match command.find_subcommand_mut(name) {
        Some(sub) => sub.error(ErrorKind::ArgumentConflict, message),
        None => command.error(ErrorKind::ArgumentConflict, message),
    }
}

/// How a usage error reads on stderr: the message on one line starting `loopwatch: `, then
/// the usage of the command that was mistyped. A bad value says what a good one is and what was
/// given. `None` for `--help` and `--version`, which clap prints on stdout itself.
pub(crate) fn error_text(error: &clap::Error) -> Option<String> {
    if !error.use_stderr() {
        return None;
    }
    let rendered = error.render().to_string();
    let mut lines = rendered.lines().peekable();
    // clap's message may go on over indented lines (the missing arguments): one line here.
    let mut first = lines.next().unwrap_or_default().to_string();
    while let Some(more) = lines.next_if(|line| !line.trim().is_empty()) {
        first.push(' ');
        first.push_str(more.trim());
    }
    let message = value_message(error)
        .unwrap_or_else(|| first.strip_prefix("error: ").unwrap_or(&first).to_string());
    let mut text = format!("loopwatch: {message}\n");
    for line in lines {
        // clap's advice to write `-- -1` is no help for a value that is wrong anyway.
        if line.trim_start().starts_with("tip: to pass") {
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    Some(text)
}

/// `port must be a number from 1 to 65535, got -1` for a value one of ours refused.
fn value_message(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    if error.kind() != ErrorKind::ValueValidation {
        return None;
    }
    let invalid = std::error::Error::source(error)?.downcast_ref::<values::InvalidValue>()?;
    let got = match error.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(value)) => value.as_str(),
        _ => "",
    };
    Some(invalid.message(got))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(connections: bool, all_addresses: bool) -> Query {
        Query {
            connections,
            all_addresses,
            port: None,
        }
    }

    /// The live table with `--interval` in milliseconds, when given.
    fn tui(interval_ms: Option<u64>, connections: bool, all: bool) -> Command {
        Command::Tui {
            interval: interval_ms.map(Duration::from_millis),
            query: query(connections, all),
            read_only: false,
            unset: Unset::default(),
        }
    }

    fn list(format: ListFormat, query: Query) -> Command {
        Command::List {
            format,
            query,
            only: Only::default(),
            text: TextOptions::default(),
        }
    }

    fn who_of(ports: Vec<u16>, format: Format) -> Command {
        Command::Who {
            ports,
            format,
            only: Only::default(),
            text: TextOptions::default(),
        }
    }

    fn kill(port: u16, signal: Signal) -> KillRequest {
        KillRequest {
            port,
            signal,
            yes: false,
            dry_run: false,
            format: Format::Text,
            timeout: Duration::from_secs(3),
        }
    }

    fn parse(argv: &str) -> Result<Command, clap::Error> {
        parse_command(std::iter::once("loopwatch").chain(argv.split_whitespace()))
    }

    #[test]
    fn argv_table_to_commands() {
        let text_list = |c, a| list(ListFormat::Text, query(c, a));
        let who = |port, format| who_of(vec![port], format);
        let table: Vec<(&str, Command)> = vec![
            ("", tui(None, false, false)),
            ("-a", tui(None, false, true)),
            ("--all --connections", tui(None, true, true)),
            ("-ac", tui(None, true, true)),
            ("--interval 250ms", tui(Some(250), false, false)),
            ("--interval 1.5s -c", tui(Some(1500), true, false)),
            ("--interval=2", tui(Some(2000), false, false)),
            ("--interval 100ms", tui(Some(100), false, false)),
            ("--interval 60s", tui(Some(60_000), false, false)),
            ("--interval 0.1s", tui(Some(100), false, false)),
            ("list", text_list(false, false)),
            ("list -a -c", text_list(true, true)),
            (
                "list --json --connections",
                list(ListFormat::Json, query(true, false)),
            ),
            ("who 5432", who(5432, Format::Text)),
            ("who --json 5432", who(5432, Format::Json)),
            ("who 1 --json", who(1, Format::Json)),
            ("5432", who(5432, Format::Text)),
            ("65535 --json", who(65535, Format::Json)),
            ("--json 80", who(80, Format::Json)),
            ("-c 80", who(80, Format::Text)),
            ("-a list", text_list(false, true)),
            ("-c list -a", text_list(true, true)),
            ("--json list", list(ListFormat::Json, query(false, false))),
            ("--json who 80", who(80, Format::Json)),
            (
                "list --format openmetrics -c",
                list(ListFormat::OpenMetrics, query(true, false)),
            ),
            (
                "list --format json --json",
                list(ListFormat::Json, query(false, false)),
            ),
            ("list --format text", text_list(false, false)),
            ("-a who 80", who(80, Format::Text)),
            ("kill 3000", Command::Kill(kill(3000, Signal::Term))),
            (
                "kill 3000 --signal KILL --yes --json --timeout 0.5",
                Command::Kill(KillRequest {
                    yes: true,
                    format: Format::Json,
                    timeout: Duration::from_millis(500),
                    ..kill(3000, Signal::Kill)
                }),
            ),
            (
                "kill -s int --dry-run 80",
                Command::Kill(KillRequest {
                    dry_run: true,
                    ..kill(80, Signal::Int)
                }),
            ),
            (
                "--read-only",
                Command::Tui {
                    interval: None,
                    query: query(false, false),
                    read_only: true,
                    unset: Unset::default(),
                },
            ),
            (
                "-c --read-only",
                Command::Tui {
                    interval: None,
                    query: query(true, false),
                    read_only: true,
                    unset: Unset::default(),
                },
            ),
            ("list --read-only", text_list(false, false)),
        ];
        for (argv, expected) in table {
            match parse(argv) {
                Ok(command) => assert_eq!(command, expected, "argv: {argv:?}"),
                Err(e) => panic!("argv {argv:?} failed: {e}"),
            }
        }
    }

    #[test]
    fn no_flags_parse() {
        let text_list = |c, a| list(ListFormat::Text, query(c, a));
        let table: Vec<(&str, Command)> = vec![
            (
                "-a --no-all",
                Command::Tui {
                    interval: None,
                    query: query(false, false),
                    read_only: false,
                    unset: Unset {
                        all_addresses: true,
                        ..Unset::default()
                    },
                },
            ),
            ("--no-all -a", tui(None, false, true)),
            ("-c list --no-connections", text_list(false, false)),
            ("--no-connections list -c", text_list(true, false)),
            (
                "--no-all --no-connections --no-grouped --no-sort-descending",
                Command::Tui {
                    interval: None,
                    query: query(false, false),
                    read_only: false,
                    unset: Unset {
                        connections: true,
                        all_addresses: true,
                        grouped: true,
                        sort_descending: true,
                    },
                },
            ),
            (
                "-c --no-connections",
                Command::Tui {
                    interval: None,
                    query: query(false, false),
                    read_only: false,
                    unset: Unset {
                        connections: true,
                        ..Unset::default()
                    },
                },
            ),
            ("--no-config list", text_list(false, false)),
        ];
        for (argv, expected) in table {
            match parse(argv) {
                Ok(command) => assert_eq!(command, expected, "argv: {argv:?}"),
                Err(e) => panic!("argv {argv:?} failed: {e}"),
            }
        }
    }

    #[test]
    fn several_ports_and_the_ss_flags() {
        let table: Vec<(&str, Command)> = vec![
            (
                "who 3000 5173 8080",
                who_of(vec![3000, 5173, 8080], Format::Text),
            ),
            ("who 3000,5173", who_of(vec![3000, 5173], Format::Text)),
            ("3000 5173", who_of(vec![3000, 5173], Format::Text)),
            ("3000,5173 --json", who_of(vec![3000, 5173], Format::Json)),
            (
                "who -t -4 80",
                Command::Who {
                    text: TextOptions::default(),
                    only: Only {
                        tcp: true,
                        ipv4: true,
                        ..Only::default()
                    },
                    ports: vec![80],
                    format: Format::Text,
                },
            ),
            (
                "-u list -6 -H",
                Command::List {
                    only: Only {
                        udp: true,
                        ipv6: true,
                        ..Only::default()
                    },
                    text: TextOptions {
                        header: false,
                        colour: false,
                    },
                    format: ListFormat::Text,
                    query: query(false, false),
                },
            ),
            (
                "list -46 -tu",
                Command::List {
                    text: TextOptions::default(),
                    only: Only {
                        tcp: true,
                        udp: true,
                        ipv4: true,
                        ipv6: true,
                    },
                    format: ListFormat::Text,
                    query: query(false, false),
                },
            ),
            (
                "80 --no-header",
                Command::Who {
                    only: Only::default(),
                    text: TextOptions {
                        header: false,
                        colour: false,
                    },
                    ports: vec![80],
                    format: Format::Text,
                },
            ),
        ];
        for (argv, expected) in table {
            match parse(argv) {
                Ok(command) => assert_eq!(command, expected, "argv: {argv:?}"),
                Err(e) => panic!("argv {argv:?} failed: {e}"),
            }
        }
    }

    #[test]
    fn argv_table_to_usage_errors() {
        let table: &[(&str, &str)] = &[
            ("70000", "port must be a number from 1 to 65535"),
            (
                "abc",
                "expected a port from 1 to 65535 or a command (list, who, kill, watch, explain, why, doctor, completions, man), got abc",
            ),
            (
                "lsit",
                "or a command (list, who, kill, watch, explain, why, doctor, completions, man), got lsit",
            ),
            ("0", "port must be a number from 1 to 65535"),
            ("-1", "port must be a number from 1 to 65535"),
            ("who -5", "port must be a number from 1 to 65535"),
            ("who abc", "port must be a number from 1 to 65535"),
            ("who 0", "port must be a number from 1 to 65535"),
            ("who", "required"),
            ("list 5432", "unexpected argument '5432'"),
            ("--interval 5ms", "interval must be from 100ms to 60s"),
            ("--interval 61s", "interval must be from 100ms to 60s"),
            ("--interval 99ms", "interval must be from 100ms to 60s"),
            ("--interval soon", "e.g. --interval 500ms"),
            ("--interval 1.5.2s", "e.g. --interval 500ms"),
            ("--interval=-1s", "e.g. --interval 500ms"),
            ("--interval -1s", "interval must be from 100ms to 60s"),
            ("--interval -1", "interval must be from 100ms to 60s"),
            ("watch --interval -1", "interval must be from 100ms to 60s"),
            (
                "kill 80 --timeout -1",
                "timeout must be from 0.1 to 600 seconds",
            ),
            (
                "watch --until-open -1",
                "port must be a number from 1 to 65535",
            ),
            ("--interval 5432", "interval must be from 100ms to 60s"),
            ("--interval 1s 5432", "cannot be used with"),
            ("--json", "use `loopwatch list --json`"),
            (
                "5432 list",
                "give a PORT or a command, not both: e.g. `loopwatch list PORT`",
            ),
            ("80 who 80", "give a PORT or a command, not both"),
            (
                "--interval 2s list",
                "--interval applies to the live table only",
            ),
            ("list --interval 2s", "unexpected argument '--interval'"),
            ("--no-grouped list", "apply to the live table only"),
            (
                "--config x.toml --no-config",
                "--config and --no-config contradict",
            ),
            ("--no-read-only", "unexpected argument '--no-read-only'"),
            ("-t", "-t, -u, -4, -6 and -H apply to one-shot output"),
            ("-H", "apply to one-shot output"),
            ("-4 kill 80", "apply to list, who and watch only"),
            ("explain -t 80", "unexpected argument '-t'"),
            ("who 80,0", "port must be a number from 1 to 65535"),
            ("who 80 abc", "port must be a number from 1 to 65535"),
            ("80,70000", "port must be a number from 1 to 65535"),
            ("watch 80,x", "port must be a number from 1 to 65535"),
            ("-H watch", "-H applies to tables"),
            ("-10", "port must be a number from 1 to 65535"),
            ("list -1", "port must be a number from 1 to 65535"),
            (
                "who 80 list",
                "port must be a number from 1 to 65535, got list",
            ),
            ("kill", "required"),
            ("kill 0", "port must be a number from 1 to 65535"),
            (
                "kill 80 --signal STOP",
                "signal must be one of TERM, INT, HUP, KILL",
            ),
            (
                "kill 80 --timeout 0",
                "timeout must be from 0.1 to 600 seconds",
            ),
            (
                "kill 80 --timeout soon",
                "timeout must be from 0.1 to 600 seconds",
            ),
            ("--read-only kill 80", "kill is disabled in read-only mode"),
            (
                "kill 80 --yes --read-only",
                "kill is disabled in read-only mode",
            ),
        ];
        assert_usage_errors(table);
    }

    #[test]
    fn list_formats_that_disagree_or_do_not_exist_are_usage_errors() {
        assert_usage_errors(&[
            (
                "list --json --format openmetrics",
                "--json and --format disagree",
            ),
            ("list --format yaml", "invalid value 'yaml'"),
        ]);
    }

    /// Each argv fails with exit status 2 and a first line holding its message.
    fn assert_usage_errors(table: &[(&str, &str)]) {
        for &(argv, message) in table {
            match parse(argv) {
                Ok(command) => panic!("argv {argv:?} parsed as {command:?}"),
                Err(e) => {
                    assert_eq!(e.exit_code(), 2, "argv {argv:?}: {e}");
                    let first_line = e.to_string();
                    let first_line = first_line.lines().next().unwrap_or_default();
                    assert!(
                        first_line.contains(message),
                        "argv {argv:?}: first line {first_line:?} lacks {message:?}"
                    );
                }
            }
        }
    }

    fn watch(ports: Vec<u16>, until: Option<Until>, timeout: Option<u64>) -> Watch {
        Watch {
            ports,
            format: Format::Text,
            query: query(false, false),
            only: Only::default(),
            interval: DEFAULT_INTERVAL,
            until,
            timeout: timeout.map(Duration::from_secs),
        }
    }

    #[test]
    fn doctor_parses_with_json_before_or_after() {
        for (argv, format) in [
            ("doctor", Format::Text),
            ("doctor --json", Format::Json),
            ("--json doctor", Format::Json),
        ] {
            assert_eq!(parse(argv).unwrap(), Command::Doctor { format }, "{argv}");
        }
        assert!(parse("doctor 80").is_err(), "doctor takes no port");
    }

    #[test]
    fn watch_and_explain_parse() {
        let table: Vec<(&str, Command)> = vec![
            ("watch", Command::Watch(watch(vec![], None, None))),
            (
                "watch 5173 5432",
                Command::Watch(watch(vec![5173, 5432], None, None)),
            ),
            (
                "watch 3000,5173",
                Command::Watch(watch(vec![3000, 5173], None, None)),
            ),
            (
                "watch -t 3000",
                Command::Watch(Watch {
                    only: Only {
                        tcp: true,
                        ..Only::default()
                    },
                    ..watch(vec![3000], None, None)
                }),
            ),
            (
                "watch --json -c --interval 200ms",
                Command::Watch(Watch {
                    format: Format::Json,
                    query: query(true, false),
                    interval: Duration::from_millis(200),
                    ..watch(vec![], None, None)
                }),
            ),
            (
                "watch --until-open 5173 --timeout 30",
                Command::Watch(watch(vec![], Some(Until::Open(5173)), Some(30))),
            ),
            (
                "watch --until-closed 8080",
                Command::Watch(watch(vec![], Some(Until::Closed(8080)), None)),
            ),
            (
                "explain 62893",
                Command::Explain {
                    port: 62893,
                    format: Format::Text,
                },
            ),
            (
                "explain --json 80",
                Command::Explain {
                    port: 80,
                    format: Format::Json,
                },
            ),
            (
                "why 3000 --json",
                Command::Explain {
                    port: 3000,
                    format: Format::Json,
                },
            ),
        ];
        for (argv, expected) in table {
            match parse(argv) {
                Ok(command) => assert_eq!(command, expected, "argv: {argv:?}"),
                Err(e) => panic!("argv {argv:?} failed: {e}"),
            }
        }
        for (argv, message) in [
            ("watch --timeout 5", "--timeout needs --until-open PORT"),
            (
                "watch --until-open 1 --until-closed 2",
                "cannot be used with",
            ),
            ("watch --until-open 0", "port must be a number"),
            (
                "watch --until-open 80 --timeout soon",
                "timeout must be a number of seconds",
            ),
            (
                "watch --until-open 80 --timeout 0",
                "timeout must be a number of seconds",
            ),
            ("explain", "required"),
            ("explain 70000", "port must be a number"),
            ("why 0", "port must be a number"),
        ] {
            let e = parse(argv).expect_err(argv);
            assert_eq!(e.exit_code(), 2, "{argv}");
            let text = e.to_string();
            assert!(
                text.lines().next().unwrap().contains(message),
                "{argv}: {text}"
            );
        }
    }

    #[test]
    fn config_path_and_an_explicit_interval_are_reported() {
        fn argv(s: &str) -> Vec<&str> {
            std::iter::once("loopwatch")
                .chain(s.split_whitespace())
                .collect()
        }
        let plain = parse_invocation(argv("")).unwrap();
        assert_eq!(plain.config, None);
        let given = parse_invocation(argv("--config /tmp/lw.toml --interval 2s")).unwrap();
        assert_eq!(given.config, Some(PathBuf::from("/tmp/lw.toml")));
        assert!(matches!(
            given.command,
            Command::Tui {
                interval: Some(_),
                ..
            }
        ));
        let after = parse_invocation(argv("list --config x.toml")).unwrap();
        assert_eq!(after.config, Some(PathBuf::from("x.toml")));
    }

    #[test]
    fn help_and_version_are_not_usage_errors() {
        for argv in ["--help", "-h", "--version", "-V", "help", "list --help"] {
            let e = parse(argv).expect_err(argv);
            assert_eq!(e.exit_code(), 0, "{argv}");
        }
        let help = parse("--help").expect_err("help").to_string();
        assert!(help.contains("Examples:"), "{help}");
        assert!(help.contains("loopwatch 5432"), "{help}");
    }

    #[test]
    fn live_table_becomes_a_list_when_stdout_is_not_a_terminal() {
        let live = tui(Some(500), true, false);
        assert_eq!(live.clone().for_stdout(true), live);
        assert_eq!(
            live.for_stdout(false),
            list(ListFormat::Text, query(true, false))
        );
        let who = who_of(vec![80], Format::Json);
        assert_eq!(who.clone().for_stdout(false), who);
    }

    #[test]
    fn intervals_parse_exactly() {
        for (text, ms) in [
            ("250ms", 250),
            ("1s", 1000),
            ("1.5s", 1500),
            ("2", 2000),
            (".5", 500),
            ("0.25s", 250),
            ("100.0ms", 100),
            (" 3s ", 3000),
            ("1m", 60_000),
            ("500ms", 500),
            ("1.5", 1500),
            ("1s500ms", 1500),
            ("0.1s", 100),
        ] {
            assert_eq!(
                parse_interval(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        for text in [
            "",
            "s",
            "ms",
            ".",
            "1..5",
            "1e3ms",
            "+1s",
            "NaN",
            "inf",
            "1h",
            "61s",
            "2x",
            "-1s",
            "1.5.2s",
            "99999999999999999",
        ] {
            assert!(parse_interval(text).is_err(), "{text:?} should be rejected");
        }
    }

    #[test]
    fn usage_errors_read_as_one_loopwatch_line_then_the_usage() {
        for (argv, first, usage) in [
            (
                "-1",
                "loopwatch: port must be a number from 1 to 65535, got -1",
                "--help",
            ),
            (
                "who -5",
                "loopwatch: port must be a number from 1 to 65535, got -5",
                "--help",
            ),
            (
                "who",
                "loopwatch: the following required arguments were not provided: <PORT>...",
                "Usage: loopwatch who <PORT>...",
            ),
            (
                "watch --timeout 5",
                "loopwatch: --timeout needs --until-open PORT or --until-closed PORT",
                "Usage: loopwatch watch",
            ),
            (
                "--interval 5ms",
                "loopwatch: interval must be from 100ms to 60s, got 5ms (e.g. --interval 500ms or --interval 2s)",
                "Usage: loopwatch [OPTIONS]",
            ),
            (
                "kill 80 --signal FOO",
                "loopwatch: invalid value 'FOO' for '--signal <SIGNAL>': signal must be one of TERM, INT, HUP, KILL",
                "Usage: loopwatch kill",
            ),
            (
                "--color sometimes list",
                "loopwatch: invalid value 'sometimes' for '--color <WHEN>' [possible values: auto, always, never]",
                "Usage: loopwatch list",
            ),
            (
                "completions foo",
                "loopwatch: invalid value 'foo' for '<SHELL>' [possible values: bash, elvish, fish, powershell, zsh]",
                "Usage: loopwatch completions",
            ),
            (
                "who -1",
                "loopwatch: port must be a number from 1 to 65535, got -1",
                "Usage: loopwatch who",
            ),
            (
                "who 1,,3",
                "loopwatch: port must be a number from 1 to 65535, got an empty value",
                "Usage: loopwatch who",
            ),
        ] {
            let text = error_text(&parse(argv).expect_err(argv)).expect(argv);
            assert_eq!(text.lines().next(), Some(first), "{argv}: {text}");
            assert!(text.contains(usage), "{argv}: {text}");
            assert!(
                !text.contains("error:") && !text.contains("tip:"),
                "{argv}: {text}"
            );
        }
        assert_eq!(error_text(&parse("--help").expect_err("help")), None);
    }

    #[test]
    fn clap_definition_is_consistent() {
        Args::command().debug_assert();
    }
}
