//! All UI state, changed only by [`App::update`]: pure, no I/O, no clock.

use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use crate::app::action::{Action, Effect, Shown, Status, Viewport};
use crate::domain::command;
use crate::domain::explain::{self, Explanation};
use crate::domain::forward;
use crate::domain::group::GroupKey;
use crate::domain::history::{Event, EventKind, Tracker};
use crate::domain::inspect;
use crate::domain::sort::{Column, SortSpec};
use crate::domain::text;
use crate::model::Query;
use crate::model::Stamp;
use crate::model::SystemFacts;
use crate::model::{Container, Signal, Target};
use crate::model::{DetailsError, ProcessDetails};
use crate::model::{OsText, Owner, ProcKey, Snapshot, Socket, SocketKey};

/// The refresh intervals `+` and `-` step through.
pub(crate) const INTERVAL_STEPS: [Duration; 9] = [
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(30),
    Duration::from_mins(1),
];

/// The refresh interval when neither the command line nor the config file names one.
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// The shortest and longest intervals accepted anywhere: the ends of the `+`/`-` steps.
pub(crate) const MIN_INTERVAL: Duration = INTERVAL_STEPS[0];
pub(crate) const MAX_INTERVAL: Duration = INTERVAL_STEPS[INTERVAL_STEPS.len() - 1];

/// How the table starts: from the command line and the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) interval: Duration,
    pub(crate) sort: SortSpec,
    pub(crate) grouped: bool,
    pub(crate) hidden_columns: Vec<Column>,
    pub(crate) facts: SystemFacts,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            interval: DEFAULT_INTERVAL,
            sort: SortSpec::default(),
            grouped: false,
            hidden_columns: Vec::new(),
            facts: SystemFacts::default(),
        }
    }
}

/// How a row is marked: new for a few seconds, or closed and about to leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowMark {
    Normal,
    Fresh,
    Closed,
}

/// Which screen has the keyboard: what the keymap and the drawing dispatch on. The state each
/// screen carries is in [`View`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
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

/// What the screen shows, with the state only that screen has: the stop dialog cannot exist
/// without the stop it asks about, nor the inspect view without its socket.
#[derive(Debug, Clone, PartialEq)]
enum View {
    Table,
    Filter,
    Help {
        /// Lines of the overlay scrolled off its top (short terminals).
        scroll: usize,
    },
    History,
    HistoryFilter,
    Explain {
        socket: SocketKey,
        scroll: usize,
    },
    Inspect(Inspected),
    Confirm(Box<PendingKill>),
    /// The stop dialog for a container: the engine stops it, not a signal.
    ConfirmContainer(Box<PendingContainerStop>),
}

impl View {
    fn mode(&self) -> Mode {
        match self {
            View::Table => Mode::Table,
            View::Filter => Mode::Filter,
            View::Help { .. } => Mode::Help,
            View::History => Mode::History,
            View::HistoryFilter => Mode::HistoryFilter,
            View::Explain { .. } => Mode::Explain,
            View::Inspect(_) => Mode::Inspect,
            View::Confirm(_) | View::ConfirmContainer(_) => Mode::Confirm,
        }
    }

    /// The inspect view shown, or shown behind the stop dialog.
    fn inspected(&self) -> Option<&Inspected> {
        match self {
            View::Inspect(inspected) => Some(inspected),
            View::Confirm(pending) => pending.over.as_ref(),
            View::ConfirmContainer(pending) => pending.over.as_ref(),
            _ => None,
        }
    }

    fn inspected_mut(&mut self) -> Option<&mut Inspected> {
        match self {
            View::Inspect(inspected) => Some(inspected),
            View::Confirm(pending) => pending.over.as_mut(),
            View::ConfirmContainer(pending) => pending.over.as_mut(),
            _ => None,
        }
    }
}

/// The socket being inspected. A copy is kept so the view still reads sensibly after the
/// socket closes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Inspected {
    pub(crate) socket: Socket,
    /// Which of the socket's holders is shown (shared sockets have several).
    pub(crate) holder: usize,
    /// The socket was not in the latest snapshot.
    pub(crate) closed: bool,
    /// Lines scrolled off the top of the view.
    pub(crate) scroll: usize,
}

impl Inspected {
    pub(crate) fn owner(&self) -> Option<&Owner> {
        self.socket.owners.get(self.holder)
    }
}

