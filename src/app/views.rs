//! Keys inside the inspect, history, explain and help views: scrolling, their own filter,
//! leaving.

use super::{App, Mode, View};
use crate::app::action::{Action, Effect};
use crate::domain::inspect;

/// More lines than the help overlay will ever have.
const HELP_SCROLL_MAX: usize = 100;

impl App {
    /// The inspect, history and explain views take the keys they know; `Err` hands the rest
    /// back.
    pub(super) fn update_in_view(&mut self, action: Action) -> Result<Option<Effect>, Action> {
        let page = self.table.page.max(1);
        let inspect_end = self.inspect_end();
        match (&mut self.view, action) {
            (
                View::Inspect(inspected),
                action @ (Action::Up | Action::Down | Action::ScrollUp | Action::ScrollDown),
            ) => {
                inspected.scroll = match action {
                    Action::Up | Action::ScrollUp => inspected.scroll.saturating_sub(1),
                    _ => (inspected.scroll + 1).min(inspect_end),
                };
                Ok(None)
            }
            (
                View::Help { scroll },
                action @ (Action::Up | Action::Down | Action::PageUp | Action::PageDown),
            ) => {
                // The overlay clamps what it cannot show; this only bounds the count.
                *scroll = match action {
                    Action::Up => scroll.saturating_sub(1),
                    Action::PageUp => scroll.saturating_sub(page),
                    Action::Down => (*scroll + 1).min(HELP_SCROLL_MAX),
                    _ => (*scroll + page).min(HELP_SCROLL_MAX),
                };
                Ok(None)
            }
            (View::History | View::HistoryFilter, action) => self.update_history(action),
            (View::Explain { .. }, action) => self.update_explain(action),
            (_, action) => Err(action),
        }
    }

    /// Keys while the history is open; `Err` hands the action back to the table's handling.
    fn update_history(&mut self, action: Action) -> Result<Option<Effect>, Action> {
        let typing = self.mode() == Mode::HistoryFilter;
        let page = self.table.page.max(1);
        match action {
            Action::FilterChar(c) if typing => {
                self.history.filter.push(c);
                self.history.back = 0;
            }
            Action::FilterBackspace if typing => {
                self.history.filter.pop();
            }
            Action::FilterDone => self.view = View::History,
            Action::ClearFilter => {
                self.history.filter.clear();
                self.view = View::History;
            }
            Action::StartFilter => self.view = View::HistoryFilter,
            Action::Up | Action::ScrollUp => self.scroll_history(1),
            Action::Down | Action::ScrollDown => self.scroll_history(-1),
            Action::PageUp => self.scroll_history(isize::try_from(page).unwrap_or(1)),
            Action::PageDown => self.scroll_history(-isize::try_from(page).unwrap_or(1)),
            Action::Top => self.history.back = usize::MAX,
            Action::Bottom => self.history.back = 0,
            Action::ToggleHistory | Action::Back => self.view = View::Table,
            other => return Err(other),
        }
        self.clamp_history();
        Ok(None)
    }

    /// The inspect view scrolls until its last line is at the top, as it draws.
    fn inspect_end(&self) -> usize {
        self.inspected().map_or(0, |inspected| {
            inspect::page(
                &self.inspect_subject(inspected),
                self.viewport.inspect_width,
            )
            .len()
            .saturating_sub(1)
        })
    }

    /// After the terminal changed size, no view is scrolled past its new end: one key back
    /// always moves it.
    pub(super) fn clamp_scrolls(&mut self) {
        let (inspect_end, explain_end) = (self.inspect_end(), self.explain_max_scroll());
        match &mut self.view {
            View::Inspect(inspected) => inspected.scroll = inspected.scroll.min(inspect_end),
            View::Explain { scroll, .. } => *scroll = (*scroll).min(explain_end),
            _ => {}
        }
    }

    /// How far the explanation can scroll: its lines as the view lays them out, past the
    /// height of its area.
    fn explain_max_scroll(&self) -> usize {
        let lines: usize = self.explanation().map_or(0, |(e, closed)| {
            e.view_lines(self.viewport.explain_width).len() + usize::from(closed)
        });
        // The explanation's area is one line taller than the table body.
        lines.saturating_sub(self.table.page + 1)
    }

    fn scroll_history(&mut self, back: isize) {
        self.history.back = self.history.back.saturating_add_signed(back);
    }

    fn clamp_history(&mut self) {
        let max = self.history_lines().count().saturating_sub(self.table.page);
        self.history.back = self.history.back.min(max);
    }

    /// Keys while an explanation is open.
    fn update_explain(&mut self, action: Action) -> Result<Option<Effect>, Action> {
        let current = self.explain_scroll();
        let scroll = match action {
            Action::Up | Action::ScrollUp => current.saturating_sub(1),
            Action::Down | Action::ScrollDown => (current + 1).min(self.explain_max_scroll()),
            Action::PageUp => current.saturating_sub(self.table.page),
            Action::PageDown => (current + self.table.page).min(self.explain_max_scroll()),
            Action::Top => 0,
            Action::ToggleExplain | Action::Back => {
                self.view = View::Table;
                return Ok(None);
            }
            other => return Err(other),
        };
        if let View::Explain { scroll: shown, .. } = &mut self.view {
            *shown = scroll;
        }
        Ok(None)
    }
}
