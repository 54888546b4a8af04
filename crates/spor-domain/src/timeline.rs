//! A participant's timeline and the rules that decide whether a new event may
//! join it (contract §1).
//!
//! The timeline is judged in `date` order, events of the same date in the
//! order they were recorded. A late event is admitted when the whole timeline,
//! with it in its place, keeps every rule; a retraction is admitted when the
//! timeline without the retracted event keeps every rule. The walk that checks
//! the rules also gathers the [`Facts`] every projection reads, so the meaning
//! of a timeline is decided in one place.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

use crate::calendar::{self, LeaveSpan, Period};
use crate::codes::UnitCode;
use crate::event::{
    CompletedReason, Event, EventBody, EventId, EventKind, Exit, FollowUp, HandoverTo,
    InterruptedReason, LeaveReason, ParticipantId, StoppedReason,
};
use crate::person::{self, PersonKind, SyntheticIds};
use crate::refusal::Refusal;

/// The longest programme, in months, after extensions (introduksjonsloven).
pub const MAX_MONTHS: u32 = 36;

/// Limits on free text, in characters.
const LIMIT_REASON: usize = 1000;
const LIMIT_NOTE: usize = 2000;
const LIMIT_MEASURE: usize = 32;
const LIMIT_BY: usize = 100;

/// What the rules need from configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy {
    pub synthetic_ids: SyntheticIds,
}

/// One event of a stream as stored: its place in the global log, and whether
/// a later retraction took it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub event: Event,
    pub retracted_by: Option<EventId>,
}

/// Every event of one participant, in recording order.
///
/// An event is found by its id with a search from the newest entry back: a
/// timeline holds tens of events, and a map per timeline cost more to build
/// and keep (hundreds of thousands of them) than the searches it saved.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    entries: Vec<Entry>,
}

impl Timeline {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a timeline from stored events in recording order.
    pub fn from_entries(events: impl IntoIterator<Item = (u64, Event)>) -> Self {
        let mut t = Self::new();
        for (seq, e) in events {
            t.push(seq, e);
        }
        t
    }

    /// The stream's version: how many events it holds. An append says which
    /// version it read, and the store refuses it if another came first.
    pub fn version(&self) -> u32 {
        u32::try_from(self.entries.len()).unwrap_or(u32::MAX)
    }

    pub fn participant(&self) -> Option<ParticipantId> {
        self.entries.first().map(|e| e.event.participant)
    }

