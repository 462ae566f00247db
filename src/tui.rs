//! The only code that touches the terminal: it owns the screen, turns input into actions,
//! runs the effects the app asks for, and always gives the terminal back as it found it.

use std::io::{self, stdout};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use anyhow::Context as _;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent, KeyEventKind, MouseButton,
    MouseEvent, MouseEventKind,
};
use ratatui::crossterm::execute;
use ratatui::layout::Rect;

use crate::action::{Action, Effect};
use crate::app::{App, Settings};
use crate::collect::poller::{self, Poller};
use crate::collect::{CollectError, Collector, Query};
use crate::history::Stamp;
use crate::keymap;
use crate::model::Snapshot;
use crate::ui::theme::ThemeName;
use crate::ui::{self, Hit, Theme};

/// Everything the event loop waits for, from every thread, on one channel.
enum Event {
    Input(TermEvent),
    Collected(Result<Snapshot, CollectError>),
    /// SIGTERM, SIGHUP, SIGINT or SIGQUIT: leave cleanly.
    #[cfg_attr(not(unix), allow(dead_code))]
    Signal,
}

/// Runs the interactive table until the user quits or a terminating signal arrives.
pub fn run(collector: Box<dyn Collector>, interval: Duration, query: Query) -> anyhow::Result<()> {
    let settings = Settings {
        interval,
        ..Settings::default()
    };
    run_with(collector, query, settings, &theme(ThemeName::Default))
}

/// The named theme, without colours when `NO_COLOR` is set (to anything but empty).
pub fn theme(name: ThemeName) -> Theme {
    let theme = Theme::named(name);
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        theme.without_colour()
    } else {
        theme
    }
}

/// [`run`] with the settings and theme from the config file.
pub fn run_with(
    collector: Box<dyn Collector>,
    query: Query,
    settings: Settings,
    theme: &Theme,
) -> anyhow::Result<()> {
    let interval = settings.interval;
    let (tx, rx) = mpsc::channel();
    // Signals first: a SIGTERM that lands while the screen is being set up must still restore it.
    listen_for_signals(tx.clone())?;
    let mut screen = Screen::enter()?;
    spawn_input_reader(tx.clone())?;
    let poll_tx = tx;
    let poller = poller::spawn(collector, interval, query, move |result| {
        // The loop may already be gone while a last collection finishes; nothing to do then.
        let _ = poll_tx.send(Event::Collected(result));
    });
    let mut app = App::with_settings(query, settings);
    let outcome = event_loop(&mut screen.terminal, &mut app, &rx, &poller, theme);
    drop(poller);
    screen.leave();
    outcome
}

fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    events: &Receiver<Event>,
    poller: &Poller,
    theme: &Theme,
) -> anyhow::Result<()> {
    let mut area = screen_area(terminal)?;
    app.update(Action::Viewport(ui::table_body_rows(area)));
    loop {
        terminal.draw(|frame| ui::draw_with(frame, app, theme))?;
        let Some(first) = next_event(events, app)? else {
            // A highlight or a closed row is due to go.
            app.update(Action::Tick(Stamp::now()));
            continue;
        };
        // Handle everything already queued before drawing again: one frame per burst.
        for event in std::iter::once(first).chain(events.try_iter()) {
            let actions = match event {
                Event::Signal => vec![Action::Quit],
                // Stamped as it arrives, so its changes get the time they were seen.
                Event::Collected(Ok(snapshot)) => {
                    vec![Action::Tick(Stamp::now()), Action::Snapshot(snapshot)]
                }
                Event::Collected(Err(error)) => vec![Action::CollectFailed(error.to_string())],
                Event::Input(input) => actions_for_input(&input, app, &mut area),
            };
            for action in actions {
                match app.update(action) {
                    Some(Effect::SetQuery(query)) => poller.set_query(query),
                    Some(Effect::SetInterval(interval)) => poller.set_interval(interval),
                    Some(Effect::Quit) => return Ok(()),
                    None => {}
                }
            }
        }
    }
}

/// Waits for the next event, or until the app's next mark is due to expire (`None`).
fn next_event(events: &Receiver<Event>, app: &App) -> anyhow::Result<Option<Event>> {
    let Some(deadline) = app.next_deadline() else {
        return events.recv().map(Some).context("all event sources stopped");
    };
    let wait = deadline.since(Stamp::now());
    match events.recv_timeout(wait) {
        Ok(event) => Ok(Some(event)),
        Err(RecvTimeoutError::Timeout) => Ok(None),
        Err(RecvTimeoutError::Disconnected) => Err(anyhow::anyhow!("all event sources stopped")),
    }
}

/// Maps one terminal event to the actions it means in the app's current mode.
fn actions_for_input(input: &TermEvent, app: &App, area: &mut Rect) -> Vec<Action> {
    match input {
        // Windows also reports releases and repeats; one press is one action.
        TermEvent::Key(key) if key.kind == KeyEventKind::Press => keymap::key_of(*key)
            .and_then(|k| keymap::action_for(app.mode(), k))
            .into_iter()
            .collect(),
        TermEvent::Mouse(mouse) => action_for_mouse(*mouse, app, *area).into_iter().collect(),
        TermEvent::Resize(width, height) => {
            *area = Rect::new(0, 0, *width, *height);
            vec![Action::Viewport(ui::table_body_rows(*area))]
        }
        _ => Vec::new(),
    }
}

