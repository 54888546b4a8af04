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
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

use spor_domain::{Event, EventId, ParticipantId};

mod commit;
mod import;
mod index;
mod read;
mod recovery;

pub(crate) use index::{id_key, seq_value};
use recovery::{ScanError, scan_log};

use crate::dir::{self, HeadFile};
use crate::disk::{Disk, RealDisk};
use crate::record::Hash;
use crate::{Appended, EventStore, Head, StoreError, StreamAppend};

const ID: u8 = b'I';
const META_APPLIED: &[u8] = b"Mapplied";
pub(crate) const LOG_FILE: &str = "spor.log";
/// The sled database of accounts, tokens and sessions, apart from the index.
const ACCOUNTS_DIR: &str = "accounts";

/// Opens a sled database. sled panics on some damaged files instead of
/// returning an error; either way its files cannot be trusted. sled
/// releases its own file lock only when its background threads have ended,
/// a moment after the previous store in this process was dropped
/// (sled#1289); our lock already excludes other processes, so a held sled
/// lock here is that moment: wait it out.
fn open_sled(config: &sled::Config) -> std::thread::Result<sled::Result<sled::Db>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let attempt = catch_unwind(AssertUnwindSafe(|| config.open()));
        match &attempt {
            Ok(Err(sled::Error::Io(e)))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            _ => return attempt,
        }
    }
}

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
        Self {
            create: false,
            cache_capacity: 64 * 1024 * 1024,
            disk: Box::new(RealDisk),
        }
    }
}

/// The event log with its sled indexes. Share it between threads with `Arc`.
pub struct SledStore {
    dir: PathBuf,
    /// The indexes.
    tree: sled::Db,
    /// The accounts, tokens and sessions (`DIR/accounts/`), apart from the index.
    others: sled::Db,
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
    /// Set when an import failed and left its marker: what is written after
    /// would be taken back with it at the next open, so nothing is.
    unfinished_import: std::sync::atomic::AtomicBool,
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
        // Only a directory that holds a store is opened, and a store is
        // begun only where asked and where nothing else lives: a mistyped
        // --data must not become a new, empty store.
        if !dir::holds_store(dir) {
            if !options.create {
                return Err(StoreError::NotFound(dir.to_owned()));
            }
            if !dir::is_empty(dir)? {
                return Err(StoreError::NotAStore(dir.to_owned()));
            }
        }
        if !dir.exists() {
            std::fs::create_dir_all(dir)?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                File::open(parent)?.sync_all()?;
            }
        }
        let lock_file = dir::lock(dir)?;
        dir::check_format(dir)?;
        let corrupt = |what: String| StoreError::Corrupt {
            dir: dir.to_owned(),
            what,
        };
        let log_path = dir.join(LOG_FILE);
        let new_log = !log_path.exists();
        if new_log && dir::sled_dir(dir).exists() {
            return Err(corrupt(format!("{} is missing", log_path.display())));
        }
        let log = FsOpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&log_path)?;
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
            tracing::warn!(
                offset = torn_at,
                "cutting off a torn, unacknowledged record at the end of the log"
            );
            log.set_len(torn_at)?;
            log.sync_all()?;
        }
        let index_config = sled::Config::new()
            .path(dir::sled_dir(dir))
            .cache_capacity(options.cache_capacity)
            .mode(sled::Mode::HighThroughput);
        let tree = match open_sled(&index_config) {
            Ok(Ok(db)) => db,
            Ok(Err(sled::Error::Io(e))) => return Err(StoreError::Io(e)),
            // The id index is derived from the log: a damaged one (sled can
            // be left so by a kill at the wrong moment) is moved aside and
            // rebuilt from the log, which is the truth.
            damaged => {
                let why = match damaged {
                    Ok(Err(e)) => e.to_string(),
                    _ => "sled failed while reading its files".to_owned(),
                };
                let aside = dir.join(format!("sled.damaged-{}", std::process::id()));
                tracing::warn!(problem = %why, moved_to = %aside.display(), "the id index is damaged; rebuilding it from the log");
                std::fs::rename(dir::sled_dir(dir), &aside)?;
                File::open(dir)?.sync_all()?;
                match open_sled(&index_config) {
                    Ok(Ok(db)) => db,
                    Ok(Err(sled::Error::Io(e))) => return Err(StoreError::Io(e)),
                    Ok(Err(e)) => {
                        return Err(corrupt(format!(
                            "a new id index (sled) could not be made: {e}"
                        )));
                    }
                    Err(_) => {
                        return Err(corrupt("a new id index (sled) could not be made".into()));
                    }
                }
            }
        };
        // Accounts, tokens and sessions: a database of their own, so that
        // rebuilding the index never touches them. They are no copy of
        // anything: damage there is refused, never rebuilt.
        let others_config = sled::Config::new()
            .path(dir.join(ACCOUNTS_DIR))
            .cache_capacity(8 * 1024 * 1024);
        let others = match open_sled(&others_config) {
            Ok(Ok(db)) => db,
            Ok(Err(sled::Error::Io(e))) => return Err(StoreError::Io(e)),
            Ok(Err(e)) => {
                return Err(corrupt(format!(
                    "the accounts (sled, {ACCOUNTS_DIR}/) could not be opened: {e}"
                )));
            }
            Err(_) => {
                return Err(corrupt(format!(
                    "the accounts (sled, {ACCOUNTS_DIR}/) could not be read"
                )));
            }
        };
        let head = scan.head;
        let store = Self {
            dir: dir.to_owned(),
            tree,
            others,
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
            commit: Mutex::new(Commit {
                durable: 0,
                syncing: false,
                failed: None,
            }),
            synced: Condvar::new(),
            indexing: Mutex::new(()),
            _lock: lock_file,
            unfinished_import: std::sync::atomic::AtomicBool::new(false),
        };
        store.catch_up_indexes()?;
        store.roll_back_unfinished_import()?;
        Ok(store)
    }

    /// The directory this store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn tree(&self) -> &sled::Db {
        &self.tree
    }

    /// The sled database of accounts, tokens and sessions (`DIR/accounts/`),
    /// held open with the store so that the directory's lock covers it. It
    /// is apart from the id index, which is rebuilt from the log if damaged;
    /// these are no copy of anything.
    pub fn sled(&self) -> &sled::Db {
        &self.others
    }

    fn corrupt(&self, what: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            dir: self.dir.clone(),
            what: what.into(),
        }
    }
}

