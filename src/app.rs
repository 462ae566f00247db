//! All UI state, changed only by [`App::update`]: pure, no I/O, no clock.

use std::fmt::Write as _;

use crate::action::{Action, Effect, Status};
use crate::collect::Query;
use crate::collect::details::{DetailsError, ProcessDetails};
use crate::control::{Signal, Target};
use crate::model::{Owner, ProcKey, Snapshot, Socket, SocketKey};
use crate::sort::SortSpec;

/// Which screen has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Table,
    /// Typing into the filter.
    Filter,
    Help,
    /// The detail view of one socket and its owner.
    Inspect,
    /// The stop dialog: nothing is signalled until the user says yes.
    Confirm,
}

/// The socket being inspected. A copy is kept so the view still reads sensibly after the
/// socket closes.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspected {
    pub socket: Socket,
    /// Which of the socket's holders is shown (shared sockets have several).
    pub holder: usize,
    /// The socket was not in the latest snapshot.
    pub closed: bool,
    /// Lines scrolled off the top of the view.
    pub scroll: usize,
}

impl Inspected {
    pub fn owner(&self) -> Option<&Owner> {
        self.socket.owners.get(self.holder)
    }
}

/// A stop the user has asked for and not yet confirmed.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingKill {
    pub target: Target,
    pub signal: Signal,
    /// The row it was asked from: its port is the one followed up after the signal.
    pub socket: Socket,
    pub cmdline: String,
    /// The mode to return to when the dialog closes.
    pub from: Mode,
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
    /// The latest outcome to report (a signal sent, a port released, a refusal).
    status: Option<Status>,
    /// No signal can be sent: the stop keys only explain that they are disabled.
    read_only: bool,
    inspected: Option<Inspected>,
    pending_kill: Option<PendingKill>,
    /// The latest details read for a process (inspect view, stop dialog).
    details: Option<(ProcKey, Result<ProcessDetails, DetailsError>)>,
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
            status: None,
            read_only: false,
            inspected: None,
            pending_kill: None,
            details: None,
            quit: false,
        }
    }

    /// The same app with every stop path disabled (`--read-only`).
    #[must_use]
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Applies one action; returns the side effect the runtime must perform, if any.
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        match action {
            Action::Up | Action::Down | Action::ScrollUp | Action::ScrollDown
                if self.mode == Mode::Inspect =>
            {
                if let Some(inspected) = &mut self.inspected {
                    inspected.scroll = match action {
                        Action::Up | Action::ScrollUp => inspected.scroll.saturating_sub(1),
                        // The view has about 30 lines besides one per related socket.
                        _ => (inspected.scroll + 1).min(30 + self.snapshot.sockets.len()),
                    };
                }
            }
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
            Action::FilterDone | Action::Back => {
                self.mode = Mode::Table;
                self.inspected = None;
            }
            Action::ClearFilter => {
                self.filter.clear();
                self.status = None;
                self.mode = Mode::Table;
                self.rebuild();
            }
            Action::Inspect
            | Action::NextHolder
            | Action::Kill(_)
            | Action::ConfirmKill
            | Action::CancelKill
            | Action::Details(..) => return self.update_owner_view(action),
            Action::Status(status) => self.status = Some(status),
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
                // Where the selection is now, in case its socket is not in the new snapshot.
                let hint = self.selected_index_hint();
                self.snapshot = snapshot;
                self.loaded = true;
                self.error = None;
                self.rebuild_near(hint);
                return self.refresh_inspected();
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
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }
    pub fn inspected(&self) -> Option<&Inspected> {
        self.inspected.as_ref()
    }
    pub fn pending_kill(&self) -> Option<&PendingKill> {
        self.pending_kill.as_ref()
    }
    /// The latest details read for `key`, if they are for that process.
    pub fn details_of(&self, key: ProcKey) -> Option<&Result<ProcessDetails, DetailsError>> {
        self.details
            .as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, d)| d)
    }

    /// What the collector should gather: the user's query, widened to connections while a
    /// socket is inspected (its clients and the owner's other sockets are connection ends).
    pub fn collection_query(&self) -> Query {
        match self.mode {
            Mode::Inspect | Mode::Confirm => Query {
                connections: true,
                ..self.query
            },
            _ => self.query,
        }
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

    /// The inspect view and the stop dialog.
    fn update_owner_view(&mut self, action: Action) -> Option<Effect> {
        match action {
            Action::Inspect => self.inspect_selected(),
            Action::NextHolder => self.next_holder(),
            Action::Kill(signal) => self.ask_to_kill(signal),
            Action::ConfirmKill => self.confirm_kill(),
            Action::CancelKill => {
                let pending = self.pending_kill.take()?;
                self.mode = pending.from;
                self.status = Some(Status::info(format!(
                    "cancelled: nothing was sent to {}",
                    pending.target.label()
                )));
                None
            }
            Action::Details(key, details) => {
                let inspected = self.inspected.as_ref().and_then(Inspected::owner);
                let wanted = inspected.map(|o| o.key) == Some(key)
                    || self.pending_kill.as_ref().map(|p| p.target.key) == Some(key);
                if wanted {
                    self.details = Some((key, *details));
                }
                None
            }
            _ => None,
        }
    }

    fn inspect_selected(&mut self) -> Option<Effect> {
        let socket = self.selected_socket()?.clone();
        let owner = socket.primary_owner().map(|o| o.key);
        self.inspected = Some(Inspected {
            socket,
            holder: 0,
            closed: false,
            scroll: 0,
        });
        self.mode = Mode::Inspect;
        owner.map(Effect::Describe)
    }

    fn next_holder(&mut self) -> Option<Effect> {
        let inspected = self.inspected.as_mut()?;
        let holders = inspected.socket.owners.len();
        if holders < 2 {
            return None;
        }
        inspected.holder = (inspected.holder + 1) % holders;
        inspected.owner().map(|o| Effect::Describe(o.key))
    }

    /// Keeps the inspected socket current, or marks it closed; asks for fresh details (CPU,
    /// memory) while the inspect view is open.
    fn refresh_inspected(&mut self) -> Option<Effect> {
        let inspected = self.inspected.as_mut()?;
        let key = inspected.socket.key();
        match self.snapshot.sockets.iter().find(|s| s.key() == key) {
            Some(socket) => {
                inspected.socket = socket.clone();
                inspected.holder = inspected.holder.min(socket.owners.len().saturating_sub(1));
                inspected.closed = false;
            }
            None => inspected.closed = true,
        }
        if self.mode == Mode::Inspect {
            inspected.owner().map(|o| Effect::Describe(o.key))
        } else {
            None
        }
    }

    /// Opens the stop dialog for the owner of the inspected or selected socket.
    fn ask_to_kill(&mut self, signal: Signal) -> Option<Effect> {
        if self.read_only {
            self.status = Some(Status::error(
                "stopping processes is disabled: loopwatch runs read-only",
            ));
            return None;
        }
        let (socket, owner) = if let (Some(inspected), Mode::Inspect) = (&self.inspected, self.mode)
        {
            (inspected.socket.clone(), inspected.owner().cloned())
        } else {
            let socket = self.selected_socket()?.clone();
            let owner = socket.primary_owner().cloned();
            (socket, owner)
        };
        let Some(owner) = owner else {
            let reason = socket
                .unknown
                .map_or("its owner is unknown", |r| r.explain());
            self.status = Some(Status::error(format!(
                "cannot stop the owner of port {}: {reason}",
                socket.local_port
            )));
            return None;
        };
        let target = Target {
            key: owner.key,
            name: owner.name.clone(),
            user: owner.user.clone(),
        };
        self.pending_kill = Some(PendingKill {
            target,
            signal,
            socket,
            cmdline: owner.cmdline,
            from: self.mode,
        });
        self.mode = Mode::Confirm;
        Some(Effect::Describe(owner.key))
    }

    fn confirm_kill(&mut self) -> Option<Effect> {
        let pending = self.pending_kill.take()?;
        self.mode = pending.from;
        self.status = Some(Status::info(format!(
            "sending {} to {}...",
            pending.signal,
            pending.target.label()
        )));
        Some(Effect::Signal {
            target: pending.target,
            signal: pending.signal,
            port: pending.socket.local_port,
        })
    }

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
        self.rebuild_near(self.selected_index_hint());
    }

    /// [`App::rebuild`], falling back to row `previous_index` when the selected socket is gone.
    fn rebuild_near(&mut self, previous_index: usize) {
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

    /// Where the selection is (the offset is a fine guess when there is none).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fake::{listener, owner, sample_snapshot};
    use crate::model::SocketState;
    use crate::sort::Column;

    fn loaded(query: Query) -> App {
        let mut app = App::new(query);
        app.update(Action::Viewport(5));
        app.update(Action::Snapshot(sample_snapshot()));
        app
    }

    fn ports(app: &App) -> Vec<u16> {
        app.rows
            .iter()
            .map(|&i| app.snapshot.sockets[i].local_port)
            .collect()
    }

    fn selected_port(app: &App) -> Option<u16> {
        app.selected_socket().map(|s| s.local_port)
    }

    #[test]
    fn default_view_is_listeners_and_udp_sorted_by_port() {
        let app = loaded(Query::default());
        assert_eq!(
            ports(&app),
            vec![53, 5173, 5173, 5353, 5432, 6379, 8080, 9229]
        );
        assert!(app.visible_rows().all(|s| s.state.is_listening()));
        assert_eq!(selected_port(&app), Some(53), "first row selected");
        assert!(app.is_loaded());
    }

    #[test]
    fn toggling_connections_shows_them_and_asks_the_collector() {
        let mut app = loaded(Query::default());
        let effect = app.update(Action::ToggleConnections);
        assert_eq!(
            effect,
            Some(Effect::SetQuery(Query {
                connections: true,
                ..Query::default()
            }))
        );
        assert!(ports(&app).contains(&62893));
        assert!(ports(&app).contains(&41000), "TIME_WAIT rows are shown");
        app.update(Action::ToggleConnections);
        assert!(!ports(&app).contains(&62893));
    }

    #[test]
    fn selection_follows_the_socket_across_refresh_and_resort() {
        let mut app = loaded(Query::default());
        app.update(Action::Down);
        app.update(Action::Down);
        app.update(Action::Down);
        assert_eq!(selected_port(&app), Some(5353));
        let key = app.selected_socket().unwrap().key();

        // A refresh that adds a socket sorting before the selection.
        let mut next = sample_snapshot();
        next.sockets.push(listener(
            "127.0.0.1",
            22,
            vec![owner(1, "sshd", "root", "sshd")],
        ));
        app.update(Action::Snapshot(next));
        assert_eq!(app.selected_socket().unwrap().key(), key);

        app.update(Action::SortBy(Column::Process));
        assert_eq!(app.selected_socket().unwrap().key(), key);
        app.update(Action::SortReverse);
        assert_eq!(app.selected_socket().unwrap().key(), key);
        let index = app.selected_index().unwrap();
        assert!(
            index >= app.offset() && index < app.offset() + 5,
            "selection stays visible"
        );
    }

    #[test]
    fn a_vanished_selection_moves_to_its_neighbour() {
        let mut app = loaded(Query::default());
        app.update(Action::Down); // 5173 v4
        app.update(Action::Down); // 5173 v6
        let mut next = sample_snapshot();
        next.sockets
            .retain(|s| !(s.local_port == 5173 && s.local_addr.is_ipv6()));
        app.update(Action::Snapshot(next));
        assert_eq!(
            selected_port(&app),
            Some(5353),
            "same position, next socket"
        );
    }

    #[test]
    fn filter_matches_every_word_case_insensitively_and_esc_clears() {
        let mut app = loaded(Query::default());
        app.update(Action::StartFilter);
        assert_eq!(app.mode(), Mode::Filter);
        for c in "NODE 92".chars() {
            app.update(Action::FilterChar(c));
        }
        assert_eq!(ports(&app), vec![9229], "both words must match");
        app.update(Action::FilterBackspace);
        app.update(Action::FilterBackspace);
        assert_eq!(
            ports(&app),
            vec![5173, 5173, 9229],
            "'node ' matches the node processes"
        );
        app.update(Action::FilterDone);
        assert_eq!(app.mode(), Mode::Table);
        assert_eq!(app.filter(), "NODE ");
        app.update(Action::ClearFilter);
        assert_eq!(app.filter(), "");
        assert_eq!(ports(&app).len(), 8);
    }

    #[test]
    fn filter_reaches_user_pid_address_and_command_line() {
        for (text, expected) in [
            ("www-data", vec![8080]),
            ("2102", vec![8080]),
            ("::1", vec![5173]),
            ("postgresql/16", vec![5432]),
            ("redis", vec![6379]),
            (":53", vec![53, 5353]),
        ] {
            let mut app = loaded(Query::default());
            app.update(Action::StartFilter);
            text.chars().for_each(|c| {
                app.update(Action::FilterChar(c));
            });
            assert_eq!(ports(&app), expected, "filter {text:?}");
        }
    }

    #[test]
    fn paging_and_jumps_stay_in_bounds() {
        let mut app = loaded(Query::default());
        app.update(Action::Bottom);
        assert_eq!(selected_port(&app), Some(9229));
        assert_eq!(app.offset(), 3, "8 rows, 5 visible");
        app.update(Action::Down);
        assert_eq!(selected_port(&app), Some(9229));
        app.update(Action::PageUp);
        assert_eq!(app.selected_index(), Some(3));
        app.update(Action::Top);
        assert_eq!((app.selected_index(), app.offset()), (Some(0), 0));
        app.update(Action::Up);
        assert_eq!(app.selected_index(), Some(0));
        app.update(Action::PageDown);
        assert_eq!(app.selected_index(), Some(4));
        app.update(Action::SelectVisible(1));
        assert_eq!(app.selected_visible(), Some(1));
        app.update(Action::SelectVisible(40));
        assert_eq!(
            app.selected_visible(),
            Some(1),
            "a click below the rows changes nothing"
        );
        assert_eq!(app.visible_rows().count(), 5);
    }

    #[test]
    fn sorting_by_the_same_column_again_reverses_it() {
        let mut app = loaded(Query::default());
        app.update(Action::SortBy(Column::Port));
        assert!(app.sort().descending);
        assert_eq!(ports(&app).first(), Some(&9229));
        app.update(Action::SortBy(Column::Pid));
        assert_eq!(
            app.sort(),
            SortSpec {
                column: Column::Pid,
                descending: false
            }
        );
        assert_eq!(ports(&app).last(), Some(&6379), "unknown owners sort last");
        app.update(Action::SortNext);
        assert_eq!(app.sort().column, Column::Process);
    }

    #[test]
    fn empty_snapshot_has_no_selection_and_moves_are_harmless() {
        let mut app = App::new(Query::default());
        assert!(!app.is_loaded());
        app.update(Action::Snapshot(Snapshot::default()));
        for action in [
            Action::Down,
            Action::PageDown,
            Action::Bottom,
            Action::SelectVisible(0),
        ] {
            app.update(action);
        }
        assert_eq!(app.selected_socket(), None);
        assert_eq!(app.visible_rows().count(), 0);
    }

    #[test]
    fn a_failed_collection_keeps_the_last_data_until_the_next_success() {
        let mut app = loaded(Query::default());
        app.update(Action::CollectFailed("netlink said no".into()));
        assert_eq!(app.error(), Some("netlink said no"));
        assert_eq!(ports(&app).len(), 8);
        app.update(Action::Snapshot(sample_snapshot()));
        assert_eq!(app.error(), None);
    }

    #[test]
    fn help_toggles_and_quit_asks_the_runtime_to_stop() {
        let mut app = loaded(Query::default());
        app.update(Action::ToggleHelp);
        assert_eq!(app.mode(), Mode::Help);
        app.update(Action::Back);
        assert_eq!(app.mode(), Mode::Table);
        assert_eq!(app.update(Action::Quit), Some(Effect::Quit));
        assert!(app.should_quit());
    }

    #[test]
    fn all_addresses_toggle_reveals_this_host_sockets() {
        let mut snapshot = sample_snapshot();
        snapshot.sockets.push(listener(
            "192.168.1.20",
            8443,
            vec![owner(3000, "caddy", "caddy", "caddy run")],
        ));
        let mut app = App::new(Query::default());
        app.update(Action::Snapshot(snapshot));
        assert!(!ports(&app).contains(&8443));
        let effect = app.update(Action::ToggleAllAddresses);
        assert!(matches!(effect, Some(Effect::SetQuery(q)) if q.all_addresses));
        assert!(ports(&app).contains(&8443));
        assert!(
            app.visible_rows()
                .all(|s| s.state != SocketState::Established)
        );
    }

    // ----- inspect and stop -----

    use crate::control::{self, FakeControl, Signal};

    /// Selects the node dev server (127.0.0.1:5173).
    fn on_node() -> App {
        let mut app = loaded(Query::default());
        app.update(Action::Down);
        assert_eq!(selected_port(&app), Some(5173));
        app
    }

    /// Performs an effect the way the runtime does, against a fake control.
    fn perform(effect: Option<Effect>, control: &mut FakeControl) -> Option<Status> {
        match effect? {
            Effect::Signal { target, signal, .. } => {
                Some(match control::send(control, &target, signal, 1) {
                    Ok(sent) => Status::info(sent.message()),
                    Err(error) => Status::error(error.to_string()),
                })
            }
            _ => None,
        }
    }

    #[test]
    fn nothing_is_signalled_until_the_user_confirms() {
        let mut app = on_node();
        let node = app.selected_socket().unwrap().owners[0].key;
        let mut control = FakeControl::with(&[node]);
        let effect = app.update(Action::Kill(Signal::Term));
        assert_eq!(effect, Some(Effect::Describe(node)), "only a read");
        assert_eq!(app.mode(), Mode::Confirm);
        // Refreshes and unrelated keys while the dialog is open send nothing.
        for action in [
            Action::Snapshot(sample_snapshot()),
            Action::Down,
            Action::Details(node, Box::new(Err(DetailsError::Gone(node.pid)))),
        ] {
            assert_eq!(perform(app.update(action), &mut control), None);
        }
        assert!(control.sent.is_empty());
        let status = perform(app.update(Action::ConfirmKill), &mut control).unwrap();
        assert_eq!(control.sent, vec![(4812, Signal::Term)]);
        assert_eq!(status.text, "sent SIGTERM to node 4812");
        assert_eq!(app.mode(), Mode::Table);
        assert_eq!(app.update(Action::ConfirmKill), None, "one yes, one signal");
    }

    #[test]
    fn cancelling_sends_nothing_and_says_so() {
        let mut app = on_node();
        app.update(Action::Kill(Signal::Kill));
        assert_eq!(app.update(Action::CancelKill), None);
        assert_eq!(app.mode(), Mode::Table);
        assert_eq!(
            app.status().unwrap().text,
            "cancelled: nothing was sent to node 4812"
        );
    }

    #[test]
    fn a_process_replaced_since_it_was_shown_is_not_signalled() {
        let mut app = on_node();
        let node = app.selected_socket().unwrap().owners[0].key;
        let mut control = FakeControl::with(&[crate::model::ProcKey {
            start_time: node.start_time + 60,
            ..node
        }]);
        app.update(Action::Kill(Signal::Term));
        let status = perform(app.update(Action::ConfirmKill), &mut control).unwrap();
        assert!(status.is_error);
        assert_eq!(
            status.text,
            "process 4812 has exited; pid now belongs to another process; nothing was sent"
        );
        assert!(control.sent.is_empty());
    }

    #[test]
    fn read_only_never_opens_the_dialog() {
        let mut app = loaded(Query::default()).read_only(true);
        app.update(Action::Down);
        for signal in [Signal::Term, Signal::Kill] {
            assert_eq!(app.update(Action::Kill(signal)), None);
            assert_eq!(app.mode(), Mode::Table);
            assert!(app.pending_kill().is_none());
        }
        assert!(app.status().unwrap().text.contains("read-only"));
        app.update(Action::Inspect);
        assert_eq!(app.update(Action::Kill(Signal::Term)), None);
        assert_eq!(app.mode(), Mode::Inspect);
        assert_eq!(app.update(Action::ConfirmKill), None);
    }

    #[test]
    fn a_hidden_owner_cannot_be_stopped_and_the_reason_is_given() {
        let mut app = loaded(Query::default());
        app.update(Action::StartFilter);
        "6379".chars().for_each(|c| {
            app.update(Action::FilterChar(c));
        });
        app.update(Action::FilterDone);
        assert_eq!(app.update(Action::Kill(Signal::Term)), None);
        assert_eq!(app.mode(), Mode::Table);
        let status = app.status().unwrap();
        assert!(status.is_error);
        assert!(
            status.text.contains("run loopwatch as root"),
            "{}",
            status.text
        );
    }

    #[test]
    fn inspecting_widens_collection_and_follows_the_socket() {
        let mut app = on_node();
        let node = app.selected_socket().unwrap().owners[0].key;
        assert_eq!(app.update(Action::Inspect), Some(Effect::Describe(node)));
        assert_eq!(app.mode(), Mode::Inspect);
        assert!(
            app.collection_query().connections,
            "clients are connection ends"
        );
        assert!(
            !app.query().connections,
            "the table's own view is unchanged"
        );
        // Each refresh re-reads the details (CPU, memory).
        assert_eq!(
            app.update(Action::Snapshot(sample_snapshot())),
            Some(Effect::Describe(node))
        );
        assert!(!app.inspected().unwrap().closed);
        let mut gone = sample_snapshot();
        gone.sockets.retain(|s| s.local_port != 5173);
        app.update(Action::Snapshot(gone));
        let inspected = app.inspected().unwrap();
        assert!(inspected.closed, "kept, marked closed");
        assert_eq!(inspected.socket.local_port, 5173);
        app.update(Action::Back);
        assert_eq!(app.mode(), Mode::Table);
        assert_eq!(app.collection_query(), Query::default());
    }

    #[test]
    fn details_for_another_process_are_ignored() {
        let mut app = on_node();
        app.update(Action::Inspect);
        let stranger = crate::model::ProcKey {
            pid: 1,
            start_time: 0,
        };
        app.update(Action::Details(
            stranger,
            Box::new(Err(DetailsError::Gone(1))),
        ));
        assert!(app.details_of(stranger).is_none());
    }

    #[test]
    fn tab_walks_the_holders_of_a_shared_socket() {
        let mut app = loaded(Query::default());
        app.update(Action::StartFilter);
        "8080".chars().for_each(|c| {
            app.update(Action::FilterChar(c));
        });
        app.update(Action::FilterDone);
        app.update(Action::Inspect);
        let pids = |app: &App| app.inspected().unwrap().owner().unwrap().key.pid;
        assert_eq!(pids(&app), 2100);
        app.update(Action::NextHolder);
        assert_eq!(pids(&app), 2101);
        let effect = app.update(Action::Kill(Signal::Term));
        assert!(matches!(effect, Some(Effect::Describe(k)) if k.pid == 2101));
        assert_eq!(app.pending_kill().unwrap().target.key.pid, 2101);
    }
}
