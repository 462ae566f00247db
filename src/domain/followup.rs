//! What happened to a port after its owner was signalled: released, still held, or bound again
//! by a new process (a supervisor or file watcher restarting it).
//!
//! Pure: it is fed the snapshots that follow the signal and the time since it was sent, so the
//! live table and `loopwatch kill` judge the same way and tests drive it tick by tick.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use super::supervisor::{Behind, Supervision};
use crate::model::{
    Ancestor, EngineView, Owner, ProcKey, Proto, Provenance, Signal, Snapshot, Socket, SocketKey,
    Target, process_label,
};

/// How long to wait for the port to come free before saying it did not.
pub(crate) const DEFAULT_PATIENCE: Duration = Duration::from_secs(3);
/// After the port comes free, how long the live table keeps watching for a restart.
pub(crate) const SETTLE: Duration = Duration::from_secs(2);
/// As [`SETTLE`], when what stands behind the process will start it again: a supervisor may
/// take a second to notice, and the program a few more to bind the port again.
pub(crate) const RESTART_SETTLE: Duration = Duration::from_secs(6);

/// How long a freed port is watched for a restart.
pub(crate) fn settle(restart_expected: bool) -> Duration {
    if restart_expected {
        RESTART_SETTLE
    } else {
        SETTLE
    }
}

/// Watches one port after a signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FollowUp {
    port: u16,
    /// Every process that was signalled.
    targets: Vec<Target>,
    /// The addresses the targets listened on at the port: only sockets there count, so an
    /// unrelated server on the same port number but another address is not mistaken for it.
    watched: Vec<(Proto, IpAddr)>,
    /// The listening sockets there when the signal was sent: any other one is a rebind.
    before: HashSet<SocketKey>,
    patience: Duration,
    settle: Duration,
    phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    /// Released this long after the signal; still watching for a restart.
    Released(Duration),
    Done,
}

/// A change worth telling the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Released {
        port: u16,
        after: Duration,
    },
    /// Still listening after the patience ran out, held by `holder`.
    StillHeld {
        port: u16,
        holder: Holder,
        after: Duration,
    },
    /// A signalled process is still running and opened the port again itself.
    Reopened {
        port: u16,
        by: Owner,
    },
    /// A new socket listens on the port; `by` is its owner, `None` when hidden from us.
    Rebound {
        port: u16,
        by: Option<Owner>,
    },
}

/// Who holds a port that did not come free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Holder {
    /// A process that was signalled and is still running.
    Target(Target),
    /// Another process (one that shares the socket, say).
    Other(Owner),
    /// A process this user cannot see.
    Hidden,
}

impl Holder {
    fn label(&self) -> String {
        match self {
            Holder::Target(target) => target.label(),
            Holder::Other(owner) => owner.label(),
            Holder::Hidden => "a process hidden from this user".to_string(),
        }
    }
}

/// Who most likely started the process that holds the port again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Restarter {
    /// A supervisor, unit or container, named as the stop dialog names it:
    /// `supervisord 4700 restarted it; `supervisorctl stop PROGRAM` stops it for good`.
    Known(String),
    /// Nothing loopwatch recognises: its parent is all there is to name.
    Parent(Ancestor),
}

impl Restarter {
    /// From what stands behind the new owner `pid`.
    pub(crate) fn of(pid: u32, provenance: &Provenance, engine: &EngineView) -> Option<Restarter> {
        Supervision::of(&Behind::provenance(pid, provenance, engine))
            .restarted_by()
            .map(Restarter::Known)
            .or_else(|| provenance.ancestry.first().cloned().map(Restarter::Parent))
    }
}

