//! Data-quality findings (`spor lint`): each rule from both sides.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed test, with its line

mod common;

use common::{Person, d, leave};
use spor_domain::EventBody;
use spor_domain::calendar::Period;
use spor_domain::event::CompletedReason;
use spor_projections::lint::{LintLimits, LintRule, findings};

const LIMITS: LintLimits = LintLimits {
    stale_days: 90,
    late_exit_days: 60,
};

fn rules(p: &Person, on: &str) -> Vec<LintRule> {
    findings(&p.projections(), d(on), None, LIMITS)
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

#[test]
fn past_the_planned_end_without_exit_or_extension() {
    let mut p = Person::new(1);
    p.at("2005-02-01", EventBody::Started); // granted 24 months: planned end 2007-02-01
    p.at(
        "2007-01-20",
        EventBody::Absence(spor_domain::event::Absence {
            hours: serde_json::from_str("1").unwrap(),
            approved: true,
        }),
    );
    assert_eq!(rules(&p, "2007-02-01"), vec![]);
    assert_eq!(
        rules(&p, "2007-02-02"),
        vec![LintRule::PastPlannedEnd {
            planned_end: d("2007-02-01")
        }]
    );
    p.at(
        "2007-01-25",
        EventBody::Extended(spor_domain::event::Extended { months: 30 }),
    );
    assert_eq!(rules(&p, "2007-02-02"), vec![]);
}

#[test]
fn no_event_for_90_days_unless_on_leave() {
    let mut p = Person::new(2);
    p.at("2005-02-01", EventBody::Started);
    assert_eq!(rules(&p, "2005-05-01"), vec![]); // 89 days
    assert_eq!(
        rules(&p, "2005-05-02"),
        vec![LintRule::NoEventFor {
            days: 90,
            last_event: d("2005-02-01")
        }]
    );
    let mut on_leave = Person::new(3);
    on_leave.at("2005-02-01", EventBody::Started);
    on_leave.at("2005-02-01", leave("2005-02-02", "2005-12-31"));
    assert_eq!(rules(&on_leave, "2005-06-01"), vec![]);
}

#[test]
fn a_leave_over_by_its_dates_needs_a_return_or_a_continuation() {
    let mut p = Person::new(4);
    p.at("2005-02-01", EventBody::Started);
    p.at("2005-03-01", leave("2005-03-01", "2005-03-31"));
    let found = rules(&p, "2005-04-10");
    assert_eq!(
        found,
        vec![LintRule::LeaveWithoutReturn {
            leave: Period {
                from: d("2005-03-01"),
                to: d("2005-03-31")
            }
        }]
    );
    let mut continued = Person::new(5);
    continued.at("2005-02-01", EventBody::Started);
    continued.at("2005-03-01", leave("2005-03-01", "2005-03-31"));
    continued.at("2005-03-25", leave("2005-04-01", "2005-04-30"));
    continued.at("2005-05-01", EventBody::LeaveEnded);
    assert_eq!(rules(&continued, "2005-05-10"), vec![]);
}

#[test]
fn an_exit_recorded_more_than_60_days_late() {
    let mut late = Person::new(6);
    late.at("2005-02-01", EventBody::Started);
    late.recorded(
        "2006-06-30",
        "2006-09-01T10:00:00Z",
        EventBody::Completed(spor_domain::event::Completed {
            reason: CompletedReason::WorkFullTime,
            main_activity: None,
            support: vec![],
        }),
    );
    assert_eq!(
        rules(&late, "2007-01-01"),
        vec![LintRule::ExitRecordedLate {
            exit_date: d("2006-06-30"),
            recorded: d("2006-09-01"),
            days: 63
        }]
    );
    let mut in_time = Person::new(7);
    in_time.at("2005-02-01", EventBody::Started);
    in_time.completed("2006-06-30", CompletedReason::WorkFullTime);
    assert_eq!(rules(&in_time, "2007-01-01"), vec![]);
}
