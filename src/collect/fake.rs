//! Scripted collectors, for tests of everything that takes a `Collector`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use super::{CollectError, Collector, Query};
use crate::model::Snapshot;

/// Hands out scripted snapshots in order, repeating the last one; records every query.
#[derive(Debug, Default)]
pub struct FakeCollector {
    script: VecDeque<Result<Snapshot, CollectError>>,
    last: Option<Snapshot>,
    /// The last snapshot `collect_changed` returned (cleared by an error).
    delivered: Option<Snapshot>,
    pub queries: Vec<Query>,
}

impl FakeCollector {
    pub fn new(snapshots: impl IntoIterator<Item = Snapshot>) -> Self {
        Self {
            script: snapshots.into_iter().map(Ok).collect(),
            ..Self::default()
        }
    }

    /// Queues a failure for the next collection.
    pub fn push_error(&mut self, message: &str) {
        self.script
            .push_back(Err(CollectError::Sockets(message.to_string())));
    }

    /// Queues `snapshot` after what is already scripted.
    #[must_use]
    pub fn then(mut self, snapshot: Snapshot) -> Self {
        self.script.push_back(Ok(snapshot));
        self
    }
}

impl Collector for FakeCollector {
    fn collect(&mut self, query: &Query) -> Result<Snapshot, CollectError> {
        self.queries.push(*query);
        match self.script.pop_front() {
            Some(Ok(snapshot)) => {
                self.last = Some(snapshot.clone());
                Ok(snapshot)
            }
            Some(Err(error)) => Err(error),
            None => Ok(self.last.clone().unwrap_or_default()),
        }
    }

    fn collect_changed(&mut self, query: &Query) -> Result<Option<Snapshot>, CollectError> {
        let result = self.collect(query);
        let snapshot = result.inspect_err(|_| self.delivered = None)?;
        if self.delivered.as_ref() == Some(&snapshot) {
            return Ok(None);
        }
        self.delivered = Some(snapshot.clone());
        Ok(Some(snapshot))
    }

    fn last_again(&mut self) -> Option<Snapshot> {
        self.last.clone()
    }
}

/// A collector the test keeps a handle to after handing it over (to a poller thread, say), so it
/// can inspect what the collector was asked.
#[derive(Debug, Default)]
pub struct SharedCollector<C>(pub Arc<Mutex<C>>);

impl<C: Collector> Collector for SharedCollector<C> {
    fn collect(&mut self, query: &Query) -> Result<Snapshot, CollectError> {
        // A test that panicked while holding the lock has failed already; keep answering.
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .collect(query)
    }

    fn collect_changed(&mut self, query: &Query) -> Result<Option<Snapshot>, CollectError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .collect_changed(query)
    }

    fn last_again(&mut self) -> Option<Snapshot> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last_again()
    }

    fn sockets_first(&mut self, query: &Query) -> Result<Option<Snapshot>, CollectError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sockets_first(query)
    }
}
