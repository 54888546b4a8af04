//! One person's time in the programme, planned from registration to the last
//! follow-up: what happens, on which day, and which earlier event each event
//! waits for before it can be logged. When each event is logged is decided in
//! [`crate::recording`].
//!
//! The plan keeps the timeline rules of `spor_domain::timeline` by
//! construction: registration first; a decision only on an open application;
//! leaves decided and begun inside the programme, each return after its
//! leave's first day and decision; extensions that only lengthen, to at most
//! 36 months; measures ended only after they started; nothing but follow-ups
//! after the exit; and retractions only of events whose removal leaves a
//! valid timeline (a mistaken absence or follow-up, a measure or exit entered
//! wrongly and entered again at once).

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rand::Rng;
use rand::seq::IndexedRandom;
use spor_domain::calendar::{self, LeaveSpan, add_days, sub_months};
use spor_domain::event::{
    Absence, Basis, Channel, CompletedReason, EventBody, EventId, Extended, FollowUp,
    FollowUpOutcome, Granted, Handover, HandoverTo, Hours, InterruptedReason, ParticipantId,
    Refused, Registered, Retracted, StoppedReason,
};

use crate::exit::{self, Ending};
use crate::leave::{self, LeaveEnding, LeavePlan};
use crate::measure;
use crate::person::{self, Identity};
use crate::units::Units;
use crate::{FIRST_DAY, LAST_DAY};

/// How soon after its date an event is usually logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pace {
    /// Decisions and milestones: mostly within days, now and then weeks late.
    Decision,
    /// Day-to-day entries (absence, handover, follow-up, return from leave):
    /// often weeks and sometimes months late.
    Routine,
    /// A correction: days or weeks after the mistake was logged.
    Correction,
}

/// What must be logged before an event can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// Every earlier event of the chain: decisions and milestones are logged
    /// in date order, because each may be what a later one needs (a grant
    /// for the start, a start for a leave, a measure for its end).
    Chain,
    /// Only this event (a start for an absence, an exit for a follow-up):
    /// the event needs nothing else and nothing needs it, so it may be
    /// logged late and out of date order.
    Event(EventId),
}

/// Which day an event is dated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dating {
    /// The planned day.
    Planned,
    /// The day it is logged: a retraction takes effect when it is made.
    WhenLogged,
}

/// One planned event.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub id: EventId,
    /// The day it takes effect; for a retraction, the day of the mistake,
    /// which places it among the chain.
    pub date: NaiveDate,
    pub body: EventBody,
    pub after: After,
    pub pace: Pace,
    pub dating: Dating,
}

/// The planned events of one stream (one person in one unit), in the order
/// they were planned; [`crate::recording`] sorts them by date.
#[derive(Debug)]
pub(crate) struct StreamPlan {
    pub participant: ParticipantId,
    /// Index into [`Units::list`].
    pub unit: usize,
    /// Index into the unit's advisers: the person's own adviser.
    pub adviser: usize,
    pub events: Vec<Planned>,
}

/// Registrations spread over the demo's years up to early October of the
/// last, so that everyone registered has had a few months of events logged.
const REGISTRATION_DAYS: u32 = 1370;

/// A share of the registrations falls in the first two years, so that many
/// programmes (normally two years) have ended by the end of the log.
const EARLY_REGISTRATION_DAYS: u32 = 700;
const EARLY_SHARE: f64 = 0.3;

/// Whether a move may lead to a second stream in the new unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moves {
    /// The person may move once, and starts again in the new unit.
    FollowedUp,
    /// Already moved once: no further stream.
    NotAgain,
}

