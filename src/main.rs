//! Parse, dispatch, map the outcome to an exit code. Everything else lives in the library.
//!
//! Exit codes: 0 ok, 1 nothing bound to the port or a runtime failure, 2 bad usage (clap).

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use loopwatch::cli::{self, Command};
use loopwatch::output::{self, WhoOutcome};
use loopwatch::{collect, tui};

fn main() -> ExitCode {
    // Prints usage errors (exit 2) and --help/--version (exit 0) the way clap always does.
    let command = cli::parse_command(std::env::args_os()).unwrap_or_else(|e| e.exit());
    let command = command.for_stdout(io::stdout().is_terminal());
    match run(command) {
        Ok(code) => code,
        Err(e) => {
            // One line, causes joined by ": ", no backtrace: these are conditions, not bugs.
            let _ = writeln!(io::stderr(), "loopwatch: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    let mut collector = collect::system_collector()?;
    let (mut stdout, mut stderr) = (io::stdout(), io::stderr());
    match command {
        Command::Tui { interval, query } => {
            tui::run(collector, interval, query)?;
            Ok(ExitCode::SUCCESS)
        }
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
