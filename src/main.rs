//! Parse, dispatch, map the outcome to an exit code. Everything else lives in the library.
//!
//! Exit codes: 0 ok, 1 nothing bound to the port, a `watch --until-*` timeout or a runtime
//! failure, 2 bad usage (clap) or a bad config file.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use loopwatch::cli::{self, Command};
use loopwatch::collect::facts::SystemFacts;
use loopwatch::config::{self, Config};
use loopwatch::output::watch::{self, SystemClock, WatchOutcome};
use loopwatch::output::{self, WhoOutcome};
use loopwatch::ui::theme::ThemeName;
use loopwatch::{collect, tui};

fn main() -> ExitCode {
    // Prints usage errors (exit 2) and --help/--version (exit 0) the way clap always does.
    let invocation = cli::parse_invocation(std::env::args_os()).unwrap_or_else(|e| e.exit());
    // A broken config file is a usage error too: one line naming the key, exit 2, never a
    // run with half of it applied.
    let config = match config::load(invocation.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            let _ = writeln!(io::stderr(), "loopwatch: {e}");
            return ExitCode::from(2);
        }
    };
    let interval_flag = invocation.interval_given;
    let command = invocation.command.for_stdout(io::stdout().is_terminal());
    match run(command, &config, interval_flag) {
        Ok(code) => code,
        Err(e) => {
            // One line, causes joined by ": ", no backtrace: these are conditions, not bugs.
            let _ = writeln!(io::stderr(), "loopwatch: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, config: &Config, interval_flag: bool) -> anyhow::Result<ExitCode> {
    let mut collector = collect::system_collector()?;
    let (mut stdout, mut stderr) = (io::stdout(), io::stderr());
    match command {
        Command::Tui { interval, query } => {
            let settings = config.settings(interval_flag.then_some(interval), SystemFacts::read());
            let theme = tui::theme(config.theme.unwrap_or(ThemeName::Default));
            tui::run_with(collector, config.query(query), settings, &theme)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Watch(options) => {
            let mut clock = SystemClock::new()?;
            watch::watch(
                collector.as_mut(),
                &options,
                &mut clock,
                &mut stdout,
                &mut stderr,
            )
            .map(|outcome| match (outcome, options.until) {
                (WatchOutcome::TimedOut, Some(until)) => {
                    let timeout = options.timeout.unwrap_or_default();
                    let _ = writeln!(
                        stderr,
                        "loopwatch: {}",
                        watch::timeout_message(until, timeout)
                    );
                    ExitCode::FAILURE
                }
                _ => ExitCode::SUCCESS,
            })
            .or_else(succeed_if_reader_left)
        }
        Command::Explain { port, format } => output::explain::explain(
            collector.as_mut(),
            port,
            format,
            &SystemFacts::read(),
            &mut stdout,
        )
        .map(|()| ExitCode::SUCCESS)
        .or_else(succeed_if_reader_left),
        Command::List { format, query } => {
            output::list(collector.as_mut(), &query, format, &mut stdout, &mut stderr)
                .map(|()| ExitCode::SUCCESS)
                .or_else(succeed_if_reader_left)
        }
        Command::Who { port, format } => {
            output::who(collector.as_mut(), port, format, &mut stdout, &mut stderr)
                .map(|outcome| match outcome {
                    WhoOutcome::Found => ExitCode::SUCCESS,
                    WhoOutcome::NothingBound => {
                        let _ = writeln!(stderr, "{}", output::nothing_bound_message(port));
                        ExitCode::FAILURE
                    }
                })
                .or_else(succeed_if_reader_left)
        }
    }
}

/// Rust ignores SIGPIPE, so a reader that stopped early (`loopwatch list | head -1`) shows up
/// as a BrokenPipe write error. The reader got what it wanted: exit 0 without a word.
fn succeed_if_reader_left(error: anyhow::Error) -> anyhow::Result<ExitCode> {
    if output::is_broken_pipe(&error) {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(error)
    }
}
