//! `spor verify`: walks the log and every index and reports each changed,
//! missing, reordered or unreadable record with its position.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use spor_domain::{EventId, ParticipantId, wire};

use crate::dir::{HeadFileState, read_head_file};
use crate::record::{self, Hash};
use crate::sled_store::{GENESIS, KEY_APPLIED, LOG_FILE, PREFIX_ID, seq_value};
use crate::{Head, SledStore};

/// One problem found, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where: `seq 17`, `id index …`, `stream index …`, `spor.head`.
    pub position: String,
    pub problem: String,
}

/// What verify found.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// Records read from the log.
    pub records: u64,
    /// The head as the log itself gives it (last record read).
    pub head: Head,
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

impl SledStore {
    /// Walks the whole store. Never panics: sled's own panics on damaged
    /// pages become a finding.
    pub fn verify(&self) -> VerifyReport {
        let mut report = VerifyReport {
            records: 0,
            head: Head {
                seq: 0,
                hash: GENESIS,
            },
            findings: Vec::new(),
        };
        let result = catch_unwind(AssertUnwindSafe(|| walk(self, &mut report)));
        if result.is_err() {
            report.findings.push(Finding {
                position: "sled".into(),
                problem: "the store's files could not be read (sled failed on a damaged page)"
                    .into(),
            });
        }
        report
    }
}

