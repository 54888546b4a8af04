//! What users of the demo log rely on: every event is admitted by the
//! timeline rules in the order given, the log replays exactly from its seed,
//! and it holds the variety a demo, a benchmark and the survey need (every
//! event type and exit reason, late entries, corrections, leaves over the
//! year end, extensions, follow-ups).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, Months, NaiveDate};
use spor_demo::{DemoSpec, FIRST_DAY, LAST_DAY, RECORDED_BEFORE, generate, stream};
use spor_domain::event::{
    CompletedReason, EventBody, EventKind, InterruptedReason, LeaveReason, StoppedReason,
};
use spor_domain::person::{self, PersonKind, SyntheticIds};
use spor_domain::wire::to_line;
use spor_domain::{Event, EventId, ParticipantId, Policy, Timeline};

fn demo(participants: usize, seed: u64) -> Vec<Event> {
    generate(&DemoSpec { participants, seed })
}

/// Appends `events` in order as the store would, and fails on the first
/// refusal with the refusal and the participant's events so far.
fn replay(events: &[Event]) -> HashMap<ParticipantId, Timeline> {
    let policy = Policy {
        synthetic_ids: SyntheticIds::Allowed,
    };
    let mut timelines: HashMap<ParticipantId, Timeline> = HashMap::new();
    for (seq, event) in (0u64..).zip(events) {
        let timeline = timelines.entry(event.participant).or_default();
        if let Err(refusal) = timeline.admit(event, &policy) {
            let so_far: Vec<String> = timeline
                .entries()
                .iter()
                .map(|e| to_line(&e.event))
                .collect();
            panic!(
                "refused: {refusal}\nevent: {}\nthe participant's events so far:\n{}",
                to_line(event),
                so_far.join("\n")
            );
        }
        timeline.push(seq, event.clone());
    }
    timelines
}

fn kinds(events: &[Event]) -> BTreeMap<EventKind, usize> {
    let mut counts = BTreeMap::new();
    for e in events {
        *counts.entry(e.body.kind()).or_default() += 1;
    }
    counts
}

#[test]
fn every_event_is_admitted_in_the_order_given() {
    for seed in [1, 2, 3, 42, 2008, 0xDEAD_BEEF] {
        let events = demo(400, seed);
        let timelines = replay(&events);
        assert!(
            timelines.len() >= 400,
            "seed {seed}: {} streams",
            timelines.len()
        );
    }
}

#[test]
fn a_larger_log_is_admitted_too() {
    replay(&demo(5000, 7));
}

#[test]
fn the_same_seed_gives_the_same_log_and_another_seed_another() {
    let a = demo(300, 11);
    assert_eq!(a, demo(300, 11));
    let b = demo(300, 12);
    assert_ne!(a, b);
    let ids_a: HashSet<EventId> = a.iter().map(|e| e.id).collect();
    assert!(
        b.iter().all(|e| !ids_a.contains(&e.id)),
        "event ids must differ between seeds"
    );
    // More people extend the log without changing the first ones' streams.
    let more = demo(400, 11);
    let first: HashSet<ParticipantId> = a.iter().map(|e| e.participant).collect();
    let kept: Vec<&Event> = more
        .iter()
        .filter(|e| first.contains(&e.participant))
        .collect();
    assert_eq!(kept.len(), a.len());
}

#[test]
fn stream_yields_what_generate_returns() {
    let spec = DemoSpec {
        participants: 250,
        seed: 5,
    };
    let streamed: Vec<Event> = stream(&spec).collect();
    assert_eq!(streamed, generate(&spec));
    assert!(
        stream(&DemoSpec {
            participants: 0,
            seed: 5
        })
        .next()
        .is_none()
    );
}

#[test]
fn every_event_type_appears() {
    for seed in [1, 2, 3] {
        let counts = kinds(&demo(200, seed));
        for kind in EventKind::ALL {
            assert!(
                counts.contains_key(kind),
                "seed {seed}: no `{kind}` in {counts:?}"
            );
        }
    }
}

