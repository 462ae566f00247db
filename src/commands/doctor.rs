//! `loopwatch doctor`: everything listening checked, each finding with its socket, process and
//! fix, as text or JSON. Exit 0 when there is nothing to fix, 1 with findings.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::Format;
use crate::collect::Collector;
use crate::domain::doctor::{self, Finding, Report};
use crate::domain::text::{WARNING_MARK, wrap};
use crate::model::{ProcKey, ProcessHealth, Query, Snapshot, SystemFacts};

use super::render::json::VERSION;
use super::write_out;

/// Text output is wrapped to this width, as `explain`'s is.
const TEXT_WIDTH: usize = 80;

/// What `doctor` needs from the system besides the sockets.
pub(crate) struct Setting<'a> {
    pub(crate) facts: &'a SystemFacts,
    /// Reads the executable and parentage of the processes holding listeners.
    pub(crate) health: &'a dyn Fn(&[ProcKey]) -> Vec<ProcessHealth>,
}

/// Checks every socket; whether anything was found.
pub(crate) fn doctor(
    collector: &mut dyn Collector,
    format: Format,
    setting: &Setting,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    let snapshot = collector
        .collect(&Query::EVERYTHING)
        .context("reading the socket table")?;
    let mut keys: Vec<ProcKey> = snapshot
        .sockets
        .iter()
        .filter(|s| s.state.is_listening())
        .flat_map(|s| s.owners.iter().map(|o| o.key))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let health = (setting.health)(&keys);
    let report = doctor::examine(&snapshot, setting.facts, &health);
    let text = match format {
        Format::Text => text(&report),
        Format::Json => document(&report, &snapshot)?,
    };
    write_out(out, &text)?;
    Ok(!report.findings.is_empty())
}

fn text(report: &Report) -> String {
    let found = match report.findings.len() {
        0 => "nothing to fix".to_string(),
        n => count(n, "finding"),
    };
    let mut out = format!(
        "loopwatch doctor: {} and {} checked: {found}\n",
        count(report.listeners, "listener"),
        count(report.processes, "process")
    );
    for finding in &report.findings {
        let _ = write!(out, "\n{WARNING_MARK} {}\n", finding.kind.title());
        for line in wrap(&finding.text, TEXT_WIDTH - 2) {
            let _ = writeln!(out, "  {line}");
        }
        for (i, line) in wrap(&format!("fix: {}", finding.fix), TEXT_WIDTH - 2)
            .iter()
            .enumerate()
        {
            let indent = if i == 0 { "  " } else { "       " };
            let _ = writeln!(out, "{indent}{line}");
        }
    }
    let hidden = (report.hidden > 0).then(|| {
        format!(
            "the processes of {} are hidden: run as root to check them too",
            count(report.hidden, "listener")
        )
    });
    let unseen = (report.unseen > 0).then(|| {
        format!(
            "the processes of {} cannot be seen from here (another container or PID namespace): only the sockets were checked",
            count(report.unseen, "listener")
        )
    });
    let starved = (report.starved > 0).then(|| {
        format!(
            "the processes of {} were not looked for: loopwatch ran out of file descriptors, so only their sockets were checked (raise the limit: ulimit -n)",
            count(report.starved, "listener")
        )
    });
    for note in [hidden, unseen, starved].into_iter().flatten() {
        out.push('\n');
        for line in wrap(&note, TEXT_WIDTH) {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}

/// `1 listener`, `2 listeners`, `3 processes`.
fn count(n: usize, noun: &str) -> String {
    match (n, noun.ends_with('s')) {
        (1, _) => format!("1 {noun}"),
        (_, true) => format!("{n} {noun}es"),
        (_, false) => format!("{n} {noun}s"),
    }
}

#[derive(Debug, Serialize)]
struct Document<'a> {
    version: u32,
    /// Whether every process's sockets could be seen.
    privileged: bool,
    listeners_checked: usize,
    processes_checked: usize,
    /// Listeners whose process is hidden by permissions: only their socket was checked.
    hidden_owners: usize,
    /// Listeners whose process is not visible at all (another PID namespace).
    unseen_owners: usize,
    /// Listeners whose process was not looked for: loopwatch ran out of file descriptors.
    starved_owners: usize,
    findings: Vec<FindingEntry<'a>>,
}

#[derive(Debug, Serialize)]
struct FindingEntry<'a> {
    /// `exposed_database`, `localhost_family`, `close_wait`, `time_wait`,
    /// `deleted_executable`, `replaced_executable`, `orphaned`, `ephemeral_listener`.
    kind: &'static str,
    title: &'static str,
    sockets: Vec<SocketRef>,
    process: Option<ProcessRef<'a>>,
    text: &'a str,
    fix: &'a str,
}

#[derive(Debug, Serialize)]
struct SocketRef {
    proto: &'static str,
    local_address: String,
    local_port: u16,
    state: &'static str,
    remote_address: Option<String>,
    remote_port: Option<u16>,
}

#[derive(Debug, Serialize)]
struct ProcessRef<'a> {
    pid: u32,
    name: &'a str,
    start_time: u64,
    start_ticks: u64,
}

fn entry<'a>(finding: &'a Finding) -> FindingEntry<'a> {
    FindingEntry {
        kind: finding.kind.as_str(),
        title: finding.kind.title(),
        sockets: finding
            .sockets
            .iter()
            .map(|s| SocketRef {
                proto: s.proto.as_str(),
                local_address: s.local_addr.to_string(),
                local_port: s.local_port,
                state: s.state.as_str(),
                remote_address: s.remote.map(|(addr, _)| addr.to_string()),
                remote_port: s.remote.map(|(_, port)| port),
            })
            .collect(),
        process: finding.owner.map(|o| ProcessRef {
            pid: o.key.pid,
            name: o.name.raw(),
            start_time: o.key.start_time,
            start_ticks: o.key.start_ticks,
        }),
        text: &finding.text,
        fix: &finding.fix,
    }
}

