//! One-shot modes (`list`, `who`): collect once, print once, never touch the terminal.
//!
//! [`text`] and [`json`] are pure renderers of a [`Snapshot`]; the functions here add the
//! collection, the choice of rows, and where each piece of text goes (stdout or stderr), so
//! `main` only maps their outcome to an exit code.

pub(crate) mod doctor;
pub(crate) mod explain;
pub(crate) mod kill;
pub(crate) mod render;
pub(crate) mod watch;

use std::io::{self, Write};

use anyhow::Context;

use self::render::{json, openmetrics, text};
use crate::cli::{Format, ListFormat, Only, TextOptions};
use crate::collect::Collector;
use crate::domain::forward;
use crate::domain::sort::SortSpec;
use crate::model::Query;
use crate::model::Snapshot;

/// How a `who` question was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WhoOutcome {
    /// At least one socket is bound to every port asked about.
    Found,
    /// No socket uses these ports (some or all of those asked about); the caller names each
    /// and exits 1, as lsof does for anything it was asked about and did not find.
    NothingBound(Vec<u16>),
}

/// The rows a one-shot answer shows: the sockets `query` admits, by the same rule and in the
/// same default order as the live table, each forwarder's listening end marked with where it
/// leads.
///
/// Collectors already narrow by the query; filtering again keeps the answer exact whatever the
/// collector does (the fake one returns its whole script).
pub(crate) fn view(mut snapshot: Snapshot, query: Query) -> Snapshot {
    snapshot
        .sockets
        .retain(|s| query.admits(s.scope, s.state, s.local_port));
    snapshot.put_in_listing_order();
    forward::attach(&mut snapshot.sockets);
    SortSpec::default().sort(&mut snapshot.sockets);
    snapshot
}

/// The line `who` prints on stderr when the port is free.
pub(crate) fn nothing_bound_message(port: u16) -> String {
    format!("nothing is bound to port {port}")
}

/// What a one-shot prints, beyond the sockets: which of them (`-t`/`-u`/`-4`/`-6`), in which
/// format, and how a text table looks.
/// `F` is the formats the command has: `list` also speaks OpenMetrics.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output<F = Format> {
    pub(crate) only: Only,
    pub(crate) format: F,
    pub(crate) text: TextOptions,
}

impl<F> Output<F> {
    /// Plain text, every socket, with the header.
    #[cfg(test)]
    pub(crate) fn text() -> Output<F>
    where
        F: From<Format>,
    {
        Output::of(Format::Text.into())
    }

    #[cfg(test)]
    pub(crate) fn of(format: F) -> Output<F> {
        Output {
            only: Only::default(),
            format,
            text: TextOptions::default(),
        }
    }
}

/// `loopwatch list`: one snapshot, as a table on `out` (with the hidden-owner notice on `err`)
/// as JSON or as OpenMetrics on `out`. With `-c` the table has a REMOTE column.
pub(crate) fn list(
    collector: &mut dyn Collector,
    query: Query,
    output: Output<ListFormat>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut shown = view(collector.collect(&query).context("listing sockets")?, query);
    shown.sockets.retain(|s| output.only.admits(s));
    match output.format {
        ListFormat::Text => {
            text::write_list_table(out, &shown.sockets, query.connections, output.text)
                .context("writing to stdout")?;
            notice_hidden_owners(&shown, err);
        }
        ListFormat::Json => {
            json::write_document(out, &shown, None).context("writing to stdout")?;
        }
        ListFormat::OpenMetrics => write_out(out, &openmetrics::exposition(&shown.sockets))?,
    }
    Ok(())
}

/// `loopwatch who PORT...`: every socket on the ports with all of their owners, port by port.
/// With nothing bound, text mode prints nothing on `out` (the caller says so on stderr) while
/// JSON still prints a document with an empty `sockets` array, so scripts always get something
/// to parse.
pub(crate) fn who(
    collector: &mut dyn Collector,
    ports: &[u16],
    output: Output,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<WhoOutcome> {
    let mut shown: Option<Snapshot> = None;
    let mut free = Vec::new();
    for (i, &port) in ports.iter().enumerate() {
        if ports[..i].contains(&port) {
            continue; // `who 80 80`
        }
        let query = Query::port(port);
        let snapshot = collector
            .collect(&query)
            .with_context(|| format!("looking up port {port}"))?;
        let mut found = view(snapshot, query);
        found.sockets.retain(|s| output.only.admits(s));
        if found.sockets.is_empty() {
            free.push(port);
        }
        match &mut shown {
            Some(all) => all.sockets.extend(found.sockets),
            None => shown = Some(found),
        }
    }
    let shown = shown.unwrap_or_default();
    match output.format {
        Format::Text if !shown.sockets.is_empty() => {
            write_out(out, &text::who_table(&shown.sockets, output.text))?;
            notice_hidden_owners(&shown, err);
        }
        Format::Text => {}
        Format::Json => write_out(out, &json::document_for_ports(&shown, ports)?)?,
    }
    Ok(if free.is_empty() {
        WhoOutcome::Found
    } else {
        WhoOutcome::NothingBound(free)
    })
}

/// Writes and flushes, keeping the `io::Error` in the chain so `main` can tell a closed pipe
/// (a reader like `head` that has seen enough) from a real failure.
fn write_out(out: &mut dyn Write, text: &str) -> anyhow::Result<()> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("writing to stdout")
}

