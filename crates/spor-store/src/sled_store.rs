//! The event log on sled 0.34, in one tree, with key prefixes:
//!
//! ```text
//! 'L' seq u64 BE                         -> record (see record.rs)
//! 'S' participant [16] version u32 BE    -> seq u64 BE   (version counts from 1)
//! 'I' event id [16]                      -> seq u64 BE
//! ```
//!
//! One append is one `sled::Batch`, which sled applies atomically, also across
//! a crash. Durability is a leader-based group commit: after applying its
//! batch, a writer waits until some flush covers it; the first writer that
//! finds no flush running becomes the leader, flushes sled's buffers, calls
//! `fdatasync` on sled's log file, and wakes everyone its flush covered.
//! Concurrent writers thus share one fsync. If the flush or the fsync fails,
//! the store refuses every later write (no retry: after a failed fsync the
//! kernel may have dropped the dirty pages, so a retry can "succeed" on lost
//! data; PostgreSQL learnt this as "fsyncgate").

use std::collections::HashMap;
use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

use spor_domain::wire;
use spor_domain::{Event, EventId, ParticipantId};

use crate::dir::{self, HeadFile};
use crate::disk::{Disk, RealDisk};
use crate::record::{self, Hash};
use crate::{Appended, EventStore, Head, StoreError, StreamAppend};

const LOG: u8 = b'L';
const STREAM: u8 = b'S';
const ID: u8 = b'I';

/// How to open a data directory.
pub struct OpenOptions {
    /// Create the directory if it does not exist (for commands that write).
    pub create: bool,
    /// sled's page cache, in bytes.
    pub cache_capacity: u64,
    /// The durability calls; tests inject failures here.
    pub disk: Box<dyn Disk>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self { create: false, cache_capacity: 256 * 1024 * 1024, disk: Box::new(RealDisk) }
    }
}

/// The sled-backed event log. Share it between threads with `Arc`.
pub struct SledStore {
    dir: PathBuf,
    tree: sled::Db,
    /// sled's log file, opened once so the commit leader can `fdatasync` it.
    log_file: File,
    head_file: HeadFile,
    disk: Box<dyn Disk>,
    /// Serialises the apply step: sequence numbers, hash chain and stream
    /// versions advance together, under this lock only.
    writer: Mutex<Writer>,
    /// Group-commit state, and the condition writers wait on for their flush.
    commit: Mutex<Commit>,
    flushed: Condvar,
    /// Held for the life of the store; other processes get `InUse`.
    _lock: File,
}

struct Writer {
    head: Head,
    /// Stream versions seen so far (loaded from the index on first use).
    versions: HashMap<ParticipantId, u32>,
    /// Counts applied batches; a batch is durable once `Commit::durable` reaches it.
    applied: u64,
    /// Set once a flush failed: no batch may be applied after it.
    stopped: Option<String>,
}

