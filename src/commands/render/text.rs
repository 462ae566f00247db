//! Aligned plain-text tables for people: `list` and `who`.
//!
//! Pure: sockets in, text out (`list`'s written as it is laid out). Rows are printed in the
//! order given (the caller sorts).

use std::io::{self, Write};

use crate::cli::TextOptions;
use crate::domain::command;
use crate::domain::text;
use crate::model::{Socket, format_endpoint, inert_residue};

/// Marks rows reachable from other machines; the SCOPE cell says why ("all interfaces").
const EXPOSED_MARK: char = '!';
const GAP: &str = "  ";
/// `--color`: the exposed mark in bold yellow, listening states in green, as the live table
/// shows them.
const EXPOSED_COLOUR: &str = "\x1b[1;33m";
const LISTENING_COLOUR: &str = "\x1b[32m";
const RESET: &str = "\x1b[0m";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// A column title and how its cells line up.
struct Column {
    title: &'static str,
    align: Align,
}

const fn left(title: &'static str) -> Column {
    Column {
        title,
        align: Align::Left,
    }
}

const fn right(title: &'static str) -> Column {
    Column {
        title,
        align: Align::Right,
    }
}

const LIST_COLUMNS: [Column; 9] = [
    left("PROTO"),
    left("LOCAL ADDRESS"),
    right("PORT"),
    left("SCOPE"),
    left("STATE"),
    left("PID"),
    left("PROCESS"),
    left("USER"),
    left("COMMAND"),
];

/// `who`'s columns, and `list -c`'s: connection ends need their REMOTE.
const WITH_REMOTE: [Column; 10] = [
    left("PROTO"),
    left("LOCAL ADDRESS"),
    right("PORT"),
    left("SCOPE"),
    left("STATE"),
    left("REMOTE"),
    left("PID"),
    left("PROCESS"),
    left("USER"),
    left("COMMAND"),
];

/// One printed line: whether it gets the exposed mark, whether it listens, and its cells.
#[derive(Clone)]
struct Row {
    exposed: bool,
    listening: bool,
    cells: Vec<String>,
}

/// The REMOTE cell: the peer of a connection end, `*` for a listener or an unconnected UDP
/// socket, as ss writes it.
/// A connection end's peer; `*` for a socket with none (a listener, a bound UDP socket), as ss
/// writes it.
fn remote_cell(s: &Socket) -> String {
    s.remote.map_or_else(
        || "*".to_string(),
        |(addr, port)| format_endpoint(addr, port),
    )
}

fn is_listening(s: &Socket) -> bool {
    s.state.is_listening()
}

/// The `list` table: one row per socket, as the live table shows it. A shared socket shows its
/// first owner with "+N" in PID, and names the other pids after the command so none is lost.
/// With `remote` (`list -c`), a REMOTE column gives each connection end's peer.
#[cfg(test)]
pub(crate) fn list_table(sockets: &[Socket], remote: bool, options: TextOptions) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_list_table(&mut out, sockets, remote, options);
    String::from_utf8_lossy(&out).into_owned()
}

/// [`list_table`] written to `out` line by line: the rows are laid out twice (once for the
/// column widths, once to print), never held, so 100,000 sockets cost no more memory than ten.
pub(crate) fn write_list_table(
    out: &mut dyn Write,
    sockets: &[Socket],
    remote: bool,
    options: TextOptions,
) -> io::Result<()> {
    let rows = || sockets.iter().map(move |s| list_row(s, remote));
    let columns: &[Column] = if remote { &WITH_REMOTE } else { &LIST_COLUMNS };
    let mut buffered = io::BufWriter::with_capacity(64 * 1024, out);
    write_rows(&mut buffered, columns, rows, options)?;
    buffered.flush()
}

fn list_row(s: &Socket, remote: bool) -> Row {
    let mut cells = vec![
        s.proto.as_str().to_string(),
        s.local_addr.to_string(),
        s.local_port.to_string(),
        s.scope.as_str().to_string(),
        s.state.as_str().to_string(),
    ];
    if remote {
        cells.push(remote_cell(s));
    }
    cells.extend([
        s.pid_label(),
        s.process_label(),
        s.user_label(),
        list_command(s),
    ]);
    Row {
        exposed: s.scope.is_exposed(),
        listening: is_listening(s),
        cells,
    }
}

