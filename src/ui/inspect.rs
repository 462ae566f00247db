//! The inspect view: one socket, every process holding it, and the shown holder in depth:
//! what it is, where it runs from, who started it, and what else stops with it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{App, Inspected};
use crate::domain::inspect;
use crate::model::{DetailsError, ProcessDetails};
use crate::model::{Snapshot, Socket, format_endpoint};

use super::text::{truncate_spans, width, wrap};
use super::theme::Theme;

/// Width of the field names, so values line up.
const LABEL: usize = 11;

/// Draws the view into `area` (between the header and the status line).
pub(crate) fn render(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    inspected: &Inspected,
    theme: &Theme,
) {
    let socket = &inspected.socket;
    let mut title = format!(
        " {} {} {} ",
        socket.proto,
        socket.local_endpoint(),
        socket.state
    );
    if inspected.closed {
        title.push_str("(closed) ");
    }
    let block = Block::bordered()
        .border_style(theme.border)
        .title(Line::styled(title, theme.title));
    let inner = block.inner(area);
    let lines = lines(app, inspected, theme, usize::from(inner.width));
    let scroll = u16::try_from(inspected.scroll.min(lines.len().saturating_sub(1))).unwrap_or(0);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}

/// Every line of the view, fitted to `max` columns (long values wrap under their field).
pub(crate) fn lines<'a>(
    app: &App,
    inspected: &Inspected,
    theme: &Theme,
    max: usize,
) -> Vec<Line<'a>> {
    let mut out = Lines {
        out: Vec::new(),
        max,
        theme: theme.clone(),
    };
    let socket = &inspected.socket;
    let snapshot = app.snapshot();

    out.heading("socket");
    if inspected.closed {
        out.warning("this socket has closed since it was selected");
    }
    let family = if socket.local_addr.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    };
    out.field("protocol", &format!("{}, {family}", socket.proto));
    out.field(
        "local",
        &format!(
            "{}  ({})",
            socket.local_endpoint(),
            inspect::scope_sentence(socket)
        ),
    );
    if let Some((addr, port)) = socket.remote {
        out.field("remote", &format_endpoint(addr, port));
    }
    out.field("state", socket.state.as_str());
    if socket.inode != 0 {
        out.field("inode", &socket.inode.to_string());
    }
    holders(&mut out, inspected);

    if let Some(owner) = inspected.owner() {
        out.blank();
        out.heading(&format!("process {} {}", owner.name, owner.key.pid));
        match app.details_of(owner.key) {
            Some(Ok(details)) => process(&mut out, details),
            Some(Err(error)) => out.warning(&gone_text(error)),
            None => out.dim("reading…"),
        }
        if let Some(forward) = inspect::docker_forward(owner) {
            out.warning(&format!(
                "docker-proxy forwards this port to container {}; stopping the proxy does not stop the container",
                forward.container
            ));
        }
        others(&mut out, snapshot, owner.key, socket);
    }
    clients(&mut out, snapshot, socket);
    out.out
}

fn holders(out: &mut Lines, inspected: &Inspected) {
    let socket = &inspected.socket;
    match socket.owners.as_slice() {
        [] => {
            let reason = socket
                .unknown
                .map_or("unknown", crate::model::UnknownOwner::explain);
            out.field("held by", &format!("unknown: {reason}"));
        }
        [one] => out.field("held by", &owner_text(one)),
        many => {
            let list: Vec<String> = many
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    let mark = if i == inspected.holder { "▸" } else { "·" };
                    format!("{mark} {}", owner_text(o))
                })
                .collect();
            out.field(
                "held by",
                &format!("{} processes share it (Tab shows the next)", many.len()),
            );
            for item in list {
                out.field("", &item);
            }
        }
    }
}

fn owner_text(owner: &crate::model::Owner) -> String {
    match &owner.user {
        Some(user) => format!("{} {} ({user})", owner.name, owner.key.pid),
        None => format!("{} {}", owner.name, owner.key.pid),
    }
}

