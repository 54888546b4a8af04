//! The projector: projections rebuilt from the log once, then kept up with
//! it as events are appended.
//!
//! The command line rebuilds for one command and reads. The server builds
//! once, then calls [`Projector::follow`] after each append (and on a timer):
//! the new events are read from the log outside any lock, folded in and
//! settled under a short write lock, and readers meanwhile read the state
//! before them. Events are applied in sequence order only, so what a reader
//! sees is always the log up to some sequence number.

use std::num::NonZero;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use spor_projections::Projections;
use spor_projections::reminders::ReminderRules;
use spor_store::{EventStore, StoreError};

/// Projections that follow the log.
pub struct Projector {
    state: RwLock<Projections>,
    /// The last sequence number folded in, for writers waiting to see their
    /// own event; guarded apart from `state` so waiting takes no read lock.
    applied: Mutex<u64>,
    caught_up: Condvar,
    /// Serialises followers, so events are read and folded once, in order.
    following: Mutex<()>,
    threads: usize,
}

impl Projector {
    /// Folds the whole log and settles every timeline, keeping reminder
    /// state by `rules` (the configured ones).
    pub fn rebuild(store: &dyn EventStore, rules: ReminderRules) -> Result<Self, StoreError> {
        let threads = std::thread::available_parallelism().map_or(1, NonZero::get);
        let started = Instant::now();
        let mut p = Projections::with_rules(rules);
        store.scan(1, &mut |seq, event| {
            p.apply(seq, event);
            Ok(())
        })?;
        tracing::info!(
            events = p.events(),
            elapsed_ms = started.elapsed().as_millis(),
            "projections rebuilt from the log"
        );
        let started = Instant::now();
        p.settle(threads);
        tracing::info!(
            participants = p.participants(),
            elapsed_ms = started.elapsed().as_millis(),
            "timelines settled"
        );
        let applied = p.last_seq();
        Ok(Self {
            state: RwLock::new(p),
            applied: Mutex::new(applied),
            caught_up: Condvar::new(),
            following: Mutex::new(()),
            threads,
        })
    }

    /// The projections as they stand; hold the guard briefly (a follower
    /// waits for it to fold new events in).
    pub fn read(&self) -> RwLockReadGuard<'_, Projections> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the projections out (the command line, which reads once).
    pub fn into_inner(self) -> Projections {
        self.state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The last sequence number folded in.
    pub fn applied(&self) -> u64 {
        *lock(&self.applied)
    }

    /// Folds in every event the log holds beyond what is applied, and
    /// settles. Returns the sequence number now applied.
    pub fn follow(&self, store: &dyn EventStore) -> Result<u64, StoreError> {
        let _one_follower = lock(&self.following);
        let from = self.applied() + 1;
        if store.head().seq < from {
            return Ok(from - 1);
        }
        let mut fresh = Vec::new();
        store.scan(from, &mut |seq, event| {
            fresh.push((seq, event));
            Ok(())
        })?;
        let Some(&(last, _)) = fresh.last() else {
            return Ok(from - 1);
        };
        {
            let mut p = self.state.write().unwrap_or_else(PoisonError::into_inner);
            for (seq, event) in fresh {
                p.apply(seq, event);
            }
            p.settle(self.threads);
        }
        *lock(&self.applied) = last;
        self.caught_up.notify_all();
        Ok(last)
    }

    /// Waits until `seq` is folded in, at most `timeout`. Whether it is.
    pub fn wait_for(&self, seq: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut applied = lock(&self.applied);
        while *applied < seq {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            applied = self
                .caught_up
                .wait_timeout(applied, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
