//! The audit trail: who saw or changed which participant's personal data,
//! when, how and from where (reliability AU1-AU4).
//!
//! Kept in `DIR/audit.log`, apart from the event log, with the same record
//! codec: a CRC over each record and a SHA-256 chain from record to record,
//! so an entry changed on disk, even with a valid checksum, is found by
//! `verify` with its position. An entry is durable (written and
//! fdatasynced) before [`AuditTrail::record`] returns, so a reader can fail
//! closed: no audit record, no personal data. Nothing here changes or
//! deletes an entry.
//!
//! Group commit, as the event log does it (`sled_store/commit.rs`): a
//! `record` chains and writes its records under a short lock, then waits in
//! `AuditLog::wait_durable` until an fdatasync covers its write. The first
//! waiter to find no sync running leads one, covering everything written
//! until it began; the others wait for it and, if it did not cover them,
//! one of them leads the next. So 64 concurrent callers pay for a few
//! fdatasyncs, not 64 in a row.
//!
//! One entry is one request or command. An entry naming more participants
//! than one record holds (a unit's status lists thousands) is written as
//! several records in one write and one sync; they share the entry's id and
//! are read back as one.

use std::fs::{File, OpenOptions as FsOpenOptions};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use spor_domain::ParticipantId;
use uuid::Uuid;

use crate::Head;
use crate::StoreError;
use crate::dir::{AUDIT_HEAD_FILE, HeadFile, HeadFileState, read_named_head_file};
use crate::disk::Disk;
use crate::record::{self, Hash};
use crate::verify::Finding;

pub(crate) const AUDIT_FILE: &str = "audit.log";

/// Participants per record: keeps a record's payload well under the codec's
/// limit (an id is 39 bytes in JSON).
const PARTICIPANTS_PER_RECORD: usize = 300;

/// One request or command that carried personal data, or wrote an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The entry's id (the request id of an HTTP request).
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The account, or the operating-system user of a command.
    pub who: String,
    /// The account's role (`adviser`, `leader`, …), or `operator` for a command.
    pub role: String,
    /// The units the caller may see.
    pub units: Vec<String>,
    /// The route (`GET /api/v1/participants/{id}`) or command (`spor show`).
    pub action: String,
    /// Where from: the peer address, or `local` for a command.
    pub from: String,
    /// Every participant whose data the answer carried (or the write touched).
    pub participants: Vec<ParticipantId>,
}

/// The payload of one record: a part of an entry.
#[derive(Serialize, Deserialize)]
struct Part {
    #[serde(flatten)]
    entry: AuditEntry,
    part: usize,
    parts: usize,
}

