//! The shared shell driven against a real store in a temporary directory:
//! appends that race each other, and a projector that follows the log.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use spor_domain::person::{SyntheticIds, make_fodselsnummer};
use spor_domain::wire::{self, Draft};
use spor_domain::{ParticipantId, Policy};
use spor_projections::reminders::ReminderRules;
use spor_shell::{AppendError, Expected, Projector, append_one};
use spor_store::{EventStore, OpenOptions, SledStore};
use uuid::Uuid;

const P: &str = "a0000000-0000-4000-8000-000000000001";

fn policy() -> Policy {
    Policy {
        synthetic_ids: SyntheticIds::Allowed,
    }
}

fn draft(kind: &str, date: &str, data: &str) -> Draft {
    let line = format!(
        r#"{{"id":"{}","participant":"{P}","unit":"0301","type":"{kind}","date":"{date}","recorded_at":"2008-01-01T08:00:00Z","by":"adviser-1","data":{data}}}"#,
        Uuid::new_v4()
    );
    wire::parse_line(&line).unwrap()
}

fn started(store: &dyn EventStore) {
    let birth = chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap();
    let person = (0..1000)
        .find_map(|i| make_fodselsnummer(birth, i, 80))
        .unwrap();
    let now = Utc.with_ymd_and_hms(2008, 1, 1, 8, 0, 0).unwrap();
    for d in [
        draft(
            "registered",
            "2006-01-02",
            &format!(r#"{{"person":"{person}","basis":"resettlement"}}"#),
        ),
        draft("claimed", "2006-01-03", "{}"),
        draft("granted", "2006-01-10", r#"{"months":24}"#),
        draft("started", "2006-02-01", "{}"),
    ] {
        append_one(store, d, Expected::Any, &policy(), now, &Draft::same_as).unwrap();
    }
}

fn open(dir: &std::path::Path) -> SledStore {
    SledStore::open(
        dir,
        OpenOptions {
            create: true,
            ..OpenOptions::default()
        },
    )
    .unwrap()
}

#[test]
fn racing_writers_without_a_version_all_land_and_with_one_get_the_current_version() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Arc::new(open(tmp.path()));
    started(store.as_ref());
    let now = Utc.with_ymd_and_hms(2008, 1, 1, 8, 0, 0).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let d = draft("absence", "2006-03-01", r#"{"hours":2,"approved":true}"#);
                    append_one(
                        store.as_ref(),
                        d,
                        Expected::Any,
                        &policy(),
                        now,
                        &Draft::same_as,
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let participant = ParticipantId(Uuid::parse_str(P).unwrap());
    assert_eq!(
        store.stream(participant).unwrap().len(),
        4 + 8 * 5,
        "no append was lost"
    );

    // A writer that saw version 4 is told the participant is at 44.
    let stale = draft("absence", "2006-03-02", r#"{"hours":1,"approved":false}"#);
    match append_one(
        store.as_ref(),
        stale,
        Expected::Version(4),
        &policy(),
        now,
        &Draft::same_as,
    ) {
        Err(AppendError::Conflict {
            expected: 4,
            current: 44,
        }) => {}
        other => panic!("expected a conflict at 44, got {other:?}"),
    }
    // The same id again is a no-op that returns the stored event.
    let again = draft("absence", "2006-03-03", r#"{"hours":1,"approved":false}"#);
    let first = append_one(
        store.as_ref(),
        again.clone(),
        Expected::Version(44),
        &policy(),
        now,
        &Draft::same_as,
    )
    .unwrap();
    let second = append_one(
        store.as_ref(),
        again,
        Expected::Version(44),
        &policy(),
        now,
        &Draft::same_as,
    )
    .unwrap();
    assert!(first.fresh && !second.fresh);
    assert_eq!((first.seq, first.version), (second.seq, second.version));
    assert_eq!(second.version, 45);
}

#[test]
fn the_projector_follows_appends_in_sequence_order() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open(tmp.path());
    let projector = Projector::rebuild(&store, ReminderRules::default()).unwrap();
    assert_eq!(projector.applied(), 0);
    started(&store);
    assert!(
        !projector.wait_for(4, Duration::from_millis(10)),
        "nothing is folded in before a follow"
    );
    assert_eq!(projector.follow(&store).unwrap(), 4);
    assert!(projector.wait_for(4, Duration::from_millis(10)));
    let on = chrono::NaiveDate::from_ymd_opt(2006, 6, 1).unwrap();
    let statuses = projector.read().statuses(None, on);
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].state.as_str(), "active");
    // A rebuild from the same log gives the same answer.
    let rebuilt = Projector::rebuild(&store, ReminderRules::default()).unwrap();
    assert_eq!(rebuilt.read().statuses(None, on), statuses);
}
