//! `loopwatch watch`: collect every interval and print one line per change, as text or NDJSON,
//! until interrupted, or until a port opens or closes.
//!
//! Time and interruption come through [`Clock`], so the loop is tested without sleeping.

use std::io::Write;
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::{Format, Until, Watch};
use crate::collect::Collector;
use crate::domain::history::{Differ, Event};
use crate::model::Clock;
use crate::model::{Snapshot, Socket};

use super::render::json::{OwnerEntry, SocketEntry, VERSION};
use super::view;

/// How a watch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WatchOutcome {
    /// SIGINT, SIGTERM or SIGHUP (plain `watch` ends only this way).
    Interrupted,
    /// The port opened (or closed) as `--until-*` asked.
    Happened,
    /// `--timeout` passed first.
    TimedOut,
}

/// One NDJSON line: `{"version":1,"time":...,"event":"opened","socket":{...}}`.
#[derive(Debug, Serialize)]
struct EventLine<'a> {
    version: u32,
    /// RFC 3339 with the local offset and milliseconds.
    time: String,
    /// `"opened"`, `"closed"` or `"owner_changed"`.
    event: &'static str,
    /// The socket as `list --json` prints it (for `closed`: as last seen).
    socket: SocketEntry<'a>,
    /// For `owner_changed`: the processes that held it before.
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_owners: Option<Vec<OwnerEntry<'a>>>,
}

/// The text or JSON line for one event, newline included.
pub(crate) fn event_line(event: &Event, format: Format) -> anyhow::Result<String> {
    let mut line = match format {
        Format::Text => event.line(),
        Format::Json => super::render::json::line(&EventLine {
            version: VERSION,
            time: event.time.rfc3339(),
            event: event.kind.as_str(),
            socket: SocketEntry::from(&event.socket),
            previous_owners: (event.kind == crate::domain::history::EventKind::OwnerChanged)
                .then(|| event.previous_owners.iter().map(OwnerEntry::from).collect()),
        })?,
    };
    line.push('\n');
    Ok(line)
}