impl FollowUp {
    /// Starts watching `port` after `targets` were signalled, given the snapshot the signal was
    /// decided on. `patience` is how long the port may stay held; `settle`, how long a released
    /// port is watched for a restart. `None` when no target listened on the port (a client's
    /// end): "released" would mean nothing there.
    pub(crate) fn new(
        port: u16,
        targets: Vec<Target>,
        before: &Snapshot,
        patience: Duration,
        settle: Duration,
    ) -> Option<Self> {
        let watched: Vec<(Proto, IpAddr)> = before
            .listeners_on(port)
            .filter(|s| {
                s.owners
                    .iter()
                    .any(|o| targets.iter().any(|t| t.key == o.key))
            })
            .map(|s| (s.proto, s.local_addr))
            .collect();
        if watched.is_empty() {
            return None;
        }
        let mut follow_up = Self {
            port,
            watched,
            before: HashSet::new(),
            targets,
            patience,
            settle,
            phase: Phase::Waiting,
        };
        follow_up.remember(before);
        Some(follow_up)
    }

    /// Starts watching `socket`'s address on its port after its container was stopped: the
    /// socket goes when the container does, whoever held it (an engine proxy, or NAT rules).
    pub(crate) fn of_container(socket: &Socket, before: &Snapshot, patience: Duration) -> Self {
        let mut follow_up = Self {
            port: socket.local_port,
            watched: vec![(socket.proto, socket.local_addr)],
            before: HashSet::new(),
            targets: Vec::new(),
            patience,
            settle: SETTLE,
            phase: Phase::Waiting,
        };
        follow_up.remember(before);
        follow_up
    }

    /// Notes the listeners there before the stop: any other one later is a rebind.
    fn remember(&mut self, before: &Snapshot) {
        self.before = self.relevant(before).into_iter().map(Socket::key).collect();
    }

    fn is_target(&self, key: ProcKey) -> bool {
        self.targets.iter().any(|t| t.key == key)
    }

    /// Listeners on the port at an address that overlaps one a target listened on.
    fn relevant<'s>(&self, snapshot: &'s Snapshot) -> Vec<&'s Socket> {
        snapshot
            .listeners_on(self.port)
            .filter(|s| {
                self.watched
                    .iter()
                    .any(|&(proto, addr)| proto == s.proto && overlaps(addr, s.local_addr))
            })
            .collect()
    }

    pub(crate) fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Judges a snapshot taken `elapsed` after the signal. Returns an outcome when there is
    /// news; after [`Outcome::StillHeld`] or [`Outcome::Rebound`], or once a release has stayed
    /// released for the settle time, the follow-up is done.
    pub(crate) fn observe(&mut self, snapshot: &Snapshot, elapsed: Duration) -> Option<Outcome> {
        if self.is_done() {
            return None;
        }
        let listeners = self.relevant(snapshot);
        if let Some(new) = listeners.iter().find(|s| !self.before.contains(&s.key())) {
            self.phase = Phase::Done;
            let by = new.owners.first().cloned();
            // A process that survived the signal and opened the port again itself (a reload on
            // SIGHUP) was not restarted by anyone.
            if let Some(by) = by.filter(|o| self.is_target(o.key)) {
                return Some(Outcome::Reopened {
                    port: self.port,
                    by,
                });
            }
            return Some(Outcome::Rebound {
                port: self.port,
                by: new.owners.first().cloned(),
            });
        }
        match self.phase {
            Phase::Waiting if listeners.is_empty() => {
                self.phase = Phase::Released(elapsed);
                Some(Outcome::Released {
                    port: self.port,
                    after: elapsed,
                })
            }
            Phase::Waiting if elapsed >= self.patience => {
                self.phase = Phase::Done;
                let holder = match self.targets.iter().find(|t| holds(&listeners, t.key)) {
                    Some(target) => Holder::Target(target.clone()),
                    None => listeners
                        .iter()
                        .flat_map(|s| s.owners.iter())
                        .next()
                        .map_or(Holder::Hidden, |o| Holder::Other(o.clone())),
                };
                Some(Outcome::StillHeld {
                    port: self.port,
                    holder,
                    after: elapsed,
                })
            }
            Phase::Released(at) if elapsed >= at + self.settle => {
                self.phase = Phase::Done;
                None
            }
            _ => None,
        }
    }
}

