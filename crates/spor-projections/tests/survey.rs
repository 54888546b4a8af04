//! The year-end survey (contract §2): its sums hold by construction over
//! random logs, and every boundary of the definitions is pinned by a
//! hand-built timeline.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed test, with its line

mod common;

use chrono::{TimeZone, Utc};
use common::{Person, d, demo, fold, leave};
use proptest::prelude::*;
use spor_demo::DemoSpec;
use spor_domain::event::*;
use spor_domain::{EventBody, UnitCode};
use spor_projections::Projections;
use spor_projections::survey::{
    Answers, Grouping, Question, SurveyRequest, WhyNot, explain, survey,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// q1 = q2 + q4 and q7a..q12c add up to q4 in every row; a county is
    /// the sum of its units and the nation the sum of its counties; the
    /// survey known at a time after the last record is the plain survey.
    #[test]
    fn the_sums_hold_in_every_row(seed in 0u64..10_000, people in 30usize..150) {
        let p = demo(people, seed);
        for year in 2005..=2008 {
            let units = survey(&p, &SurveyRequest { year, by: Grouping::Unit, known_at: None, as_of: d("2030-01-01") });
            let counties = survey(&p, &SurveyRequest { year, by: Grouping::County, known_at: None, as_of: d("2030-01-01") });
            let nation = survey(&p, &SurveyRequest { year, by: Grouping::National, known_at: None, as_of: d("2030-01-01") });
            for row in units.rows.iter().chain(&counties.rows).chain(&nation.rows) {
                let a = row.answers;
                prop_assert_eq!(a.q1, a.q2 + a.q4, "q1 = q2 + q4 in {} {}", year, row.code);
                prop_assert_eq!(a.exits_by_reason_or_activity(), a.q4, "q7a..q12c = q4 in {} {}", year, row.code);
                prop_assert!(a.q3 <= a.q2 && a.q5 + a.q6 <= a.q4);
                prop_assert!(a.q13a <= a.q4 && a.q13b <= a.q4 && a.q13c <= a.q4);
            }
            for county in &counties.rows {
                let mut sum = Answers::default();
                for unit in units.rows.iter().filter(|u| u.code.starts_with(&county.code)) {
                    sum += unit.answers;
                }
                prop_assert_eq!(sum, county.answers, "county {} = sum of its units", county.code);
            }
            let mut sum = Answers::default();
            for county in &counties.rows {
                sum += county.answers;
            }
            prop_assert_eq!(sum, nation.rows[0].answers);
            prop_assert_eq!(sum, nation.total.answers);
            let later = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
            let known = survey(&p, &SurveyRequest { year, by: Grouping::Unit, known_at: Some(later), as_of: d("2030-01-01") });
            prop_assert_eq!(&known.rows, &units.rows);
        }
        // The demo is realistic enough that the sums are not vacuous.
        let all = survey(&p, &SurveyRequest { year: 2007, by: Grouping::National, known_at: None, as_of: d("2030-01-01") });
        prop_assert!(all.total.answers.q1 > 0);
    }
}

#[test]
fn an_exit_on_1_january_ends_in_that_year_and_was_there_at_the_end_of_the_one_before() {
    let mut p = Person::new(1);
    p.at("2005-02-01", EventBody::Started);
    p.completed("2007-01-01", CompletedReason::WorkFullTime);
    let y2006 = p.survey(2006, None);
    assert_eq!((y2006.q1, y2006.q2, y2006.q4), (1, 1, 0));
    let y2007 = p.survey(2007, None);
    assert_eq!((y2007.q1, y2007.q2, y2007.q4, y2007.q10a), (1, 0, 1, 1));
}

#[test]
fn an_exit_on_31_december_ends_in_that_year_and_is_gone_the_next() {
    let mut p = Person::new(2);
    p.at("2005-02-01", EventBody::Started);
    p.completed("2006-12-31", CompletedReason::UpperSecondary);
    let y2006 = p.survey(2006, None);
    assert_eq!((y2006.q1, y2006.q2, y2006.q4, y2006.q9a), (1, 0, 1, 1));
    assert_eq!(p.survey(2007, None), Answers::default());
}

