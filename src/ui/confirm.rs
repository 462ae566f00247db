//! The stop dialog: exactly what will be signalled (or which container the engine will stop)
//! and what goes with it, and the two keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph};

use crate::app::keymap::{self, Context};
use crate::app::{App, PendingContainerStop, PendingKill};
use crate::domain::inspect;
use crate::domain::supervisor::{Behind, Supervision};
use crate::model::Signal;

use super::text::{truncate, truncate_spans, width, wrap};
use super::theme::Theme;

const LABEL: usize = 9;
/// The most lines one field of the dialog takes.
const MAX_FIELD_LINES: usize = 4;
/// The lines what stands behind the process always takes in the full layout: the dialog keeps
/// its size while it is read, and whatever it turns out to say.
const SUPERVISION_LINES: usize = 6;
/// Wide enough for a command line to be recognisable, narrow enough to read as a dialog.
const MAX_WIDTH: u16 = 76;

/// Whether the whole dialog (every line of what will be signalled, and the keys) fits `area`:
/// a yes counts only for a dialog that was there to be read.
pub(crate) fn fits(area: Rect, app: &App, asked: Asked) -> bool {
    laid_out(area, app, asked, &Theme::default()).is_ok()
}

/// What the dialog asks about.
#[derive(Clone, Copy)]
pub(crate) enum Asked<'p> {
    Signal(&'p PendingKill),
    Container(&'p PendingContainerStop),
}

impl<'p> Asked<'p> {
    /// The open dialog's question, if one is open.
    pub(crate) fn of(app: &'p App) -> Option<Self> {
        app.pending_kill()
            .map(Asked::Signal)
            .or_else(|| app.pending_container_stop().map(Asked::Container))
    }

    fn title(self) -> String {
        match self {
            Asked::Signal(pending) => format!(" stop {}? ", pending.target.label()),
            Asked::Container(pending) => format!(" stop container {}? ", pending.container.name),
        }
    }
}

/// How much room the dialog's fields get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Density {
    /// Long values wrap over a few lines, with blank lines between the parts.
    Full,
    /// One line per field and no blank lines, for short terminals.
    Compact,
}

impl Density {
    /// The most lines one field takes.
    fn field_lines(self) -> usize {
        match self {
            Density::Full => MAX_FIELD_LINES,
            Density::Compact => 1,
        }
    }
}

/// The dialog's lines in the first density that fits `area` whole; otherwise how many rows the
/// smallest one needs.
fn laid_out<'a>(
    area: Rect,
    app: &App,
    asked: Asked,
    theme: &Theme,
) -> Result<Vec<Line<'a>>, usize> {
    let box_width = area.width.min(MAX_WIDTH);
    let mut needed = usize::MAX;
    for density in [Density::Full, Density::Compact] {
        let max = inner_width(box_width);
        let lines = match asked {
            Asked::Signal(pending) => body(app, pending, theme, max, density),
            Asked::Container(pending) => container_body(pending, theme, max, density),
        };
        needed = lines.len() + 2;
        if super::Screen::of(area).is_some() && needed <= usize::from(area.height) {
            return Ok(lines);
        }
    }
    Err(needed)
}

fn inner_width(box_width: u16) -> usize {
    usize::from(box_width.saturating_sub(4))
}

