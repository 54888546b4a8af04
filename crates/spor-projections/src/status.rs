//! Current status: per participant, where they stand in the programme on a
//! given day.

use chrono::NaiveDate;
use serde::Serialize;
use spor_domain::timeline::Facts;
use spor_domain::{EventKind, ParticipantId, Timeline, UnitCode};

use crate::Projections;

/// Where a participant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Registrert: no claim or offer yet.
    Registered,
    /// Krav om program.
    Claimed,
    /// Tilbud om program.
    Offered,
    /// Vedtak, not started.
    Granted,
    /// Avslag.
    Refused,
    /// I program.
    Active,
    /// I permisjon.
    OnLeave,
    /// Avsluttet, stanset eller avbrutt.
    Ended,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Claimed => "claimed",
            Self::Offered => "offered",
            Self::Granted => "granted",
            Self::Refused => "refused",
            Self::Active => "active",
            Self::OnLeave => "on_leave",
            Self::Ended => "ended",
        }
    }
}

/// One participant's status on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub participant: ParticipantId,
    pub unit: UnitCode,
    pub state: State,
    /// For `ended`: completed, stopped or interrupted.
    pub exit_kind: Option<EventKind>,
    /// For `ended`: the reason code.
    pub exit_reason: Option<&'static str>,
    pub exit_date: Option<NaiveDate>,
    pub started: Option<NaiveDate>,
    /// Months granted after extensions.
    pub months: u32,
    pub extensions: usize,
    pub leave_days: u32,
    pub planned_end: Option<NaiveDate>,
    /// The latest date of a counting event.
    pub last_event: Option<NaiveDate>,
}

/// The status of one timeline on `on`.
pub fn status_of(participant: ParticipantId, timeline: &Timeline, on: NaiveDate) -> Option<Status> {
    status_from(participant, timeline, &timeline.facts(), on)
}

fn status_from(
    participant: ParticipantId,
    timeline: &Timeline,
    facts: &Facts,
    on: NaiveDate,
) -> Option<Status> {
    let unit = timeline.unit()?;
    // A stream whose registration was retracted has no participant in it.
    facts.registered?;
    let state = state_of(facts, on);
    let exit = facts.exit.as_ref();
    Some(Status {
        participant,
        unit,
        state,
        exit_kind: exit.map(|x| x.exit.kind()),
        exit_reason: exit.map(|x| x.exit.reason_code()),
        exit_date: exit.map(|x| x.date),
        started: facts.started,
        months: facts.months,
        extensions: facts.extensions.len(),
        leave_days: facts.leave_days(),
        planned_end: facts.planned_end(),
        last_event: facts.last_date,
    })
}

fn state_of(f: &Facts, on: NaiveDate) -> State {
    if f.exit.is_some() {
        State::Ended
    } else if f.started.is_some() {
        if f.on_leave(on) {
            State::OnLeave
        } else {
            State::Active
        }
    } else if f.refused.is_some() {
        State::Refused
    } else if f.granted.is_some() {
        State::Granted
    } else if f.offered.is_some() {
        State::Offered
    } else if f.claimed.is_some() {
        State::Claimed
    } else {
        State::Registered
    }
}

impl Projections {
    /// Every participant's status on `on`, optionally of one unit, sorted by
    /// unit and then participant.
    pub fn statuses(&self, unit: Option<UnitCode>, on: NaiveDate) -> Vec<Status> {
        let mut v: Vec<Status> = self
            .timelines(unit)
            .filter_map(|(p, t)| status_from(p, t, &self.facts(p, t), on))
            .collect();
        v.sort_by_key(|a| (a.unit, a.participant));
        v
    }

    pub fn status(&self, participant: ParticipantId, on: NaiveDate) -> Option<Status> {
        let t = self.timeline(participant)?;
        status_from(participant, t, &self.facts(participant, t), on)
    }
}
