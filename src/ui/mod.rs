//! Drawing only: reads [`App`], never a clock or the OS.
//!
//! The screen, top to bottom: a header line, the table (its column titles, then only the rows
//! that fit), a status line (errors, hidden owners) and the key hints. [`viewport`] and
//! [`hit_test`] read the same layout as [`draw`], so scrolling and clicks match what is shown.

mod columns;
mod confirm;
mod explain;
mod footer;
mod grouped;
mod header;
mod help;
mod history;
mod inspect;
mod table;
mod text;
pub(crate) mod theme;

#[cfg(test)]
mod owner_tests;
#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::app::action::{Action, Shown, Viewport};
use crate::app::keymap;
use crate::app::{App, Mode};
use crate::domain::sort::Column;
use crate::model::Socket;

use self::columns::{Columns, Slot};
pub(crate) use self::theme::Theme;

/// Below this many columns the table cannot show a port and its owner side by side.
pub(crate) const MIN_WIDTH: u16 = 30;
/// Below this many rows there is no room for two table rows under the header and above the
/// footer.
pub(crate) const MIN_HEIGHT: u16 = 6;

/// Lines that are not table rows: header line, column titles, status line, key hints.
const CHROME_HEIGHT: u16 = 4;

/// What a mouse click landed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hit {
    /// A column title: sort by it.
    Header(Column),
    /// A table row, by its index among the visible rows (for `Action::SelectVisible`).
    Row(usize),
}

/// Draws the whole screen for the app's current state, with the default theme.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn draw(frame: &mut Frame, app: &App) {
    draw_with(frame, app, &Theme::default());
}

/// Draws the whole screen with a given theme (e.g. one [`Theme::without_colour`] for `NO_COLOR`).
/// With `theme.ascii`, every glyph the drawing used is then replaced by its ASCII stand-in.
pub(crate) fn draw_with(frame: &mut Frame, app: &App, theme: &Theme) {
    draw_screen(frame, app, theme);
    if theme.ascii {
        to_ascii(frame.buffer_mut());
    }
}

/// Replaces each cell's glyph by its one-column ASCII stand-in (`domain::text::ascii_glyph`).
fn to_ascii(buffer: &mut ratatui::buffer::Buffer) {
    for cell in &mut buffer.content {
        let mut chars = cell.symbol().chars();
        if let (Some(glyph), None) = (chars.next(), chars.next())
            && let Some(plain) = crate::domain::text::ascii_glyph(glyph)
        {
            let mut text = [0; 4];
            cell.set_symbol(plain.encode_utf8(&mut text));
        }
    }
}

fn draw_screen(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    let Some(screen) = Screen::of(area) else {
        too_small(frame, area, theme);
        return;
    };
    match app.mode() {
        Mode::History | Mode::HistoryFilter => {
            history::render(frame, &screen, app, theme);
            return;
        }
        Mode::Explain => {
            explain::render(frame, &screen, app, theme);
            return;
        }
        Mode::Table | Mode::Filter | Mode::Help | Mode::Inspect | Mode::Confirm => {}
    }
    frame.render_widget(
        Paragraph::new(header::line(app, theme, screen.header.width)),
        screen.header,
    );
    if let Some(inspected) = app.inspected() {
        inspect::render(frame, screen.below_header(), app, inspected, theme);
    } else if app.is_grouped() {
        grouped::render(frame, screen.table_header, screen.body, app, theme);
    } else {
        let rows: Vec<&Socket> = app.visible_rows().collect();
        let columns = screen.columns(app, &rows, theme);
        table::render(
            frame,
            screen.table_header,
            screen.body,
            app,
            &rows,
            &columns,
            theme,
        );
    }
    bottom_lines(frame, &screen, app, theme);
    match app.mode() {
        Mode::Help => help::render(frame, area, theme, app.is_read_only(), app.help_scroll()),
        Mode::Confirm => {
            if let Some(asked) = confirm::Asked::of(app) {
                confirm::render(frame, area, app, asked, theme);
            }
        }
        _ => {}
    }
}

/// The status line and the key hints, the same under every view.
fn bottom_lines(frame: &mut Frame, screen: &Screen, app: &App, theme: &Theme) {
    frame.render_widget(
        Paragraph::new(footer::status_line(app, theme, screen.status.width)),
        screen.status,
    );
    frame.render_widget(
        Paragraph::new(footer::hints_line(app, theme, screen.footer.width)),
        screen.footer,
    );
}

/// Whether the stop dialog, if one is open, is wholly on a screen of size `area`.
pub(crate) fn dialog_fits(area: Rect, app: &App) -> bool {
    confirm::Asked::of(app).is_none_or(|asked| confirm::fits(area, app, asked))
}