/// Plans one person: one stream, or two when the person moves to another
/// demo unit and starts the programme again there.
pub(crate) fn plan_person(rng: &mut impl Rng, units: &Units) -> Vec<StreamPlan> {
    let days = if rng.random_bool(EARLY_SHARE) {
        EARLY_REGISTRATION_DAYS
    } else {
        REGISTRATION_DAYS
    };
    let registered = weekday(add_days(FIRST_DAY, rng.random_range(0..days)));
    let identity = person::draw(rng, registered);
    let basis = pick(rng, BASES);
    let unit = units.pick(rng);
    let first = Enrolment {
        identity: &identity,
        basis,
        unit,
        registered,
        moves: Moves::FollowedUp,
    };
    let (plan, moved) = plan_stream(rng, units, &first);
    let mut streams = vec![plan];
    if let Some(Move { unit, registered }) = moved {
        let again = Enrolment {
            unit,
            registered,
            moves: Moves::NotAgain,
            ..first
        };
        streams.push(plan_stream(rng, units, &again).0);
    }
    streams
}

/// Who is registered where and when: what a stream starts from.
#[derive(Debug, Clone, Copy)]
struct Enrolment<'a> {
    identity: &'a Identity,
    basis: Basis,
    /// Index into [`Units::list`].
    unit: usize,
    registered: NaiveDate,
    moves: Moves,
}

/// A move to another demo unit, and the registration there.
#[derive(Debug, Clone, Copy)]
struct Move {
    unit: usize,
    registered: NaiveDate,
}

/// Collects planned events and draws their ids from the seeded generator.
pub(crate) struct Planner<'r, R: Rng> {
    pub rng: &'r mut R,
    events: Vec<Planned>,
}

impl<R: Rng> Planner<'_, R> {
    fn push(&mut self, date: NaiveDate, body: EventBody, after: After, pace: Pace) -> EventId {
        let id = event_id(self.rng);
        self.events.push(Planned {
            id,
            date,
            body,
            after,
            pace,
            dating: Dating::Planned,
        });
        id
    }

    /// A decision or milestone, logged in chain order.
    pub fn decision(&mut self, date: NaiveDate, body: EventBody) -> EventId {
        self.push(date, body, After::Chain, Pace::Decision)
    }

    /// A day-to-day entry that needs only `after` logged before it.
    pub fn routine(&mut self, date: NaiveDate, body: EventBody, after: EventId) -> EventId {
        self.push(date, body, After::Event(after), Pace::Routine)
    }

    /// Takes back `target` (dated `date`). A correction in the chain keeps
    /// its place between the mistake and the event entered in its stead.
    pub fn retract(
        &mut self,
        target: EventId,
        date: NaiveDate,
        why: &str,
        after: After,
    ) -> EventId {
        let id = event_id(self.rng);
        let body = EventBody::Retracted(Retracted {
            event: target,
            why: why.to_owned(),
        });
        self.events.push(Planned {
            id,
            date,
            body,
            after,
            pace: Pace::Correction,
            dating: Dating::WhenLogged,
        });
        id
    }
}

/// Plans one stream; returns it and, when the person moves to another demo
/// unit and registers there, the move.
fn plan_stream(
    rng: &mut impl Rng,
    units: &Units,
    enrolment: &Enrolment<'_>,
) -> (StreamPlan, Option<Move>) {
    let participant = ParticipantId(uuid(rng));
    let unit = enrolment.unit;
    let adviser = rng.random_range(0..units.list[unit].advisers.len());
    let mut p = Planner {
        rng,
        events: Vec::with_capacity(32),
    };
    let moved = plan_programme(&mut p, units, enrolment);
    (
        StreamPlan {
            participant,
            unit,
            adviser,
            events: p.events,
        },
        moved,
    )
}

