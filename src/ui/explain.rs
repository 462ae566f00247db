//! The explanation view (`e`): the selected socket in plain words.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;

use super::Screen;
use super::text::fit_pieces;
use super::theme::Theme;

pub(crate) fn render(frame: &mut Frame, screen: &Screen, app: &App, theme: &Theme) {
    let explanation = app.explanation();
    let mut pieces: Vec<(u8, Vec<Span>)> = vec![
        (9, vec![Span::styled("loopwatch", theme.title)]),
        (8, vec![Span::styled("explain", theme.header)]),
    ];
    if let Some((e, closed)) = &explanation {
        pieces.push((7, vec![Span::styled(e.title.clone(), theme.header)]));
        if *closed {
            pieces.push((9, vec![Span::styled("closed", theme.closed)]));
        }
    }
    frame.render_widget(
        Paragraph::new(fit_pieces(
            pieces,
            &Span::styled(" · ", theme.dim),
            usize::from(screen.header.width),
        )),
        screen.header,
    );

    let area = text_area(screen);
    let mut lines: Vec<Line> = Vec::new();
    match &explanation {
        None => lines.push(Line::styled(
            "this socket is gone and no longer remembered",
            theme.dim,
        )),
        Some((e, closed)) => {
            if *closed {
                lines.push(Line::styled(
                    "- this socket has closed; explained as it was last seen",
                    theme.closed,
                ));
            }
            let label_width = e.label_width();
            for line in e.view_lines(usize::from(area.width)) {
                let style = if line.warning {
                    theme.exposed
                } else {
                    ratatui::style::Style::new()
                };
                lines.push(Line::from(vec![
                    Span::styled(
                        format!(" {:>label_width$}  ", line.label),
                        theme.column_header,
                    ),
                    Span::styled(line.text, style),
                ]));
            }
        }
    }
    let max_scroll = lines.len().saturating_sub(usize::from(area.height));
    let scroll = app.explain_scroll().min(max_scroll);
    let shown: Vec<Line> = lines.into_iter().skip(scroll).collect();
    frame.render_widget(Paragraph::new(shown), area);

    super::bottom_lines(frame, screen, app, theme);
}

/// Where the text goes: the table's area, its title line included.
pub(crate) fn text_area(screen: &Screen) -> ratatui::layout::Rect {
    ratatui::layout::Rect {
        y: screen.table_header.y,
        height: screen.body.height + 1,
        ..screen.body
    }
}
