//! Terminating signals, as a callback: the live table and `watch` both end cleanly on them.

/// Calls `on_signal` once, on a thread of its own, when SIGTERM, SIGHUP, SIGINT or SIGQUIT
/// arrives. From then on those signals no longer end the process by default: the caller
/// restores what it must and exits.
#[cfg(unix)]
pub fn on_terminate(on_signal: impl FnOnce() + Send + 'static) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT])
        .context("cannot install signal handlers")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                on_signal();
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}

/// Console close and Ctrl-C arrive as key events or end the process; nothing to install.
#[cfg(not(unix))]
#[allow(clippy::unnecessary_wraps)]
pub fn on_terminate(_on_signal: impl FnOnce() + Send + 'static) -> anyhow::Result<()> {
    Ok(())
}
