//! The audit trail's group commit: concurrent entries share fdatasyncs, each
//! is acknowledged only once a sync covering it succeeded, a failed sync
//! fails everyone it covered and stops the trail, and the file stays one
//! dense hash chain that `check` verifies and a reopen continues.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed test, with its line

mod common;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use common::participant;
use spor_store::audit::check;
use spor_store::{AuditEntry, AuditLog, AuditTrail, Disk, RealDisk, StoreError, record};
use uuid::Uuid;

/// The real disk, counting its calls; its `gate`d sync (the `gate`th call,
/// 1-based) first waits until `writes_before` writes have reached it, and
/// then fails if `fail` says so. The wait is bounded, so a trail that keeps
/// writers out during a sync makes the test fail on its counts, not hang.
#[derive(Default)]
struct Counting {
    writes: AtomicUsize,
    syncs: AtomicUsize,
    gate: Option<Gate>,
    fail_write: Option<usize>,
    written: Mutex<usize>,
    wrote: Condvar,
}

struct Gate {
    sync: usize,
    writes_before: usize,
    fail: bool,
}

/// The disk handed to the trail, sharing its counts with the test.
struct Shared(Arc<Counting>);

impl Disk for Shared {
    fn write_at(&self, file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
        let this = &self.0;
        let n = this.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if this.fail_write == Some(n) {
            return Err(io::Error::other("injected write failure"));
        }
        RealDisk.write_at(file, buf, offset)?;
        *this.written.lock().unwrap() += 1;
        this.wrote.notify_all();
        Ok(())
    }

    fn sync_data(&self, file: &File) -> io::Result<()> {
        let this = &self.0;
        let n = this.syncs.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(gate) = this.gate.as_ref().filter(|g| g.sync == n) {
            let written = this.written.lock().unwrap();
            let (_written, _timed_out) = this
                .wrote
                .wait_timeout_while(written, Duration::from_secs(10), |w| {
                    *w < gate.writes_before
                })
                .unwrap();
            if gate.fail {
                return Err(io::Error::other("injected fdatasync failure"));
            }
        }
        RealDisk.sync_data(file)
    }
}

fn open(dir: &Path, disk: &Arc<Counting>) -> AuditLog {
    AuditLog::open(dir, Box::new(Shared(Arc::clone(disk)))).unwrap()
}

/// Entry `n`; every 37th names 650 participants, so it takes three records.
fn entry(n: u128) -> AuditEntry {
    let count = if n.is_multiple_of(37) { 650 } else { 1 + n % 3 };
    AuditEntry {
        id: Uuid::from_u128(0xAD00_0000_0000_0000_0000_0000_0000_0000 | n),
        at: Utc.with_ymd_and_hms(2006, 1, 2, 8, 0, 0).single().unwrap(),
        who: format!("adviser-{}", n % 5),
        role: "adviser".into(),
        units: vec!["0301".into()],
        action: "GET /api/v1/participants/{id}".into(),
        from: "127.0.0.1".into(),
        participants: (0..count).map(|i| participant(n * 1000 + i)).collect(),
    }
}

fn records_of(e: &AuditEntry) -> u64 {
    u64::try_from(e.participants.len().div_ceil(300).max(1)).unwrap()
}

/// Reads the file record by record, independently of the trail's own walk:
/// each record's (seq, entry id, part, parts).
fn file_records(dir: &Path) -> Vec<(u64, Uuid, u64, u64)> {
    let file = File::open(dir.join("audit.log")).unwrap();
    let len = file.metadata().unwrap().len();
    let mut reader = BufReader::new(file);
    let (mut at, mut buf, mut out) = (0u64, Vec::new(), Vec::new());
    while at < len {
        record::read_one(&mut reader, &mut buf, len - at).unwrap();
        let rec = record::decode(&buf).unwrap();
        let v: serde_json::Value = serde_json::from_str(rec.payload).unwrap();
        let id = Uuid::parse_str(v["id"].as_str().unwrap()).unwrap();
        out.push((
            rec.seq,
            id,
            v["part"].as_u64().unwrap(),
            v["parts"].as_u64().unwrap(),
        ));
        at += u64::try_from(buf.len()).unwrap();
    }
    out
}

/// The seq the head file names.
fn head_seq(dir: &Path) -> u64 {
    let bytes = std::fs::read(dir.join("audit.head")).unwrap();
    u64::from_be_bytes(bytes[..8].try_into().unwrap())
}

fn write_head(dir: &Path, seq: u64, hash: [u8; 32]) {
    let mut buf = seq.to_be_bytes().to_vec();
    buf.extend_from_slice(&hash);
    let crc = crc32fast::hash(&buf);
    buf.extend_from_slice(&crc.to_be_bytes());
    std::fs::write(dir.join("audit.head"), buf).unwrap();
}

