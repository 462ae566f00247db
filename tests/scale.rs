//! The live table's collector at scale: driven tick by tick through 10,000 sockets of
//! adversarial churn (sockets closed and opened, a port re-bound at once, a socket moved to
//! another descriptor, passed to another process, shared by a fork), its snapshot must equal a
//! fresh full collection after every tick: the same sockets, with the same owners. Whatever
//! the collector skips or caches between ticks must never show a stale owner or lose a socket.
#![cfg(target_os = "linux")]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use loopwatch::collect::system_collector;
use loopwatch::model::{ProcKey, Query, Snapshot, SocketKey};

const CHURN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/churn.py");
const SOCKETS: usize = 10_000;
const TICKS: u64 = 12;

struct Churn {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Churn {
    fn spawn(sockets: usize) -> Churn {
        let mut child = Command::new("python3")
            .arg(CHURN)
            .arg(sockets.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("python3 runs the churn: {e}"));
        let stdin = child.stdin.take().unwrap_or_else(|| panic!("stdin"));
        let stdout = BufReader::new(child.stdout.take().unwrap_or_else(|| panic!("stdout")));
        let mut churn = Churn {
            child,
            stdin,
            stdout,
        };
        let ready = churn.answer();
        assert!(ready.starts_with("ready "), "{ready}");
        churn
    }

    fn answer(&mut self) -> String {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("churn answer: {e}"));
        assert!(
            !line.is_empty(),
            "the churn exited (is the descriptor limit too low?)"
        );
        line.trim().to_string()
    }

    /// One tick's churn; the pids that hold its sockets now.
    fn step(&mut self, seed: u64) -> BTreeSet<u32> {
        writeln!(self.stdin, "step {seed}").unwrap_or_else(|e| panic!("step: {e}"));
        self.stdin.flush().unwrap_or_else(|e| panic!("step: {e}"));
        let answer = self.answer();
        answer
            .strip_prefix("pids ")
            .unwrap_or_else(|| panic!("step answered {answer:?}"))
            .split(' ')
            .map(|p| p.parse().unwrap_or_else(|e| panic!("pid {p:?}: {e}")))
            .collect()
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The churn's sockets as the snapshot shows them: every socket one of `pids` holds, with all
/// of its owners (pid and start time: a reused pid would differ).
fn held_by(snapshot: &Snapshot, pids: &BTreeSet<u32>) -> BTreeMap<SocketKey, Vec<ProcKey>> {
    snapshot
        .sockets
        .iter()
        .filter(|s| s.owners.iter().any(|o| pids.contains(&o.key.pid)))
        .map(|s| (s.key(), s.owners.iter().map(|o| o.key).collect()))
        .collect()
}

#[test]
fn every_tick_through_ten_thousand_churning_sockets_equals_a_fresh_collection() {
    let query = Query {
        connections: true,
        ..Query::default()
    };
    let mut churn = Churn::spawn(SOCKETS);
    let mut live = system_collector().unwrap_or_else(|e| panic!("collector: {e}"));
    let mut shown = live
        .collect_changed(&query)
        .unwrap_or_else(|e| panic!("first tick: {e}"))
        .unwrap_or_else(|| panic!("the first tick always has a snapshot"));
    for tick in 1..=TICKS {
        let pids = churn.step(tick);
        // What the live table shows after this tick: a new snapshot, or the last one when the
        // collector says nothing changed.
        if let Some(changed) = live
            .collect_changed(&query)
            .unwrap_or_else(|e| panic!("tick {tick}: {e}"))
        {
            shown = changed;
        }
        let fresh = system_collector()
            .unwrap_or_else(|e| panic!("collector: {e}"))
            .collect(&query)
            .unwrap_or_else(|e| panic!("fresh collection: {e}"));
        let (live_view, fresh_view) = (held_by(&shown, &pids), held_by(&fresh, &pids));
        assert!(
            fresh_view.len() >= SOCKETS * 9 / 10,
            "tick {tick}: the fresh collection sees {} of the churn's sockets",
            fresh_view.len()
        );
        if live_view != fresh_view {
            let only_live: Vec<_> = live_view
                .iter()
                .filter(|(k, v)| fresh_view.get(*k) != Some(*v))
                .take(5)
                .collect();
            let only_fresh: Vec<_> = fresh_view
                .iter()
                .filter(|(k, v)| live_view.get(*k) != Some(*v))
                .take(5)
                .collect();
            panic!(
                "tick {tick}: the live snapshot differs from a fresh collection\n\
                 live only: {only_live:?}\nfresh only: {only_fresh:?}"
            );
        }
    }
}
