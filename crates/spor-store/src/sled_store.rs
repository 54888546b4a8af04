//! The event log: records in an append-only file of spor's own
//! (`DIR/spor.log`), indexes in sled 0.34.
//!
//! ```text
//! spor.log   record, record, record, …          (see record.rs; seq 1, 2, 3, …)
//! sled tree  'I' event id [16]                    -> seq u64 BE
//!            'M' "applied"                        -> seq u64 BE   (the id index covers seq 1..=this)
//! memory     participant -> [seq, …]              (built from the log at open)
//! ```
//!
//! Why a file of our own: an acknowledged append must survive power loss,
//! which takes an `fdatasync` covering it. sled's `flush()` writes many small
//! buffers, each followed by a `sync_file_range` that waits for the disk, so a
//! durable sled write costs several device round trips. The log file gets one
//! `pwrite` and one `fdatasync` per group commit, the least any durable log can
//! do. sled keeps what it is good at: the id index, updated after the log is
//! durable and flushed by sled in the background. After a crash the index may
//! lag the log; opening replays the missing part (the log is the truth, the
//! index is derived from it). The stream index (which records belong to which
//! participant) is rebuilt in memory while opening reads the log anyway: the
//! participant stands at a fixed place in every canonical line.
//!
//! Group commit is leader-based: a writer appends its records to the file
//! under a short lock, then waits until some `fdatasync` covers them; the first
//! waiter that finds no sync running becomes the leader, syncs, applies the
//! covered records to the indexes and wakes everyone its sync covered. No
//! committer thread, so a lone writer pays no hand-off. If a write or a sync
//! fails, the store refuses every later write and never retries: after a
//! failed fsync the kernel may have dropped the dirty pages, so a retry can
//! "succeed" on lost data (PostgreSQL's "fsyncgate").

use std::collections::HashMap;
use std::fs::{File, OpenOptions as FsOpenOptions};
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

use spor_domain::wire;
use spor_domain::{Event, EventId, ParticipantId};

use crate::dir::{self, HeadFile, HeadFileState};
use crate::disk::{Disk, RealDisk};
use crate::record::{self, Hash};
use crate::{Appended, EventStore, Head, StoreError, StreamAppend};

const ID: u8 = b'I';
const META_APPLIED: &[u8] = b"Mapplied";
pub(crate) const LOG_FILE: &str = "spor.log";

/// How to open a data directory.
pub struct OpenOptions {
    /// Create the directory if it does not exist (for commands that write).
    pub create: bool,
    /// sled's page cache, in bytes.
    pub cache_capacity: u64,
    /// The write and sync calls; tests inject failures here.
    pub disk: Box<dyn Disk>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self { create: false, cache_capacity: 64 * 1024 * 1024, disk: Box::new(RealDisk) }
    }
}

/// The event log with its sled indexes. Share it between threads with `Arc`.
pub struct SledStore {
    dir: PathBuf,
    /// The indexes.
    tree: sled::Db,
    /// The log file, opened for appending at known offsets and for `pread`.
    log: File,
    head_file: HeadFile,
    disk: Box<dyn Disk>,
    /// Serialises writing: sequence numbers, the hash chain, file offsets and
    /// stream versions advance together, under this lock only.
    writer: Mutex<Writer>,
    /// Group-commit state, and the condition writers wait on for their sync.
    commit: Mutex<Commit>,
    synced: Condvar,
    /// Serialises moving durable records into the sled index, which happens
    /// after a sync and outside the commit lock.
    indexing: Mutex<()>,
    /// Held for the life of the store; other processes get `InUse`.
    _lock: File,
}

struct Writer {
    head: Head,
    /// Where the next record goes.
    end: u64,
    /// File offset of each record: `offsets[seq - 1]`.
    offsets: Vec<u64>,
    /// Every stream's records in order; a stream's version is its length.
    streams: HashMap<ParticipantId, Vec<u64>>,
    /// Records in the file but not yet in the indexes, in sequence order.
    pending: Vec<Pending>,
    pending_ids: HashMap<EventId, u64>,
    /// Counts appends written to the file; one is durable once `Commit::durable` reaches it.
    written: u64,
    /// Set once a write or sync failed: nothing may be written after it.
    stopped: Option<String>,
}

struct Pending {
    seq: u64,
    id: EventId,
}

