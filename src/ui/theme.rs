//! Every colour and text attribute the UI uses, in one place, so a monochrome theme (for
//! `NO_COLOR`) or a user theme only has to replace this struct.
//!
//! Meaning never rests on colour alone: every styled warning also carries a symbol or words.

use ratatui::style::{Color, Modifier, Style};

/// Named styles and the few symbols that go with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Theme {
    /// The program name in the header line.
    pub(crate) title: Style,
    /// Counts and other plain header text.
    pub(crate) header: Style,
    /// The table's column titles.
    pub(crate) column_header: Style,
    /// The title of the column the rows are sorted by.
    pub(crate) sorted_header: Style,
    /// The selected row.
    pub(crate) selected: Style,
    /// Sockets reachable from the network (scope "all interfaces").
    pub(crate) exposed: Style,
    /// PID and process cells when the owner is hidden, gone or the kernel.
    pub(crate) unknown_owner: Style,
    /// LISTEN and BOUND.
    pub(crate) listening: Style,
    /// ESTABLISHED.
    pub(crate) established: Style,
    /// Connection ends on their way out (TIME_WAIT, CLOSE_WAIT, ...).
    pub(crate) closing: Style,
    /// Collection errors.
    pub(crate) error: Style,
    /// Things the user can act on (hidden owners).
    pub(crate) notice: Style,
    /// Secondary text: separators, descriptions, command lines of kernel sockets.
    pub(crate) dim: Style,
    /// Keys in the footer and the help overlay.
    pub(crate) key: Style,
    /// Text being typed into the filter.
    pub(crate) input: Style,
    /// Border of the help overlay.
    pub(crate) border: Style,
    /// A row whose socket opened (or changed owner) a moment ago.
    pub(crate) fresh: Style,
    /// A row whose socket has closed and is about to leave the table.
    pub(crate) closed: Style,
    /// The PAUSED mark in the header.
    pub(crate) paused: Style,
    /// A process heading in the grouped view.
    pub(crate) group: Style,
    /// Marks an exposed socket next to its scope (and on the port when the scope column is
    /// dropped for lack of width).
    pub(crate) exposed_symbol: &'static str,
    /// Drawn in front of the selected row.
    pub(crate) selected_symbol: &'static str,
    /// Drawn in front of an error message.
    pub(crate) error_symbol: &'static str,
    /// The filter input's cursor.
    pub(crate) cursor: &'static str,
    /// Every glyph drawn as its plain-ASCII stand-in (a terminal whose locale is not UTF-8).
    pub(crate) ascii: bool,
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
            fresh: Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            closed: Style::new().add_modifier(Modifier::DIM | Modifier::CROSSED_OUT),
            paused: Style::new()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            group: Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            exposed_symbol: crate::domain::text::WARNING_MARK,
            selected_symbol: "> ",
            error_symbol: "✖",
            cursor: "▏",
            ascii: false,
        }
    }
}

/// The themes a user can pick (config `theme`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum ThemeName {
    #[default]
    Default,
    /// Bright colours, bold text and backgrounds instead of subtle tints.
    HighContrast,
    /// No red/green distinctions: blue, orange and yellow from the Okabe-Ito palette, which
    /// stay apart under the common colour-vision deficiencies.
    ColourBlind,
}

impl ThemeName {
    /// `default`, `high-contrast`, `colour-blind` (`color-blind` too).
    pub(crate) fn parse(name: &str) -> Option<ThemeName> {
        match name.trim().to_ascii_lowercase().as_str() {
            "default" => Some(ThemeName::Default),
            "high-contrast" => Some(ThemeName::HighContrast),
            "colour-blind" | "color-blind" => Some(ThemeName::ColourBlind),
            _ => None,
        }
    }
}

impl Theme {
    /// A named theme.
    pub(crate) fn named(name: ThemeName) -> Self {
        match name {
            ThemeName::Default => Self::default(),
            ThemeName::HighContrast => Self::high_contrast(),
            ThemeName::ColourBlind => Self::colour_blind(),
        }
    }

    fn high_contrast() -> Self {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        Self {
            title: bold.fg(Color::White).bg(Color::Blue),
            header: bold,
            column_header: bold.add_modifier(Modifier::UNDERLINED),
            sorted_header: bold
                .fg(Color::Black)
                .bg(Color::White)
                .add_modifier(Modifier::UNDERLINED),
            selected: bold.fg(Color::Black).bg(Color::LightYellow),
            exposed: bold.fg(Color::Black).bg(Color::LightYellow),
            unknown_owner: Style::new().add_modifier(Modifier::ITALIC),
            listening: bold.fg(Color::LightGreen),
            established: bold.fg(Color::LightCyan),
            closing: Style::new().fg(Color::Gray),
            error: bold.fg(Color::White).bg(Color::Red),
            notice: bold.fg(Color::LightYellow),
            dim: Style::new().fg(Color::Gray),
            key: bold.fg(Color::LightCyan),
            input: bold.fg(Color::White),
            border: bold.fg(Color::White),
            fresh: bold.fg(Color::Black).bg(Color::LightGreen),
            closed: Style::new()
                .fg(Color::Gray)
                .add_modifier(Modifier::CROSSED_OUT),
            paused: bold.fg(Color::Black).bg(Color::LightYellow),
            group: bold.fg(Color::White).add_modifier(Modifier::UNDERLINED),
            ..Self::default()
        }
    }

