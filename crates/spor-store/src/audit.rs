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
//! One entry is one request or command. An entry naming more participants
//! than one record holds (a unit's status lists thousands) is written as
//! several records in one write and one sync; they share the entry's id and
//! are read back as one.

use std::fs::{File, OpenOptions as FsOpenOptions};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use spor_domain::ParticipantId;
use uuid::Uuid;

use crate::Head;
use crate::dir::{AUDIT_HEAD_FILE, HeadFile, HeadFileState, read_named_head_file};
use crate::disk::Disk;
use crate::record::{self, Hash};
use crate::verify::Finding;
use crate::StoreError;

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
    /// The last durable record's number and hash, written after each sync:
    /// a bad record at the end is cut off only past it (a write torn by a
    /// crash), never at or before it (damage, or a record rewritten).
    head: HeadFile,
    disk: Box<dyn Disk>,
    /// The chain's end and where the next record goes; held across the
    /// write and the sync, so entries are chained in the order they are made durable.
    tail: Mutex<Tail>,
}

struct Tail {
    seq: u64,
    hash: Hash,
    end: u64,
    /// Set once a write or sync failed: nothing may be written after it.
    stopped: Option<String>,
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
        let file = FsOpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path)?;
        let walk = walk(&file)?;
        let corrupt = |what: String| StoreError::Corrupt { dir: dir.to_owned(), what: format!("{AUDIT_FILE}: {what}") };
        let durable = match read_named_head_file(dir, AUDIT_HEAD_FILE) {
            HeadFileState::At(h) => Some(h),
            HeadFileState::Absent => None,
            HeadFileState::Damaged => return Err(corrupt(format!("{AUDIT_HEAD_FILE} is unreadable"))),
        };
        if let Some(h) = durable {
            if walk.seq < h.seq {
                let problem = walk.problem.as_ref().map_or("it ends early", |(_, p)| p.as_str());
                return Err(corrupt(format!("record {} was made durable, but the trail is readable only to record {} ({problem})", h.seq, walk.seq)));
            }
            if walk.hash_at(h.seq) != Some(h.hash) {
                return Err(corrupt(format!("record {} is not the record that was made durable (it was rewritten)", h.seq)));
            }
        }
        if let Some((at, problem)) = walk.problem {
            let tail_len = walk.len - at;
            let mut tail = vec![0u8; usize::try_from(tail_len).unwrap_or(0)];
            std::os::unix::fs::FileExt::read_exact_at(&file, &mut tail, at)?;
            if tail.len() > 1 && record::find_any(&tail[1..]).is_some() {
                return Err(StoreError::Corrupt { dir: dir.to_owned(), what: format!("{AUDIT_FILE}: {problem}; valid records follow it") });
            }
            tracing::warn!(offset = at, "cutting off a torn, unacknowledged record at the end of the audit trail");
            file.set_len(at)?;
            file.sync_all()?;
        }
        let head = HeadFile::open_named(dir, AUDIT_HEAD_FILE)?;
        Ok(Self { path, file, head, disk, tail: Mutex::new(Tail { seq: walk.seq, hash: walk.hash, end: walk.end, stopped: None }) })
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
            check.findings.push(Finding { position: AUDIT_FILE.into(), problem: format!("cannot be read: {e}") });
            return check;
        }
    };
    let w = match walk(&file) {
        Ok(w) => w,
        Err(e) => {
            check.findings.push(Finding { position: AUDIT_FILE.into(), problem: e.to_string() });
            return check;
        }
    };
    check.records = w.seq;
    let durable = match read_named_head_file(dir, AUDIT_HEAD_FILE) {
        HeadFileState::At(h) => h.seq,
        HeadFileState::Absent => 0,
        HeadFileState::Damaged => {
            check.findings.push(Finding { position: AUDIT_HEAD_FILE.into(), problem: "unreadable (checksum or length)".into() });
            0
        }
    };
    if let Some((at, problem)) = &w.problem {
        let position = format!("{AUDIT_FILE} record {} (offset {at})", w.seq + 1);
        if w.seq >= durable {
            check.torn = Some(format!(
                "{position}: an incomplete record past the last one made durable ({problem}); never acknowledged, the next write cuts it off"
            ));
        } else {
            check.findings.push(Finding { position, problem: problem.clone() });
        }
    }
    if let HeadFileState::At(h) = read_named_head_file(dir, AUDIT_HEAD_FILE)
        && h.seq <= w.seq
        && w.hash_at(h.seq) != Some(h.hash)
    {
        check.findings.push(Finding {
            position: format!("{AUDIT_FILE} record {}", h.seq),
            problem: "is not the record that was made durable (it was rewritten)".into(),
        });
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
        let mut tail = lock(&self.tail);
        if let Some(why) = &tail.stopped {
            return Err(StoreError::Stopped(why.clone()));
        }
        let mut buffer = Vec::new();
        let (mut seq, mut hash) = (tail.seq, tail.hash);
        for (i, participants) in chunks.iter().enumerate() {
            let part = Part {
                entry: AuditEntry { participants: participants.to_vec(), ..entry.clone() },
                part: i,
                parts: chunks.len(),
            };
            let payload = serde_json::to_string(&part).map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
            seq += 1;
            let bytes = record::encode(seq, &hash, &payload);
            hash = record::hash(&bytes);
            buffer.extend_from_slice(&bytes);
        }
        let written = self.disk.write_at(&self.file, &buffer, tail.end).and_then(|()| self.disk.sync_data(&self.file));
        if let Err(e) = written {
            // Never retried: after a failed sync the kernel may have dropped
            // the pages, so a retry could "succeed" on lost data.
            tail.stopped = Some(e.to_string());
            return Err(StoreError::Stopped(e.to_string()));
        }
        tail.seq = seq;
        tail.hash = hash;
        tail.end += u64::try_from(buffer.len()).unwrap_or(u64::MAX);
        // After the sync only: the head file may lag the trail, never lead it.
        if let Err(e) = self.head.write(Head { seq, hash }) {
            tail.stopped = Some(e.to_string());
            return Err(StoreError::Stopped(e.to_string()));
        }
        Ok(())
    }

    fn entries(&self, f: &mut dyn FnMut(AuditEntry)) -> Result<(), StoreError> {
        let end = lock(&self.tail).end;
        let file = File::open(&self.path)?;
        let mut reader = BufReader::with_capacity(1 << 20, file.take(end));
        let mut buf = Vec::new();
        let mut pending: Option<AuditEntry> = None;
        let mut at = 0u64;
        while at < end {
            record::read_one(&mut reader, &mut buf, end - at).map_err(|p| self.corrupt(at, &p))?;
            let rec = record::decode(&buf).map_err(|e| self.corrupt(at, &e.to_string()))?;
            let part: Part = serde_json::from_str(rec.payload).map_err(|e| self.corrupt(at, &e.to_string()))?;
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
    /// Every good record's hash, to compare with the head file.
    hashes: Vec<Hash>,
}

impl Walk {
    fn hash_at(&self, seq: u64) -> Option<Hash> {
        if seq == 0 {
            return Some([0; 32]);
        }
        self.hashes.get(usize::try_from(seq - 1).ok()?).copied()
    }
}

fn walk(file: &File) -> Result<Walk, StoreError> {
    let len = file.metadata()?.len();
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::new();
    let mut w = Walk { seq: 0, hash: [0; 32], end: 0, len, problem: None, hashes: Vec::new() };
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
        w.hashes.push(w.hash);
        w.end += u64::try_from(buf.len()).unwrap_or(u64::MAX);
    }
    Ok(w)
}
