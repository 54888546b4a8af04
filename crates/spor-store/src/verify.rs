//! `spor verify`: walks the log and every index and reports each changed,
//! missing, reordered or unreadable record with its position.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use spor_domain::{EventId, ParticipantId, wire};

use crate::dir::{HeadFileState, read_head_file};
use crate::record::{self, Hash};
use crate::sled_store::{GENESIS, PREFIX_ID, PREFIX_LOG, PREFIX_STREAM, log_key_seq, seq_value};
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
        let mut report =
            VerifyReport { records: 0, head: Head { seq: 0, hash: GENESIS }, findings: Vec::new() };
        let result = catch_unwind(AssertUnwindSafe(|| walk(self, &mut report)));
        if result.is_err() {
            report.findings.push(Finding {
                position: "sled".into(),
                problem: "the store's files could not be read (sled failed on a damaged page)".into(),
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
    let mut expected_seq = 1u64;
    // The hash the next record must carry; `None` after an unreadable record,
    // whose successor cannot be checked against it.
    let mut prev: Option<Hash> = Some(GENESIS);
    let mut ids: HashMap<EventId, u64> = HashMap::new();
    let mut streams: HashMap<ParticipantId, Vec<u64>> = HashMap::new();
    let mut last = Head { seq: 0, hash: GENESIS };
    let mut records = 0u64;
    for item in tree.scan_prefix([PREFIX_LOG]) {
        let (key, value) = match item {
            Ok(kv) => kv,
            Err(e) => {
                find(format!("after seq {}", last.seq), format!("log unreadable: {e}"));
                break;
            }
        };
        let Some(seq) = log_key_seq(&key) else {
            find(format!("after seq {}", last.seq), "malformed log key".into());
            continue;
        };
        records += 1;
        if seq != expected_seq {
            find(
                format!("seq {expected_seq}"),
                format!("missing: the log jumps from seq {} to seq {seq}", expected_seq - 1),
            );
            prev = None;
        }
        expected_seq = seq + 1;
        let hash = record::hash(&value);
        last = Head { seq, hash };
        let rec = match record::decode(&value) {
            Ok(r) => r,
            Err(e) => {
                find(format!("seq {seq}"), format!("changed or damaged: {e}"));
                prev = None;
                continue;
            }
        };
        if rec.seq != seq {
            find(format!("seq {seq}"), format!("reordered: the record there is seq {}", rec.seq));
        }
        if let Some(p) = prev {
            if rec.prev_hash != p {
                find(
                    format!("seq {seq}"),
                    format!(
                        "hash chain broken: the record before seq {seq} was changed, or this one was put in its place"
                    ),
                );
            }
        }
        prev = Some(hash);
        match wire::parse_stored(rec.payload) {
            Ok(event) => {
                if let Some(first) = ids.insert(event.id, seq) {
                    find(format!("seq {seq}"), format!("{} is stored twice (first at seq {first})", event.id));
                }
                streams.entry(event.participant).or_default().push(seq);
            }
            Err(e) => find(format!("seq {seq}"), format!("not a valid event: {e}")),
        }
    }
    report.records = records;
    report.head = last;

    for item in tree.scan_prefix([PREFIX_ID]) {
        let Ok((key, value)) = item else {
            find("id index".into(), "unreadable".into());
            break;
        };
        let id = key.get(1..17).and_then(|b| uuid::Uuid::from_slice(b).ok()).map(EventId);
        let seq = seq_value(&value);
        match (id, seq) {
            (Some(id), Some(seq)) => match ids.remove(&id) {
                Some(s) if s == seq => {}
                Some(s) => find(format!("id index {}", id.0), format!("points at seq {seq}, the event is at seq {s}")),
                None => find(format!("id index {}", id.0), format!("points at seq {seq}, but no such event is in the log")),
            },
            _ => find("id index".into(), "malformed entry".into()),
        }
    }
    let mut missing_ids: Vec<(u64, EventId)> = ids.into_iter().map(|(id, s)| (s, id)).collect();
    missing_ids.sort();
    for (seq, id) in missing_ids {
        find(format!("seq {seq}"), format!("{id} is missing from the id index"));
    }

    let mut seen: HashMap<ParticipantId, u32> = HashMap::new();
    for item in tree.scan_prefix([PREFIX_STREAM]) {
        let Ok((key, value)) = item else {
            find("stream index".into(), "unreadable".into());
            break;
        };
        let participant = key.get(1..17).and_then(|b| uuid::Uuid::from_slice(b).ok()).map(ParticipantId);
        let version = key.get(17..21).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes);
        let (Some(p), Some(v), Some(seq)) = (participant, version, seq_value(&value)) else {
            find("stream index".into(), "malformed entry".into());
            continue;
        };
        let expected = streams.get(&p).and_then(|s| s.get(usize::try_from(v).ok()?.checked_sub(1)?));
        if expected != Some(&seq) {
            find(
                format!("stream index {p} version {v}"),
                format!("points at seq {seq}, the log has {}", expected.map_or("nothing".to_string(), |s| format!("seq {s}"))),
            );
        }
        *seen.entry(p).or_default() += 1;
    }
    let mut short: Vec<(ParticipantId, usize, u32)> = streams
        .iter()
        .filter_map(|(p, s)| {
            let n = seen.get(p).copied().unwrap_or(0);
            (usize::try_from(n).ok()? != s.len()).then_some((*p, s.len(), n))
        })
        .collect();
    short.sort();
    for (p, logged, indexed) in short {
        find(format!("stream index {p}"), format!("the log has {logged} events, the index {indexed}"));
    }

    // sled's iterator yields the same error again and again on a damaged
    // page, so every loop here stops at the first error.
    for item in tree.iter() {
        match item {
            Ok((key, _)) if key.first().is_none_or(|k| ![PREFIX_LOG, PREFIX_ID, PREFIX_STREAM].contains(k)) => {
                find("tree".into(), format!("unknown key {:?}", key.first()));
            }
            Ok(_) => {}
            Err(e) => {
                find("tree".into(), format!("unreadable: {e}"));
                break;
            }
        }
    }

    match read_head_file(store.dir()) {
        HeadFileState::Absent if last.seq > 0 => {
            find("spor.head".into(), "missing; records lost at the end could not be seen".into());
        }
        HeadFileState::Absent => {}
        HeadFileState::Damaged => find("spor.head".into(), "damaged (checksum mismatch)".into()),
        HeadFileState::At(h) if h.seq > last.seq => find(
            format!("seq {}", last.seq + 1),
            format!("missing: spor.head says the log reached seq {}, it ends at seq {}", h.seq, last.seq),
        ),
        HeadFileState::At(h) if h.seq > 0 => {
            let at = tree
                .get(crate::sled_store::log_key(h.seq))
                .ok()
                .flatten()
                .map(|v| record::hash(&v));
            if at != Some(h.hash) {
                find(
                    format!("seq {}", h.seq),
                    "history rewritten: this record's hash differs from the one noted in spor.head".into(),
                );
            }
        }
        HeadFileState::At(_) => {}
    }
}