struct Commit {
    durable: u64,
    syncing: bool,
    failed: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave a half-written record
    // that a later reader trusts: records are checked on every read.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SledStore {
    /// Opens (or with `create`, creates) the data directory, recovering from
    /// a crash: a torn record at the end of the log that was never
    /// acknowledged is cut off, and the indexes are brought up to the log.
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
        let corrupt = |what: String| StoreError::Corrupt { dir: dir.to_owned(), what };
        let log_path = dir.join(LOG_FILE);
        let new_log = !log_path.exists();
        if new_log && dir::sled_dir(dir).exists() {
            return Err(corrupt(format!("{} is missing", log_path.display())));
        }
        let log = FsOpenOptions::new().create(true).truncate(false).read(true).write(true).open(&log_path)?;
        if new_log {
            log.sync_all()?;
            File::open(dir)?.sync_all()?;
        }
        let head_state = dir::read_head_file(dir);
        let scan = scan_log(&log, head_state).map_err(|e| match e {
            ScanError::Io(e) => StoreError::Io(e),
            ScanError::Corrupt(what) => corrupt(what),
        })?;
        if let Some(torn_at) = scan.torn_at {
            tracing::warn!(offset = torn_at, "cutting off a torn, unacknowledged record at the end of the log");
            log.set_len(torn_at)?;
            log.sync_all()?;
        }
        let config = sled::Config::new()
            .path(dir::sled_dir(dir))
            .cache_capacity(options.cache_capacity)
            .mode(sled::Mode::HighThroughput);
        // sled panics on some damaged files instead of returning an error;
        // either way its files cannot be trusted.
        // sled releases its own file lock only when its background threads
        // have ended, a moment after the previous store in this process was
        // dropped (sled#1289); our lock above already excludes other
        // processes, so a held sled lock here is that moment: wait it out.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let opened = loop {
            let attempt = catch_unwind(AssertUnwindSafe(|| config.open()));
            match &attempt {
                Ok(Err(sled::Error::Io(e)))
                    if e.to_string().contains("could not acquire lock") && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                _ => break attempt,
            }
        };
        let tree = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(sled::Error::Io(e))) => return Err(StoreError::Io(e)),
            Ok(Err(e)) => return Err(corrupt(format!("the indexes (sled) could not be opened: {e}"))),
            Err(_) => return Err(corrupt("the indexes (sled) could not be read".into())),
        };
        let head = scan.head;
        let store = Self {
            dir: dir.to_owned(),
            tree,
            log,
            head_file: HeadFile::open(dir)?,
            disk: options.disk,
            writer: Mutex::new(Writer {
                head,
                end: scan.end,
                offsets: scan.offsets,
                streams: scan.streams,
                pending: Vec::new(),
                pending_ids: HashMap::new(),
                written: 0,
                stopped: None,
            }),
            commit: Mutex::new(Commit { durable: 0, syncing: false, failed: None }),
            synced: Condvar::new(),
            indexing: Mutex::new(()),
            _lock: lock_file,
        };
        store.catch_up_indexes()?;
        store.roll_back_unfinished_import()?;
        Ok(store)
    }

    /// An import that began but never ended (a crash, a kill) is rolled
    /// back: its ids leave the index, the head file goes back to the head
    /// before it, the log is cut where it began, and only then is the marker
    /// removed. Each step is durable before the next, and each is harmless
    /// to repeat, so a crash during the rollback is rolled back again.
    fn roll_back_unfinished_import(&self) -> Result<(), StoreError> {
        let path = self.dir.join(IMPORT_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::Io(e)),
        };
        let mark = ImportMark::parse(&text)
            .ok_or_else(|| self.corrupt(format!("{} is unreadable; it marks an import that did not end", path.display())))?;
        let (head, first_offset) = {
            let w = lock(&self.writer);
            (w.head, w.offsets.get(usize::try_from(mark.start - 1).unwrap_or(usize::MAX)).copied())
        };
        // The marker must describe this log: the import's first record where
        // it says, chained to the head it says (or, if nothing of the import
        // was written, the log ending where it began).
        let matches = match first_offset {
            Some(offset) => {
                let mut header = [0u8; record::HEADER];
                self.log.read_exact_at(&mut header, offset)?;
                offset == mark.offset && header[10..42] == mark.hash
            }
            None => mark.start == head.seq + 1 && mark.offset == lock(&self.writer).end && mark.hash == head.hash,
        };
        if !matches {
            return Err(self.corrupt(format!(
                "{} marks an import from seq {} at offset {}, which does not match the log",
                path.display(),
                mark.start,
                mark.offset
            )));
        }
        if mark.start <= head.seq {
            tracing::warn!(from = mark.start, to = head.seq, "rolling back an import that did not end");
            let mut batch = sled::Batch::default();
            self.scan(mark.start, &mut |_, event| {
                batch.remove(&id_key(event.id)[..]);
                Ok(())
            })?;
            batch.insert(META_APPLIED, &(mark.start - 1).to_be_bytes()[..]);
            self.tree.apply_batch(batch).map_err(|e| self.sled_err(e))?;
            self.tree.flush().map_err(|e| self.sled_err(e))?;
            let before = Head { seq: mark.start - 1, hash: mark.hash };
            self.head_file.write(before)?;
            self.head_file.sync()?;
            self.log.set_len(mark.offset)?;
            self.log.sync_all()?;
            let mut w = lock(&self.writer);
            w.head = before;
            w.end = mark.offset;
            w.offsets.truncate(usize::try_from(mark.start - 1).unwrap_or(usize::MAX));
            w.streams.retain(|_, seqs| {
                seqs.retain(|s| *s < mark.start);
                !seqs.is_empty()
            });
        }
        std::fs::remove_file(&path)?;
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }

    /// The directory this store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn tree(&self) -> &sled::Db {
        &self.tree
    }

    /// The sled database of this directory, for what else lives in it under
    /// trees of its own (accounts, tokens, sessions). sled locks a directory
    /// to one process, so they cannot have a database of their own beside it.
    pub fn sled(&self) -> &sled::Db {
        &self.tree
    }

    fn corrupt(&self, what: impl Into<String>) -> StoreError {
        StoreError::Corrupt { dir: self.dir.clone(), what: what.into() }
    }

    /// The last sequence number the indexes cover.
    fn applied(&self) -> Result<u64, StoreError> {
        match self.tree.get(META_APPLIED).map_err(|e| self.sled_err(e))? {
            None => Ok(0),
            Some(v) => seq_value(&v).ok_or_else(|| self.corrupt("malformed index watermark")),
        }
    }

    /// Replays records the indexes do not cover yet (sled flushes in the
    /// background, so a crash can leave them behind the log).
    fn catch_up_indexes(&self) -> Result<(), StoreError> {
        let applied = self.applied()?;
        let head = lock(&self.writer).head.seq;
        if applied > head {
            return Err(self.corrupt(format!(
                "the indexes cover seq {applied}, but the log ends at seq {head}: records are missing from the log"
            )));
        }
        if applied == head {
            return Ok(());
        }
        tracing::info!(from = applied + 1, to = head, "bringing the id index up to the log");
        let mut batch = sled::Batch::default();
        let mut in_batch = 0usize;
        let mut last = applied;
        self.scan(applied + 1, &mut |seq, event| {
            batch.insert(&id_key(event.id)[..], &seq.to_be_bytes()[..]);
            in_batch += 1;
            last = seq;
            if in_batch >= 50_000 {
                batch.insert(META_APPLIED, &last.to_be_bytes()[..]);
                self.tree.apply_batch(std::mem::take(&mut batch)).map_err(|e| self.sled_err(e))?;
                in_batch = 0;
            }
            Ok(())
        })?;
        batch.insert(META_APPLIED, &last.to_be_bytes()[..]);
        self.tree.apply_batch(batch).map_err(|e| self.sled_err(e))?;
        self.tree.flush().map_err(|e| self.sled_err(e))?;
        Ok(())
    }

    fn stream_version(w: &Writer, p: ParticipantId) -> u32 {
        w.streams.get(&p).map_or(0, |s| u32::try_from(s.len()).unwrap_or(u32::MAX))
    }

    /// A copy of the in-memory stream index, for verify.
    pub(crate) fn stream_index(&self) -> HashMap<ParticipantId, Vec<u64>> {
        lock(&self.writer).streams.clone()
    }

    /// The encoded record `seq` (checked).
    fn read_record(&self, seq: u64) -> Result<Vec<u8>, StoreError> {
        let w = lock(&self.writer);
        let offset = self.offset_of(&w, seq)?;
        drop(w);
        self.read_at(seq, offset)
    }

    /// Where record `seq` starts in the log file.
    fn offset_of(&self, w: &Writer, seq: u64) -> Result<u64, StoreError> {
        let i = usize::try_from(seq.checked_sub(1).ok_or_else(|| self.corrupt("seq 0 asked for"))?)
            .unwrap_or(usize::MAX);
        w.offsets.get(i).copied().ok_or_else(|| self.corrupt(format!("index points at seq {seq}, past the log's end")))
    }

    /// The encoded record `seq` at `offset`: its header says how long it is.
    fn read_at(&self, seq: u64, offset: u64) -> Result<Vec<u8>, StoreError> {
        let mut header = [0u8; record::HEADER];
        self.log.read_exact_at(&mut header, offset)?;
        let len = record::payload_len(&header).map_err(|e| self.corrupt(format!("seq {seq}: {e}")))?;
        let mut bytes = vec![0u8; record::HEADER + len + record::TRAILER];
        self.log.read_exact_at(&mut bytes, offset)?;
        Ok(bytes)
    }

    fn read_event(&self, seq: u64) -> Result<Event, StoreError> {
        let bytes = self.read_record(seq)?;
        self.decode_event(seq, &bytes)
    }

    fn decode_event(&self, seq: u64, bytes: &[u8]) -> Result<Event, StoreError> {
        let rec = record::decode(bytes).map_err(|e| self.corrupt(format!("seq {seq}: {e}")))?;
        if rec.seq != seq {
            return Err(self.corrupt(format!("record at seq {seq} says seq {}", rec.seq)));
        }
        wire::parse_stored(rec.payload).map_err(|e| self.corrupt(format!("seq {seq}: {e}")))
    }

    fn stop(&self, w: &mut Writer, why: String) {
        tracing::error!(error = %why, "writing the log failed; refusing all further writes");
        w.stopped = Some(why.clone());
        let mut c = lock(&self.commit);
        c.failed.get_or_insert(why);
        self.synced.notify_all();
    }

    /// Waits until an fsync covers append `generation`, leading one if none runs.
    fn wait_durable(&self, generation: u64) -> Result<(), StoreError> {
        let mut c = lock(&self.commit);
        loop {
            if c.durable >= generation {
                return Ok(());
            }
            if let Some(why) = &c.failed {
                return Err(StoreError::Stopped(why.clone()));
            }
            if c.syncing {
                c = self.synced.wait(c).unwrap_or_else(std::sync::PoisonError::into_inner);
                continue;
            }
            c.syncing = true;
            drop(c);
            let (target, head) = {
                let w = lock(&self.writer);
                (w.written, w.head)
            };
            let result = self.disk.sync_data(&self.log);
            if result.is_ok() {
                // A hint for verify and recovery; the log is already durable,
                // so a failure here loses nothing.
                if let Err(e) = self.head_file.write(head) {
                    tracing::warn!(error = %e, "could not update spor.head");
                }
            }
            c = lock(&self.commit);
            c.syncing = false;
            let synced = match result {
                Ok(()) => {
                    c.durable = c.durable.max(target);
                    true
                }
                Err(e) => {
                    let why = e.to_string();
                    tracing::error!(error = %why, "sync of the log failed; refusing all further writes");
                    c.failed = Some(why.clone());
                    drop(c);
                    lock(&self.writer).stopped = Some(why);
                    c = lock(&self.commit);
                    false
                }
            };
            self.synced.notify_all();
            if synced {
                // Index what this sync made durable, off the commit path: the
                // next sync may already be running. One indexer at a time.
                drop(c);
                let indexed = {
                    let _one = lock(&self.indexing);
                    self.apply_indexes(head.seq)
                };
                if let Err(e) = indexed {
                    let why = e.to_string();
                    tracing::error!(error = %why, "updating the id index failed; refusing all further writes");
                    lock(&self.writer).stopped = Some(why.clone());
                    let mut failed = lock(&self.commit);
                    failed.failed.get_or_insert(why);
                    self.synced.notify_all();
                }
                c = lock(&self.commit);
            }
        }
    }

    /// Moves durable records up to `upto` from pending into the sled index.
    /// Writers keep appending meanwhile: the records stay visible as pending
    /// until sled has them, and one indexer at a time drains.
    fn apply_indexes(&self, upto: u64) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        let (n, last) = {
            let w = lock(&self.writer);
            let n = w.pending.partition_point(|p| p.seq <= upto);
            if n == 0 {
                return Ok(());
            }
            for p in &w.pending[..n] {
                batch.insert(&id_key(p.id)[..], &p.seq.to_be_bytes()[..]);
            }
            (n, w.pending[n - 1].seq)
        };
        batch.insert(META_APPLIED, &last.to_be_bytes()[..]);
        self.tree.apply_batch(batch).map_err(|e| self.sled_err(e))?;
        let mut w = lock(&self.writer);
        let done: Vec<Pending> = w.pending.drain(..n).collect();
        for p in done {
            w.pending_ids.remove(&p.id);
        }
        Ok(())
    }
}

