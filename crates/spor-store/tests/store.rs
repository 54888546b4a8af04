//! The store's promises at its API: idempotency (C2), expected versions
//! under contention (C1), shared fsyncs, and no retry after a failed fsync (D5).

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed test, with its line

mod common;

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{event, participant};
use spor_domain::event::{Completed, CompletedReason};
use spor_domain::{EventBody, Policy, Timeline};
use spor_store::{Disk, EventStore, OpenOptions, RealDisk, SledStore, StoreError, StreamAppend};

fn open(dir: &std::path::Path, disk: Box<dyn Disk>) -> SledStore {
    SledStore::open(
        dir,
        OpenOptions {
            create: true,
            disk,
            ..OpenOptions::default()
        },
    )
    .unwrap()
}

/// Counts the durability calls and fails the Nth one, as a dying disk would.
struct FailingDisk {
    calls: Arc<AtomicUsize>,
    fail_at: usize,
    error: io::ErrorKind,
    /// Fail in `write_at` (a write error) instead of `sync_data`.
    in_write: bool,
}

impl Disk for FailingDisk {
    fn write_at(&self, file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
        if self.in_write && self.calls.fetch_add(1, Ordering::SeqCst) + 1 >= self.fail_at {
            return Err(io::Error::from(self.error));
        }
        RealDisk.write_at(file, buf, offset)
    }
    fn sync_data(&self, file: &File) -> io::Result<()> {
        if !self.in_write && self.calls.fetch_add(1, Ordering::SeqCst) + 1 >= self.fail_at {
            return Err(io::Error::from(self.error));
        }
        RealDisk.sync_data(file)
    }
}

fn one(p: u128, n: u128, version: u32) -> Vec<StreamAppend> {
    vec![StreamAppend {
        participant: participant(p),
        expected_version: version,
        events: vec![event(participant(p), n)],
    }]
}

#[test]
fn the_same_id_with_the_same_content_is_a_noop_and_with_other_content_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path(), Box::new(RealDisk));
    let first = store.append(&one(1, 1, 0)).unwrap();
    assert_eq!(first.stored.len(), 1);
    let again = store.append(&one(1, 1, 0)).unwrap();
    assert!(again.stored.is_empty());
    assert_eq!(again.already, first.stored);
    let mut other = one(1, 1, 1);
    other[0].events[0].by = Some("someone else".into());
    assert!(matches!(
        store.append(&other),
        Err(StoreError::IdConflict { .. })
    ));
    assert_eq!(store.head().seq, 1);
}

#[test]
fn an_id_conflict_is_found_after_a_restart_and_100_000_other_events() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let store = open(tmp.path(), Box::new(RealDisk));
        store.append(&one(1, 1, 0)).unwrap();
        for chunk in 0..10u128 {
            let appends: Vec<StreamAppend> = (0..100u128)
                .map(|s| {
                    let p = participant(1000 + chunk * 100 + s);
                    StreamAppend {
                        participant: p,
                        expected_version: 0,
                        events: (0..100u128)
                            .map(|i| event(p, 10_000 + chunk * 10_000 + s * 100 + i))
                            .collect(),
                    }
                })
                .collect();
            store.append(&appends).unwrap();
        }
        assert_eq!(store.head().seq, 100_001);
    }
    let store = open(tmp.path(), Box::new(RealDisk));
    let mut other = one(1, 1, 1);
    other[0].events[0].by = Some("someone else".into());
    assert!(matches!(
        store.append(&other),
        Err(StoreError::IdConflict { .. })
    ));
    assert!(store.append(&one(1, 1, 0)).unwrap().stored.is_empty());
    assert!(store.verify().is_clean());
}

