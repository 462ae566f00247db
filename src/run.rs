//! Parse, dispatch, map the outcome to an exit code: what the `loopwatch` binary does.
//!
//! Exit codes: 0 ok, 1 nothing bound to the port, a port still held after `kill`, a
//! `watch --until-*` timeout, or a runtime failure; 2 bad usage or a bad config file.

use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;

use crate::cli::KillRequest;
use crate::cli::config::{self, Config};
use crate::cli::{self, Command};
use crate::collect::clock::SystemClock;
use crate::collect::details::SysinfoDetails;
use crate::collect::facts;
use crate::commands::kill;
use crate::commands::watch::{self, WatchOutcome};
use crate::commands::{self, WhoOutcome};
use crate::control::SystemControl;
use crate::{collect, tui};

/// The conventional exit code for bad usage, as clap uses it.
const USAGE: u8 = 2;

/// Runs loopwatch with this process's arguments; the exit code to end with.
pub fn main() -> ExitCode {
    // Prints usage errors (exit 2) and --help/--version (exit 0) the way clap always does.
    let invocation = cli::parse_invocation(std::env::args_os()).unwrap_or_else(|e| e.exit());
    // A broken config file is a usage error too: one line naming the key, exit 2, never a
    // run with half of it applied.
    let config = match config::load(invocation.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            let _ = writeln!(io::stderr(), "loopwatch: {e}");
            return ExitCode::from(USAGE);
        }
    };
    if let Some(refusal) = config.refusal(&invocation.command) {
        let _ = writeln!(io::stderr(), "loopwatch: {refusal}");
        return ExitCode::from(USAGE);
    }
    let command = invocation.command.for_stdout(io::stdout().is_terminal());
    match run(command, &config) {
        Ok(code) => code,
        Err(e) => {
            // One line, causes joined by ": ", no backtrace: these are conditions, not bugs.
            let _ = writeln!(io::stderr(), "loopwatch: {e:#}{}", fix_for(&e));
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, config: &Config) -> anyhow::Result<ExitCode> {
    // Generated text reads no socket table: printed before a collector is opened.
    let command = match command {
        Command::Completions(shell) => return print_generated(&cli::generate::completions(shell)),
        Command::Man => return print_generated(&cli::generate::man_page()),
        other => other,
    };
    let mut collector = collect::system_collector()?;
    let (mut stdout, mut stderr) = (io::stdout(), io::stderr());
    match command {
        Command::Tui {
            interval,
            query,
            read_only,
        } => {
            let live = config.live_table(interval, query, read_only, facts::read());
            let options = tui::Options {
                query: live.query,
                read_only: live.read_only,
            };
            tui::run(collector, options, live.settings, &tui::theme(live.theme))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Watch(options) => {
            let mut clock = SystemClock::interruptible()?;
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
        Command::Explain { port, format } => commands::explain::explain(
            collector.as_mut(),
            port,
            format,
            &facts::read(),
            &mut stdout,
        )
        .map(|()| ExitCode::SUCCESS)
        .or_else(succeed_if_reader_left),
        Command::Kill(request) => run_kill(collector.as_mut(), &request),
        Command::List { format, query } => {
            commands::list(collector.as_mut(), query, format, &mut stdout, &mut stderr)
                .map(|()| ExitCode::SUCCESS)
                .or_else(succeed_if_reader_left)
        }
        Command::Who { port, format } => {
            commands::who(collector.as_mut(), port, format, &mut stdout, &mut stderr)
                .map(|outcome| match outcome {
                    WhoOutcome::Found => ExitCode::SUCCESS,
                    WhoOutcome::NothingBound => {
                        let _ = writeln!(stderr, "{}", commands::nothing_bound_message(port));
                        ExitCode::FAILURE
                    }
                })
                .or_else(succeed_if_reader_left)
        }
        Command::Completions(_) | Command::Man => Ok(ExitCode::SUCCESS), // printed above
    }
}

/// Prints a completion script or the man page; a reader that went away is not an error.
fn print_generated(text: &[u8]) -> anyhow::Result<ExitCode> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text)
        .and_then(|()| stdout.flush())
        .map(|()| ExitCode::SUCCESS)
        .map_err(anyhow::Error::from)
        .or_else(succeed_if_reader_left)
}

/// `loopwatch kill`: asks on the terminal unless `--yes`; refuses (exit 2) when it cannot ask.
fn run_kill(
    collector: &mut dyn collect::Collector,
    request: &KillRequest,
) -> anyhow::Result<ExitCode> {
    let stdin = io::stdin();
    if !request.yes && !request.dry_run && !stdin.is_terminal() {
        let _ = writeln!(
            io::stderr(),
            "loopwatch: kill needs a confirmation and stdin is not a terminal: add --yes to send the signal, or --dry-run to see what would be sent"
        );
        return Ok(ExitCode::from(USAGE));
    }
    let mut control = SystemControl::new().map_err(anyhow::Error::msg)?;
    let mut details = SysinfoDetails::new().map_err(anyhow::Error::msg)?;
    let mut clock = SystemClock::new();
    let mut system = kill::System {
        collector,
        control: &mut control,
        details: &mut details,
        clock: &mut clock,
    };
    let mut confirm = |question: &str| -> io::Result<bool> {
        let mut err = io::stderr();
        // Only an answer typed after the question was shown counts: drop anything typed
        // ahead (a stray `y` and Enter must not answer a plan nobody read).
        #[cfg(unix)]
        let _ = rustix::termios::tcflush(&stdin, rustix::termios::QueueSelector::IFlush);
        write!(err, "{question}")?;
        err.flush()?;
        let mut answer = String::new();
        stdin.lock().read_line(&mut answer)?;
        Ok(matches!(
            answer.trim().to_ascii_lowercase().as_str(),
            "y" | "yes"
        ))
    };
    let (mut stdout, mut stderr) = (io::stdout(), io::stderr());
    let outcome = kill::kill(&mut system, request, &mut confirm, &mut stdout, &mut stderr)?;
    Ok(if outcome.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Rust ignores SIGPIPE, so a reader that stopped early (`loopwatch list | head -1`) shows up
/// as a BrokenPipe write error. The reader got what it wanted: exit 0 without a word.
fn succeed_if_reader_left(error: anyhow::Error) -> anyhow::Result<ExitCode> {
    if commands::is_broken_pipe(&error) {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(error)
    }
}

/// What to do about an error the OS gave, where there is one obvious thing.
fn fix_for(error: &anyhow::Error) -> &'static str {
    let errno = error.chain().find_map(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .and_then(io::Error::raw_os_error)
    });
    match errno {
        // EMFILE, ENFILE
        Some(24 | 23) => "; too many open files: raise the limit (ulimit -n) and try again",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_out_of_descriptors_says_what_to_raise() {
        let emfile = anyhow::Error::new(io::Error::from_raw_os_error(24))
            .context("cannot read the keyboard");
        assert_eq!(
            fix_for(&emfile),
            "; too many open files: raise the limit (ulimit -n) and try again"
        );
        assert_eq!(fix_for(&anyhow::anyhow!("anything else")), "");
    }
}