/// Plans the stream's events from registration to the last follow-up.
fn plan_programme<R: Rng>(
    p: &mut Planner<'_, R>,
    units: &Units,
    enrolment: &Enrolment<'_>,
) -> Option<Move> {
    let Enrolment {
        identity,
        basis,
        unit,
        registered,
        moves,
    } = *enrolment;
    p.decision(
        registered,
        EventBody::Registered(Registered {
            person: identity.person.clone(),
            birth_date: identity.birth_date,
            basis,
        }),
    );

    // The application: the person's claim or the unit's offer, now and then both.
    let applied = weekday(add_days(registered, p.rng.random_range(5..=45)));
    let claimed = p.rng.random_bool(0.55);
    p.decision(
        applied,
        if claimed {
            EventBody::Claimed
        } else {
            EventBody::Offered
        },
    );
    let mut decided = weekday(add_days(applied, p.rng.random_range(10..=45)));
    if p.rng.random_bool(0.12) {
        let other = between(p.rng, add_days(applied, 1), decided);
        p.decision(
            other,
            if claimed {
                EventBody::Offered
            } else {
                EventBody::Claimed
            },
        );
    }
    if p.rng.random_bool(0.06) {
        let reason = (*REFUSAL_REASONS
            .choose(p.rng)
            .expect("the list is not empty"))
        .to_owned();
        p.decision(decided, EventBody::Refused(Refused { reason }));
        if p.rng.random_bool(0.6) {
            return None;
        }
        // A new claim after the refusal, granted this time.
        let again = weekday(add_days(decided, p.rng.random_range(30..=150)));
        p.decision(again, EventBody::Claimed);
        decided = weekday(add_days(again, p.rng.random_range(10..=40)));
    }
    let months = pick(p.rng, &[(24, 88), (18, 4), (12, 3), (30, 5)]);
    p.decision(decided, EventBody::Granted(Granted { months }));
    let start = weekday(add_days(decided, p.rng.random_range(5..=40)));
    let started = p.decision(start, EventBody::Started);

    // Leave, and the planned end it moves.
    let leave = p
        .rng
        .random_bool(0.24)
        .then(|| leave::plan_leave(p.rng, start, months));
    let (periods, returns) = leave::leave_spans(leave.as_ref());
    let spans: Vec<LeaveSpan> = periods
        .iter()
        .map(|&period| LeaveSpan::new(period, &returns))
        .collect();
    let leave_days = calendar::leave_days(start, None, &spans);
    let planned_end = |months| calendar::planned_end(start, months, leave_days);

    // How and when it ends: `last` is the last day in the programme.
    let mut granted_months = months;
    let mut extensions: Vec<(NaiveDate, u32)> = Vec::new();
    let (ending, last) = match leave {
        Some(LeavePlan {
            period,
            ending: LeaveEnding::DropsOut,
            ..
        }) => {
            let ending = pick(
                p.rng,
                &[
                    (Ending::Stopped(StoppedReason::Other), 40),
                    (Ending::Interrupted(InterruptedReason::Unknown), 35),
                    (Ending::Completed(CompletedReason::NotJobseeker), 25),
                ],
            );
            let last = between(
                p.rng,
                add_days(period.from, 14),
                period.to.min(add_days(period.from, 120)),
            );
            (ending, last)
        }
        _ => match p.rng.random_range(0..100) {
            0..74 => {
                let reason = pick(p.rng, exit::COMPLETED_REASONS);
                let early = matches!(
                    reason,
                    CompletedReason::WorkFullTime
                        | CompletedReason::WorkPartTime
                        | CompletedReason::UpperSecondary
                        | CompletedReason::HigherEducation
                ) && p.rng.random_bool(0.4);
                if early {
                    // A job or a school place before the planned end.
                    let end = planned_end(granted_months);
                    (
                        Ending::Completed(reason),
                        between(p.rng, add_days(start, 300), minus(end, 45)),
                    )
                } else {
                    if p.rng.random_bool(0.28) {
                        extend(p.rng, &planned_end, &mut granted_months, &mut extensions);
                    }
                    let end = minus(planned_end(granted_months), 1);
                    let last = add_days(minus(end, 10), p.rng.random_range(0..=12));
                    (Ending::Completed(reason), last)
                }
            }
            74..89 => {
                if p.rng.random_bool(0.1) {
                    extend(p.rng, &planned_end, &mut granted_months, &mut extensions);
                }
                let end = planned_end(granted_months);
                let reason = pick(p.rng, exit::STOPPED_REASONS);
                (
                    Ending::Stopped(reason),
                    between(p.rng, add_days(start, 60), minus(end, 30)),
                )
            }
            _ => {
                let end = planned_end(granted_months);
                let reason = pick(p.rng, exit::INTERRUPTED_REASONS);
                (
                    Ending::Interrupted(reason),
                    between(p.rng, add_days(start, 14), minus(end, 14)),
                )
            }
        },
    };

    // Everything inside the programme is dated on or before `last`; an event
    // logged on its own (not in the chain) is dated before it, because a
    // late entry dated on the exit day would be placed after the exit.
    if let Some(l) = leave {
        leave::plan_leave_events(p, l, last);
    }
    for &(date, months) in &extensions {
        if date < last {
            p.decision(date, EventBody::Extended(Extended { months }));
        }
    }
    measure::plan_measures(p, start, last);
    plan_absences(p, started, start, last, &spans);
    let handover = weekday(add_days(
        minus(sub_months(planned_end(granted_months), 2), 14),
        p.rng.random_range(0..=28),
    ));
    let handed_over = match ending {
        Ending::Completed(_) => 0.88,
        Ending::Stopped(_) | Ending::Interrupted(_) => 0.6,
    };
    if handover < last && p.rng.random_bool(handed_over) {
        let to = if p.rng.random_bool(0.85) {
            HandoverTo::Nav
        } else {
            HandoverTo::Other
        };
        p.routine(handover, EventBody::Handover(Handover { to }), started);
    }

    // The exit, now and then first entered with the wrong reason.
    let to_unit = match ending {
        Ending::Interrupted(InterruptedReason::Moved) if p.rng.random_bool(0.75) => {
            Some(units.pick_other(p.rng, unit))
        }
        _ => None,
    };
    let body = exit::exit_body(p.rng, ending, to_unit.map(|u| units.list[u].code));
    let exit_id = match ending {
        Ending::Completed(_) | Ending::Stopped(_) if p.rng.random_bool(0.03) => {
            let wrong_ending = exit::wrong_reason(p.rng, ending);
            let wrong_body = exit::exit_body(p.rng, wrong_ending, None);
            let wrong = p.decision(last, wrong_body);
            p.retract(wrong, last, exit::WHY_EXIT, After::Chain);
            p.decision(last, body.clone())
        }
        _ => p.decision(last, body.clone()),
    };

    match ending {
        Ending::Completed(_) | Ending::Stopped(_) => exit::plan_follow_ups(p, exit_id, last, &body),
        Ending::Interrupted(InterruptedReason::Moved) if p.rng.random_bool(0.1) => {
            let date = add_days(last, p.rng.random_range(40..=90));
            let outcome = FollowUpOutcome::Moved;
            let note = Some("Bekreftet flyttet; saken oversendt ny kommune".to_owned());
            p.routine(
                date,
                EventBody::FollowUp(FollowUp {
                    outcome,
                    channel: Some(Channel::Phone),
                    note,
                }),
                exit_id,
            );
        }
        Ending::Interrupted(_) => {}
    }
    match (to_unit, moves) {
        (Some(to), Moves::FollowedUp) if p.rng.random_bool(0.8) => {
            let registered = weekday(add_days(last, p.rng.random_range(10..=60)));
            Some(Move {
                unit: to,
                registered,
            })
        }
        _ => None,
    }
}