#[test]
fn a_stale_expected_version_is_a_conflict() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path(), Box::new(RealDisk));
    store.append(&one(1, 1, 0)).unwrap();
    match store.append(&one(1, 2, 0)) {
        Err(StoreError::Conflict {
            expected: 0,
            actual: 1,
            ..
        }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    store.append(&one(1, 2, 1)).unwrap();
}

/// C1: 64 writers race to log on one participant, each reading the
/// timeline, letting the domain decide, and appending at the version read.
/// Every conflict is retried with a fresh read. No update is lost and only
/// one exit gets in.
#[test]
fn sixty_four_writers_on_one_participant_lose_nothing_and_exit_once() {
    use spor_domain::event::*;
    let tmp = tempfile::tempdir().unwrap();
    let store = Arc::new(open(tmp.path(), Box::new(RealDisk)));
    let p = participant(1);
    let start = spor_fixture_start(p);
    store
        .append(&[StreamAppend {
            participant: p,
            expected_version: 0,
            events: start,
        }])
        .unwrap();
    let conflicts = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(std::sync::Barrier::new(64));
    let threads: Vec<_> = (0..64u128)
        .map(|w| {
            let store = Arc::clone(&store);
            let conflicts = Arc::clone(&conflicts);
            let gate = Arc::clone(&gate);
            std::thread::spawn(move || {
                let mut e = event(p, 1000 + w);
                e.date = chrono::NaiveDate::from_ymd_opt(2006, 6, 1).unwrap();
                e.recorded_at =
                    chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2006, 6, 2, 8, 0, 0).unwrap();
                // Every fourth writer tries to end the programme; the others log an absence.
                e.body = if w % 4 == 0 {
                    EventBody::Completed(Completed {
                        reason: CompletedReason::WorkFullTime,
                        main_activity: None,
                        support: vec![],
                    })
                } else {
                    EventBody::Absence(Absence {
                        hours: serde_json::from_str("2").unwrap(),
                        approved: true,
                    })
                };
                gate.wait();
                loop {
                    let timeline = Timeline::from_entries(store.stream(p).unwrap());
                    if timeline.admit(&e, &Policy::default()).is_err() {
                        return false; // refused by the rules: after the exit
                    }
                    // Widen the window between reading and writing, as a
                    // slow adviser's browser would.
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    let append = [StreamAppend {
                        participant: p,
                        expected_version: timeline.version(),
                        events: vec![e.clone()],
                    }];
                    match store.append(&append) {
                        Ok(_) => return true,
                        Err(StoreError::Conflict { .. }) => {
                            conflicts.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(other) => panic!("{other}"),
                    }
                }
            })
        })
        .collect();
    let accepted: Vec<bool> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let timeline = Timeline::from_entries(store.stream(p).unwrap());
    let exits = timeline
        .entries()
        .iter()
        .filter(|e| e.event.body.kind().is_exit())
        .count();
    assert_eq!(exits, 1, "exactly one exit");
    let stored = timeline.entries().len() - 4;
    assert_eq!(
        stored,
        accepted.iter().filter(|a| **a).count(),
        "every accepted append is stored"
    );
    assert!(
        conflicts.load(Ordering::Relaxed) > 0,
        "the race produced conflicts"
    );
    assert!(store.verify().is_clean());
}

/// Registered, claimed, granted and started, with a valid synthetic number.
fn spor_fixture_start(p: spor_domain::ParticipantId) -> Vec<spor_domain::Event> {
    use spor_domain::event::*;
    use spor_domain::person::{PersonNumber, make_fodselsnummer};
    let birth = chrono::NaiveDate::from_ymd_opt(1980, 1, 1).unwrap();
    let person = PersonNumber::parse(
        &(0..1000)
            .find_map(|i| make_fodselsnummer(birth, i, 0))
            .unwrap(),
    )
    .unwrap();
    let bodies = [
        EventBody::Registered(Registered {
            person,
            birth_date: None,
            basis: Basis::Asylum,
        }),
        EventBody::Claimed,
        EventBody::Granted(Granted { months: 24 }),
        EventBody::Started,
    ];
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let mut e = event(p, u128::try_from(i).unwrap() + 1);
            e.body = body;
            e
        })
        .collect()
}