    fn colour_blind() -> Self {
        // Okabe-Ito: blue, sky blue, orange, vermillion, yellow (as 256-colour indices).
        let (blue, sky, orange, vermillion) = (
            Color::Indexed(32),
            Color::Indexed(117),
            Color::Indexed(214),
            Color::Indexed(166),
        );
        let theme = Self::default();
        Self {
            title: theme.title.fg(sky),
            sorted_header: theme.sorted_header.fg(sky),
            exposed: theme.exposed.fg(orange),
            listening: Style::new().fg(blue),
            established: Style::new().fg(sky),
            error: theme.error.fg(vermillion),
            notice: Style::new().fg(orange),
            key: theme.key.fg(sky),
            border: Style::new().fg(sky),
            fresh: Style::new().fg(blue).add_modifier(Modifier::BOLD),
            paused: theme.paused.fg(orange),
            group: theme.group.fg(sky),
            ..theme
        }
    }

    /// This theme with every colour removed.
    #[must_use]
    pub(crate) fn without_colour(self) -> Self {
        // A background made the style stand out; reversed video keeps it standing out.
        let strip = |style: Style| {
            let style = if style.bg.is_some() {
                style.add_modifier(Modifier::REVERSED)
            } else {
                style
            };
            Style {
                fg: None,
                bg: None,
                ..style
            }
        };
        let theme = self;
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
            fresh: strip(theme.fresh),
            closed: strip(theme.closed),
            paused: strip(theme.paused),
            group: strip(theme.group),
            ..theme
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monochrome_keeps_attributes_and_drops_colours() {
        let mono = Theme::default().without_colour();
        assert_eq!(mono.exposed.fg, None);
        assert!(mono.exposed.add_modifier.contains(Modifier::BOLD));
        assert!(mono.selected.add_modifier.contains(Modifier::REVERSED));
        assert_eq!(mono.exposed_symbol, Theme::default().exposed_symbol);
    }

    #[test]
    fn every_theme_marks_changes_with_more_than_colour() {
        for name in [
            ThemeName::Default,
            ThemeName::HighContrast,
            ThemeName::ColourBlind,
        ] {
            for theme in [Theme::named(name), Theme::named(name).without_colour()] {
                assert!(
                    theme.fresh.add_modifier.contains(Modifier::BOLD),
                    "{name:?}"
                );
                assert!(
                    theme.closed.add_modifier.contains(Modifier::CROSSED_OUT),
                    "{name:?}"
                );
                assert!(theme.selected != Style::new(), "{name:?}");
                assert_eq!(theme.exposed_symbol, "⚠");
            }
        }
        assert_eq!(
            ThemeName::parse("Color-Blind"),
            Some(ThemeName::ColourBlind)
        );
        assert_eq!(ThemeName::parse("neon"), None);
    }

    /// `--color never` in a C locale: a frame with no colour and no glyph beyond ASCII, while
    /// the selection stays visible; the same frames in UTF-8 with colour have both.
    #[test]
    fn an_ascii_colourless_theme_draws_plain_cells() {
        use crate::app::App;
        use crate::app::action::Action;
        use crate::model::Query;
        use crate::model::fixtures::sample_snapshot;
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;
        use ratatui::buffer::Buffer;

        let frame = |theme: &Theme, actions: &[Action]| -> Buffer {
            let mut app = App::new(Query::default());
            let area = ratatui::layout::Rect::new(0, 0, 120, 30);
            let measured = crate::ui::viewport(area, &app);
            app.update(Action::Viewport(measured));
            app.update(Action::Snapshot(sample_snapshot()));
            for action in actions {
                app.update(action.clone());
            }
            let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
            terminal
                .draw(|f| crate::ui::draw_with(f, &app, theme))
                .unwrap();
            terminal.backend().buffer().clone()
        };
        let plain = Theme {
            ascii: true,
            ..Theme::default().without_colour()
        };
        for actions in [
            vec![],
            vec![Action::ToggleHelp],
            vec![Action::Down, Action::Inspect],
        ] {
            let fancy = frame(&Theme::default(), &actions);
            assert!(
                fancy.content.iter().any(|c| !c.symbol().is_ascii()),
                "{actions:?}: the default frame has glyphs"
            );
            let buffer = frame(&plain, &actions);
            for cell in &buffer.content {
                assert!(cell.symbol().is_ascii(), "{actions:?}: {:?}", cell.symbol());
                assert_eq!(
                    (cell.fg, cell.bg),
                    (Color::Reset, Color::Reset),
                    "{actions:?}"
                );
            }
            let reversed = buffer
                .content
                .iter()
                .any(|c| c.modifier.contains(Modifier::REVERSED));
            assert!(
                reversed || !actions.is_empty(),
                "the table's selection is still shown"
            );
        }
        assert_eq!(
            plain.exposed_symbol, "⚠",
            "replaced when drawn, in one place"
        );
    }
}
