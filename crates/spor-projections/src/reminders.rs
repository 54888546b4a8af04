//! Follow-up reminders (contract §3), derived from the log and never stored:
//! how each reminder stands on a given day.
//!
//! A reminder is computed from the events dated on or before the day asked
//! about (retracted events count nowhere). It is open when its rule has
//! opened it and no answering event dated on or before that day exists, and
//! overdue when its due date is before that day.

use chrono::NaiveDate;
use serde::Serialize;
use smallvec::SmallVec;
use spor_domain::calendar::LeaveSpan;
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
        Self {
            nav_handover_months_before: 2,
            post_exit_months: vec![2, 6, 12],
            post_exit_window_months: 1,
            stale_days: 90,
        }
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
    t.entries()
        .iter()
        .filter(|e| e.retracted_by.is_none() && e.event.date <= on)
        .map(|e| e.event.date)
        .max()
}

/// When a reminder whose rule has opened it stands open, given the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    Always,
    /// `stale`: not while the participant is on leave.
    OffLeave,
    /// `post_exit`: only within its window.
    Within {
        from: NaiveDate,
        until: NaiveDate,
    },
}

/// A reminder the facts have opened and nothing has answered, before the
/// day asked about is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Candidate {
    kind: Kind,
    due: NaiveDate,
    months_after_exit: Option<u32>,
    when: When,
}

/// The reminders the facts open and leave unanswered; `last_event` is the
/// latest event the `stale` rule counts from.
fn candidates(f: &Facts, last_event: Option<NaiveDate>, rules: &ReminderRules) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut add = |kind, due, months_after_exit, when| {
        out.push(Candidate {
            kind,
            due,
            months_after_exit,
            when,
        })
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
                let continued = f.leaves.iter().any(|o| {
                    o.period.from > l.period.from
                        && o.period.from <= calendar::add_days(l.period.to, 1)
                });
                if !returned && !continued {
                    add(
                        Kind::LeaveEnds,
                        calendar::add_days(l.period.to, 1),
                        None,
                        When::Always,
                    );
                }
            }
            if let Some(end) = f.planned_end() {
                if f.handovers.is_empty() {
                    add(
                        Kind::NavHandover,
                        calendar::sub_months(end, rules.nav_handover_months_before),
                        None,
                        When::Always,
                    );
                }
                add(Kind::PlannedEnd, end, None, When::Always);
            }
            if let Some(last) = last_event {
                add(
                    Kind::Stale,
                    calendar::add_days(last, rules.stale_days),
                    None,
                    When::OffLeave,
                );
            }
        }
        Some(x) if matches!(x.exit.kind(), EventKind::Completed | EventKind::Stopped) => {
            for &months in &rules.post_exit_months {
                let due = calendar::add_months(x.date, months);
                let from = calendar::sub_months(due, rules.post_exit_window_months);
                let until = calendar::add_months(due, rules.post_exit_window_months);
                let answered = f.follow_ups.iter().any(|(d, _)| from <= *d && *d <= until);
                if !answered {
                    add(
                        Kind::PostExit,
                        due,
                        Some(months),
                        When::Within { from, until },
                    );
                }
            }
        }
        Some(_) => {}
    }
    out
}

/// The candidates open on `on`.
fn open_of<'a>(
    participant: ParticipantId,
    unit: UnitCode,
    candidates: &'a [Candidate],
    spans: &'a [LeaveSpan],
    on: NaiveDate,
    horizon: NaiveDate,
) -> impl Iterator<Item = Reminder> + 'a {
    candidates
        .iter()
        .filter(move |c| c.due <= horizon)
        .filter(move |c| match c.when {
            When::Always => true,
            When::OffLeave => !spans.iter().any(|s| s.covers(on)),
            When::Within { from, until } => from <= on && on <= until,
        })
        .map(move |c| Reminder {
            participant,
            unit,
            kind: c.kind,
            due: c.due,
            overdue: c.due < on,
            months_after_exit: c.months_after_exit,
        })
}

/// Every reminder of one participant open on `on`.
pub fn open_on(
    participant: ParticipantId,
    t: &Timeline,
    on: NaiveDate,
    rules: &ReminderRules,
) -> Vec<Reminder> {
    let Some(unit) = t.unit() else {
        return Vec::new();
    };
    let f = facts_on(t, on);
    let c = candidates(&f, last_event(t, on), rules);
    open_of(participant, unit, &c, &f.leave_spans(), on, NaiveDate::MAX).collect()
}

