//! The only code that touches the terminal: it owns the screen, turns input into actions,
//! runs the effects the app asks for, and always gives the terminal back as it found it.

use std::collections::VecDeque;
use std::io::{self, stdout};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent, KeyEventKind, MouseButton,
    MouseEvent, MouseEventKind,
};
use ratatui::crossterm::execute;
use ratatui::layout::Rect;

use crate::app::action::{Action, Effect, Status};
use crate::app::{App, Mode, Settings};
use crate::collect::details::{DetailsSource as _, SysinfoDetails};
use crate::collect::poller::{self, Poller};
use crate::collect::Collector;
use crate::model::{CollectError, Query};
use crate::control::{self, SystemControl};
use crate::model::{Signal, Target};
use crate::domain::followup::{self, FollowUp, Outcome};
use crate::model::Stamp;
use crate::app::keymap;
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

/// What the live table starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub interval: Duration,
    pub query: Query,
    /// No signal can be sent from this session.
    pub read_only: bool,
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

/// Runs the interactive table until the user quits or a terminating signal arrives, with the
/// settings and theme from the config file (`settings.interval` is the interval it starts with).
pub fn run(
    collector: Box<dyn Collector>,
    options: Options,
    settings: Settings,
    theme: &Theme,
) -> anyhow::Result<()> {
    let options = Options {
        interval: settings.interval,
        ..options
    };
    let (tx, rx) = mpsc::channel();
    // Signals first: a SIGTERM that lands while the screen is being set up must still restore it.
    listen_for_signals(tx.clone())?;
    let mut screen = Screen::enter()?;
    spawn_input_reader(tx.clone())?;
    let poll_tx = tx;
    let poller = poller::spawn(collector, options.interval, options.query, move |result| {
        // The loop may already be gone while a last collection finishes; nothing to do then.
        let _ = poll_tx.send(Event::Collected(result));
    });
    let mut app = App::with_settings(options.query, settings).read_only(options.read_only);
    let mut runtime = Runtime::new(&poller, options);
    let outcome = event_loop(&mut screen.terminal, &mut app, &rx, &mut runtime, theme);
    drop(poller);
    screen.leave();
    outcome
}

/// While a signal is being followed up, look this often instead of waiting for the interval,
/// so "released after 0.4 s" is measured, not rounded to the next refresh.
const FOLLOW_UP_POLL: Duration = Duration::from_millis(150);
/// Past the patience and the settle time with room to spare: no outcome is pending any more.
const FOLLOW_UP_GIVE_UP: Duration = Duration::from_secs(10);

fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    events: &Receiver<Event>,
    runtime: &mut Runtime,
    theme: &Theme,
) -> anyhow::Result<()> {
    let mut area = screen_area(terminal)?;
    app.update(Action::Viewport(ui::table_body_rows(area)));
    // Nothing on screen reads a clock: only an action, or a wait that timed out (a row mark
    // expired, a follow-up poll), can change it. The poller sends only snapshots that differ
    // from the last, and input that means nothing (mouse motion, key releases) is no action:
    // an idle table costs no frame.
    let mut changed = true;
    let mut dialog_was_shown = false;
    loop {
        if changed {
            terminal.draw(|frame| ui::draw_with(frame, app, theme))?;
            changed = false;
        }
        let dialog_shown = app.mode() == Mode::Confirm;
        // Keys typed before the stop dialog was on screen (type-ahead, a pasted "x\n") must
        // not answer it: only a key pressed while it is shown can.
        if dialog_shown && !dialog_was_shown && drop_queued_input(events, app, runtime) {
            return Ok(());
        }
        dialog_was_shown = dialog_shown;
        let Some(first) = next_event(events, app, runtime)? else {
            changed = true;
            continue;
        };
        // Handle everything already queued before drawing again: one frame per burst, except
        // that the stop dialog is drawn as soon as it opens (the rest stays queued).
        for event in std::iter::once(first).chain(events.try_iter()) {
            let was_confirming = app.mode() == Mode::Confirm;
            let actions = match event {
                Event::Signal => vec![Action::Quit],
                // Stamped as it arrives, so its changes get the time they were seen.
                Event::Collected(Ok(snapshot)) => {
                    vec![Action::Tick(Stamp::now()), Action::Snapshot(snapshot)]
                }
                Event::Collected(Err(error)) => vec![Action::CollectFailed(error.to_string())],
                Event::Input(input) => actions_for_input(&input, app, &mut area),
            };
            changed |= !actions.is_empty();
            let mut queue: VecDeque<Action> = actions.into();
            while let Some(action) = queue.pop_front() {
                let is_snapshot = matches!(action, Action::Snapshot(_));
                match app.update(action) {
                    Some(Effect::Quit) => return Ok(()),
                    Some(effect) => queue.extend(runtime.perform(effect)),
                    None => {}
                }
                if is_snapshot {
                    queue.extend(runtime.follow_up(app));
                }
            }
            runtime.sync_query(app);
            if app.mode() == Mode::Confirm && !was_confirming {
                break;
            }
        }
    }
}