/// The marker file of an import in progress (see [`SledStore::begin_import`]).
const IMPORT_FILE: &str = "spor.import";

/// What the marker says: the first sequence number of the import, the log's
/// length and the head's hash before it.
struct ImportMark {
    start: u64,
    offset: u64,
    hash: Hash,
}

impl ImportMark {
    fn text(&self) -> String {
        format!("spor import in progress\n{} {} {}\n", self.start, self.offset, hex::encode(self.hash))
    }

    fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        (lines.next()? == "spor import in progress").then_some(())?;
        let mut fields = lines.next()?.split(' ');
        let start = fields.next()?.parse().ok().filter(|s| *s >= 1)?;
        let offset = fields.next()?.parse().ok()?;
        let hash = hex::decode(fields.next()?).ok()?.try_into().ok()?;
        Some(Self { start, offset, hash })
    }
}

impl SledStore {
    /// Marks the start of an import that must land whole: until
    /// [`SledStore::end_import`], a crash rolls back everything appended
    /// since, when the store is next opened. [`EventStore::append_all`] is
    /// built on this pair; tests call it directly to leave an import unended.
    pub fn begin_import(&self) -> Result<(), StoreError> {
        let path = self.dir.join(IMPORT_FILE);
        if path.exists() {
            // Another import of this process failed part-way; it is rolled
            // back when the store is next opened, and must stay so.
            return Err(StoreError::Io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("{} marks an import that did not end; reopen the data directory to roll it back", path.display()),
            )));
        }
        let mark = {
            let w = lock(&self.writer);
            ImportMark { start: w.head.seq + 1, offset: w.end, hash: w.head.hash }
        };
        dir::write_atomically(&path, mark.text().as_bytes())?;
        Ok(())
    }

    /// The import begun has landed whole; nothing will be rolled back.
    pub fn end_import(&self) -> Result<(), StoreError> {
        std::fs::remove_file(self.dir.join(IMPORT_FILE))?;
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }

}

