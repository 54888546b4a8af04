//! The conformance suite every [`EventStore`] backend must pass: the
//! contract's guarantees that do not depend on how a backend keeps its
//! events. A backend's own tests call [`run`] with a way to open an empty
//! store; the sled store's are in `tests/conformance.rs`, and a PostgreSQL
//! backend runs the same cases.
//!
//! Compiled only with the `conformance` feature, for tests.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use spor_domain::{Event, EventBody, EventId, ParticipantId, UnitCode, wire};
use uuid::Uuid;

use crate::{EventStore, StoreError, StreamAppend};

/// One case: a name for the failure message and the check itself.
pub struct Case {
    pub name: &'static str,
    pub check: fn(Arc<dyn EventStore>),
}

/// Every case, each to run on a fresh, empty store.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "appends get gap-free sequence numbers and read back in order",
            check: appends_read_back,
        },
        Case {
            name: "a stale expected version is refused with the actual one",
            check: stale_version_refused,
        },
        Case {
            name: "the same id with the same content is a no-op, with other content an error",
            check: ids_are_idempotent,
        },
        Case {
            name: "an event must belong to the stream it is appended to",
            check: wrong_stream_refused,
        },
        Case {
            name: "one append is all or nothing",
            check: append_is_all_or_nothing,
        },
        Case {
            name: "append_all lands every batch",
            check: append_all_lands_every_batch,
        },
        Case {
            name: "append_all that fails part-way leaves nothing, and the next one lands",
            check: append_all_fails_whole,
        },
        Case {
            name: "racing writers at one version: exactly one wins",
            check: racing_writers_one_wins,
        },
    ]
}

/// Runs every case on a fresh store from `open`, naming the case that fails.
pub fn run(open: &mut dyn FnMut() -> Arc<dyn EventStore>) {
    for case in cases() {
        let store = open();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (case.check)(store)));
        if let Err(e) = result {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()));
            panic!(
                "conformance case failed: {}: {}",
                case.name,
                why.unwrap_or_default()
            );
        }
    }
}

/// A participant numbered `n`.
pub fn participant(n: u128) -> ParticipantId {
    ParticipantId(Uuid::from_u128(
        0xC000_0000_0000_0000_0000_0000_0000_0000 | n,
    ))
}

/// A `claimed` event numbered `n` of participant `p` (the store judges no
/// timeline, so one kind serves).
pub fn event(p: ParticipantId, n: u128) -> Event {
    Event {
        id: EventId(Uuid::from_u128(
            0xCE00_0000_0000_0000_0000_0000_0000_0000 | n,
        )),
        participant: p,
        unit: UnitCode::parse("0301").unwrap(),
        date: NaiveDate::from_ymd_opt(2006, 1, 1).unwrap(),
        recorded_at: Utc.with_ymd_and_hms(2006, 1, 2, 8, 0, 0).single().unwrap(),
        by: Some("adviser-1".into()),
        body: EventBody::Claimed,
    }
}

fn one(p: ParticipantId, version: u32, events: Vec<Event>) -> Vec<StreamAppend> {
    vec![StreamAppend {
        participant: p,
        expected_version: version,
        events,
    }]
}

fn appends_read_back(store: Arc<dyn EventStore>) {
    let (a, b) = (participant(1), participant(2));
    let out = store
        .append(&one(a, 0, vec![event(a, 1), event(a, 2)]))
        .unwrap();
    assert_eq!(out.stored.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2]);
    store.append(&one(b, 0, vec![event(b, 3)])).unwrap();
    store.append(&one(a, 2, vec![event(a, 4)])).unwrap();
    assert_eq!(store.head().seq, 4);
    let stream: Vec<(u64, EventId)> = store
        .stream(a)
        .unwrap()
        .into_iter()
        .map(|(s, e)| (s, e.id))
        .collect();
    assert_eq!(
        stream,
        [
            (1, event(a, 1).id),
            (2, event(a, 2).id),
            (4, event(a, 4).id)
        ]
    );
    assert_eq!(
        store.lookup(event(b, 3).id).unwrap(),
        Some((3, event(b, 3)))
    );
    assert_eq!(store.lookup(event(b, 99).id).unwrap(), None);
    let mut seen = Vec::new();
    store
        .scan(2, &mut |seq, e| {
            seen.push((seq, e.id));
            Ok(())
        })
        .unwrap();
    assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), [2, 3, 4]);
    let mut lines = Vec::new();
    store
        .scan_lines(&mut |seq, line| {
            lines.push((seq, line.to_owned()));
            Ok(())
        })
        .unwrap();
    assert_eq!(
        lines[2],
        (3, wire::to_line(&event(b, 3))),
        "lines are the canonical interchange form"
    );
}

