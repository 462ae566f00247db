//! `loopwatch explain PORT` (or `why PORT`): the port in plain words, and what a server binding
//! it now would meet, as text or JSON.

use std::io::Write;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::Format;
use crate::collect::Collector;
use crate::domain::bind;
use crate::domain::explain::{self, Explanation};
use crate::model::{BindAttempt, BindAttempts, BindOutcome, Query, Socket, SystemFacts};

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
    /// The binds tried on the port, each closed at once; `null` where the platform cannot.
    bind_attempts: Option<Vec<AttemptEntry>>,
    paragraphs: Vec<ParagraphEntry<'a>>,
}

#[derive(Debug, Serialize)]
struct AttemptEntry {
    proto: &'static str,
    address: String,
    reuse_address: bool,
    /// `ok`, `in_use`, `permission_denied`, `address_unavailable`, `unsupported`, `error`.
    result: &'static str,
    /// The OS's words for an `error`.
    error: Option<String>,
}

impl From<&BindAttempt> for AttemptEntry {
    fn from(attempt: &BindAttempt) -> Self {
        AttemptEntry {
            proto: attempt.proto.as_str(),
            address: attempt.addr.to_string(),
            reuse_address: attempt.reuse_addr,
            result: attempt.outcome.as_str(),
            error: match &attempt.outcome {
                BindOutcome::Other(error) => Some(error.clone()),
                _ => None,
            },
        }
    }
}

/// What `explain` needs from the system besides the sockets.
pub(crate) struct Setting<'a> {
    pub(crate) facts: &'a SystemFacts,
    /// Tries the binds a server would make on a port.
    pub(crate) probe: &'a dyn Fn(u16) -> BindAttempts,
    /// The user the binds are tried as.
    pub(crate) uid: Option<u32>,
}

#[derive(Debug, Serialize)]
struct ParagraphEntry<'a> {
    /// `"socket"`, `"address"`, `"IPv4/IPv6"`, `"connection"`, `"state"`, `"port range"`,
    /// `"usually"`, `"bind"`.
    topic: &'static str,
    text: &'a str,
    /// Something to act on, such as a socket reachable from the network.
    warning: bool,
}

/// Collects everything (the other end of a connection may be on any port), asks the kernel for
/// the port's own sockets again (those bound without listening come only to a port query),
/// tries the binds, then explains `port`.
pub(crate) fn explain(
    collector: &mut dyn Collector,
    port: u16,
    format: Format,
    setting: &Setting,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let context = |what| move || format!("looking up port {port} ({what})");
    let mut everything = collector
        .collect(&Query::EVERYTHING)
        .with_context(context("every socket"))?;
    let on_port = collector
        .collect(&Query::port(port))
        .with_context(context("its own sockets"))?;
    everything.sockets.retain(|s| s.local_port != port);
    everything
        .sockets
        .extend(on_port.sockets.into_iter().filter(|s| s.local_port == port));
    let all = view(everything, Query::EVERYTHING);
    let attempts = (setting.probe)(port);
    let mut explanation = explain::port(port, &all.sockets, setting.facts);
    if let BindAttempts::Tried(attempts) = &attempts {
        let on_port: Vec<&Socket> = all
            .sockets
            .iter()
            .filter(|s| s.local_port == port)
            .collect();
        bind::explain(
            &mut explanation,
            port,
            attempts,
            &on_port,
            setting.facts,
            setting.uid,
        );
    }
    let text = match format {
        Format::Text => explanation.to_text(TEXT_WIDTH),
        Format::Json => document(port, &explanation, &all.sockets, &attempts)?,
    };
    write_out(out, &text)
}

fn document(
    port: u16,
    e: &Explanation,
    all: &[Socket],
    attempts: &BindAttempts,
) -> serde_json::Result<String> {
    let doc = Document {
        version: VERSION,
        port,
        title: &e.title,
        sockets: all
            .iter()
            .filter(|s| s.local_port == port)
            .map(SocketEntry::from)
            .collect(),
        bind_attempts: match attempts {
            BindAttempts::Tried(attempts) => {
                Some(attempts.iter().map(AttemptEntry::from).collect())
            }
            BindAttempts::NotTried => None,
        },
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
        run_with(port, format, &|_| BindAttempts::NotTried)
    }

    fn run_with(
        port: u16,
        format: Format,
        probe: &dyn Fn(u16) -> BindAttempts,
    ) -> (String, Vec<Query>) {
        let mut collector = FakeCollector::new([sample_snapshot()]);
        let mut out = Vec::new();
        let setting = Setting {
            facts: &SystemFacts::linux_defaults(),
            probe,
            uid: Some(1000),
        };
        explain(&mut collector, port, format, &setting, &mut out).unwrap();
        (String::from_utf8(out).unwrap(), collector.queries)
    }

    /// Every bind on `port` fails but those on ::1.
    fn all_but_ipv6_loopback(port: u16) -> BindAttempts {
        let mut attempts = Vec::new();
        for proto in [crate::model::Proto::Tcp, crate::model::Proto::Udp] {
            for addr in crate::collect::bind_probe::ADDRESSES {
                for reuse_addr in [false, true] {
                    let outcome = if addr == std::net::Ipv6Addr::LOCALHOST {
                        BindOutcome::Bound
                    } else if proto == crate::model::Proto::Udp {
                        BindOutcome::Other("Operation not supported".into())
                    } else {
                        BindOutcome::InUse
                    };
                    attempts.push(BindAttempt {
                        proto,
                        addr,
                        reuse_addr,
                        outcome,
                    });
                }
            }
        }
        assert!(port > 0);
        BindAttempts::Tried(attempts)
    }

    #[test]
    fn the_binds_are_explained_in_text_and_listed_in_json() {
        let (text, queries) = run_with(8080, Format::Text, &all_but_ipv6_loopback);
        assert_eq!(queries, [Query::EVERYTHING, Query::port(8080)]);
        assert!(text.contains("bind  Binding port 8080 now"), "{text}");
        assert!(text.contains("tcp 127.0.0.1:8080"), "{text}");
        let (json, _) = run_with(8080, Format::Json, &all_but_ipv6_loopback);
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        let attempts = doc["bind_attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 16);
        assert_eq!(
            attempts[0],
            serde_json::json!({"proto": "tcp", "address": "127.0.0.1", "reuse_address": false, "result": "in_use", "error": null})
        );
        assert!(
            attempts
                .iter()
                .any(|a| a["result"] == "error" && a["error"] == "Operation not supported")
        );
        assert!(
            doc["paragraphs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["topic"] == "bind" && p["warning"] == true)
        );
        // The port's sockets appear once, though both collections returned them.
        let sockets = doc["sockets"].as_array().unwrap();
        let mut keys: Vec<String> = sockets
            .iter()
            .map(|s| format!("{}{}{}", s["proto"], s["local_address"], s["inode"]))
            .collect();
        let listed = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), listed, "{sockets:?}");
        let (without, _) = run(8080, Format::Json);
        let doc: serde_json::Value = serde_json::from_str(&without).unwrap();
        assert_eq!(doc["bind_attempts"], serde_json::Value::Null);
    }

    #[test]
    fn text_names_the_client_and_the_server() {
        let (out, queries) = run(62893, Format::Text);
        assert_eq!(queries, [Query::EVERYTHING, Query::port(62893)]);
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