fn action_for_mouse(mouse: MouseEvent, app: &App, area: Rect) -> Option<Action> {
    match mouse.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            match ui::hit_test(area, app, mouse.column, mouse.row)? {
                Hit::Header(column) => Some(Action::SortBy(column)),
                Hit::Row(index) => Some(Action::SelectVisible(index)),
            }
        }
        MouseEventKind::ScrollUp => Some(Action::ScrollUp),
        MouseEventKind::ScrollDown => Some(Action::ScrollDown),
        _ => None,
    }
}

fn screen_area(terminal: &DefaultTerminal) -> io::Result<Rect> {
    let size = terminal.size()?;
    Ok(Rect::new(0, 0, size.width, size.height))
}

/// Reads terminal input on its own thread so the loop never blocks on the keyboard.
fn spawn_input_reader(tx: Sender<Event>) -> anyhow::Result<()> {
    thread::Builder::new()
        .name("input".into())
        .spawn(move || {
            while let Ok(input) = event::read() {
                if tx.send(Event::Input(input)).is_err() {
                    break;
                }
            }
        })
        .context("cannot start the input thread")?;
    Ok(())
}

#[cfg(unix)]
fn listen_for_signals(tx: Sender<Event>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT])
        .context("cannot install signal handlers")?;
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                let _ = tx.send(Event::Signal);
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}

#[cfg(not(unix))]
#[allow(clippy::unnecessary_wraps)]
fn listen_for_signals(_tx: Sender<Event>) -> anyhow::Result<()> {
    // Console close and Ctrl-C arrive as key events or end the process; nothing to install.
    Ok(())
}

/// The terminal in TUI mode: raw, alternate screen, mouse reported. Every way out (return,
/// error, panic) puts it back.
struct Screen {
    terminal: DefaultTerminal,
    active: bool,
}

impl Screen {
    fn enter() -> anyhow::Result<Self> {
        install_panic_restore();
        let terminal = ratatui::try_init().context("cannot set up the terminal")?;
        if let Err(error) = execute!(stdout(), EnableMouseCapture) {
            restore_terminal();
            return Err(error).context("cannot enable mouse reporting");
        }
        Ok(Self {
            terminal,
            active: true,
        })
    }

    fn leave(&mut self) {
        if self.active {
            self.active = false;
            restore_terminal();
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        self.leave();
    }
}

/// Undoes mouse capture, raw mode and the alternate screen. Safe to call more than once.
fn restore_terminal() {
    let _ = execute!(stdout(), DisableMouseCapture);
    ratatui::restore();
}

/// Restores the terminal before a panic message is printed, so it is readable and the shell
/// is usable afterwards.
fn install_panic_restore() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fake::sample_snapshot;
    use crate::sort::Column;
    use ratatui::crossterm::event::KeyModifiers;

    fn mouse(kind: MouseEventKind, column: u16, row: u16) -> MouseEvent {
        MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }
    }

    fn loaded(area: Rect) -> App {
        let mut app = App::new(Query::default());
        app.update(Action::Viewport(ui::table_body_rows(area)));
        app.update(Action::Snapshot(sample_snapshot()));
        app
    }

    #[test]
    fn clicks_select_rows_sort_by_headers_and_the_wheel_scrolls() {
        let area = Rect::new(0, 0, 120, 30);
        let mut app = loaded(area);
        let left = MouseEventKind::Down(MouseButton::Left);
        // Row 4 of the body is the fifth row drawn (5432 in the sample).
        let click = action_for_mouse(mouse(left, 10, 6), &app, area);
        assert_eq!(click, Some(Action::SelectVisible(4)));
        app.update(click.unwrap());
        assert_eq!(app.selected_socket().unwrap().local_port, 5432);
        // The column titles are on line 1.
        let x = (0..120)
            .find(|&x| {
                matches!(
                    ui::hit_test(area, &app, x, 1),
                    Some(Hit::Header(Column::Process))
                )
            })
            .unwrap();
        assert_eq!(
            action_for_mouse(mouse(left, x, 1), &app, area),
            Some(Action::SortBy(Column::Process))
        );
        assert_eq!(
            action_for_mouse(mouse(MouseEventKind::ScrollDown, 0, 0), &app, area),
            Some(Action::ScrollDown)
        );
        assert_eq!(
            action_for_mouse(mouse(MouseEventKind::ScrollUp, 0, 0), &app, area),
            Some(Action::ScrollUp)
        );
        app.update(Action::ScrollDown);
        assert_eq!(app.selected_socket().unwrap().local_port, 9229);
        // A right click or a click on the footer does nothing.
        assert_eq!(
            action_for_mouse(
                mouse(MouseEventKind::Down(MouseButton::Right), 10, 6),
                &app,
                area
            ),
            None
        );
        assert_eq!(action_for_mouse(mouse(left, 10, 29), &app, area), None);
    }

    #[test]
    fn the_wheel_scrolls_the_history_and_the_explanation_too() {
        let area = Rect::new(0, 0, 80, 24);
        let mut app = loaded(area);
        app.update(Action::ToggleExplain);
        let wheel = action_for_mouse(mouse(MouseEventKind::ScrollDown, 5, 5), &app, area);
        app.update(wheel.unwrap());
        assert_eq!(app.explain_scroll(), 1);
        assert_eq!(
            action_for_mouse(
                mouse(MouseEventKind::Down(MouseButton::Left), 5, 5),
                &app,
                area
            ),
            None
        );
    }
}