/// Where audit entries are kept. A database backend implements this too.
pub trait AuditTrail: Send + Sync {
    /// Keeps `entry`, durably, before returning.
    fn record(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// Every entry, oldest first.
    fn entries(&self, f: &mut dyn FnMut(AuditEntry)) -> Result<(), StoreError>;
}

/// The audit trail in `DIR/audit.log`, its head in `DIR/audit.head`.
pub struct AuditLog {
    path: PathBuf,
    file: File,
    /// The last durable record's number and hash: a bad record at the end
    /// is cut off only past it (a write torn by a crash), never at or before
    /// it (damage, or a record rewritten).
    ///
    /// Written by the sync's leader after the fdatasync of `audit.log` that
    /// made that record durable returned, and by one leader at a time, so
    /// whatever version of the file reaches the disk names a record that was
    /// already durable: the head may lag the trail, never lead it.
    ///
    /// It gets no fdatasync of its own, by choice. It is a hint, compared
    /// on open and by `check`; the trail itself, chained and checksummed,
    /// is the record. Syncing it would double the fdatasyncs of every group
    /// commit and buy only a tighter bound after a power cut: a head that
    /// lags by a few records lets a damaged record among those few pass as
    /// a torn, unacknowledged end (cut off on open, reported as torn by
    /// `check`); a record before the head, or valid records after the bad
    /// one, are still found. A torn write of the head itself (44 bytes, one
    /// sector, written in place) fails its CRC and refuses the open, so it
    /// is loud, not silent.
    head: HeadFile,
    /// Every write and fdatasync of `audit.log` goes through it, so tests
    /// can inject a failing disk.
    disk: Box<dyn Disk>,
    /// The chain's end and where the next record goes. Held across encoding
    /// and the write only (never the sync), so records lie in the file in
    /// chain order and a writer never waits for a disk flush to write.
    tail: Mutex<Tail>,
    /// How far the file is durable, and whether a sync runs. Locked after
    /// `tail` when both are needed, never before it.
    commit: Mutex<Commit>,
    /// Woken after each sync, and when the trail stops.
    synced: Condvar,
}

struct Tail {
    seq: u64,
    hash: Hash,
    end: u64,
    /// Writes made so far, one per entry: the number a caller waits for.
    written: u64,
    /// Set once a write or sync failed: nothing may be written after it.
    stopped: Option<String>,
}

/// The group commit's state.
struct Commit {
    /// Every write numbered up to this one is covered by a successful fdatasync.
    durable: u64,
    /// Where the durable part of the file ends; readers stop there.
    durable_end: u64,
    /// A leader is in its fdatasync; the others wait on `synced`.
    syncing: bool,
    /// Why the trail stopped: every caller not yet durable gets this.
    failed: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AuditLog {
    /// Opens (creating) the trail in `dir`, which the caller holds locked (the
    /// event store's lock covers it). A torn record at the very end, never
    /// acknowledged, is cut off; damage anywhere else refuses the open.
    pub fn open(dir: &Path, disk: Box<dyn Disk>) -> Result<Self, StoreError> {
        let path = dir.join(AUDIT_FILE);
        let file = FsOpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)?;
        let corrupt = |what: String| StoreError::Corrupt {
            dir: dir.to_owned(),
            what: format!("{AUDIT_FILE}: {what}"),
        };
        let durable = match read_named_head_file(dir, AUDIT_HEAD_FILE) {
            HeadFileState::At(h) => Some(h),
            HeadFileState::Absent => None,
            HeadFileState::Damaged => {
                return Err(corrupt(format!("{AUDIT_HEAD_FILE} is unreadable")));
            }
        };
        let walk = walk(&file, durable)?;
        if let Some(h) = durable {
            match walk.at_head {
                AtHead::Same | AtHead::NoHead => {}
                AtHead::NotReached => {
                    let problem = walk
                        .problem
                        .as_ref()
                        .map_or("it ends early", |(_, p)| p.as_str());
                    return Err(corrupt(format!(
                        "record {} was made durable, but the trail is readable only to record {} ({problem})",
                        h.seq, walk.seq
                    )));
                }
                AtHead::Other => {
                    return Err(corrupt(format!(
                        "record {} is not the record that was made durable (it was rewritten)",
                        h.seq
                    )));
                }
            }
        }
        if let Some((at, problem)) = walk.problem {
            let tail_len = walk.len - at;
            let mut tail = vec![0u8; usize::try_from(tail_len).unwrap_or(0)];
            std::os::unix::fs::FileExt::read_exact_at(&file, &mut tail, at)?;
            if tail.len() > 1 && record::find_any(&tail[1..]).is_some() {
                return Err(StoreError::Corrupt {
                    dir: dir.to_owned(),
                    what: format!("{AUDIT_FILE}: {problem}; valid records follow it"),
                });
            }
            tracing::warn!(
                offset = at,
                "cutting off a torn, unacknowledged record at the end of the audit trail"
            );
            file.set_len(at)?;
            file.sync_all()?;
        }
        let head = HeadFile::open_named(dir, AUDIT_HEAD_FILE)?;
        Ok(Self {
            path,
            file,
            head,
            disk,
            tail: Mutex::new(Tail {
                seq: walk.seq,
                hash: walk.hash,
                end: walk.end,
                written: 0,
                stopped: None,
            }),
            commit: Mutex::new(Commit {
                durable: 0,
                durable_end: walk.end,
                syncing: false,
                failed: None,
            }),
            synced: Condvar::new(),
        })
    }

    /// Chains the records of one entry (its `payloads`) to the trail and
    /// writes them in one write, under the tail lock; returns the write's
    /// number, for [`Self::wait_durable`].
    fn write(&self, payloads: &[String]) -> Result<u64, StoreError> {
        let mut tail = lock(&self.tail);
        if let Some(why) = &tail.stopped {
            return Err(StoreError::Stopped(why.clone()));
        }
        let mut buffer = Vec::new();
        let (mut seq, mut hash) = (tail.seq, tail.hash);
        for payload in payloads {
            seq += 1;
            let bytes = record::encode(seq, &hash, payload);
            hash = record::hash(&bytes);
            buffer.extend_from_slice(&bytes);
        }
        if let Err(e) = self.disk.write_at(&self.file, &buffer, tail.end) {
            // Part of the buffer may be in the file: nothing may follow it,
            // and the next open cuts the torn end off.
            let why = e.to_string();
            self.stop(&mut tail, &why);
            return Err(StoreError::Stopped(why));
        }
        tail.seq = seq;
        tail.hash = hash;
        tail.end += u64::try_from(buffer.len()).unwrap_or(u64::MAX);
        tail.written += 1;
        Ok(tail.written)
    }

    /// Refuses every later record, and fails every caller still waiting for
    /// a sync (they learn it from `commit.failed`). Never retried: after a
    /// failed write or fdatasync the kernel may have dropped the pages, so a
    /// retry could "succeed" on lost data.
    fn stop(&self, tail: &mut Tail, why: &str) {
        tracing::error!(error = %why, "writing the audit trail failed; refusing all further records");
        tail.stopped.get_or_insert_with(|| why.to_owned());
        lock(&self.commit)
            .failed
            .get_or_insert_with(|| why.to_owned());
        self.synced.notify_all();
    }

