//! What can happen to the app (Action) and what the app asks the runtime to do (Effect).

use std::sync::Arc;
use std::time::Duration;

use crate::domain::followup::FollowUp;
use crate::domain::sort::Column;
use crate::model::Query;
use crate::model::Stamp;
use crate::model::{CollectError, ProcKey, Snapshot};
use crate::model::{Container, ContainerStopped};
use crate::model::{DetailsError, ProcessDetails};
use crate::model::{Signal, Target};

/// Something that happened: a key, a click, a new snapshot. Fed to `App::update`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// A click on the n-th row currently visible in the table body.
    SelectVisible(usize),
    ScrollUp,
    ScrollDown,
    /// Half a page down or up (`Ctrl-D`, `Ctrl-U`).
    HalfPageDown,
    HalfPageUp,
    /// Scroll the selected row's command line (`→`, `←`).
    CommandRight,
    CommandLeft,
    /// Sort by the next column (`s`).
    SortNext,
    /// Reverse the sort direction (`S`).
    SortReverse,
    /// Sort by this column; choosing the current column again reverses it.
    SortBy(Column),
    /// Sort by the n-th column on screen, counted from 1 (`1`-`9`).
    SortByPosition(usize),
    StartFilter,
    FilterChar(char),
    FilterBackspace,
    /// Keep the filter and go back to the table (`Enter` while typing).
    FilterDone,
    /// Drop the filter (`Esc`).
    ClearFilter,
    ToggleConnections,
    ToggleAllAddresses,
    ToggleHelp,
    /// Close whatever overlay is open (`Esc`).
    Back,
    Quit,
    /// Give the terminal back and stop until `fg` (`Ctrl-Z`).
    Suspend,
    /// Open the inspect view of the selected row's owner (`Enter`).
    Inspect,
    /// In the inspect view of a shared socket, look at the next process holding it (`Tab`).
    NextHolder,
    /// Ask to send this signal to the owner of the selected (or inspected) socket.
    Kill(Signal),
    /// Yes in the stop dialog.
    ConfirmKill,
    /// No in the stop dialog.
    CancelKill,
    /// The stop dialog cannot be read whole on this terminal (it was resized, or a key came
    /// while it did not fit): it closes, and nothing is sent.
    CancelUnseen,
    /// Details of a process, read because the app asked with [`Effect::Describe`].
    Details(ProcKey, Box<Result<ProcessDetails, DetailsError>>),
    /// The engine answered a confirmed container stop.
    ContainerStopped {
        container: Arc<Container>,
        outcome: ContainerStopped,
    },
    /// A line for the status bar: the outcome of a signal, its follow-up, a refusal.
    Status(Status),
    /// The terminal's layout changed: how many rows and columns the views have.
    Viewport(Viewport),
    Snapshot(Snapshot),
    CollectFailed(CollectError),
    /// The time is now this: highlights and closed rows past their time go. The runtime sends
    /// one before every snapshot and when the next of them is due.
    Tick(Stamp),
    /// Freeze the table (`p`); changes are still recorded in the history.
    TogglePause,
    /// Refresh less often (`+`).
    SlowerRefresh,
    /// Refresh more often (`-`).
    FasterRefresh,
    /// Open or close the history of changes (`h`).
    ToggleHistory,
    /// Open or close the explanation of the selected row (`e`).
    ToggleExplain,
    /// Group the table by process, or not (`v`).
    ToggleGrouped,
}

/// What the screen's layout gives each view, measured by `ui` from the terminal size: the app
/// scrolls by it and never guesses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Viewport {
    /// Rows of the table body.
    pub(crate) rows: usize,
    /// Columns of the explanation's text.
    pub(crate) explain_width: usize,
    /// Columns inside the inspect view's border.
    pub(crate) inspect_width: usize,
    /// The sortable columns the table shows at this size, in screen order.
    pub(crate) columns: Shown,
}

/// Sortable columns in the order the screen shows them: what keys `1`-`9` pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shown {
    /// By place on screen; `None` at a place whose column cannot be sorted (REMOTE).
    columns: [Option<Column>; Column::ALL.len()],
    /// How many columns the screen shows, sortable or not.
    on_screen: usize,
}

impl Shown {
    /// No column (a screen too small for the table).
    pub(crate) const NONE: Shown = Shown {
        columns: [None; Column::ALL.len()],
        on_screen: 0,
    };

    /// What the grouped view's titles name: protocol, local address, state, scope, and the
    /// remote end, which is not sorted by.
    pub(crate) const GROUPED: Shown = Shown {
        columns: [
            Some(Column::Proto),
            Some(Column::Address),
            Some(Column::State),
            Some(Column::Scope),
            None,
            None,
            None,
            None,
            None,
        ],
        on_screen: 5,
    };

    /// These columns, in this order (any past the ninth are left out).
    pub(crate) fn new(columns: impl IntoIterator<Item = Column>) -> Self {
        Self::placed(columns.into_iter().map(Some))
    }

    /// The columns as placed on screen, `None` for one that cannot be sorted.
    pub(crate) fn placed(slots: impl IntoIterator<Item = Option<Column>>) -> Self {
        let mut shown = Self::NONE;
        for slot in slots {
            if let Some(place) = shown.columns.get_mut(shown.on_screen) {
                *place = slot;
            }
            shown.on_screen += 1;
        }
        shown
    }

    /// How many columns the screen shows, sortable or not.
    pub(crate) fn on_screen(self) -> usize {
        self.on_screen
    }

    /// The column at `position` on screen, counted from 1.
    pub(crate) fn at(self, position: usize) -> Option<Column> {
        self.columns
            .get(position.checked_sub(1)?)
            .copied()
            .flatten()
    }

    pub(crate) fn contains(self, column: Column) -> bool {
        self.columns.contains(&Some(column))
    }
}

impl Viewport {
    /// `rows` table rows on an 80-column terminal (for tests and benchmarks).
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn rows(rows: usize) -> Self {
        Self {
            rows,
            explain_width: 80,
            inspect_width: 78,
            columns: Shown::new(Column::ALL),
        }
    }
}

/// A status-bar message and whether it reports a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Status {
    pub(crate) text: String,
    pub(crate) is_error: bool,
}

impl Status {
    pub(crate) fn info(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            is_error: false,
        }
    }

    pub(crate) fn error(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            is_error: true,
        }
    }
}

/// Work the runtime must do on the app's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Collect with this query from now on (and right away).
    SetQuery(Query),
    /// Collect at this interval from now on.
    SetInterval(Duration),
    /// Read this process's details and answer with [`Action::Details`].
    Describe(ProcKey),
    /// The user confirmed: send `signal` to `target` (if it is still that process), then follow
    /// up on `port`.
    Signal {
        target: Target,
        signal: Signal,
        port: u16,
        /// What stands behind the target will start it again: the port is watched longer
        /// after it comes free, so the restart is seen and named.
        restart_expected: bool,
    },
    /// The user confirmed: ask the engine to stop `container` (by its id), off the UI thread,
    /// and then follow up on the port with `follow_up`.
    StopContainer {
        container: Arc<Container>,
        follow_up: Box<FollowUp>,
    },
    /// The engine stopped the container: start the follow-up the stop was asked with.
    FollowStoppedContainer,
    Quit,
    /// Give the terminal back, stop, and take it again when continued.
    Suspend,
}
