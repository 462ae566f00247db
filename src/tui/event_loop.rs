//! The event loop: events from every thread in, one frame per burst out. Generic over ratatui's
//! `Backend`, so tests run it on a `TestBackend`.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, RecvTimeoutError};

use anyhow::Context as _;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{
    Event as TermEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;

use super::runtime::Runtime;
use crate::app::action::{Action, Effect};
use crate::app::{App, Mode, keymap};
use crate::model::{CollectError, Snapshot, Stamp};
use crate::ui::{self, Hit, Theme};

/// Everything the event loop waits for, from every thread, on one channel.
pub(crate) enum Event {
    Input(TermEvent),
    Collected(Result<Snapshot, CollectError>),
    /// SIGTERM, SIGHUP, SIGINT or SIGQUIT: leave cleanly.
    #[cfg_attr(not(unix), allow(dead_code))]
    Signal,
    /// A thread that feeds the loop cannot go on: leave, and say why.
    Failed(anyhow::Error),
    /// SIGTSTP: step aside as for `Ctrl-Z`.
    #[cfg_attr(not(unix), allow(dead_code))]
    Suspend,
    /// SIGCONT: running again after a stop; take the screen back and draw it whole.
    #[cfg_attr(not(unix), allow(dead_code))]
    Continue,
    /// A worker thread's answer (a container stop), as the action it means.
    Reported(Action),
}

/// The terminal's side of job control: giving the screen back before a stop and taking it
/// again after, so the shell is usable while loopwatch is stopped and the table is whole when
/// it comes back.
pub(crate) trait JobControl {
    /// Restores the terminal, stops this process, and takes the screen again once continued.
    fn suspend(&mut self) -> anyhow::Result<()>;
    /// Takes the screen again (raw mode, alternate screen, mouse) and clears it; harmless when
    /// it has it.
    fn resume(&mut self) -> anyhow::Result<()>;
    /// Drops whatever was typed and not yet read: keys typed before the dialog was on screen.
    fn discard_typeahead(&mut self);
}

/// Runs until the user quits or a terminating signal arrives.
pub(crate) fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    events: &Receiver<Event>,
    runtime: &mut Runtime,
    jobs: &mut dyn JobControl,
    theme: &Theme,
) -> anyhow::Result<()>
where
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let size = terminal.size().context("cannot read the terminal size")?;
    let mut area = Rect::new(0, 0, size.width, size.height);
    let measured = ui::viewport(area, app);
    app.update(Action::Viewport(measured));
    // Nothing on screen reads a clock: only an action, or a wait that timed out (a row mark
    // expired, a follow-up poll), can change it. The poller sends only snapshots that differ
    // from the last, and input that means nothing (mouse motion, key releases) is no action:
    // an idle table costs no frame.
    let mut changed = true;
    let mut dialog_was_shown = false;
    loop {
        // Keys typed before the stop dialog was on screen (type-ahead, a pasted "x\n", keys
        // typed while stopped) must not answer it. They are dropped before the dialog is drawn,
        // so every key read after the draw was pressed while it was shown.
        if app.mode() == Mode::Confirm && !dialog_was_shown {
            jobs.discard_typeahead();
            let queued: Vec<Event> = events.try_iter().collect();
            for event in queued {
                if matches!(event, Event::Input(_)) {
                    continue;
                }
                if let Event::Failed(error) = event {
                    return Err(error);
                }
                if handle(event, app, runtime, &mut area) == Flow::Quit {
                    return Ok(());
                }
            }
            changed = true;
        }
        dialog_was_shown = app.mode() == Mode::Confirm;
        if changed {
            terminal
                .draw(|frame| ui::draw_with(frame, app, theme))
                .context("cannot draw")?;
            changed = false;
            // The columns just drawn are the ones keys `1`-`9` pick: the layout that drew them
            // tells the app (it draws nothing, the sizes are unchanged).
            let drawn = ui::viewport(area, app);
            if drawn != app.viewport() {
                app.update(Action::Viewport(drawn));
            }
        }
        let Some(first) = next_event(events, app, runtime)? else {
            changed = true;
            continue;
        };
        // Handle everything already queued before drawing again: one frame per burst, except
        // that the stop dialog is drawn as soon as it opens (the rest stays queued).
        for event in std::iter::once(first).chain(events.try_iter()) {
            let was_confirming = app.mode() == Mode::Confirm;
            if let Event::Failed(error) = event {
                return Err(error);
            }
            let flow = if matches!(event, Event::Continue) {
                Flow::Resume
            } else {
                handle(event, app, runtime, &mut area)
            };
            match flow {
                Flow::Quit => return Ok(()),
                Flow::Changed => changed = true,
                Flow::Unchanged => {}
                Flow::Suspend | Flow::Resume => {
                    if flow == Flow::Suspend {
                        jobs.suspend()?;
                    } else {
                        jobs.resume()?;
                    }
                    // The screen was cleared on the way back: forget the last frame so the next
                    // draws every cell. (`Terminal::clear` would ask the terminal where its
                    // cursor is, racing the input thread for the answer.)
                    terminal.swap_buffers();
                    // A resize while stopped went to the shell: read the size afresh, so a
                    // dialog that no longer fits is closed rather than answered blind.
                    let size = terminal.size().context("cannot read the terminal size")?;
                    let resized = Event::Input(TermEvent::Resize(size.width, size.height));
                    if handle(resized, app, runtime, &mut area) == Flow::Quit {
                        return Ok(());
                    }
                    // The dialog is not on screen again until drawn: keys typed while stopped
                    // or before the redraw must not answer it.
                    dialog_was_shown = false;
                    changed = true;
                    break;
                }
            }
            if app.mode() == Mode::Confirm && !was_confirming {
                break;
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Quit,
    Changed,
    Unchanged,
    /// Step aside for the shell (`Ctrl-Z`, SIGTSTP).
    Suspend,
    /// Back after a stop.
    Resume,
}

/// Turns one event into actions, applies them and performs the effects they ask for.
fn handle(event: Event, app: &mut App, runtime: &mut Runtime, area: &mut Rect) -> Flow {
    let actions = actions_for(event, app, area);
    if actions.is_empty() {
        return Flow::Unchanged;
    }
    let mut queue: VecDeque<Action> = actions.into();
    while let Some(action) = queue.pop_front() {
        let is_snapshot = matches!(action, Action::Snapshot(_));
        match app.update(action) {
            Some(Effect::Quit) => return Flow::Quit,
            Some(Effect::Suspend) => return Flow::Suspend,
            Some(effect) => queue.extend(runtime.perform(effect)),
            None => {}
        }
        if is_snapshot {
            queue.extend(runtime.follow_up(app));
        }
    }
    runtime.sync_query(app);
    runtime.sync_held(app);
    Flow::Changed
}

/// What one event means in the app's current mode.
fn actions_for(event: Event, app: &App, area: &mut Rect) -> Vec<Action> {
    match event {
        Event::Signal => vec![Action::Quit],
        Event::Suspend => vec![Action::Suspend],
        // Stamped as it arrives, so its changes get the time they were seen.
        Event::Collected(Ok(snapshot)) => {
            vec![Action::Tick(Stamp::now()), Action::Snapshot(snapshot)]
        }
        Event::Collected(Err(error)) => vec![Action::CollectFailed(error)],
        Event::Input(input) => actions_for_input(&input, app, area),
        Event::Reported(action) => vec![action],
        // Handled before they get here: the loop ends with the error, or takes the screen back.
        Event::Failed(_) | Event::Continue => Vec::new(),
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

/// Maps one terminal event to the actions it means in the app's current mode.
///
/// Nothing the user cannot see can be answered: while the screen is too small to draw, every
/// key but quit is inert, and a stop dialog that does not fit whole is closed unanswered.
fn actions_for_input(input: &TermEvent, app: &App, area: &mut Rect) -> Vec<Action> {
    match input {
        // Windows also reports releases and repeats; one press is one action.
        TermEvent::Key(key) if key.kind == KeyEventKind::Press => {
            let Some(action) = keymap::key_of(*key).and_then(|k| keymap::action_for(app.mode(), k))
            else {
                return Vec::new();
            };
            if matches!(action, Action::Quit | Action::Suspend) {
                vec![action]
            } else if !ui::dialog_fits(*area, app) {
                vec![Action::CancelUnseen]
            } else if ui::viewport(*area, app).rows == 0 {
                Vec::new()
            } else {
                vec![action]
            }
        }
        TermEvent::Mouse(mouse) => action_for_mouse(*mouse, app, *area).into_iter().collect(),
        TermEvent::Resize(width, height) => {
            *area = Rect::new(0, 0, *width, *height);
            let mut actions = vec![Action::Viewport(ui::viewport(*area, app))];
            if !ui::dialog_fits(*area, app) {
                actions.push(Action::CancelUnseen);
            }
            actions
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sort::Column;
    use crate::model::Query;
    use crate::model::fixtures::sample_snapshot;
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
        let measured = ui::viewport(area, &app);
        app.update(Action::Viewport(measured));
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
        // Short enough that the explanation does not fit.
        let area = Rect::new(0, 0, 60, 12);
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