fn all_entries(log: &AuditLog) -> Vec<AuditEntry> {
    let mut out = Vec::new();
    log.entries(&mut |e| out.push(e)).unwrap();
    out
}

/// Runs `threads` threads, each recording `per_thread` entries numbered
/// `thread * per_thread + i`, and returns every result with its number.
fn record_concurrently(
    log: &Arc<AuditLog>,
    threads: u128,
    per_thread: u128,
) -> Vec<(u128, Result<(), StoreError>)> {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let log = Arc::clone(log);
            std::thread::spawn(move || {
                (0..per_thread)
                    .map(|i| t * per_thread + i)
                    .map(|n| (n, log.record(&entry(n))))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

#[test]
fn sixteen_threads_recording_at_once_leave_each_entry_once_in_one_dense_verified_chain() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = Arc::new(Counting::default());
    let log = Arc::new(open(tmp.path(), &disk));
    let results = record_concurrently(&log, 16, 200);
    assert!(
        results.iter().all(|(_, r)| r.is_ok()),
        "every record succeeded"
    );

    let expected: HashMap<Uuid, AuditEntry> = (0..3200).map(entry).map(|e| (e.id, e)).collect();
    let expected_records: u64 = expected.values().map(records_of).sum();
    let in_file = file_records(tmp.path());
    let seqs: Vec<u64> = in_file.iter().map(|r| r.0).collect();
    assert_eq!(
        seqs,
        (1..=expected_records).collect::<Vec<_>>(),
        "sequence numbers are dense, from 1"
    );
    // The parts of one entry are adjacent and in order; each entry once.
    let mut seen: HashMap<Uuid, u64> = HashMap::new();
    let mut i = 0;
    while i < in_file.len() {
        let (_, id, part, parts) = in_file[i];
        assert_eq!(part, 0, "an entry begins with its part 0");
        assert_eq!(parts, records_of(&expected[&id]));
        for p in 0..parts {
            assert_eq!(
                (in_file[i].1, in_file[i].2),
                (id, p),
                "the parts of {id} are adjacent"
            );
            i += 1;
        }
        *seen.entry(id).or_default() += 1;
    }
    assert_eq!(seen.len(), 3200);
    assert!(
        seen.values().all(|&n| n == 1),
        "every entry is in the file exactly once"
    );

    let read = all_entries(&log);
    assert_eq!(read.len(), 3200);
    assert!(
        read.iter().all(|e| expected[&e.id] == *e),
        "each entry reads back whole"
    );

    let checked = check(tmp.path());
    assert!(checked.findings.is_empty(), "{:?}", checked.findings);
    assert!(checked.torn.is_none());
    assert_eq!(checked.records, expected_records);
    assert_eq!(
        head_seq(tmp.path()),
        expected_records,
        "the last sync wrote the head"
    );

    let syncs = disk.syncs.load(Ordering::SeqCst);
    assert!(
        syncs < 3200,
        "concurrent records shared fdatasyncs: {syncs} for 3200 records"
    );
}

#[test]
fn records_written_while_a_sync_runs_share_the_next_one() {
    let tmp = tempfile::tempdir().unwrap();
    // The first sync waits until all 16 entries are in the file.
    let disk = Arc::new(Counting {
        gate: Some(Gate {
            sync: 1,
            writes_before: 16,
            fail: false,
        }),
        ..Counting::default()
    });
    let log = Arc::new(open(tmp.path(), &disk));
    let results = record_concurrently(&log, 16, 1);
    assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
    assert_eq!(
        disk.writes.load(Ordering::SeqCst),
        16,
        "one write per entry"
    );
    // The first sync covers what was written before it began (at least one
    // entry); the second covers the rest.
    let syncs = disk.syncs.load(Ordering::SeqCst);
    assert!((1..=2).contains(&syncs), "16 records, {syncs} fdatasyncs");
    assert_eq!(
        check(tmp.path()).records,
        (0..16).map(|n| records_of(&entry(n))).sum::<u64>()
    );
}

#[test]
fn a_failed_fdatasync_fails_every_entry_it_covered_and_stops_the_trail() {
    let tmp = tempfile::tempdir().unwrap();
    // Three entries are made durable one by one; the fourth sync waits until
    // the next eight entries are written, then fails.
    let disk = Arc::new(Counting {
        gate: Some(Gate {
            sync: 4,
            writes_before: 11,
            fail: true,
        }),
        ..Counting::default()
    });
    let log = Arc::new(open(tmp.path(), &disk));
    for n in 100..103 {
        log.record(&entry(n)).unwrap();
    }
    let durable: u64 = (100..103).map(|n| records_of(&entry(n))).sum();
    assert_eq!(head_seq(tmp.path()), durable);

    let results = record_concurrently(&log, 8, 1);
    for (n, r) in &results {
        assert!(
            matches!(r, Err(StoreError::Stopped(_))),
            "entry {n} was not durable, yet: {r:?}"
        );
    }
    let later = log.record(&entry(1000));
    assert!(matches!(later, Err(StoreError::Stopped(_))), "{later:?}");
    assert_eq!(
        disk.syncs.load(Ordering::SeqCst),
        4,
        "a failed fdatasync is never retried"
    );

    // Only what was acknowledged is read back, and the head names it.
    let read: Vec<Uuid> = all_entries(&log).iter().map(|e| e.id).collect();
    assert_eq!(read, (100..103).map(|n| entry(n).id).collect::<Vec<_>>());
    assert_eq!(
        head_seq(tmp.path()),
        durable,
        "the head never names a record whose sync failed"
    );
}

#[test]
fn a_failed_write_fails_its_entry_and_stops_the_trail() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = Arc::new(Counting {
        fail_write: Some(3),
        ..Counting::default()
    });
    let log = open(tmp.path(), &disk);
    log.record(&entry(1)).unwrap();
    log.record(&entry(2)).unwrap();
    assert!(matches!(log.record(&entry(3)), Err(StoreError::Stopped(_))));
    assert!(matches!(log.record(&entry(4)), Err(StoreError::Stopped(_))));
    assert_eq!(
        disk.writes.load(Ordering::SeqCst),
        3,
        "nothing is written after a failed write"
    );
    assert_eq!(all_entries(&log).len(), 2);
    drop(log);
    let checked = check(tmp.path());
    assert!(checked.findings.is_empty(), "{:?}", checked.findings);
    assert_eq!(checked.records, 2);
}

#[test]
fn a_reopened_trail_continues_the_chain_at_its_tail() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = Arc::new(Counting::default());
    let first: u64 = {
        let log = Arc::new(open(tmp.path(), &disk));
        let results = record_concurrently(&log, 4, 50);
        assert!(results.iter().all(|(_, r)| r.is_ok()));
        (0..200).map(|n| records_of(&entry(n))).sum()
    };
    assert_eq!(head_seq(tmp.path()), first);
    let log = open(tmp.path(), &disk);
    log.record(&entry(5000)).unwrap();
    let seqs: Vec<u64> = file_records(tmp.path()).iter().map(|r| r.0).collect();
    assert_eq!(seqs, (1..=first + 1).collect::<Vec<_>>());
    assert_eq!(head_seq(tmp.path()), first + 1);
    let read = all_entries(&log);
    assert_eq!(read.len(), 201);
    assert_eq!(read.last(), Some(&entry(5000)));
    let checked = check(tmp.path());
    assert!(checked.findings.is_empty(), "{:?}", checked.findings);
    assert_eq!(checked.records, first + 1);
}