/// A stop the user has asked for and not yet confirmed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PendingKill {
    pub(crate) target: Target,
    pub(crate) signal: Signal,
    /// The row it was asked from: its port is the one followed up after the signal.
    pub(crate) socket: Socket,
    pub(crate) cmdline: OsText,
    /// The inspect view the dialog was opened over, and returns to; `None` for the table.
    pub(crate) over: Option<Inspected>,
}

/// A container the user has asked to stop and not yet confirmed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PendingContainerStop {
    /// Stopped by its full id: a container of the same name started since is another one.
    pub(crate) container: Arc<Container>,
    /// The row it was asked from: its port is followed up after the stop.
    pub(crate) socket: Socket,
    /// The inspect view the dialog was opened over, and returns to; `None` for the table.
    pub(crate) over: Option<Inspected>,
}

/// The table as the user arranged it: which rows pass, in what order, which one is selected
/// and which slice of them is on screen.
#[derive(Debug, Clone)]
struct Table {
    /// Indices of the sockets that pass the toggles and the filter, in sort order: into
    /// `snapshot.sockets`, then on into `gone` (see [`App::socket_at`]).
    rows: Vec<usize>,
    /// The selected row, by identity, so it survives refreshes and re-sorts.
    selected: Option<SocketKey>,
    /// Where `selected` was last found in `rows`: checked first, so finding the selection is
    /// O(1) while neither moved, instead of a scan of 10,000 rows on every key and frame.
    selected_at: Cell<usize>,
    /// First row shown in the table body.
    offset: usize,
    /// How many rows the table body can show.
    page: usize,
    sort: SortSpec,
    filter: String,
    /// Rows grouped under their process (`v`).
    grouped: bool,
    hidden_columns: Vec<Column>,
    /// Display columns of the selected row's command line scrolled off its left edge (`→`),
    /// and the row they apply to: another selection shows its command from the start.
    command_scroll: Option<(SocketKey, usize)>,
}

/// Display columns one `→` or `←` scrolls the command line by.
pub(crate) const COMMAND_SCROLL_STEP: usize = 8;

/// What the collections brought: the snapshot shown, the newest one while paused, what
/// changed between them, and whether the last collection failed.
#[derive(Debug, Clone)]
struct Feed {
    snapshot: Snapshot,
    /// The first snapshot has arrived.
    loaded: bool,
    /// The last collection failed with this message (cleared by the next success).
    error: Option<String>,
    /// Events, and which rows are new or closed.
    tracker: Tracker,
    /// Sockets closed a moment ago, still shown as rows (marked closed) after the live ones.
    gone: Vec<Socket>,
    /// The table is frozen; `held` keeps the newest collection meanwhile.
    paused: bool,
    held: Option<Snapshot>,
    /// The latest time the runtime reported.
    now: Option<Stamp>,
    /// After the query changes, the next snapshots are compared only on sockets both queries
    /// admit: one may still have been collected with the old query.
    settling: u8,
    previous_query: Query,
}

/// The history view's own filter and scroll position, kept while it is closed.
#[derive(Debug, Clone, Default)]
struct HistoryView {
    filter: String,
    /// Lines scrolled back from the newest (0 follows new events).
    back: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct App {
    table: Table,
    feed: Feed,
    view: View,
    history: HistoryView,
    /// What the screen's layout gives each view.
    viewport: Viewport,
    /// What is collected: the toggles the user flipped.
    query: Query,
    interval: Duration,
    /// No signal can be sent: the stop keys only explain that they are disabled.
    read_only: bool,
    facts: SystemFacts,
    /// The latest outcome to report (a signal sent, a port released, a refusal).
    status: Option<Status>,
    /// The latest details read for a process (inspect view, stop dialog).
    details: Option<(ProcKey, Result<ProcessDetails, DetailsError>)>,
}

impl App {
    pub(crate) fn new(query: Query) -> Self {
        Self {
            table: Table {
                rows: Vec::new(),
                selected: None,
                selected_at: Cell::new(0),
                offset: 0,
                page: 10,
                sort: SortSpec::default(),
                filter: String::new(),
                grouped: false,
                hidden_columns: Vec::new(),
                command_scroll: None,
            },
            feed: Feed {
                snapshot: Snapshot::default(),
                loaded: false,
                error: None,
                tracker: Tracker::default(),
                gone: Vec::new(),
                paused: false,
                held: None,
                now: None,
                settling: 0,
                previous_query: query,
            },
            view: View::Table,
            history: HistoryView::default(),
            viewport: Viewport {
                rows: 10,
                explain_width: 80,
                inspect_width: 78,
                columns: Shown::new(Column::ALL),
            },
            query,
            interval: DEFAULT_INTERVAL,
            read_only: false,
            facts: SystemFacts::default(),
            status: None,
            details: None,
        }
    }

