//! The live table: the only code that touches the terminal. [`run`] owns the screen and the
//! threads that feed one channel of events; `event_loop` turns events into actions and frames;
//! `runtime` performs the effects the app asks for, through an injected [`Os`].

mod event_loop;
mod runtime;
mod terminal;
#[cfg(test)]
mod tests;

use ratatui::Terminal;
use ratatui::backend::Backend;
use std::sync::mpsc::{self, Receiver, Sender};

use self::event_loop::{Event, JobControl};
pub(crate) use self::runtime::Os;
use self::runtime::Runtime;
use crate::app::{App, Settings};
use crate::collect::Collector;
use crate::collect::poller;
use crate::collect::signals::Arrived;
use crate::model::Query;
use crate::ui::Theme;
use crate::ui::theme::ThemeName;

/// What the live table starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) query: Query,
    /// No signal can be sent from this session.
    pub(crate) read_only: bool,
}

/// The named theme, without colours unless `colour` (`--color`, `NO_COLOR`, ...: decided by
/// the caller), in ASCII when the locale is not UTF-8.
pub(crate) fn theme(name: ThemeName, colour: bool, ascii: bool) -> Theme {
    let theme = Theme::named(name);
    let theme = if colour {
        // crossterm drops every colour (and the attributes written with them) when NO_COLOR is
        // set, whatever was decided: `--color always` must win over the environment.
        ratatui::crossterm::style::force_color_output(true);
        theme
    } else {
        theme.without_colour()
    };
    Theme { ascii, ..theme }
}

/// Runs the interactive table on this terminal until the user quits or a terminating signal
/// arrives, with the settings and theme from the config file (`settings.interval` is the
/// interval it starts with).
pub(crate) fn run(
    collector: Box<dyn Collector>,
    options: Options,
    settings: Settings,
    theme: &Theme,
) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel();
    // Signals first: a SIGTERM that lands while the screen is being set up must still restore it.
    let signal_tx = tx.clone();
    crate::collect::signals::listen(true, move |arrived| {
        let _ = signal_tx.send(match arrived {
            Arrived::Terminate => Event::Signal,
            Arrived::Suspend => Event::Suspend,
            Arrived::Continue => Event::Continue,
        });
    })?;
    let mut screen = terminal::Screen::enter()?;
    terminal::spawn_input_reader(tx.clone())?;
    let outcome = session(
        &mut screen.terminal,
        collector,
        Os::system(),
        &mut terminal::RealJobControl,
        Start {
            options,
            settings,
            theme,
        },
        (tx, &rx),
    );
    screen.leave();
    outcome
}

/// How a session starts.
struct Start<'t> {
    options: Options,
    settings: Settings,
    theme: &'t Theme,
}

/// One live-table session on any backend: the poller feeds `events` through `tx`, the loop
/// draws on `terminal` and performs effects through `os`.
fn session<B: Backend>(
    terminal: &mut Terminal<B>,
    collector: Box<dyn Collector>,
    os: Os,
    jobs: &mut dyn JobControl,
    start: Start,
    (tx, events): (Sender<Event>, &Receiver<Event>),
) -> anyhow::Result<()>
where
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let Start {
        options,
        settings,
        theme,
    } = start;
    let interval = settings.interval;
    let reports = tx.clone();
    let poller = poller::spawn(collector, interval, options.query, move |result| {
        // The loop may already be gone while a last collection finishes; nothing to do then.
        let _ = tx.send(Event::Collected(result));
    });
    // Without its collecting thread the table would sit there never changing: say so instead.
    anyhow::ensure!(
        poller.is_running(),
        "cannot start the collector thread: the system is out of threads or memory"
    );
    let mut app = App::with_settings(options.query, settings).read_only(options.read_only);
    let mut runtime = Runtime::new(&poller, os, options.query, options.read_only, reports);
    event_loop::run(terminal, &mut app, events, &mut runtime, jobs, theme)
}
