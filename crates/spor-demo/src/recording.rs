//! When and by whom each planned event is logged, which turns a plan into
//! events in recording order.
//!
//! Decisions and milestones form a chain logged in date order, each after the
//! one before, so every event finds what it needs already logged. Day-to-day
//! entries wait only for the one event they need, and may come weeks or
//! months late, out of date order. Corrections come days or weeks after the
//! mistake. Nothing is logged on or after [`RECORDED_BEFORE`], the demo's
//! "now"; because dependencies are always logged first, what remains of each
//! stream is a prefix of its recording order and keeps every rule.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use rand::Rng;
use spor_domain::calendar::add_days;
use spor_domain::{Event, EventId};

use crate::RECORDED_BEFORE;
use crate::life::{After, Dating, Pace, StreamPlan, weekday};
use crate::units::Units;

/// Logs the events of `plan`, appending those logged before
/// [`RECORDED_BEFORE`] to `out` in recording order.
pub(crate) fn record(rng: &mut impl Rng, units: &Units, plan: StreamPlan, out: &mut Vec<Event>) {
    let StreamPlan {
        participant,
        unit,
        adviser,
        mut events,
    } = plan;
    let unit = &units.list[unit];
    // Stable: events planned for the same day keep their planned order
    // (a start before the measure begun that day, a measure's end before
    // the exit on the same day).
    events.sort_by_key(|e| e.date);
    let mut chain: Option<DateTime<Utc>> = None;
    let mut logged: Vec<(EventId, DateTime<Utc>)> = Vec::with_capacity(events.len());
    let first = out.len();
    for planned in events {
        let waits_for = match planned.after {
            After::Chain => chain,
            After::Event(id) => Some(
                logged
                    .iter()
                    .rev()
                    .find(|(logged_id, _)| *logged_id == id)
                    .map(|&(_, at)| at)
                    .expect("a plan dates what an event waits for no later than the event, so it is logged first"),
            ),
        };
        let from_day = match (planned.pace, waits_for) {
            (Pace::Correction, Some(before)) => planned.date.max(before.date_naive()),
            _ => planned.date,
        };
        let late = lateness(rng, planned.pace);
        let own = at_work(rng, add_days(from_day, late));
        let recorded_at = match waits_for {
            Some(before) if own <= before => before + Duration::minutes(rng.random_range(1..=20)),
            _ => own,
        };
        if planned.after == After::Chain {
            chain = Some(recorded_at);
        }
        logged.push((planned.id, recorded_at));
        if recorded_at >= RECORDED_BEFORE {
            continue;
        }
        let date = match planned.dating {
            Dating::Planned => planned.date,
            Dating::WhenLogged => recorded_at.date_naive(),
        };
        // Mostly the person's own adviser; now and then a colleague.
        let by = if rng.random_bool(0.85) {
            adviser
        } else {
            rng.random_range(0..unit.advisers.len())
        };
        out.push(Event {
            id: planned.id,
            participant,
            unit: unit.code,
            date,
            recorded_at,
            by: Some(unit.advisers[by].clone()),
            body: planned.body,
        });
    }
    out[first..].sort_by_key(|e| e.recorded_at);
}

/// Days between an event's date and the day it is logged.
fn lateness(rng: &mut impl Rng, pace: Pace) -> u32 {
    let roll: u32 = rng.random_range(0..100);
    match pace {
        Pace::Decision => match roll {
            0..80 => rng.random_range(0..=3),
            80..96 => rng.random_range(4..=21),
            _ => rng.random_range(22..=75),
        },
        Pace::Routine => match roll {
            0..60 => rng.random_range(0..=3),
            60..85 => rng.random_range(4..=28),
            85..97 => rng.random_range(29..=90),
            _ => rng.random_range(91..=200),
        },
        Pace::Correction => rng.random_range(1..=30),
    }
}

/// A time in office hours (07:30 to 15:30 UTC) on `day`, or on the Monday
/// after when `day` falls on a weekend.
fn at_work(rng: &mut impl Rng, day: NaiveDate) -> DateTime<Utc> {
    let minute: u32 = rng.random_range(450..=930);
    let time = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0)
        .expect("07:30 to 15:30 is a valid time");
    weekday(day).and_time(time).and_utc()
}