    /// An app that starts with these settings.
    pub(crate) fn with_settings(query: Query, settings: Settings) -> Self {
        let mut app = Self::new(query);
        app.interval = settings.interval;
        app.table.sort = settings.sort;
        app.table.grouped = settings.grouped;
        app.table.hidden_columns = settings.hidden_columns;
        app.facts = settings.facts;
        app
    }

    /// The same app with every stop path disabled (`--read-only`).
    #[must_use]
    pub(crate) fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Applies one action; returns the side effect the runtime must perform, if any.
    pub(crate) fn update(&mut self, action: Action) -> Option<Effect> {
        let action = match self.update_in_view(action) {
            Ok(effect) => return effect,
            Err(action) => action,
        };
        match action {
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-page_step(self.table.page)),
            Action::PageDown => self.move_by(page_step(self.table.page)),
            Action::Top => self.select_index(0),
            Action::Bottom => self.select_index(self.table.rows.len().saturating_sub(1)),
            Action::SelectVisible(n) => {
                if self.table.offset + n < self.table.rows.len() {
                    self.select_index(self.table.offset + n);
                }
            }
            Action::ScrollUp => self.move_by(-3),
            Action::ScrollDown => self.move_by(3),
            Action::HalfPageDown => self.move_by(half_page(self.table.page)),
            Action::HalfPageUp => self.move_by(-half_page(self.table.page)),
            Action::CommandRight | Action::CommandLeft => self.scroll_command(&action),
            Action::SortByPosition(position) => self.sort_by_position(position),
            Action::SortNext => self.set_sort(SortSpec {
                column: self.table.sort.column.next(),
                descending: false,
            }),
            Action::SortReverse => self.set_sort(SortSpec {
                descending: !self.table.sort.descending,
                ..self.table.sort
            }),
            Action::SortBy(column) => self.sort_by(column),
            Action::StartFilter => self.view = View::Filter,
            Action::FilterChar(c) => {
                self.table.filter.push(c);
                self.rebuild();
            }
            Action::FilterBackspace => {
                self.table.filter.pop();
                self.rebuild();
            }
            Action::FilterDone | Action::Back => self.view = View::Table,
            Action::ClearFilter => {
                self.table.filter.clear();
                self.status = None;
                self.view = View::Table;
                self.rebuild();
            }
            Action::Inspect
            | Action::NextHolder
            | Action::Kill(_)
            | Action::ConfirmKill
            | Action::CancelKill
            | Action::CancelUnseen
            | Action::ContainerStopped { .. }
            | Action::Details(..) => return self.update_owner_view(action),
            Action::Status(status) => self.status = Some(status),
            Action::ToggleConnections => {
                self.feed.previous_query = self.query;
                self.feed.settling = 2;
                self.query.connections = !self.query.connections;
                self.rebuild();
                return Some(Effect::SetQuery(self.query));
            }
            Action::ToggleAllAddresses => {
                self.feed.previous_query = self.query;
                self.feed.settling = 2;
                self.query.all_addresses = !self.query.all_addresses;
                self.rebuild();
                return Some(Effect::SetQuery(self.query));
            }
            Action::ToggleHelp => {
                self.view = if self.mode() == Mode::Help {
                    View::Table
                } else {
                    View::Help { scroll: 0 }
                };
            }
            Action::Quit => return Some(Effect::Quit),
            Action::Suspend => return Some(Effect::Suspend),
            Action::Viewport(viewport) => {
                self.viewport = viewport;
                self.table.page = viewport.rows.max(1);
                self.clamp_scrolls();
                self.scroll_to_selection();
            }
            Action::Snapshot(snapshot) => return self.on_snapshot(snapshot),
            Action::CollectFailed(error) => self.feed.error = Some(error.to_string()),
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
                self.feed.now = Some(now);
                if self.feed.tracker.expire(now) && !self.feed.paused {
                    self.show(None);
                }
            }
            Action::TogglePause => {
                self.feed.paused = !self.feed.paused;
                if !self.feed.paused {
                    let held = self.feed.held.take();
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
            Action::ToggleHistory => self.view = View::History,
            Action::ToggleExplain => {
                if let Some(socket) = self.selected_socket() {
                    self.view = View::Explain {
                        socket: socket.key(),
                        scroll: 0,
                    };
                }
            }
            Action::ToggleGrouped => {
                self.table.grouped = !self.table.grouped;
                self.rebuild();
            }
            _ => {}
        }
        None
    }