pub(crate) fn render(frame: &mut Frame, area: Rect, app: &App, asked: Asked, theme: &Theme) {
    let box_width = area.width.min(MAX_WIDTH);
    // Not all of it can be read here, so no answer will count: say so instead of showing a
    // part of it that looks whole.
    let mut lines = laid_out(area, app, asked, theme).unwrap_or_else(|needed| {
        wrap(
            &format!(
                "This dialog needs {needed} rows and the terminal has {}: make it taller, then ask again. Any key closes it; nothing is sent.",
                area.height
            ),
            inner_width(box_width),
        )
        .into_iter()
        .map(Line::raw)
        .collect()
    });
    let box_height = u16::try_from(lines.len() + 2)
        .unwrap_or(u16::MAX)
        .min(area.height);
    // A short terminal keeps the keys line: it is the one that matters.
    let room = usize::from(box_height.saturating_sub(2));
    if lines.len() > room && room > 0 {
        let keys = lines.pop();
        lines.truncate(room - 1);
        lines.extend(keys);
    }
    let rect = Rect {
        x: area.x + (area.width - box_width) / 2,
        y: area.y + (area.height - box_height) / 2,
        width: box_width,
        height: box_height,
    };
    let title = asked.title();
    let block = Block::bordered()
        .border_style(theme.error)
        .title(Line::styled(title, theme.error))
        .padding(Padding::horizontal(1));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

fn body<'a>(
    app: &App,
    pending: &PendingKill,
    theme: &Theme,
    max: usize,
    density: Density,
) -> Vec<Line<'a>> {
    let field_lines = density.field_lines();
    let blank = |lines: &mut Vec<Line<'a>>| {
        if density == Density::Full {
            lines.push(Line::raw(""));
        }
    };
    let target = &pending.target;
    let snapshot = app.snapshot();
    let mut lines = Vec::new();
    let field = |label: &str, value: String| field_lines_of(label, &value, theme, max, field_lines);
    lines.push(truncate_spans(
        vec![
            Span::raw("send "),
            Span::styled(pending.signal.name(), theme.key),
            Span::raw(match pending.signal {
                Signal::Kill => " (cannot be caught: no clean shutdown)",
                _ => " (asks it to exit cleanly)",
            }),
        ],
        max,
    ));
    blank(&mut lines);
    lines.extend(field("process", target.label()));
    lines.extend(field(
        "user",
        target
            .user
            .as_ref()
            .map_or_else(|| "(unknown)".into(), ToString::to_string),
    ));
    let cmdline = if pending.cmdline.is_empty() {
        "(none)".to_string()
    } else {
        pending.cmdline.to_string()
    };
    lines.extend(field("command", cmdline));
    let ports = inspect::listening_ports(snapshot, target.key);
    let holds = if ports.is_empty() {
        "no listening socket".to_string()
    } else {
        ports.join(", ")
    };
    lines.extend(field("listens", holds));
    let connections = inspect::connection_count(snapshot, target.key);
    if connections > 0 {
        let noun = if connections == 1 { "end" } else { "ends" };
        lines.extend(field(
            "also",
            format!("{connections} connection {noun} in view"),
        ));
    }
    // Read after the dialog opened: these fields take the same room before and after.
    let details = app.details_of(target.key);
    let children = match details {
        Some(Ok(details)) => match details.children {
            0 => "none".to_string(),
            1 => "1 child process (not signalled; it may exit too)".to_string(),
            n => format!("{n} child processes (not signalled; they may exit too)"),
        },
        Some(Err(error)) => error.to_string(),
        None => "reading…".to_string(),
    };
    lines.extend(field_lines_of("children", &children, theme, max, 1));
    lines.extend(supervision_lines(app, pending, theme, max, density));

    lines.extend(warnings(pending, theme, max, density));
    blank(&mut lines);
    lines.push(keys_line(theme, max));
    lines
}

/// What stands behind the process and what the signal will lead to: always
/// [`SUPERVISION_LINES`] lines in the full layout (padded, or cut with a pointer to the inspect
/// view), one in the compact one.
fn supervision_lines<'a>(
    app: &App,
    pending: &PendingKill,
    theme: &Theme,
    max: usize,
    density: Density,
) -> Vec<Line<'a>> {
    let signal = pending.signal;
    let supervision = match app.details_of(pending.target.key) {
        Some(Ok(details)) => Ok(Supervision::of(&Behind::details(
            details,
            &app.snapshot().engine,
        ))),
        Some(Err(error)) => Err(format!("unknown: {error}")),
        None => Err("reading…".to_string()),
    };
    if density == Density::Compact {
        let text = match &supervision {
            Ok(supervision) => supervision.compact(signal),
            Err(text) => text.clone(),
        };
        let room = max.saturating_sub(LABEL + 1);
        return vec![Line::from(vec![
            Span::styled(format!("{:<LABEL$} ", "restarts"), theme.dim),
            Span::raw(truncate(&text, room).into_owned()),
        ])];
    }
    let mut lines = Vec::new();
    match &supervision {
        Ok(supervision) => {
            let field = |label: &str, value: &str| {
                field_lines_of(label, value, theme, max, SUPERVISION_LINES)
            };
            lines.extend(field("behind", &supervision.headline()));
            lines.extend(field(
                "after",
                &format!("{signal} {}", supervision.after(signal).text),
            ));
            if let Some(command) = supervision.for_good_command() {
                lines.extend(field("for good", &command));
            }
        }
        Err(text) => lines.extend(field_lines_of("behind", text, theme, max, 1)),
    }
    if lines.len() > SUPERVISION_LINES {
        lines.truncate(SUPERVISION_LINES - 1);
        let note = "… (whole in inspect)";
        lines.push(Line::from(vec![
            Span::styled(format!("{:<LABEL$} ", ""), theme.dim),
            Span::styled(note, theme.dim),
        ]));
    }
    lines.resize(SUPERVISION_LINES, Line::raw(""));
    lines
}

