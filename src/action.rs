//! What can happen to the app (Action) and what the app asks the runtime to do (Effect).

use std::time::Duration;

use crate::collect::Query;
use crate::history::Stamp;
use crate::model::Snapshot;
use crate::sort::Column;

/// Something that happened: a key, a click, a new snapshot. Fed to `App::update`.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
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
    /// Sort by the next column (`s`).
    SortNext,
    /// Reverse the sort direction (`S`).
    SortReverse,
    /// Sort by this column; choosing the current column again reverses it.
    SortBy(Column),
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
    /// The table body can show this many rows.
    Viewport(usize),
    Snapshot(Snapshot),
    CollectFailed(String),
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

/// Work the runtime must do on the app's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Collect with this query from now on (and right away).
    SetQuery(Query),
    /// Collect at this interval from now on.
    SetInterval(Duration),
    Quit,
}