    /// Waits until an fdatasync covers write `written`, leading one if none
    /// runs: the leader/follower wait of the group commit. A leader syncs
    /// everything written when it begins, writes the head file, and wakes
    /// the others; one not covered leads the next sync. After a failure,
    /// every caller not yet covered by a successful sync gets an error.
    fn wait_durable(&self, written: u64) -> Result<(), StoreError> {
        let mut c = lock(&self.commit);
        loop {
            if c.durable >= written {
                return Ok(());
            }
            if let Some(why) = &c.failed {
                return Err(StoreError::Stopped(why.clone()));
            }
            if c.syncing {
                c = self.synced.wait(c).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            c.syncing = true;
            drop(c);
            // Everything written up to here is in the file: the sync covers it.
            let (target, head, end) = {
                let t = lock(&self.tail);
                (
                    t.written,
                    Head {
                        seq: t.seq,
                        hash: t.hash,
                    },
                    t.end,
                )
            };
            let result = self.disk.sync_data(&self.file).map(|()| {
                // After the sync only, so the head never leads the trail; see `head`.
                self.head.write(head)
            });
            let failure = match &result {
                Ok(Ok(())) => None,
                Ok(Err(e)) | Err(e) => Some(e.to_string()),
            };
            if let Some(why) = &failure {
                self.stop(&mut lock(&self.tail), why);
            }
            c = lock(&self.commit);
            c.syncing = false;
            if result.is_ok() {
                // The trail is durable to `target` even if the head write failed.
                c.durable = c.durable.max(target);
                c.durable_end = c.durable_end.max(end);
            }
            self.synced.notify_all();
        }
    }
}

/// What a read-only check of the audit trail found (`spor verify`).
#[derive(Debug, Default)]
pub struct AuditCheck {
    /// Records that passed every check, from the start.
    pub records: u64,
    /// Problems, with their positions; nothing after the first is trusted.
    pub findings: Vec<Finding>,
    /// A bad record past the last one made durable: a write a crash cut
    /// short, never acknowledged, which the next open cuts off.
    pub torn: Option<String>,
}

/// Checks `DIR/audit.log` without changing it: every record's checksum,
/// number, place in the hash chain and payload, and that the record the head
/// file names as the last durable one is there, unchanged. The caller holds
/// the directory (its lock keeps writers away).
pub fn check(dir: &Path) -> AuditCheck {
    let mut check = AuditCheck::default();
    let path = dir.join(AUDIT_FILE);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return check,
        Err(e) => {
            check.findings.push(Finding {
                position: AUDIT_FILE.into(),
                problem: format!("cannot be read: {e}"),
            });
            return check;
        }
    };
    let head = match read_named_head_file(dir, AUDIT_HEAD_FILE) {
        HeadFileState::At(h) => Some(h),
        HeadFileState::Absent => None,
        HeadFileState::Damaged => {
            check.findings.push(Finding {
                position: AUDIT_HEAD_FILE.into(),
                problem: "unreadable (checksum or length)".into(),
            });
            None
        }
    };
    let durable = head.map_or(0, |h| h.seq);
    let w = match walk(&file, head) {
        Ok(w) => w,
        Err(e) => {
            check.findings.push(Finding {
                position: AUDIT_FILE.into(),
                problem: e.to_string(),
            });
            return check;
        }
    };
    check.records = w.seq;
    if let Some((at, problem)) = &w.problem {
        let position = format!("{AUDIT_FILE} record {} (offset {at})", w.seq + 1);
        if w.seq >= durable {
            check.torn = Some(format!(
                "{position}: an incomplete record past the last one made durable ({problem}); never acknowledged, the next write cuts it off"
            ));
        } else {
            check.findings.push(Finding {
                position,
                problem: problem.clone(),
            });
        }
    }
    match w.at_head {
        AtHead::NoHead | AtHead::Same => {}
        AtHead::Other => check.findings.push(Finding {
            position: format!("{AUDIT_FILE} record {durable}"),
            problem: "is not the record that was made durable (it was rewritten)".into(),
        }),
        // A bad record before the durable one is reported above.
        AtHead::NotReached if w.problem.is_some() => {}
        AtHead::NotReached => check.findings.push(Finding {
            position: format!("{AUDIT_FILE} record {} (offset {})", w.seq + 1, w.end),
            problem: format!(
                "is missing: record {durable} was made durable, but the trail ends after record {}",
                w.seq
            ),
        }),
    }
    check
}

impl AuditTrail for AuditLog {
    fn record(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let chunks: Vec<&[ParticipantId]> = if entry.participants.is_empty() {
            vec![&[]]
        } else {
            entry.participants.chunks(PARTICIPANTS_PER_RECORD).collect()
        };
        // Encoded before the lock: the payloads do not depend on the chain.
        let payloads = chunks
            .iter()
            .enumerate()
            .map(|(i, participants)| {
                let part = Part {
                    entry: AuditEntry {
                        participants: participants.to_vec(),
                        ..entry.clone()
                    },
                    part: i,
                    parts: chunks.len(),
                };
                serde_json::to_string(&part).map_err(|e| StoreError::Io(std::io::Error::other(e)))
            })
            .collect::<Result<Vec<String>, StoreError>>()?;
        let written = self.write(&payloads)?;
        self.wait_durable(written)
    }

