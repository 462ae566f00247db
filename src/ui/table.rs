//! The socket table: a header row and only the rows on screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState};

use crate::app::{App, RowMark};
use crate::domain::command;
use crate::domain::history::EventKind;
use crate::domain::sort::{Column, SortSpec};
use crate::model::{Socket, SocketState};

use super::columns::{self, Columns, Placed, SPACING, Slot};
use super::text::truncate;
use super::theme::Theme;
use crate::domain::text;

/// Draws the header row into `header` and `rows` into `body`.
pub(crate) fn render(
    frame: &mut Frame,
    header: Rect,
    body: Rect,
    app: &App,
    rows: &[&Socket],
    columns: &Columns,
    theme: &Theme,
) {
    let sort = app.sort();
    let header_cells = columns.placed.iter().map(|p| header_cell(*p, sort, theme));
    let selected = app.selected_visible();
    let body_rows = rows.iter().enumerate().map(|(k, socket)| {
        let mark = app.row_mark(socket);
        let scroll = if selected == Some(k) {
            app.command_scroll()
        } else {
            0
        };
        Row::new(
            columns
                .placed
                .iter()
                .map(|p| cell(*p, socket, columns, theme, mark, scroll)),
        )
        .style(mark_style(mark, theme))
    });
    let widths = columns.placed.iter().map(|p| Constraint::Length(p.width));
    let table = Table::new(body_rows, widths)
        .header(Row::new(header_cells).style(theme.column_header))
        .column_spacing(SPACING)
        .flex(Flex::Start)
        .highlight_symbol(theme.selected_symbol)
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(theme.selected);
    let selected = selected.filter(|&i| i < rows.len());
    let mut state = TableState::default().with_selected(selected);
    let area = Rect {
        height: header.height + body.height,
        ..header
    };
    frame.render_stateful_widget(table, area, &mut state);
    draw_marks(frame, body, app, rows, theme);

    if let Some(message) = empty_message(app, theme) {
        let y = body.y + body.height.saturating_sub(1) / 2;
        let line = Rect {
            y,
            height: 1,
            ..body
        };
        frame.render_widget(Paragraph::new(message).centered(), line);
    }
}

/// What the body says when it has no rows, and why.
fn empty_message<'a>(app: &'a App, theme: &Theme) -> Option<Line<'a>> {
    if !app.is_loaded() {
        let text = if app.error().is_some() {
            "collecting… (the last attempt failed, see below)"
        } else {
            "collecting…"
        };
        return Some(Line::styled(text, theme.dim));
    }
    if app.row_count() > 0 {
        return None;
    }
    let key = |action| super::key_for(&action).unwrap_or("?");
    let text = if !app.filter().is_empty() {
        format!(
            "no sockets match \"{}\" · {} clears the filter",
            app.filter(),
            key(crate::app::action::Action::ClearFilter)
        )
    } else if app.snapshot().sockets.is_empty() {
        "no sockets are reachable on loopback".to_string()
    } else {
        format!(
            "nothing to show: {} shows connections, {} other addresses",
            key(crate::app::action::Action::ToggleConnections),
            key(crate::app::action::Action::ToggleAllAddresses)
        )
    };
    Some(Line::styled(text, theme.dim))
}

/// The style a row's mark adds to the whole row.
pub(crate) fn mark_style(mark: RowMark, theme: &Theme) -> Style {
    match mark {
        RowMark::Normal => Style::new(),
        RowMark::Fresh => theme.fresh,
        RowMark::Closed => theme.closed,
    }
}

/// The symbol of a row's mark, as the history prints it: `+` new, `-` closed.
pub(crate) fn mark_symbol(mark: RowMark) -> Option<&'static str> {
    match mark {
        RowMark::Normal => None,
        RowMark::Fresh => Some(EventKind::Opened.symbol()),
        RowMark::Closed => Some(EventKind::Closed.symbol()),
    }
}

/// New and closed rows carry a symbol in the gutter's second column (the first holds the
/// selection marker), so the change is visible without colour.
pub(crate) fn draw_marks(
    frame: &mut Frame,
    body: Rect,
    app: &App,
    rows: &[&Socket],
    theme: &Theme,
) {
    if body.width < 2 {
        return;
    }
    let buffer = frame.buffer_mut();
    for (k, socket) in rows.iter().enumerate() {
        let Ok(dy) = u16::try_from(k) else { break };
        if dy >= body.height {
            break;
        }
        let mark = app.row_mark(socket);
        if let Some(symbol) = mark_symbol(mark) {
            let cell = &mut buffer[(body.x + 1, body.y + dy)];
            cell.set_symbol(symbol);
            if app.selected_visible() != Some(k) {
                cell.set_style(mark_style(mark, theme));
            }
        }
    }
}