impl EventStore for SledStore {
    fn append_all(
        &self,
        batches: &mut dyn Iterator<Item = Vec<StreamAppend>>,
        durable: &mut dyn FnMut(usize),
    ) -> Result<Appended, StoreError> {
        let mut batches = batches.peekable();
        let mut done = Appended::default();
        let Some(first) = batches.next() else { return Ok(done) };
        // One event needs no marker: one append is whole by itself.
        let single = batches.peek().is_none() && first.iter().map(|a| a.events.len()).sum::<usize>() <= 1;
        if !single {
            self.begin_import()?;
        }
        for batch in std::iter::once(first).chain(batches) {
            let n = batch.iter().map(|a| a.events.len()).sum();
            let out = match self.append(&batch) {
                Ok(out) => out,
                // A refused batch (a conflict, an id) is rolled back at once,
                // so the store is whole again and the next import may begin.
                // After a failed write or sync nothing may touch the log: the
                // marker stays, and the next open rolls it back.
                Err(e) if single => return Err(e),
                Err(e @ (StoreError::Stopped(_) | StoreError::Io(_))) => return Err(e),
                Err(e) => {
                    self.roll_back_unfinished_import()?;
                    return Err(e);
                }
            };
            done.stored.extend(out.stored);
            done.already.extend(out.already);
            durable(n);
        }
        if !single {
            self.end_import()?;
        }
        Ok(done)
    }

