//! Parse, dispatch, map the outcome to an exit code: what the `loopwatch` binary does.
//!
//! Exit codes: 0 ok, 1 nothing bound to the port, a port still held after `kill`, a
//! `watch --until-*` timeout, findings of `doctor`, or a runtime failure; 2 bad usage or a bad
//! config file.

use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;

use crate::cli::KillRequest;
use crate::cli::config::{self, Config};
use crate::cli::{self, Command, display};
use crate::collect::EngineAsking;
use crate::collect::clock::SystemClock;
use crate::collect::details::SysinfoDetails;
use crate::collect::facts;
use crate::commands::kill;
use crate::commands::render::AsciiWriter;
use crate::commands::watch::{self, WatchOutcome};
use crate::commands::{self, WhoOutcome};
use crate::control::SystemControl;
use crate::{collect, tui};

/// The conventional exit code for bad usage, as clap uses it.
const USAGE: u8 = 2;

/// Runs loopwatch with this process's arguments; the exit code to end with.
pub fn main() -> ExitCode {
    // Usage errors: one `loopwatch: ` line and the usage, exit 2; --help and --version go to
    // stdout with exit 0, the way clap prints them.
    let invocation = match cli::parse_invocation(std::env::args_os()) {
        Ok(invocation) => invocation,
        Err(e) => match cli::error_text(&e) {
            Some(text) => {
                let _ = io::stderr().write_all(text.as_bytes());
                return ExitCode::from(USAGE);
            }
            None => e.exit(),
        },
    };
    // Generated text (completions, the man page) reads neither the config nor the sockets:
    // it must work whatever state the config file is in.
    let generated = match invocation.command {
        Command::Completions(shell) => Some(cli::generate::completions(shell)),
        Command::Man => Some(cli::generate::man_page()),
        _ => None,
    };
    if let Some(text) = generated {
        return print_generated(&text).unwrap_or_else(|e| {
            let _ = writeln!(io::stderr(), "loopwatch: {e:#}");
            ExitCode::FAILURE
        });
    }
    // `--config` wins; an empty LOOPWATCH_CONFIG is as good as unset.
    let config_path = invocation.config.clone().or_else(|| {
        std::env::var_os("LOOPWATCH_CONFIG")
            .filter(|path| !path.is_empty())
            .map(std::path::PathBuf::from)
    });
    // A broken config file is a usage error too: one line naming the key, exit 2, never a
    // run with half of it applied.
    let config = match config::load(config_path.as_deref()) {
        // --no-config: the file's settings are ignored, a broken file too, but its
        // read_only = true holds (only editing the file lifts it).
        Ok(config) if invocation.no_config => config.read_only_part(),
        Err(_) if invocation.no_config => Config::default(),
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
    let env = |name: &str| std::env::var(name).ok();
    let stdout_is_terminal = io::stdout().is_terminal();
    let looks = Looks {
        colour: display::colour(invocation.color, &env, stdout_is_terminal),
        ascii: !display::utf8_locale(&env, cfg!(windows)),
    };
    let command = invocation
        .command
        .for_stdout(stdout_is_terminal)
        .with_colour(looks.colour);
    match run(command, &config, looks) {
        Ok(code) => code,
        Err(e) => {
            // One line, causes joined by ": ", no backtrace: these are conditions, not bugs.
            let _ = writeln!(io::stderr(), "loopwatch: {e:#}{}", fix_for(&e));
            ExitCode::FAILURE
        }
    }
}

/// How output looks here: decided once from the flags, the environment and the terminal.
#[derive(Debug, Clone, Copy)]
struct Looks {
    /// `--color`, `NO_COLOR`, `CLICOLOR_FORCE`, `TERM=dumb`, and whether stdout is a terminal.
    colour: bool,
    /// The locale is not UTF-8: glyphs are shown as their ASCII stand-ins.
    ascii: bool,
}

/// stdout and stderr, through the ASCII stand-ins when the locale needs them.
fn outputs(looks: Looks) -> (Box<dyn Write>, Box<dyn Write>) {
    if looks.ascii {
        (
            Box::new(AsciiWriter(io::stdout())),
            Box::new(AsciiWriter(io::stderr())),
        )
    } else {
        (Box::new(io::stdout()), Box::new(io::stderr()))
    }
}

fn run(command: Command, config: &Config, looks: Looks) -> anyhow::Result<ExitCode> {
    let asking = match command {
        Command::Tui { .. } | Command::Watch(_) => EngineAsking::Watched,
        _ => EngineAsking::Once,
    };
    let mut collector = collect::system_collector_with_engine(asking)?;
    let (mut stdout, mut stderr) = outputs(looks);
    match command {
        Command::Tui {
            interval,
            query,
            read_only,
            unset,
        } => {
            let live = config.live_table(interval, query, read_only, unset, facts::read());
            let options = tui::Options {
                query: live.query,
                read_only: live.read_only,
            };
            let theme = tui::theme(live.theme, looks.colour, looks.ascii);
            tui::run(collector, options, live.settings, &theme)?;
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
        Command::Explain { port, format } => {
            run_explain(collector.as_mut(), port, format, &mut stdout)
        }
        Command::Doctor { format } => run_doctor(collector.as_mut(), format, &mut stdout),
        Command::Kill(request) => run_kill(collector.as_mut(), &request, looks),
        Command::List {
            format,
            query,
            only,
            text,
        } => {
            let output = commands::Output { only, format, text };
            commands::list(collector.as_mut(), query, output, &mut stdout, &mut stderr)
                .map(|()| ExitCode::SUCCESS)
                .or_else(succeed_if_reader_left)
        }
        Command::Who {
            ports,
            format,
            only,
            text,
        } => {
            let output = commands::Output { only, format, text };
            commands::who(collector.as_mut(), &ports, output, &mut stdout, &mut stderr)
                .map(|outcome| match outcome {
                    WhoOutcome::Found => ExitCode::SUCCESS,
                    WhoOutcome::NothingBound(free) => {
                        for port in free {
                            let _ = writeln!(
                                stderr,
                                "loopwatch: {}",
                                commands::nothing_bound_message(port)
                            );
                        }
                        ExitCode::FAILURE
                    }
                })
                .or_else(succeed_if_reader_left)
        }
        Command::Completions(_) | Command::Man => Ok(ExitCode::SUCCESS), // printed by `main`
    }
}

/// `loopwatch explain PORT` (`why`): always 0 once printed.
fn run_explain(
    collector: &mut dyn collect::Collector,
    port: u16,
    format: cli::Format,
    stdout: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let setting = commands::explain::Setting {
        facts: &facts::read(),
        probe: &collect::bind_probe::probe,
        uid: collect::Viewer::current().uid,
    };
    commands::explain::explain(collector, port, format, &setting, stdout)
        .map(|()| ExitCode::SUCCESS)
        .or_else(succeed_if_reader_left)
}

/// `loopwatch doctor`: 0 when there is nothing to fix, 1 with findings.
fn run_doctor(
    collector: &mut dyn collect::Collector,
    format: cli::Format,
    stdout: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let setting = commands::doctor::Setting {
        facts: &facts::read(),
        health: &collect::health::health,
    };
    commands::doctor::doctor(collector, format, &setting, stdout)
        .map(|found| {
            if found {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        })
        .or_else(succeed_if_reader_left)
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
    looks: Looks,
) -> anyhow::Result<ExitCode> {
    let stdin = io::stdin();
    if !request.yes && !request.dry_run && !stdin.is_terminal() {
        let _ = writeln!(
            io::stderr(),
            "loopwatch: kill needs a confirmation and stdin is not a terminal: add --yes to send the signal, or --dry-run to see what would be sent"
        );
        return Ok(ExitCode::from(USAGE));
    }
    // The question goes to stderr: redirected or closed, nobody would see what a yes answers.
    if !request.yes && !request.dry_run && !io::stderr().is_terminal() {
        let _ = writeln!(
            io::stderr(),
            "loopwatch: kill asks on stderr, and stderr is not a terminal, so the question would not be seen: add --yes to send the signal, or --dry-run to see what would be sent"
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
        stop_container: &|container| collect::engine::Endpoint::from_env().stop(&container.id),
    };
    let mut confirm = |question: &str| -> io::Result<bool> {
        let mut err = outputs(looks).1;
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
    let (mut stdout, mut stderr) = outputs(looks);
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
