//! Measuring and shortening text in terminal columns (not bytes, not chars).

use std::borrow::Cow;

use ratatui::text::{Line, Span};

pub(crate) use crate::domain::text::{width, wrap};

/// Display width as a `u16`, saturating (no cell is that wide).
pub(crate) fn width_u16(s: &str) -> u16 {
    u16::try_from(width(s)).unwrap_or(u16::MAX)
}

/// `s` cut to at most `max` columns, ending in `…` when anything was cut.
pub(crate) fn truncate(s: &str, max: usize) -> Cow<'_, str> {
    if width(s) <= max {
        return Cow::Borrowed(s);
    }
    Cow::Owned(cut(s, max))
}

/// The longest prefix of `s` that fits `max - 1` columns, plus `…` (empty when `max` is 0).
fn cut(s: &str, max: usize) -> String {
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    let mut buf = [0u8; 4];
    for ch in s.chars() {
        let w = width(ch.encode_utf8(&mut buf));
        if used + w + 1 > max {
            break;
        }
        out.push(ch);
        used += w;
    }
    out.push('…');
    out
}

/// Joins styled pieces of a status or header line, dropping whole pieces (lowest priority
/// first) until they fit `max` columns, then cutting what is left as a last resort.
///
/// Each piece is `(priority, spans)`; higher priority survives longer. Pieces keep their order.
pub(crate) fn fit_pieces<'a>(
    pieces: Vec<(u8, Vec<Span<'a>>)>,
    separator: &Span<'a>,
    max: usize,
) -> Line<'a> {
    let mut pieces = pieces;
    let line_width = |pieces: &[(u8, Vec<Span<'a>>)]| {
        let content: usize = pieces
            .iter()
            .flat_map(|(_, spans)| spans.iter())
            .map(Span::width)
            .sum();
        content + separator.width() * pieces.len().saturating_sub(1)
    };
    while pieces.len() > 1 && line_width(&pieces) > max {
        // The last of the lowest-priority pieces goes first.
        let lowest = pieces.iter().map(|(p, _)| *p).min().unwrap_or(0);
        if let Some(i) = pieces.iter().rposition(|(p, _)| *p == lowest) {
            pieces.remove(i);
        }
    }
    let mut spans = Vec::new();
    for (i, (_, piece)) in pieces.into_iter().enumerate() {
        if i > 0 {
            spans.push(separator.clone());
        }
        spans.extend(piece);
    }
    truncate_spans(spans, max)
}

/// Cuts a line made of spans to `max` columns, keeping each span's style.
pub(crate) fn truncate_spans(spans: Vec<Span<'_>>, max: usize) -> Line<'_> {
    let total: usize = spans.iter().map(Span::width).sum();
    if total <= max {
        return Line::from(spans);
    }
    let mut out = Vec::new();
    let mut used = 0;
    for span in spans {
        let w = span.width();
        // Strictly less: the last column is kept for the `…`.
        if used + w < max {
            used += w;
            out.push(span);
            continue;
        }
        out.push(Span::styled(cut(&span.content, max - used), span.style));
        break;
    }
    Line::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("postgres", 8), "postgres");
        assert_eq!(truncate("systemd-resolve", 10), "systemd-r…");
        assert_eq!(truncate("abc", 1), "…");
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(truncate("→ 127.0.0.1:80", 5), "→ 12…");
    }

    #[test]
    fn pieces_drop_lowest_priority_first_and_keep_order() {
        let sep = Span::raw(" · ");
        let pieces = || {
            vec![
                (9, vec![Span::raw("name")]),
                (1, vec![Span::raw("low")]),
                (5, vec![Span::raw("mid")]),
            ]
        };
        assert_eq!(
            fit_pieces(pieces(), &sep, 80).to_string(),
            "name · low · mid"
        );
        assert_eq!(fit_pieces(pieces(), &sep, 12).to_string(), "name · mid");
        assert_eq!(fit_pieces(pieces(), &sep, 4).to_string(), "name");
        assert_eq!(fit_pieces(pieces(), &sep, 3).to_string(), "na…");
    }
}
