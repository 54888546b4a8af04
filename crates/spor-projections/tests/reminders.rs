//! Follow-up reminders (contract §3) on the exact days around every boundary:
//! when each kind opens, when it is due, what answers it, what reopens it.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed test, with its line

mod common;

use common::{Person, d, leave};
use spor_domain::EventBody;
use spor_domain::event::{
    CompletedReason, Extended, FollowUp, FollowUpOutcome, Handover, HandoverTo, Interrupted,
    InterruptedReason, Retracted,
};
use spor_projections::reminders::{Kind, ReminderRules, list};

/// (kind, due, overdue) of the reminders open on `on`, due within `within` days.
/// Asked of the projections as folded (each timeline walked for the day)
/// and as settled (the reminders kept by the settle), which must agree.
fn open(p: &Person, on: &str, within: u32) -> Vec<(Kind, String, bool)> {
    let rules = ReminderRules::default();
    let mut projections = p.projections();
    let walked = list(&projections, d(on), None, within, &rules);
    projections.settle(1);
    let kept = list(&projections, d(on), None, within, &rules);
    assert_eq!(walked, kept, "reminders on {on}, walked and settled");
    kept.into_iter()
        .map(|r| (r.kind, r.due.to_string(), r.overdue))
        .collect()
}

fn of(p: &Person, on: &str, kind: Kind) -> Vec<(String, bool)> {
    open(p, on, 10_000)
        .into_iter()
        .filter(|(k, ..)| *k == kind)
        .map(|(_, due, late)| (due, late))
        .collect()
}

fn started() -> Person {
    let mut p = Person::new(1);
    p.at("2005-02-01", EventBody::Started); // 24 months: planned end 2007-02-01
    p
}

#[test]
fn leave_ends_is_due_the_day_after_the_leave_and_answered_by_a_return() {
    let mut p = started();
    p.at("2005-02-20", leave("2005-03-01", "2005-03-31"));
    assert_eq!(
        of(&p, "2005-02-19", Kind::LeaveEnds),
        vec![],
        "not before the leave is granted"
    );
    assert_eq!(
        of(&p, "2005-03-20", Kind::LeaveEnds),
        vec![("2005-04-01".into(), false)]
    );
    assert_eq!(
        of(&p, "2005-04-01", Kind::LeaveEnds),
        vec![("2005-04-01".into(), false)],
        "due today is not overdue"
    );
    assert_eq!(
        of(&p, "2005-04-02", Kind::LeaveEnds),
        vec![("2005-04-01".into(), true)]
    );
    let back = p.at("2005-04-03", EventBody::LeaveEnded);
    assert_eq!(
        of(&p, "2005-04-02", Kind::LeaveEnds),
        vec![("2005-04-01".into(), true)],
        "the return is dated later"
    );
    assert_eq!(of(&p, "2005-04-03", Kind::LeaveEnds), vec![]);
    // Retracting the return reopens the reminder.
    p.at(
        "2005-04-10",
        EventBody::Retracted(Retracted {
            event: back,
            why: "feil person".into(),
        }),
    );
    assert_eq!(
        of(&p, "2005-04-20", Kind::LeaveEnds),
        vec![("2005-04-01".into(), true)]
    );
}

#[test]
fn a_leave_that_continues_another_answers_it() {
    let mut p = started();
    p.at("2005-02-20", leave("2005-03-01", "2005-03-31"));
    p.at("2005-03-25", leave("2005-04-01", "2005-04-30"));
    assert_eq!(
        of(&p, "2005-04-10", Kind::LeaveEnds),
        vec![("2005-05-01".into(), false)]
    );
    // A leave starting two days after the end does not continue it.
    let mut gap = started();
    gap.at("2005-02-20", leave("2005-03-01", "2005-03-31"));
    gap.at("2005-03-25", leave("2005-04-02", "2005-04-30"));
    assert_eq!(
        of(&gap, "2005-04-10", Kind::LeaveEnds),
        vec![("2005-04-01".into(), true), ("2005-05-01".into(), false)]
    );
}

#[test]
fn nav_handover_and_planned_end_move_with_an_extension() {
    let mut p = started();
    assert_eq!(
        of(&p, "2006-11-20", Kind::NavHandover),
        vec![("2006-12-01".into(), false)]
    );
    assert_eq!(
        of(&p, "2006-11-20", Kind::PlannedEnd),
        vec![("2007-02-01".into(), false)]
    );
    p.at("2006-11-25", EventBody::Extended(Extended { months: 30 }));
    assert_eq!(
        of(&p, "2006-11-20", Kind::PlannedEnd),
        vec![("2007-02-01".into(), false)],
        "not yet extended then"
    );
    assert_eq!(
        of(&p, "2006-11-26", Kind::NavHandover),
        vec![("2007-06-01".into(), false)]
    );
    assert_eq!(
        of(&p, "2006-11-26", Kind::PlannedEnd),
        vec![("2007-08-01".into(), false)]
    );
    p.at(
        "2007-05-20",
        EventBody::Handover(Handover {
            to: HandoverTo::Nav,
        }),
    );
    assert_eq!(of(&p, "2007-05-20", Kind::NavHandover), vec![]);
    assert_eq!(
        of(&p, "2007-05-19", Kind::NavHandover),
        vec![("2007-06-01".into(), false)]
    );
}