fn process(out: &mut Lines, details: &ProcessDetails) {
    out.field("user", details.user.as_deref().unwrap_or("(unknown)"));
    out.field("executable", details.exe.text());
    let cmdline = details.cmdline.join(" ");
    out.field(
        "command",
        if cmdline.is_empty() {
            "(none: a kernel thread, or hidden)"
        } else {
            &cmdline
        },
    );
    out.field("directory", details.cwd.text());
    out.field(
        "started",
        &format!(
            "{} (up {})",
            details.started,
            inspect::uptime(details.run_time)
        ),
    );
    // CPU is a rate: it needs a second look, one refresh later.
    let cpu = details.cpu_percent.map_or_else(
        || "CPU measuring…".to_string(),
        |cpu| format!("{cpu:.1}% of one core"),
    );
    out.field(
        "cpu, memory",
        &format!("{cpu}, {} resident", inspect::bytes(details.memory_bytes)),
    );
    let children = match details.children {
        0 => "no child processes".to_string(),
        1 => "1 child process".to_string(),
        n => format!("{n} child processes"),
    };
    out.field("status", &format!("{}, {children}", details.status));
    out.field("ancestry", &inspect::ancestry_line(details));
}

fn gone_text(error: &DetailsError) -> String {
    format!("{error}; the table shows what holds the port now")
}

fn others(out: &mut Lines, snapshot: &Snapshot, key: crate::model::ProcKey, socket: &Socket) {
    let others = inspect::other_sockets(snapshot, key, socket);
    out.blank();
    out.heading("also holds (stops with it)");
    if others.is_empty() {
        out.dim("no other socket in view");
    }
    for other in others {
        out.item(&socket_text(other));
    }
}

fn clients(out: &mut Lines, snapshot: &Snapshot, socket: &Socket) {
    if !socket.state.is_listening() || socket.proto != crate::model::Proto::Tcp {
        return;
    }
    let clients = inspect::clients(snapshot, socket);
    out.blank();
    out.heading("clients connected");
    if clients.is_empty() {
        out.dim("none on loopback right now");
    }
    for client in clients {
        let who = client.primary_owner().map_or_else(
            || client.process_label(),
            |o| format!("{} {}", o.name, o.key.pid),
        );
        out.item(&format!("{who}  from {}", client.local_endpoint()));
    }
}

fn socket_text(socket: &Socket) -> String {
    match socket.remote {
        Some((addr, port)) => format!(
            "{} {} → {} {}",
            socket.proto,
            socket.local_endpoint(),
            format_endpoint(addr, port),
            socket.state
        ),
        None => format!(
            "{} {} {}",
            socket.proto,
            socket.local_endpoint(),
            socket.state
        ),
    }
}

/// Builds the view's lines at a fixed width.
struct Lines<'a> {
    out: Vec<Line<'a>>,
    max: usize,
    theme: Theme,
}

impl Lines<'_> {
    fn heading(&mut self, text: &str) {
        let line = truncate_spans(
            vec![Span::styled(text.to_string(), self.theme.column_header)],
            self.max,
        );
        self.out.push(line);
    }

    fn blank(&mut self) {
        self.out.push(Line::raw(""));
    }

    fn dim(&mut self, text: &str) {
        self.out.push(truncate_spans(
            vec![Span::styled(format!("  {text}"), self.theme.dim)],
            self.max,
        ));
    }

    fn warning(&mut self, text: &str) {
        let symbol = self.theme.exposed_symbol;
        let indent = 2 + width(symbol) + 1;
        for (i, chunk) in wrap(text, self.max.saturating_sub(indent))
            .into_iter()
            .enumerate()
        {
            let lead = if i == 0 {
                format!("  {symbol} ")
            } else {
                " ".repeat(indent)
            };
            self.out.push(Line::from(vec![
                Span::styled(lead, self.theme.exposed),
                Span::styled(chunk, self.theme.exposed),
            ]));
        }
    }

    /// A list entry under a heading.
    fn item(&mut self, text: &str) {
        for chunk in wrap(text, self.max.saturating_sub(4)) {
            self.out.push(Line::raw(format!("    {chunk}")));
        }
    }

    /// `  label      value`, the value wrapped under itself when it is too long.
    fn field(&mut self, label: &str, value: &str) {
        let indent = 2 + LABEL + 1;
        for (i, chunk) in wrap(value, self.max.saturating_sub(indent))
            .into_iter()
            .enumerate()
        {
            let name = if i == 0 { label } else { "" };
            self.out.push(Line::from(vec![
                Span::styled(format!("  {name:<LABEL$} "), self.theme.dim),
                Span::raw(chunk),
            ]));
        }
    }
}
