//! The app's state machine, driven action by action; no terminal, no clock, no OS.

use super::*;
use crate::domain::history::EventKind;
use crate::domain::sort::Column;
use crate::model::fixtures::{listener, owner, sample_snapshot, sample_with_vite};
use crate::model::{CollectError, SocketState, UnknownOwner};

fn loaded(query: Query) -> App {
    let mut app = App::new(query);
    app.update(Action::Viewport(Viewport::rows(5)));
    app.update(Action::Snapshot(sample_snapshot()));
    app
}

fn ports(app: &App) -> Vec<u16> {
    app.table
        .rows
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
    app.update(Action::CollectFailed(CollectError::Sockets(
        "netlink said no".into(),
    )));
    assert_eq!(
        app.error(),
        Some("cannot read the socket table: netlink said no")
    );
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
    app.update(Action::Viewport(Viewport::rows(20)));
    app.update(at(0));
    app.update(Action::Snapshot(sample_snapshot()));
    assert_eq!(
        app.history_len(),
        0,
        "what was there at launch did not open"
    );
    assert_eq!(mark_of(&app, 5432), RowMark::Normal);

    app.update(at(1));
    app.update(Action::Snapshot(sample_with_vite()));
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
    app.update(Action::Viewport(Viewport::rows(20)));
    app.update(at(0));
    app.update(Action::Snapshot(sample_with_vite()));
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
    app.update(Action::Viewport(Viewport::rows(20)));
    app.update(at(0));
    app.update(Action::Snapshot(sample_snapshot()));
    app.update(Action::TogglePause);
    assert!(app.is_paused());
    app.update(at(1));
    app.update(Action::Snapshot(sample_with_vite()));
    assert!(!ports(&app).contains(&3000), "frozen");
    assert_eq!(app.history_len(), 1, "recorded");
    assert!(app.live_sockets().iter().any(|s| s.local_port == 3000));
    // Unchanged collections while paused add nothing.
    app.update(Action::Snapshot(sample_with_vite()));
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
    assert_eq!(app.interval(), Duration::from_mins(1));
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
    app.update(Action::Viewport(Viewport::rows(3)));
    app.update(at(0));
    app.update(Action::Snapshot(sample_snapshot()));
    let mut next = sample_with_vite();
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
    // A narrow, short terminal: the explanation is longer than its area.
    app.update(Action::Viewport(Viewport {
        rows: 5,
        explain_width: 40,
        inspect_width: 38,
        ..Viewport::rows(0)
    }));
    app.update(at(0));
    app.update(Action::Snapshot(sample_with_vite()));
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
    // It stops where the last line reaches the bottom of the six-line area, as drawn.
    let lines = app.explanation().unwrap().0.view_lines(40).len();
    assert_eq!(end, lines - 6, "bounded by the laid-out text");
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
    app.update(Action::Viewport(Viewport::rows(6)));
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

use crate::model::{Signal, Target};

/// Selects the node dev server (127.0.0.1:5173).
fn on_node() -> App {
    let mut app = loaded(Query::default());
    app.update(Action::Down);
    assert_eq!(selected_port(&app), Some(5173));
    app
}

/// The signal an effect asks the runtime to send, if it asks for one.
fn signal_of(effect: Option<Effect>) -> Option<(Target, Signal, u16)> {
    match effect? {
        Effect::Signal {
            target,
            signal,
            port,
            ..
        } => Some((target, signal, port)),
        _ => None,
    }
}

#[test]
fn nothing_is_signalled_until_the_user_confirms() {
    let mut app = on_node();
    let shown = app.selected_socket().unwrap().owners[0].clone();
    let node = shown.key;
    let effect = app.update(Action::Kill(Signal::Term));
    assert_eq!(effect, Some(Effect::Describe(node)), "only a read");
    assert_eq!(app.mode(), Mode::Confirm);
    // Refreshes and unrelated keys while the dialog is open send nothing.
    for action in [
        Action::Snapshot(sample_snapshot()),
        Action::Down,
        Action::Details(node, Box::new(Err(DetailsError::Gone(node.pid)))),
    ] {
        assert_eq!(signal_of(app.update(action)), None);
    }
    let asked = signal_of(app.update(Action::ConfirmKill));
    assert_eq!(
        asked,
        Some((Target::of(&shown), Signal::Term, 5173)),
        "the process as shown, for the port of the row"
    );
    assert_eq!(
        app.status().unwrap().text,
        "sending SIGTERM to node 4812..."
    );
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

/// The first look at a large table, before owners are read: the same sockets, none with an
/// owner.
fn first_look(snapshot: &Snapshot) -> Snapshot {
    let mut first = snapshot.clone();
    first.reading_owners = true;
    for socket in &mut first.sockets {
        socket.owners = Arc::from([]);
        socket.unknown = Some(UnknownOwner::Reading);
    }
    first
}

#[test]
fn owners_read_after_the_first_look_are_no_change_and_cannot_be_stopped_before() {
    let mut app = App::new(Query::default());
    app.update(Action::Viewport(Viewport::rows(20)));
    app.update(at(0));
    app.update(Action::Snapshot(first_look(&sample_snapshot())));
    // Nothing to stop yet: the owner is not known, and the reason says why.
    assert_eq!(app.update(Action::Kill(Signal::Term)), None);
    assert_eq!(app.mode(), Mode::Table);
    let status = app.status().unwrap();
    assert!(status.is_error);
    assert!(status.text.contains("still being read"), "{}", status.text);

    app.update(at(1));
    app.update(Action::Snapshot(sample_snapshot()));
    assert_eq!(app.history_len(), 0, "owners found are not owners changed");
    assert_eq!(mark_of(&app, 5432), RowMark::Normal);
    assert!(app.selected_socket().is_some_and(|s| !s.owners.is_empty()));
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
        start_ticks: 0,
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

#[test]
fn the_inspect_view_scrolls_to_its_last_line_and_no_further() {
    let mut app = on_node();
    app.update(Action::Viewport(Viewport {
        rows: 5,
        explain_width: 40,
        inspect_width: 38,
        ..Viewport::rows(0)
    }));
    app.update(Action::Inspect);
    for _ in 0..500 {
        app.update(Action::Down);
    }
    let inspected = app.inspected().unwrap();
    let lines = inspect::page(&app.inspect_subject(inspected), 38).len();
    assert!(lines > 10, "a real page: {lines} lines");
    assert_eq!(inspected.scroll, lines - 1, "stops at the last line");
    app.update(Action::Up);
    assert_eq!(
        app.inspected().unwrap().scroll,
        lines - 2,
        "one key back up"
    );
}

#[test]
fn a_terminal_that_grows_leaves_no_view_scrolled_past_its_end() {
    let mut app = on_node();
    let small = Viewport {
        rows: 5,
        explain_width: 40,
        inspect_width: 38,
        ..Viewport::rows(0)
    };
    let large = Viewport {
        rows: 26,
        explain_width: 120,
        inspect_width: 118,
        ..Viewport::rows(0)
    };
    app.update(Action::Viewport(small));
    app.update(Action::Inspect);
    for _ in 0..500 {
        app.update(Action::Down);
    }
    app.update(Action::Viewport(large));
    let end = inspect::page(&app.inspect_subject(app.inspected().unwrap()), 118).len() - 1;
    assert_eq!(app.inspected().unwrap().scroll, end);
    app.update(Action::Back);
    app.update(Action::ToggleExplain);
    app.update(Action::Viewport(small));
    for _ in 0..500 {
        app.update(Action::Down);
    }
    app.update(Action::Viewport(large));
    assert_eq!(app.explain_scroll(), 0, "the whole explanation fits now");
}

// ----- keys people bring from htop -----

#[test]
fn digits_sort_by_the_column_at_that_place_on_screen() {
    let mut app = loaded(Query::default());
    // A narrow screen shows Proto, Port, Pid, Process only.
    app.update(Action::Viewport(Viewport {
        columns: Shown::new([Column::Proto, Column::Port, Column::Pid, Column::Process]),
        ..Viewport::rows(5)
    }));
    app.update(Action::SortByPosition(4));
    assert_eq!(app.sort().column, Column::Process);
    assert!(!app.sort().descending);
    app.update(Action::SortByPosition(4));
    assert!(app.sort().descending, "again: reversed");
    app.update(Action::SortByPosition(3));
    assert_eq!(app.sort().column, Column::Pid);
    assert_eq!(app.status(), None);
}

#[test]
fn a_digit_past_the_columns_on_screen_says_so_and_keeps_the_sort() {
    let mut app = loaded(Query::default());
    app.update(Action::Viewport(Viewport {
        columns: Shown::new([Column::Proto, Column::Port]),
        ..Viewport::rows(5)
    }));
    let before = app.sort();
    app.update(Action::SortByPosition(7));
    assert_eq!(app.sort(), before);
    let status = app.status().unwrap();
    assert!(!status.is_error);
    assert_eq!(status.text, "no column 7 on screen: 2 fit at this width");
    // Nothing shown at all (a screen too small for the table).
    app.update(Action::Viewport(Viewport {
        columns: Shown::NONE,
        ..Viewport::rows(5)
    }));
    app.update(Action::SortByPosition(1));
    assert_eq!(app.sort(), before);
    // A digit that does sort takes the stale word away.
    app.update(Action::Viewport(Viewport {
        columns: Shown::new([Column::Proto, Column::Port]),
        ..Viewport::rows(5)
    }));
    app.update(Action::SortByPosition(7));
    assert!(app.status().is_some());
    app.update(Action::SortByPosition(2));
    assert!(app.status().is_none(), "{:?}", app.status());
}

#[test]
fn ctrl_d_and_ctrl_u_move_half_a_page() {
    let mut app = App::new(Query::default());
    app.update(Action::Viewport(Viewport::rows(4)));
    app.update(Action::Snapshot(sample_snapshot()));
    assert_eq!(selected_port(&app), Some(53));
    app.update(Action::HalfPageDown);
    assert_eq!(ports(&app)[2], selected_port(&app).unwrap());
    app.update(Action::HalfPageDown);
    assert_eq!(ports(&app)[4], selected_port(&app).unwrap());
    app.update(Action::HalfPageUp);
    assert_eq!(ports(&app)[2], selected_port(&app).unwrap());
    // A one-row page still moves.
    app.update(Action::Viewport(Viewport::rows(1)));
    app.update(Action::HalfPageUp);
    assert_eq!(ports(&app)[1], selected_port(&app).unwrap());
}

#[test]
fn the_command_line_scrolls_for_the_selected_row_and_resets_on_a_new_selection() {
    let mut app = loaded(Query::default());
    while selected_port(&app) != Some(5432) {
        app.update(Action::Down);
    }
    // "postgres -D /var/lib/postgresql/16/main": 39 columns.
    app.update(Action::CommandLeft);
    assert_eq!(app.command_scroll(), 0, "never left of the start");
    app.update(Action::CommandRight);
    assert_eq!(app.command_scroll(), COMMAND_SCROLL_STEP);
    for _ in 0..100 {
        app.update(Action::CommandRight);
    }
    assert_eq!(app.command_scroll(), 38, "the last character stays in view");
    app.update(Action::CommandLeft);
    assert_eq!(app.command_scroll(), 38 - COMMAND_SCROLL_STEP);
    // A refresh keeps it; another row starts from the left, and coming back does too.
    app.update(Action::Snapshot(sample_snapshot()));
    assert_eq!(app.command_scroll(), 38 - COMMAND_SCROLL_STEP);
    app.update(Action::Down);
    assert_eq!(app.command_scroll(), 0);
    app.update(Action::Up);
    assert_eq!(app.command_scroll(), 0);
    // Without the Command column on screen there is nothing to scroll, and the status says so.
    app.update(Action::Viewport(Viewport {
        columns: Shown::new([Column::Port, Column::Pid, Column::Process]),
        ..Viewport::rows(5)
    }));
    app.update(Action::CommandRight);
    assert_eq!(app.command_scroll(), 0);
    assert!(
        app.status()
            .unwrap()
            .text
            .contains("not shown at this width")
    );
    // A row with no owner has nothing to scroll.
    let mut app = App::new(Query::default());
    app.update(Action::Snapshot(Snapshot {
        sockets: vec![listener("127.0.0.1", 80, Vec::new())],
        privileged: false,
        ..Default::default()
    }));
    app.update(Action::CommandRight);
    assert_eq!(app.command_scroll(), 0);
}

/// The launch query's collection: what the poller collects before it reads a queued query.
fn admitted(snapshot: &Snapshot, query: Query) -> Snapshot {
    let mut s = snapshot.clone();
    s.sockets
        .retain(|s| query.admits(s.scope, s.state, s.local_port));
    s
}

/// A key that widens the query pressed before the first look arrives: the poller hands out
/// the first look and its owners with the launch query, then the new query's collection.
/// Nothing opened (the connections were there at launch).
#[test]
fn widening_the_query_before_the_first_look_arrives_opens_nothing() {
    let launch = Query::default();
    let mut app = App::new(launch);
    app.update(Action::Viewport(Viewport::rows(20)));
    app.update(at(0));
    let wider = app.update(Action::ToggleConnections);
    assert!(matches!(wider, Some(Effect::SetQuery(q)) if q.connections));
    let before = admitted(&sample_snapshot(), launch);
    app.update(Action::Snapshot(first_look(&before)));
    app.update(at(1));
    app.update(Action::Snapshot(before));
    app.update(at(2));
    app.update(Action::Snapshot(sample_snapshot()));
    let lines: Vec<String> = app.history_lines().map(Event::line).collect();
    assert_eq!(app.history_len(), 0, "nothing opened: {lines:#?}");
}

/// Paused at launch: the owners a first look waited for still show (they are no change), so
/// the table does not go on saying they are being read, and a stop can be asked for.
#[test]
fn paused_during_the_first_look_the_owners_still_show() {
    let mut app = App::new(Query::default());
    app.update(Action::Viewport(Viewport::rows(20)));
    app.update(at(0));
    app.update(Action::TogglePause);
    app.update(Action::Snapshot(first_look(&sample_snapshot())));
    assert_eq!(app.update(Action::Kill(Signal::Term)), None);
    assert!(
        app.status()
            .is_some_and(|s| s.text.contains("still being read"))
    );
    app.update(at(1));
    app.update(Action::Snapshot(sample_snapshot()));
    assert!(!app.is_reading_owners());
    assert!(app.is_paused(), "still paused");
    assert_eq!(
        app.status(),
        None,
        "the refusal for want of owners is gone with it"
    );
    assert!(app.selected_socket().is_some_and(|s| !s.owners.is_empty()));
    assert_eq!(app.history_len(), 0);
}

/// Every stop key on every row of a first look, from the table and from inspect: nothing
/// opens a dialog or signals.
#[test]
fn no_row_of_a_first_look_can_be_stopped() {
    let mut app = App::new(Query::EVERYTHING);
    app.update(Action::Viewport(Viewport::rows(40)));
    app.update(Action::Snapshot(first_look(&sample_snapshot())));
    for _ in 0..app.row_count() {
        for signal in [Signal::Term, Signal::Kill] {
            assert_eq!(app.update(Action::Kill(signal)), None);
            assert_eq!(app.update(Action::ConfirmKill), None);
            assert_ne!(app.mode(), Mode::Confirm);
            app.update(Action::Inspect);
            assert_eq!(app.update(Action::Kill(signal)), None);
            assert_eq!(app.update(Action::ConfirmKill), None);
            assert_ne!(app.mode(), Mode::Confirm);
            app.update(Action::Back);
        }
        app.update(Action::Down);
    }
}

/// The filter decides once per owner list what it finds in the owners, and finds the same as
/// searching each row whole: a term in the row's own part, one in its owners', one in neither.
#[test]
fn the_filter_finds_terms_in_a_rows_own_part_and_in_its_shared_owners() {
    let mut app = App::new(Query::EVERYTHING);
    app.update(Action::Viewport(Viewport::rows(40)));
    app.update(Action::Snapshot(sample_snapshot()));
    let shown = |app: &mut App, filter: &str| -> Vec<u16> {
        app.update(Action::StartFilter);
        for c in filter.chars() {
            app.update(Action::FilterChar(c));
        }
        app.update(Action::FilterDone);
        let ports = ports(app);
        app.update(Action::StartFilter);
        app.update(Action::ClearFilter);
        ports
    };
    let all = ports(&app);
    assert!(shown(&mut app, "zzz-nowhere").is_empty());
    assert_eq!(
        shown(&mut app, "POSTGRES 5432"),
        [5432],
        "owner part and own part"
    );
    assert_eq!(
        shown(&mut app, "5173 NODE"),
        [5173, 5173, 5173],
        "node's listeners and its end of the connection, not curl's (5173 in its own part)"
    );
    assert_eq!(shown(&mut app, "62893 curl"), [62893], "curl's end only");
    assert_eq!(ports(&app), all);
}