struct Commit {
    durable: u64,
    flushing: bool,
    failed: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves no half-applied state that a
    // later writer could trust less than sled itself: sled batches are atomic.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SledStore {
    /// Opens (or with `create`, creates) the data directory.
    pub fn open(dir: &Path, options: OpenOptions) -> Result<Self, StoreError> {
        if !dir.exists() {
            if !options.create {
                return Err(StoreError::NotFound(dir.to_owned()));
            }
            std::fs::create_dir_all(dir)?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                File::open(parent)?.sync_all()?;
            }
        }
        let lock_file = dir::lock(dir)?;
        dir::check_format(dir)?;
        let sled_path = dir::sled_dir(dir);
        let corrupt = |what: String| StoreError::Corrupt { dir: dir.to_owned(), what };
        let config = sled::Config::new()
            .path(&sled_path)
            .cache_capacity(options.cache_capacity)
            .mode(sled::Mode::HighThroughput);
        // sled panics on some damaged files instead of returning an error;
        // either way the directory cannot be trusted.
        let tree = match catch_unwind(AssertUnwindSafe(|| config.open())) {
            Ok(Ok(db)) => db,
            Ok(Err(sled::Error::Io(e))) => return Err(StoreError::Io(e)),
            Ok(Err(e)) => return Err(corrupt(format!("sled could not open its files: {e}"))),
            Err(_) => return Err(corrupt("sled could not read its files".into())),
        };
        let log_file = File::open(sled_path.join("db"))?;
        File::open(&sled_path)?.sync_all()?;
        let head = match tree.scan_prefix([LOG]).next_back() {
            None => Head { seq: 0, hash: [0; 32] },
            Some(item) => {
                let (key, value) = item.map_err(|e| corrupt(e.to_string()))?;
                let seq = log_key_seq(&key).ok_or_else(|| corrupt("malformed log key".into()))?;
                let rec = record::decode(&value)
                    .map_err(|e| corrupt(format!("last record (seq {seq}): {e}")))?;
                if rec.seq != seq {
                    return Err(corrupt(format!("record at key {seq} says seq {}", rec.seq)));
                }
                Head { seq, hash: record::hash(&value) }
            }
        };
        let head_file = HeadFile::open(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            tree,
            log_file,
            head_file,
            disk: options.disk,
            writer: Mutex::new(Writer { head, versions: HashMap::new(), applied: 0, stopped: None }),
            commit: Mutex::new(Commit { durable: 0, flushing: false, failed: None }),
            flushed: Condvar::new(),
            _lock: lock_file,
        })
    }

    /// The directory this store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn tree(&self) -> &sled::Db {
        &self.tree
    }

    fn corrupt(&self, what: impl Into<String>) -> StoreError {
        StoreError::Corrupt { dir: self.dir.clone(), what: what.into() }
    }

    fn stream_version(&self, w: &mut Writer, p: ParticipantId) -> Result<u32, StoreError> {
        if let Some(v) = w.versions.get(&p) {
            return Ok(*v);
        }
        let v = match self.tree.scan_prefix(stream_prefix(p)).next_back() {
            None => 0,
            Some(item) => {
                let (key, _) = item.map_err(sled_err)?;
                let bytes: [u8; 4] = key[17..21]
                    .try_into()
                    .map_err(|_| self.corrupt("malformed stream index key"))?;
                u32::from_be_bytes(bytes)
            }
        };
        w.versions.insert(p, v);
        Ok(v)
    }

    fn read_seq(&self, seq: u64) -> Result<Event, StoreError> {
        let bytes = self
            .tree
            .get(log_key(seq))
            .map_err(sled_err)?
            .ok_or_else(|| self.corrupt(format!("index points at seq {seq}, which is missing")))?;
        self.decode_event(seq, &bytes)
    }

    fn decode_event(&self, seq: u64, bytes: &[u8]) -> Result<Event, StoreError> {
        let rec = record::decode(bytes).map_err(|e| self.corrupt(format!("seq {seq}: {e}")))?;
        if rec.seq != seq {
            return Err(self.corrupt(format!("record at seq {seq} says seq {}", rec.seq)));
        }
        wire::parse_stored(rec.payload).map_err(|e| self.corrupt(format!("seq {seq}: {e}")))
    }

    /// Waits until a flush covers batch `generation`, leading one if none runs.
    fn wait_durable(&self, generation: u64) -> Result<(), StoreError> {
        let mut c = lock(&self.commit);
        loop {
            if c.durable >= generation {
                return Ok(());
            }
            if let Some(why) = &c.failed {
                return Err(StoreError::Stopped(why.clone()));
            }
            if c.flushing {
                c = self.flushed.wait(c).unwrap_or_else(std::sync::PoisonError::into_inner);
                continue;
            }
            c.flushing = true;
            drop(c);
            let (target, head) = {
                let w = lock(&self.writer);
                (w.applied, w.head)
            };
            let result = self
                .disk
                .flush_log(&self.tree)
                .and_then(|()| self.disk.sync_data(&self.log_file));
            if result.is_ok() {
                // A hint for verify; the log is already durable, so a failure
                // here loses nothing and is only logged.
                if let Err(e) = self.head_file.write(head) {
                    tracing::warn!(error = %e, "could not update spor.head");
                }
            }
            c = lock(&self.commit);
            c.flushing = false;
            match result {
                Ok(()) => c.durable = c.durable.max(target),
                Err(e) => {
                    let why = e.to_string();
                    tracing::error!(error = %why, "flush to disk failed; refusing all further writes");
                    c.failed = Some(why.clone());
                    lock(&self.writer).stopped = Some(why);
                }
            }
            self.flushed.notify_all();
        }
    }
}