impl Outcome {
    /// One line for the status bar or the terminal, as [`Outcome::message`], and when a
    /// process ignored a signal that can be ignored, `force_hint` (how to send SIGKILL here).
    pub(crate) fn line(
        &self,
        restarter: Option<&Restarter>,
        signal: Signal,
        force_hint: &str,
    ) -> String {
        let mut line = self.message(restarter);
        let ignored = matches!(
            self,
            Outcome::StillHeld {
                holder: Holder::Target(_),
                ..
            }
        );
        // Forcing only helps a process that was signalled and ignored it.
        if ignored && signal != Signal::Kill {
            line.push_str(": ");
            line.push_str(force_hint);
        }
        line
    }

    /// One line for the status bar or the terminal. `restarter` names, for a rebind, what most
    /// likely restarted the new owner.
    pub(crate) fn message(&self, restarter: Option<&Restarter>) -> String {
        match self {
            Outcome::Released { port, after } => {
                format!("port {port} released after {}", seconds(*after))
            }
            Outcome::StillHeld {
                port,
                holder: holder @ Holder::Target(_),
                after,
            } => format!(
                "{} still running after {}, port {port} still held",
                holder.label(),
                seconds(*after)
            ),
            Outcome::StillHeld {
                port,
                holder,
                after,
            } => format!(
                "port {port} still held by {} after {}",
                holder.label(),
                seconds(*after)
            ),
            Outcome::Reopened { port, by } => format!(
                "{} is still running and opened port {port} again",
                by.label()
            ),
            Outcome::Rebound { port, by: None } => format!(
                "port {port} is held again, by a process hidden from this user (run as root to see it)"
            ),
            Outcome::Rebound { port, by: Some(by) } => {
                let mut text = format!("port {port} is held again by {}", by.label());
                match restarter {
                    Some(Restarter::Known(who)) => {
                        let _ = write!(text, " ({who})");
                    }
                    Some(Restarter::Parent(parent)) => {
                        let _ = write!(
                            text,
                            " (parent {} restarted it)",
                            process_label(&parent.name, parent.pid)
                        );
                    }
                    None => {}
                }
                text
            }
        }
    }

    /// The pid whose parent the message should name.
    pub(crate) fn new_owner(&self) -> Option<u32> {
        match self {
            Outcome::Rebound { by: Some(by), .. } => Some(by.key.pid),
            _ => None,
        }
    }

    pub(crate) fn is_released(&self) -> bool {
        matches!(self, Outcome::Released { .. })
    }
}

/// Whether a socket bound to `a` and one bound to `b` compete for the same connections: the
/// same address, or a wildcard of the same family.
fn overlaps(a: IpAddr, b: IpAddr) -> bool {
    let v6_wildcard = |ip: IpAddr| ip.is_ipv6() && ip.is_unspecified();
    a == b
        || (a.is_ipv4() == b.is_ipv4() && (a.is_unspecified() || b.is_unspecified()))
        // `::` usually accepts IPv4 too (dual-stack), so it competes with every IPv4 bind.
        || v6_wildcard(a)
        || v6_wildcard(b)
}

fn holds(sockets: &[&Socket], key: ProcKey) -> bool {
    sockets
        .iter()
        .any(|s| s.owners.iter().any(|owner| owner.key == key))
}