/// What the layout of a terminal this size gives each view when it draws `app`; all zero when
/// it is too small. The columns are the ones [`draw_with`] lays out for the rows on screen.
pub(crate) fn viewport(area: Rect, app: &App) -> Viewport {
    Screen::of(area).map_or(
        Viewport {
            rows: 0,
            explain_width: 0,
            inspect_width: 0,
            columns: Shown::NONE,
        },
        |screen| Viewport {
            rows: usize::from(screen.body.height),
            explain_width: usize::from(explain::text_area(&screen).width),
            inspect_width: usize::from(inspect::frame(screen.below_header()).inner.width),
            columns: if app.is_grouped() {
                grouped::SHOWN
            } else {
                let rows: Vec<&Socket> = app.visible_rows().collect();
                let columns = screen.columns(app, &rows, &Theme::default());
                // Every place counts, REMOTE too, so a digit is the column at that place.
                Shown::placed(columns.placed.iter().map(|p| match p.slot {
                    Slot::Column(c) => Some(c),
                    Slot::Remote => None,
                }))
            },
        },
    )
}

/// What is drawn at terminal cell (`column`, `row`) for a screen of size `area`: a column title
/// or a table row. `None` for everything else, and while the help overlay covers the table.
pub(crate) fn hit_test(area: Rect, app: &App, column: u16, row: u16) -> Option<Hit> {
    if !matches!(app.mode(), Mode::Table | Mode::Filter) {
        return None;
    }
    let screen = Screen::of(area)?;
    let inside = |r: Rect| column >= r.x && column < r.right() && row >= r.y && row < r.bottom();
    if app.is_grouped() {
        // The grouped view's titles are not sortable columns; its lines are not one per row.
        if !inside(screen.body) {
            return None;
        }
        let line = usize::from(row - screen.body.y);
        return grouped::row_at(app, usize::from(screen.body.height), line).map(Hit::Row);
    }
    let rows: Vec<&Socket> = app.visible_rows().collect();
    if inside(screen.table_header) {
        let columns = screen.columns(app, &rows, &Theme::default());
        return match columns.at(column)? {
            Slot::Column(c) => Some(Hit::Header(c)),
            Slot::Remote => None,
        };
    }
    if inside(screen.body) {
        let index = usize::from(row - screen.body.y);
        return (index < rows.len()).then_some(Hit::Row(index));
    }
    None
}

/// Where each part of the screen goes; depends on the terminal size only, so the app can be
/// told how many rows fit before anything is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Screen {
    header: Rect,
    table_header: Rect,
    body: Rect,
    status: Rect,
    footer: Rect,
}

impl Screen {
    fn of(area: Rect) -> Option<Screen> {
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            return None;
        }
        let line = |y: u16| Rect {
            y,
            height: 1,
            ..area
        };
        Some(Screen {
            header: line(area.y),
            table_header: line(area.y + 1),
            body: Rect {
                y: area.y + 2,
                height: area.height - CHROME_HEIGHT,
                ..area
            },
            status: line(area.bottom() - 2),
            footer: line(area.bottom() - 1),
        })
    }

    /// The table's whole area (column titles and body), which the inspect view takes over.
    fn below_header(&self) -> Rect {
        Rect {
            height: self.body.height + 1,
            ..self.table_header
        }
    }

    fn columns(&self, app: &App, rows: &[&Socket], theme: &Theme) -> Columns {
        columns::layout(
            self.body.x,
            self.body.width,
            rows,
            app.sort(),
            app.query(),
            app.hidden_columns(),
            theme,
        )
    }
}

/// One plain, centred sentence instead of a garbled table.
fn too_small(frame: &mut Frame, area: Rect, theme: &Theme) {
    let parts = [
        "terminal too small:".to_string(),
        format!("{MIN_WIDTH}x{MIN_HEIGHT} needed,"),
        format!("{}x{} now", area.width, area.height),
    ];
    // Greedy word-wrap by phrase, so the sizes never split across lines.
    let mut lines: Vec<String> = Vec::new();
    for part in parts {
        match lines.last_mut() {
            Some(last) if text::width(last) + 1 + text::width(&part) <= usize::from(area.width) => {
                last.push(' ');
                last.push_str(&part);
            }
            _ => lines.push(part),
        }
    }
    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .min(area.height);
    let rect = Rect {
        y: area.y + (area.height - height) / 2,
        height,
        ..area
    };
    let lines: Vec<Line> = lines
        .into_iter()
        .map(|l| {
            Line::styled(
                text::truncate(&l, usize::from(area.width)).into_owned(),
                theme.header,
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).centered(), rect);
}

/// The key the keymap binds to `action` in the table (or, failing that, anywhere).
fn key_for(action: &Action) -> Option<&'static str> {
    keymap::bindings()
        .iter()
        .find(|b| b.action == *action && b.context == keymap::Context::Table)
        .or_else(|| keymap::bindings().iter().find(|b| b.action == *action))
        .map(|b| keymap::primary(b.label))
}