fn right_aligned(slot: Slot) -> bool {
    matches!(slot, Slot::Column(Column::Port | Column::Pid))
}

fn header_cell(placed: Placed, sort: SortSpec, theme: &Theme) -> Cell<'static> {
    let width = usize::from(placed.width);
    let title = columns::title(placed.slot, sort);
    let title = match placed.slot {
        // Short of room, the sorted column's name gives way to its arrow.
        Slot::Column(c) if c == sort.column && text::width(&title) > width && width >= 3 => {
            let arrow = columns::arrow(sort);
            if text::width(c.title()) < width {
                format!("{}{arrow}", c.title())
            } else {
                format!("{} {arrow}", truncate(c.title(), width - 2))
            }
        }
        _ => truncate(&title, width).into_owned(),
    };
    let style = match placed.slot {
        Slot::Column(c) if c == sort.column => theme.sorted_header,
        _ => Style::new(),
    };
    let line = Line::styled(title, style);
    Cell::from(if right_aligned(placed.slot) {
        line.right_aligned()
    } else {
        line
    })
}

fn cell<'a>(
    placed: Placed,
    socket: &'a Socket,
    columns: &Columns,
    theme: &Theme,
    mark: RowMark,
    scroll: usize,
) -> Cell<'a> {
    let width = usize::from(placed.width);
    let fit = |text: String| truncate(&text, width).into_owned();
    let unknown = socket.owners.is_empty();
    let owner_style = if unknown {
        theme.unknown_owner
    } else {
        Style::new()
    };
    let line = match placed.slot {
        Slot::Column(Column::Proto) => Line::raw(socket.proto.as_str()),
        Slot::Column(Column::Address) => Line::raw(fit(socket.local_addr.to_string())),
        Slot::Column(Column::Port) => {
            let port = socket.local_port.to_string();
            if socket.scope.is_exposed() && !columns.shows(Slot::Column(Column::Scope)) {
                Line::from(vec![
                    Span::styled(theme.exposed_symbol, theme.exposed),
                    Span::raw(" "),
                    Span::styled(port, theme.exposed),
                ])
            } else {
                Line::raw(port)
            }
        }
        Slot::Remote => Line::raw(fit(columns::remote_label(socket))),
        Slot::Column(Column::Scope) => {
            let style = if socket.scope.is_exposed() {
                theme.exposed
            } else {
                Style::new()
            };
            Line::styled(fit(columns::scope_label(socket, theme)), style)
        }
        // Lower case, so it is not mistaken for the TCP state CLOSED.
        Slot::Column(Column::State) if mark == RowMark::Closed => Line::raw("closed"),
        Slot::Column(Column::State) => {
            Line::styled(socket.state.as_str(), state_style(socket.state, theme))
        }
        Slot::Column(Column::Pid) => Line::styled(fit(socket.pid_label()), owner_style),
        Slot::Column(Column::Process) => Line::styled(fit(socket.process_label()), owner_style),
        Slot::Column(Column::User) => Line::raw(fit(socket.user_label())),
        Slot::Column(Column::Command) => match socket.unknown {
            // Where there is no command line, say why: it answers "why is this one blank?".
            Some(reason) if unknown => Line::styled(fit(reason.explain().to_string()), theme.dim),
            _ => command_line(socket, width, scroll, theme),
        },
    };
    Cell::from(if right_aligned(placed.slot) {
        line.right_aligned()
    } else {
        line
    })
}

/// The readable command line, `scroll` columns in when scrolled (`«` says some is hidden).
fn command_line(socket: &Socket, width: usize, scroll: usize, theme: &Theme) -> Line<'static> {
    let shown = command::of_socket_upto(socket, scroll.saturating_add(width));
    let shown = shown.inert();
    if scroll == 0 {
        return Line::raw(truncate(&shown, width).into_owned());
    }
    let rest = command::scrolled(&shown, scroll);
    Line::from(vec![
        Span::styled(SCROLLED_MARK, theme.dim),
        Span::raw(truncate(rest, width.saturating_sub(1)).into_owned()),
    ])
}

/// In front of a command line scrolled to the right.
const SCROLLED_MARK: &str = "«";

fn state_style(state: SocketState, theme: &Theme) -> Style {
    match state {
        SocketState::Listen | SocketState::Bound => theme.listening,
        SocketState::Established | SocketState::SynSent | SocketState::SynReceived => {
            theme.established
        }
        SocketState::Unknown => Style::new(),
        _ => theme.closing,
    }
}