    /// The unit that owns the stream: the unit of its first event.
    pub fn unit(&self) -> Option<UnitCode> {
        self.entries.first().map(|e| e.event.unit)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn get(&self, id: EventId) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.event.id == id)
    }

    /// Adds an event the store has accepted. A retraction marks its target.
    pub fn push(&mut self, seq: u64, event: Event) {
        if let EventBody::Retracted(r) = &event.body
            && let Some(target) = self
                .entries
                .iter_mut()
                .rev()
                .find(|e| e.event.id == r.event)
        {
            target.retracted_by = Some(event.id);
        }
        self.entries.push(Entry {
            seq,
            event,
            retracted_by: None,
        });
    }

    /// The events that count: not retracted and not retractions, in the
    /// order the rules read them (date, then recording order).
    pub fn effective(&self) -> Vec<&Event> {
        let mut v: Vec<(&Event, u64)> = self
            .entries
            .iter()
            .filter(|e| e.retracted_by.is_none() && e.event.body.kind() != EventKind::Retracted)
            .map(|e| (&e.event, e.seq))
            .collect();
        v.sort_by_key(|(e, seq)| (e.date, *seq));
        v.into_iter().map(|(e, _)| e).collect()
    }

    /// What the timeline means now.
    pub fn facts(&self) -> Facts {
        walk(&self.effective()).0
    }

    /// What the timeline means counting only the events `keep` lets through
    /// (e.g. those recorded by a time, or dated by a date). Retractions are
    /// honoured only if `keep` lets the retraction through.
    pub fn facts_where(&self, keep: impl Fn(&Entry) -> bool) -> Facts {
        let kept: Vec<&Entry> = self.entries.iter().filter(|e| keep(e)).collect();
        let retracted: std::collections::HashSet<EventId> = kept
            .iter()
            .filter_map(|e| match &e.event.body {
                EventBody::Retracted(r) => Some(r.event),
                _ => None,
            })
            .collect();
        let mut v: Vec<&Entry> = kept
            .into_iter()
            .filter(|e| {
                !retracted.contains(&e.event.id) && e.event.body.kind() != EventKind::Retracted
            })
            .collect();
        v.sort_by_key(|e| (e.event.date, e.seq));
        let events: Vec<&Event> = v.into_iter().map(|e| &e.event).collect();
        walk(&events).0
    }

    /// Decides whether `event` may join this timeline. The store's
    /// idempotency check comes first: an id already stored never reaches here.
    pub fn admit(&self, event: &Event, policy: &Policy) -> Result<(), Refusal> {
        if let Some(stream) = self.unit()
            && event.unit != stream
        {
            return Err(Refusal::UnitMismatch {
                event: event.id,
                unit: event.unit,
                stream,
            });
        }
        check_alone(event, policy)?;
        let mut events = self.effective();
        if let EventBody::Retracted(r) = &event.body {
            let target = self.get(r.event).ok_or(Refusal::RetractUnknown {
                event: event.id,
                target: r.event,
            })?;
            if target.event.body.kind() == EventKind::Retracted {
                return Err(Refusal::RetractRetraction {
                    event: event.id,
                    target: r.event,
                });
            }
            if let Some(by) = target.retracted_by {
                return Err(Refusal::AlreadyRetracted {
                    event: event.id,
                    target: r.event,
                    by,
                });
            }
            events.retain(|e| e.id != r.event);
            return match walk(&events).1 {
                None => Ok(()),
                Some(cause) => Err(Refusal::RetractionBreaksTimeline {
                    event: event.id,
                    target: r.event,
                    cause: Box::new(cause),
                }),
            };
        }
        // A new event is recorded after every stored one, so it goes last
        // among the events of its date.
        let place = events.partition_point(|e| e.date <= event.date);
        events.insert(place, event);
        match walk(&events).1 {
            None => Ok(()),
            Some(cause) if cause.event() == event.id => Err(cause),
            Some(cause) => Err(Refusal::BreaksLaterEvent {
                event: event.id,
                cause: Box::new(cause),
            }),
        }
    }
}