/// The `who` table: one row per (socket, owner) pair, every cell repeated, so each line stands
/// alone under `grep`. A socket without a known owner gets one row explaining why.
pub(crate) fn who_table(sockets: &[Socket], options: TextOptions) -> String {
    let rows = sockets.iter().flat_map(|s| {
        let socket_cells = [
            s.proto.as_str().to_string(),
            s.local_addr.to_string(),
            s.local_port.to_string(),
            s.scope.as_str().to_string(),
            s.state.as_str().to_string(),
            remote_cell(s),
        ];
        let owner_cells: Vec<[String; 4]> = if s.owners.is_empty() {
            vec![[
                "-".to_string(),
                s.process_label(),
                s.user_label(),
                String::new(),
            ]]
        } else {
            s.owners
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    [
                        o.key.pid.to_string(),
                        // A forward is read from the first owner's command line.
                        match (&s.container, &s.forward) {
                            (Some(c), _) => format!("{} -> {}", o.name, c.name),
                            (None, Some(f)) if i == 0 => format!("{} -> {}", o.name, f.target),
                            _ => o.name.to_string(),
                        },
                        // The process's user when readable, else whoever owns the socket.
                        o.user
                            .as_ref()
                            .map_or_else(|| s.user_label(), ToString::to_string),
                        o.cmdline.to_string(),
                    ]
                })
                .collect()
        };
        owner_cells.into_iter().map(move |owner| Row {
            exposed: s.scope.is_exposed(),
            listening: is_listening(s),
            cells: socket_cells.iter().cloned().chain(owner).collect(),
        })
    });
    let rows: Vec<Row> = rows.collect();
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_rows(&mut out, &WITH_REMOTE, || rows.iter().cloned(), options);
    String::from_utf8_lossy(&out).into_owned()
}

/// The first owner's command line, followed by the other owners' pids for a shared socket.
fn list_command(s: &Socket) -> String {
    let command = command::of_socket(s);
    match s.owners.get(1..) {
        Some(rest) if !rest.is_empty() => {
            let pids: Vec<String> = rest.iter().map(|o| o.key.pid.to_string()).collect();
            format!("{command} (also pids {})", pids.join(", "))
        }
        _ => command.to_string(),
    }
}

