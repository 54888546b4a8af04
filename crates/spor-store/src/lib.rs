//! The append-only event log.
//!
//! Holds: the [`EventStore`] trait the rest of spor writes and reads through,
//! and its embedded implementation on sled ([`SledStore`]): a gap-free global
//! sequence, per-participant streams with versions, idempotency by event id,
//! checksummed records in a hash chain, durable group commits, and `verify`.
//!
//! Never: decide whether an event is valid (that is `spor-domain`), keep
//! projections, or retry a failed fsync. An append is acknowledged only after
//! an fsync that covers it; after a failed fsync the store refuses all writes.

pub mod audit;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod dir;
pub mod disk;
pub mod publications;
pub mod record;
mod sled_store;
pub mod verify;

use std::path::PathBuf;

use spor_domain::{Event, EventId, ParticipantId};

pub use audit::{AuditCheck, AuditEntry, AuditLog, AuditTrail};
pub use disk::{Disk, RealDisk};
pub use sled_store::{OpenOptions, SledStore};
pub use verify::{Finding, VerifyReport};

/// The events of one stream to append, with the version the writer read.
#[derive(Debug, Clone)]
pub struct StreamAppend {
    pub participant: ParticipantId,
    /// The stream's version (number of events) when the writer read it.
    pub expected_version: u32,
    pub events: Vec<Event>,
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Appended {
    /// Sequence numbers given to the new events, in order.
    pub stored: Vec<(u64, EventId)>,
    /// Events that were already stored with the same content (no-op).
    pub already: Vec<(u64, EventId)>,
}

/// The head of the log: the last sequence number and its record's hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: record::Hash,
}

impl Head {
    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash)
    }
}

/// What can go wrong in a store, whatever the backend. The messages say what
/// happened; a front end adds what to do about it (the CLI maps each kind to
/// an exit code and a hint, the server to a status code).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no store at {0}")]
    NotFound(PathBuf),
    /// A store is begun only in an empty or missing directory.
    #[error(
        "{0} holds other files and no store; a new store is begun only in an empty or missing directory"
    )]
    NotAStore(PathBuf),
    #[error("the store at {0} is in use by another spor process")]
    InUse(PathBuf),
    #[error("the store at {dir} has format {found}; this spor reads format {supported}")]
    NewerFormat {
        dir: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("the store at {dir} is damaged: {what}")]
    Corrupt { dir: PathBuf, what: String },
    #[error(
        "participant {participant}: expected version {expected}, but the stream is at {actual}; another change came first, read again and retry"
    )]
    Conflict {
        participant: ParticipantId,
        expected: u32,
        actual: u32,
    },
    #[error("{id} is already stored with other content; an id names one event forever")]
    IdConflict { id: EventId },
    #[error("{id} belongs to participant {stream}, not {participant}")]
    WrongStream {
        id: EventId,
        participant: ParticipantId,
        stream: ParticipantId,
    },
    #[error(
        "writes are stopped: an earlier write or flush to disk failed ({0}); nothing after it was acknowledged"
    )]
    Stopped(String),
    #[error("disk I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The storage seam: what spor needs from a log, so that another backend can
/// be added without touching the domain or the projections.
pub trait EventStore: Send + Sync {
    /// Appends events to streams, all or nothing, and returns once they are
    /// durable. Events whose id is already stored with the same content are
    /// skipped; with other content the whole append is refused.
    fn append(&self, appends: &[StreamAppend]) -> Result<Appended, StoreError>;

    /// The stored event with this id, and its sequence number.
    fn lookup(&self, id: EventId) -> Result<Option<(u64, Event)>, StoreError>;

    /// Every event of a stream, in recording order.
    fn stream(&self, participant: ParticipantId) -> Result<Vec<(u64, Event)>, StoreError>;

    /// The participants whose id, as 32 lower-case hexadecimal digits
    /// without dashes, begins with `prefix` (given in that form), in id
    /// order, at most `limit` of them: how a person types a short id.
    fn participants_starting_with(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<ParticipantId>, StoreError>;

    /// Every event from sequence number `from` on, in order, to `f`.
    fn scan(
        &self,
        from: u64,
        f: &mut dyn FnMut(u64, Event) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// Every stored line (the canonical interchange form) in order, to `f`.
    fn scan_lines(
        &self,
        f: &mut dyn FnMut(u64, &str) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// The head of the log.
    fn head(&self) -> Head;

    /// Appends many events that must land whole or not at all, across a
    /// crash too (reliability D2), in the batches `batches` yields (each one
    /// durable commit, so memory stays bounded); `durable` hears how many
    /// events each batch carried once it is durable. Each backend makes it
    /// whole its own way: the sled store marks the import begun and rolls
    /// back one that never ended when it next opens; a database uses one
    /// transaction. Only for a writer that is alone, as an import is.
    fn append_all(
        &self,
        batches: &mut dyn Iterator<Item = Vec<StreamAppend>>,
        durable: &mut dyn FnMut(usize),
    ) -> Result<Appended, StoreError>;
}
