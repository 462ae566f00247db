//! The `?` overlay: every key from the keymap, and what the scopes mean.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph};

use crate::app::keymap::{self, Context};
use crate::model::Scope;

use super::text::{truncate, truncate_spans, width};
use super::theme::Theme;

const GAP: usize = 2;

/// Draws the overlay centred in `area`.
pub(crate) fn render(frame: &mut Frame, area: Rect, theme: &Theme, read_only: bool, scroll: usize) {
    let sections = entries(read_only);
    let label_width = sections
        .iter()
        .flat_map(|section| section.1.iter())
        .map(|(label, _)| width(label))
        .max()
        .unwrap_or(0);
    let legend = legend(theme);

    // One item per line; the box is as wide as its longest line, borders and padding included.
    let mut lines: Vec<(Line, Kind)> = Vec::new();
    for (heading, section) in &sections {
        if let Some(heading) = heading {
            lines.push((Line::raw(""), Kind::Spacer));
            lines.push((Line::styled(*heading, theme.column_header), Kind::Heading));
        }
        for (label, help) in section {
            let spans = vec![
                Span::styled(format!("{label:<label_width$}"), theme.key),
                Span::raw(" ".repeat(GAP)),
                Span::raw(*help),
            ];
            lines.push((Line::from(spans), Kind::Entry));
        }
    }
    lines.push((Line::raw(""), Kind::Spacer));
    lines.push((Line::styled("scopes", theme.column_header), Kind::Heading));
    lines.extend(legend.into_iter().map(|item| (item, Kind::Entry)));

    let frame_width = 4;
    let widest = lines
        .iter()
        .map(|(line, _)| line.width())
        .max()
        .unwrap_or(0);
    let box_width = u16::try_from(widest + frame_width)
        .unwrap_or(u16::MAX)
        .min(area.width);
    let inner_width = usize::from(box_width).saturating_sub(frame_width);

    // Short terminals lose the blank lines first, then the headings, then the tail of the list.
    let inner_height = usize::from(area.height.saturating_sub(2));
    for kind in [Kind::Spacer, Kind::Heading] {
        while lines.len() > inner_height {
            let Some(i) = lines.iter().rposition(|(_, k)| *k == kind) else {
                break;
            };
            lines.remove(i);
        }
    }
    let mut lines: Vec<Line> = lines
        .into_iter()
        .map(|(line, _)| truncate_spans(line.spans, inner_width))
        .collect();
    // Still too tall: a window of it, scrolled with the moving keys, the last line saying so.
    let overflows = lines.len() > inner_height && inner_height > 0;
    if overflows {
        let max_scroll = lines.len() + 1 - inner_height;
        let scroll = scroll.min(max_scroll);
        lines.drain(..scroll);
        if lines.len() > inner_height {
            lines.truncate(inner_height - 1);
            lines.push(Line::styled(
                truncate("… more below: j/↓", inner_width).into_owned(),
                theme.dim,
            ));
        }
    }
    let box_height = u16::try_from(lines.len() + 2)
        .unwrap_or(u16::MAX)
        .min(area.height);

    let rect = Rect {
        x: area.x + (area.width - box_width) / 2,
        y: area.y + (area.height - box_height) / 2,
        width: box_width,
        height: box_height,
    };
    let block = Block::bordered()
        .border_style(theme.border)
        .title(Line::styled(" keys ", theme.title))
        .title_bottom(
            Line::styled(
                if overflows {
                    " j/k scroll · other keys close "
                } else {
                    " any key closes "
                },
                theme.dim,
            )
            .right_aligned(),
        )
        .padding(Padding::horizontal(1));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// What a help line is, so short terminals know what to give up first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Spacer,
    Heading,
    Entry,
}

type Section = (Option<&'static str>, Vec<(String, &'static str)>);

/// The keymap's help lines: table keys (with global ones merged in where they do the same
/// thing, e.g. `q, Ctrl-C  quit`), then the filter keys not already listed.
fn entries(read_only: bool) -> Vec<Section> {
    let mut table: Vec<(String, &'static str)> = keymap::help_lines(Context::Table)
        .into_iter()
        .map(|(label, help)| {
            if read_only && keymap::is_stop_label(Context::Table, label) {
                (label.to_string(), "disabled: loopwatch runs read-only")
            } else {
                (label.to_string(), help)
            }
        })
        .collect();
    for (label, help) in keymap::help_lines(Context::Global) {
        if let Some(entry) = table.iter_mut().find(|(_, h)| *h == help) {
            entry.0.push_str(", ");
            entry.0.push_str(label);
        } else {
            table.push((label.to_string(), help));
        }
    }
    let filter: Vec<(String, &'static str)> = keymap::help_lines(Context::Filter)
        .into_iter()
        .filter(|(label, help)| !table.iter().any(|(l, h)| l == label && h == help))
        .map(|(label, help)| (label.to_string(), help))
        .collect();
    vec![(None, table), (Some("while typing a filter"), filter)]
}

/// One item per scope, styled as the table styles them.
fn legend(theme: &Theme) -> Vec<Line<'static>> {
    let name = |scope: Scope| {
        if scope.is_exposed() {
            Span::styled(
                format!("{} {}", theme.exposed_symbol, scope.as_str()),
                theme.exposed,
            )
        } else {
            Span::styled(scope.as_str(), theme.column_header)
        }
    };
    vec![
        Line::from(vec![
            name(Scope::Loopback),
            Span::raw(": only this machine"),
        ]),
        Line::from(vec![
            name(Scope::AllInterfaces),
            Span::raw(": also reachable from the network"),
        ]),
        Line::from(vec![
            name(Scope::ThisHost),
            Span::raw(": a specific address"),
        ]),
    ]
}