/// Runs the watch. Every line is flushed as it is written, so a pipe sees each change at once.
pub(crate) fn watch(
    collector: &mut dyn Collector,
    options: &Watch,
    clock: &mut dyn Clock,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<WatchOutcome> {
    let ports: Vec<u16> = if options.ports.is_empty() {
        options.until.map(Until::port).into_iter().collect()
    } else {
        options.ports.clone()
    };
    let mut previous: Option<Snapshot> = None;
    let mut differ = Differ::default();
    let mut last_error: Option<String> = None;
    loop {
        let started = clock.elapsed();
        match collector.collect(&options.query) {
            Ok(snapshot) => {
                let mut shown = view(snapshot, options.query);
                // The until-port is judged on everything collected, whatever PORTs are shown.
                let happened = options
                    .until
                    .is_some_and(|until| reached(until, &shown.sockets));
                // Several ports: a socket on any of them.
                shown.sockets.retain(|s| {
                    (ports.is_empty() || ports.contains(&s.local_port)) && options.only.admits(s)
                });
                if let Some(previous) = &previous {
                    let events =
                        differ.events(&previous.sockets, &shown.sockets, clock.now(), |_| true);
                    for event in events {
                        out.write_all(event_line(&event, options.format)?.as_bytes())
                            .and_then(|()| out.flush())
                            .context("writing to stdout")?;
                    }
                }
                if happened {
                    return Ok(WatchOutcome::Happened);
                }
                previous = Some(shown);
                last_error = None;
            }
            Err(e) => {
                // Once per distinct failure: a long watch outlives a passing hiccup.
                let message = e.to_string();
                if last_error.as_ref() != Some(&message) {
                    let _ = writeln!(err, "loopwatch: {message}");
                    last_error = Some(message);
                }
            }
        }
        let mut wait = options
            .interval
            .saturating_sub(clock.elapsed().saturating_sub(started));
        if let Some(timeout) = options.timeout.filter(|_| options.until.is_some()) {
            let left = timeout.saturating_sub(clock.elapsed());
            if left.is_zero() {
                return Ok(WatchOutcome::TimedOut);
            }
            wait = wait.min(left);
        }
        if !clock.wait(wait) {
            return Ok(WatchOutcome::Interrupted);
        }
    }
}

/// Whether the port is now open (something listens) or closed (nothing does).
fn reached(until: Until, sockets: &[Socket]) -> bool {
    let listening = |port| {
        sockets
            .iter()
            .any(|s| s.local_port == port && s.state.is_listening())
    };
    match until {
        Until::Open(port) => listening(port),
        Until::Closed(port) => !listening(port),
    }
}

/// The message for a timed-out `--until-*`.
pub(crate) fn timeout_message(until: Until, timeout: Duration) -> String {
    let what = match until {
        Until::Open(_) => "open",
        Until::Closed(_) => "close",
    };
    format!(
        "port {} did not {what} within {}s",
        until.port(),
        timeout.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fake::FakeCollector;
    use crate::model::Query;
    use crate::model::Stamp;
    use crate::model::fixtures::{sample_snapshot, sample_with_vite};

    /// A clock that advances by each wait and stops after `ticks` waits.
    struct FakeClock {
        elapsed: Duration,
        ticks: usize,
    }

    impl Clock for FakeClock {
        fn now(&self) -> Stamp {
            Stamp::at_secs(1_764_165_821).plus(self.elapsed)
        }
        fn elapsed(&self) -> Duration {
            self.elapsed
        }
        fn wait(&mut self, duration: Duration) -> bool {
            if self.ticks == 0 {
                return false;
            }
            self.ticks -= 1;
            self.elapsed += duration;
            true
        }
    }

    fn options(format: Format, until: Option<Until>, timeout: Option<u64>) -> Watch {
        Watch {
            ports: Vec::new(),
            format,
            query: Query::default(),
            only: crate::cli::Only::default(),
            interval: Duration::from_secs(1),
            until,
            timeout: timeout.map(Duration::from_secs),
        }
    }

    fn run(
        snapshots: Vec<Snapshot>,
        options: &Watch,
        ticks: usize,
    ) -> (WatchOutcome, String, Duration) {
        let mut collector = FakeCollector::new(snapshots);
        let mut clock = FakeClock {
            elapsed: Duration::ZERO,
            ticks,
        };
        let mut out = Vec::new();
        let outcome = watch(
            &mut collector,
            options,
            &mut clock,
            &mut out,
            &mut Vec::new(),
        )
        .unwrap();
        (outcome, String::from_utf8(out).unwrap(), clock.elapsed)
    }

    #[test]
    fn text_lines_for_each_change_until_interrupted() {
        let snapshots = vec![
            sample_snapshot(),
            sample_with_vite(),
            sample_with_vite(),
            sample_snapshot(),
        ];
        let (outcome, out, _) = run(snapshots, &options(Format::Text, None, None), 5);
        assert_eq!(outcome, WatchOutcome::Interrupted);
        assert_eq!(
            out,
            "14:03:42 + tcp 127.0.0.1:3000 node 4900 (vite)\n14:03:44 - tcp 127.0.0.1:3000 node 4900 (vite)\n"
        );
    }

    #[test]
    fn json_lines_carry_the_list_socket_shape() {
        let snapshots = vec![sample_snapshot(), sample_with_vite()];
        let (_, out, _) = run(snapshots, &options(Format::Json, None, None), 2);
        let line: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        assert_eq!(line["event"], "opened");
        assert_eq!(line["version"], 1);
        assert_eq!(line["time"], "2025-11-26T14:03:42.000+00:00");
        assert_eq!(line["socket"]["local_port"], 3000);
        assert_eq!(line["socket"]["owners"][0]["pid"], 4900);
        assert!(line.get("previous_owners").is_none());
    }

    #[test]
    fn the_until_port_counts_even_when_other_ports_are_watched() {
        let snapshots = vec![sample_snapshot(), sample_snapshot(), sample_with_vite()];
        let watching_8080 = Watch {
            ports: vec![8080],
            ..options(Format::Text, Some(Until::Open(3000)), Some(10))
        };
        let (outcome, out, elapsed) = run(snapshots, &watching_8080, 100);
        assert_eq!(outcome, WatchOutcome::Happened);
        assert_eq!(elapsed, Duration::from_secs(2));
        assert_eq!(out, "", "3000 is not among the ports printed");
        let still_there = Watch {
            ports: vec![8080],
            ..options(Format::Text, Some(Until::Closed(5432)), Some(3))
        };
        let (outcome, _, _) = run(vec![sample_snapshot()], &still_there, 100);
        assert_eq!(outcome, WatchOutcome::TimedOut, "5432 keeps listening");
    }

    #[test]
    fn until_open_returns_as_soon_as_the_port_listens() {
        let snapshots = vec![sample_snapshot(), sample_snapshot(), sample_with_vite()];
        let (outcome, out, elapsed) = run(
            snapshots,
            &options(Format::Text, Some(Until::Open(3000)), Some(10)),
            100,
        );
        assert_eq!(outcome, WatchOutcome::Happened);
        assert_eq!(elapsed, Duration::from_secs(2));
        assert!(out.contains("+ tcp 127.0.0.1:3000"), "{out}");
        // Already open: at once, nothing printed.
        let (outcome, out, elapsed) = run(
            vec![sample_with_vite()],
            &options(Format::Text, Some(Until::Open(3000)), None),
            100,
        );
        assert_eq!(
            (outcome, out.as_str(), elapsed),
            (WatchOutcome::Happened, "", Duration::ZERO)
        );
    }

    #[test]
    fn until_times_out_and_watches_only_its_port() {
        let snapshots = vec![sample_snapshot(), sample_with_vite()];
        let (outcome, out, elapsed) = run(
            snapshots,
            &options(Format::Text, Some(Until::Closed(5432)), Some(3)),
            100,
        );
        assert_eq!(outcome, WatchOutcome::TimedOut);
        assert_eq!(elapsed, Duration::from_secs(3));
        assert_eq!(out, "", "3000 is not the port being waited for");
        assert_eq!(
            timeout_message(Until::Closed(5432), Duration::from_secs(3)),
            "port 5432 did not close within 3s"
        );
    }
}