fn document(report: &Report, snapshot: &Snapshot) -> serde_json::Result<String> {
    let doc = Document {
        version: VERSION,
        privileged: snapshot.privileged,
        listeners_checked: report.listeners,
        processes_checked: report.processes,
        hidden_owners: report.hidden,
        unseen_owners: report.unseen,
        starved_owners: report.starved,
        findings: report.findings.iter().map(entry).collect(),
    };
    let mut text = super::render::json::pretty(&doc)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fake::FakeCollector;
    use crate::model::fixtures::{listener, owner};
    use crate::model::{ExeState, Lineage, Localhost};

    fn facts() -> SystemFacts {
        SystemFacts {
            localhost: Some(Localhost {
                first: "127.0.0.1".parse().unwrap(),
                v4: true,
                v6: false,
                hosts_file: Some((true, false)),
            }),
            ..SystemFacts::linux_defaults()
        }
    }

    fn run(snapshot: Snapshot, format: Format) -> (bool, String, Vec<Vec<ProcKey>>) {
        let mut collector = FakeCollector::new([snapshot]);
        let asked = std::cell::RefCell::new(Vec::new());
        let health = |keys: &[ProcKey]| {
            asked.borrow_mut().push(keys.to_vec());
            keys.iter()
                .map(|&key| ProcessHealth {
                    key,
                    exe: if key.pid == 812 {
                        ExeState::Deleted("/usr/bin/redis-server".into())
                    } else {
                        ExeState::Current
                    },
                    lineage: Some(Lineage {
                        ppid: 1,
                        pgid: key.pid,
                        sid: key.pid,
                        group_leader_alive: true,
                        adopted_by: None,
                        adopter_sid: None,
                    }),
                })
                .collect()
        };
        let mut out = Vec::new();
        let setting = Setting {
            facts: &facts(),
            health: &health,
        };
        let found = doctor(&mut collector, format, &setting, &mut out).unwrap();
        assert_eq!(collector.queries, [Query::EVERYTHING]);
        (found, String::from_utf8(out).unwrap(), asked.into_inner())
    }

    fn snapshot(sockets: Vec<crate::model::Socket>) -> Snapshot {
        Snapshot {
            sockets,
            privileged: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_clean_machine_says_so_and_finds_nothing() {
        let node = owner(4812, "node", "ana", "node server.js");
        let (found, text, asked) = run(
            snapshot(vec![listener("127.0.0.1", 3000, vec![node.clone()])]),
            Format::Text,
        );
        assert!(!found);
        assert_eq!(
            text,
            "loopwatch doctor: 1 listener and 1 process checked: nothing to fix\n"
        );
        assert_eq!(asked, [vec![node.key]]);
    }

    /// Out of descriptors, the owners were never looked for: the report must not read as a
    /// clean bill for processes it never saw.
    #[test]
    fn listeners_whose_owners_were_not_looked_for_are_said_so() {
        let mut starved = listener("0.0.0.0", 8080, Vec::new());
        starved.unknown = Some(crate::model::UnknownOwner::OutOfDescriptors);
        let (found, text, _) = run(snapshot(vec![starved.clone()]), Format::Text);
        assert!(!found);
        assert_eq!(
            text,
            "loopwatch doctor: 1 listener and 0 processes checked: nothing to fix\n\nthe processes of 1 listener were not looked for: loopwatch ran out of file\ndescriptors, so only their sockets were checked (raise the limit: ulimit -n)\n"
        );
        let (_, json, _) = run(snapshot(vec![starved]), Format::Json);
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(doc["starved_owners"], 1);
        assert_eq!(doc["unseen_owners"], 0);
    }

    #[test]
    fn findings_are_worded_with_their_fix_and_listed_in_json() {
        let redis = owner(812, "redis-server", "redis", "redis-server *:6379");
        let sockets = vec![
            listener("0.0.0.0", 6379, vec![redis.clone()]),
            listener("127.0.0.1", 3000, vec![owner(1, "node", "a", "node")]),
        ];
        let (found, text, _) = run(snapshot(sockets.clone()), Format::Text);
        assert!(found);
        assert!(
            text.starts_with("loopwatch doctor: 2 listeners and 2 processes checked: 2 findings\n\n⚠ database on every interface\n  redis-server 812 listens on 0.0.0.0:6379, every interface: Redis (by its name)\n"),
            "{text}"
        );
        assert!(
            text.contains("  fix: restart redis-server so it runs what is installed now, or stop it if it\n       should be gone\n"),
            "{text}"
        );
        assert!(text.contains("⚠ executable deleted\n"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");

        let (_, json, _) = run(snapshot(sockets), Format::Json);
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["listeners_checked"], 2);
        let findings = doc["findings"].as_array().unwrap();
        assert_eq!(findings[0]["kind"], "exposed_database");
        assert_eq!(
            findings[0]["sockets"][0],
            serde_json::json!({"proto": "tcp", "local_address": "0.0.0.0", "local_port": 6379, "state": "LISTEN", "remote_address": null, "remote_port": null})
        );
        assert_eq!(findings[0]["process"]["pid"], 812);
        assert_eq!(findings[0]["process"]["name"], "redis-server");
        assert_eq!(findings[1]["kind"], "deleted_executable");
        assert!(
            findings[1]["fix"]
                .as_str()
                .unwrap()
                .starts_with("restart redis-server")
        );
    }
}