impl EventStore for SledStore {
    fn append_all(
        &self,
        batches: &mut dyn Iterator<Item = Vec<StreamAppend>>,
        durable: &mut dyn FnMut(usize),
    ) -> Result<Appended, StoreError> {
        self.append_whole(batches, durable)
    }

    fn append(&self, appends: &[StreamAppend]) -> Result<Appended, StoreError> {
        self.commit(appends)
    }

    fn scan(
        &self,
        from: u64,
        f: &mut dyn FnMut(u64, Event) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.scan_events(from, f)
    }

    fn lookup(&self, id: EventId) -> Result<Option<(u64, Event)>, StoreError> {
        let (seq, covering) = {
            let w = lock(&self.writer);
            (
                self.seq_of(&w, id)?,
                w.pending_ids.contains_key(&id).then_some(w.written),
            )
        };
        // Written but maybe not yet synced: found only once durable.
        if let Some(generation) = covering {
            self.wait_durable(generation)?;
        }
        match seq {
            None => Ok(None),
            Some(seq) => Ok(Some((seq, self.read_event(seq)?))),
        }
    }

    fn stream(&self, participant: ParticipantId) -> Result<Vec<(u64, Event)>, StoreError> {
        let seqs = lock(&self.writer)
            .streams
            .get(&participant)
            .cloned()
            .unwrap_or_default();
        seqs.into_iter()
            .map(|seq| Ok((seq, self.read_event(seq)?)))
            .collect()
    }

    fn scan_lines(
        &self,
        f: &mut dyn FnMut(u64, &str) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.scan_records(1, f)
    }

    fn head(&self) -> Head {
        lock(&self.writer).head
    }

    fn participants_starting_with(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<ParticipantId>, StoreError> {
        let mut found: Vec<ParticipantId> = lock(&self.writer)
            .streams
            .keys()
            .filter(|p| p.0.simple().to_string().starts_with(prefix))
            .copied()
            .collect();
        found.sort();
        found.truncate(limit);
        Ok(found)
    }
}

pub(crate) const PREFIX_ID: u8 = ID;
pub(crate) const KEY_APPLIED: &[u8] = META_APPLIED;

/// The genesis hash: the `prev_hash` of the first record.
pub(crate) const GENESIS: Hash = [0; 32];
