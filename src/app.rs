//! All UI state, changed only by [`App::update`]: pure, no I/O, no clock.

use std::fmt::Write as _;

use crate::action::{Action, Effect};
use crate::collect::Query;
use crate::model::{Snapshot, Socket, SocketKey};
use crate::sort::SortSpec;

/// Which screen has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Table,
    /// Typing into the filter.
    Filter,
    Help,
}

#[derive(Debug, Clone)]
pub struct App {
    snapshot: Snapshot,
    /// Indices into `snapshot.sockets` that pass the toggles and the filter, in sort order.
    rows: Vec<usize>,
    /// The selected row, by identity, so it survives refreshes and re-sorts.
    selected: Option<SocketKey>,
    /// First row shown in the table body.
    offset: usize,
    /// How many rows the table body can show.
    page: usize,
    sort: SortSpec,
    filter: String,
    mode: Mode,
    query: Query,
    /// The first snapshot has arrived.
    loaded: bool,
    /// The last collection failed with this message (cleared by the next success).
    error: Option<String>,
    quit: bool,
}

impl App {
    pub fn new(query: Query) -> Self {
        Self {
            snapshot: Snapshot::default(),
            rows: Vec::new(),
            selected: None,
            offset: 0,
            page: 10,
            sort: SortSpec::default(),
            filter: String::new(),
            mode: Mode::Table,
            query,
            loaded: false,
            error: None,
            quit: false,
        }
    }