#[test]
fn check_compares_the_head_with_the_record_it_names() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = Arc::new(Counting::default());
    let mut lagging = Vec::new();
    {
        let log = open(tmp.path(), &disk);
        for n in 1..=10 {
            log.record(&entry(n)).unwrap();
            if n == 4 {
                lagging = std::fs::read(tmp.path().join("audit.head")).unwrap();
            }
        }
    }
    // A head that lags the trail (a power cut before its page reached the
    // disk) is fine.
    std::fs::write(tmp.path().join("audit.head"), &lagging).unwrap();
    let checked = check(tmp.path());
    assert!(checked.findings.is_empty(), "{:?}", checked.findings);
    assert_eq!(checked.records, 10);
    drop(open(tmp.path(), &disk));

    // A head naming record 4 with another hash: record 4 was rewritten.
    write_head(tmp.path(), 4, [7; 32]);
    let checked = check(tmp.path());
    assert_eq!(checked.findings.len(), 1, "{:?}", checked.findings);
    assert!(
        checked.findings[0].position.ends_with("record 4"),
        "{:?}",
        checked.findings
    );
    assert!(checked.findings[0].problem.contains("rewritten"));
    assert!(AuditLog::open(tmp.path(), Box::new(RealDisk)).is_err());

    // A head past a trail that ends cleanly: durable records are missing.
    write_head(tmp.path(), 12, [7; 32]);
    let checked = check(tmp.path());
    assert_eq!(checked.findings.len(), 1, "{:?}", checked.findings);
    assert!(
        checked.findings[0].problem.contains("record 12"),
        "{:?}",
        checked.findings
    );
    assert!(AuditLog::open(tmp.path(), Box::new(RealDisk)).is_err());
}