#[test]
fn a_start_on_31_december_counts_that_year() {
    let mut p = Person::new(3);
    p.at("2005-12-31", EventBody::Started);
    let y = p.survey(2005, None);
    assert_eq!((y.q1, y.q2, y.q3), (1, 1, 0));
    assert_eq!(p.survey(2004, None), Answers::default());
}

#[test]
fn a_leave_covering_31_december_is_q3_and_one_ended_the_day_before_is_not() {
    let mut covering = Person::new(4);
    covering.at("2005-02-01", EventBody::Started);
    covering.at("2006-12-01", leave("2006-12-15", "2007-01-31"));
    assert_eq!(covering.survey(2006, None).q3, 1);

    let mut back = Person::new(5);
    back.at("2005-02-01", EventBody::Started);
    back.at("2006-12-01", leave("2006-12-15", "2007-01-31"));
    back.at("2006-12-31", EventBody::LeaveEnded); // first day back is 31 December
    assert_eq!(back.survey(2006, None).q3, 0);

    let mut ended = Person::new(6);
    ended.at("2005-02-01", EventBody::Started);
    ended.at("2006-12-01", leave("2006-12-01", "2006-12-30"));
    assert_eq!(ended.survey(2006, None).q3, 0);
}

#[test]
fn q5_is_an_exit_before_start_plus_24_months_plus_leave_days() {
    // Start 1 March 2005; 10 days of leave; start + 24 months + 10 days = 11 March 2007.
    let at = |date: &str| {
        let mut p = Person::new(7);
        p.at("2005-03-01", EventBody::Started);
        p.at("2005-06-01", leave("2005-06-01", "2005-06-10"));
        p.completed(date, CompletedReason::WorkPartTime);
        p.survey(2007, None)
    };
    let on = at("2007-03-11");
    assert_eq!(
        (on.q4, on.q5, on.q6),
        (1, 0, 0),
        "exactly at the limit: two years"
    );
    let before = at("2007-03-10");
    assert_eq!(
        (before.q4, before.q5, before.q6),
        (1, 1, 0),
        "one day before: under two years"
    );
}

#[test]
fn an_extension_makes_q6_and_its_retraction_undoes_it() {
    let mut p = Person::new(8);
    p.at("2005-03-01", EventBody::Started);
    let ext = p.at("2006-12-01", EventBody::Extended(Extended { months: 30 }));
    p.completed("2007-06-30", CompletedReason::HigherEducation);
    let with = p.survey(2007, None);
    assert_eq!((with.q4, with.q5, with.q6, with.q9b), (1, 0, 1, 1));
    p.at(
        "2007-07-15",
        EventBody::Retracted(Retracted {
            event: ext,
            why: "registrert på feil person".into(),
        }),
    );
    let without = p.survey(2007, None);
    assert_eq!((without.q4, without.q5, without.q6), (1, 0, 0));
}

#[test]
fn a_late_exit_recorded_after_known_at_is_not_known_then() {
    let mut p = Person::new(9);
    p.at("2005-03-01", EventBody::Started);
    p.recorded(
        "2007-12-20",
        "2008-02-10T09:00:00Z",
        EventBody::Stopped(Stopped {
            reason: StoppedReason::Health,
            main_activity: None,
            support: vec![Support::InsuranceBenefit],
        }),
    );
    let then = p.survey(2007, Some("2008-01-31T23:59:59Z"));
    assert_eq!((then.q1, then.q2, then.q4), (1, 1, 0));
    let now = p.survey(2007, Some("2008-02-10T09:00:00Z"));
    assert_eq!((now.q1, now.q2, now.q4, now.q8a, now.q13b), (1, 0, 1, 1, 1));
}

