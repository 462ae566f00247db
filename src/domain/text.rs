//! Text measured in terminal columns (not bytes, not chars), and wrapped to a width: the one
//! layout rule the views, the app's scroll limits and the text commands share.

use unicode_width::{UnicodeWidthChar as _, UnicodeWidthStr as _};

/// The mark in front of every warning, on screen and in text output.
pub(crate) const WARNING_MARK: &str = "⚠";

/// The plain-ASCII stand-in for a glyph, for terminals whose locale is not UTF-8: the one
/// table of glyph fallbacks, for the live table's cells and the text commands alike. Each
/// stand-in is one column wide, like the glyph, so no layout moves.
pub(crate) fn ascii_glyph(c: char) -> Option<char> {
    Some(match c {
        '⚠' => '!',
        '▲' | '↑' => '^',
        '▼' | '↓' => 'v',
        '→' | '▸' | '▶' => '>',
        '←' | '◂' | '◀' => '<',
        '…' => '~',
        '·' | '─' | '━' | '╌' | '┄' => '-',
        '│' | '┃' | '║' | '╎' | '┆' | '▏' => '|',
        '═' => '=',
        '┌' | '┐' | '└' | '┘' | '├' | '┤' | '┬' | '┴' | '┼' | '╭' | '╮' | '╰' | '╯' | '╔' | '╗'
        | '╚' | '╝' | '┏' | '┓' | '┗' | '┛' => '+',
        '✖' | '✗' => 'x',
        '✓' | '✔' => '*',
        _ => return None,
    })
}

/// `text` with every glyph [`ascii_glyph`] knows replaced; other text (a process's own name)
/// is left as it is.
pub(crate) fn to_ascii(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(|c| ascii_glyph(c).is_some()) {
        text.chars()
            .map(|c| ascii_glyph(c).unwrap_or(c))
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// Display width in terminal columns.
pub(crate) fn width(s: &str) -> usize {
    s.width()
}

/// Splits `text` into pieces of at most `max` columns, at spaces where possible; a word longer
/// than a line is cut into line-sized pieces. Linear in the length of `text`.
pub(crate) fn wrap(text: &str, max: usize) -> Vec<String> {
    if max == 0 {
        return vec![String::new()];
    }
    let mut pieces = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in text.split(' ') {
        let needed = usize::from(!line.is_empty()) + width(word);
        if !line.is_empty() && used + needed > max {
            pieces.push(std::mem::take(&mut line));
            used = 0;
        }
        if !line.is_empty() {
            line.push(' ');
            used += 1;
        }
        for ch in word.chars() {
            let w = ch.width().unwrap_or(0);
            if used > 0 && used + w > max {
                pieces.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(ch);
            used += w;
        }
    }
    pieces.push(line);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_long_words() {
        assert_eq!(
            wrap("node server.js --port 3000", 12),
            vec!["node", "server.js", "--port 3000"]
        );
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("", 4), vec![""]);
    }

    #[test]
    fn wide_characters_are_cut_by_columns() {
        // Each of these takes two columns.
        assert_eq!(wrap("日本語テキスト", 6), vec!["日本語", "テキス", "ト"]);
        for piece in wrap("漢字 mixed 漢字漢字漢字", 5) {
            assert!(width(&piece) <= 5, "{piece:?}");
        }
    }

    #[test]
    fn a_huge_argument_wraps_in_linear_time() {
        let arg = "x".repeat(128 * 1024);
        let start = std::time::Instant::now();
        let pieces = wrap(&arg, 40);
        assert_eq!(pieces.len(), (128 * 1024usize).div_ceil(40));
        // Quadratic work would take seconds here; linear takes well under one.
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn ascii_stand_ins_keep_the_width() {
        for glyph in "⚠▲▼→…·─│┌┐└┘├┤✖▏↑↓▸".chars() {
            let plain = ascii_glyph(glyph).unwrap_or_else(|| panic!("{glyph} has no stand-in"));
            assert!(plain.is_ascii(), "{glyph}");
            assert_eq!(
                width(&glyph.to_string()),
                width(&plain.to_string()),
                "{glyph}"
            );
        }
        assert_eq!(
            to_ascii("⚠ port 80 → 127.0.0.1:5 · sorted by Port ▲ …"),
            "! port 80 > 127.0.0.1:5 - sorted by Port ^ ~"
        );
        assert!(matches!(
            to_ascii("日本語 node"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