/// `51 ms`, `0.4 s`, `3 s`, `12 s`: milliseconds below a tenth, tenths below ten seconds.
pub(crate) fn seconds(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 100 {
        format!("{millis} ms")
    } else if millis < 10_000 && millis % 1000 >= 100 {
        format!("{}.{} s", millis / 1000, millis % 1000 / 100)
    } else {
        format!("{} s", duration.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SocketState;
    use crate::model::fixtures::{listener, owner};

    fn node() -> Owner {
        owner(4812, "node", "alice", "node server.js")
    }

    fn target() -> Target {
        let o = node();
        Target {
            key: o.key,
            name: o.name,
            user: Some("alice".into()),
        }
    }

    fn snapshot(sockets: Vec<Socket>) -> Snapshot {
        Snapshot {
            sockets,
            privileged: false,
            ..Default::default()
        }
    }

    fn held_by(owner: Owner, inode: u64) -> Snapshot {
        let mut socket = listener("127.0.0.1", 3000, vec![owner]);
        socket.inode = inode;
        snapshot(vec![socket])
    }

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn a_port_that_comes_free_is_reported_once_then_settles() {
        let before = held_by(node(), 10);
        let mut follow =
            FollowUp::new(3000, vec![target()], &before, DEFAULT_PATIENCE, SETTLE).unwrap();
        assert_eq!(follow.observe(&before, MS(200)), None);
        let out = follow.observe(&snapshot(vec![]), MS(400)).unwrap();
        assert_eq!(out.message(None), "port 3000 released after 0.4 s");
        assert!(out.is_released());
        assert_eq!(follow.observe(&snapshot(vec![]), MS(1000)), None);
        assert!(!follow.is_done(), "still watching for a restart");
        assert_eq!(follow.observe(&snapshot(vec![]), MS(2400)), None);
        assert!(follow.is_done());
    }

    #[test]
    fn a_restart_names_the_new_pid_and_its_parent() {
        let before = held_by(node(), 10);
        let mut follow =
            FollowUp::new(3000, vec![target()], &before, DEFAULT_PATIENCE, SETTLE).unwrap();
        follow.observe(&snapshot(vec![]), MS(300));
        let respawned = held_by(owner(4990, "node", "alice", "node server.js"), 11);
        let out = follow.observe(&respawned, MS(900)).unwrap();
        assert_eq!(out.new_owner(), Some(4990));
        assert_eq!(
            out.message(Some(&Restarter::Parent(Ancestor::named(4700, "nodemon")))),
            "port 3000 is held again by node 4990 (parent nodemon 4700 restarted it)"
        );
        assert!(follow.is_done());
    }

    #[test]
    fn a_quick_restart_between_two_looks_is_still_a_rebind() {
        let before = held_by(node(), 10);
        let mut follow =
            FollowUp::new(3000, vec![target()], &before, DEFAULT_PATIENCE, SETTLE).unwrap();
        // Never seen free: the new socket (new inode) gives it away.
        let out = follow
            .observe(&held_by(owner(4990, "node", "alice", "node"), 11), MS(200))
            .unwrap();
        assert!(matches!(out, Outcome::Rebound { .. }));
    }

    #[test]
    fn a_process_that_ignores_the_signal_is_reported_after_the_patience() {
        let before = held_by(node(), 10);
        let mut follow =
            FollowUp::new(3000, vec![target()], &before, DEFAULT_PATIENCE, SETTLE).unwrap();
        assert_eq!(follow.observe(&before, MS(2900)), None);
        let out = follow.observe(&before, MS(3000)).unwrap();
        assert_eq!(
            out.message(None),
            "node 4812 still running after 3 s, port 3000 still held"
        );
        assert!(follow.is_done());
    }

    #[test]
    fn a_hidden_new_owner_is_not_guessed() {
        let before = held_by(node(), 10);
        let mut follow =
            FollowUp::new(3000, vec![target()], &before, DEFAULT_PATIENCE, SETTLE).unwrap();
        let mut hidden = listener("127.0.0.1", 3000, vec![]);
        hidden.inode = 12;
        let out = follow.observe(&snapshot(vec![hidden]), MS(500)).unwrap();
        assert!(
            out.message(None).contains("hidden"),
            "{}",
            out.message(None)
        );
    }

    #[test]
    fn connection_ends_on_the_port_do_not_count_as_holding_it() {
        let before = held_by(node(), 10);
        let mut follow =
            FollowUp::new(3000, vec![target()], &before, DEFAULT_PATIENCE, SETTLE).unwrap();
        let mut leftover = listener("127.0.0.1", 3000, vec![]);
        leftover.state = SocketState::TimeWait;
        leftover.inode = 0;
        let out = follow.observe(&snapshot(vec![leftover]), MS(100)).unwrap();
        assert!(out.is_released());
    }

    #[test]
    fn a_server_on_the_same_port_at_another_address_is_not_the_target() {
        let mut before = held_by(node(), 10);
        let mut other = listener("::1", 3000, vec![owner(26165, "python3", "bob", "python3")]);
        other.inode = 20;
        before.sockets.push(other.clone());
        let mut follow =
            FollowUp::new(3000, vec![target()], &before, DEFAULT_PATIENCE, SETTLE).unwrap();
        let out = follow
            .observe(&snapshot(vec![other.clone()]), MS(300))
            .unwrap();
        assert!(out.is_released(), "{out:?}");
        // A new server on the target's own address is a rebind; one on 127.0.0.2 is not.
        let mut elsewhere = listener("127.0.0.2", 3000, vec![owner(5, "x", "a", "x")]);
        elsewhere.inode = 30;
        assert_eq!(
            follow.observe(&snapshot(vec![other, elsewhere]), MS(600)),
            None
        );
        let mut wildcard = listener("0.0.0.0", 3000, vec![owner(6, "y", "a", "y")]);
        wildcard.inode = 31;
        let out = follow.observe(&snapshot(vec![wildcard]), MS(900)).unwrap();
        assert!(matches!(out, Outcome::Rebound { .. }), "{out:?}");
    }

    #[test]
    fn every_signalled_listener_must_go_before_the_port_counts_as_released() {
        let python = owner(5000, "python3", "bob", "python3 -m http.server");
        let mut v4 = listener("127.0.0.1", 3000, vec![node()]);
        v4.inode = 10;
        let mut v6 = listener("::1", 3000, vec![python.clone()]);
        v6.inode = 11;
        let before = snapshot(vec![v4, v6.clone()]);
        let targets = vec![
            target(),
            Target {
                key: python.key,
                name: python.name.clone(),
                user: None,
            },
        ];
        let mut follow = FollowUp::new(3000, targets, &before, DEFAULT_PATIENCE, SETTLE).unwrap();
        // node exited; python ignored the signal.
        assert_eq!(follow.observe(&snapshot(vec![v6.clone()]), MS(500)), None);
        let out = follow.observe(&snapshot(vec![v6]), MS(3000)).unwrap();
        assert_eq!(
            out.message(None),
            "python3 5000 still running after 3 s, port 3000 still held"
        );
    }

    #[test]
    fn a_client_end_has_no_port_to_follow() {
        let client = crate::model::fixtures::connection(
            ("127.0.0.1", 51000),
            ("127.0.0.1", 3000),
            SocketState::Established,
            vec![node()],
        );
        let before = snapshot(vec![client]);
        assert!(FollowUp::new(51000, vec![target()], &before, DEFAULT_PATIENCE, SETTLE).is_none());
    }

    #[test]
    fn a_survivor_that_reopens_the_port_is_not_said_to_be_restarted() {
        let before = held_by(node(), 10);
        let mut follow =
            FollowUp::new(3000, vec![target()], &before, DEFAULT_PATIENCE, SETTLE).unwrap();
        let out = follow.observe(&held_by(node(), 12), MS(400)).unwrap();
        assert_eq!(out.new_owner(), None, "no parent to name");
        assert_eq!(
            out.message(Some(&Restarter::Parent(Ancestor::named(1, "systemd")))),
            "node 4812 is still running and opened port 3000 again"
        );
    }

    #[test]
    fn a_restart_on_the_ipv4_side_of_a_dual_stack_wildcard_is_a_rebind() {
        let mut wildcard = listener("::", 3000, vec![node()]);
        wildcard.inode = 10;
        let before = snapshot(vec![wildcard]);
        let mut follow =
            FollowUp::new(3000, vec![target()], &before, DEFAULT_PATIENCE, SETTLE).unwrap();
        let mut v4 = listener("127.0.0.1", 3000, vec![owner(4990, "node", "ana", "node")]);
        v4.inode = 11;
        let out = follow.observe(&snapshot(vec![v4]), MS(400)).unwrap();
        assert!(matches!(out, Outcome::Rebound { .. }), "{out:?}");
    }

    #[test]
    fn seconds_read_naturally() {
        assert_eq!(seconds(MS(51)), "51 ms");
        assert_eq!(seconds(MS(400)), "0.4 s");
        assert_eq!(seconds(MS(1250)), "1.2 s");
        assert_eq!(seconds(MS(3000)), "3 s");
        assert_eq!(seconds(MS(12_300)), "12 s");
    }
}
