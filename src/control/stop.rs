//! The one stop sequence, shared by the live table and `loopwatch kill`: read the port afresh,
//! signal each target that still holds it (through [`send`], with every check), and start the
//! follow-up on what the fresh read saw.
//!
//! Reading afresh matters twice: the table's owner cache can lag a moment behind a process that
//! let go of a shared socket, and a `[y/N]` prompt can stay open while the listener goes away.
//! Either way nothing is sent to a process that no longer holds the port. Targets held when the
//! question was shown ([`Holds`]) are signalled through those handles.

use std::time::Duration;

use super::{Holds, KillError, ProcessControl, Sent};
use crate::collect::Collector;
use crate::domain::followup::FollowUp;
use crate::model::{CollectError, Query, Signal, Snapshot, Target};

/// What to stop: these processes, as shown, for holding `port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stop {
    pub(crate) port: u16,
    pub(crate) targets: Vec<Target>,
    pub(crate) signal: Signal,
    /// How long the port may stay held after the signal before the follow-up says so.
    pub(crate) patience: Duration,
    /// How long a port that came free is watched for a restart.
    pub(crate) settle: Duration,
    /// Only a target still listening on the port is signalled (`kill` stops servers); the
    /// table may also stop the owner of a connection end it showed.
    pub(crate) listeners_only: bool,
}

/// What the stop did: one result per target, in order, and the follow-up to feed the next
/// snapshots (`None` when nothing was sent, or only to a connection's end).
#[derive(Debug)]
pub(crate) struct Stopped {
    pub(crate) results: Vec<Result<Sent, KillError>>,
    pub(crate) follow_up: Option<FollowUp>,
}

/// Reads `stop.port` through `fresh`, then signals each target still holding a socket there,
/// through its handle in `held` where it has one. `own_pid` is loopwatch's pid (never
/// signalled).
pub(crate) fn stop(
    fresh: &mut dyn Collector,
    control: &mut dyn ProcessControl,
    held: &Holds,
    stop: &Stop,
    own_pid: u32,
) -> Result<Stopped, CollectError> {
    let now = fresh.collect(&Query::port(stop.port))?;
    let results: Vec<Result<Sent, KillError>> = stop
        .targets
        .iter()
        .map(|target| {
            if holds(&now, stop.port, target, stop.listeners_only) {
                held.send(control, target, stop.signal, own_pid)
            } else {
                Err(KillError::NoLongerHolds {
                    process: target.label(),
                    port: stop.port,
                })
            }
        })
        .collect();
    let signalled: Vec<Target> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|sent| sent.target.clone()))
        .collect();
    let follow_up = if signalled.is_empty() {
        None
    } else {
        FollowUp::new(stop.port, signalled, &now, stop.patience, stop.settle)
    };
    Ok(Stopped { results, follow_up })
}

/// Whether `target` holds a socket on `port` in `snapshot` (a listening one, if asked).
fn holds(snapshot: &Snapshot, port: u16, target: &Target, listeners_only: bool) -> bool {
    snapshot
        .sockets
        .iter()
        .filter(|s| s.local_port == port && (!listeners_only || s.state.is_listening()))
        .any(|s| s.owners.iter().any(|o| o.key == target.key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::fake::FakeCollector;
    use crate::control::FakeControl;
    use crate::model::fixtures::{node_on_3000, owner};

    fn node() -> crate::model::Owner {
        owner(4812, "node", "alice", "node server.js")
    }

    fn request() -> Stop {
        Stop {
            port: 3000,
            targets: vec![Target::of(&node())],
            signal: Signal::Term,
            patience: Duration::from_secs(3),
            settle: crate::domain::followup::SETTLE,
            listeners_only: false,
        }
    }

    #[test]
    fn a_target_still_holding_the_port_is_signalled_once_and_followed() {
        let mut control = FakeControl::with(&[node().key]);
        let stopped = stop(
            &mut FakeCollector::new([node_on_3000()]),
            &mut control,
            &Holds::default(),
            &request(),
            1,
        )
        .unwrap();
        assert_eq!(control.sent, [(4812, Signal::Term)]);
        assert!(stopped.results[0].is_ok());
        assert!(stopped.follow_up.is_some());
    }

    #[test]
    fn a_target_that_let_go_meanwhile_gets_nothing() {
        let mut control = FakeControl::with(&[node().key]);
        let stopped = stop(
            &mut FakeCollector::new([Snapshot::default()]),
            &mut control,
            &Holds::default(),
            &request(),
            1,
        )
        .unwrap();
        assert!(control.sent.is_empty(), "nothing is sent");
        assert_eq!(
            stopped.results[0].as_ref().unwrap_err().to_string(),
            "node 4812 no longer holds port 3000; nothing was sent"
        );
        assert!(stopped.follow_up.is_none());
    }

    /// The target was held when the question was shown, then exited; its pid went to a
    /// process that looks the same to every clock. The handle reaches nothing.
    #[test]
    fn a_held_target_replaced_under_its_pid_is_not_signalled() {
        let mut control = FakeControl::with(&[node().key]);
        let held = Holds::take(&mut control, &request().targets, 1);
        assert!(held.are_for(&request().targets));
        control.replace(
            4812,
            crate::control::Current {
                start_time: node().key.start_time,
                start_ticks: node().key.start_ticks,
                kernel_thread: false,
            },
        );
        let stopped = stop(
            &mut FakeCollector::new([node_on_3000()]),
            &mut control,
            &held,
            &request(),
            1,
        )
        .unwrap();
        assert!(control.sent.is_empty(), "nothing is sent");
        assert_eq!(
            stopped.results[0].as_ref().unwrap_err().to_string(),
            "node 4812 has already exited; nothing was sent"
        );
        // Without the hold, the newcomer would pass every check.
        let fresh = stop(
            &mut FakeCollector::new([node_on_3000()]),
            &mut control,
            &Holds::default(),
            &request(),
            1,
        )
        .unwrap();
        assert!(fresh.results[0].is_ok());
    }

    #[test]
    fn a_failed_read_sends_nothing() {
        let mut control = FakeControl::with(&[node().key]);
        let mut collector = FakeCollector::new([]);
        collector.push_error("netlink refused");
        assert!(
            stop(
                &mut collector,
                &mut control,
                &Holds::default(),
                &request(),
                1
            )
            .is_err()
        );
        assert!(control.sent.is_empty());
    }
}