/// Handles what is queued except terminal input, which is dropped: it was typed before the
/// dialog now on screen could be seen. Returns true when a terminating signal asks to quit.
fn drop_queued_input(events: &Receiver<Event>, app: &mut App, runtime: &mut Runtime) -> bool {
    let queued: Vec<Event> = events.try_iter().collect();
    for event in queued {
        let actions = match event {
            Event::Input(_) => continue,
            Event::Signal => return true,
            Event::Collected(Ok(snapshot)) => {
                vec![Action::Tick(Stamp::now()), Action::Snapshot(snapshot)]
            }
            Event::Collected(Err(error)) => vec![Action::CollectFailed(error.to_string())],
        };
        for action in actions {
            if let Some(effect) = app.update(action) {
                for reply in runtime.perform(effect) {
                    app.update(reply);
                }
            }
        }
    }
    false
}

/// The runtime's side of the app's effects: collecting, reading process details, signalling.
struct Runtime<'p> {
    poller: &'p Poller,
    /// The query the poller was last given.
    query: Query,
    /// Opened on first use: most sessions never inspect anything.
    details: Option<SysinfoDetails>,
    /// `None` in read-only mode: there is no way to signal at all.
    control: Option<SystemControl>,
    read_only: bool,
    follow_up: Option<(FollowUp, Instant, Signal)>,
    /// When the poller was last asked for a follow-up snapshot.
    last_poll: Instant,
}

impl<'p> Runtime<'p> {
    fn new(poller: &'p Poller, options: Options) -> Self {
        Self {
            poller,
            query: options.query,
            details: None,
            control: None,
            read_only: options.read_only,
            follow_up: None,
            last_poll: Instant::now(),
        }
    }

    /// While following up, asks the poller for a fresh snapshot every [`FOLLOW_UP_POLL`];
    /// returns how long until the next ask. Gives up once no answer could still matter.
    fn poll_follow_up(&mut self) -> Option<Duration> {
        let (_, sent_at, _) = self.follow_up.as_ref()?;
        if sent_at.elapsed() > FOLLOW_UP_GIVE_UP {
            // Snapshots stopped coming (collection keeps failing): the status keeps its last word.
            self.follow_up = None;
            return None;
        }
        let since = self.last_poll.elapsed();
        if since >= FOLLOW_UP_POLL {
            self.poller.refresh_now();
            self.last_poll = Instant::now();
            return Some(FOLLOW_UP_POLL);
        }
        Some(FOLLOW_UP_POLL.saturating_sub(since))
    }

    /// Performs one effect; returns the actions that report its result.
    fn perform(&mut self, effect: Effect) -> Vec<Action> {
        match effect {
            Effect::SetQuery(query) => {
                self.query = query;
                self.poller.set_query(query);
                Vec::new()
            }
            Effect::Describe(key) => match self.details() {
                Ok(details) => vec![Action::Details(key, Box::new(details.details(key)))],
                Err(error) => vec![Action::Status(Status::error(error))],
            },
            Effect::Signal {
                target,
                signal,
                port,
            } => vec![Action::Status(self.signal(&target, signal, port))],
            Effect::SetInterval(interval) => {
                self.poller.set_interval(interval);
                Vec::new()
            }
            Effect::Quit => Vec::new(),
        }
    }

    fn details(&mut self) -> Result<&mut SysinfoDetails, String> {
        if self.details.is_none() {
            self.details = Some(
                SysinfoDetails::new().map_err(|e| format!("cannot read process details: {e}"))?,
            );
        }
        self.details
            .as_mut()
            .ok_or_else(|| "cannot read process details".to_string())
    }

