//! The command line: clap's view of the arguments, and the pure step that turns them into the
//! one [`Command`] `main` runs.
//!
//! Everything here is free of I/O so the whole grammar can be tested as a table of argv =>
//! `Command` (or usage error). The one runtime fact that changes the mode, whether stdout is a
//! terminal, is applied afterwards by [`Command::for_stdout`].

mod command;
pub(crate) mod config;
pub(crate) mod generate;
mod values;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::{Args as ClapArgs, CommandFactory, Parser, Subcommand};

pub(crate) use self::command::{Command, Format, Invocation, KillRequest, Until, Watch};
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
  loopwatch list --all           one-shot table, also sockets bound to other addresses
  loopwatch watch --json         one JSON line per socket opened, closed or changing owner
  loopwatch watch --until-open 5173 --timeout 30
                                 wait for a dev server: exit 0 once it listens, 1 after 30 s
  loopwatch explain 62893        what is this port? in plain words
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
    let parsed = Args::try_parse_from(argv)?;
    let config = parsed.config.clone();
    Ok(Invocation {
        command: parsed.into_command()?,
        config,
    })
}

/// The raw command line as clap sees it. Prefer [`parse_command`]; this is public for
/// `--help` generation and completions.
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

    /// Show who holds this local port (shorthand for `loopwatch who PORT`).
    #[arg(value_name = "PORT", value_parser = parse_port_or_command)]
    pub(crate) port: Option<u16>,

    /// How often the live table refreshes: 250ms, 1s, 1.5s or 2 (seconds); 100ms to 60s.
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = parse_interval,
        conflicts_with = "port"
    )]
    pub(crate) interval: Option<Duration>,

    #[command(flatten)]
    pub(crate) filter: Filter,

    /// Print JSON instead of a table (with PORT).
    #[arg(long)]
    pub(crate) json: bool,

    /// Read settings from this TOML file instead of the default
    /// ($XDG_CONFIG_HOME/loopwatch/config.toml or the platform's equivalent).
    #[arg(long, value_name = "PATH", global = true)]
    pub(crate) config: Option<PathBuf>,

    /// Never stop a process: the stop keys and `kill` are disabled (for demos and classrooms).
    /// Also set by LOOPWATCH_READ_ONLY=1.
    #[arg(long, global = true, env = "LOOPWATCH_READ_ONLY", value_parser = clap::builder::FalseyValueParser::new())]
    pub(crate) read_only: bool,
}

/// Which sockets the table and `list` include beyond loopback listeners.
#[derive(Debug, Clone, Copy, Default, ClapArgs)]
pub(crate) struct Filter {
    /// Also show sockets bound to specific non-loopback addresses of this host.
    #[arg(short, long)]
    pub(crate) all: bool,

    /// Also show TCP connection ends (ESTABLISHED, TIME_WAIT, ...), not only listeners.
    #[arg(short, long)]
    pub(crate) connections: bool,
}

impl Filter {
    /// A flag given on either side of a subcommand counts.
    fn or(self, other: Filter) -> Filter {
        Filter {
            all: self.all || other.all,
            connections: self.connections || other.connections,
        }
    }

