//! Frames rendered on ratatui's TestBackend: text snapshots (insta) for the look, buffer
//! asserts for the styles text snapshots cannot show, and hit tests against what was drawn.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;

use super::{Hit, Theme, draw, hit_test, viewport};
use crate::app::App;
use crate::app::action::{Action, Viewport};
use crate::domain::sort::Column;
use crate::model::Snapshot;
use crate::model::fixtures::{listener, owner, sample_snapshot, tunnels};
use crate::model::{CollectError, Query};

fn area(width: u16, height: u16) -> Rect {
    Rect::new(0, 0, width, height)
}

/// An app sized for a `width` x `height` terminal, fed the sample snapshot, then `actions`.
fn app(width: u16, height: u16, actions: impl IntoIterator<Item = Action>) -> App {
    let mut app = App::new(Query::default());
    let measured = viewport(area(width, height), &app);
    app.update(Action::Viewport(measured));
    app.update(Action::Snapshot(sample_snapshot()));
    for action in actions {
        app.update(action);
    }
    app
}

fn render(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw(frame, app)).unwrap();
    terminal
}

fn buffer(app: &App, width: u16, height: u16) -> Buffer {
    render(app, width, height).backend().buffer().clone()
}

fn line(buffer: &Buffer, y: u16) -> String {
    (0..buffer.area.width)
        .map(|x| buffer[(x, y)].symbol())
        .collect::<String>()
}

/// The x where `needle` starts on line `y` (in cells, not bytes).
fn find(buffer: &Buffer, y: u16, needle: &str) -> Option<u16> {
    let cells: Vec<&str> = (0..buffer.area.width)
        .map(|x| buffer[(x, y)].symbol())
        .collect();
    let needle: Vec<String> = needle.chars().map(String::from).collect();
    (0..cells.len().saturating_sub(needle.len() - 1))
        .find(|&x| {
            needle
                .iter()
                .enumerate()
                .all(|(i, ch)| cells[x + i] == ch.as_str())
        })
        .map(|x| u16::try_from(x).unwrap())
}

