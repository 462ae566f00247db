//! The top line: what is counted, what is included, how it is sorted and filtered.

use std::fmt::Write as _;

use ratatui::text::{Line, Span};

use crate::app::App;

use super::columns::arrow;
use super::text::fit_pieces;
use super::theme::Theme;

/// The header line, fitted to `width` by dropping the least useful parts first.
pub(crate) fn line<'a>(app: &'a App, theme: &Theme, width: u16) -> Line<'a> {
    let mut pieces: Vec<(u8, Vec<Span<'a>>)> =
        vec![(9, vec![Span::styled("loopwatch", theme.title)])];
    if app.is_paused() {
        // Words, not just a colour: the table no longer moves, and it must be obvious why.
        pieces.push((10, vec![Span::styled(" PAUSED ", theme.paused)]));
    }

    pieces.push((8, vec![Span::styled(counts(app), theme.header)]));
    if app.is_reading_owners() {
        pieces.push((8, vec![Span::styled("reading owners…", theme.notice)]));
    }
    if app.is_read_only() {
        pieces.push((8, vec![Span::styled("READ-ONLY", theme.notice)]));
    }

    let query = app.query();
    let mut included = String::from("listeners + UDP");
    if query.connections {
        included.push_str(" + connections");
    }
    if query.all_addresses {
        included.push_str(" + other addresses");
    }
    if let Some(port) = query.port {
        included = format!("port {port} only");
    }
    pieces.push((4, vec![Span::styled(included, theme.header)]));

    let sort = app.sort();
    pieces.push((
        3,
        vec![
            Span::styled("sorted by ", theme.dim),
            Span::styled(
                format!("{} {}", sort.column.title(), arrow(sort)),
                theme.header,
            ),
        ],
    ));

    pieces.push((
        2,
        vec![
            Span::styled("every ", theme.dim),
            Span::styled(interval_label(app.interval()), theme.header),
        ],
    ));
    if app.is_grouped() {
        pieces.push((5, vec![Span::styled("grouped by process", theme.header)]));
    }

    if !app.filter().is_empty() {
        pieces.push((
            7,
            vec![
                Span::styled("filter ", theme.dim),
                Span::styled(format!("\"{}\"", app.filter()), theme.input),
            ],
        ));
    }

    fit_pieces(pieces, &Span::styled(" · ", theme.dim), usize::from(width))
}

/// "11 sockets", "11 sockets, 8 shown", or "collecting…" before the first snapshot; closed
/// rows still on screen are counted apart.
fn counts(app: &App) -> String {
    if !app.is_loaded() {
        return "collecting…".to_string();
    }
    let total = app.live_count();
    let noun = if total == 1 { "socket" } else { "sockets" };
    let closed = app.closed_row_count();
    let shown = app.row_count() - closed;
    let mut text = if shown == total {
        format!("{total} {noun}")
    } else {
        format!("{total} {noun}, {shown} shown")
    };
    if closed > 0 {
        // Writing to a String cannot fail.
        let _ = write!(text, ", {closed} just closed");
    }
    text
}

/// `250ms`, `1s`, `1.5s`, `60s`.
pub(crate) fn interval_label(interval: std::time::Duration) -> String {
    let ms = interval.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}s", interval.as_secs_f64())
    }
}