#[test]
fn concurrent_appends_share_fsyncs() {
    let tmp = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let disk = FailingDisk {
        calls: Arc::clone(&calls),
        fail_at: usize::MAX,
        error: io::ErrorKind::Other,
        in_write: false,
    };
    let store = Arc::new(open(tmp.path(), Box::new(disk)));
    let threads: Vec<_> = (0..16u128)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for i in 0..50u32 {
                    store.append(&one(t, t * 1000 + u128::from(i), i)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(store.head().seq, 800);
    let syncs = calls.load(Ordering::SeqCst);
    assert!(
        syncs < 800,
        "{syncs} fsyncs for 800 appends: no group commit"
    );
}

/// D5: a failed fsync (EIO) or write (ENOSPC) stops the store: the failing
/// append is not acknowledged, every later append is refused, the failed
/// call is never retried, and everything acknowledged before survives.
#[test]
fn a_failed_fsync_or_write_stops_all_writes_and_is_never_retried() {
    for (error, in_write) in [
        (io::ErrorKind::Other, false),
        (io::ErrorKind::StorageFull, true),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        {
            let disk = FailingDisk {
                calls: Arc::clone(&calls),
                fail_at: 4,
                error,
                in_write,
            };
            let store = open(tmp.path(), Box::new(disk));
            for i in 0..3u32 {
                store.append(&one(1, u128::from(i), i)).unwrap();
            }
            let failed = store.append(&one(1, 3, 3)).unwrap_err();
            assert!(matches!(failed, StoreError::Stopped(_)), "{failed}");
            let calls_after_failure = calls.load(Ordering::SeqCst);
            for i in 4..10u32 {
                let later = store.append(&one(2, u128::from(i), i - 4)).unwrap_err();
                assert!(later.to_string().contains("writes are stopped"), "{later}");
            }
            assert_eq!(
                calls.load(Ordering::SeqCst),
                calls_after_failure,
                "the failed call was retried"
            );
        }
        let store = open(tmp.path(), Box::new(RealDisk));
        for i in 0..3u128 {
            assert!(
                store.lookup(event(participant(1), i).id).unwrap().is_some(),
                "acknowledged event {i} lost"
            );
        }
        assert!(store.lookup(event(participant(2), 4).id).unwrap().is_none());
        assert!(store.verify().is_clean());
    }
}

#[test]
fn a_reopened_store_reads_streams_back_in_recording_order() {
    // Reading back after reopen gives the events in recording order per stream.
    let tmp = tempfile::tempdir().unwrap();
    {
        let store = open(tmp.path(), Box::new(RealDisk));
        for i in 0..5u32 {
            store.append(&one(1, u128::from(i), i)).unwrap();
        }
        let mut e = event(participant(1), 99);
        e.body = EventBody::Completed(Completed {
            reason: CompletedReason::Other,
            main_activity: None,
            support: vec![],
        });
        store
            .append(&[StreamAppend {
                participant: participant(1),
                expected_version: 5,
                events: vec![e],
            }])
            .unwrap();
    }
    let store = open(tmp.path(), Box::new(RealDisk));
    let stream = store.stream(participant(1)).unwrap();
    assert_eq!(
        stream.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6]
    );
    assert_eq!(store.head().seq, 6);
}

#[test]
fn an_import_that_did_not_end_is_rolled_back_when_the_store_opens_and_one_that_ended_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let store = open(tmp.path(), Box::new(RealDisk));
        store.append(&one(1, 1, 0)).unwrap();
        // An import that ended: kept.
        store.begin_import().unwrap();
        store.append(&one(2, 2, 0)).unwrap();
        store.append(&one(3, 3, 0)).unwrap();
        store.end_import().unwrap();
        assert_eq!(store.head().seq, 3);
    }
    let head_after_first;
    {
        let store = open(tmp.path(), Box::new(RealDisk));
        assert_eq!(store.head().seq, 3, "an import that ended is kept");
        head_after_first = store.head();
        // An import cut short after two durable batches (the store is
        // dropped without `end_import`, as a killed process leaves it).
        store.begin_import().unwrap();
        store.append(&one(4, 4, 0)).unwrap();
        store.append(&one(1, 5, 1)).unwrap();
        assert_eq!(store.head().seq, 5);
    }
    let store = open(tmp.path(), Box::new(RealDisk));
    assert_eq!(
        store.head(),
        head_after_first,
        "the head is the one before the import"
    );
    assert!(
        store.lookup(event(participant(4), 4).id).unwrap().is_none(),
        "its ids are gone from the index"
    );
    assert_eq!(
        store.stream(participant(1)).unwrap().len(),
        1,
        "its events are gone from their streams"
    );
    assert_eq!(store.stream(participant(4)).unwrap().len(), 0);
    assert!(!tmp.path().join("spor.import").exists());
    // The same events can be written again, at the same place in the log.
    store.append(&one(4, 4, 0)).unwrap();
    assert_eq!(store.head().seq, 4);
    drop(store);
    let store = open(tmp.path(), Box::new(RealDisk));
    assert_eq!(store.head().seq, 4);
    let report = store.verify();
    assert!(report.is_clean(), "{:?}", report.findings);
    assert_eq!(report.records, 4);
}