/// One participant's reminders as a settle keeps them for the default
/// rules: what could be open on any day on or after the latest event.
#[derive(Debug, Clone, Default)]
pub(crate) struct Watch {
    // Inline, so that listing a unit's reminders reads each participant's
    // watch without following a pointer (most have at most four).
    candidates: SmallVec<[Candidate; 4]>,
    spans: SmallVec<[LeaveSpan; 2]>,
    /// The latest `date` of any entry: a day before it sees fewer events,
    /// so the timeline is walked for it instead.
    latest_date: Option<NaiveDate>,
    /// After this day nothing can be open: the latest window's end, the
    /// day before `latest_date`, or `NaiveDate::MAX` while in the programme.
    until: NaiveDate,
}

impl Watch {
    /// The watch of a timeline whose facts (all its events) are `f`.
    pub(crate) fn of(t: &Timeline, f: &Facts, rules: &ReminderRules) -> Self {
        let latest_date = t.entries().iter().map(|e| e.event.date).max();
        let candidates = candidates(f, last_event(t, NaiveDate::MAX), rules);
        let open_until = candidates
            .iter()
            .map(|c| match c.when {
                When::Within { until, .. } => until,
                When::Always | When::OffLeave => NaiveDate::MAX,
            })
            .max();
        let before_latest = latest_date.and_then(|d| d.pred_opt());
        let until = open_until.max(before_latest).unwrap_or(NaiveDate::MIN);
        Self {
            candidates: candidates.into_iter().collect(),
            spans: f.leave_spans().into_iter().collect(),
            latest_date,
            until,
        }
    }
}

/// The participants of each unit by the last day a reminder of theirs can
/// be open (see [`Watch`]), moved by each settle.
#[derive(Debug, Clone, Default)]
pub(crate) struct Watches {
    units: std::collections::BTreeMap<UnitCode, UnitWatches>,
}

#[derive(Debug, Clone, Default)]
struct UnitWatches {
    by_until:
        std::collections::BTreeMap<NaiveDate, std::collections::HashMap<ParticipantId, Watch>>,
    until_of: std::collections::HashMap<ParticipantId, NaiveDate>,
}

impl Watches {
    pub(crate) fn set(&mut self, unit: UnitCode, p: ParticipantId, w: Watch) {
        let u = self.units.entry(unit).or_default();
        if let Some(old) = u.until_of.insert(p, w.until)
            && let Some(at) = u.by_until.get_mut(&old)
        {
            at.remove(&p);
            if at.is_empty() {
                u.by_until.remove(&old);
            }
        }
        u.by_until.entry(w.until).or_default().insert(p, w);
    }

    /// The watches of one unit that can have a reminder open on `on`.
    fn from(
        &self,
        unit: UnitCode,
        on: NaiveDate,
    ) -> impl Iterator<Item = (ParticipantId, &Watch)> + '_ {
        self.units.get(&unit).into_iter().flat_map(move |u| {
            u.by_until
                .range(on..)
                .flat_map(|(_, at)| at.iter().map(|(p, w)| (*p, w)))
        })
    }

    fn units(&self) -> impl Iterator<Item = UnitCode> + '_ {
        self.units.keys().copied()
    }
}

/// The reminders open on `on` and due on or before `on + within_days`,
/// optionally of one unit, sorted by due date, then unit, then participant.
///
/// With the rules the projections were built with and every timeline settled, only the participants
/// whose reminders can be open on `on` are looked at, from what the settle
/// kept; a participant with an event dated after `on` is walked as of `on`.
pub fn list(
    projections: &Projections,
    on: NaiveDate,
    unit: Option<UnitCode>,
    within_days: u32,
    rules: &ReminderRules,
) -> Vec<Reminder> {
    let horizon = calendar::add_days(on, within_days);
    let mut out: Vec<Reminder> = if projections.is_settled() && rules == projections.rules() {
        let watches = &projections.watches;
        let units: Vec<UnitCode> = match unit {
            Some(u) => vec![u],
            None => watches.units().collect(),
        };
        let mut out = Vec::new();
        for u in units {
            for (p, w) in watches.from(u, on) {
                if w.latest_date.is_some_and(|d| d > on) {
                    if let Some(t) = projections.timeline(p) {
                        out.extend(
                            open_on(p, t, on, rules)
                                .into_iter()
                                .filter(|r| r.due <= horizon),
                        );
                    }
                } else {
                    out.extend(open_of(p, u, &w.candidates, &w.spans, on, horizon));
                }
            }
        }
        out
    } else {
        projections
            .timelines(unit)
            .flat_map(|(p, t)| open_on(p, t, on, rules))
            .filter(|r| r.due <= horizon)
            .collect()
    };
    // Reminders equal in these four are equal in every field.
    out.sort_unstable_by_key(|a| (a.due, a.unit, a.participant, a.kind));
    out
}