/// One or two extensions decided some months before the planned end: to 30
/// or 36 months, and from 30 on to 36.
fn extend(
    rng: &mut impl Rng,
    planned_end: &impl Fn(u32) -> NaiveDate,
    months: &mut u32,
    extensions: &mut Vec<(NaiveDate, u32)>,
) {
    let target = if *months < 30 && rng.random_bool(0.6) {
        30
    } else {
        36
    };
    if target <= *months {
        return;
    }
    let decided = weekday(minus(planned_end(*months), rng.random_range(30..=100)));
    extensions.push((decided, target));
    *months = target;
    if target == 30 && rng.random_bool(0.3) {
        let again =
            weekday(minus(planned_end(30), rng.random_range(30..=70))).max(add_days(decided, 30));
        extensions.push((again, 36));
        *months = 36;
    }
}

/// Absences, about one month in five, never on leave and before the last
/// day; now and then one logged by mistake and retracted.
fn plan_absences<R: Rng>(
    p: &mut Planner<'_, R>,
    started: EventId,
    start: NaiveDate,
    last: NaiveDate,
    leaves: &[LeaveSpan],
) {
    let months = u32::try_from((last - start).num_days() / 30).unwrap_or(0);
    let on_leave = |d| leaves.iter().any(|s| s.covers(d));
    for _ in 0..months {
        if !p.rng.random_bool(0.2) {
            continue;
        }
        let day = weekday(between(p.rng, start, minus(last, 1)));
        if day >= last || on_leave(day) {
            continue;
        }
        let hours = pick(p.rng, &[(20, 2), (30, 2), (45, 2), (75, 5)]);
        let approved = p.rng.random_bool(0.6);
        p.routine(
            day,
            EventBody::Absence(Absence {
                hours: Hours::from_tenths(hours),
                approved,
            }),
            started,
        );
    }
    if months > 1 && p.rng.random_bool(0.1) {
        let day = weekday(between(p.rng, start, minus(last, 1)));
        if day < last {
            let hours = Hours::from_tenths(75);
            let mistake = p.routine(
                day,
                EventBody::Absence(Absence {
                    hours,
                    approved: false,
                }),
                started,
            );
            let why = *WHY_ABSENCE.choose(p.rng).expect("the list is not empty");
            p.retract(mistake, day, why, After::Event(mistake));
        }
    }
}

