//! Follow-up reminders (contract §3), derived from the log and never stored:
//! how each reminder stands on a given day.
//!
//! A reminder is computed from the events dated on or before the day asked
//! about (retracted events count nowhere). It is open when its rule has
//! opened it and no answering event dated on or before that day exists, and
//! overdue when its due date is before that day.

use chrono::NaiveDate;
use serde::Serialize;
use spor_domain::event::EventKind;
use spor_domain::timeline::{Entry, Facts};
use spor_domain::{ParticipantId, Timeline, UnitCode, calendar};

use crate::Projections;

/// The kinds of reminder, as the contract names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Permisjon slutter: the day after a leave's `to`.
    LeaveEnds,
    /// Overlevering til NAV: planned end minus two months.
    NavHandover,
    /// Planlagt slutt.
    PlannedEnd,
    /// Kontakt etter avslutning: 2, 6 and 12 months after a completed or stopped exit.
    PostExit,
    /// Ingen hendelse: 90 days after the last event of someone in the programme.
    Stale,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LeaveEnds => "leave_ends",
            Self::NavHandover => "nav_handover",
            Self::PlannedEnd => "planned_end",
            Self::PostExit => "post_exit",
            Self::Stale => "stale",
        }
    }
}

/// The offsets and windows of the rules (configurable; contract defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderRules {
    /// `nav_handover` is due this many months before the planned end.
    pub nav_handover_months_before: u32,
    /// `post_exit` contacts, in months after the exit.
    pub post_exit_months: Vec<u32>,
    /// A follow-up answers a `post_exit` reminder within this many months
    /// either side of its due date; the reminder is open from that many
    /// months before its due date until that many after.
    pub post_exit_window_months: u32,
    /// `stale` is due this many days after the last event.
    pub stale_days: u32,
}

impl Default for ReminderRules {
    fn default() -> Self {
        Self { nav_handover_months_before: 2, post_exit_months: vec![2, 6, 12], post_exit_window_months: 1, stale_days: 90 }
    }
}

/// One open reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    pub participant: ParticipantId,
    pub unit: UnitCode,
    pub kind: Kind,
    pub due: NaiveDate,
    pub overdue: bool,
    /// For `post_exit`: the months after the exit (2, 6 or 12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub months_after_exit: Option<u32>,
}

/// The events of a timeline that stand on `on`: dated on or before it, and
/// not retracted (a retraction applies whenever it was made).
fn facts_on(t: &Timeline, on: NaiveDate) -> Facts {
    t.facts_where(|e: &Entry| e.event.date <= on || e.event.body.kind() == EventKind::Retracted)
}

/// The latest `date` among the events dated on or before `on`, a retraction
/// counting as an event and the event it retracts not.
fn last_event(t: &Timeline, on: NaiveDate) -> Option<NaiveDate> {
    t.entries().iter().filter(|e| e.retracted_by.is_none() && e.event.date <= on).map(|e| e.event.date).max()
}

/// Every reminder of one participant open on `on`.
pub fn open_on(participant: ParticipantId, t: &Timeline, on: NaiveDate, rules: &ReminderRules) -> Vec<Reminder> {
    open_from(participant, t, &facts_on(t, on), last_event(t, on), on, rules)
}

/// The reminders of one participant open on `on`, from the facts that stand
/// then and the latest event dated on or before it.
fn open_from(
    participant: ParticipantId,
    t: &Timeline,
    f: &Facts,
    last_event: Option<NaiveDate>,
    on: NaiveDate,
    rules: &ReminderRules,
) -> Vec<Reminder> {
    let Some(unit) = t.unit() else { return Vec::new() };
    let mut out = Vec::new();
    let mut add = |kind, due: NaiveDate, months_after_exit| {
        out.push(Reminder { participant, unit, kind, due, overdue: due < on, months_after_exit });
    };
    if f.registered.is_none() {
        return out;
    }
    match &f.exit {
        None => {
            let Some(_start) = f.started else { return out };
            // leave_ends: one per leave, answered by a return, a leave that
            // continues it, or an exit.
            for l in &f.leaves {
                let returned = f.leave_returns.iter().any(|d| *d > l.period.from);
                let continued = f
                    .leaves
                    .iter()
                    .any(|o| o.period.from > l.period.from && o.period.from <= calendar::add_days(l.period.to, 1));
                if !returned && !continued {
                    add(Kind::LeaveEnds, calendar::add_days(l.period.to, 1), None);
                }
            }
            if let Some(end) = f.planned_end() {
                if f.handovers.is_empty() {
                    add(Kind::NavHandover, calendar::sub_months(end, rules.nav_handover_months_before), None);
                }
                add(Kind::PlannedEnd, end, None);
            }
            if !f.on_leave(on) {
                if let Some(last) = last_event {
                    add(Kind::Stale, calendar::add_days(last, rules.stale_days), None);
                }
            }
        }
        Some(x) if matches!(x.exit.kind(), EventKind::Completed | EventKind::Stopped) => {
            for &months in &rules.post_exit_months {
                let due = calendar::add_months(x.date, months);
                let from = calendar::sub_months(due, rules.post_exit_window_months);
                let until = calendar::add_months(due, rules.post_exit_window_months);
                if on < from || on > until {
                    continue;
                }
                let answered = f.follow_ups.iter().any(|(d, _)| from <= *d && *d <= until);
                if !answered {
                    add(Kind::PostExit, due, Some(months));
                }
            }
        }
        Some(_) => {}
    }
    out
}

/// The reminders open on `on` and due on or before `on + within_days`,
/// optionally of one unit, sorted by due date, then unit, then participant.
pub fn list(
    projections: &Projections,
    on: NaiveDate,
    unit: Option<UnitCode>,
    within_days: u32,
    rules: &ReminderRules,
) -> Vec<Reminder> {
    let horizon = calendar::add_days(on, within_days);
    let mut out: Vec<Reminder> = projections
        .timelines(unit)
        .flat_map(|(p, t)| match projections.settled(p) {
            // Every entry is dated on or before the day: what was settled stands.
            Some(s) if s.latest_date.is_none_or(|d| d <= on) => open_from(p, t, &s.facts, s.last_event, on, rules),
            _ => open_on(p, t, on, rules),
        })
        .filter(|r| r.due <= horizon)
        .collect();
    out.sort_by(|a, b| (a.due, a.unit, a.participant, a.kind).cmp(&(b.due, b.unit, b.participant, b.kind)));
    out
}