fn stale_version_refused(store: Arc<dyn EventStore>) {
    let a = participant(1);
    store
        .append(&one(a, 0, vec![event(a, 1), event(a, 2)]))
        .unwrap();
    match store.append(&one(a, 1, vec![event(a, 3)])) {
        Err(StoreError::Conflict {
            expected: 1,
            actual: 2,
            ..
        }) => {}
        other => panic!("expected a conflict naming version 2, got {other:?}"),
    }
    assert_eq!(store.head().seq, 2, "nothing was written");
}

fn ids_are_idempotent(store: Arc<dyn EventStore>) {
    let a = participant(1);
    store.append(&one(a, 0, vec![event(a, 1)])).unwrap();
    for n in 2..50 {
        let p = participant(n);
        store.append(&one(p, 0, vec![event(p, n)])).unwrap();
    }
    let again = store.append(&one(a, 1, vec![event(a, 1)])).unwrap();
    assert_eq!(
        (again.stored.len(), again.already),
        (0, vec![(1, event(a, 1).id)])
    );
    let mut changed = event(a, 1);
    changed.date = NaiveDate::from_ymd_opt(2006, 1, 2).unwrap();
    assert!(matches!(
        store.append(&one(a, 1, vec![changed])),
        Err(StoreError::IdConflict { .. })
    ));
    assert_eq!(store.head().seq, 49);
}

fn wrong_stream_refused(store: Arc<dyn EventStore>) {
    let (a, b) = (participant(1), participant(2));
    assert!(matches!(
        store.append(&one(a, 0, vec![event(b, 1)])),
        Err(StoreError::WrongStream { .. })
    ));
    assert_eq!(store.head().seq, 0);
}

fn append_is_all_or_nothing(store: Arc<dyn EventStore>) {
    let (a, b) = (participant(1), participant(2));
    store.append(&one(b, 0, vec![event(b, 1)])).unwrap();
    // The second stream's version is stale: neither stream gets anything.
    let appends = vec![
        StreamAppend {
            participant: a,
            expected_version: 0,
            events: vec![event(a, 2)],
        },
        StreamAppend {
            participant: b,
            expected_version: 0,
            events: vec![event(b, 3)],
        },
    ];
    assert!(matches!(
        store.append(&appends),
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.head().seq, 1);
    assert!(store.stream(a).unwrap().is_empty());
}

fn append_all_lands_every_batch(store: Arc<dyn EventStore>) {
    let mut batches = (0..5u128).map(|b| {
        (0..10u128)
            .map(|i| {
                let p = participant(b * 10 + i);
                StreamAppend {
                    participant: p,
                    expected_version: 0,
                    events: vec![event(p, b * 10 + i)],
                }
            })
            .collect::<Vec<_>>()
    });
    let mut durable = Vec::new();
    let out = store
        .append_all(&mut batches, &mut |n| durable.push(n))
        .unwrap();
    assert_eq!(out.stored.len(), 50);
    assert_eq!(durable, [10, 10, 10, 10, 10]);
    assert_eq!(store.head().seq, 50);
}

fn append_all_fails_whole(store: Arc<dyn EventStore>) {
    let (a, b) = (participant(1), participant(2));
    store.append(&one(b, 0, vec![event(b, 1)])).unwrap();
    let mut batches = vec![
        one(a, 0, vec![event(a, 2), event(a, 3)]),
        one(b, 0, vec![event(b, 4)]),
    ]
    .into_iter();
    assert!(matches!(
        store.append_all(&mut batches, &mut |_| {}),
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.head().seq, 1, "the first batch was taken back");
    assert!(store.stream(a).unwrap().is_empty());
    assert_eq!(store.lookup(event(a, 2).id).unwrap(), None);
    let mut batches = vec![one(a, 0, vec![event(a, 2)]), one(b, 1, vec![event(b, 4)])].into_iter();
    let out = store.append_all(&mut batches, &mut |_| {}).unwrap();
    assert_eq!(out.stored.iter().map(|s| s.0).collect::<Vec<_>>(), [2, 3]);
}

fn racing_writers_one_wins(store: Arc<dyn EventStore>) {
    let a = participant(1);
    store.append(&one(a, 0, vec![event(a, 1)])).unwrap();
    let threads: Vec<_> = (0..8u128)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || store.append(&one(a, 1, vec![event(a, 100 + t)])).is_ok())
        })
        .collect();
    let wins = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(wins, 1, "exactly one writer at version 1 wins");
    assert_eq!(store.stream(a).unwrap().len(), 2);
}
