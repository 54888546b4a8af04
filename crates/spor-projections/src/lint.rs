//! Data-quality findings: what a leader should fix before answering the
//! survey. Each finding names the participant and the rule.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use serde::Serialize;
use spor_domain::calendar::Period;
use spor_domain::timeline::Facts;
use spor_domain::{EventBody, ParticipantId, UnitCode};

use crate::Projections;

/// The thresholds, from configuration.
#[derive(Debug, Clone, Copy)]
pub struct LintLimits {
    /// An active participant with no event for this many days is stale.
    pub stale_days: u32,
    /// An exit recorded more than this many days after its date is late
    /// (the register allows two months).
    pub late_exit_days: u32,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub participant: ParticipantId,
    pub unit: UnitCode,
    #[serde(flatten)]
    pub rule: LintRule,
}

/// The rule a finding breaks, with what shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum LintRule {
    /// In the programme past the planned end, with no exit or extension.
    PastPlannedEnd { planned_end: NaiveDate },
    /// In the programme, not on leave, and nothing logged for a long time.
    NoEventFor { days: i64, last_event: NaiveDate },
    /// The exit was recorded long after its date.
    ExitRecordedLate {
        exit_date: NaiveDate,
        recorded: NaiveDate,
        days: i64,
    },
    /// A leave ended by its dates, but no return was logged.
    LeaveWithoutReturn { leave: Period },
    /// The unit number is not in Statistics Norway's table.
    UnitNotInCodeTable,
    /// The same identity number is registered in another stream whose time
    /// overlaps this one's (`other`: the first such, by registration): a
    /// move is a new stream after the old one ended, so overlapping time is
    /// the sign of a person registered twice.
    RegisteredTwice {
        other: ParticipantId,
        other_unit: UnitCode,
    },
}

/// Every finding on day `on`, optionally of one unit, sorted by unit and participant.
pub fn findings(
    projections: &Projections,
    on: NaiveDate,
    unit: Option<UnitCode>,
    limits: LintLimits,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let people = spans_by_person(projections);
    for (participant, timeline) in projections.timelines(unit) {
        let Some(unit) = timeline.unit() else {
            continue;
        };
        let facts = projections.facts(participant, timeline);
        if facts.registered.is_none() {
            continue;
        }
        // One finding per stream, naming the first other stream (by
        // registration) whose time overlaps it.
        if let Some(mine) = person_of(timeline).and_then(|p| people.get(p))
            && let Some(me) = mine.iter().find(|s| s.participant == participant)
            && let Some(other) = mine
                .iter()
                .find(|s| s.participant != participant && me.overlaps(s))
        {
            out.push(Finding {
                participant,
                unit,
                rule: LintRule::RegisteredTwice {
                    other: other.participant,
                    other_unit: other.unit,
                },
            });
        }
        let mut add = |rule| {
            out.push(Finding {
                participant,
                unit,
                rule,
            })
        };
        if !unit.is_known() {
            add(LintRule::UnitNotInCodeTable);
        }
        for rule in participant_findings(&facts, timeline, on, limits) {
            add(rule);
        }
    }
    out.sort_by_key(|a| (a.unit, a.participant));
    out
}

/// The time a stream covers: from its registration to its exit's last day,
/// or on without end.
struct Span {
    participant: ParticipantId,
    unit: UnitCode,
    from: NaiveDate,
    to: Option<NaiveDate>,
}

impl Span {
    /// Whether the two share more than a boundary day (a move may register
    /// the new stream on the old one's last day).
    fn overlaps(&self, other: &Span) -> bool {
        let end = |s: &Span| s.to.unwrap_or(NaiveDate::MAX);
        self.from < end(other) && other.from < end(self)
    }
}

/// The identity number of a stream's registration, if it stands.
fn person_of(timeline: &spor_domain::Timeline) -> Option<&str> {
    timeline.entries().iter().find_map(|e| match &e.event.body {
        EventBody::Registered(r) if e.retracted_by.is_none() => Some(r.person.expose()),
        _ => None,
    })
}

/// Every registered stream's span, by identity number, for the numbers
/// registered in more than one stream (only those need their facts).
fn spans_by_person(projections: &Projections) -> HashMap<&str, Vec<Span>> {
    let mut streams: HashMap<&str, Vec<_>> = HashMap::new();
    for (participant, timeline) in projections.timelines(None) {
        if let Some(person) = person_of(timeline) {
            streams
                .entry(person)
                .or_default()
                .push((participant, timeline));
        }
    }
    streams.retain(|_, s| s.len() > 1);
    streams
        .into_iter()
        .map(|(person, streams)| {
            let mut spans: Vec<Span> = streams
                .into_iter()
                .filter_map(|(participant, timeline)| {
                    let facts = projections.facts(participant, timeline);
                    Some(Span {
                        participant,
                        unit: timeline.unit()?,
                        from: facts.registered?,
                        to: facts.exit.as_ref().map(|x| x.date),
                    })
                })
                .collect();
            spans.sort_by_key(|s| (s.from, s.participant));
            (person, spans)
        })
        .collect()
}

fn participant_findings(
    f: &Facts,
    t: &spor_domain::Timeline,
    on: NaiveDate,
    limits: LintLimits,
) -> Vec<LintRule> {
    let mut v = Vec::new();
    if let Some(x) = &f.exit {
        if let Some(e) = t.get(x.event) {
            let recorded = e.event.recorded_at.date_naive();
            let days = (recorded - x.date).num_days();
            if days > i64::from(limits.late_exit_days) {
                v.push(LintRule::ExitRecordedLate {
                    exit_date: x.date,
                    recorded,
                    days,
                });
            }
        }
        return v;
    }
    if f.started.is_none() {
        return v;
    }
    if let Some(end) = f.planned_end()
        && end < on
    {
        v.push(LintRule::PastPlannedEnd { planned_end: end });
    }
    if let Some(last) = f.last_date {
        let days = (on - last).num_days();
        if days >= i64::from(limits.stale_days) && !f.on_leave(on) {
            v.push(LintRule::NoEventFor {
                days,
                last_event: last,
            });
        }
    }
    for leave in &f.leaves {
        let p = leave.period;
        let returned = f.leave_returns.iter().any(|d| *d > p.from);
        let continued = f
            .leaves
            .iter()
            .any(|o| o.period.from > p.from && o.period.from <= p.to + Duration::days(1));
        if p.to < on && !returned && !continued {
            v.push(LintRule::LeaveWithoutReturn { leave: p });
        }
    }
    v
}
