//! The history view (`h`): every change since launch, newest at the bottom, filterable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::domain::history::{Event, EventKind};

use super::Screen;
use super::text::{fit_pieces, truncate_spans};
use super::theme::Theme;

pub(crate) fn render(frame: &mut Frame, screen: &Screen, app: &App, theme: &Theme) {
    let events: Vec<&Event> = app.history_lines().collect();
    frame.render_widget(
        Paragraph::new(header(app, events.len(), theme, screen.header.width)),
        screen.header,
    );
    frame.render_widget(Paragraph::new(legend(theme)), screen.table_header);

    let height = usize::from(screen.body.height);
    let end = events.len().saturating_sub(app.history_back());
    let start = end.saturating_sub(height);
    let width = usize::from(screen.body.width);
    let lines: Vec<Line> = events[start..end]
        .iter()
        .map(|e| truncate_spans(event_spans(e, theme), width))
        .collect();
    if lines.is_empty() {
        let text = if app.history_filter().is_empty() {
            "no changes yet: sockets that open or close while loopwatch runs appear here"
                .to_string()
        } else {
            format!("no events match \"{}\"", app.history_filter())
        };
        let y = screen.body.y + screen.body.height.saturating_sub(1) / 2;
        let rect = Rect {
            y,
            height: 1,
            ..screen.body
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.dim)).centered(),
            rect,
        );
    } else {
        frame.render_widget(Paragraph::new(lines), screen.body);
    }
    super::bottom_lines(frame, screen, app, theme);
}

fn header<'a>(app: &'a App, shown: usize, theme: &Theme, width: u16) -> Line<'a> {
    let total = app.history_len();
    let noun = if total == 1 { "event" } else { "events" };
    let mut pieces: Vec<(u8, Vec<Span<'a>>)> = vec![
        (9, vec![Span::styled("loopwatch", theme.title)]),
        (9, vec![Span::styled("history", theme.header)]),
        (
            8,
            vec![Span::styled(format!("{total} {noun}"), theme.header)],
        ),
    ];
    if app.is_paused() {
        pieces.insert(1, (10, vec![Span::styled(" PAUSED ", theme.paused)]));
    }
    if !app.history_filter().is_empty() {
        pieces.push((
            7,
            vec![
                Span::styled(format!("{shown} match "), theme.dim),
                Span::styled(format!("\"{}\"", app.history_filter()), theme.input),
            ],
        ));
    }
    if app.history_dropped() > 0 {
        pieces.push((
            3,
            vec![Span::styled(
                format!("{} older ones dropped", app.history_dropped()),
                theme.dim,
            )],
        ));
    }
    if app.history_back() > 0 {
        pieces.push((
            4,
            vec![Span::styled("scrolled back (G: newest)", theme.notice)],
        ));
    }
    fit_pieces(pieces, &Span::styled(" · ", theme.dim), usize::from(width))
}

/// What the symbols mean, in the line where the table has its column titles.
fn legend(theme: &Theme) -> Line<'static> {
    let item = |kind: EventKind, style, text: &'static str| {
        vec![
            Span::styled(kind.symbol(), style),
            Span::styled(format!(" {text}  "), theme.column_header),
        ]
    };
    let mut spans = vec![Span::styled("time      ", theme.column_header)];
    spans.extend(item(EventKind::Opened, theme.fresh, "opened"));
    spans.extend(item(EventKind::Closed, theme.closed, "closed"));
    spans.extend(item(EventKind::OwnerChanged, theme.notice, "owner changed"));
    Line::from(spans)
}

fn event_spans<'a>(event: &Event, theme: &Theme) -> Vec<Span<'a>> {
    let style = match event.kind {
        EventKind::Opened => theme.fresh,
        EventKind::Closed => theme.closed,
        EventKind::OwnerChanged => theme.notice,
    };
    // "14:03:41 + what": the time dim, the symbol styled, the rest plain.
    let mut spans = vec![
        Span::styled(event.time.clock(), theme.dim),
        Span::raw(" "),
        Span::styled(event.kind.symbol(), style),
        Span::raw(" "),
    ];
    if event.socket.scope.is_exposed() {
        spans.push(Span::styled(
            format!("{} ", theme.exposed_symbol),
            theme.exposed,
        ));
    }
    spans.push(Span::raw(event.what()));
    spans
}
