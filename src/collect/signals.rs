//! Signals, as callbacks on a thread of their own: the live table and `watch` end cleanly on
//! the terminating ones, and the live table steps aside for job control (Ctrl-Z, `fg`).

/// What a signal asks of loopwatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrived {
    /// SIGTERM, SIGHUP, SIGINT or SIGQUIT: finish and exit.
    Terminate,
    /// SIGTSTP: give the terminal back and stop, as `Ctrl-Z` does in a shell.
    Suspend,
    /// SIGCONT: running again after a stop (from anyone): take the screen back and redraw.
    Continue,
}

/// Calls `on_signal` once, on a thread of its own, when SIGTERM, SIGHUP, SIGINT or SIGQUIT
/// arrives. From then on those signals no longer end the process by default: the caller
/// restores what it must and exits.
pub fn on_terminate(on_signal: impl FnOnce() + Send + 'static) -> anyhow::Result<()> {
    let mut once = Some(on_signal);
    listen(false, move |arrived| {
        if arrived == Arrived::Terminate
            && let Some(f) = once.take()
        {
            f();
        }
    })
}

/// Calls `on_signal` for every terminating signal and, with `job_control`, every SIGTSTP and
/// SIGCONT. A caught SIGTSTP no longer stops the process: the caller stops itself once its
/// terminal is restored ([`stop_self`]).
#[cfg(unix)]
pub fn listen(
    job_control: bool,
    mut on_signal: impl FnMut(Arrived) + Send + 'static,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use signal_hook::consts::{SIGCONT, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP};
    let mut wanted = vec![SIGTERM, SIGHUP, SIGINT, SIGQUIT];
    if job_control {
        wanted.extend([SIGTSTP, SIGCONT]);
    }
    let mut signals =
        signal_hook::iterator::Signals::new(wanted).context("cannot install signal handlers")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                on_signal(match signal {
                    SIGTSTP => Arrived::Suspend,
                    SIGCONT => Arrived::Continue,
                    _ => Arrived::Terminate,
                });
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}

/// Console close and Ctrl-C arrive as key events or end the process; nothing to install.
#[cfg(not(unix))]
#[allow(clippy::unnecessary_wraps)]
pub fn listen(
    _job_control: bool,
    _on_signal: impl FnMut(Arrived) + Send + 'static,
) -> anyhow::Result<()> {
    Ok(())
}

/// Stops this process until a SIGCONT (`fg`), as a terminal's Ctrl-Z would: SIGSTOP, which
/// no handler can catch.
#[cfg(unix)]
pub fn stop_self() -> anyhow::Result<()> {
    use anyhow::Context as _;
    rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::STOP)
        .context("cannot stop")
}

/// No job control here: nothing to do.
#[cfg(not(unix))]
#[allow(clippy::unnecessary_wraps)]
pub fn stop_self() -> anyhow::Result<()> {
    Ok(())
}
