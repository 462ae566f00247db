//! Every colour and text attribute the UI uses, in one place, so a monochrome theme (for
//! `NO_COLOR`) or a user theme only has to replace this struct.
//!
//! Meaning never rests on colour alone: every styled warning also carries a symbol or words.

use ratatui::style::{Color, Modifier, Style};

/// Named styles and the few symbols that go with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// The program name in the header line.
    pub title: Style,
    /// Counts and other plain header text.
    pub header: Style,
    /// The table's column titles.
    pub column_header: Style,
    /// The title of the column the rows are sorted by.
    pub sorted_header: Style,
    /// The selected row.
    pub selected: Style,
    /// Sockets reachable from the network (scope "all interfaces").
    pub exposed: Style,
    /// PID and process cells when the owner is hidden, gone or the kernel.
    pub unknown_owner: Style,
    /// LISTEN and BOUND.
    pub listening: Style,
    /// ESTABLISHED.
    pub established: Style,
    /// Connection ends on their way out (TIME_WAIT, CLOSE_WAIT, ...).
    pub closing: Style,
    /// Collection errors.
    pub error: Style,
    /// Things the user can act on (hidden owners).
    pub notice: Style,
    /// Secondary text: separators, descriptions, command lines of kernel sockets.
    pub dim: Style,
    /// Keys in the footer and the help overlay.
    pub key: Style,
    /// Text being typed into the filter.
    pub input: Style,
    /// Border of the help overlay.
    pub border: Style,
    /// Marks an exposed socket next to its scope (and on the port when the scope column is
    /// dropped for lack of width).
    pub exposed_symbol: &'static str,
    /// Drawn in front of the selected row.
    pub selected_symbol: &'static str,
    /// Drawn in front of an error message.
    pub error_symbol: &'static str,
    /// The filter input's cursor.
    pub cursor: &'static str,
}

impl Default for Theme {
    fn default() -> Self {
        Self {
            title: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            header: Style::new(),
            column_header: Style::new().add_modifier(Modifier::BOLD),
            sorted_header: Style::new()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            exposed: Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            unknown_owner: Style::new().add_modifier(Modifier::DIM | Modifier::ITALIC),
            listening: Style::new().fg(Color::Green),
            established: Style::new().fg(Color::Cyan),
            closing: Style::new().add_modifier(Modifier::DIM),
            error: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            notice: Style::new().fg(Color::Yellow),
            dim: Style::new().add_modifier(Modifier::DIM),
            key: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            input: Style::new().add_modifier(Modifier::BOLD),
            border: Style::new().fg(Color::Cyan),
            exposed_symbol: "⚠",
            selected_symbol: "> ",
            error_symbol: "✖",
            cursor: "▏",
        }
    }
}

impl Theme {
    /// The same theme without colours, for `NO_COLOR`: only bold, dim, italic, underline and
    /// reverse remain, and the symbols carry the warnings.
    pub fn monochrome() -> Self {
        let strip = |style: Style| Style {
            fg: None,
            bg: None,
            ..style
        };
        let theme = Self::default();
        Self {
            title: strip(theme.title),
            header: strip(theme.header),
            column_header: strip(theme.column_header),
            sorted_header: strip(theme.sorted_header),
            selected: strip(theme.selected),
            exposed: strip(theme.exposed),
            unknown_owner: strip(theme.unknown_owner),
            listening: strip(theme.listening),
            established: strip(theme.established),
            closing: strip(theme.closing),
            error: strip(theme.error),
            notice: strip(theme.notice),
            dim: strip(theme.dim),
            key: strip(theme.key),
            input: strip(theme.input),
            border: strip(theme.border),
            ..theme
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monochrome_keeps_attributes_and_drops_colours() {
        let mono = Theme::monochrome();
        assert_eq!(mono.exposed.fg, None);
        assert!(mono.exposed.add_modifier.contains(Modifier::BOLD));
        assert!(mono.selected.add_modifier.contains(Modifier::REVERSED));
        assert_eq!(mono.exposed_symbol, Theme::default().exposed_symbol);
    }
}
