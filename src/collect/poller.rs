//! Collects snapshots on a background thread, so a slow `/proc` walk never stalls the UI.
//!
//! The thread waits on its command channel with a timeout until the next collection is due, so
//! a command (refresh now, new query, new interval, stop) is acted on at once.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{CollectError, Collector, Query};
use crate::model::Snapshot;

/// Shortest interval honoured: a zero interval would spin a core collecting.
pub const MIN_INTERVAL: Duration = Duration::from_millis(50);

#[derive(Clone, Copy)]
enum Command {
    RefreshNow,
    SetQuery(Query),
    SetInterval(Duration),
    Stop,
}

/// Handle to the collecting thread. Dropping it stops the thread and waits for it, which takes
/// at most the collection in progress.
pub struct Poller {
    commands: Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

/// Starts collecting with `query` now and then every `interval` (measured from the start of one
/// collection to the start of the next), handing each result that is news (an error, or a
/// snapshot that differs from the last one handed out) to `on_result` on the poller's thread.
/// A collection asked for with `refresh_now` or `set_query` is always handed out.
pub fn spawn<F>(
    collector: Box<dyn Collector>,
    interval: Duration,
    query: Query,
    on_result: F,
) -> Poller
where
    F: FnMut(Result<Snapshot, CollectError>) + Send + 'static,
{
    let (commands, inbox) = mpsc::channel();
    let state = Schedule {
        query,
        interval: interval.max(MIN_INTERVAL),
        last_start: None,
        next_due: Some(Instant::now()),
        forced: false,
    };
    let thread = std::thread::Builder::new()
        .name("loopwatch-poller".to_string())
        .spawn(move || run(collector, state, &inbox, on_result));
    Poller {
        commands,
        // Spawning fails only when the OS is out of threads; the poller is then inert, every
        // command a no-op, and `is_running` says so.
        thread: thread.ok(),
    }
}

impl Poller {
    /// Whether the collecting thread started (the OS may be out of threads).
    pub fn is_running(&self) -> bool {
        self.thread.is_some()
    }

    /// Collects again now, without waiting for the interval.
    pub fn refresh_now(&self) {
        self.send(Command::RefreshNow);
    }

    /// Changes what is collected, and collects with it now.
    pub fn set_query(&self, query: Query) {
        self.send(Command::SetQuery(query));
    }

    /// Changes the interval; the next collection is due one new interval after the last began.
    pub fn set_interval(&self, interval: Duration) {
        self.send(Command::SetInterval(interval));
    }

    fn send(&self, command: Command) {
        // The thread only goes away on Stop or when it panicked in `on_result`; either way
        // there is no one left to tell.
        let _ = self.commands.send(command);
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            // A panic in the callback already printed its message; nothing to add here.
            let _ = thread.join();
        }
    }
}

/// What the thread collects, and when.
struct Schedule {
    query: Query,
    interval: Duration,
    last_start: Option<Instant>,
    /// `None` when the next collection would be too far away to represent (a huge interval).
    next_due: Option<Instant>,
    /// The next result is handed out even if unchanged: someone asked for it (refresh now, a
    /// new query) and may be waiting on it, e.g. to see that a port is still held.
    forced: bool,
}

impl Schedule {
    /// Applies a command; `false` means stop.
    fn apply(&mut self, command: Command) -> bool {
        match command {
            Command::RefreshNow => {
                self.next_due = Some(Instant::now());
                self.forced = true;
            }
            Command::SetQuery(query) => {
                self.query = query;
                self.next_due = Some(Instant::now());
                self.forced = true;
            }
            Command::SetInterval(interval) => {
                self.interval = interval.max(MIN_INTERVAL);
                self.next_due = match self.last_start {
                    Some(start) => start.checked_add(self.interval),
                    None => Some(Instant::now()),
                };
            }
            Command::Stop => return false,
        }
        true
    }

    fn started(&mut self, at: Instant) {
        self.last_start = Some(at);
        self.next_due = at.checked_add(self.interval);
    }
}

