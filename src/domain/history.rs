//! Change tracking: which sockets opened, closed or changed owner between two snapshots, a
//! bounded history of those events, and which rows are new or lingering after closing.
//!
//! Pure: time comes in as a [`Stamp`] handed over by the runtime, so tests never sleep.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::model::{self, Owner, ProcKey, Socket, SocketKey, Stamp, format_endpoint};

/// How many events the history keeps; older ones are dropped first.
pub(crate) const HISTORY_CAPACITY: usize = 10_000;
/// How long a new socket stays highlighted.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(5);
/// How long a closed socket stays in the table, dimmed and marked closed.
pub(crate) const LINGER_FOR: Duration = Duration::from_secs(5);

/// What happened to a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum EventKind {
    Closed,
    Opened,
    OwnerChanged,
}

impl EventKind {
    /// The stable name used in JSON.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventKind::Opened => "opened",
            EventKind::Closed => "closed",
            EventKind::OwnerChanged => "owner_changed",
        }
    }

    /// The one-character mark in history lines and the table's gutter.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            EventKind::Opened => "+",
            EventKind::Closed => "-",
            EventKind::OwnerChanged => "~",
        }
    }
}

/// One change, with the socket as it was seen (for `Closed`, as last seen before it went).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) time: Stamp,
    pub(crate) kind: EventKind,
    pub(crate) socket: Socket,
    /// For `OwnerChanged`: who held it before.
    pub(crate) previous_owners: Arc<[Owner]>,
}

impl Event {
    /// `14:03:41 + tcp 127.0.0.1:5173 node 4812 (node server.js)`: one line for the history
    /// view and `loopwatch watch`.
    pub(crate) fn line(&self) -> String {
        format!(
            "{} {} {}",
            self.time.clock(),
            self.kind.symbol(),
            self.what()
        )
    }

    /// The line without its time and symbol: `tcp 127.0.0.1:5173 node 4812 (node server.js)`,
    /// and for an owner change, who held it before.
    pub(crate) fn what(&self) -> String {
        let s = &self.socket;
        let mut text = format!(
            "{} {}",
            s.proto,
            format_endpoint(s.local_addr, s.local_port)
        );
        if let Some((addr, port)) = s.remote {
            text.push_str(" → ");
            text.push_str(&format_endpoint(addr, port));
        }
        if !s.state.is_listening() {
            text.push(' ');
            text.push_str(s.state.as_str());
        }
        text.push(' ');
        text.push_str(&owners_label(&s.owners, s));
        if let Some(owner) = s.primary_owner().filter(|o| !o.cmdline.is_empty()) {
            text.push_str(" (");
            text.push_str(&owner.cmdline.inert());
            text.push(')');
        }
        if self.kind == EventKind::OwnerChanged {
            text.push_str(", was ");
            text.push_str(&owners_label(&self.previous_owners, &self.socket));
        }
        text
    }
}

/// `node 4812`, `nginx 2100 +3`, or `(hidden) redis` when the owner cannot be seen.
fn owners_label(owners: &[Owner], socket: &Socket) -> String {
    model::owners_label(owners)
        .unwrap_or_else(|| format!("{} {}", socket.process_label(), socket.user_label()))
}

