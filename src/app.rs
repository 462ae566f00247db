//! All UI state, changed only by [`App::update`]: pure, no I/O, no clock.

use std::fmt::Write as _;
use std::time::Duration;

use crate::action::{Action, Effect, Status};
use crate::collect::Query;
use crate::collect::details::{DetailsError, ProcessDetails};
use crate::collect::facts::SystemFacts;
use crate::control::{Signal, Target};
use crate::explain::{self, Explanation};
use crate::group::GroupKey;
use crate::history::{Event, Stamp, Tracker};
use crate::model::{Owner, ProcKey, Snapshot, Socket, SocketKey};
use crate::sort::{Column, SortSpec};

/// The refresh intervals `+` and `-` step through.
pub const INTERVAL_STEPS: [Duration; 9] = [
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(30),
    Duration::from_secs(60),
];

/// How the table starts: from the command line and the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub interval: Duration,
    pub sort: SortSpec,
    pub grouped: bool,
    pub hidden_columns: Vec<Column>,
    pub facts: SystemFacts,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            interval: crate::cli::DEFAULT_INTERVAL,
            sort: SortSpec::default(),
            grouped: false,
            hidden_columns: Vec::new(),
            facts: SystemFacts::default(),
        }
    }
}

/// How a row is marked: new for a few seconds, or closed and about to leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowMark {
    Normal,
    Fresh,
    Closed,
}

/// Which screen has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Table,
    /// Typing into the filter.
    Filter,
    Help,
    /// The history of changes.
    History,
    /// Typing into the history's own filter.
    HistoryFilter,
    /// The explanation of one socket.
    Explain,
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