#[test]
fn a_marker_that_does_not_match_the_log_is_damage_and_nothing_is_cut() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let store = open(tmp.path(), Box::new(RealDisk));
        store.append(&one(1, 1, 0)).unwrap();
        store.begin_import().unwrap();
        store.append(&one(2, 2, 0)).unwrap();
    }
    // The marker names another head than the one the import was chained to.
    let marker = tmp.path().join("spor.import");
    let text = std::fs::read_to_string(&marker).unwrap();
    let (start, rest) = text.split_once('\n').unwrap();
    let fields: Vec<&str> = rest.trim().split(' ').collect();
    std::fs::write(
        &marker,
        format!("{start}\n{} {} {}\n", fields[0], fields[1], "ab".repeat(32)),
    )
    .unwrap();
    let log_len = std::fs::metadata(tmp.path().join("spor.log"))
        .unwrap()
        .len();
    let err = SledStore::open(tmp.path(), OpenOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert_eq!(
        std::fs::metadata(tmp.path().join("spor.log"))
            .unwrap()
            .len(),
        log_len,
        "nothing was cut"
    );
}

#[test]
fn a_second_import_is_refused_while_a_failed_one_awaits_its_rollback() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path(), Box::new(RealDisk));
    store.begin_import().unwrap();
    store.append(&one(1, 1, 0)).unwrap();
    // The first import failed part-way: no end_import.
    assert!(store.begin_import().is_err());
    drop(store);
    let store = open(tmp.path(), Box::new(RealDisk));
    assert_eq!(store.head().seq, 0, "rolled back at the next open");
    store.begin_import().unwrap();
    store.end_import().unwrap();
}

#[test]
fn a_format_1_directory_is_moved_to_format_2_when_opened() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let store = open(tmp.path(), Box::new(RealDisk));
        store.append(&one(1, 1, 0)).unwrap();
    }
    std::fs::write(tmp.path().join("spor.format"), "spor store format 1\n").unwrap();
    let store = open(tmp.path(), Box::new(RealDisk));
    assert_eq!(store.head().seq, 1);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("spor.format")).unwrap(),
        "spor store format 2\n"
    );
}

/// A disk whose first fdatasync waits, then fails.
struct SlowFailingSync {
    started: Arc<std::sync::Barrier>,
}

impl Disk for SlowFailingSync {
    fn write_at(&self, file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
        RealDisk.write_at(file, buf, offset)
    }
    fn sync_data(&self, _file: &File) -> io::Result<()> {
        self.started.wait();
        std::thread::sleep(std::time::Duration::from_millis(300));
        Err(io::Error::from(io::ErrorKind::Other))
    }
}

#[test]
fn a_retry_is_not_told_already_stored_before_the_first_write_is_durable() {
    let tmp = tempfile::tempdir().unwrap();
    let started = Arc::new(std::sync::Barrier::new(2));
    let store = Arc::new(open(
        tmp.path(),
        Box::new(SlowFailingSync {
            started: Arc::clone(&started),
        }),
    ));
    let first = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || store.append(&one(1, 1, 0)))
    };
    // The first write is in the file; its sync has begun and will fail.
    started.wait();
    let retry = store.append(&one(1, 1, 0));
    let looked_up = store.lookup(event(participant(1), 1).id);
    assert!(
        first.join().unwrap().is_err(),
        "the first write's sync failed"
    );
    assert!(
        retry.is_err(),
        "the retry waited for the sync and learned it failed: {retry:?}"
    );
    assert!(
        looked_up.is_err(),
        "a lookup does not find an event that was never durable: {looked_up:?}"
    );
}
