//! The grouped view (`v`): each process on a heading line, its sockets beneath it.
//!
//! [`lines`] decides what each body line shows; drawing and mouse hit-testing both read it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::action::Shown;
use crate::app::{App, RowMark};
use crate::domain::group;
use crate::model::{Socket, format_endpoint};

use super::columns::{remote_label, scope_label};
use super::table::{mark_style, mark_symbol};
use super::text::{truncate, truncate_spans};
use super::theme::Theme;

/// The sortable columns the grouped view's titles name, in their order (keys `1`-`4`).
pub(crate) const SHOWN: Shown = Shown::GROUPED;

/// One body line of the grouped view; the numbers are indices among the visible rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupLine {
    /// The heading of the group row `k` belongs to (`true`: continued from above the window).
    Heading(usize, bool),
    Row(usize),
}

/// The body's lines, top to bottom, at most `height` of them.
pub(crate) fn lines(app: &App, height: usize) -> Vec<GroupLine> {
    let mut out = Vec::new();
    for k in 0..app.visible_rows().count() {
        let index = app.offset() + k;
        if k == 0 || app.starts_group(index) {
            out.push(GroupLine::Heading(k, k == 0 && !app.starts_group(index)));
        }
        out.push(GroupLine::Row(k));
    }
    out.truncate(height);
    out
}

/// Draws the column titles into `header` and the groups into `body`.
pub(crate) fn render(frame: &mut Frame, header: Rect, body: Rect, app: &App, theme: &Theme) {
    let rows: Vec<&Socket> = app.visible_rows().collect();
    let endpoint_width = rows
        .iter()
        .map(|s| format_endpoint(s.local_addr, s.local_port).chars().count())
        .max()
        .unwrap_or(0)
        .max("Local address".len());
    let width = usize::from(body.width);
    let title = format!(
        "  {:<5} {:<endpoint_width$} {:<11} {:<16} {}",
        "Proto", "Local address", "State", "Scope", "Remote"
    );
    frame.render_widget(
        Paragraph::new(Line::styled(
            truncate(&title, width).into_owned(),
            theme.column_header,
        )),
        header,
    );

    let mut drawn: Vec<Line> = Vec::new();
    for line in lines(app, usize::from(body.height)) {
        match line {
            GroupLine::Heading(k, continued) => {
                let mut text = group::heading(rows[k]);
                if continued {
                    text.push_str(" (continued)");
                }
                drawn.push(Line::styled(
                    truncate(&text, width).into_owned(),
                    theme.group,
                ));
            }
            GroupLine::Row(k) => {
                let socket = rows[k];
                let mark = app.row_mark(socket);
                let selected = app.selected_visible() == Some(k);
                let marker = if selected { ">" } else { " " };
                let symbol = mark_symbol(mark).unwrap_or(" ");
                let state = if mark == RowMark::Closed {
                    "closed"
                } else {
                    socket.state.as_str()
                };
                let scope_style = if socket.scope.is_exposed() {
                    theme.exposed
                } else {
                    Style::new()
                };
                let spans = vec![
                    Span::raw(marker),
                    Span::raw(symbol),
                    Span::raw(format!(
                        "{:<5} {:<endpoint_width$} {:<11} ",
                        socket.proto.as_str(),
                        format_endpoint(socket.local_addr, socket.local_port),
                        state
                    )),
                    Span::styled(format!("{:<16}", scope_label(socket, theme)), scope_style),
                    Span::raw(format!(" {}", remote_label(socket))),
                ];
                let mut line = truncate_spans(spans, width);
                let mut style = mark_style(mark, theme);
                if selected {
                    style = style.patch(theme.selected);
                }
                line = line.style(style);
                // Fill the row so the selection is a full-width bar, as in the table.
                let fill = width.saturating_sub(line.width());
                line.spans.push(Span::raw(" ".repeat(fill)));
                drawn.push(line);
            }
        }
    }
    frame.render_widget(Paragraph::new(drawn), body);
}

/// The visible row drawn on body line `line`; a heading selects its group's first row there.
pub(crate) fn row_at(app: &App, height: usize, line: usize) -> Option<usize> {
    let all = lines(app, height);
    match all.get(line)? {
        GroupLine::Row(k) | GroupLine::Heading(k, _) => Some(*k),
    }
}