// The flags are independent switches the user flips (paused, grouped, ...), not a state
// machine in disguise.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone)]
pub struct App {
    snapshot: Snapshot,
    /// Indices of the sockets that pass the toggles and the filter, in sort order: into
    /// `snapshot.sockets`, then on into `gone` (see [`App::socket_at`]).
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
    /// Events, and which rows are new or closed.
    tracker: Tracker,
    /// Sockets closed a moment ago, still shown as rows (marked closed) after the live ones.
    gone: Vec<Socket>,
    /// The table is frozen; `held` keeps the newest collection meanwhile.
    paused: bool,
    held: Option<Snapshot>,
    /// The latest time the runtime reported.
    now: Option<Stamp>,
    interval: Duration,
    /// After the query changes, the next snapshots are compared only on sockets both queries
    /// admit: one may still have been collected with the old query.
    settling: u8,
    previous_query: Query,
    grouped: bool,
    hidden_columns: Vec<Column>,
    facts: SystemFacts,
    history_filter: String,
    /// History lines scrolled back from the newest (0 follows new events).
    history_back: usize,
    /// The socket being explained, and how far its text is scrolled.
    explaining: Option<SocketKey>,
    explain_scroll: usize,
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
            tracker: Tracker::default(),
            gone: Vec::new(),
            paused: false,
            held: None,
            now: None,
            interval: crate::cli::DEFAULT_INTERVAL,
            settling: 0,
            previous_query: query,
            grouped: false,
            hidden_columns: Vec::new(),
            facts: SystemFacts::default(),
            history_filter: String::new(),
            history_back: 0,
            explaining: None,
            explain_scroll: 0,
        }
    }

    /// An app that starts with these settings.
    pub fn with_settings(query: Query, settings: Settings) -> Self {
        let mut app = Self::new(query);
        app.interval = settings.interval;
        app.sort = settings.sort;
        app.grouped = settings.grouped;
        app.hidden_columns = settings.hidden_columns;
        app.facts = settings.facts;
        app
    }

    /// The same app with every stop path disabled (`--read-only`).
    #[must_use]
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Applies one action; returns the side effect the runtime must perform, if any.
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        let action = match self.update_in_view(action) {
            Ok(effect) => return effect,
            Err(action) => action,
        };
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
                self.previous_query = self.query;
                self.settling = 2;
                self.query.connections = !self.query.connections;
                self.rebuild();
                return Some(Effect::SetQuery(self.query));
            }
            Action::ToggleAllAddresses => {
                self.previous_query = self.query;
                self.settling = 2;
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
                self.take_snapshot(snapshot);
                return self.refresh_inspected();
            }
            Action::CollectFailed(message) => self.error = Some(message),
            Action::Tick(_)
            | Action::TogglePause
            | Action::SlowerRefresh
            | Action::FasterRefresh
            | Action::ToggleHistory
            | Action::ToggleExplain
            | Action::ToggleGrouped => return self.update_views(&action),
        }
        None
    }

    /// Time passing, pausing, the refresh rate and the other views.
    fn update_views(&mut self, action: &Action) -> Option<Effect> {
        match action {
            &Action::Tick(now) => {
                self.now = Some(now);
                if self.tracker.expire(now) && !self.paused {
                    self.show(None);
                }
            }
            Action::TogglePause => {
                self.paused = !self.paused;
                if !self.paused {
                    let held = self.held.take();
                    self.show(held);
                }
            }
            Action::SlowerRefresh | Action::FasterRefresh => {
                let next = if *action == Action::SlowerRefresh {
                    INTERVAL_STEPS.iter().find(|&&d| d > self.interval)
                } else {
                    INTERVAL_STEPS.iter().rev().find(|&&d| d < self.interval)
                };
                if let Some(&next) = next {
                    self.interval = next;
                    return Some(Effect::SetInterval(next));
                }
            }
            Action::ToggleHistory => self.mode = Mode::History,
            Action::ToggleExplain => {
                if let Some(socket) = self.selected_socket() {
                    self.explaining = Some(socket.key());
                    self.explain_scroll = 0;
                    self.mode = Mode::Explain;
                }
            }
            Action::ToggleGrouped => {
                self.grouped = !self.grouped;
                self.rebuild();
            }
            _ => {}
        }
        None
    }

    /// A new collection: record what changed, then show it (unless paused).
    fn take_snapshot(&mut self, snapshot: Snapshot) {
        if self.loaded {
            let now = self.now.unwrap_or(Stamp::at_secs(0));
            let (query, previous) = (self.query, self.previous_query);
            let settling = self.settling > 0;
            let before = &self.held.as_ref().unwrap_or(&self.snapshot).sockets;
            self.tracker
                .observe(before, &snapshot.sockets, now, |s: &Socket| {
                    query.admits(s.scope, s.state, s.local_port)
                        && (!settling || previous.admits(s.scope, s.state, s.local_port))
                });
            self.tracker.expire(now);
        }
        self.settling = self.settling.saturating_sub(1);
        self.error = None;
        if self.paused && self.loaded {
            self.held = Some(snapshot);
        } else {
            self.loaded = true;
            self.show(Some(snapshot));
        }
    }

    /// Shows `snapshot` (or the one shown now) with the recently closed sockets after it.
    fn show(&mut self, snapshot: Option<Snapshot>) {
        // Where the selection is now, in case its socket is not in the new snapshot.
        let hint = self.selected_index_hint();
        if let Some(snapshot) = snapshot {
            self.snapshot = snapshot;
        }
        self.gone = self.tracker.gone().cloned().collect();
        self.rebuild_near(hint);
    }

    /// The inspect, history and explain views take the keys they know; `Err` hands the rest
    /// back.
    fn update_in_view(&mut self, action: Action) -> Result<Option<Effect>, Action> {
        match (self.mode, action) {
            (
                Mode::Inspect,
                action @ (Action::Up | Action::Down | Action::ScrollUp | Action::ScrollDown),
            ) => {
                if let Some(inspected) = &mut self.inspected {
                    inspected.scroll = match action {
                        Action::Up | Action::ScrollUp => inspected.scroll.saturating_sub(1),
                        // The view has about 30 lines besides one per related socket.
                        _ => (inspected.scroll + 1).min(30 + self.snapshot.sockets.len()),
                    };
                }
                Ok(None)
            }
            (Mode::History | Mode::HistoryFilter, action) => self.update_history(action),
            (Mode::Explain, action) => self.update_explain(action),
            (_, action) => Err(action),
        }
    }

    /// Keys while the history is open; `Err` hands the action back to the table's handling.
    fn update_history(&mut self, action: Action) -> Result<Option<Effect>, Action> {
        let typing = self.mode == Mode::HistoryFilter;
        let page = self.page.max(1);
        match action {
            Action::FilterChar(c) if typing => {
                self.history_filter.push(c);
                self.history_back = 0;
            }
            Action::FilterBackspace if typing => {
                self.history_filter.pop();
            }
            Action::FilterDone => self.mode = Mode::History,
            Action::ClearFilter => {
                self.history_filter.clear();
                self.mode = Mode::History;
            }
            Action::StartFilter => self.mode = Mode::HistoryFilter,
            Action::Up | Action::ScrollUp => self.scroll_history(1),
            Action::Down | Action::ScrollDown => self.scroll_history(-1),
            Action::PageUp => self.scroll_history(isize::try_from(page).unwrap_or(1)),
            Action::PageDown => self.scroll_history(-isize::try_from(page).unwrap_or(1)),
            Action::Top => self.history_back = usize::MAX,
            Action::Bottom => self.history_back = 0,
            Action::ToggleHistory | Action::Back => self.mode = Mode::Table,
            other => return Err(other),
        }
        self.clamp_history();
        Ok(None)
    }

    /// How far the explanation can scroll. The drawn width is not known here, so this counts
    /// lines as a 40-column terminal would wrap them: never short of the real end, and the view
    /// stops drawing past it.
    fn explain_max_scroll(&self) -> usize {
        let lines: usize = self.explanation().map_or(0, |(e, closed)| {
            e.paragraphs
                .iter()
                .map(|p| explain::wrap(&p.text, 40).len())
                .sum::<usize>()
                + usize::from(closed)
        });
        // The explanation's area is one line taller than the table body.
        lines.saturating_sub(self.page + 1)
    }

    fn scroll_history(&mut self, back: isize) {
        self.history_back = self.history_back.saturating_add_signed(back);
    }

    fn clamp_history(&mut self) {
        let max = self.history_lines().count().saturating_sub(self.page);
        self.history_back = self.history_back.min(max);
    }

    /// Keys while an explanation is open.
    fn update_explain(&mut self, action: Action) -> Result<Option<Effect>, Action> {
        match action {
            Action::Up | Action::ScrollUp => {
                self.explain_scroll = self.explain_scroll.saturating_sub(1);
            }
            Action::Down | Action::ScrollDown => {
                self.explain_scroll = (self.explain_scroll + 1).min(self.explain_max_scroll());
            }
            Action::PageUp => self.explain_scroll = self.explain_scroll.saturating_sub(self.page),
            Action::PageDown => {
                self.explain_scroll =
                    (self.explain_scroll + self.page).min(self.explain_max_scroll());
            }
            Action::Top => self.explain_scroll = 0,
            Action::ToggleExplain | Action::Back => {
                self.mode = Mode::Table;
                self.explaining = None;
            }
            other => return Err(other),
        }
        Ok(None)
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
        let end = self.window_end(self.offset);
        self.rows[self.offset.min(end)..end]
            .iter()
            .map(|&i| self.socket_at(i))
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }
    pub fn interval(&self) -> Duration {
        self.interval
    }
    pub fn is_grouped(&self) -> bool {
        self.grouped
    }
    pub fn hidden_columns(&self) -> &[Column] {
        &self.hidden_columns
    }
    pub fn history_filter(&self) -> &str {
        &self.history_filter
    }
    /// How many history lines are scrolled back from the newest.
    pub fn history_back(&self) -> usize {
        self.history_back
    }
    pub fn history_len(&self) -> usize {
        self.tracker.history().len()
    }
    pub fn explain_scroll(&self) -> usize {
        self.explain_scroll
    }

    /// The newest collection: the one shown, or, while paused, the one not shown yet. What
    /// is true now (explanations, anything judged on live data) reads this.
    pub fn latest(&self) -> &Snapshot {
        self.held.as_ref().unwrap_or(&self.snapshot)
    }

    /// Sockets in the newest collection.
    pub fn live_sockets(&self) -> &[Socket] {
        &self.latest().sockets
    }

    /// Sockets in the snapshot shown, without the closed rows lingering after it.
    pub fn live_count(&self) -> usize {
        self.snapshot.sockets.len()
    }

    /// Closed rows still shown.
    pub fn closed_row_count(&self) -> usize {
        let live = self.snapshot.sockets.len();
        self.rows.iter().filter(|&&i| i >= live).count()
    }

    /// Row source `i`: a socket of the snapshot shown, or past its end one closed a moment ago.
    fn socket_at(&self, i: usize) -> &Socket {
        socket_at(&self.snapshot.sockets, &self.gone, i)
    }

    /// New for a few seconds, closed and about to leave, or neither.
    pub fn row_mark(&self, socket: &Socket) -> RowMark {
        let key = socket.key();
        if self.tracker.gone().any(|s| s.key() == key) {
            RowMark::Closed
        } else if self.tracker.is_fresh(&key) {
            RowMark::Fresh
        } else {
            RowMark::Normal
        }
    }

    /// When the runtime should send the next [`Action::Tick`] to expire a mark.
    pub fn next_deadline(&self) -> Option<Stamp> {
        self.tracker.next_expiry()
    }

    /// History events passing the history's filter, oldest first.
    pub fn history_lines(&self) -> impl DoubleEndedIterator<Item = &Event> {
        let terms = filter_terms(&self.history_filter);
        self.tracker.history().iter().filter(move |e| {
            terms.is_empty() || {
                let line = e.line().to_lowercase();
                terms.iter().all(|t| line.contains(t.as_str()))
            }
        })
    }

    /// Events dropped from the history to keep it bounded.
    pub fn history_dropped(&self) -> u64 {
        self.tracker.history().dropped()
    }

    /// The explanation being shown: of the socket as collected now, or, once it has closed, as
    /// last seen (with `closed` set).
    pub fn explanation(&self) -> Option<(Explanation, bool)> {
        let key = self.explaining?;
        let live = self.live_sockets();
        if let Some(socket) = live.iter().find(|s| s.key() == key) {
            return Some((explain::socket(socket, live, &self.facts), false));
        }
        let gone = self
            .snapshot
            .sockets
            .iter()
            .chain(&self.gone)
            .chain(self.tracker.gone())
            .find(|s| s.key() == key)?;
        Some((explain::socket(gone, live, &self.facts), true))
    }

    /// Whether row `index` (among all rows) starts a new process group in the grouped view.
    pub fn starts_group(&self, index: usize) -> bool {
        self.grouped
            && (index == 0
                || GroupKey::of(self.socket_at(self.rows[index]))
                    != GroupKey::of(self.socket_at(self.rows[index - 1])))
    }

    /// Position of the selection among the visible rows.
    pub fn selected_visible(&self) -> Option<usize> {
        self.selected_index()?.checked_sub(self.offset)
    }

    pub fn selected_socket(&self) -> Option<&Socket> {
        self.selected_index().map(|i| self.socket_at(self.rows[i]))
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
        // The newest collection, even while the table is paused.
        let latest = self.held.as_ref().unwrap_or(&self.snapshot);
        match latest.sockets.iter().find(|s| s.key() == key) {
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
            .position(|&i| self.socket_at(i).key() == key)
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
        let (live, gone) = (&self.snapshot.sockets, &self.gone);
        let at = |i: usize| socket_at(live, gone, i);
        let mut rows: Vec<usize> = (0..live.len() + gone.len())
            .filter(|&i| {
                let s = at(i);
                self.query.admits(s.scope, s.state, s.local_port) && matches_filter(s, &terms)
            })
            .collect();
        let sort = self.sort;
        if self.grouped {
            // Each key once, not once per comparison: building one allocates.
            let mut keyed: Vec<(GroupKey, usize)> =
                rows.iter().map(|&i| (GroupKey::of(at(i)), i)).collect();
            keyed.sort_by(|(ka, a), (kb, b)| ka.cmp(kb).then_with(|| sort.compare(at(*a), at(*b))));
            rows = keyed.into_iter().map(|(_, i)| i).collect();
        } else {
            rows.sort_by(|&a, &b| sort.compare(at(a), at(b)));
        }
        self.rows = rows;
        if self.selected_index().is_none() {
            self.selected = if self.rows.is_empty() {
                None
            } else {
                let i = previous_index.min(self.rows.len() - 1);
                Some(self.socket_at(self.rows[i]).key())
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
            self.selected = Some(self.socket_at(i).key());
            self.scroll_to_selection();
        }
    }

    /// Keeps the selection inside the visible window and the window inside the rows.
    fn scroll_to_selection(&mut self) {
        if self.grouped {
            self.scroll_to_selection_grouped();
            return;
        }
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

    /// The grouped view spends a line on each process heading, so the window is counted in
    /// lines, not rows.
    fn scroll_to_selection_grouped(&mut self) {
        let len = self.rows.len();
        // The smallest offset whose window still reaches the last row.
        let mut max_offset = len;
        while max_offset > 0 && self.window_end(max_offset - 1) == len {
            max_offset -= 1;
        }
        if let Some(index) = self.selected_index() {
            if index < self.offset {
                self.offset = index;
            }
            while index >= self.window_end(self.offset) && self.offset < index {
                self.offset += 1;
            }
        }
        self.offset = self.offset.min(max_offset);
    }

    /// One past the last row shown when the window starts at row `offset`.
    fn window_end(&self, offset: usize) -> usize {
        let len = self.rows.len();
        if !self.grouped {
            return (offset + self.page).min(len);
        }
        let mut lines = 0;
        let mut end = offset;
        while end < len {
            // The first row shown always gets its heading, as does every new group.
            let cost = if end == offset || self.starts_group(end) {
                2
            } else {
                1
            };
            if lines + cost > self.page {
                break;
            }
            lines += cost;
            end += 1;
        }
        // A window always shows at least one row, even in a one-line body.
        end.max((offset + 1).min(len))
    }
}

/// Row source `i` of a table made of `live` sockets followed by `gone` ones.
fn socket_at<'a>(live: &'a [Socket], gone: &'a [Socket], i: usize) -> &'a Socket {
    live.get(i).unwrap_or_else(|| &gone[i - live.len()])
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
    use crate::history::EventKind;
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
            .map(|&i| app.socket_at(i).local_port)
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
        app.update(Action::Tick(Stamp::at_secs(100)));
        app.update(Action::Snapshot(next));
        // The closed socket lingers, marked, then goes.
        assert_eq!(selected_port(&app), Some(5173));
        assert_eq!(
            app.row_mark(app.selected_socket().unwrap()),
            RowMark::Closed
        );
        app.update(Action::Tick(Stamp::at_secs(110)));
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

    // ----- change tracking, history, explain, grouping -----

    fn at(secs: u64) -> Action {
        Action::Tick(Stamp::at_secs(1_764_165_821 + secs))
    }

    fn with_vite() -> Snapshot {
        let mut s = sample_snapshot();
        s.sockets.push(listener(
            "127.0.0.1",
            3000,
            vec![owner(4900, "node", "ana", "vite")],
        ));
        s
    }

    fn mark_of(app: &App, port: u16) -> RowMark {
        let socket = app
            .visible_rows()
            .find(|s| s.local_port == port)
            .unwrap_or_else(|| panic!("{port} not shown"));
        app.row_mark(socket)
    }

    #[test]
    fn the_first_snapshot_is_no_change_and_later_ones_are_recorded() {
        let mut app = App::new(Query::default());
        app.update(Action::Viewport(20));
        app.update(at(0));
        app.update(Action::Snapshot(sample_snapshot()));
        assert_eq!(
            app.history_len(),
            0,
            "what was there at launch did not open"
        );
        assert_eq!(mark_of(&app, 5432), RowMark::Normal);

        app.update(at(1));
        app.update(Action::Snapshot(with_vite()));
        assert_eq!(mark_of(&app, 3000), RowMark::Fresh);
        let lines: Vec<String> = app.history_lines().map(Event::line).collect();
        assert_eq!(lines, ["14:03:42 + tcp 127.0.0.1:3000 node 4900 (vite)"]);
        assert_eq!(app.next_deadline(), Some(Stamp::at_secs(1_764_165_821 + 6)));

        // Still new at 5 s, plain after.
        app.update(at(5));
        assert_eq!(mark_of(&app, 3000), RowMark::Fresh);
        app.update(at(6));
        assert_eq!(mark_of(&app, 3000), RowMark::Normal);
        assert_eq!(app.next_deadline(), None);
    }

    #[test]
    fn closed_rows_linger_marked_then_leave() {
        let mut app = App::new(Query::default());
        app.update(Action::Viewport(20));
        app.update(at(0));
        app.update(Action::Snapshot(with_vite()));
        app.update(at(2));
        app.update(Action::Snapshot(sample_snapshot()));
        assert_eq!(mark_of(&app, 3000), RowMark::Closed);
        assert_eq!(app.live_count(), 11);
        assert_eq!(app.closed_row_count(), 1);
        assert!(app.live_sockets().iter().all(|s| s.local_port != 3000));
        // A refresh while it lingers keeps it (once).
        app.update(at(3));
        app.update(Action::Snapshot(sample_snapshot()));
        assert_eq!(ports(&app).iter().filter(|&&p| p == 3000).count(), 1);
        app.update(at(7));
        assert!(!ports(&app).contains(&3000));
        assert_eq!(app.closed_row_count(), 0);
        let kinds: Vec<EventKind> = app.history_lines().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::Closed]);
    }

    #[test]
    fn toggling_connections_is_not_mistaken_for_connections_opening() {
        let mut app = App::new(Query::default());
        app.update(at(0));
        let listeners_only = |mut s: Snapshot| {
            s.sockets.retain(|s| s.state.is_listening());
            s
        };
        app.update(Action::Snapshot(listeners_only(sample_snapshot())));
        app.update(Action::ToggleConnections);
        // One collection may still be from before the toggle; then the wider one arrives.
        app.update(Action::Snapshot(listeners_only(sample_snapshot())));
        app.update(Action::Snapshot(sample_snapshot()));
        app.update(Action::Snapshot(sample_snapshot()));
        assert_eq!(app.history_len(), 0);
        // After settling, connections are tracked.
        let mut fewer = sample_snapshot();
        fewer.sockets.retain(|s| s.local_port != 62893);
        app.update(Action::Snapshot(fewer));
        assert_eq!(app.history_len(), 1);
    }

    #[test]
    fn pause_freezes_the_table_but_keeps_recording() {
        let mut app = App::new(Query::default());
        app.update(Action::Viewport(20));
        app.update(at(0));
        app.update(Action::Snapshot(sample_snapshot()));
        app.update(Action::TogglePause);
        assert!(app.is_paused());
        app.update(at(1));
        app.update(Action::Snapshot(with_vite()));
        assert!(!ports(&app).contains(&3000), "frozen");
        assert_eq!(app.history_len(), 1, "recorded");
        assert!(app.live_sockets().iter().any(|s| s.local_port == 3000));
        // Unchanged collections while paused add nothing.
        app.update(Action::Snapshot(with_vite()));
        assert_eq!(app.history_len(), 1);
        app.update(Action::TogglePause);
        assert!(ports(&app).contains(&3000));
        assert_eq!(mark_of(&app, 3000), RowMark::Fresh);
    }

    #[test]
    fn plus_and_minus_step_the_interval_within_bounds() {
        let mut app = App::new(Query::default());
        assert_eq!(app.interval(), Duration::from_secs(1));
        assert_eq!(
            app.update(Action::SlowerRefresh),
            Some(Effect::SetInterval(Duration::from_secs(2)))
        );
        for _ in 0..20 {
            app.update(Action::SlowerRefresh);
        }
        assert_eq!(app.interval(), Duration::from_secs(60));
        assert_eq!(app.update(Action::SlowerRefresh), None);
        for _ in 0..20 {
            app.update(Action::FasterRefresh);
        }
        assert_eq!(app.interval(), Duration::from_millis(100));
        assert_eq!(app.update(Action::FasterRefresh), None);
        // An interval between steps moves to the next step in each direction.
        let mut app = App::with_settings(
            Query::default(),
            Settings {
                interval: Duration::from_millis(700),
                ..Settings::default()
            },
        );
        app.update(Action::FasterRefresh);
        assert_eq!(app.interval(), Duration::from_millis(500));
    }

    #[test]
    fn the_history_survives_the_table_filter_and_has_its_own() {
        let mut app = App::new(Query::default());
        app.update(Action::Viewport(3));
        app.update(at(0));
        app.update(Action::Snapshot(sample_snapshot()));
        let mut next = with_vite();
        next.sockets.retain(|s| s.local_port != 5432);
        app.update(at(1));
        app.update(Action::Snapshot(next));
        // A table filter that hides both.
        app.update(Action::StartFilter);
        "nginx".chars().for_each(|c| {
            app.update(Action::FilterChar(c));
        });
        app.update(Action::FilterDone);
        app.update(Action::ToggleHistory);
        assert_eq!(app.mode(), Mode::History);
        assert_eq!(app.history_lines().count(), 2);
        app.update(Action::StartFilter);
        assert_eq!(app.mode(), Mode::HistoryFilter);
        "vite".chars().for_each(|c| {
            app.update(Action::FilterChar(c));
        });
        let ports: Vec<u16> = app.history_lines().map(|e| e.socket.local_port).collect();
        assert_eq!(ports, [3000]);
        assert_eq!(app.filter(), "nginx", "the table's filter is untouched");
        app.update(Action::ClearFilter);
        assert_eq!(app.mode(), Mode::History);
        assert_eq!(app.history_lines().count(), 2);
        // Scrolling back is bounded by what does not fit.
        app.update(Action::Top);
        assert_eq!(app.history_back(), 0, "2 events fit in 3 lines");
        app.update(Action::Back);
        assert_eq!(app.mode(), Mode::Table);
        assert_eq!(app.update(Action::Quit), Some(Effect::Quit));
    }

    #[test]
    fn explain_opens_on_the_selected_row_and_follows_it_closing() {
        let mut app = App::with_settings(
            Query::default(),
            Settings {
                facts: SystemFacts::linux_defaults(),
                ..Settings::default()
            },
        );
        app.update(Action::Viewport(20));
        app.update(at(0));
        app.update(Action::Snapshot(with_vite()));
        while selected_port(&app) != Some(3000) {
            app.update(Action::Down);
        }
        app.update(Action::ToggleExplain);
        assert_eq!(app.mode(), Mode::Explain);
        let (e, closed) = app.explanation().unwrap();
        assert!(!closed);
        assert_eq!(e.title, "tcp 127.0.0.1:3000 · LISTEN");
        app.update(Action::Down);
        assert_eq!(app.explain_scroll(), 1);
        for _ in 0..100 {
            app.update(Action::PageDown);
        }
        let end = app.explain_scroll();
        assert!(end > 1 && end < 40, "bounded: {end}");
        app.update(Action::Up);
        assert_eq!(app.explain_scroll(), end - 1);
        app.update(Action::Top);
        app.update(at(1));
        app.update(Action::Snapshot(sample_snapshot()));
        let (_, closed) = app.explanation().unwrap();
        assert!(closed, "explained as last seen");
        app.update(Action::Back);
        assert_eq!(app.mode(), Mode::Table);
        assert!(app.explanation().is_none());
    }

    #[test]
    fn grouping_orders_rows_by_process_and_counts_heading_lines() {
        let mut app = App::new(Query::default());
        app.update(Action::Viewport(6));
        app.update(Action::Snapshot(sample_snapshot()));
        app.update(Action::ToggleGrouped);
        assert!(app.is_grouped());
        // avahi 5353, nginx 8080, node 5173 x2, node 9229, postgres, resolve, hidden redis.
        assert_eq!(ports(&app), [5353, 8080, 5173, 5173, 9229, 5432, 53, 6379]);
        // The selection (53) stayed selected and in view; from the top, 6 lines are the avahi
        // heading and row, nginx's, and node's heading with one row.
        assert_eq!(selected_port(&app), Some(53));
        assert!(app.visible_rows().any(|s| s.local_port == 53));
        app.update(Action::Top);
        let shown: Vec<u16> = app.visible_rows().map(|s| s.local_port).collect();
        assert_eq!(shown, [5353, 8080, 5173]);
        app.update(Action::Bottom);
        let shown: Vec<u16> = app.visible_rows().map(|s| s.local_port).collect();
        assert_eq!(shown.last(), Some(&6379));
        assert!(shown.len() <= 3);
        assert!(app.starts_group(app.offset()) || app.offset() > 0);
        app.update(Action::ToggleGrouped);
        assert_eq!(ports(&app), [53, 5173, 5173, 5353, 5432, 6379, 8080, 9229]);
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
