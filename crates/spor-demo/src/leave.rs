//! Leave (permisjon): when it is granted, how long it lasts, and how it
//! ends: back on time or early, continued by a second leave, never logged as
//! ended, or ended by leaving the programme. A quarter of the leaves span the
//! turn of the year, which the year-end survey's "on leave now" counts.

use chrono::{Datelike, Days, NaiveDate};
use rand::Rng;
use spor_domain::calendar::{Period, add_days};
use spor_domain::event::{EventBody, LeaveGranted, LeaveReason};

use crate::life::{Planner, between, minus, pick, weekday, ymd};

/// A granted leave as planned, with what ends it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeavePlan {
    /// The decision date: ahead of a parental leave, after a sick leave began.
    pub decided: NaiveDate,
    pub period: Period,
    pub reason: LeaveReason,
    pub ending: LeaveEnding,
}

/// How a leave ends.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LeaveEnding {
    /// `leave_ended` on this day (on time or early).
    Back(NaiveDate),
    /// A second leave that continues the first (from the day after its
    /// `to`), then back the day after the second.
    Continued { decided: NaiveDate, period: Period },
    /// No return is logged: the adviser forgot, the reminder stays open.
    Unlogged,
    /// The person leaves the programme during the leave.
    DropsOut,
}

/// Plans a leave of `start`'s programme of `months`; a quarter of them span
/// the turn of the year (e.g. 15 December to 10 February).
pub(crate) fn plan_leave(rng: &mut impl Rng, start: NaiveDate, months: u32) -> LeavePlan {
    let reason = pick(
        rng,
        &[
            (LeaveReason::Parental, 55),
            (LeaveReason::Illness, 35),
            (LeaveReason::Other, 10),
        ],
    );
    let earliest = add_days(start, 30);
    let latest = add_days(start, months * 30 - 90);
    let period = if rng.random_bool(0.25) {
        // Over the year end: from a December day to January or February.
        let mut year = earliest.year();
        if ymd(year, 12, 20) < earliest {
            year += 1;
        }
        if rng.random_bool(0.4) && ymd(year + 1, 12, 1) <= latest {
            year += 1;
        }
        let from = between(rng, ymd(year, 12, 1), ymd(year, 12, 20)).max(earliest);
        let to = between(rng, ymd(year + 1, 1, 10), ymd(year + 1, 2, 28));
        Period { from, to }
    } else {
        let from = between(rng, earliest, latest);
        let days = match reason {
            LeaveReason::Parental => rng.random_range(90..=300),
            LeaveReason::Illness => rng.random_range(14..=90),
            LeaveReason::Other => rng.random_range(14..=60),
        };
        Period {
            from,
            to: add_days(from, days - 1),
        }
    };
    // Parental leave is decided ahead; sick leave after it has begun.
    let decided = match reason {
        LeaveReason::Parental => weekday(minus(period.from, rng.random_range(14..=45))).max(start),
        LeaveReason::Illness => weekday(add_days(period.from, rng.random_range(0..=7))),
        LeaveReason::Other => weekday(minus(period.from, rng.random_range(0..=14))).max(start),
    };
    // The first day back must come after both the leave's first day and
    // the decision (a `leave_ended` answers only a leave already granted).
    let after = period.from.max(decided);
    let ending = match rng.random_range(0..100) {
        0..60 => LeaveEnding::Back(add_days(period.to, 1).max(add_days(after, 1))),
        60..75 => {
            let days = (period.to - period.from).num_days() * 3 / 5;
            let early = period.from + Days::new(u64::try_from(days).unwrap_or(0));
            LeaveEnding::Back(early.max(add_days(after, 1)))
        }
        75..85 => {
            let from = add_days(period.to, 1);
            let next = Period {
                from,
                to: add_days(from, rng.random_range(20..=90)),
            };
            let decided_next = between(rng, minus(period.to, 14), period.to).max(decided);
            LeaveEnding::Continued {
                decided: decided_next,
                period: next,
            }
        }
        85..92 => LeaveEnding::Unlogged,
        _ => LeaveEnding::DropsOut,
    };
    LeavePlan {
        decided,
        period,
        reason,
        ending,
    }
}

/// The leave periods and return days of a planned leave, as the planned end
/// counts them.
pub(crate) fn leave_spans(leave: Option<&LeavePlan>) -> (Vec<Period>, Vec<NaiveDate>) {
    let Some(l) = leave else {
        return (Vec::new(), Vec::new());
    };
    match l.ending {
        LeaveEnding::Back(back) => (vec![l.period], vec![back]),
        LeaveEnding::Continued { period: next, .. } => {
            (vec![l.period, next], vec![add_days(next.to, 1)])
        }
        LeaveEnding::Unlogged | LeaveEnding::DropsOut => (vec![l.period], Vec::new()),
    }
}

/// The leave's events that fall inside the programme ending on `last`.
pub(crate) fn plan_leave_events<R: Rng>(p: &mut Planner<'_, R>, l: LeavePlan, last: NaiveDate) {
    if l.decided > last || l.period.from > last {
        return;
    }
    let granted = p.decision(l.decided, leave_granted(l.period, l.reason));
    let (answered, back) = match l.ending {
        LeaveEnding::Back(back) => (granted, back),
        LeaveEnding::Continued {
            decided,
            period: next,
        } => {
            if decided > last || next.from > last {
                return;
            }
            let again = p.decision(decided, leave_granted(next, l.reason));
            (again, add_days(next.to, 1))
        }
        LeaveEnding::Unlogged | LeaveEnding::DropsOut => return,
    };
    if back < last {
        p.routine(back, EventBody::LeaveEnded, answered);
    }
}

fn leave_granted(period: Period, reason: LeaveReason) -> EventBody {
    EventBody::LeaveGranted(LeaveGranted {
        from: period.from,
        to: period.to,
        reason,
    })
}
