//! The JSON documents of the read views (contract §2-§4), built once so that
//! `spor status --format json` and `GET /api/v1/status` give the same value
//! on the same log, and so for follow-ups.

use chrono::NaiveDate;
use serde::Serialize;
use spor_domain::{ParticipantId, UnitCode};
use spor_projections::Projections;
use spor_projections::reminders::{Kind, Reminder, ReminderRules, list};
use spor_projections::status::Status;

/// Which units a view covers.
#[derive(Debug, Clone, Copy)]
pub enum Units<'a> {
    /// Every unit (an operator at the command line).
    All,
    /// These units (a unit asked for, or every unit of an account).
    Only(&'a [UnitCode]),
}

/// `{"on":…,"unit":…,"participants":[…]}`: each participant's status on a day.
#[derive(Debug, Serialize)]
pub struct StatusDoc {
    pub on: NaiveDate,
    /// The unit asked for, if one was.
    pub unit: Option<UnitCode>,
    pub participants: Vec<Status>,
}

impl StatusDoc {
    pub fn new(p: &Projections, units: Units<'_>, asked: Option<UnitCode>, on: NaiveDate) -> Self {
        let mut participants = match units {
            Units::All => p.statuses(None, on),
            Units::Only(us) => us.iter().flat_map(|u| p.statuses(Some(*u), on)).collect(),
        };
        participants.sort_by_key(|s| (s.unit, s.participant));
        participants.dedup_by_key(|s| s.participant);
        Self {
            on,
            unit: asked,
            participants,
        }
    }
}

/// `{"on":…,"items":[…]}`: the reminders open on a day (contract §3).
#[derive(Debug, Serialize)]
pub struct FollowupsDoc {
    pub on: NaiveDate,
    pub items: Vec<FollowupItem>,
}

/// One reminder, with the contract's fields in its order.
#[derive(Debug, Serialize)]
pub struct FollowupItem {
    pub participant: ParticipantId,
    pub unit: UnitCode,
    pub kind: Kind,
    pub due: NaiveDate,
    pub overdue: bool,
}

impl FollowupsDoc {
    /// The reminders as listed, sorted by due date, then unit, then participant.
    pub fn reminders(
        p: &Projections,
        units: Units<'_>,
        on: NaiveDate,
        within_days: u32,
        rules: &ReminderRules,
    ) -> Vec<Reminder> {
        let mut items = match units {
            Units::All => list(p, on, None, within_days, rules),
            Units::Only(us) => us
                .iter()
                .flat_map(|u| list(p, on, Some(*u), within_days, rules))
                .collect(),
        };
        items.sort_by_key(|a| (a.due, a.unit, a.participant, a.kind));
        items
    }

    pub fn of(on: NaiveDate, reminders: &[Reminder]) -> Self {
        let items = reminders
            .iter()
            .map(|r| FollowupItem {
                participant: r.participant,
                unit: r.unit,
                kind: r.kind,
                due: r.due,
                overdue: r.overdue,
            })
            .collect();
        Self { on, items }
    }
}