    /// Applies one action; returns the side effect the runtime must perform, if any.
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        match action {
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-page_step(self.page)),
            Action::PageDown => self.move_by(page_step(self.page)),
            Action::Top => self.select_index(0),
            Action::Bottom => self.select_index(self.rows.len().saturating_sub(1)),
            Action::SelectVisible(n) => {
                if self.offset + n < self.rows.len() {
                    self.select_index(self.offset + n);
                }
            }
            Action::ScrollUp => self.move_by(-3),
            Action::ScrollDown => self.move_by(3),
            Action::SortNext => self.set_sort(SortSpec {
                column: self.sort.column.next(),
                descending: false,
            }),
            Action::SortReverse => self.set_sort(SortSpec {
                descending: !self.sort.descending,
                ..self.sort
            }),
            Action::SortBy(column) => self.set_sort(SortSpec {
                column,
                descending: column == self.sort.column && !self.sort.descending,
            }),
            Action::StartFilter => self.mode = Mode::Filter,
            Action::FilterChar(c) => {
                self.filter.push(c);
                self.rebuild();
            }
            Action::FilterBackspace => {
                self.filter.pop();
                self.rebuild();
            }
            Action::FilterDone | Action::Back => self.mode = Mode::Table,
            Action::ClearFilter => {
                self.filter.clear();
                self.mode = Mode::Table;
                self.rebuild();
            }
            Action::ToggleConnections => {
                self.query.connections = !self.query.connections;
                self.rebuild();
                return Some(Effect::SetQuery(self.query));
            }
            Action::ToggleAllAddresses => {
                self.query.all_addresses = !self.query.all_addresses;
                self.rebuild();
                return Some(Effect::SetQuery(self.query));
            }
            Action::ToggleHelp => {
                self.mode = if self.mode == Mode::Help {
                    Mode::Table
                } else {
                    Mode::Help
                };
            }
            Action::Quit => {
                self.quit = true;
                return Some(Effect::Quit);
            }
            Action::Viewport(rows) => {
                self.page = rows.max(1);
                self.scroll_to_selection();
            }
            Action::Snapshot(snapshot) => {
                self.snapshot = snapshot;
                self.loaded = true;
                self.error = None;
                self.rebuild();
            }
            Action::CollectFailed(message) => self.error = Some(message),
        }
        None
    }

    // ----- read access for ui/ -----

    pub fn mode(&self) -> Mode {
        self.mode
    }
    pub fn sort(&self) -> SortSpec {
        self.sort
    }
    pub fn filter(&self) -> &str {
        &self.filter
    }
    pub fn query(&self) -> Query {
        self.query
    }
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
    pub fn should_quit(&self) -> bool {
        self.quit
    }
    /// Rows passing toggles and filter.
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }
    /// First visible row's position among all rows.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The rows the table body shows right now, in order: only these are ever drawn.
    pub fn visible_rows(&self) -> impl Iterator<Item = &Socket> {
        let end = (self.offset + self.page).min(self.rows.len());
        self.rows[self.offset.min(end)..end]
            .iter()
            .map(|&i| &self.snapshot.sockets[i])
    }

    /// Position of the selection among the visible rows.
    pub fn selected_visible(&self) -> Option<usize> {
        self.selected_index()?.checked_sub(self.offset)
    }

    pub fn selected_socket(&self) -> Option<&Socket> {
        self.selected_index()
            .map(|i| &self.snapshot.sockets[self.rows[i]])
    }

    /// Sockets in the latest snapshot whose owners are hidden by permissions.
    pub fn hidden_owner_count(&self) -> usize {
        self.snapshot.hidden_owner_count()
    }

    // ----- internals -----

    fn selected_index(&self) -> Option<usize> {
        let key = self.selected?;
        self.rows
            .iter()
            .position(|&i| self.snapshot.sockets[i].key() == key)
    }

    fn set_sort(&mut self, sort: SortSpec) {
        self.sort = sort;
        self.rebuild();
    }

    /// Recomputes the visible rows after the data, toggles, filter or sort changed, keeping
    /// the selection on the same socket, or near its old position if that socket left.
    fn rebuild(&mut self) {
        let previous_index = self.selected_index_hint();
        let terms = filter_terms(&self.filter);
        let sockets = &self.snapshot.sockets;
        let mut rows: Vec<usize> = (0..sockets.len())
            .filter(|&i| {
                let s = &sockets[i];
                self.query.admits(s.scope, s.state, s.local_port) && matches_filter(s, &terms)
            })
            .collect();
        let sort = self.sort;
        rows.sort_by(|&a, &b| sort.compare(&sockets[a], &sockets[b]));
        self.rows = rows;
        if self.selected_index().is_none() {
            self.selected = if self.rows.is_empty() {
                None
            } else {
                let i = previous_index.min(self.rows.len() - 1);
                Some(self.snapshot.sockets[self.rows[i]].key())
            };
        }
        self.scroll_to_selection();
    }

    /// Where the selection was before a rebuild (the offset is a fine guess once it is gone).
    fn selected_index_hint(&self) -> usize {
        self.selected_index().unwrap_or(self.offset)
    }

    fn move_by(&mut self, delta: isize) {
        if self.rows.is_empty() {
            return;
        }
        let current = self.selected_index().unwrap_or(0);
        let target = current.saturating_add_signed(delta);
        self.select_index(target.min(self.rows.len() - 1));
    }

    fn select_index(&mut self, index: usize) {
        if let Some(&i) = self.rows.get(index) {
            self.selected = Some(self.snapshot.sockets[i].key());
            self.scroll_to_selection();
        }
    }

    /// Keeps the selection inside the visible window and the window inside the rows.
    fn scroll_to_selection(&mut self) {
        let max_offset = self.rows.len().saturating_sub(self.page);
        if let Some(index) = self.selected_index() {
            if index < self.offset {
                self.offset = index;
            } else if index >= self.offset + self.page {
                self.offset = index + 1 - self.page;
            }
        }
        self.offset = self.offset.min(max_offset);
    }
}

/// A page move keeps one row of context.
fn page_step(page: usize) -> isize {
    isize::try_from(page.saturating_sub(1).max(1)).unwrap_or(isize::MAX)
}

/// The filter's words, lower-cased; a row must match every one of them.
fn filter_terms(filter: &str) -> Vec<String> {
    filter.split_whitespace().map(str::to_lowercase).collect()
}

/// Whether each term appears in the row's port, address, process, pid, user or command line.
pub fn matches_filter(socket: &Socket, terms: &[String]) -> bool {
    if terms.is_empty() {
        return true;
    }
    let mut haystack = format!(
        "{} {} {} {} {}",
        socket.local_endpoint(),
        socket.proto,
        socket.state,
        socket.scope,
        socket.user_label()
    );
    if let Some((addr, port)) = socket.remote {
        haystack.push(' ');
        haystack.push_str(&crate::model::format_endpoint(addr, port));
    }
    for owner in &socket.owners {
        // Writing to a String cannot fail.
        let _ = write!(
            haystack,
            " {} {} {}",
            owner.key.pid, owner.name, owner.cmdline
        );
    }
    let haystack = haystack.to_lowercase();
    terms.iter().all(|t| haystack.contains(t.as_str()))
}