/// Checks what an event says on its own, before its place in the timeline.
fn check_alone(e: &Event, policy: &Policy) -> Result<(), Refusal> {
    let event = e.id;
    let earliest = NaiveDate::from_ymd_opt(1990, 1, 1).expect("a valid constant date");
    if e.date < earliest {
        return Err(Refusal::DateOutOfRange {
            event,
            date: e.date,
        });
    }
    let recorded = e.recorded_at.date_naive();
    // One day of slack: a time in UTC late in the evening is the next day in Norway.
    if e.date
        > recorded
            .checked_add_days(Days::new(1))
            .unwrap_or(NaiveDate::MAX)
    {
        return Err(Refusal::DateAfterRecording {
            event,
            date: e.date,
            recorded,
        });
    }
    if let Some(by) = &e.by {
        text(event, "by", by, LIMIT_BY)?;
    }
    match &e.body {
        EventBody::Registered(r) => {
            let checked = person::check(&r.person, policy.synthetic_ids)
                .map_err(|problem| Refusal::PersonNumber { event, problem })?;
            match (checked.kind, checked.birth_date, r.birth_date) {
                (PersonKind::Duf, _, None) => return Err(Refusal::DufWithoutBirthDate { event }),
                (_, Some(encoded), Some(given)) if encoded != given => {
                    return Err(Refusal::BirthDateMismatch {
                        event,
                        given,
                        encoded,
                    });
                }
                _ => {}
            }
        }
        EventBody::Granted(g) if !(1..=MAX_MONTHS).contains(&g.months) => {
            return Err(Refusal::MonthsOutOfRange {
                event,
                months: g.months,
            });
        }
        EventBody::Extended(x) if x.months > MAX_MONTHS => {
            return Err(Refusal::ExtensionTooLong {
                event,
                requested: x.months,
            });
        }
        EventBody::Refused(r) => text(event, "reason", &r.reason, LIMIT_REASON)?,
        EventBody::LeaveGranted(l) if l.to < l.from => {
            return Err(Refusal::LeavePeriodReversed {
                event,
                from: l.from,
                to: l.to,
            });
        }
        EventBody::MeasureStarted(m) => {
            text(event, "measure", &m.measure, LIMIT_MEASURE)?;
            hours(event, "hours_per_week", m.hours_per_week, 60)?;
        }
        EventBody::MeasureEnded(m) => text(event, "measure", &m.measure, LIMIT_MEASURE)?,
        EventBody::Absence(a) => hours(event, "hours", a.hours, 24)?,
        EventBody::Completed(c) => {
            main_activity(
                event,
                c.reason == CompletedReason::Other,
                c.main_activity.is_some(),
                c.reason.as_str(),
            )?;
            support(event, &c.support)?;
        }
        EventBody::Stopped(s) => {
            main_activity(
                event,
                s.reason == StoppedReason::Other,
                s.main_activity.is_some(),
                s.reason.as_str(),
            )?;
            support(event, &s.support)?;
        }
        EventBody::Interrupted(i) => {
            if let Some(to) = i.to_unit {
                if i.reason != InterruptedReason::Moved {
                    return Err(Refusal::ToUnitOnlyWhenMoved { event });
                }
                if to == e.unit {
                    return Err(Refusal::ToUnitIsOwnUnit { event, unit: to });
                }
            }
            support(event, &i.support)?;
        }
        EventBody::FollowUp(f) => {
            if let Some(note) = &f.note {
                text(event, "note", note, LIMIT_NOTE)?;
            }
        }
        EventBody::Retracted(r) => text(event, "why", &r.why, LIMIT_REASON)?,
        _ => {}
    }
    Ok(())
}

fn text(event: EventId, field: &'static str, s: &str, limit: usize) -> Result<(), Refusal> {
    let length = s.chars().count();
    if s.trim().is_empty() {
        Err(Refusal::TextMissing { event, field })
    } else if length > limit {
        Err(Refusal::TextTooLong {
            event,
            field,
            length,
            limit,
        })
    } else {
        Ok(())
    }
}

fn hours(
    event: EventId,
    field: &'static str,
    h: crate::event::Hours,
    limit: u32,
) -> Result<(), Refusal> {
    if h.tenths() == 0 || h.tenths() > limit * 10 {
        return Err(Refusal::HoursOutOfRange {
            event,
            field,
            hours: h.to_string(),
            limit,
        });
    }
    Ok(())
}

fn main_activity(
    event: EventId,
    reason_other: bool,
    given: bool,
    reason: &'static str,
) -> Result<(), Refusal> {
    match (reason_other, given) {
        (true, false) => Err(Refusal::MainActivityRequired { event }),
        (false, true) => Err(Refusal::MainActivityNotAllowed { event, reason }),
        _ => Ok(()),
    }
}

fn support(event: EventId, list: &[crate::event::Support]) -> Result<(), Refusal> {
    for (i, s) in list.iter().enumerate() {
        if list[..i].contains(s) {
            return Err(Refusal::DuplicateSupport { event, support: *s });
        }
    }
    Ok(())
}

/// A granted leave, as decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leave {
    pub event: EventId,
    /// The decision date.
    pub decided: NaiveDate,
    pub period: Period,
    pub reason: LeaveReason,
}

/// The exit, with its date (the last day in the programme).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitFact {
    pub event: EventId,
    pub date: NaiveDate,
    pub exit: Exit,
}