/// The stderr hint about owners hidden by permissions. Best effort: a closed stderr must not
/// turn a printed answer into a failure.
fn notice_hidden_owners(shown: &Snapshot, err: &mut dyn Write) {
    if let Some(line) = crate::domain::explain::hidden_owners(shown.hidden_owner_count()) {
        let _ = writeln!(err, "{line}");
    }
}

/// Whether `error` (or anything it wraps) is a write to a pipe whose reader has gone.
pub(crate) fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fake::FakeCollector;
    use crate::model::fixtures::sample_snapshot;

    fn run_list(format: Format) -> (String, String) {
        let mut collector = FakeCollector::new([sample_snapshot()]);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        list(
            &mut collector,
            Query::default(),
            Output::of(format.into()),
            &mut out,
            &mut err,
        )
        .unwrap();
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    fn run_who(port: u16, format: Format) -> (WhoOutcome, String, String, Vec<Query>) {
        let mut collector = FakeCollector::new([sample_snapshot()]);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let outcome = who(
            &mut collector,
            &[port],
            Output::of(format),
            &mut out,
            &mut err,
        )
        .unwrap();
        (
            outcome,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
            collector.queries,
        )
    }

    #[test]
    fn text_list_warns_about_hidden_owners_on_stderr_only() {
        let (out, err) = run_list(Format::Text);
        assert!(out.starts_with("  PROTO"), "{out}");
        assert!(!out.contains("run as root"));
        assert_eq!(
            err,
            "the owner of 1 socket is hidden: run as root to see it\n"
        );
    }

    #[test]
    fn list_shows_the_rows_the_live_table_shows() {
        let (out, _) = run_list(Format::Text);
        // The default view: listeners and UDP only, sorted by port.
        assert!(
            !out.contains("ESTABLISHED") && !out.contains("TIME_WAIT"),
            "{out}"
        );
        let ports: Vec<&str> = out
            .lines()
            .skip(1)
            // Past the two-character gutter that marks exposed rows.
            .filter_map(|l| l.get(2..)?.split_whitespace().nth(2))
            .collect();
        assert_eq!(
            ports,
            ["53", "5173", "5173", "5353", "5432", "6379", "8080", "9229"]
        );
    }

    #[test]
    fn json_list_keeps_stderr_quiet() {
        let (out, err) = run_list(Format::Json);
        assert!(out.contains("\"hidden_owners\": 1"), "{out}");
        assert_eq!(err, "");
    }

    #[test]
    fn who_asks_for_every_address_and_connection_on_the_port() {
        let (outcome, out, err, queries) = run_who(5173, Format::Text);
        assert_eq!(outcome, WhoOutcome::Found);
        assert_eq!(queries, vec![Query::port(5173)]);
        assert!(queries[0].connections && queries[0].all_addresses);
        // Both listeners and the server end of the connection; not curl's end on port 62893.
        assert_eq!(out.lines().count(), 1 + 3, "{out}");
        assert!(!out.contains("curl"), "{out}");
        assert_eq!(err, "");
    }

    #[test]
    fn who_on_a_free_port_prints_nothing_in_text_and_an_empty_document_in_json() {
        let (outcome, out, err, _) = run_who(1, Format::Text);
        assert_eq!(
            (outcome, out.as_str(), err.as_str()),
            (WhoOutcome::NothingBound(vec![1]), "", "")
        );

        let (outcome, out, _, _) = run_who(1, Format::Json);
        assert_eq!(outcome, WhoOutcome::NothingBound(vec![1]));
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["port"], 1);
        assert_eq!(doc["sockets"], serde_json::json!([]));
        assert_eq!(doc["hidden_owners"], 0);
    }

    #[test]
    fn who_on_a_hidden_port_notes_it_on_stderr() {
        let (outcome, out, err, _) = run_who(6379, Format::Text);
        assert_eq!(outcome, WhoOutcome::Found);
        assert!(out.contains("(hidden)"), "{out}");
        assert!(err.contains("the owner of 1 socket is hidden"), "{err}");
    }

    #[test]
    fn collector_failures_carry_context() {
        let mut collector = FakeCollector::default();
        collector.push_error("netlink said no");
        let e = list(
            &mut collector,
            Query::default(),
            Output::text(),
            &mut Vec::new(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(
            format!("{e:#}"),
            "listing sockets: cannot read the socket table: netlink said no"
        );
        assert!(!is_broken_pipe(&e));
    }

    /// A reader that has gone away, like `head` after its first line.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_stdout_is_recognised_through_the_context() {
        let mut collector = FakeCollector::new([sample_snapshot()]);
        for format in [Format::Text, Format::Json] {
            let e = list(
                &mut collector,
                Query::default(),
                Output::of(format.into()),
                &mut ClosedPipe,
                &mut Vec::new(),
            )
            .unwrap_err();
            assert!(is_broken_pipe(&e), "{e:#}");
        }
    }
}