    fn append(&self, appends: &[StreamAppend]) -> Result<Appended, StoreError> {
        let mut outcome = Appended::default();
        let generation = {
            let mut w = lock(&self.writer);
            if let Some(why) = &w.stopped {
                return Err(StoreError::Stopped(why.clone()));
            }
            let mut buffer: Vec<u8> = Vec::new();
            let mut head = w.head;
            let mut offsets: Vec<u64> = Vec::new();
            let mut new_pending: Vec<Pending> = Vec::new();
            let mut new_streams: Vec<(ParticipantId, u64)> = Vec::new();
            let mut versions: HashMap<ParticipantId, u32> = HashMap::new();
            let mut ids_in_batch: HashMap<EventId, ()> = HashMap::new();
            for a in appends {
                let mut fresh = Vec::with_capacity(a.events.len());
                for e in &a.events {
                    if e.participant != a.participant {
                        return Err(StoreError::WrongStream { id: e.id, participant: a.participant, stream: e.participant });
                    }
                    if let Some(seq) = self.seq_of(&w, e.id)? {
                        if self.read_event_locked(&w, seq)? == *e {
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
                    None => Self::stream_version(&w, a.participant),
                };
                if actual != a.expected_version {
                    return Err(StoreError::Conflict { participant: a.participant, expected: a.expected_version, actual });
                }
                let mut version = actual;
                for e in fresh {
                    let seq = head.seq + 1;
                    version += 1;
                    let bytes = record::encode(seq, &head.hash, &wire::to_line(e));
                    head = Head { seq, hash: record::hash(&bytes) };
                    offsets.push(w.end + u64::try_from(buffer.len()).unwrap_or(u64::MAX));
                    buffer.extend_from_slice(&bytes);
                    new_pending.push(Pending { seq, id: e.id });
                    new_streams.push((a.participant, seq));
                    outcome.stored.push((seq, e.id));
                }
                versions.insert(a.participant, version);
            }
            if outcome.stored.is_empty() {
                return Ok(outcome);
            }
            if let Err(e) = self.disk.write_at(&self.log, &buffer, w.end) {
                // Part of the buffer may be in the file: nothing after it may
                // be written, and the next open cuts the torn tail off.
                self.stop(&mut w, e.to_string());
                return Err(StoreError::Stopped(e.to_string()));
            }
            w.end += u64::try_from(buffer.len()).unwrap_or(u64::MAX);
            w.head = head;
            w.offsets.extend(offsets);
            for (p, seq) in new_streams {
                w.streams.entry(p).or_default().push(seq);
            }
            for p in &new_pending {
                w.pending_ids.insert(p.id, p.seq);
            }
            w.pending.extend(new_pending);
            w.written += 1;
            w.written
        };
        self.wait_durable(generation)?;
        Ok(outcome)
    }

    fn lookup(&self, id: EventId) -> Result<Option<(u64, Event)>, StoreError> {
        let seq = {
            let w = lock(&self.writer);
            self.seq_of(&w, id)?
        };
        match seq {
            None => Ok(None),
            Some(seq) => Ok(Some((seq, self.read_event(seq)?))),
        }
    }

    fn stream(&self, participant: ParticipantId) -> Result<Vec<(u64, Event)>, StoreError> {
        let seqs = lock(&self.writer).streams.get(&participant).cloned().unwrap_or_default();
        seqs.into_iter().map(|seq| Ok((seq, self.read_event(seq)?))).collect()
    }

    fn scan(&self, from: u64, f: &mut dyn FnMut(u64, Event) -> Result<(), StoreError>) -> Result<(), StoreError> {
        // Reading, checking and parsing run in a thread of their own, a chunk
        // ahead of `f`, so a rebuild uses both cores. The channel is bounded:
        // at most a few chunks are in memory at once.
        const CHUNK: usize = 2048;
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<(u64, Event)>, StoreError>>(4);
            let reader = scope.spawn(move || {
                let mut chunk = Vec::with_capacity(CHUNK);
                let read = self.scan_records(from, &mut |seq, payload| {
                    let event = wire::parse_stored(payload).map_err(|e| self.corrupt(format!("seq {seq}: {e}")))?;
                    chunk.push((seq, event));
                    if chunk.len() == CHUNK {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                        // The receiver stopped (its `f` failed): stop reading.
                        tx.send(Ok(full)).map_err(|_| StoreError::Io(std::io::Error::other("scan stopped")))?;
                    }
                    Ok(())
                });
                let last = read.map(|()| chunk);
                let _ = tx.send(last);
            });
            let mut result = Ok(());
            for message in rx {
                match message {
                    Ok(events) => {
                        for (seq, event) in events {
                            if let Err(e) = f(seq, event) {
                                result = Err(e);
                                break;
                            }
                        }
                        if result.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            let _ = reader.join();
            result
        })
    }

    fn scan_lines(&self, f: &mut dyn FnMut(u64, &str) -> Result<(), StoreError>) -> Result<(), StoreError> {
        self.scan_records(1, f)
    }

    fn head(&self) -> Head {
        lock(&self.writer).head
    }
}

impl SledStore {
    /// The sequence number of an id: pending first, then the index.
    fn seq_of(&self, w: &Writer, id: EventId) -> Result<Option<u64>, StoreError> {
        if let Some(seq) = w.pending_ids.get(&id) {
            return Ok(Some(*seq));
        }
        match self.tree.get(id_key(id)).map_err(|e| self.sled_err(e))? {
            None => Ok(None),
            Some(v) => Ok(Some(seq_value(&v).ok_or_else(|| self.corrupt("malformed id index value"))?)),
        }
    }

    /// Reads an event while the writer lock is held (offsets from `w`).
    fn read_event_locked(&self, w: &Writer, seq: u64) -> Result<Event, StoreError> {
        let bytes = self.read_at(seq, self.offset_of(w, seq)?)?;
        self.decode_event(seq, &bytes)
    }

    /// Reads records from `from` on, in order, with a buffered sequential read.
    fn scan_records(&self, from: u64, f: &mut dyn FnMut(u64, &str) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let (start, head) = {
            let w = lock(&self.writer);
            let i = usize::try_from(from.saturating_sub(1)).unwrap_or(usize::MAX);
            match w.offsets.get(i) {
                Some(o) => (*o, w.head.seq),
                None => return Ok(()),
            }
        };
        // A handle of its own, so concurrent scans do not share a file cursor.
        let file = File::open(self.dir.join(LOG_FILE))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(start))?;
        let mut buf = Vec::new();
        let mut seq = from.max(1);
        while seq <= head {
            let mut header = [0u8; record::HEADER];
            reader.read_exact(&mut header)?;
            let len = record::payload_len(&header).map_err(|e| self.corrupt(format!("seq {seq}: {e}")))?;
            buf.clear();
            buf.extend_from_slice(&header);
            buf.resize(record::HEADER + len + record::TRAILER, 0);
            reader.read_exact(&mut buf[record::HEADER..])?;
            let rec = record::decode(&buf).map_err(|e| self.corrupt(format!("seq {seq}: {e}")))?;
            if rec.seq != seq {
                return Err(self.corrupt(format!("record at seq {seq} says seq {}", rec.seq)));
            }
            f(seq, rec.payload)?;
            seq += 1;
        }
        Ok(())
    }
}

/// What opening found in the log file.
struct Scan {
    head: Head,
    streams: HashMap<ParticipantId, Vec<u64>>,
    end: u64,
    offsets: Vec<u64>,
    /// A torn, never-acknowledged record starts here and is to be cut off.
    torn_at: Option<u64>,
}

enum ScanError {
    Io(std::io::Error),
    Corrupt(String),
}

impl From<std::io::Error> for ScanError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Reads the whole log once: checks each record's checksum and sequence
/// number, notes offsets, and decides what an unreadable record means. At the
/// very end, past everything `spor.head` says was made durable, it is a write
/// torn by a crash and is cut off. Anywhere else it is damage.
fn scan_log(log: &File, head_file: HeadFileState) -> Result<Scan, ScanError> {
    let len = log.metadata()?.len();
    let mut reader = BufReader::with_capacity(1 << 20, log);
    let mut offsets = Vec::new();
    let mut streams: HashMap<ParticipantId, Vec<u64>> = HashMap::new();
    let mut head = Head { seq: 0, hash: [0; 32] };
    let mut at = 0u64;
    let mut buf = Vec::new();
    let durable = match head_file {
        HeadFileState::At(h) => h.seq,
        HeadFileState::Absent | HeadFileState::Damaged => 0,
    };
    while at < len {
        let problem = match read_one(&mut reader, &mut buf, len - at) {
            Ok(()) => match record::decode(&buf) {
                Ok(rec) if rec.seq == head.seq + 1 => match participant_of(rec.payload) {
                    Some(p) => {
                        streams.entry(p).or_default().push(rec.seq);
                        None
                    }
                    None => Some(format!("seq {}: not a valid event", rec.seq)),
                },
                Ok(rec) => Some(format!("record at offset {at} says seq {}, expected {}", rec.seq, head.seq + 1)),
                Err(e) => Some(format!("record after seq {} (offset {at}): {e}", head.seq)),
            },
            Err(e) => Some(format!("record after seq {} (offset {at}): {e}", head.seq)),
        };
        if let Some(problem) = problem {
            // Anything valid after it, or a durable head beyond it, means
            // acknowledged records would be lost: refuse, never cut.
            if head.seq < durable {
                return Err(ScanError::Corrupt(format!(
                    "{problem}; spor.head says seq {durable} was made durable"
                )));
            }
            let mut tail = vec![0u8; usize::try_from(len - at).unwrap_or(0)];
            log.read_exact_at(&mut tail, at)?;
            if record::find_any(&tail[1..]).is_some() {
                return Err(ScanError::Corrupt(format!("{problem}; valid records follow it")));
            }
            return Ok(Scan { head: finish(log, head, &offsets, at)?, streams, end: at, offsets, torn_at: Some(at) });
        }
        offsets.push(at);
        // The hash is needed for the last record only; it is taken at the end.
        head.seq += 1;
        at += u64::try_from(buf.len()).unwrap_or(u64::MAX);
    }
    let head = finish(log, head, &offsets, at)?;
    if head.seq < durable {
        return Err(ScanError::Corrupt(format!(
            "the log ends at seq {}, but spor.head says seq {durable} was made durable",
            head.seq
        )));
    }
    Ok(Scan { head, streams, end: at, offsets, torn_at: None })
}

/// The head: the last record's sequence number and hash.
fn finish(log: &File, head: Head, offsets: &[u64], end: u64) -> Result<Head, ScanError> {
    let Some(&start) = offsets.last() else {
        return Ok(Head { seq: 0, hash: [0; 32] });
    };
    let mut bytes = vec![0u8; usize::try_from(end - start).unwrap_or(0)];
    log.read_exact_at(&mut bytes, start)?;
    Ok(Head { seq: head.seq, hash: record::hash(&bytes) })
}

/// The participant of a stored line. Canonical lines (`wire::to_line`) begin
/// `{"id":"<uuid>","participant":"<uuid>"`, so it is read from its place;
/// any other line is parsed whole.
fn participant_of(payload: &str) -> Option<ParticipantId> {
    const PREFIX: &str = "\",\"participant\":\"";
    if payload.get(43..60) == Some(PREFIX)
        && let Some(p) = payload.get(60..96).and_then(|u| uuid::Uuid::parse_str(u).ok()) {
            return Some(ParticipantId(p));
        }
    wire::parse_stored(payload).ok().map(|e| e.participant)
}

/// Reads one record's bytes into `buf` (at most `left` bytes available).
fn read_one(reader: &mut impl Read, buf: &mut Vec<u8>, left: u64) -> Result<(), String> {
    let mut header = [0u8; record::HEADER];
    if left < u64::try_from(record::HEADER + record::TRAILER).unwrap_or(u64::MAX) {
        return Err(format!("{left} bytes left, too few for a record"));
    }
    reader.read_exact(&mut header).map_err(|e| e.to_string())?;
    let len = record::payload_len(&header).map_err(|e| e.to_string())?;
    let total = record::HEADER + len + record::TRAILER;
    if u64::try_from(total).unwrap_or(u64::MAX) > left {
        return Err(format!("a record of {total} bytes, but only {left} are left"));
    }
    buf.clear();
    buf.extend_from_slice(&header);
    buf.resize(total, 0);
    reader.read_exact(&mut buf[record::HEADER..]).map_err(|e| e.to_string())
}

impl SledStore {
    /// sled's errors: its own I/O failures are disk failures; everything
    /// else (a checksum that failed on a page, a bug report) means its files
    /// cannot be trusted. The index is derived from the log, so the remedy
    /// named in docs/store.md is to move `sled/` aside and reopen.
    fn sled_err(&self, e: sled::Error) -> StoreError {
        match e {
            sled::Error::Io(io) => StoreError::Io(io),
            other => self.corrupt(format!("the id index (sled): {other}")),
        }
    }
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

pub(crate) const PREFIX_ID: u8 = ID;
pub(crate) const KEY_APPLIED: &[u8] = META_APPLIED;

/// The genesis hash: the `prev_hash` of the first record.
pub(crate) const GENESIS: Hash = [0; 32];
