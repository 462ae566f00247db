//! `loopwatch explain PORT`: the port in plain words, as text or JSON.

use std::io::Write;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::Format;
use crate::collect::Collector;
use crate::domain::explain::{self, Explanation};
use crate::model::Query;
use crate::model::Socket;
use crate::model::SystemFacts;

use super::render::json::{SocketEntry, VERSION};
use super::{view, write_out};

/// Text output is wrapped to this width: readable in any terminal and in a pasted snippet.
const TEXT_WIDTH: usize = 80;

#[derive(Debug, Serialize)]
struct Document<'a> {
    version: u32,
    port: u16,
    title: &'a str,
    /// Every socket on the port, as `list --json` prints them.
    sockets: Vec<SocketEntry<'a>>,
    paragraphs: Vec<ParagraphEntry<'a>>,
}

#[derive(Debug, Serialize)]
struct ParagraphEntry<'a> {
    /// `"socket"`, `"address"`, `"IPv4/IPv6"`, `"connection"`, `"state"`, `"port range"`,
    /// `"usually"`.
    topic: &'static str,
    text: &'a str,
    /// Something to act on, such as a socket reachable from the network.
    warning: bool,
}

/// Collects everything (the other end of a connection may be on any port), then explains `port`.
pub(crate) fn explain(
    collector: &mut dyn Collector,
    port: u16,
    format: Format,
    facts: &SystemFacts,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let all = view(
        collector
            .collect(&Query::EVERYTHING)
            .with_context(|| format!("looking up port {port}"))?,
        Query::EVERYTHING,
    );
    let explanation = explain::port(port, &all.sockets, facts);
    let text = match format {
        Format::Text => explanation.to_text(TEXT_WIDTH),
        Format::Json => document(port, &explanation, &all.sockets)?,
    };
    write_out(out, &text)
}

fn document(port: u16, e: &Explanation, all: &[Socket]) -> serde_json::Result<String> {
    let doc = Document {
        version: VERSION,
        port,
        title: &e.title,
        sockets: all
            .iter()
            .filter(|s| s.local_port == port)
            .map(SocketEntry::from)
            .collect(),
        paragraphs: e
            .paragraphs
            .iter()
            .map(|p| ParagraphEntry {
                topic: p.topic.as_str(),
                text: &p.text,
                warning: p.warning,
            })
            .collect(),
    };
    let mut text = super::render::json::pretty(&doc)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fake::FakeCollector;
    use crate::model::fixtures::sample_snapshot;

    fn run(port: u16, format: Format) -> (String, Vec<Query>) {
        let mut collector = FakeCollector::new([sample_snapshot()]);
        let mut out = Vec::new();
        explain(
            &mut collector,
            port,
            format,
            &SystemFacts::linux_defaults(),
            &mut out,
        )
        .unwrap();
        (String::from_utf8(out).unwrap(), collector.queries)
    }

    #[test]
    fn text_names_the_client_and_the_server() {
        let (out, queries) = run(62893, Format::Text);
        assert_eq!(queries, [Query::EVERYTHING]);
        assert!(out.starts_with("port 62893\n"), "{out}");
        assert!(
            out.contains("client end of a connection to 127.0.0.1:5173"),
            "{out}"
        );
        assert!(out.lines().all(|l| l.chars().count() <= 80), "{out}");
    }

    #[test]
    fn json_has_the_sockets_and_paragraphs() {
        let (out, _) = run(8080, Format::Json);
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["port"], 8080);
        assert_eq!(doc["sockets"][0]["local_port"], 8080);
        let paragraphs = doc["paragraphs"].as_array().unwrap();
        assert!(
            paragraphs
                .iter()
                .any(|p| p["topic"] == "address" && p["warning"] == true)
        );
        let (free, _) = run(1, Format::Json);
        let doc: serde_json::Value = serde_json::from_str(&free).unwrap();
        assert_eq!(doc["sockets"], serde_json::json!([]));
    }
}