/// One field: values wrap under themselves, up to `field_lines` lines. A command line of any
/// length (a Java classpath, a hostile 200 KB argv) must leave a dialog that fits, or no
/// process with one could ever be stopped from here. The inspect view shows it whole.
fn field_lines_of<'a>(
    label: &str,
    value: &str,
    theme: &Theme,
    max: usize,
    field_lines: usize,
) -> Vec<Line<'a>> {
    let room = max.saturating_sub(LABEL + 1);
    let mut chunks = wrap(value, room);
    if chunks.len() > field_lines {
        chunks.truncate(field_lines);
        let last = chunks.pop().unwrap_or_default();
        let note = " (whole in inspect)";
        let mut head = truncate(&last, room.saturating_sub(width(note))).into_owned();
        if !head.ends_with('…') {
            head.push('…');
        }
        chunks.push(format!("{head}{note}"));
    }
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let name = if i == 0 { label } else { "" };
            Line::from(vec![
                Span::styled(format!("{name:<LABEL$} "), theme.dim),
                Span::raw(chunk),
            ])
        })
        .collect()
}

/// The container stop: which container (by name, image and id: the engine stops that id),
/// the port it publishes here, and how the engine stops it.
fn container_body<'a>(
    pending: &PendingContainerStop,
    theme: &Theme,
    max: usize,
    density: Density,
) -> Vec<Line<'a>> {
    let field_lines = density.field_lines();
    let field = |label: &str, value: String| field_lines_of(label, &value, theme, max, field_lines);
    let container = &pending.container;
    let socket = &pending.socket;
    let mut lines = vec![truncate_spans(
        vec![
            Span::raw("the engine sends its "),
            Span::styled("stop signal", theme.key),
            Span::raw(", then SIGKILL after its stop timeout"),
        ],
        max,
    )];
    if density == Density::Full {
        lines.push(Line::raw(""));
    }
    lines.extend(field("container", container.name.to_string()));
    lines.extend(field("image", container.image.to_string()));
    if let Some((project, service)) = &container.compose {
        lines.extend(field("compose", format!("{project}/{service}")));
    }
    lines.extend(field("id", container.short_id().to_string()));
    let published: Vec<String> = container
        .ports
        .iter()
        .map(|p| match p.host_addr {
            Some(addr) => format!(
                "{} {}",
                p.proto,
                crate::model::format_endpoint(addr, p.host_port)
            ),
            None => format!("{} *:{}", p.proto, p.host_port),
        })
        .collect();
    lines.extend(field("publishes", published.join(", ")));
    let held_by = match socket.owners.first() {
        Some(owner) => format!("{} (stops with the container)", owner.label()),
        None => "no process: NAT rules (they go with the container)".to_string(),
    };
    lines.extend(field("port held", held_by));
    if density == Density::Full {
        lines.push(Line::raw(""));
    }
    lines.push(container_keys_line(theme, max));
    lines
}

/// `y/Enter stop the container   n/Esc cancel: stop nothing`: the dialog's own keys, named
/// for what they do here.
fn container_keys_line<'a>(theme: &Theme, max: usize) -> Line<'a> {
    let mut keys = Vec::new();
    for (i, (label, _)) in keymap::help_lines(Context::Confirm).into_iter().enumerate() {
        if !keys.is_empty() {
            keys.push(Span::raw("   "));
        }
        keys.push(Span::styled(label, theme.key));
        keys.push(Span::raw(if i == 0 {
            " stop the container"
        } else {
            " cancel: stop nothing"
        }));
    }
    truncate_spans(keys, max)
}

/// What the user might not expect: a client rather than a server, a socket others keep open.
fn warnings<'a>(
    pending: &PendingKill,
    theme: &Theme,
    max: usize,
    density: Density,
) -> Vec<Line<'a>> {
    let warnings = inspect::stop_warnings(&pending.socket, &pending.target);
    let mut lines = Vec::new();
    if !warnings.is_empty() && density == Density::Full {
        lines.push(Line::raw(""));
    }
    let indent = width(theme.exposed_symbol) + 1;
    for warning in warnings {
        for (i, chunk) in wrap(&warning, max.saturating_sub(indent))
            .into_iter()
            .enumerate()
        {
            let lead = if i == 0 {
                format!("{} ", theme.exposed_symbol)
            } else {
                " ".repeat(indent)
            };
            lines.push(Line::from(vec![
                Span::styled(lead, theme.exposed),
                Span::styled(chunk, theme.exposed),
            ]));
        }
    }
    lines
}

/// `y/Enter send the signal   n/Esc cancel: send nothing`, from the keymap.
fn keys_line<'a>(theme: &Theme, max: usize) -> Line<'a> {
    let mut keys = Vec::new();
    for (label, help) in keymap::help_lines(Context::Confirm) {
        if !keys.is_empty() {
            keys.push(Span::raw("   "));
        }
        keys.push(Span::styled(label, theme.key));
        keys.push(Span::raw(" "));
        keys.push(Span::raw(help));
    }
    truncate_spans(keys, max)
}