    fn signal(&mut self, target: &Target, signal: Signal, port: u16) -> Status {
        if self.read_only {
            return Status::error("stopping processes is disabled: loopwatch runs read-only");
        }
        if self.control.is_none() {
            match SystemControl::new() {
                Ok(control) => self.control = Some(control),
                Err(error) => return Status::error(format!("cannot signal: {error}")),
            }
        }
        // The table's owner cache can lag a moment behind a process that let go of a shared
        // socket; read the port afresh (as `loopwatch kill` does) before signalling anyone.
        let fresh = match port_now(port) {
            Ok(snapshot) => snapshot,
            Err(error) => return Status::error(format!("{error}; nothing was sent")),
        };
        let still_holds = fresh
            .sockets
            .iter()
            .any(|s| s.owners.iter().any(|o| o.key == target.key));
        if !still_holds {
            return Status::error(format!(
                "{} no longer holds port {port}; nothing was sent",
                target.label()
            ));
        }
        let Some(control) = self.control.as_mut() else {
            return Status::error("cannot signal");
        };
        match control::send(control, target, signal, std::process::id()) {
            Ok(sent) => {
                let follow_up = FollowUp::new(
                    port,
                    vec![target.clone()],
                    &fresh,
                    followup::DEFAULT_PATIENCE,
                    followup::SETTLE,
                );
                // A client's end has no port to watch: whether it comes free says nothing.
                let Some(follow_up) = follow_up else {
                    return Status::info(sent.message());
                };
                self.follow_up = Some((follow_up, Instant::now(), signal));
                self.poller.refresh_now();
                Status::info(format!("{}; watching port {port}…", sent.message()))
            }
            Err(error) => Status::error(error.to_string()),
        }
    }

    /// Judges the newest snapshot for the signal being followed up, if any.
    fn follow_up(&mut self, app: &App) -> Option<Action> {
        let (follow_up, sent_at, signal) = self.follow_up.as_mut()?;
        let signal = *signal;
        let outcome = follow_up.observe(app.latest(), sent_at.elapsed());
        if follow_up.is_done() {
            self.follow_up = None;
        }
        let outcome = outcome?;
        let parent = outcome
            .new_owner()
            .and_then(|pid| self.details().ok()?.parent(pid));
        let mut text = outcome.message(parent.as_ref().map(|p| (p.name.as_str(), p.pid)));
        Some(Action::Status(match outcome {
            Outcome::Released { .. } => Status::info(text),
            Outcome::StillHeld {
                target_still_holds, ..
            } => {
                if target_still_holds && signal != Signal::Kill {
                    text.push_str(": press X to force");
                }
                Status::error(text)
            }
            Outcome::Rebound { .. } | Outcome::Reopened { .. } => Status::error(text),
        }))
    }

    /// Inspecting widens what is collected (connections); keep the poller in step.
    fn sync_query(&mut self, app: &App) {
        let wanted = app.collection_query();
        if wanted != self.query {
            self.query = wanted;
            self.poller.set_query(wanted);
        }
    }
}

/// Waits for the next event. A wait that times out does its own work and gives `None`: a row
/// mark that is due to expire becomes a Tick, and while a signal is followed up the poller is
/// asked to look again.
fn next_event(
    events: &Receiver<Event>,
    app: &mut App,
    runtime: &mut Runtime,
) -> anyhow::Result<Option<Event>> {
    let mark_due = app.next_deadline().map(|d| d.since(Stamp::now()));
    // On a deadline, not only when idle: steady input must not starve the follow-up.
    let follow_up = runtime.poll_follow_up();
    let wait = match (mark_due, follow_up) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let Some(wait) = wait else {
        return events.recv().map(Some).context("all event sources stopped");
    };
    match events.recv_timeout(wait) {
        Ok(event) => Ok(Some(event)),
        Err(RecvTimeoutError::Timeout) => {
            runtime.poll_follow_up();
            if app
                .next_deadline()
                .is_some_and(|d| d.since(Stamp::now()).is_zero())
            {
                app.update(Action::Tick(Stamp::now()));
            }
            Ok(None)
        }
        Err(RecvTimeoutError::Disconnected) => Err(anyhow::anyhow!("all event sources stopped")),
    }
}

/// Every socket on `port` with all of its owners, read afresh (no owner cache).
fn port_now(port: u16) -> Result<Snapshot, CollectError> {
    crate::collect::system_collector()?.collect(&Query::port(port))
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
    use crate::domain::sort::Column;
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
