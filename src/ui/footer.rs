//! The two bottom lines: a status line (errors, hidden owners) and the key hints or the filter
//! being typed. Both key texts come from the keymap, so they cannot drift from what keys do.

use ratatui::text::{Line, Span};

use crate::app::keymap::{self, Context};
use crate::app::{App, Mode};

use super::text::{fit_pieces, width};
use super::theme::Theme;
use crate::domain::explain;

/// Errors first, then what the user can do about hidden owners; empty when all is well.
pub(crate) fn status_line<'a>(app: &'a App, theme: &Theme, max: u16) -> Line<'a> {
    let mut pieces: Vec<(u8, Vec<Span<'a>>)> = Vec::new();
    if let Some(error) = app.error() {
        pieces.push((
            9,
            vec![
                Span::styled(theme.error_symbol, theme.error),
                Span::raw(" "),
                Span::styled(error, theme.error),
            ],
        ));
        if app.is_loaded() {
            pieces.push((
                5,
                vec![Span::styled("(showing the last good snapshot)", theme.dim)],
            ));
        }
    }
    if let Some(status) = app.status() {
        let style = if status.is_error {
            theme.error
        } else {
            theme.notice
        };
        let mut spans = Vec::new();
        if status.is_error {
            spans.push(Span::styled(theme.error_symbol, style));
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(status.text.as_str(), style));
        pieces.push((8, spans));
    }
    let hidden = app.hidden_owner_count();
    if let Some(long) = explain::hidden_owners(hidden) {
        // Only the error outranks this notice; the "last good snapshot" remark gives way.
        let taken = app
            .error()
            .map_or(0, |e| width(theme.error_symbol) + 1 + width(e) + 2)
            + app
                .status()
                .map_or(0, |s| width(theme.error_symbol) + 1 + width(&s.text) + 2);
        let text = if taken + width(&long) <= usize::from(max) {
            long
        } else {
            explain::hidden_owners_short(hidden)
        };
        pieces.push((7, vec![Span::styled(text, theme.notice)]));
    }
    fit_pieces(pieces, &Span::raw("  "), usize::from(max))
}

/// Key hints for the table, or the filter input while typing one.
pub(crate) fn hints_line<'a>(app: &'a App, theme: &Theme, max: u16) -> Line<'a> {
    match app.mode() {
        Mode::Filter => return filter_line(app.filter(), theme, max),
        Mode::HistoryFilter => return filter_line(app.history_filter(), theme, max),
        _ => {}
    }
    let hints = keymap::footer_hints(keymap::context_of(app.mode()), app.is_read_only());
    let last = hints.len().saturating_sub(1);
    let pieces = hints
        .into_iter()
        .enumerate()
        .map(|(i, (key, text))| {
            // The first (quit) and last (help) hints stay longest; the rest go from the end.
            let priority = if i == 0 || i == last {
                u8::MAX
            } else {
                u8::try_from(100 - i.min(99)).unwrap_or(0)
            };
            (
                priority,
                vec![
                    Span::styled(key, theme.key),
                    Span::raw(" "),
                    Span::styled(text, theme.dim),
                ],
            )
        })
        .collect();
    fit_pieces(pieces, &Span::raw("  "), usize::from(max))
}

/// `/ node▏  Enter keep  Esc clear`: the typed text stays visible at its end, by the cursor.
fn filter_line<'a>(filter: &'a str, theme: &Theme, max: u16) -> Line<'a> {
    let prompt = super::key_for(&crate::app::action::Action::StartFilter).unwrap_or("/");
    let mut hint_spans = Vec::new();
    for (key, help) in keymap::help_lines(Context::Filter) {
        // A one-word version of each filter key's help: "keep", "clear", "delete".
        let word = help.split_whitespace().next().unwrap_or(help);
        hint_spans.push((key, word));
    }
    let room = usize::from(max).saturating_sub(width(prompt) + 1 + width(theme.cursor));
    let typed = tail(filter, room);
    let mut pieces: Vec<(u8, Vec<Span<'a>>)> = vec![(
        u8::MAX,
        vec![
            Span::styled(prompt, theme.key),
            Span::raw(" "),
            Span::styled(typed, theme.input),
            Span::styled(theme.cursor, theme.input),
        ],
    )];
    let count = hint_spans.len();
    for (i, (key, word)) in hint_spans.into_iter().enumerate() {
        let priority = u8::try_from(count - i).unwrap_or(0);
        pieces.push((
            priority,
            vec![
                Span::styled(key, theme.key),
                Span::raw(" "),
                Span::styled(word, theme.dim),
            ],
        ));
    }
    fit_pieces(pieces, &Span::raw("  "), usize::from(max))
}

/// The end of `s` that fits `max` columns, with `…` in front when the start was cut.
fn tail(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut kept: Vec<char> = Vec::new();
    let mut used = 0;
    let mut buf = [0u8; 4];
    for ch in s.chars().rev() {
        let w = width(ch.encode_utf8(&mut buf));
        if used + w + 1 > max {
            break;
        }
        kept.push(ch);
        used += w;
    }
    let mut out = String::from(if max > 0 { "…" } else { "" });
    out.extend(kept.iter().rev());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_end_by_the_cursor() {
        assert_eq!(tail("node", 10), "node");
        assert_eq!(tail("python manage.py", 8), "…nage.py");
        assert_eq!(tail("abc", 0), "");
    }
}