    fn entries(&self, f: &mut dyn FnMut(AuditEntry)) -> Result<(), StoreError> {
        // Only what is durable: an entry written but not yet synced (or
        // whose sync failed) was never acknowledged.
        let end = lock(&self.commit).durable_end;
        let file = File::open(&self.path)?;
        let mut reader = BufReader::with_capacity(1 << 20, file.take(end));
        let mut buf = Vec::new();
        let mut pending: Option<AuditEntry> = None;
        let mut at = 0u64;
        while at < end {
            record::read_one(&mut reader, &mut buf, end - at).map_err(|p| self.corrupt(at, &p))?;
            let rec = record::decode(&buf).map_err(|e| self.corrupt(at, &e.to_string()))?;
            let part: Part =
                serde_json::from_str(rec.payload).map_err(|e| self.corrupt(at, &e.to_string()))?;
            at += u64::try_from(buf.len()).unwrap_or(u64::MAX);
            let mut whole = match pending.take() {
                Some(mut e) if e.id == part.entry.id => {
                    e.participants.extend(part.entry.participants);
                    e
                }
                _ => part.entry,
            };
            if part.part + 1 < part.parts {
                pending = Some(whole);
            } else {
                whole.participants.shrink_to_fit();
                f(whole);
            }
        }
        Ok(())
    }
}

impl AuditLog {
    fn corrupt(&self, at: u64, problem: &str) -> StoreError {
        StoreError::Corrupt {
            dir: self.path.parent().map(Path::to_owned).unwrap_or_default(),
            what: format!("{AUDIT_FILE} at offset {at}: {problem}"),
        }
    }
}

/// What a walk of the file found: the last good record, and the first problem.
struct Walk {
    seq: u64,
    hash: Hash,
    end: u64,
    len: u64,
    problem: Option<(u64, String)>,
    /// The record the head file names, compared as the walk passes it, so
    /// the walk's memory does not grow with the trail.
    at_head: AtHead,
}

/// What the walk found at the record the head file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AtHead {
    /// There is no head to compare with.
    NoHead,
    /// The good records end before it.
    NotReached,
    /// It is there, with the hash the head names.
    Same,
    /// It is there with another hash: rewritten after it was made durable.
    Other,
}

impl AtHead {
    fn compare(head: &Head, hash: &Hash) -> Self {
        if head.hash == *hash {
            Self::Same
        } else {
            Self::Other
        }
    }
}

/// Reads the trail from the start, checking every record, and compares the
/// record `head` names (if any) with it on the way.
fn walk(file: &File, head: Option<Head>) -> Result<Walk, StoreError> {
    let len = file.metadata()?.len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::new();
    let at_head = match head {
        None => AtHead::NoHead,
        Some(h) if h.seq == 0 => AtHead::compare(&h, &[0; 32]),
        Some(_) => AtHead::NotReached,
    };
    let mut w = Walk {
        seq: 0,
        hash: [0; 32],
        end: 0,
        len,
        problem: None,
        at_head,
    };
    while w.end < len {
        let checked = record::read_one(&mut reader, &mut buf, len - w.end).and_then(|()| {
            let rec = record::decode(&buf).map_err(|e| e.to_string())?;
            if rec.seq != w.seq + 1 {
                return Err(format!("says record {}, expected {}", rec.seq, w.seq + 1));
            }
            if rec.prev_hash != w.hash {
                return Err(format!("does not carry the hash of record {} before it: one of the two was changed after it was written", w.seq));
            }
            serde_json::from_str::<Part>(rec.payload).map(|_| ()).map_err(|e| format!("is not an audit entry ({e})"))
        });
        if let Err(problem) = checked {
            w.problem = Some((w.end, problem));
            break;
        }
        w.seq += 1;
        w.hash = record::hash(&buf);
        if let Some(h) = head.filter(|h| h.seq == w.seq) {
            w.at_head = AtHead::compare(&h, &w.hash);
        }
        w.end += u64::try_from(buf.len()).unwrap_or(u64::MAX);
    }
    Ok(w)
}
