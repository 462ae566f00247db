//! The explanation view (`e`): the selected socket in plain words.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::domain::explain::wrap;

use super::Screen;
use super::text::{fit_pieces, width};
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

    // The text takes the table's title line too.
    let area = ratatui::layout::Rect {
        y: screen.table_header.y,
        height: screen.body.height + 1,
        ..screen.body
    };
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
            let label_width = e
                .paragraphs
                .iter()
                .map(|p| width(p.topic.as_str()))
                .max()
                .unwrap_or(0);
            let room = usize::from(area.width)
                .saturating_sub(label_width + 3)
                .max(10);
            for p in &e.paragraphs {
                let text = if p.warning {
                    format!("{} {}", theme.exposed_symbol, p.text)
                } else {
                    p.text.clone()
                };
                let style = if p.warning {
                    theme.exposed
                } else {
                    ratatui::style::Style::new()
                };
                for (i, line) in wrap(&text, room).into_iter().enumerate() {
                    let label = if i == 0 { p.topic.as_str() } else { "" };
                    lines.push(Line::from(vec![
                        Span::styled(format!(" {label:>label_width$}  "), theme.column_header),
                        Span::styled(line, style),
                    ]));
                }
            }
        }
    }
    let max_scroll = lines.len().saturating_sub(usize::from(area.height));
    let scroll = app.explain_scroll().min(max_scroll);
    let shown: Vec<Line> = lines.into_iter().skip(scroll).collect();
    frame.render_widget(Paragraph::new(shown), area);

    super::bottom_lines(frame, screen, app, theme);
}