/// The row (y) of the first body line containing `needle`.
fn row_of(buffer: &Buffer, needle: &str) -> u16 {
    (2..buffer.area.height)
        .find(|&y| line(buffer, y).contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not drawn"))
}

// ----- snapshots -----

#[test]
fn frame_120x30() {
    insta::assert_snapshot!(render(&app(120, 30, []), 120, 30).backend());
}

/// A large table's first look: the header says the owners are being read, each row says so
/// where the owner would be, and nothing pretends to know a process.
#[test]
fn frame_120x30_first_look_before_owners() {
    let mut first = sample_snapshot();
    first.reading_owners = true;
    for socket in &mut first.sockets {
        socket.owners = std::sync::Arc::from([]);
        socket.unknown = Some(crate::model::UnknownOwner::Reading);
    }
    let mut app = App::new(Query::default());
    app.update(Action::Viewport(viewport(area(120, 30), &app)));
    app.update(Action::Snapshot(first));
    let terminal = render(&app, 120, 30);
    let buf = terminal.backend().buffer().clone();
    assert!(
        line(&buf, 0).contains("reading owners…"),
        "{}",
        line(&buf, 0)
    );
    row_of(&buf, "(reading)");
    insta::assert_snapshot!(terminal.backend());
}

/// Forwarders name where their ports lead in the Process column.
#[test]
fn frame_120x30_forwarders() {
    let mut app = App::new(Query::default());
    app.update(Action::Viewport(viewport(area(120, 30), &app)));
    app.update(Action::Snapshot(tunnels()));
    let terminal = render(&app, 120, 30);
    let buf = terminal.backend().buffer().clone();
    for label in [
        "ssh -> db.internal:5432",
        "ssh -> SOCKS",
        "kubectl -> svc/postgres:5432",
        "socat -> 127.0.0.1:80",
        "docker-proxy -> 172.17.0.2:8080",
    ] {
        row_of(&buf, label);
    }
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn frame_80x24() {
    insta::assert_snapshot!(render(&app(80, 24, []), 80, 24).backend());
}

#[test]
fn frame_40x12() {
    insta::assert_snapshot!(render(&app(40, 12, []), 40, 12).backend());
}

#[test]
fn frame_120x30_connections() {
    let app = app(120, 30, [Action::ToggleConnections]);
    insta::assert_snapshot!(render(&app, 120, 30).backend());
}

#[test]
fn frame_80x24_connections() {
    let app = app(80, 24, [Action::ToggleConnections]);
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn frame_40x12_connections() {
    let app = app(40, 12, [Action::ToggleConnections]);
    insta::assert_snapshot!(render(&app, 40, 12).backend());
}

#[test]
fn frame_120x30_help() {
    let app = app(120, 30, [Action::ToggleHelp]);
    insta::assert_snapshot!(render(&app, 120, 30).backend());
}

#[test]
fn frame_80x24_help() {
    let app = app(80, 24, [Action::ToggleHelp]);
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn frame_80x24_help_scrolled_to_the_end() {
    let app = app(
        80,
        24,
        [
            Action::ToggleHelp,
            Action::PageDown,
            Action::PageDown,
            Action::PageDown,
        ],
    );
    let terminal = render(&app, 80, 24);
    let text = format!("{:?}", terminal.backend());
    assert!(
        text.contains("all interfaces"),
        "the scopes legend is reachable"
    );
    assert!(
        !text.contains("more below"),
        "nothing is left below the end"
    );
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn frame_40x12_help() {
    let app = app(40, 12, [Action::ToggleHelp]);
    insta::assert_snapshot!(render(&app, 40, 12).backend());
}

#[test]
fn frame_80x24_filter_typing() {
    let mut actions = vec![Action::StartFilter];
    actions.extend("node".chars().map(Action::FilterChar));
    let app = app(80, 24, actions);
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn frame_80x24_filter_kept_with_no_match() {
    let mut actions = vec![Action::StartFilter];
    actions.extend("mysql".chars().map(Action::FilterChar));
    actions.push(Action::FilterDone);
    let app = app(80, 24, actions);
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn frame_80x24_collecting() {
    let mut app = App::new(Query::default());
    let measured = viewport(area(80, 24), &app);
    app.update(Action::Viewport(measured));
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn frame_80x24_error_after_data() {
    let app = app(
        80,
        24,
        [Action::CollectFailed(CollectError::Sockets(
            "netlink: Operation not permitted".to_string(),
        ))],
    );
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn frame_80x24_error_before_data() {
    let mut app = App::new(Query::default());
    let measured = viewport(area(80, 24), &app);
    app.update(Action::Viewport(measured));
    app.update(Action::CollectFailed(CollectError::Sockets(
        "netlink: Operation not permitted".to_string(),
    )));
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn frame_too_small() {
    insta::assert_snapshot!(render(&app(20, 5, []), 20, 5).backend());
}

#[test]
fn frame_too_small_wide_but_short() {
    insta::assert_snapshot!(render(&app(80, 4, []), 80, 4).backend());
}

#[test]
fn frame_80x24_all_addresses_and_connections_sorted_by_process_descending() {
    let app = app(
        80,
        24,
        [
            Action::ToggleConnections,
            Action::ToggleAllAddresses,
            Action::SortBy(Column::Process),
            Action::SortBy(Column::Process),
        ],
    );
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

// ----- styles -----

#[test]
fn the_selected_row_carries_the_selection_style_and_marker() {
    let app = app(120, 30, [Action::Down, Action::Down]);
    let buf = buffer(&app, 120, 30);
    let selected = app.selected_socket().unwrap();
    let y = 2 + u16::try_from(app.selected_visible().unwrap()).unwrap();
    assert!(line(&buf, y).contains(&selected.process_label()));
    assert!(line(&buf, y).starts_with("> "));
    for x in 0..120 {
        assert!(
            buf[(x, y)].modifier.contains(Modifier::REVERSED),
            "cell {x} of the selected row"
        );
    }
    // No other row is highlighted or marked.
    for other in (2..y).chain(y + 1..28) {
        assert!(!buf[(5, other)].modifier.contains(Modifier::REVERSED));
        assert!(!line(&buf, other).starts_with('>'));
    }
}

#[test]
fn the_sorted_column_title_shows_the_direction() {
    let mut app = app(120, 30, []);
    let buf = buffer(&app, 120, 30);
    assert!(line(&buf, 1).contains("Port ▲"), "{}", line(&buf, 1));
    let x = find(&buf, 1, "Port").unwrap();
    assert_eq!(buf[(x, 1)].style().fg, Theme::default().sorted_header.fg);

    app.update(Action::SortReverse);
    let buf = buffer(&app, 120, 30);
    assert!(line(&buf, 1).contains("Port ▼"));
    assert!(!line(&buf, 1).contains('▲'));

    app.update(Action::SortBy(Column::Process));
    let buf = buffer(&app, 120, 30);
    assert!(line(&buf, 1).contains("Process ▲"));
    assert!(!line(&buf, 1).contains("Port ▼"));
}

#[test]
fn all_interfaces_is_marked_with_a_symbol_and_the_exposed_style() {
    let theme = Theme::default();
    // Not selected, so the selection style does not mix in.
    let app = app(120, 30, []);
    let buf = buffer(&app, 120, 30);
    let y = row_of(&buf, "8080");
    let x = find(&buf, y, "⚠ all interfaces").unwrap();
    for dx in 0..16 {
        assert_eq!(buf[(x + dx, y)].fg, theme.exposed.fg.unwrap());
        assert!(buf[(x + dx, y)].modifier.contains(Modifier::BOLD));
    }
    // Loopback rows are not marked.
    let y = row_of(&buf, "5432");
    assert!(!line(&buf, y).contains('⚠'));
}

#[test]
fn narrow_terminals_move_the_exposure_marker_onto_the_port() {
    let theme = Theme::default();
    let app = app(40, 12, []);
    let buf = buffer(&app, 40, 12);
    assert!(!line(&buf, 1).contains("Scope"));
    let y = row_of(&buf, "8080");
    let x = find(&buf, y, "⚠ 8080").unwrap();
    assert_eq!(buf[(x, y)].fg, theme.exposed.fg.unwrap());
    assert_eq!(buf[(x + 2, y)].fg, theme.exposed.fg.unwrap());
}

#[test]
fn unknown_owners_are_dimmed() {
    let app = app(120, 30, []);
    let buf = buffer(&app, 120, 30);
    let y = row_of(&buf, "6379");
    let row = line(&buf, y);
    assert!(row.contains("(hidden)"), "{row}");
    assert!(
        row.contains("redis"),
        "the user comes from the socket: {row}"
    );
    for needle in ["(hidden)", "-"] {
        let x = find(&buf, y, needle).unwrap();
        assert!(buf[(x, y)].modifier.contains(Modifier::DIM), "{needle}");
        assert!(buf[(x, y)].modifier.contains(Modifier::ITALIC), "{needle}");
    }
}

#[test]
fn errors_are_red_and_carry_a_symbol() {
    let app = app(
        80,
        24,
        [Action::CollectFailed(CollectError::Sockets(
            "boom".to_string(),
        ))],
    );
    let buf = buffer(&app, 80, 24);
    let status = line(&buf, 22);
    assert!(
        status.starts_with("✖ cannot read the socket table: boom"),
        "{status}"
    );
    assert_eq!(buf[(2, 22)].fg, Theme::default().error.fg.unwrap());
}

// ----- layout agreements -----

#[test]
fn table_body_rows_is_what_draw_fills() {
    let many = Snapshot {
        sockets: (0..100)
            .map(|i| {
                listener(
                    "127.0.0.1",
                    10_000 + i,
                    vec![owner(3000 + u32::from(i), "srv", "ana", "srv")],
                )
            })
            .collect(),
        privileged: true,
        ..Default::default()
    };
    for (width, height) in [(120, 30), (80, 24), (40, 12), (30, 6)] {
        let rows = viewport(area(width, height), &App::new(Query::default())).rows;
        assert_eq!(rows, usize::from(height) - 4);
        let mut app = App::new(Query::default());
        app.update(Action::Viewport(Viewport::rows(rows)));
        app.update(Action::Snapshot(many.clone()));
        let buf = buffer(&app, width, height);
        let last_body = height - 3;
        assert!(
            line(&buf, last_body).contains(&format!("{}", 10_000 + rows - 1)),
            "{width}x{height}"
        );
        // The status line is empty (privileged, no error); then the footer.
        assert_eq!(line(&buf, height - 2).trim(), "", "{width}x{height}");
        assert!(
            line(&buf, height - 1).starts_with("q quit"),
            "{width}x{height}"
        );

        // Paging moves by what was drawn: the first PgDn selects the last drawn row, the
        // second brings it to the top (one row of context).
        app.update(Action::PageDown);
        app.update(Action::PageDown);
        let buf = buffer(&app, width, height);
        assert!(
            line(&buf, 2).contains(&format!("{}", 10_000 + rows - 1)),
            "{width}x{height}"
        );
    }
    let app = App::new(Query::default());
    assert_eq!(viewport(area(29, 24), &app).rows, 0);
    assert_eq!(viewport(area(80, 5), &app).rows, 0);
}

#[test]
fn header_clicks_hit_the_column_drawn_there() {
    for (width, height, connections) in [
        (120, 30, false),
        (80, 24, false),
        (40, 12, false),
        (120, 30, true),
        (80, 24, true),
    ] {
        let actions = if connections {
            vec![Action::ToggleConnections]
        } else {
            vec![]
        };
        let app = app(width, height, actions);
        let buf = buffer(&app, width, height);
        let header = line(&buf, 1);
        let screen = area(width, height);
        let mut seen = Vec::new();
        for column in Column::ALL {
            match find(&buf, 1, column.title()) {
                Some(x) => {
                    // Every cell of the drawn title maps to its column.
                    for dx in 0..u16::try_from(column.title().chars().count()).unwrap() {
                        assert_eq!(
                            hit_test(screen, &app, x + dx, 1),
                            Some(Hit::Header(column)),
                            "{width}x{height} {column:?} at {}",
                            x + dx
                        );
                    }
                    seen.push(column);
                }
                None => {
                    // A dropped column is hit nowhere.
                    for x in 0..width {
                        assert_ne!(
                            hit_test(screen, &app, x, 1),
                            Some(Hit::Header(column)),
                            "{width}x{height}: {header}"
                        );
                    }
                }
            }
        }
        assert!(seen.contains(&Column::Port), "{header}");
        assert!(seen.contains(&Column::Process), "{header}");
        // The gap before the first title and the selection marker column hit nothing.
        assert_eq!(hit_test(screen, &app, 0, 1), None);
        // The header line above the table is not a column title.
        assert_eq!(hit_test(screen, &app, 10, 0), None);
    }
    // At 80 columns the command line and user are dropped.
    let app = app(80, 24, []);
    let buf = buffer(&app, 80, 24);
    assert!(find(&buf, 1, "Command line").is_none());
    assert!(
        (0..80).all(|x| hit_test(area(80, 24), &app, x, 1) != Some(Hit::Header(Column::Command)))
    );
}

#[test]
fn row_clicks_hit_the_row_drawn_there() {
    for (width, height) in [(120, 30), (80, 24), (40, 12)] {
        let app = app(width, height, [Action::ToggleConnections]);
        let buf = buffer(&app, width, height);
        let screen = area(width, height);
        let drawn: Vec<_> = app.visible_rows().collect();
        for (k, socket) in drawn.iter().enumerate() {
            let y = 2 + u16::try_from(k).unwrap();
            assert!(
                line(&buf, y).contains(&socket.local_port.to_string()),
                "{width}x{height} row {k}"
            );
            for x in [0, width / 2, width - 1] {
                assert_eq!(
                    hit_test(screen, &app, x, y),
                    Some(Hit::Row(k)),
                    "{width}x{height} ({x},{y})"
                );
            }
        }
        // Below the last row, the status line and the footer: nothing.
        let after = 2 + u16::try_from(drawn.len()).unwrap();
        for y in after..height {
            assert_eq!(hit_test(screen, &app, 3, y), None, "{width}x{height} y={y}");
        }
    }
}

#[test]
fn a_click_selects_what_was_clicked() {
    let mut app = app(80, 24, []);
    let buf = buffer(&app, 80, 24);
    let y = row_of(&buf, "5432");
    let Some(Hit::Row(k)) = hit_test(area(80, 24), &app, 10, y) else {
        panic!("no row at {y}");
    };
    app.update(Action::SelectVisible(k));
    assert_eq!(app.selected_socket().unwrap().local_port, 5432);
}

#[test]
fn the_help_overlay_swallows_clicks_and_too_small_screens_have_no_targets() {
    let app_help = app(80, 24, [Action::ToggleHelp]);
    assert_eq!(hit_test(area(80, 24), &app_help, 10, 3), None);
    let app = app(20, 5, []);
    assert_eq!(hit_test(area(20, 5), &app, 1, 1), None);
}

#[test]
fn every_footer_hint_and_help_line_comes_from_the_keymap() {
    let app_table = app(120, 30, []);
    let buf = buffer(&app_table, 120, 30);
    let footer = line(&buf, 29);
    for (key, text) in crate::app::keymap::footer_hints(crate::app::keymap::Context::Table, false) {
        assert!(footer.contains(&format!("{key} {text}")), "{footer}");
    }
    // Tall enough for the whole overlay.
    let app_help = app(120, 40, [Action::ToggleHelp]);
    let buf = buffer(&app_help, 120, 40);
    let screen: String = (0..40).map(|y| line(&buf, y) + "\n").collect();
    for context in [
        crate::app::keymap::Context::Table,
        crate::app::keymap::Context::Filter,
    ] {
        for (_, help) in crate::app::keymap::help_lines(context) {
            assert!(screen.contains(help), "{help} missing:\n{screen}");
        }
    }
}

#[test]
fn large_snapshots_draw_one_page() {
    let many = Snapshot {
        sockets: (0..10_000u32)
            .map(|i| {
                let port = u16::try_from(i % 60_000 + 1).unwrap();
                listener(
                    "127.0.0.1",
                    port,
                    vec![owner(i + 2, "srv", "ana", "srv --flag")],
                )
            })
            .collect(),
        privileged: true,
        ..Default::default()
    };
    let mut app = App::new(Query::default());
    let measured = viewport(area(120, 30), &app);
    app.update(Action::Viewport(measured));
    app.update(Action::Snapshot(many));
    let buf = buffer(&app, 120, 30);
    assert!(line(&buf, 0).contains("10000 sockets"));
    assert_eq!(app.visible_rows().count(), 26);
}

// ----- changes, history, explain, grouping -----

fn tick(secs: u64) -> Action {
    Action::Tick(crate::model::Stamp::at_secs(1_764_165_821 + secs))
}

/// The sample, then a second collection in which vite opened on 3000 and postgres closed.
fn changed_app(width: u16, height: u16, actions: impl IntoIterator<Item = Action>) -> App {
    let mut app = App::with_settings(
        Query::default(),
        crate::app::Settings {
            facts: crate::model::SystemFacts::linux_defaults(),
            ..crate::app::Settings::default()
        },
    );
    let measured = viewport(area(width, height), &app);
    app.update(Action::Viewport(measured));
    app.update(tick(0));
    app.update(Action::Snapshot(sample_snapshot()));
    let mut next = sample_snapshot();
    next.sockets.retain(|s| s.local_port != 5432);
    next.sockets.push(listener(
        "127.0.0.1",
        3000,
        vec![owner(4900, "node", "ana", "vite")],
    ));
    app.update(tick(1));
    app.update(Action::Snapshot(next));
    for action in actions {
        app.update(action);
    }
    app
}

#[test]
fn frame_120x30_new_and_closed_rows() {
    let app = changed_app(120, 30, []);
    insta::assert_snapshot!(render(&app, 120, 30).backend());
}

#[test]
fn frame_80x24_new_and_closed_rows_paused() {
    let app = changed_app(80, 24, [Action::TogglePause]);
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn new_rows_are_bold_and_marked_and_closed_rows_struck_through() {
    let theme = Theme::default();
    let app = changed_app(120, 30, []);
    let buf = buffer(&app, 120, 30);
    let y = row_of(&buf, "3000");
    assert_eq!(buf[(1, y)].symbol(), "+");
    let x = find(&buf, y, "3000").unwrap();
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
    assert_eq!(buf[(x, y)].fg, theme.fresh.fg.unwrap());

    let y = row_of(&buf, "5432");
    assert_eq!(buf[(1, y)].symbol(), "-");
    assert!(line(&buf, y).contains("closed"), "{}", line(&buf, y));
    let x = find(&buf, y, "5432").unwrap();
    assert!(buf[(x, y)].modifier.contains(Modifier::CROSSED_OUT));
    assert!(buf[(x, y)].modifier.contains(Modifier::DIM));
    assert!(line(&buf, 0).contains("1 just closed"), "{}", line(&buf, 0));

    // Once their time is up, both are plain rows (or gone).
    let mut app = app;
    app.update(tick(10));
    let buf = buffer(&app, 120, 30);
    let y = row_of(&buf, "3000");
    assert_eq!(buf[(1, y)].symbol(), " ");
    assert!(!line(&buf, 0).contains("closed"));
    assert!((2..28).all(|y| !line(&buf, y).contains("5432")));
}

#[test]
fn frame_120x30_history() {
    let app = changed_app(120, 30, [Action::ToggleHistory]);
    insta::assert_snapshot!(render(&app, 120, 30).backend());
}

#[test]
fn frame_80x24_history_filtered() {
    let mut actions = vec![Action::ToggleHistory, Action::StartFilter];
    actions.extend("vite".chars().map(Action::FilterChar));
    let app = changed_app(80, 24, actions);
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn frame_80x24_history_empty() {
    let app = app(80, 24, [Action::ToggleHistory]);
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

fn explaining(width: u16, height: u16, port: u16) -> App {
    let mut app = changed_app(width, height, []);
    while app.selected_socket().map(|s| s.local_port) != Some(port) {
        app.update(Action::Down);
    }
    app.update(Action::ToggleExplain);
    app
}

#[test]
fn frame_120x30_explain_wildcard() {
    let app = explaining(120, 30, 8080);
    insta::assert_snapshot!(render(&app, 120, 30).backend());
}

#[test]
fn frame_80x24_explain_loopback() {
    let app = explaining(80, 24, 3000);
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn explain_warnings_carry_the_symbol_and_style() {
    let app = explaining(120, 30, 8080);
    let buf = buffer(&app, 120, 30);
    let y = row_of(&buf, "wildcard address");
    let x = find(&buf, y, "⚠").unwrap();
    assert_eq!(buf[(x, y)].fg, Theme::default().exposed.fg.unwrap());
}

#[test]
fn frame_120x30_grouped() {
    let app = changed_app(120, 30, [Action::ToggleGrouped, Action::Top]);
    insta::assert_snapshot!(render(&app, 120, 30).backend());
}

#[test]
fn frame_80x24_grouped() {
    let app = changed_app(80, 24, [Action::ToggleGrouped, Action::Top, Action::Down]);
    insta::assert_snapshot!(render(&app, 80, 24).backend());
}

#[test]
fn grouped_clicks_select_the_row_drawn_there() {
    let mut app = app(80, 24, [Action::ToggleGrouped, Action::Top]);
    let buf = buffer(&app, 80, 24);
    let y = row_of(&buf, "5432");
    let hit = hit_test(area(80, 24), &app, 10, y);
    let Some(Hit::Row(k)) = hit else {
        panic!("{hit:?}")
    };
    app.update(Action::SelectVisible(k));
    assert_eq!(app.selected_socket().unwrap().local_port, 5432);
    // A heading selects its group's first row; headers are not sortable here.
    let heading = row_of(&buf, "nginx 2100");
    let Some(Hit::Row(k)) = hit_test(area(80, 24), &app, 10, heading) else {
        panic!("no row at heading")
    };
    app.update(Action::SelectVisible(k));
    assert_eq!(app.selected_socket().unwrap().local_port, 8080);
    assert_eq!(hit_test(area(80, 24), &app, 10, 1), None);
}

#[test]
fn other_views_take_no_clicks() {
    for action in [Action::ToggleHistory, Action::ToggleExplain] {
        let app = app(80, 24, [action]);
        assert_eq!(hit_test(area(80, 24), &app, 10, 5), None);
    }
}

#[test]
fn every_theme_draws_the_marks_without_colour() {
    let app = changed_app(120, 30, []);
    for name in [
        crate::ui::theme::ThemeName::Default,
        crate::ui::theme::ThemeName::HighContrast,
        crate::ui::theme::ThemeName::ColourBlind,
    ] {
        let theme = Theme::named(name).without_colour();
        let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
        terminal
            .draw(|frame| super::draw_with(frame, &app, &theme))
            .unwrap();
        let buf = terminal.backend().buffer().clone();
        for y in 0..30 {
            for x in 0..120 {
                assert_eq!(buf[(x, y)].fg, ratatui::style::Color::Reset, "{name:?}");
            }
        }
        assert_eq!(buf[(1, row_of(&buf, "3000"))].symbol(), "+");
        assert_eq!(buf[(1, row_of(&buf, "5432"))].symbol(), "-");
        assert!(line(&buf, row_of(&buf, "8080")).contains('⚠'));
    }
}

/// A local user names a process and its arguments as they please: every view shows them, and
/// no cell of any frame may hold a character the terminal would act on or draw invisibly.
#[test]
fn hostile_names_and_arguments_reach_no_cell_uninert() {
    let evil = crate::model::fixtures::hostile_owner(4812);
    let snapshot = Snapshot {
        sockets: vec![listener("127.0.0.1", 3000, vec![evil])],
        privileged: true,
        ..Default::default()
    };
    let views: [&[Action]; 5] = [
        &[],
        &[Action::Inspect],
        &[Action::Kill(crate::model::Signal::Term)],
        &[Action::ToggleExplain],
        &[Action::ToggleHistory],
    ];
    for (width, height) in [(120, 30), (80, 24), (40, 12)] {
        for keys in views {
            let mut app = App::new(Query::default());
            let measured = viewport(area(width, height), &app);
            app.update(Action::Viewport(measured));
            app.update(Action::Snapshot(Snapshot::default()));
            app.update(Action::Snapshot(snapshot.clone()));
            for key in keys {
                app.update(key.clone());
            }
            let buf = buffer(&app, width, height);
            for cell in buf.content() {
                assert!(
                    !cell.symbol().chars().any(crate::model::is_unsafe),
                    "{keys:?} at {width}x{height}: {:?} in\n{}",
                    cell.symbol(),
                    render(&app, width, height).backend()
                );
            }
        }
    }
}

// ----- the command column and the keys that follow the screen -----

#[test]
fn frame_120x30_command_scrolled() {
    let moves = std::iter::repeat_n(Action::Down, 4);
    let app = app(
        120,
        30,
        moves.chain([Action::CommandRight, Action::CommandRight]),
    );
    assert_eq!(app.selected_socket().unwrap().local_port, 5432);
    let buf = buffer(&app, 120, 30);
    let row = line(&buf, row_of(&buf, "5432"));
    assert!(row.contains("«/lib/postgresql/16/main"), "{row}");
    // Only the selected row is scrolled.
    assert!(line(&buf, row_of(&buf, "5173")).contains("node server.js"));
    insta::assert_snapshot!(render(&app, 120, 30).backend());
}

#[test]
fn digits_pick_the_columns_in_the_order_they_are_drawn() {
    for connections in [false, true] {
        for (width, height) in [(120, 30), (80, 24), (40, 12), (30, 6)] {
            let toggles = connections.then_some(Action::ToggleConnections);
            digits_follow_the_drawn_titles(app(width, height, toggles), width, height);
        }
    }
}

/// Each digit sorts by the title drawn at that place (REMOTE, which is not sorted by, says so),
/// and the first digit past them says there is no such column.
fn digits_follow_the_drawn_titles(mut app: App, width: u16, height: u16) {
    // As the live loop does after every frame: the layout that drew tells the app.
    let drawn = viewport(area(width, height), &app);
    app.update(Action::Viewport(drawn));
    let buf = buffer(&app, width, height);
    let titles = line(&buf, 1);
    let shown = app.viewport().columns;
    let places = shown.on_screen().min(9);
    assert!(places >= 2, "{width}x{height}: {titles}");
    // How many titles are drawn left of `x`: a digit's column has `position - 1` of them.
    let titles_left_of = |x: u16| {
        Column::ALL
            .iter()
            .map(|c| c.title())
            .chain(["Remote"])
            .filter_map(|t| find(&buf, 1, t))
            .filter(|&tx| tx < x)
            .count()
    };
    let mut last_x = 0;
    for position in 1..=places {
        let Some(column) = shown.at(position) else {
            let x = find(&buf, 1, "Remote").expect("the one unsortable place is REMOTE");
            assert!(x >= last_x, "{width}x{height}: Remote out of order");
            assert_eq!(
                titles_left_of(x),
                position - 1,
                "{width}x{height}: {titles}"
            );
            last_x = x;
            app.update(Action::SortByPosition(position));
            assert!(
                app.status()
                    .is_some_and(|s| s.text.contains("not sorted by")),
                "{width}x{height}: {:?}",
                app.status()
            );
            continue;
        };
        let x = find(&buf, 1, column.title())
            .unwrap_or_else(|| panic!("{width}x{height}: {column:?} not drawn in {titles}"));
        assert!(x >= last_x, "{width}x{height}: {column:?} out of order");
        assert_eq!(
            titles_left_of(x),
            position - 1,
            "{width}x{height}: {column:?} is not the title at place {position}: {titles}"
        );
        last_x = x;
        app.update(Action::SortByPosition(position));
        assert_eq!(app.sort().column, column, "{width}x{height}");
    }
    // A tenth place (REMOTE and all nine columns) has no digit: only count when all fit.
    for hidden in Column::ALL.into_iter().filter(|_| shown.on_screen() <= 9) {
        if !(1..=places).any(|p| shown.at(p) == Some(hidden)) {
            assert!(
                find(&buf, 1, hidden.title()).is_none(),
                "{width}x{height}: {hidden:?} drawn but not counted"
            );
        }
    }
    if places < 9 {
        let before = app.sort();
        app.update(Action::SortByPosition(places + 1));
        assert_eq!(app.sort(), before);
        let buf = buffer(&app, width, height);
        assert!(
            line(&buf, height - 2).contains(&format!("no column {}", places + 1)),
            "{width}x{height}: {}",
            line(&buf, height - 2)
        );
    }
}