const BASES: &[(Basis, u32)] = &[
    (Basis::Asylum, 35),
    (Basis::CollectiveProtection, 3),
    (Basis::Resettlement, 20),
    (Basis::Humanitarian, 12),
    (Basis::FamilyReunification, 30),
];

const REFUSAL_REASONS: &[&str] = &[
    "Oppholdsgrunnlaget gir ikke rett til introduksjonsprogram",
    "Har allerede fulltidsarbeid",
    "Har fullført introduksjonsprogram i en annen kommune",
    "Krav fremsatt etter fristen",
    "Ikke behov for grunnleggende kvalifisering",
];

const WHY_ABSENCE: &[&str] = &[
    "Fraværet var ført på feil deltaker",
    "Deltakeren var til stede; fraværet var ført på feil dato",
];

/// Picks by weight.
pub(crate) fn pick<T: Copy>(rng: &mut impl Rng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|&(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for &(value, weight) in weighted {
        if roll < weight {
            return value;
        }
        roll -= weight;
    }
    unreachable!("the roll is below the sum of the weights")
}

/// A day from `from` to `to`, both included; `from` when the span is empty.
pub(crate) fn between(rng: &mut impl Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    match u32::try_from((to - from).num_days()) {
        Ok(span) if span > 0 => add_days(from, rng.random_range(0..=span)),
        _ => from,
    }
}

pub(crate) fn minus(date: NaiveDate, days: u32) -> NaiveDate {
    date.checked_sub_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MIN)
}

/// The day itself, or the Monday after a weekend: offices are closed.
pub(crate) fn weekday(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => add_days(date, 2),
        Weekday::Sun => add_days(date, 1),
        _ => date,
    }
}

pub(crate) fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(LAST_DAY)
}

/// A UUID from the seeded generator (never the operating system's), with the
/// version-4 bits set as `Builder::from_random_bytes` sets them.
pub(crate) fn uuid(rng: &mut impl Rng) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rng.random::<u128>().to_le_bytes()).into_uuid()
}

fn event_id(rng: &mut impl Rng) -> EventId {
    EventId(uuid(rng))
}