#[test]
fn every_exit_reason_appears() {
    let events = demo(3000, 1);
    let mut completed = HashSet::new();
    let mut stopped = HashSet::new();
    let mut interrupted = HashSet::new();
    let mut moved_to_unit = 0;
    let mut other_with_activity = 0;
    for e in &events {
        match &e.body {
            EventBody::Completed(c) => {
                completed.insert(c.reason);
                other_with_activity += usize::from(c.main_activity.is_some());
            }
            EventBody::Stopped(s) => {
                stopped.insert(s.reason);
                other_with_activity += usize::from(s.main_activity.is_some());
            }
            EventBody::Interrupted(i) => {
                interrupted.insert(i.reason);
                moved_to_unit += usize::from(i.to_unit.is_some());
            }
            _ => {}
        }
    }
    for r in CompletedReason::ALL {
        assert!(completed.contains(r), "no completed {r}");
    }
    for r in StoppedReason::ALL {
        assert!(stopped.contains(r), "no stopped {r}");
    }
    for r in InterruptedReason::ALL {
        assert!(interrupted.contains(r), "no interrupted {r}");
    }
    assert!(moved_to_unit > 0 && other_with_activity > 0);
}

#[test]
fn a_person_has_about_twelve_to_twenty_events() {
    for seed in [1, 9] {
        let people = 1000;
        let events = demo(people, seed);
        let per_person = events.len() as f64 / people as f64;
        assert!(
            (12.0..=20.0).contains(&per_person),
            "seed {seed}: {per_person:.1} events per person"
        );
    }
}

#[test]
fn units_and_dates_are_valid_and_recording_never_precedes_the_date() {
    for e in demo(1000, 3) {
        assert!(
            e.unit.name_on(e.date).is_some(),
            "{}: unit not valid on its date",
            to_line(&e)
        );
        if let EventBody::Interrupted(i) = &e.body
            && let Some(to) = i.to_unit
        {
            assert!(to.name_on(e.date).is_some(), "{}", to_line(&e));
        }
        assert!(!e.unit.is_ward() || e.unit.as_str().starts_with("0301"));
        assert_ne!(e.unit.as_str(), "0301", "Oslo runs its programme per ward");
        assert!(e.date <= e.recorded_at.date_naive(), "{}", to_line(&e));
        assert!(FIRST_DAY <= e.date && e.date <= LAST_DAY, "{}", to_line(&e));
        assert!(e.recorded_at < RECORDED_BEFORE, "{}", to_line(&e));
        let by = e.by.as_deref().unwrap_or_default();
        assert!(by.starts_with("adviser-"), "{}", to_line(&e));
    }
}

#[test]
fn identity_numbers_are_synthetic_and_ages_18_to_55() {
    let events = demo(1000, 4);
    let mut first_registration: HashMap<String, (NaiveDate, NaiveDate)> = HashMap::new();
    let mut duf = 0;
    for e in &events {
        let EventBody::Registered(r) = &e.body else {
            continue;
        };
        let checked = person::check(&r.person, SyntheticIds::Allowed).expect("a valid number");
        let born = match checked.kind {
            PersonKind::Synthetic => {
                assert!(
                    person::check(&r.person, SyntheticIds::Refused).is_err(),
                    "an 11-digit number must be refused where synthetic ids are"
                );
                checked
                    .birth_date
                    .expect("an 11-digit number gives its birth date")
            }
            PersonKind::Duf => {
                duf += 1;
                r.birth_date
                    .expect("a DUF-nummer comes with its birth date")
            }
            other => panic!("{other:?} is not synthetic: {}", to_line(e)),
        };
        let entry = first_registration
            .entry(r.person.expose().to_owned())
            .or_insert((e.date, born));
        if e.date < entry.0 {
            *entry = (e.date, born);
        }
    }
    assert!(duf > 0, "a few people have a DUF-nummer");
    for (registered, born) in first_registration.values() {
        let at_18 = born.checked_add_months(Months::new(18 * 12)).unwrap();
        let at_56 = born.checked_add_months(Months::new(56 * 12)).unwrap();
        assert!(
            at_18 <= *registered && *registered < at_56,
            "born {born}, registered {registered}"
        );
    }
}

#[test]
fn ids_are_unique_and_version_4() {
    let events = demo(1000, 6);
    let ids: HashSet<EventId> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), events.len());
    assert!(
        events
            .iter()
            .all(|e| e.id.0.get_version_num() == 4 && e.participant.0.get_version_num() == 4)
    );
}