impl EventStore for SledStore {
    fn append(&self, appends: &[StreamAppend]) -> Result<Appended, StoreError> {
        let mut outcome = Appended::default();
        let generation = {
            let mut w = lock(&self.writer);
            if let Some(why) = &w.stopped {
                return Err(StoreError::Stopped(why.clone()));
            }
            let mut batch = sled::Batch::default();
            let mut head = w.head;
            let mut versions: HashMap<ParticipantId, u32> = HashMap::new();
            let mut ids_in_batch: HashMap<EventId, ()> = HashMap::new();
            for a in appends {
                let mut fresh = Vec::with_capacity(a.events.len());
                for e in &a.events {
                    if e.participant != a.participant {
                        return Err(StoreError::WrongStream {
                            id: e.id,
                            participant: a.participant,
                            stream: e.participant,
                        });
                    }
                    if let Some((seq, stored)) = self.lookup(e.id)? {
                        if stored == *e {
                            outcome.already.push((seq, e.id));
                            continue;
                        }
                        return Err(StoreError::IdConflict { id: e.id });
                    }
                    if ids_in_batch.insert(e.id, ()).is_some() {
                        return Err(StoreError::IdConflict { id: e.id });
                    }
                    fresh.push(e);
                }
                if fresh.is_empty() {
                    continue;
                }
                let actual = match versions.get(&a.participant) {
                    Some(v) => *v,
                    None => self.stream_version(&mut w, a.participant)?,
                };
                if actual != a.expected_version {
                    return Err(StoreError::Conflict {
                        participant: a.participant,
                        expected: a.expected_version,
                        actual,
                    });
                }
                let mut version = actual;
                for e in fresh {
                    let seq = head.seq + 1;
                    version += 1;
                    let bytes = record::encode(seq, &head.hash, &wire::to_line(e));
                    head = Head { seq, hash: record::hash(&bytes) };
                    batch.insert(&log_key(seq)[..], bytes);
                    batch.insert(&stream_key(a.participant, version)[..], &seq.to_be_bytes()[..]);
                    batch.insert(&id_key(e.id)[..], &seq.to_be_bytes()[..]);
                    outcome.stored.push((seq, e.id));
                }
                versions.insert(a.participant, version);
            }
            if outcome.stored.is_empty() {
                return Ok(outcome);
            }
            self.tree.apply_batch(batch).map_err(sled_err)?;
            w.head = head;
            w.versions.extend(versions);
            w.applied += 1;
            w.applied
        };
        self.wait_durable(generation)?;
        Ok(outcome)
    }

    fn lookup(&self, id: EventId) -> Result<Option<(u64, Event)>, StoreError> {
        let Some(seq) = self.tree.get(id_key(id)).map_err(sled_err)? else {
            return Ok(None);
        };
        let seq = seq_value(&seq).ok_or_else(|| self.corrupt("malformed id index value"))?;
        Ok(Some((seq, self.read_seq(seq)?)))
    }

    fn stream(&self, participant: ParticipantId) -> Result<Vec<(u64, Event)>, StoreError> {
        let mut out = Vec::new();
        for item in self.tree.scan_prefix(stream_prefix(participant)) {
            let (_, v) = item.map_err(sled_err)?;
            let seq = seq_value(&v).ok_or_else(|| self.corrupt("malformed stream index value"))?;
            out.push((seq, self.read_seq(seq)?));
        }
        Ok(out)
    }

    fn scan(
        &self,
        from: u64,
        f: &mut dyn FnMut(u64, Event) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for item in self.tree.range(log_key(from)..log_key(u64::MAX)) {
            let (k, v) = item.map_err(sled_err)?;
            let seq = log_key_seq(&k).ok_or_else(|| self.corrupt("malformed log key"))?;
            f(seq, self.decode_event(seq, &v)?)?;
        }
        Ok(())
    }

    fn scan_lines(
        &self,
        f: &mut dyn FnMut(u64, &str) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for item in self.tree.scan_prefix([LOG]) {
            let (k, v) = item.map_err(sled_err)?;
            let seq = log_key_seq(&k).ok_or_else(|| self.corrupt("malformed log key"))?;
            let rec = record::decode(&v).map_err(|e| self.corrupt(format!("seq {seq}: {e}")))?;
            f(seq, rec.payload)?;
        }
        Ok(())
    }

    fn head(&self) -> Head {
        lock(&self.writer).head
    }
}

fn sled_err(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(io) => StoreError::Io(io),
        other => StoreError::Io(std::io::Error::other(other.to_string())),
    }
}

pub(crate) fn log_key(seq: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = LOG;
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

pub(crate) fn log_key_seq(key: &[u8]) -> Option<u64> {
    if key.len() != 9 || key[0] != LOG {
        return None;
    }
    Some(u64::from_be_bytes(key[1..9].try_into().ok()?))
}

fn stream_prefix(p: ParticipantId) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = STREAM;
    k[1..].copy_from_slice(p.0.as_bytes());
    k
}

pub(crate) fn stream_key(p: ParticipantId, version: u32) -> [u8; 21] {
    let mut k = [0u8; 21];
    k[..17].copy_from_slice(&stream_prefix(p));
    k[17..].copy_from_slice(&version.to_be_bytes());
    k
}

pub(crate) fn id_key(id: EventId) -> [u8; 17] {
    let mut k = [0u8; 17];
    k[0] = ID;
    k[1..].copy_from_slice(id.0.as_bytes());
    k
}

pub(crate) fn seq_value(v: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(v.try_into().ok()?))
}

pub(crate) const PREFIX_LOG: u8 = LOG;
pub(crate) const PREFIX_STREAM: u8 = STREAM;
pub(crate) const PREFIX_ID: u8 = ID;

/// The genesis hash: the `prev_hash` of the first record.
pub(crate) const GENESIS: Hash = [0; 32];