fn walk(store: &SledStore, report: &mut VerifyReport) {
    let mut find = |position: String, problem: String| {
        report.findings.push(Finding { position, problem });
    };
    let tree = store.tree();
    // The hash the next record must carry; `None` after an unreadable record,
    // whose successor cannot be checked against it.
    let mut prev: Option<Hash> = Some(GENESIS);
    let mut ids: HashMap<EventId, u64> = HashMap::new();
    let mut streams: HashMap<ParticipantId, Vec<u64>> = HashMap::new();
    let mut last = Head {
        seq: 0,
        hash: GENESIS,
    };
    let mut records = 0u64;
    // The hash of the record spor.head names, taken as the walk passes it.
    let head_state = read_head_file(store.dir());
    let noted_seq = match head_state {
        HeadFileState::At(h) => h.seq,
        _ => 0,
    };
    let mut noted_hash: Option<Hash> = None;
    // Read through a handle of our own, one record at a time, so verify's
    // memory does not grow with the log.
    let (mut reader, len) = match std::fs::File::open(store.dir().join(LOG_FILE)).and_then(|f| {
        let len = f.metadata()?.len();
        Ok((std::io::BufReader::with_capacity(1 << 20, f), len))
    }) {
        Ok(r) => r,
        Err(e) => {
            find(LOG_FILE.into(), format!("unreadable: {e}"));
            return;
        }
    };
    let mut at = 0u64;
    let mut raw: Vec<u8> = Vec::new();
    while at < len {
        let expected = last.seq + 1;
        let mut header = [0u8; record::HEADER];
        if len - at < u64::try_from(record::HEADER + record::TRAILER).unwrap_or(u64::MAX)
            || std::io::Read::read_exact(&mut reader, &mut header).is_err()
        {
            find(
                format!("seq {expected}"),
                format!("the log ends inside a record (offset {at})"),
            );
            break;
        }
        let len_payload = match record::payload_len(&header) {
            Ok(l) => l,
            Err(e) => {
                find(
                    format!("seq {expected}"),
                    format!(
                        "changed or damaged at offset {at}: {e}; the rest of the log cannot be read"
                    ),
                );
                break;
            }
        };
        let total = record::HEADER + len_payload + record::TRAILER;
        raw.clear();
        raw.extend_from_slice(&header);
        raw.resize(total, 0);
        if std::io::Read::read_exact(&mut reader, &mut raw[record::HEADER..]).is_err() {
            find(
                format!("seq {expected}"),
                format!("the log ends inside a record (offset {at})"),
            );
            break;
        }
        at += u64::try_from(total).unwrap_or(u64::MAX);
        let raw = &raw[..];
        records += 1;
        let hash = record::hash(raw);
        if last.seq + 1 == noted_seq {
            noted_hash = Some(hash);
        }
        let rec = match record::decode(raw) {
            Ok(r) => r,
            Err(e) => {
                find(
                    format!("seq {expected}"),
                    format!("changed or damaged: {e}"),
                );
                prev = None;
                last = Head {
                    seq: expected,
                    hash,
                };
                continue;
            }
        };
        if rec.seq != expected {
            find(
                format!("seq {expected}"),
                format!("reordered or missing: the record there is seq {}", rec.seq),
            );
        }
        let seq = rec.seq;
        last = Head { seq, hash };
        if let Some(p) = prev
            && rec.prev_hash != p
        {
            find(
                format!("seq {seq}"),
                format!(
                    "hash chain broken: the record before seq {seq} was changed, or this one was put in its place"
                ),
            );
        }
        prev = Some(hash);
        match wire::parse_stored(rec.payload) {
            Ok(event) => {
                if let Some(first) = ids.insert(event.id, seq) {
                    find(
                        format!("seq {seq}"),
                        format!("{} is stored twice (first at seq {first})", event.id),
                    );
                }
                streams.entry(event.participant).or_default().push(seq);
            }
            Err(e) => find(format!("seq {seq}"), format!("not a valid event: {e}")),
        }
    }
    match tree.get(KEY_APPLIED) {
        Ok(Some(v)) if seq_value(&v) == Some(last.seq) => {}
        Ok(None) if last.seq == 0 => {}
        Ok(other) => find(
            "indexes".into(),
            format!(
                "cover up to seq {:?}, the log ends at seq {}",
                other.as_deref().and_then(seq_value),
                last.seq
            ),
        ),
        Err(e) => find("indexes".into(), format!("unreadable: {e}")),
    }
    report.records = records;
    report.head = last;

    for item in tree.scan_prefix([PREFIX_ID]) {
        let Ok((key, value)) = item else {
            find("id index".into(), "unreadable".into());
            break;
        };
        let id = key
            .get(1..17)
            .and_then(|b| uuid::Uuid::from_slice(b).ok())
            .map(EventId);
        let seq = seq_value(&value);
        match (id, seq) {
            (Some(id), Some(seq)) => match ids.remove(&id) {
                Some(s) if s == seq => {}
                Some(s) => find(
                    format!("id index {}", id.0),
                    format!("points at seq {seq}, the event is at seq {s}"),
                ),
                None => find(
                    format!("id index {}", id.0),
                    format!("points at seq {seq}, but no such event is in the log"),
                ),
            },
            _ => find("id index".into(), "malformed entry".into()),
        }
    }
    let mut missing_ids: Vec<(u64, EventId)> = ids.into_iter().map(|(id, s)| (s, id)).collect();
    missing_ids.sort();
    for (seq, id) in missing_ids {
        find(
            format!("seq {seq}"),
            format!("{id} is missing from the id index"),
        );
    }

    // The stream index lives in memory, built from the log at open and kept
    // by every append since; it must still say what the log says.
    let mut differing: Vec<ParticipantId> = store
        .stream_index()
        .into_iter()
        .filter(|(p, seqs)| streams.get(p) != Some(seqs))
        .map(|(p, _)| p)
        .collect();
    differing.sort();
    for p in differing {
        find(format!("stream index {p}"), "differs from the log".into());
    }

    // sled's iterator yields the same error again and again on a damaged
    // page, so every loop here stops at the first error.
    for item in tree.iter() {
        match item {
            Ok((key, _)) if key.first() != Some(&PREFIX_ID) && &key[..] != KEY_APPLIED => {
                find("tree".into(), format!("unknown key {:?}", key.first()));
            }
            Ok(_) => {}
            Err(e) => {
                find("tree".into(), format!("unreadable: {e}"));
                break;
            }
        }
    }

    match head_state {
        HeadFileState::Absent if last.seq > 0 => {
            find(
                "spor.head".into(),
                "missing; records lost at the end could not be seen".into(),
            );
        }
        HeadFileState::Absent => {}
        HeadFileState::Damaged => find("spor.head".into(), "damaged (checksum mismatch)".into()),
        HeadFileState::At(h) if h.seq > last.seq => find(
            format!("seq {}", last.seq + 1),
            format!(
                "missing: spor.head says the log reached seq {}, it ends at seq {}",
                h.seq, last.seq
            ),
        ),
        HeadFileState::At(h) if h.seq > 0 => {
            if noted_hash != Some(h.hash) {
                find(
                    format!("seq {}", h.seq),
                    "history rewritten: this record's hash differs from the one noted in spor.head"
                        .into(),
                );
            }
        }
        HeadFileState::At(_) => {}
    }
}