/// What a timeline means: gathered by the same walk that checks the rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub registered: Option<NaiveDate>,
    pub claimed: Option<NaiveDate>,
    pub offered: Option<NaiveDate>,
    /// The decision date and the months first granted.
    pub granted: Option<(NaiveDate, u32)>,
    /// The latest refusal, if no application came after it.
    pub refused: Option<NaiveDate>,
    pub started: Option<NaiveDate>,
    /// Planned length in months after extensions (0 before a grant).
    pub months: u32,
    /// Extension decisions: date and new total months.
    pub extensions: Vec<(NaiveDate, u32)>,
    pub leaves: Vec<Leave>,
    /// Dates of `leave_ended` (first day back).
    pub leave_returns: Vec<NaiveDate>,
    pub handovers: Vec<(NaiveDate, HandoverTo)>,
    pub exit: Option<ExitFact>,
    pub follow_ups: Vec<(NaiveDate, FollowUp)>,
    /// Measures running (code and start date).
    pub open_measures: BTreeMap<String, NaiveDate>,
    /// The latest `date` of a counting event.
    pub last_date: Option<NaiveDate>,
}

impl Facts {
    /// The leaves as the on-leave rule reads them.
    pub fn leave_spans(&self) -> Vec<LeaveSpan> {
        self.leaves
            .iter()
            .map(|l| LeaveSpan::new(l.period, &self.leave_returns))
            .collect()
    }

    /// Whether the person is on leave on `d` (contract §1).
    pub fn on_leave(&self, d: NaiveDate) -> bool {
        self.leave_spans().iter().any(|s| s.covers(d))
    }

    /// Days on leave (contract §2), from the start to the exit if there is one.
    pub fn leave_days(&self) -> u32 {
        match self.started {
            Some(start) => calendar::leave_days(
                start,
                self.exit.as_ref().map(|x| x.date),
                &self.leave_spans(),
            ),
            None => 0,
        }
    }

    /// Planned end = start + months after extensions + days on leave.
    pub fn planned_end(&self) -> Option<NaiveDate> {
        Some(calendar::planned_end(
            self.started?,
            self.months,
            self.leave_days(),
        ))
    }

    pub fn exit_date(&self) -> Option<NaiveDate> {
        self.exit.as_ref().map(|x| x.date)
    }
}

