//! Opening: one pass over the log that checks every record, notes offsets
//! and streams, and decides whether an unreadable record at the end is a
//! torn, unacknowledged write (cut off) or damage (refused).

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::os::unix::fs::FileExt;

use spor_domain::{ParticipantId, wire};

use crate::Head;
use crate::dir::HeadFileState;
use crate::record;
/// What opening found in the log file.
pub(super) struct Scan {
    pub(super) head: Head,
    pub(super) streams: HashMap<ParticipantId, Vec<u64>>,
    pub(super) end: u64,
    pub(super) offsets: Vec<u64>,
    /// A torn, never-acknowledged record starts here and is to be cut off.
    pub(super) torn_at: Option<u64>,
}

pub(super) enum ScanError {
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
pub(super) fn scan_log(log: &File, head_file: HeadFileState) -> Result<Scan, ScanError> {
    let len = log.metadata()?.len();
    let mut reader = BufReader::with_capacity(1 << 20, log);
    let mut offsets = Vec::new();
    let mut streams: HashMap<ParticipantId, Vec<u64>> = HashMap::new();
    let mut head = Head {
        seq: 0,
        hash: [0; 32],
    };
    let mut at = 0u64;
    let mut buf = Vec::new();
    let durable = match head_file {
        HeadFileState::At(h) => h.seq,
        HeadFileState::Absent | HeadFileState::Damaged => 0,
    };
    while at < len {
        let problem = match record::read_one(&mut reader, &mut buf, len - at) {
            Ok(()) => match record::decode(&buf) {
                Ok(rec) if rec.seq == head.seq + 1 => match participant_of(rec.payload) {
                    Some(p) => {
                        streams.entry(p).or_default().push(rec.seq);
                        None
                    }
                    None => Some(format!("seq {}: not a valid event", rec.seq)),
                },
                Ok(rec) => Some(format!(
                    "record at offset {at} says seq {}, expected {}",
                    rec.seq,
                    head.seq + 1
                )),
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
                return Err(ScanError::Corrupt(format!(
                    "{problem}; valid records follow it"
                )));
            }
            return Ok(Scan {
                head: finish(log, head, &offsets, at)?,
                streams,
                end: at,
                offsets,
                torn_at: Some(at),
            });
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
    Ok(Scan {
        head,
        streams,
        end: at,
        offsets,
        torn_at: None,
    })
}

/// The head: the last record's sequence number and hash.
pub(super) fn finish(log: &File, head: Head, offsets: &[u64], end: u64) -> Result<Head, ScanError> {
    let Some(&start) = offsets.last() else {
        return Ok(Head {
            seq: 0,
            hash: [0; 32],
        });
    };
    let mut bytes = vec![0u8; usize::try_from(end - start).unwrap_or(0)];
    log.read_exact_at(&mut bytes, start)?;
    Ok(Head {
        seq: head.seq,
        hash: record::hash(&bytes),
    })
}

/// The participant of a stored line. Canonical lines (`wire::to_line`) begin
/// `{"id":"<uuid>","participant":"<uuid>"`, so it is read from its place;
/// any other line is parsed whole.
pub(super) fn participant_of(payload: &str) -> Option<ParticipantId> {
    const PREFIX: &str = "\",\"participant\":\"";
    if payload.get(43..60) == Some(PREFIX)
        && let Some(p) = payload
            .get(60..96)
            .and_then(|u| uuid::Uuid::parse_str(u).ok())
    {
        return Some(ParticipantId(p));
    }
    wire::parse_stored(payload).ok().map(|e| e.participant)
}