    fn query(self) -> Query {
        Query {
            connections: self.connections,
            all_addresses: self.all,
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

        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show every socket on a local port and the processes that hold it
    ///
    /// Listeners and connection ends, TCP and UDP, on any address. Exits 1 when nothing is
    /// bound to the port.
    Who {
        /// The local port, 1 to 65535.
        #[arg(value_name = "PORT", value_parser = parse_port)]
        port: u16,

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
        #[arg(long, short, value_name = "SIGNAL", default_value = "TERM", value_parser = Signal::parse)]
        signal: Signal,

        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,

        /// Show what would be sent, and send nothing.
        #[arg(long)]
        dry_run: bool,

        /// How long to wait for the port to come free, in seconds (0.1 to 600).
        #[arg(long, value_name = "SECONDS", default_value = "3", value_parser = parse_timeout)]
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
        /// Only these local ports (default: every port the table would show).
        #[arg(value_name = "PORT", value_parser = parse_port)]
        ports: Vec<u16>,

        #[command(flatten)]
        filter: Filter,

        /// One JSON object per line (NDJSON) instead of text.
        #[arg(long)]
        json: bool,

        /// Exit 0 as soon as something listens on PORT.
        #[arg(long, value_name = "PORT", value_parser = parse_port, conflicts_with = "until_closed")]
        until_open: Option<u16>,

        /// Exit 0 as soon as nothing listens on PORT.
        #[arg(long, value_name = "PORT", value_parser = parse_port)]
        until_closed: Option<u16>,

        /// With --until-open/--until-closed: give up after this many seconds and exit 1.
        #[arg(long, value_name = "SECONDS", value_parser = parse_wait_timeout)]
        timeout: Option<Duration>,

        /// How often to look: 250ms, 1s, 2 (seconds); 100ms to 60s.
        #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
        interval: Option<Duration>,
    },
    /// Explain a port in plain words: address, families, range, usual service, state
    Explain {
        /// The local port, 1 to 65535.
        #[arg(value_name = "PORT", value_parser = parse_port)]
        port: u16,

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
    pub(crate) fn into_command(self) -> Result<Command, clap::Error> {
        let Some(sub) = self.command else {
            return self.into_top_level_command();
        };
        if let Some(port) = self.port {
            return Err(usage_error(format!(
                "give a PORT or a command, not both: e.g. `loopwatch who {port}`"
            )));
        }
        if self.interval.is_some() {
            return Err(usage_error(
                "--interval applies to the live table only: drop it, or drop the command",
            ));
        }
        Ok(match sub {
            Subcommands::List { filter, json } => Command::List {
                format: Format::from_json_flag(json || self.json),
                query: self.filter.or(filter).query(),
            },
            // `-a`/`-c` are moot here: `who` already covers every address and connection.
            Subcommands::Who { port, json } => Command::Who {
                port,
                format: Format::from_json_flag(json || self.json),
            },
            Subcommands::Kill { .. } if self.read_only => {
                return Err(usage_error(ReadOnly::Flag.refusal()));
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
            Subcommands::Watch {
                ports,
                filter,
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
                    return Err(usage_error(
                        "--timeout needs --until-open PORT or --until-closed PORT",
                    ));
                }
                Command::Watch(Watch {
                    ports,
                    format: Format::from_json_flag(json || self.json),
                    query: self.filter.or(filter).query(),
                    interval: interval.unwrap_or(DEFAULT_INTERVAL),
                    until,
                    timeout,
                })
            }
            Subcommands::Explain { port, json } => Command::Explain {
                port,
                format: Format::from_json_flag(json || self.json),
            },
            Subcommands::Completions { shell } => Command::Completions(shell),
            Subcommands::Man => Command::Man,
        })
    }

    fn into_top_level_command(self) -> Result<Command, clap::Error> {
        if let Some(port) = self.port {
            return Ok(Command::Who {
                port,
                format: Format::from_json_flag(self.json),
            });
        }
        if self.json {
            return Err(usage_error(
                "--json applies to one-shot output: use `loopwatch list --json` or `loopwatch PORT --json`",
            ));
        }
        Ok(Command::Tui {
            interval: self.interval,
            query: self.filter.query(),
            read_only: self.read_only,
        })
    }
}

/// A usage error (exit 2) in clap's format, so every bad command line reads the same.
fn usage_error(message: impl std::fmt::Display) -> clap::Error {
    Args::command().error(ErrorKind::ArgumentConflict, message)
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
        let text_list = |c, a| Command::List {
            format: Format::Text,
            query: query(c, a),
        };
        let who = |port, format| Command::Who { port, format };
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
                Command::List {
                    format: Format::Json,
                    query: query(true, false),
                },
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
            (
                "--json list",
                Command::List {
                    format: Format::Json,
                    query: query(false, false),
                },
            ),
            ("--json who 80", who(80, Format::Json)),
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
                },
            ),
            (
                "-c --read-only",
                Command::Tui {
                    interval: None,
                    query: query(true, false),
                    read_only: true,
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
    fn argv_table_to_usage_errors() {
        let table: &[(&str, &str)] = &[
            ("70000", "port must be a number from 1 to 65535"),
            (
                "abc",
                "port must be a number from 1 to 65535, or a command: list, who, kill, watch, explain",
            ),
            ("lsit", "invalid value 'lsit' for '[PORT]'"),
            ("0", "port must be a number from 1 to 65535"),
            ("-1", "unexpected argument"),
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
            ("--interval -1s", "unexpected argument"),
            ("--interval 5432", "interval must be from 100ms to 60s"),
            ("--interval 1s 5432", "cannot be used with"),
            ("--json", "use `loopwatch list --json`"),
            (
                "5432 list",
                "give a PORT or a command, not both: e.g. `loopwatch who 5432`",
            ),
            ("80 who 80", "give a PORT or a command, not both"),
            (
                "--interval 2s list",
                "--interval applies to the live table only",
            ),
            ("list --interval 2s", "unexpected argument '--interval'"),
            ("who 80 list", "unexpected argument 'list'"),
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
        for (argv, message) in table {
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
            interval: DEFAULT_INTERVAL,
            until,
            timeout: timeout.map(Duration::from_secs),
        }
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
            Command::List {
                format: Format::Text,
                query: query(true, false),
            }
        );
        let who = Command::Who {
            port: 80,
            format: Format::Json,
        };
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
            "1 m",
            "1m",
            "99999999999999999",
        ] {
            assert!(parse_interval(text).is_err(), "{text:?} should be rejected");
        }
    }

    #[test]
    fn clap_definition_is_consistent() {
        Args::command().debug_assert();
    }
}