fn run<F>(
    mut collector: Box<dyn Collector>,
    mut schedule: Schedule,
    inbox: &Receiver<Command>,
    mut on_result: F,
) where
    F: FnMut(Result<Snapshot, CollectError>),
{
    loop {
        // Commands first, even when a collection is overdue, so a slow collector cannot
        // starve a Stop.
        let command = match schedule.next_due {
            Some(due) => inbox.recv_timeout(due.saturating_duration_since(Instant::now())),
            None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match command {
            Ok(command) => {
                if !schedule.apply(command) {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                let start = Instant::now();
                let first = schedule.last_start.is_none();
                schedule.started(start);
                // A large table's first look comes before its owners. An error here is met
                // again, and handed out, by the collection that follows.
                if first && let Ok(Some(sockets)) = collector.sockets_first(&schedule.query) {
                    on_result(Ok(sockets));
                }
                if std::mem::take(&mut schedule.forced) {
                    on_result(collector.collect(&schedule.query));
                } else {
                    match collector.collect_changed(&schedule.query) {
                        Ok(Some(snapshot)) => on_result(Ok(snapshot)),
                        Ok(None) => {} // nothing new to show
                        Err(error) => on_result(Err(error)),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::collect::fake::{FakeCollector, SharedCollector};
    use crate::model::fixtures::{listener, owner};

    const DEADLINE: Duration = Duration::from_secs(5);
    const HOUR: Duration = Duration::from_hours(1);

    fn snapshot(port: u16) -> Snapshot {
        Snapshot {
            sockets: vec![listener("127.0.0.1", port, vec![owner(1, "a", "u", "a")])],
            privileged: false,
            ..Default::default()
        }
    }

    fn port_of(snapshot: &Snapshot) -> u16 {
        snapshot.sockets[0].local_port
    }

    /// The next snapshot, failing the test if none arrives before the deadline.
    fn next(rx: &Receiver<Result<Snapshot, CollectError>>) -> Snapshot {
        rx.recv_timeout(DEADLINE)
            .expect("a snapshot before the deadline")
            .expect("the fake collects without error")
    }

    /// A poller over a shared fake, with results forwarded to a channel the test reads.
    fn start(
        fake: FakeCollector,
        interval: Duration,
    ) -> (
        Poller,
        Arc<Mutex<FakeCollector>>,
        Receiver<Result<Snapshot, CollectError>>,
    ) {
        let shared = Arc::new(Mutex::new(fake));
        let (tx, rx) = mpsc::channel();
        let poller = spawn(
            Box::new(SharedCollector(Arc::clone(&shared))),
            interval,
            Query::default(),
            move |result| {
                let _ = tx.send(result);
            },
        );
        (poller, shared, rx)
    }

    /// A collector that always has a first look to give: only the poller decides when.
    struct FirstLook {
        first: Snapshot,
        full: Snapshot,
    }

    impl Collector for FirstLook {
        fn collect(&mut self, _query: &Query) -> Result<Snapshot, CollectError> {
            Ok(self.full.clone())
        }

        fn sockets_first(&mut self, _query: &Query) -> Result<Option<Snapshot>, CollectError> {
            Ok(Some(self.first.clone()))
        }
    }

    #[test]
    fn a_first_look_is_handed_out_before_the_first_collection_and_only_then() {
        let (tx, rx) = mpsc::channel();
        let _poller = spawn(
            Box::new(FirstLook {
                first: snapshot(1),
                full: snapshot(2),
            }),
            Duration::from_millis(50),
            Query::default(),
            move |result| {
                let _ = tx.send(result);
            },
        );
        assert_eq!(port_of(&next(&rx)), 1, "the first look");
        assert_eq!(port_of(&next(&rx)), 2, "then the collection");
        assert_eq!(
            port_of(&next(&rx)),
            2,
            "then ticks, never a first look again"
        );
    }

    /// A first look that takes a while, made with the query asked.
    struct SlowFirstLook(Receiver<()>);

    impl Collector for SlowFirstLook {
        fn collect(&mut self, query: &Query) -> Result<Snapshot, CollectError> {
            Ok(snapshot(if query.connections { 2 } else { 1 }))
        }

        fn sockets_first(&mut self, query: &Query) -> Result<Option<Snapshot>, CollectError> {
            let _ = self.0.recv_timeout(DEADLINE);
            let mut first = snapshot(if query.connections { 2 } else { 1 });
            first.reading_owners = true;
            Ok(Some(first))
        }
    }

    /// A query asked while the first look is being made comes after two snapshots of the
    /// launch query (the first look, then its owners): the app lets both settle.
    #[test]
    fn a_query_asked_during_the_first_look_comes_after_two_of_the_launch_query() {
        let (go, wait) = mpsc::channel();
        let (tx, rx) = mpsc::channel();
        let poller = spawn(
            Box::new(SlowFirstLook(wait)),
            HOUR,
            Query::default(),
            move |result| {
                let _ = tx.send(result);
            },
        );
        std::thread::sleep(Duration::from_millis(50));
        poller.set_query(Query {
            connections: true,
            ..Query::default()
        });
        go.send(()).unwrap();
        let seen: Vec<(u16, bool)> = (0..3)
            .map(|_| {
                let s = next(&rx);
                (port_of(&s), s.reading_owners)
            })
            .collect();
        assert_eq!(seen, [(1, true), (1, false), (2, false)]);
    }

    #[test]
    fn first_result_arrives_at_once() {
        let (_poller, _, rx) = start(FakeCollector::new([snapshot(80)]), HOUR);
        assert_eq!(port_of(&next(&rx)), 80);
    }

    #[test]
    fn errors_are_delivered_too() {
        let mut fake = FakeCollector::default();
        fake.push_error("netlink said no");
        let (_poller, _, rx) = start(fake, HOUR);
        let first = rx.recv_timeout(DEADLINE).unwrap();
        assert!(first.unwrap_err().to_string().contains("netlink said no"));
    }

    #[test]
    fn collects_every_interval() {
        let (_poller, _, rx) = start(
            FakeCollector::new([snapshot(1), snapshot(2), snapshot(3)]),
            MIN_INTERVAL,
        );
        let ports: Vec<u16> = (0..3).map(|_| port_of(&next(&rx))).collect();
        assert_eq!(ports, [1, 2, 3]);
    }

    #[test]
    fn an_unchanged_snapshot_is_not_handed_out_again() {
        let mut fake = FakeCollector::new([snapshot(1), snapshot(1), snapshot(1)]);
        fake.push_error("gone for a moment");
        let fake = fake.then(snapshot(1)).then(snapshot(2));
        let (poller, shared, rx) = start(fake, MIN_INTERVAL);
        assert_eq!(port_of(&next(&rx)), 1);
        let error = rx.recv_timeout(DEADLINE).unwrap();
        assert!(
            error.is_err(),
            "the repeats were skipped; the error is news"
        );
        assert_eq!(
            port_of(&next(&rx)),
            1,
            "the first success after an error is news"
        );
        assert_eq!(port_of(&next(&rx)), 2);
        drop(poller);
        assert!(shared.lock().unwrap().queries.len() >= 6);
    }

    #[test]
    fn set_query_reaches_the_collector_at_once() {
        let (poller, shared, rx) = start(FakeCollector::new([snapshot(1), snapshot(2)]), HOUR);
        next(&rx);
        let wanted = Query {
            connections: true,
            all_addresses: false,
            port: Some(5432),
        };
        poller.set_query(wanted);
        next(&rx); // right after set_query, not an hour later
        let queries = shared.lock().unwrap().queries.clone();
        assert_eq!(queries, [Query::default(), wanted]);
    }

    #[test]
    fn refresh_now_hands_out_even_an_unchanged_snapshot() {
        let (poller, _, rx) = start(FakeCollector::new([snapshot(1)]), HOUR);
        assert_eq!(port_of(&next(&rx)), 1);
        poller.refresh_now();
        assert_eq!(port_of(&next(&rx)), 1, "asked for, so delivered");
    }

    #[test]
    fn refresh_now_collects_at_once() {
        let (poller, shared, rx) = start(FakeCollector::new([snapshot(1), snapshot(2)]), HOUR);
        next(&rx);
        poller.refresh_now();
        assert_eq!(port_of(&next(&rx)), 2);
        assert_eq!(shared.lock().unwrap().queries.len(), 2);
    }

    #[test]
    fn a_shorter_interval_takes_effect_without_waiting_out_the_old_one() {
        let (poller, _, rx) = start(
            FakeCollector::new([snapshot(1), snapshot(2), snapshot(3)]),
            HOUR,
        );
        next(&rx);
        poller.set_interval(Duration::ZERO);
        assert_eq!(port_of(&next(&rx)), 2);
        assert_eq!(port_of(&next(&rx)), 3, "and again, at the new pace");
    }

    #[test]
    fn dropping_stops_the_thread_promptly() {
        let (poller, shared, rx) = start(FakeCollector::new([snapshot(1)]), MIN_INTERVAL);
        next(&rx);
        let asked = Instant::now();
        drop(poller);
        assert!(
            asked.elapsed() < DEADLINE,
            "drop waited {:?}",
            asked.elapsed()
        );
        // The callback (and its sender) went away with the thread: after whatever was already
        // delivered, the channel reports disconnection instead of more snapshots.
        loop {
            match rx.recv_timeout(DEADLINE) {
                Ok(_) => {}
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("the poller thread is still alive"),
            }
        }
        assert_eq!(
            Arc::strong_count(&shared),
            1,
            "the collector went away with the thread"
        );
    }
}