/// Walks the counting events in rule order, gathering facts and the first
/// broken rule. Facts keep being gathered after a refusal so that a partial
/// view (events known by some time) still means something.
fn walk(events: &[&Event]) -> (Facts, Option<Refusal>) {
    let mut f = Facts::default();
    let mut first: Option<Refusal> = None;
    let mut refuse = |r: Refusal| {
        if first.is_none() {
            first = Some(r);
        }
    };
    let mut application_open = false;
    let mut returns: Vec<(EventId, NaiveDate)> = Vec::new();
    for e in events {
        let event = e.id;
        let kind = e.body.kind();
        f.last_date = Some(e.date);
        if f.registered.is_none() && kind != EventKind::Registered {
            refuse(Refusal::FirstNotRegistered { event, kind });
        }
        if let Some(x) = &f.exit {
            match kind {
                EventKind::FollowUp => {}
                k if k.is_exit() => refuse(Refusal::SecondExit {
                    event,
                    exit: x.date,
                }),
                _ => refuse(Refusal::AfterExit {
                    event,
                    kind,
                    exit: x.date,
                }),
            }
        }
        let in_programme = |f: &Facts, refuse: &mut dyn FnMut(Refusal)| {
            if f.started.is_none() {
                refuse(Refusal::NotInProgramme { event, kind });
            }
        };
        match &e.body {
            EventBody::Registered(_) => {
                if f.registered.is_some() {
                    refuse(Refusal::AlreadyRegistered { event });
                }
                f.registered.get_or_insert(e.date);
            }
            EventBody::Claimed | EventBody::Offered => {
                if let Some((granted, _)) = f.granted {
                    refuse(Refusal::ApplicationAfterGrant {
                        event,
                        kind,
                        granted,
                    });
                }
                application_open = true;
                f.refused = None;
                if kind == EventKind::Claimed {
                    f.claimed.get_or_insert(e.date);
                } else {
                    f.offered.get_or_insert(e.date);
                }
            }
            EventBody::Granted(g) => {
                if let Some((granted, _)) = f.granted {
                    refuse(Refusal::AlreadyGranted { event, granted });
                } else {
                    if !application_open {
                        refuse(Refusal::DecisionWithoutApplication {
                            event,
                            kind,
                            refused: f.refused,
                        });
                    }
                    f.granted = Some((e.date, g.months));
                    f.months = g.months;
                }
                application_open = false;
            }
            EventBody::Refused(_) => {
                if let Some((granted, _)) = f.granted {
                    refuse(Refusal::ApplicationAfterGrant {
                        event,
                        kind,
                        granted,
                    });
                } else if !application_open {
                    refuse(Refusal::DecisionWithoutApplication {
                        event,
                        kind,
                        refused: f.refused,
                    });
                }
                application_open = false;
                f.refused = Some(e.date);
            }
            EventBody::Started => {
                if let Some(started) = f.started {
                    refuse(Refusal::AlreadyStarted { event, started });
                } else {
                    if f.granted.is_none() {
                        refuse(Refusal::StartWithoutGrant { event });
                    }
                    f.started = Some(e.date);
                }
            }
            EventBody::LeaveGranted(l) => {
                // The decision may come before the start or after the return;
                // where the leave lies is checked against the whole timeline below.
                f.leaves.push(Leave {
                    event,
                    decided: e.date,
                    period: Period {
                        from: l.from,
                        to: l.to,
                    },
                    reason: l.reason,
                });
            }
            EventBody::LeaveEnded => {
                in_programme(&f, &mut refuse);
                returns.push((event, e.date));
                f.leave_returns.push(e.date);
            }
            EventBody::Extended(x) => {
                in_programme(&f, &mut refuse);
                if f.started.is_some() && x.months <= f.months {
                    refuse(Refusal::ExtensionNotLonger {
                        event,
                        requested: x.months,
                        current: f.months,
                    });
                }
                f.months = f.months.max(x.months);
                f.extensions.push((e.date, x.months));
            }
            EventBody::MeasureStarted(m) => {
                in_programme(&f, &mut refuse);
                if f.open_measures.contains_key(&m.measure) {
                    refuse(Refusal::MeasureAlreadyOpen {
                        event,
                        measure: m.measure.clone(),
                    });
                }
                f.open_measures.insert(m.measure.clone(), e.date);
            }
            EventBody::MeasureEnded(m) => {
                in_programme(&f, &mut refuse);
                if f.open_measures.remove(&m.measure).is_none() {
                    refuse(Refusal::MeasureNotStarted {
                        event,
                        measure: m.measure.clone(),
                    });
                }
            }
            EventBody::Absence(_) => in_programme(&f, &mut refuse),
            EventBody::Handover(h) => {
                in_programme(&f, &mut refuse);
                f.handovers.push((e.date, h.to));
            }
            EventBody::Completed(_) | EventBody::Stopped(_) | EventBody::Interrupted(_) => {
                if f.started.is_none() {
                    refuse(Refusal::ExitBeforeStart { event, kind });
                }
                if f.exit.is_none() {
                    let exit = e.body.exit().expect("matched an exit kind");
                    f.exit = Some(ExitFact {
                        event,
                        date: e.date,
                        exit,
                    });
                }
            }
            EventBody::FollowUp(x) => {
                if f.exit.is_none() {
                    refuse(Refusal::FollowUpWithoutExit { event });
                }
                f.follow_ups.push((e.date, x.clone()));
            }
            EventBody::Retracted(_) => {}
        }
    }
    // A leave lies inside the programme, whenever it was decided.
    for l in &f.leaves {
        match (f.started, &f.exit) {
            (None, _) => refuse(Refusal::NotInProgramme {
                event: l.event,
                kind: EventKind::LeaveGranted,
            }),
            (Some(start), _) if l.period.from < start => {
                refuse(Refusal::LeaveBeforeStart {
                    event: l.event,
                    from: l.period.from,
                    start,
                });
            }
            (_, Some(x)) if l.period.from > x.date => {
                refuse(Refusal::LeaveAfterExit {
                    event: l.event,
                    from: l.period.from,
                    exit: x.date,
                });
            }
            _ => {}
        }
    }
    // A return ends a leave whose `from` is before it, whenever that leave was decided.
    for (event, date) in returns {
        if !f.leaves.iter().any(|l| l.period.from < date) {
            refuse(Refusal::LeaveEndedWithoutLeave { event, date });
        }
    }
    (f, first)
}