#[test]
fn an_exit_closes_the_in_programme_reminders_and_its_retraction_brings_them_back() {
    let mut p = started();
    let exit = p.completed("2006-06-30", CompletedReason::WorkFullTime);
    assert!(of(&p, "2006-07-01", Kind::PlannedEnd).is_empty());
    assert!(of(&p, "2006-07-01", Kind::Stale).is_empty());
    p.at(
        "2006-07-05",
        EventBody::Retracted(Retracted {
            event: exit,
            why: "feil dato".into(),
        }),
    );
    assert_eq!(
        of(&p, "2006-07-10", Kind::PlannedEnd),
        vec![("2007-02-01".into(), false)]
    );
}

#[test]
fn post_exit_opens_a_month_before_and_closes_a_month_after_or_when_answered() {
    let mut p = started();
    p.completed("2006-06-30", CompletedReason::WorkFullTime); // 2 months: due 2006-08-30
    assert_eq!(of(&p, "2006-07-29", Kind::PostExit), vec![]);
    assert_eq!(
        of(&p, "2006-07-30", Kind::PostExit),
        vec![("2006-08-30".into(), false)]
    );
    assert_eq!(
        of(&p, "2006-09-30", Kind::PostExit),
        vec![("2006-08-30".into(), true)]
    );
    assert_eq!(
        of(&p, "2006-10-01", Kind::PostExit),
        vec![],
        "closed unanswered: not reached"
    );
    // 6 months: due 2006-12-30 (2006-06-30 + 6 months).
    assert_eq!(
        of(&p, "2006-12-01", Kind::PostExit),
        vec![("2006-12-30".into(), false)]
    );
    p.at(
        "2006-08-15",
        EventBody::FollowUp(FollowUp {
            outcome: FollowUpOutcome::Work,
            channel: None,
            note: None,
        }),
    );
    assert_eq!(
        of(&p, "2006-08-14", Kind::PostExit),
        vec![("2006-08-30".into(), false)]
    );
    assert_eq!(of(&p, "2006-08-15", Kind::PostExit), vec![]);
}

#[test]
fn no_post_exit_contact_after_an_interruption() {
    let mut p = started();
    p.at(
        "2006-06-30",
        EventBody::Interrupted(Interrupted {
            reason: InterruptedReason::Unknown,
            to_unit: None,
            support: vec![],
        }),
    );
    assert_eq!(of(&p, "2006-08-30", Kind::PostExit), vec![]);
}

#[test]
fn stale_is_due_90_days_after_the_last_event_and_skips_a_leave() {
    let p = started();
    assert_eq!(
        of(&p, "2005-03-01", Kind::Stale),
        vec![("2005-05-02".into(), false)]
    );
    assert_eq!(
        open(&p, "2005-04-17", 14)
            .iter()
            .filter(|(k, ..)| *k == Kind::Stale)
            .count(),
        0,
        "due after the horizon"
    );
    assert_eq!(
        open(&p, "2005-04-18", 14)
            .iter()
            .filter(|(k, ..)| *k == Kind::Stale)
            .count(),
        1,
        "due within 14 days"
    );
    let mut on_leave = started();
    on_leave.at("2005-02-10", leave("2005-03-01", "2005-08-31"));
    assert_eq!(of(&on_leave, "2005-06-01", Kind::Stale), vec![]);
    assert_eq!(
        of(&on_leave, "2005-09-01", Kind::Stale),
        vec![("2005-05-11".into(), true)]
    );
}

#[test]
fn outcomes_over_time_count_contacts_in_each_window() {
    use spor_projections::outcomes::cohorts;
    let mut p = started();
    p.completed("2006-06-30", CompletedReason::WorkFullTime);
    // 2 months (window 2006-07-30..2006-09-30): in work; 6 months: unreachable;
    // 12 months (window 2007-05-30..2007-07-30): in education.
    p.at(
        "2006-08-20",
        EventBody::FollowUp(FollowUp {
            outcome: FollowUpOutcome::Work,
            channel: None,
            note: None,
        }),
    );
    p.at(
        "2006-12-30",
        EventBody::FollowUp(FollowUp {
            outcome: FollowUpOutcome::Unreachable,
            channel: None,
            note: None,
        }),
    );
    p.at(
        "2007-07-30",
        EventBody::FollowUp(FollowUp {
            outcome: FollowUpOutcome::Education,
            channel: None,
            note: None,
        }),
    );
    let c = cohorts(&p.projections(), 2005, 2007);
    assert_eq!(c.iter().map(|c| c.ended).collect::<Vec<_>>(), vec![0, 1, 0]);
    assert_eq!(c[1].reached, [1, 0, 1]);
    assert_eq!(c[1].work_or_education, [1, 0, 1]);
}