/// Lays rows out under the headers (unless `-H`): columns padded to their widest cell, the
/// last one left ragged (command lines are long), no trailing spaces. Colour, when on, is
/// added after the padding, so it never moves a column. `rows` is asked twice: once for the
/// widths, once to print.
fn write_rows<I: Iterator<Item = Row>>(
    out: &mut dyn Write,
    columns: &[Column],
    rows: impl Fn() -> I,
    options: TextOptions,
) -> io::Result<()> {
    let header = Row {
        exposed: false,
        listening: false,
        cells: columns.iter().map(|c| c.title.to_string()).collect(),
    };
    let all = || std::iter::once(header.clone()).chain(rows().map(inert_row));
    let mut widths = vec![0; columns.len()];
    for row in all() {
        for (width, cell) in widths.iter_mut().zip(&row.cells) {
            *width = (*width).max(text::width(cell));
        }
    }
    let state_column = columns.iter().position(|c| c.title == "STATE");
    let last = columns.len() - 1;
    for row in all().skip(usize::from(!options.header)) {
        let cells: Vec<String> = row
            .cells
            .iter()
            .zip(columns)
            .zip(&widths)
            .enumerate()
            .map(|(i, ((cell, column), &width))| {
                // Padded by display columns: a CJK or emoji name takes two per character.
                let pad = " ".repeat(width.saturating_sub(text::width(cell)));
                let cell = if options.colour && row.listening && Some(i) == state_column {
                    format!("{LISTENING_COLOUR}{cell}{RESET}")
                } else {
                    cell.clone()
                };
                match column.align {
                    Align::Right => format!("{pad}{cell}"),
                    Align::Left if i == last => cell,
                    Align::Left => format!("{cell}{pad}"),
                }
            })
            .collect();
        let mark = match (row.exposed, options.colour) {
            (true, true) => format!("{EXPOSED_COLOUR}{EXPOSED_MARK}{RESET}"),
            (true, false) => EXPOSED_MARK.to_string(),
            (false, _) => " ".to_string(),
        };
        let line = format!("{mark} {}", cells.join(GAP));
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Every cell inert, whatever built it: a process chooses its own name and arguments, and
/// nothing in them may break the table or drive the terminal.
fn inert_row(mut row: Row) -> Row {
    for cell in &mut row.cells {
        if let std::borrow::Cow::Owned(inert) = inert_residue(cell) {
            *cell = inert;
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::view;
    use crate::model::Query;
    use crate::model::fixtures::{listener, owner, sample_snapshot, tunnels};
    use crate::model::is_unsafe;

    #[test]
    fn list_of_the_sample_snapshot() {
        let shown = view(sample_snapshot(), Query::EVERYTHING);
        insta::assert_snapshot!(list_table(&shown.sockets, false, TextOptions::default()));
    }

    #[test]
    fn who_of_a_shared_socket_lists_every_owner() {
        let shown = view(sample_snapshot(), Query::port(8080));
        insta::assert_snapshot!(who_table(&shown.sockets, TextOptions::default()));
    }

    #[test]
    fn who_of_a_port_with_listeners_and_connections() {
        let shown = view(sample_snapshot(), Query::port(5173));
        insta::assert_snapshot!(who_table(&shown.sockets, TextOptions::default()));
    }

    #[test]
    fn who_of_a_hidden_owner_shows_the_socket_user() {
        let shown = view(sample_snapshot(), Query::port(6379));
        insta::assert_snapshot!(who_table(&shown.sockets, TextOptions::default()));
    }

    #[test]
    fn list_of_forwarders_names_where_each_port_leads() {
        let shown = view(tunnels(), Query::default());
        insta::assert_snapshot!(list_table(&shown.sockets, false, TextOptions::default()));
    }

    /// The forward is read from the first owner's command line: only that owner's row says it.
    #[test]
    fn who_of_an_ssh_tunnel_names_the_target_on_the_forwarders_row() {
        let mut tunnel = tunnels();
        let ssh = tunnel.sockets[0].owners[0].clone();
        let mut owners = tunnel.sockets[0].owners.to_vec();
        owners.push(owner(9000, "ssh", "ana", "ssh -L 15432:elsewhere:1 h"));
        tunnel.sockets[0].owners = owners.into();
        let shown = view(tunnel, Query::port(15432));
        let table = who_table(&shown.sockets, TextOptions::default());
        let rows: Vec<&str> = table.lines().skip(1).collect();
        assert_eq!(rows.len(), 2, "{table}");
        assert!(
            rows[0].contains(&format!(" {} ", ssh.key.pid))
                && rows[0].contains(" ssh -> db.internal:5432 "),
            "{table}"
        );
        assert!(
            rows[1].contains(" 9000 ") && !rows[1].contains("->"),
            "{table}"
        );
    }

    #[test]
    fn a_hostile_forward_target_is_printed_inert() {
        let argv = [
            "ssh",
            "-L",
            "2375:/tmp/\u{1b}]0;t\u{7}\u{202e}",
            "-L",
            "1:\u{1b}[2J:2",
            "h",
        ];
        let ssh = crate::model::Owner {
            argv: argv.iter().map(|a| (*a).into()).collect(),
            ..owner(4120, "ssh", "ana", "ssh")
        };
        let shown = view(
            crate::model::Snapshot {
                sockets: vec![
                    listener("127.0.0.1", 2375, vec![ssh.clone()]),
                    listener("127.0.0.1", 1, vec![ssh]),
                ],
                ..Default::default()
            },
            Query::EVERYTHING,
        );
        let table = list_table(&shown.sockets, false, TextOptions::default());
        assert!(!table.chars().any(|c| is_unsafe(c) && c != '\n'), "{table}");
        assert!(
            table.contains("ssh -> /tmp/\\e]0;t\\x07\\u{202e}"),
            "{table}"
        );
        let port_one = table.lines().find(|l| l.contains(" 1 ")).unwrap();
        assert!(
            !port_one.contains("->"),
            "an escape is no host name: {port_one}"
        );
    }

    #[test]
    fn an_empty_list_is_just_the_header() {
        assert_eq!(
            list_table(&[], false, TextOptions::default()),
            "  PROTO  LOCAL ADDRESS  PORT  SCOPE  STATE  PID  PROCESS  USER  COMMAND\n"
        );
    }

    #[test]
    fn wide_names_keep_the_columns_aligned() {
        let rows = [
            listener(
                "127.0.0.1",
                1234,
                vec![owner(7, "日本語サーバ", "ana", "srv")],
            ),
            listener("127.0.0.1", 1235, vec![owner(8, "node", "ana", "node")]),
        ];
        let table = list_table(&rows, false, TextOptions::default());
        let user_column: Vec<usize> = table
            .lines()
            .map(|line| {
                let at = line.find(" ana ").or_else(|| line.find(" USER ")).unwrap();
                text::width(&line[..at])
            })
            .collect();
        assert!(user_column.windows(2).all(|w| w[0] == w[1]), "{table}");
    }

    #[test]
    fn control_characters_cannot_break_a_line() {
        let sneaky = owner(7, "evil\nname", "ana", "sh -c \u{1b}[2Jclear\r\n");
        let table = list_table(
            &[listener("127.0.0.1", 1234, vec![sneaky])],
            false,
            TextOptions::default(),
        );
        assert_eq!(table.lines().count(), 2, "{table}");
        assert!(!table.contains('\u{1b}'), "{table}");
        assert!(table.contains("evil\\nname"), "{table}");
        assert!(table.contains("sh -c \\e[2Jclear\\r\\n"), "{table}");
    }

    #[test]
    fn list_with_connections_has_a_remote_column() {
        let shown = view(sample_snapshot(), Query::EVERYTHING);
        let table = list_table(&shown.sockets, true, TextOptions::default());
        let header = table.lines().next().unwrap();
        assert!(header.find("STATE") < header.find("REMOTE"), "{header}");
        let established = table.lines().find(|l| l.contains("ESTABLISHED")).unwrap();
        assert!(established.contains(" 127.0.0.1:"), "{established}");
        let listener = table.lines().find(|l| l.contains("LISTEN")).unwrap();
        assert_eq!(
            listener.split_whitespace().nth(5),
            Some("*"),
            "listeners have no peer: {listener}"
        );
        insta::assert_snapshot!(table);
    }

    #[test]
    fn no_header_drops_only_the_titles() {
        let shown = view(sample_snapshot(), Query::EVERYTHING);
        let with = list_table(&shown.sockets, false, TextOptions::default());
        let without = list_table(
            &shown.sockets,
            false,
            TextOptions {
                header: false,
                colour: false,
            },
        );
        assert_eq!(
            with.lines().skip(1).collect::<Vec<_>>(),
            without.lines().collect::<Vec<_>>()
        );
        assert!(!without.contains("PROTO"), "{without}");
        assert_eq!(
            list_table(
                &[],
                false,
                TextOptions {
                    header: false,
                    colour: false
                }
            ),
            ""
        );
    }

    #[test]
    fn colour_marks_exposed_rows_and_listeners_without_moving_columns() {
        let shown = view(sample_snapshot(), Query::EVERYTHING);
        let plain = list_table(&shown.sockets, false, TextOptions::default());
        assert!(!plain.contains('\u{1b}'), "{plain}");
        let coloured = list_table(
            &shown.sockets,
            false,
            TextOptions {
                header: true,
                colour: true,
            },
        );
        assert!(coloured.contains("\u{1b}[1;33m!\u{1b}[0m "), "{coloured}");
        assert!(coloured.contains("\u{1b}[32mLISTEN\u{1b}[0m"), "{coloured}");
        let stripped = coloured
            .replace("\u{1b}[1;33m", "")
            .replace("\u{1b}[32m", "")
            .replace("\u{1b}[0m", "");
        assert_eq!(stripped, plain);
    }
}