/// The events that turn `before` into `after`, all stamped `time`: closed first, then opened,
/// then owner changes, each in socket-key order so the result is deterministic.
///
/// Only sockets `tracked` admits on both sides are compared, so a change of what is collected
/// (connections toggled on) is not mistaken for sockets opening.
pub(crate) fn diff(
    before: &[Socket],
    after: &[Socket],
    time: Stamp,
    tracked: impl Fn(&Socket) -> bool,
) -> Vec<Event> {
    /// Where a key was seen: before only (so far), after only, or on both sides.
    enum Seen {
        Before,
        After,
        Both,
    }
    // One table, of the sockets before; those after are looked up in it as they come. At
    // 100,000 sockets two tables with the default hasher took 150 ms of the UI thread.
    let mut seen: FxHashMap<SocketKey, (&Socket, Seen)> = FxHashMap::default();
    seen.reserve(before.len());
    for socket in before.iter().filter(|s| tracked(s)) {
        seen.insert(socket.key(), (socket, Seen::Before));
    }
    let event = |kind, socket: &Socket, previous_owners: Arc<[Owner]>| Event {
        time,
        kind,
        socket: socket.clone(),
        previous_owners,
    };
    let mut events = Vec::new();
    // From the last: of two rows with one key (a port two containers publish, each a NAT
    // row), the last is the one compared, on either side.
    for socket in after.iter().rev().filter(|s| tracked(s)) {
        match seen.entry(socket.key()) {
            Entry::Vacant(vacant) => {
                vacant.insert((socket, Seen::After));
                events.push(event(EventKind::Opened, socket, [].into()));
            }
            Entry::Occupied(mut occupied) => {
                let (previous, side) = occupied.get_mut();
                if matches!(side, Seen::Before) {
                    *side = Seen::Both;
                    if owner_changed(previous, socket) {
                        events.push(event(
                            EventKind::OwnerChanged,
                            socket,
                            previous.owners.clone(),
                        ));
                    }
                }
            }
        }
    }
    for (socket, side) in seen.values() {
        if matches!(side, Seen::Before) {
            events.push(event(EventKind::Closed, socket, [].into()));
        }
    }
    events.sort_by_key(|e| (e.kind, e.socket.key()));
    events
}

/// Remembers who held a socket whose owner vanished while the socket was still listed, so the
/// event for its closing names that process instead of "(not found)".
///
/// A process that closes a socket often does so between the kernel's socket dump and the
/// owner lookup of one collection: the socket is then listed once more without its owner.
#[derive(Debug, Clone, Default)]
pub(crate) struct Differ {
    fading: HashMap<SocketKey, Arc<[Owner]>>,
}

impl Differ {
    /// [`diff`], with closing sockets named after their last known owners.
    pub(crate) fn events(
        &mut self,
        before: &[Socket],
        after: &[Socket],
        time: Stamp,
        tracked: impl Fn(&Socket) -> bool,
    ) -> Vec<Event> {
        let mut events = diff(before, after, time, &tracked);
        for event in &mut events {
            if event.kind == EventKind::Closed
                && event.socket.owners.is_empty()
                && let Some(owners) = self.fading.remove(&event.socket.key())
            {
                event.socket.owners = owners;
                event.socket.unknown = None;
            }
        }
        // Sockets listed without an owner now: usually few, and usually hidden by permissions
        // (then they had no owner before either, and nothing is remembered).
        let ownerless: FxHashSet<SocketKey> = after
            .iter()
            .filter(|s| s.owners.is_empty())
            .map(Socket::key)
            .collect();
        let mut fading: HashMap<SocketKey, Arc<[Owner]>> = std::mem::take(&mut self.fading)
            .into_iter()
            .filter(|(key, _)| ownerless.contains(key))
            .collect();
        if !ownerless.is_empty() {
            for b in before.iter().filter(|b| !b.owners.is_empty()) {
                let key = b.key();
                if ownerless.contains(&key) {
                    fading.entry(key).or_insert_with(|| b.owners.clone());
                }
            }
        }
        self.fading = fading;
        events
    }
}

/// A different set of processes holds the socket. An owner that only became visible or hidden
/// (a race with a process starting, a permission change) is not a change of owner.
fn owner_changed(before: &Socket, after: &Socket) -> bool {
    let keys = |s: &Socket| s.owners.iter().map(|o| o.key).collect::<Vec<ProcKey>>();
    !before.owners.is_empty() && !after.owners.is_empty() && keys(before) != keys(after)
}

/// The last [`HISTORY_CAPACITY`] events, oldest first.
#[derive(Debug, Clone)]
pub(crate) struct History {
    events: VecDeque<Event>,
    capacity: usize,
    /// Events dropped to stay within capacity.
    dropped: u64,
}

impl Default for History {
    fn default() -> Self {
        Self::with_capacity(HISTORY_CAPACITY)
    }
}

