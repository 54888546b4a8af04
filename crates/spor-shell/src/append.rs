//! Appending one event: read the participant's timeline, let the rules
//! decide, write at the version that was read. `spor log` and the server's
//! `POST /api/v1/events` go through here.
//!
//! A writer that names the version it saw (`Expected::Version`) gets a
//! conflict when another change came first, and decides again with what it
//! is then shown. A writer that names none appends at whatever version is
//! current: when another writer slips in between the read and the write,
//! the event is decided again against the new timeline, a bounded number of
//! times.

use chrono::{DateTime, Utc};
use spor_domain::wire::Draft;
use spor_domain::{Event, Policy, Refusal, Timeline};
use spor_store::{EventStore, StoreError, StreamAppend};

/// How often an append without an expected version is decided again when
/// other writers keep coming first. Each round trip is one fsync, so this
/// bounds the wait, not correctness.
const RETRIES: usize = 16;

/// The version a writer expects the participant's stream to be at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Whatever is current (decided against the timeline as it is read).
    Any,
    /// Exactly this many events stored (0 for a new participant).
    Version(u32),
}

/// A stored event, or the same event found already stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    /// The participant's version after it: its number of events.
    pub version: u32,
    pub event: Event,
    /// Whether this call stored it (false: it was already stored, a no-op).
    pub fresh: bool,
}

/// Why nothing was appended.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The rules refuse the event.
    #[error("{0}")]
    Refused(Refusal),
    /// The stream is not at the expected version.
    #[error(
        "expected version {expected}, but the participant is at version {current}; read again and decide again"
    )]
    Conflict { expected: u32, current: u32 },
    /// The id is stored with other content.
    #[error("{0} is already stored with other content; an id names one event forever")]
    IdReused(spor_domain::EventId),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AppendError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Appends `draft` at the `expected` version, stamping `now` where it has no
/// `recorded_at`. `same` says whether an event already stored under its id
/// counts as this one (a retry): the command line compares every field, the
/// server everything but `by` and `recorded_at`, which it sets itself.
pub fn append_one(
    store: &dyn EventStore,
    draft: Draft,
    expected: Expected,
    policy: &Policy,
    now: DateTime<Utc>,
    same: &dyn Fn(&Draft, &Event) -> bool,
) -> Result<Appended, AppendError> {
    let mut tries = 0;
    loop {
        if let Some((seq, stored)) = store.lookup(draft.id)? {
            if !same(&draft, &stored) {
                return Err(AppendError::IdReused(draft.id));
            }
            let version = version_of(store.stream(stored.participant)?.len());
            return Ok(Appended {
                seq,
                version,
                event: stored,
                fresh: false,
            });
        }
        let entries = store.stream(draft.participant)?;
        let current = version_of(entries.len());
        if let Expected::Version(v) = expected
            && v != current
        {
            return Err(AppendError::Conflict {
                expected: v,
                current,
            });
        }
        let timeline = Timeline::from_entries(entries);
        let event = draft.clone().stamp(now);
        timeline
            .admit(&event, policy)
            .map_err(AppendError::Refused)?;
        let append = StreamAppend {
            participant: event.participant,
            expected_version: current,
            events: vec![event.clone()],
        };
        match store.append(&[append]) {
            Ok(done) => {
                return match (done.stored.first(), done.already.first()) {
                    (Some(&(seq, _)), _) => Ok(Appended {
                        seq,
                        version: current + 1,
                        event,
                        fresh: true,
                    }),
                    // Another writer stored the same id between our lookup and
                    // our write: look again, and answer as for a retry.
                    (None, Some(_)) => continue,
                    (None, None) => {
                        unreachable!("an append of one event stores it or finds it stored")
                    }
                };
            }
            Err(StoreError::Conflict { actual, .. }) => {
                if let Expected::Version(v) = expected {
                    return Err(AppendError::Conflict {
                        expected: v,
                        current: actual,
                    });
                }
                tries += 1;
                if tries >= RETRIES {
                    return Err(AppendError::Conflict {
                        expected: current,
                        current: actual,
                    });
                }
            }
            Err(StoreError::IdConflict { id }) => return Err(AppendError::IdReused(id)),
            Err(e) => return Err(e.into()),
        }
    }
}

fn version_of(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}