#[test]
fn entries_come_late_and_out_of_date_order() {
    let events = demo(1000, 1);
    let late = |days: i64| {
        events
            .iter()
            .filter(|e| (e.recorded_at.date_naive() - e.date).num_days() >= days)
            .count()
    };
    assert!(late(28) > events.len() / 50, "weeks late: {}", late(28));
    assert!(late(90) > 0, "months late: {}", late(90));
    // Within a stream, an event logged after another but dated before it.
    let mut latest: HashMap<ParticipantId, NaiveDate> = HashMap::new();
    let mut out_of_order = 0;
    for e in &events {
        let seen = latest.entry(e.participant).or_insert(e.date);
        if e.date < *seen {
            out_of_order += 1;
        }
        *seen = (*seen).max(e.date);
    }
    assert!(out_of_order > 100, "out of date order: {out_of_order}");
}

#[test]
fn retractions_take_back_mistakes_of_several_kinds() {
    let events = demo(2000, 2);
    let by_id: HashMap<EventId, &Event> = events.iter().map(|e| (e.id, e)).collect();
    let mut targets = HashSet::new();
    for e in &events {
        if let EventBody::Retracted(r) = &e.body {
            assert!(!r.why.trim().is_empty());
            let target = by_id
                .get(&r.event)
                .expect("the retracted event is in the log");
            assert_eq!(target.participant, e.participant);
            assert!(target.recorded_at < e.recorded_at);
            targets.insert(target.body.kind());
        }
    }
    for kind in [
        EventKind::Absence,
        EventKind::MeasureStarted,
        EventKind::FollowUp,
        EventKind::Completed,
    ] {
        assert!(targets.contains(&kind), "no retracted {kind}: {targets:?}");
    }
}

#[test]
fn leaves_extensions_handovers_and_follow_ups_look_like_the_programme() {
    let events = demo(2000, 1);
    let timelines = replay(&events);
    let mut over_year_end = 0;
    let mut parental = 0;
    let mut extended_to = HashSet::new();
    let mut handover_before_end = 0;
    let mut follow_up_months = HashSet::new();
    for timeline in timelines.values() {
        let facts = timeline.facts();
        for leave in &facts.leaves {
            over_year_end += usize::from(leave.period.from.year() < leave.period.to.year());
            parental += usize::from(leave.reason == LeaveReason::Parental);
        }
        for &(_, months) in &facts.extensions {
            extended_to.insert(months);
        }
        if let (Some(end), Some(&(handover, _))) = (facts.planned_end(), facts.handovers.first()) {
            let days = (end - handover).num_days();
            handover_before_end += usize::from((30..=90).contains(&days));
        }
        if let Some(exit) = facts.exit_date() {
            for (date, _) in &facts.follow_ups {
                let months = (*date - exit).num_days() / 30;
                follow_up_months.insert(months.clamp(0, 13));
            }
        }
    }
    assert!(
        over_year_end > 10,
        "leaves over the year end: {over_year_end}"
    );
    assert!(parental > 0);
    assert!(
        extended_to.contains(&30) && extended_to.contains(&36),
        "{extended_to:?}"
    );
    assert!(
        handover_before_end > 50,
        "handovers about 2 months before the planned end: {handover_before_end}"
    );
    for months in [1, 5, 11] {
        assert!(
            follow_up_months
                .iter()
                .any(|m| (months..=months + 1).contains(m)),
            "{follow_up_months:?}"
        );
    }
}

#[test]
fn exits_mix_like_the_2007_report() {
    let events = demo(3000, 8);
    let counts = kinds(&events);
    let exits = counts[&EventKind::Completed]
        + counts[&EventKind::Stopped]
        + counts[&EventKind::Interrupted];
    let completed_share = counts[&EventKind::Completed] as f64 / exits as f64;
    assert!(
        (0.6..0.85).contains(&completed_share),
        "completed share {completed_share:.2}: {counts:?}"
    );
    let mut work_or_education = 0;
    let mut ended = 0;
    for e in &events {
        if let Some(exit) = e.body.exit() {
            ended += 1;
            use spor_domain::event::MainActivity as M;
            work_or_education += usize::from(matches!(
                exit.main_activity(),
                Some(M::Work | M::WageSubsidy | M::UpperSecondary | M::HigherEducation)
            ));
        }
    }
    let share = work_or_education as f64 / ended as f64;
    assert!(
        (0.35..0.7).contains(&share),
        "work or education at exit: {share:.2}"
    );
}