    /// A new collection; the details of the process inspected or about to be stopped are read
    /// again. What stands behind the dialog's target may change while it is open (its
    /// supervisor exits, say): the dialog says what is true now.
    fn on_snapshot(&mut self, mut snapshot: Snapshot) -> Option<Effect> {
        snapshot.put_in_listing_order();
        forward::attach(&mut snapshot.sockets);
        self.take_snapshot(snapshot);
        self.refresh_inspected().or_else(|| {
            self.pending_kill()
                .map(|pending| Effect::Describe(pending.target.key))
        })
    }

    /// A new collection: record what changed, then show it (unless paused).
    ///
    /// What follows a first look is what was there at launch, as a first snapshot is: it
    /// lists the same sockets (the same dump) with their owners, so there is nothing to
    /// record, and at 100,000 sockets not comparing them spares a table of every key.
    fn take_snapshot(&mut self, snapshot: Snapshot) {
        let last = self.feed.held.as_ref().unwrap_or(&self.feed.snapshot);
        if self.feed.loaded && !last.reading_owners {
            let now = self.feed.now.unwrap_or(Stamp::at_secs(0));
            let (query, previous) = (self.query, self.feed.previous_query);
            let settling = self.feed.settling > 0;
            let before = &last.sockets;
            self.feed
                .tracker
                .observe(before, &snapshot.sockets, now, |s: &Socket| {
                    query.admits(s.scope, s.state, s.local_port)
                        && (!settling || previous.admits(s.scope, s.state, s.local_port))
                });
            self.feed.tracker.expire(now);
        }
        // A first look is one more snapshot made with the query of launch: the ones still to
        // settle are those after it.
        if !snapshot.reading_owners {
            self.feed.settling = self.feed.settling.saturating_sub(1);
        }
        self.feed.error = None;
        // The owners a first look waited for are shown even while paused: a pause freezes
        // changes, and owners found are none. A refusal given for lack of them is stale now.
        let completes_first_look = self.feed.snapshot.reading_owners && !snapshot.reading_owners;
        if completes_first_look {
            self.status = None;
        }
        if self.feed.paused && self.feed.loaded && !completes_first_look {
            self.feed.held = Some(snapshot);
        } else {
            self.feed.loaded = true;
            self.show(Some(snapshot));
        }
    }

    /// Shows `snapshot` (or the one shown now) with the recently closed sockets after it.
    fn show(&mut self, snapshot: Option<Snapshot>) {
        // Where the selection is now, in case its socket is not in the new snapshot.
        let hint = self.selected_index_hint();
        if let Some(snapshot) = snapshot {
            self.feed.snapshot = snapshot;
        }
        self.feed.gone = self.feed.tracker.gone().cloned().collect();
        self.rebuild_near(hint);
    }

    // ----- read access for ui/ -----

    pub(crate) fn mode(&self) -> Mode {
        self.view.mode()
    }
    pub(crate) fn sort(&self) -> SortSpec {
        self.table.sort
    }
    pub(crate) fn filter(&self) -> &str {
        &self.table.filter
    }
    pub(crate) fn query(&self) -> Query {
        self.query
    }
    pub(crate) fn snapshot(&self) -> &Snapshot {
        &self.feed.snapshot
    }
    pub(crate) fn is_loaded(&self) -> bool {
        self.feed.loaded
    }
    pub(crate) fn error(&self) -> Option<&str> {
        self.feed.error.as_deref()
    }
    pub(crate) fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }
    pub(crate) fn is_read_only(&self) -> bool {
        self.read_only
    }
    /// The inspect view shown, or shown behind the stop dialog.
    pub(crate) fn inspected(&self) -> Option<&Inspected> {
        self.view.inspected()
    }
    /// What the inspect view shows about `inspected`, for laying it out.
    pub(crate) fn inspect_subject<'a>(&'a self, inspected: &'a Inspected) -> inspect::Subject<'a> {
        inspect::Subject {
            socket: &inspected.socket,
            holder: inspected.holder,
            closed: inspected.closed,
            details: inspected.owner().and_then(|o| self.details_of(o.key)),
            snapshot: &self.feed.snapshot,
        }
    }

