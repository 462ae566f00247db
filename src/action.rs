//! What can happen to the app (Action) and what the app asks the runtime to do (Effect).

use crate::collect::Query;
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
}

/// Work the runtime must do on the app's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Collect with this query from now on (and right away).
    SetQuery(Query),
    Quit,
}