impl History {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            events: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
        }
    }

    pub(crate) fn push(&mut self, event: Event) {
        if self.events.len() == self.capacity {
            self.events.pop_front();
            self.dropped += 1;
        }
        self.events.push_back(event);
    }

    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Oldest first.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &Event> + ExactSizeIterator {
        self.events.iter()
    }
}

/// Change tracking for the live table: the history, plus which sockets are new (highlighted)
/// and which closed recently (kept a little longer, marked closed).
#[derive(Debug, Clone, Default)]
pub(crate) struct Tracker {
    differ: Differ,
    history: History,
    fresh: HashMap<SocketKey, Stamp>,
    gone: Vec<(Socket, Stamp)>,
}

impl Tracker {
    /// Records the changes from `before` to `after` at `now`; returns how many there were.
    pub(crate) fn observe(
        &mut self,
        before: &[Socket],
        after: &[Socket],
        now: Stamp,
        tracked: impl Fn(&Socket) -> bool,
    ) -> usize {
        let events = self.differ.events(before, after, now, tracked);
        let count = events.len();
        // A socket that closed earlier and is back, or closes again, leaves the closed rows:
        // once for all events, not once per event (a process with 100,000 connections exiting
        // would otherwise take minutes).
        let changed: FxHashSet<SocketKey> = events.iter().map(|e| e.socket.key()).collect();
        self.gone.retain(|(s, _)| !changed.contains(&s.key()));
        for event in events {
            let key = event.socket.key();
            match event.kind {
                EventKind::Opened | EventKind::OwnerChanged => {
                    self.fresh.insert(key, now);
                }
                EventKind::Closed => {
                    self.fresh.remove(&key);
                    self.gone.push((event.socket.clone(), now));
                }
            }
            self.history.push(event);
        }
        count
    }

    /// Forgets highlights and closed rows older than their time; `true` if any went.
    pub(crate) fn expire(&mut self, now: Stamp) -> bool {
        let (fresh, gone) = (self.fresh.len(), self.gone.len());
        self.fresh.retain(|_, at| now.since(*at) < FRESH_FOR);
        self.gone.retain(|(_, at)| now.since(*at) < LINGER_FOR);
        fresh != self.fresh.len() || gone != self.gone.len()
    }

    /// Whether the socket opened (or changed owner) within the last [`FRESH_FOR`].
    pub(crate) fn is_fresh(&self, key: &SocketKey) -> bool {
        self.fresh.contains_key(key)
    }

    /// Sockets that closed within the last [`LINGER_FOR`], as last seen.
    pub(crate) fn gone(&self) -> impl Iterator<Item = &Socket> {
        self.gone.iter().map(|(s, _)| s)
    }

    pub(crate) fn history(&self) -> &History {
        &self.history
    }