#[test]
fn an_event_retracted_after_known_at_still_counts_as_known_then() {
    let mut p = Person::new(10);
    p.at("2005-03-01", EventBody::Started);
    let exit = p.completed("2007-05-31", CompletedReason::NavMeasure);
    p.recorded(
        "2008-03-01",
        "2008-03-01T10:00:00Z",
        EventBody::Retracted(Retracted {
            event: exit,
            why: "feil dato".into(),
        }),
    );
    assert_eq!(p.survey(2007, Some("2008-02-01T00:00:00Z")).q11b, 1);
    assert_eq!(p.survey(2007, None).q4, 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// `explain` lists exactly the participants behind each count, each
    /// with the events that put them there.
    #[test]
    fn explain_lists_exactly_the_participants_behind_each_count(seed in 0u64..10_000) {
        let p = demo(80, seed);
        let s = survey(&p, &SurveyRequest { year: 2007, by: Grouping::Unit, known_at: None, as_of: d("2030-01-01") });
        for row in &s.rows {
            let unit = UnitCode::parse(&row.code).unwrap();
            for (key, count) in row.answers.values() {
                let found = explain(&p, 2007, unit, key, None, true);
                prop_assert_eq!(u64::try_from(found.len()).unwrap(), count, "{} {}", row.code, key);
                for e in &found {
                    prop_assert!(e.events.iter().any(|b| b.kind == spor_domain::EventKind::Started));
                    prop_assert!(e.why_not.is_none());
                }
            }
        }
    }
}

#[test]
fn explain_not_names_an_exit_on_1_january_of_the_next_year() {
    let mut p = Person::new(11);
    p.at("2005-02-01", EventBody::Started);
    let exit = p.completed("2008-01-01", CompletedReason::WorkFullTime);
    let mut proj = Projections::new();
    for (i, e) in p.events.iter().enumerate() {
        proj.apply(u64::try_from(i).unwrap() + 1, e.clone());
    }
    let unit = UnitCode::parse("0301").unwrap();
    assert!(explain(&proj, 2007, unit, Question::Q4, None, true).is_empty());
    let close = explain(&proj, 2007, unit, Question::Q4, None, false);
    assert_eq!(close.len(), 1);
    assert_eq!(
        close[0].why_not,
        Some(WhyNot::EndedAfterTheYear {
            date: d("2008-01-01")
        })
    );
    assert!(
        close[0]
            .events
            .iter()
            .any(|b| b.event == exit && b.by.as_deref() == Some("adviser-1"))
    );
}

/// The one-year result (contract §3) of one job seeker who ended on
/// 30 June 2006, with a contact dated `contact` (if any), taken on `as_of`.
fn one_year_of(
    contact: Option<(&str, FollowUpOutcome)>,
    as_of: &str,
) -> spor_projections::survey::OneYear {
    let mut p = Person::new(20);
    p.at("2005-02-01", EventBody::Started);
    p.completed("2006-06-30", CompletedReason::WageSubsidy);
    if let Some((date, outcome)) = contact {
        p.at(
            date,
            EventBody::FollowUp(FollowUp {
                outcome,
                channel: Some(Channel::Phone),
                note: None,
            }),
        );
    }
    let s = survey(
        &p.projections(),
        &SurveyRequest {
            year: 2006,
            by: Grouping::National,
            known_at: None,
            as_of: d(as_of),
        },
    );
    s.total.one_year
}

#[test]
fn the_one_year_result_counts_the_12_month_contact_within_its_window() {
    use spor_projections::survey::OneYear;
    let reached_in_work = one_year_of(Some(("2007-05-30", FollowUpOutcome::Work)), "2008-01-01");
    assert_eq!(
        reached_in_work,
        OneYear {
            jobseekers: 1,
            reached: 1,
            work_or_education: 1,
            not_reached: 0,
            pending: 0
        }
    );
    assert_eq!(reached_in_work.share(), Some(1.0));
    let reached_in_measure =
        one_year_of(Some(("2007-07-30", FollowUpOutcome::Measure)), "2008-01-01");
    assert_eq!(
        (
            reached_in_measure.reached,
            reached_in_measure.work_or_education
        ),
        (1, 0)
    );
    // A day outside the window (due 2007-06-30, window 2007-05-30..2007-07-30).
    let too_early = one_year_of(Some(("2007-05-29", FollowUpOutcome::Work)), "2008-01-01");
    assert_eq!((too_early.reached, too_early.not_reached), (0, 1));
    let unreachable = one_year_of(
        Some(("2007-06-30", FollowUpOutcome::Unreachable)),
        "2008-01-01",
    );
    assert_eq!((unreachable.reached, unreachable.not_reached), (0, 1));
    let waiting = one_year_of(None, "2007-07-30");
    assert_eq!(
        (waiting.pending, waiting.not_reached),
        (1, 0),
        "the window is still open"
    );
    let missed = one_year_of(None, "2007-07-31");
    assert_eq!((missed.pending, missed.not_reached), (0, 1));
}

#[test]
fn only_job_seekers_count_in_the_one_year_result() {
    let mut p = Person::new(21);
    p.at("2005-02-01", EventBody::Started);
    p.completed("2006-06-30", CompletedReason::WorkFullTime);
    let s = survey(
        &p.projections(),
        &SurveyRequest {
            year: 2006,
            by: Grouping::National,
            known_at: None,
            as_of: d("2008-01-01"),
        },
    );
    assert_eq!(s.total.one_year.jobseekers, 0);
    assert_eq!(s.total.one_year.share(), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    /// Retracting events and logging them again (under new ids) gives back
    /// the same answers, in every year.
    #[test]
    fn retracting_and_re_adding_events_restores_the_answers(seed in 0u64..10_000, pick in 0usize..1000) {
        use spor_domain::{EventId, Policy, Timeline};
        use spor_domain::person::SyntheticIds;
        let events = spor_demo::generate(&DemoSpec { participants: 60, seed });
        let policy = Policy { synthetic_ids: SyntheticIds::Allowed };
        let mut log: Vec<spor_domain::Event> = events.clone();
        let before: Vec<_> = (2005..=2008)
            .map(|year| survey(&fold(&log), &SurveyRequest { year, by: Grouping::Unit, known_at: None, as_of: d("2030-01-01") }))
            .collect();
        // Exits and starts-of-leave of a few participants, retracted and re-added.
        let chosen: Vec<spor_domain::Event> = events
            .iter()
            .filter(|e| e.body.kind().is_exit() || e.body.kind() == spor_domain::EventKind::Extended)
            .cycle()
            .skip(pick)
            .take(events.len())
            .cloned()
            .collect();
        let last = events.iter().map(|e| e.recorded_at).max().unwrap();
        let mut restored = 0;
        for (i, e) in chosen.iter().enumerate() {
            if restored == 4 {
                break;
            }
            let at = last + chrono::Duration::hours(i64::try_from(i).unwrap() * 2 + 1);
            let mut timeline = Timeline::from_entries(log.iter().filter(|x| x.participant == e.participant).cloned().enumerate().map(|(i, x)| (u64::try_from(i).unwrap() + 1, x)));
            let retraction = spor_domain::Event {
                id: EventId(uuid::Uuid::from_u128((0xF0 << 120) | (u128::try_from(i).unwrap() * 2))),
                date: e.date,
                recorded_at: at,
                body: EventBody::Retracted(Retracted { event: e.id, why: "feilregistrert".into() }),
                ..e.clone()
            };
            // Some retractions are rightly refused (an exit with contacts after
            // it, an event the demo already retracted): those are skipped.
            if timeline.admit(&retraction, &policy).is_err() {
                continue;
            }
            restored += 1;
            timeline.push(u64::MAX - 1, retraction.clone());
            let again = spor_domain::Event {
                id: EventId(uuid::Uuid::from_u128(0xF0 << 120 | (u128::try_from(i).unwrap() * 2 + 1))),
                recorded_at: at + chrono::Duration::minutes(30),
                ..e.clone()
            };
            prop_assert!(timeline.admit(&again, &policy).is_ok(), "re-adding {:?}", again.body.kind());
            log.push(retraction);
            log.push(again);
        }
        prop_assert!(restored > 0, "no event could be retracted and re-added");
        for (i, year) in (2005..=2008).enumerate() {
            let after = survey(&fold(&log), &SurveyRequest { year, by: Grouping::Unit, known_at: None, as_of: d("2030-01-01") });
            prop_assert_eq!(&after.rows, &before[i].rows, "year {}", year);
        }
    }
}