    /// The stop the dialog asks about, while it is open.
    pub(crate) fn pending_kill(&self) -> Option<&PendingKill> {
        match &self.view {
            View::Confirm(pending) => Some(pending),
            _ => None,
        }
    }

    /// The container the dialog asks to stop, while it is open.
    pub(crate) fn pending_container_stop(&self) -> Option<&PendingContainerStop> {
        match &self.view {
            View::ConfirmContainer(pending) => Some(pending),
            _ => None,
        }
    }
    /// The latest details read for `key`, if they are for that process.
    pub(crate) fn details_of(&self, key: ProcKey) -> Option<&Result<ProcessDetails, DetailsError>> {
        self.details
            .as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, d)| d)
    }

    /// What the collector should gather: the user's query, widened to connections while a
    /// socket is inspected (its clients and the owner's other sockets are connection ends).
    pub(crate) fn collection_query(&self) -> Query {
        match self.mode() {
            Mode::Inspect | Mode::Confirm => Query {
                connections: true,
                ..self.query
            },
            _ => self.query,
        }
    }
    /// Rows passing toggles and filter.
    pub(crate) fn row_count(&self) -> usize {
        self.table.rows.len()
    }
    /// First visible row's position among all rows.
    pub(crate) fn offset(&self) -> usize {
        self.table.offset
    }

    /// The rows the table body shows right now, in order: only these are ever drawn.
    pub(crate) fn visible_rows(&self) -> impl Iterator<Item = &Socket> {
        let end = self.window_end(self.table.offset);
        self.table.rows[self.table.offset.min(end)..end]
            .iter()
            .map(|&i| self.socket_at(i))
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.feed.paused
    }
    /// Whether the table shown is a first look, its owners still being read.
    pub(crate) fn is_reading_owners(&self) -> bool {
        self.feed.snapshot.reading_owners
    }
    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }
    pub(crate) fn is_grouped(&self) -> bool {
        self.table.grouped
    }
    pub(crate) fn hidden_columns(&self) -> &[Column] {
        &self.table.hidden_columns
    }
    /// What the screen's layout gives each view, as last measured.
    pub(crate) fn viewport(&self) -> Viewport {
        self.viewport
    }
    /// Display columns of the selected row's command line scrolled off (0 for any other row).
    pub(crate) fn command_scroll(&self) -> usize {
        match self.table.command_scroll {
            Some((key, columns)) if self.table.selected == Some(key) => columns,
            _ => 0,
        }
    }
    pub(crate) fn history_filter(&self) -> &str {
        &self.history.filter
    }
    /// How many history lines are scrolled back from the newest.
    pub(crate) fn history_back(&self) -> usize {
        self.history.back
    }
    pub(crate) fn history_len(&self) -> usize {
        self.feed.tracker.history().len()
    }
    pub(crate) fn help_scroll(&self) -> usize {
        match self.view {
            View::Help { scroll } => scroll,
            _ => 0,
        }
    }
    pub(crate) fn explain_scroll(&self) -> usize {
        match self.view {
            View::Explain { scroll, .. } => scroll,
            _ => 0,
        }
    }

    /// The newest collection: the one shown, or, while paused, the one not shown yet. What
    /// is true now (explanations, anything judged on live data) reads this.
    pub(crate) fn latest(&self) -> &Snapshot {
        self.feed.held.as_ref().unwrap_or(&self.feed.snapshot)
    }

    /// Sockets in the newest collection.
    pub(crate) fn live_sockets(&self) -> &[Socket] {
        &self.latest().sockets
    }

    /// Sockets in the snapshot shown, without the closed rows lingering after it.
    pub(crate) fn live_count(&self) -> usize {
        self.feed.snapshot.sockets.len()
    }

    /// Closed rows still shown.
    pub(crate) fn closed_row_count(&self) -> usize {
        let live = self.feed.snapshot.sockets.len();
        self.table.rows.iter().filter(|&&i| i >= live).count()
    }

    /// Row source `i`: a socket of the snapshot shown, or past its end one closed a moment ago.
    fn socket_at(&self, i: usize) -> &Socket {
        socket_at(&self.feed.snapshot.sockets, &self.feed.gone, i)
    }

    /// New for a few seconds, closed and about to leave, or neither.
    pub(crate) fn row_mark(&self, socket: &Socket) -> RowMark {
        let key = socket.key();
        if self.feed.tracker.gone().any(|s| s.key() == key) {
            RowMark::Closed
        } else if self.feed.tracker.is_fresh(&key) {
            RowMark::Fresh
        } else {
            RowMark::Normal
        }
    }

    /// When the runtime should send the next [`Action::Tick`] to expire a mark.
    pub(crate) fn next_deadline(&self) -> Option<Stamp> {
        self.feed.tracker.next_expiry()
    }

    /// History events passing the history's filter, oldest first.
    pub(crate) fn history_lines(&self) -> impl DoubleEndedIterator<Item = &Event> {
        let terms = filter_terms(&self.history.filter);
        self.feed.tracker.history().iter().filter(move |e| {
            terms.is_empty() || {
                let line = e.line().to_lowercase();
                terms.iter().all(|t| line.contains(t.as_str()))
            }
        })
    }

    /// Events dropped from the history to keep it bounded.
    pub(crate) fn history_dropped(&self) -> u64 {
        self.feed.tracker.history().dropped()
    }

    /// The explanation being shown: of the socket as collected now, or, once it has closed, as
    /// last seen (with `closed` set).
    pub(crate) fn explanation(&self) -> Option<(Explanation, bool)> {
        let View::Explain { socket: key, .. } = self.view else {
            return None;
        };
        let live = self.live_sockets();
        // Listeners that closed while watched: the side of a connection they left behind.
        let earlier: Vec<&Event> = self
            .feed
            .tracker
            .history()
            .iter()
            .filter(|e| e.kind == EventKind::Closed && e.socket.state.is_listening())
            .collect();
        if let Some(socket) = live.iter().find(|s| s.key() == key) {
            return Some((explain::socket(socket, live, &self.facts, &earlier), false));
        }
        let gone = self
            .feed
            .snapshot
            .sockets
            .iter()
            .chain(&self.feed.gone)
            .chain(self.feed.tracker.gone())
            .find(|s| s.key() == key)?;
        Some((explain::socket(gone, live, &self.facts, &earlier), true))
    }

    /// Whether row `index` (among all rows) starts a new process group in the grouped view.
    pub(crate) fn starts_group(&self, index: usize) -> bool {
        self.table.grouped
            && (index == 0
                || GroupKey::of(self.socket_at(self.table.rows[index]))
                    != GroupKey::of(self.socket_at(self.table.rows[index - 1])))
    }

    /// Position of the selection among the visible rows.
    pub(crate) fn selected_visible(&self) -> Option<usize> {
        self.selected_index()?.checked_sub(self.table.offset)
    }

    pub(crate) fn selected_socket(&self) -> Option<&Socket> {
        self.selected_index()
            .map(|i| self.socket_at(self.table.rows[i]))
    }

    /// Sockets in the latest snapshot whose owners are hidden by permissions.
    pub(crate) fn hidden_owner_count(&self) -> usize {
        self.feed.snapshot.hidden_owner_count()
    }

    // ----- internals -----

    fn selected_index(&self) -> Option<usize> {
        let key = self.table.selected?;
        let is_selected = |&i: &usize| self.socket_at(i).key() == key;
        let hint = self.table.selected_at.get();
        if self.table.rows.get(hint).is_some_and(is_selected) {
            return Some(hint);
        }
        let found = self.table.rows.iter().position(is_selected)?;
        self.table.selected_at.set(found);
        Some(found)
    }

    /// `→`/`←`: moves the selected row's command line, never past its last character.
    fn scroll_command(&mut self, action: &Action) {
        let Some(key) = self.table.selected else {
            return;
        };
        if !self.viewport.columns.contains(Column::Command) {
            self.status = Some(Status::info(
                "the command line is not shown at this width: Enter inspects it whole",
            ));
            return;
        }
        let end = self.selected_socket().map_or(0, |s| {
            text::width(&command::of_socket(s).inert()).saturating_sub(1)
        });
        let now = self.command_scroll();
        let next = if *action == Action::CommandRight {
            (now + COMMAND_SCROLL_STEP).min(end)
        } else {
            now.saturating_sub(COMMAND_SCROLL_STEP)
        };
        self.table.command_scroll = (next > 0).then_some((key, next));
    }

    /// `1`-`9`: the column at that place on screen, or a word on why there is none.
    fn sort_by_position(&mut self, position: usize) {
        let shown = self.viewport.columns;
        match shown.at(position) {
            Some(column) => {
                // A "no column" word from an earlier digit would now be stale, or wrong.
                if self.status.as_ref().is_some_and(|s| {
                    s.text.starts_with("no column ") || s.text.starts_with("column ")
                }) {
                    self.status = None;
                }
                self.sort_by(column);
            }
            None if position <= shown.on_screen() => {
                self.status = Some(Status::info(format!(
                    "column {position} (the remote end) is not sorted by"
                )));
            }
            None => {
                self.status = Some(Status::info(format!(
                    "no column {position} on screen: {} fit at this width",
                    shown.on_screen()
                )));
            }
        }
    }

    /// Sorts by `column`; choosing the current column again reverses it.
    fn sort_by(&mut self, column: Column) {
        self.set_sort(SortSpec {
            column,
            descending: column == self.table.sort.column && !self.table.sort.descending,
        });
    }

    fn set_sort(&mut self, sort: SortSpec) {
        self.table.sort = sort;
        self.rebuild();
    }

    /// Recomputes the visible rows after the data, toggles, filter or sort changed, keeping
    /// the selection on the same socket, or near its old position if that socket left.
    fn rebuild(&mut self) {
        self.rebuild_near(self.selected_index_hint());
    }

    /// [`App::rebuild`], falling back to row `previous_index` when the selected socket is gone.
    fn rebuild_near(&mut self, previous_index: usize) {
        let terms = filter_terms(&self.table.filter);
        let mut filter = FilterMatcher::new(&terms);
        let (live, gone) = (&self.feed.snapshot.sockets, &self.feed.gone);
        let at = |i: usize| socket_at(live, gone, i);
        let mut rows: Vec<usize> = (0..live.len() + gone.len())
            .filter(|&i| {
                let s = at(i);
                self.query.admits(s.scope, s.state, s.local_port) && filter.matches(s)
            })
            .collect();
        let sort = self.table.sort;
        if self.table.grouped {
            // Each key once, not once per comparison: building one allocates.
            let mut keyed: Vec<(GroupKey, usize)> =
                rows.iter().map(|&i| (GroupKey::of(at(i)), i)).collect();
            keyed.sort_by(|(ka, a), (kb, b)| ka.cmp(kb).then_with(|| sort.compare(at(*a), at(*b))));
            rows = keyed.into_iter().map(|(_, i)| i).collect();
        } else {
            sort.order(&mut rows, at);
        }
        self.table.rows = rows;
        if self.selected_index().is_none() {
            self.table.selected = if self.table.rows.is_empty() {
                None
            } else {
                let i = previous_index.min(self.table.rows.len() - 1);
                Some(self.socket_at(self.table.rows[i]).key())
            };
        }
        self.scroll_to_selection();
    }

    /// Where the selection is (the offset is a fine guess when there is none).
    fn selected_index_hint(&self) -> usize {
        self.selected_index().unwrap_or(self.table.offset)
    }

    fn move_by(&mut self, delta: isize) {
        if self.table.rows.is_empty() {
            return;
        }
        let current = self.selected_index().unwrap_or(0);
        let target = current.saturating_add_signed(delta);
        self.select_index(target.min(self.table.rows.len() - 1));
    }

    fn select_index(&mut self, index: usize) {
        if let Some(&i) = self.table.rows.get(index) {
            let key = self.socket_at(i).key();
            if self.table.selected != Some(key) {
                self.table.command_scroll = None;
            }
            self.table.selected = Some(key);
            self.table.selected_at.set(index);
            self.scroll_to_selection();
        }
    }

    /// Keeps the selection inside the visible window and the window inside the rows.
    fn scroll_to_selection(&mut self) {
        if self.table.grouped {
            self.scroll_to_selection_grouped();
            return;
        }
        let max_offset = self.table.rows.len().saturating_sub(self.table.page);
        if let Some(index) = self.selected_index() {
            if index < self.table.offset {
                self.table.offset = index;
            } else if index >= self.table.offset + self.table.page {
                self.table.offset = index + 1 - self.table.page;
            }
        }
        self.table.offset = self.table.offset.min(max_offset);
    }

    /// The grouped view spends a line on each process heading, so the window is counted in
    /// lines, not rows.
    fn scroll_to_selection_grouped(&mut self) {
        let len = self.table.rows.len();
        // The smallest offset whose window still reaches the last row.
        let mut max_offset = len;
        while max_offset > 0 && self.window_end(max_offset - 1) == len {
            max_offset -= 1;
        }
        if let Some(index) = self.selected_index() {
            if index < self.table.offset {
                self.table.offset = index;
            }
            while index >= self.window_end(self.table.offset) && self.table.offset < index {
                self.table.offset += 1;
            }
        }
        self.table.offset = self.table.offset.min(max_offset);
    }

    /// One past the last row shown when the window starts at row `offset`.
    fn window_end(&self, offset: usize) -> usize {
        let len = self.table.rows.len();
        if !self.table.grouped {
            return (offset + self.table.page).min(len);
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
            if lines + cost > self.table.page {
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

/// Half a page, at least one row.
fn half_page(page: usize) -> isize {
    isize::try_from((page / 2).max(1)).unwrap_or(isize::MAX)
}

/// A page move keeps one row of context.
fn page_step(page: usize) -> isize {
    isize::try_from(page.saturating_sub(1).max(1)).unwrap_or(isize::MAX)
}

/// The filter's words, lower-cased; a row must match every one of them.
fn filter_terms(filter: &str) -> Vec<String> {
    filter.split_whitespace().map(str::to_lowercase).collect()
}

/// Whether each filter term appears in a row's port, address, process, pid, user or command
/// line, for the rows of one rebuild.
///
/// The owners' part (pids, names, command lines, which a hostile process can make megabytes
/// long) is lowered and searched once per owner list, shared by every socket of the same
/// processes, not once per row: 5,000 sockets of one process with a 1 MiB argv took 14 s a
/// keystroke. Terms hold no whitespace and the parts are joined by spaces, so no term can
/// match across two parts.
struct FilterMatcher<'t> {
    terms: &'t [String],
    /// Per owner list (by address: the same list is the same owners), which terms it holds.
    by_owners: rustc_hash::FxHashMap<usize, Vec<bool>>,
}

impl<'t> FilterMatcher<'t> {
    fn new(terms: &'t [String]) -> Self {
        Self {
            terms,
            by_owners: rustc_hash::FxHashMap::default(),
        }
    }

    fn matches(&mut self, socket: &Socket) -> bool {
        if self.terms.is_empty() {
            return true;
        }
        let mut row = format!(
            "{} {} {} {} {}",
            socket.local_endpoint(),
            socket.proto,
            socket.state,
            socket.scope,
            socket.user_label()
        );
        if let Some((addr, port)) = socket.remote {
            row.push(' ');
            row.push_str(&crate::model::format_endpoint(addr, port));
        }
        let row = row.to_lowercase();
        let terms = self.terms;
        let in_owners = self
            .by_owners
            .entry(Arc::as_ptr(&socket.owners).cast::<Owner>().addr())
            .or_insert_with(|| {
                let mut owners = String::new();
                for owner in socket.owners.iter() {
                    // Writing to a String cannot fail.
                    let _ = write!(
                        owners,
                        " {} {} {}",
                        owner.key.pid, owner.name, owner.cmdline
                    );
                }
                let owners = owners.to_lowercase();
                terms.iter().map(|t| owners.contains(t.as_str())).collect()
            });
        terms
            .iter()
            .zip(in_owners.iter())
            .all(|(term, &found)| found || row.contains(term.as_str()))
    }
}

pub(crate) mod action;
pub(crate) mod keymap;
mod owner_view;
#[cfg(test)]
mod tests;
mod views;
