//! The inspect view: one socket, every process holding it, and the shown holder in depth:
//! what it is, where it runs from, who started it, and what else stops with it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{App, Inspected};
use crate::domain::inspect;
use crate::domain::page::{self, Kind};

use super::text::truncate_spans;
use super::theme::Theme;

/// Draws the view into `area` (between the header and the status line).
pub(crate) fn render(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    inspected: &Inspected,
    theme: &Theme,
) {
    let socket = &inspected.socket;
    let mut title = format!(
        " {} {} {} ",
        socket.proto,
        socket.local_endpoint(),
        socket.state
    );
    if inspected.closed {
        title.push_str("(closed) ");
    }
    let block = Block::bordered()
        .border_style(theme.border)
        .title(Line::styled(title, theme.title));
    let inner = self::frame(area).inner;
    let lines = lines(app, inspected, theme, usize::from(inner.width));
    let scroll = u16::try_from(inspected.scroll.min(lines.len().saturating_sub(1))).unwrap_or(0);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}

/// The view's frame in `area`: its border, and the room inside it.
pub(crate) struct ViewFrame {
    pub(crate) inner: Rect,
}

pub(crate) fn frame(area: Rect) -> ViewFrame {
    ViewFrame {
        inner: Block::bordered().inner(area),
    }
}

/// Every line of the view, styled; the text and its layout come from the domain.
pub(crate) fn lines<'a>(
    app: &App,
    inspected: &Inspected,
    theme: &Theme,
    max: usize,
) -> Vec<Line<'a>> {
    inspect::page(&app.inspect_subject(inspected), max)
        .into_iter()
        .map(|line| styled(line, theme, max))
        .collect()
}

fn styled<'a>(line: page::Line, theme: &Theme, max: usize) -> Line<'a> {
    match line.kind {
        Kind::Heading => truncate_spans(vec![Span::styled(line.text, theme.column_header)], max),
        Kind::Blank => Line::raw(""),
        Kind::Dim => truncate_spans(
            vec![Span::styled(
                format!("{}{}", line.lead, line.text),
                theme.dim,
            )],
            max,
        ),
        Kind::Warning => Line::from(vec![
            Span::styled(line.lead, theme.exposed),
            Span::styled(line.text, theme.exposed),
        ]),
        Kind::Item => Line::raw(format!("{}{}", line.lead, line.text)),
        Kind::Field => Line::from(vec![
            Span::styled(line.lead, theme.dim),
            Span::raw(line.text),
        ]),
    }
}