    /// When the next highlight or closed row is due to go, so the runtime can wake up for it.
    pub(crate) fn next_expiry(&self) -> Option<Stamp> {
        let fresh = self.fresh.values().map(|at| at.plus(FRESH_FOR));
        let gone = self.gone.iter().map(|(_, at)| at.plus(LINGER_FOR));
        fresh.chain(gone).min_by_key(|s| s.time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Snapshot;
    use crate::model::fixtures::{listener, owner, sample_snapshot};

    fn all(_: &Socket) -> bool {
        true
    }

    fn t0() -> Stamp {
        Stamp::at_secs(1_764_165_821) // 2025-11-26 14:03:41 UTC
    }

    fn vite() -> Socket {
        listener("127.0.0.1", 3000, vec![owner(4900, "node", "ana", "vite")])
    }

    #[test]
    fn stamps_print_local_clock_time_and_rfc3339() {
        assert_eq!(t0().clock(), "14:03:41");
        let plus_one = Stamp {
            utc_offset: 3600,
            ..t0()
        };
        assert_eq!(plus_one.clock(), "15:03:41");
        assert_eq!(plus_one.rfc3339(), "2025-11-26T15:03:41.000+01:00");
        assert_eq!(t0().plus(Duration::from_secs(3)).since(t0()).as_secs(), 3);
        assert_eq!(
            t0().since(t0().plus(Duration::from_secs(3))),
            Duration::ZERO
        );
    }

    #[test]
    fn identical_snapshots_have_no_events() {
        let s = sample_snapshot();
        assert!(diff(&s.sockets, &s.sockets, t0(), all).is_empty());
    }

    #[test]
    fn opened_closed_and_owner_changed_are_told_apart() {
        let before = sample_snapshot();
        let mut after = sample_snapshot();
        // 5432 closes, vite opens, 9229's process is replaced by a new one.
        after.sockets.retain(|s| s.local_port != 5432);
        after.sockets.push(vite());
        after.sockets.retain(|s| s.local_port != 9229);
        let mut debugger = listener(
            "::",
            9229,
            vec![owner(5200, "node", "ana", "node --inspect worker.js")],
        );
        debugger.inode = before
            .sockets
            .iter()
            .find(|s| s.local_port == 9229)
            .unwrap()
            .inode;
        after.sockets.push(debugger);

        let events = diff(&before.sockets, &after.sockets, t0(), all);
        let summary: Vec<(EventKind, u16)> = events
            .iter()
            .map(|e| (e.kind, e.socket.local_port))
            .collect();
        assert_eq!(
            summary,
            [
                (EventKind::Closed, 5432),
                (EventKind::Opened, 3000),
                (EventKind::OwnerChanged, 9229)
            ]
        );
        assert_eq!(
            events[1].line(),
            "14:03:41 + tcp 127.0.0.1:3000 node 4900 (vite)"
        );
        let changed = &events[2];
        assert_eq!(changed.previous_owners[0].key.pid, 5120);
        assert_eq!(
            changed.line(),
            "14:03:41 ~ tcp [::]:9229 node 5200 (node --inspect worker.js), was node 5120"
        );
        assert_eq!(
            events[0].line(),
            "14:03:41 - tcp 127.0.0.1:5432 postgres 912 (/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main)"
        );
        assert!(events.iter().all(|e| e.time == t0()));
    }

    #[test]
    fn an_owner_becoming_visible_is_not_a_change_of_owner() {
        let mut hidden = vite();
        let owners = std::mem::take(&mut hidden.owners);
        let before = vec![hidden.clone()];
        let mut shown = hidden;
        shown.owners = owners;
        assert!(diff(&before, &[shown], t0(), all).is_empty());
    }

    #[test]
    fn a_socket_seen_once_more_without_its_owner_closes_under_its_owner_name() {
        let with_owner = vec![vite()];
        let mut ownerless = vite();
        ownerless.owners = [].into();
        ownerless.unknown = Some(crate::model::UnknownOwner::NotFound);
        let ownerless = vec![ownerless];
        let mut differ = Differ::default();
        assert!(differ.events(&with_owner, &ownerless, t0(), all).is_empty());
        assert!(differ.events(&ownerless, &ownerless, t0(), all).is_empty());
        let events = differ.events(&ownerless, &[], t0(), all);
        assert_eq!(
            events[0].line(),
            "14:03:41 - tcp 127.0.0.1:3000 node 4900 (vite)"
        );
        assert!(differ.fading.is_empty());
    }

    #[test]
    fn only_tracked_sockets_are_compared() {
        let before = Snapshot::default();
        let after = sample_snapshot();
        let events = diff(&before.sockets, &after.sockets, t0(), |s| {
            s.state.is_listening()
        });
        assert_eq!(events.len(), 8);
        assert!(events.iter().all(|e| e.kind == EventKind::Opened));
    }

    #[test]
    fn history_keeps_the_newest_events_within_its_bound() {
        let mut history = History::default();
        let event = |port| Event {
            time: t0(),
            kind: EventKind::Opened,
            socket: listener("127.0.0.1", port, vec![]),
            previous_owners: [].into(),
        };
        for i in 0..(HISTORY_CAPACITY + 25) {
            history.push(event(u16::try_from(i % 60_000 + 1).unwrap()));
        }
        assert_eq!(history.len(), HISTORY_CAPACITY);
        assert_eq!(history.dropped(), 25);
        assert_eq!(history.iter().next().unwrap().socket.local_port, 26);
        assert_eq!(
            history.iter().last().unwrap().socket.local_port,
            u16::try_from(HISTORY_CAPACITY + 25).unwrap()
        );
    }

    #[test]
    fn tracker_highlights_new_sockets_and_lingers_closed_ones_for_a_while() {
        let mut tracker = Tracker::default();
        let before = sample_snapshot().sockets;
        let mut after = before.clone();
        after.retain(|s| s.local_port != 5432);
        after.push(vite());
        assert_eq!(tracker.observe(&before, &after, t0(), all), 2);
        let vite_key = vite().key();
        assert!(tracker.is_fresh(&vite_key));
        assert_eq!(
            tracker.gone().map(|s| s.local_port).collect::<Vec<_>>(),
            [5432]
        );
        assert_eq!(tracker.next_expiry(), Some(t0().plus(FRESH_FOR)));

        assert!(!tracker.expire(t0().plus(Duration::from_secs(4))));
        assert!(tracker.is_fresh(&vite_key));
        assert!(tracker.expire(t0().plus(Duration::from_secs(5))));
        assert!(!tracker.is_fresh(&vite_key));
        assert_eq!(tracker.gone().count(), 0);
        assert_eq!(tracker.next_expiry(), None);
        assert_eq!(tracker.history().len(), 2, "the history keeps them");

        // Reopened while still lingering: it is new again, not closed.
        let mut tracker = Tracker::default();
        tracker.observe(&after, &before, t0(), all);
        tracker.observe(&before, &after, t0(), all);
        assert!(tracker.gone().all(|s| s.local_port != 3000));
        assert!(tracker.is_fresh(&vite_key));
    }

    /// Two rows with one key (the NAT rows of a port two containers publish): the last is the
    /// one an event names and compares, on either side, whatever the other row holds.
    #[test]
    fn of_two_rows_with_one_key_the_last_is_compared() {
        let mut a = listener("0.0.0.0", 8080, vec![]);
        a.inode = 0;
        a.user = Some("container-a".into());
        let mut b = a.clone();
        b.user = Some("container-b".into());
        let opened = diff(&[], &[a.clone(), b.clone()], t0(), all);
        assert_eq!(opened.len(), 1);
        assert_eq!(
            opened[0].socket.user, b.user,
            "the last row is the one opened"
        );

        let first = listener("127.0.0.1", 5000, vec![owner(100, "p0", "u", "cmd")]);
        let mut other = first.clone();
        other.owners = vec![owner(102, "p2", "u", "cmd")].into();
        let kinds = |events: Vec<Event>| events.iter().map(|e| e.kind).collect::<Vec<_>>();
        let before = [first.clone()];
        assert!(kinds(diff(&before, &[other.clone(), first.clone()], t0(), all)).is_empty());
        assert_eq!(
            kinds(diff(&before, &[first, other], t0(), all)),
            [EventKind::OwnerChanged]
        );
    }

    /// 100,000 sockets closing at once (a process with 100,000 connections exits), then
    /// opening again: every one is an event, and the closed rows, kept a while, leave again
    /// as their sockets come back (once per batch, not once per event).
    #[test]
    fn a_hundred_thousand_sockets_closing_at_once_are_each_told() {
        let sockets: Vec<Socket> = (0..100_000u32)
            .map(|i| {
                let port = u16::try_from(i % 60_000).unwrap_or(0) + 1;
                let mut s = listener("127.0.0.1", port, vec![owner(7, "x", "u", "x")]);
                s.inode = u64::from(i) + 1;
                s
            })
            .collect();
        let mut tracker = Tracker::default();
        assert_eq!(tracker.observe(&sockets, &[], t0(), all), 100_000);
        assert_eq!(tracker.gone().count(), 100_000);
        assert_eq!(tracker.observe(&[], &sockets, t0(), all), 100_000);
        assert_eq!(tracker.gone().count(), 0);
    }
}
