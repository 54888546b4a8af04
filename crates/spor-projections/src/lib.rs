//! Projections: what the log means, folded from its events.
//!
//! Holds the in-memory fold of every participant's timeline and the views
//! read from it: current status, reminders, the survey, lint findings.
//!
//! Never: I/O, the clock, configuration or logging. The date a view is taken
//! on arrives as an argument. A projection kept incrementally must equal one
//! rebuilt from the log; the tests check exactly that.
//!
//! Folding an event only appends it to its timeline and marks the timeline
//! changed. [`Projections::settle`] then walks each changed timeline once,
//! keeps what it means ([`Settled`]: its facts and its survey contribution
//! per year) and moves the unit's survey sums by the difference, and files
//! its reminders under the last day one of them can be open. Views read
//! the settled facts where they can and walk a timeline themselves where
//! they cannot (a timeline changed since the last settle, a view of the
//! past); both give the same answer, which the tests check.

pub mod audit;
pub mod lint;
pub mod outcomes;
mod pattern;
pub mod publish;
pub mod reminders;
pub mod status;
pub mod survey;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use spor_domain::timeline::Facts;
use spor_domain::{Event, ParticipantId, Timeline, UnitCode};

use crate::reminders::ReminderRules;

/// What a timeline means, kept from the last settle until an event joins it.
#[derive(Debug, Clone)]
pub struct Settled {
    pub facts: Facts,
    part: survey::Part,
}

impl Settled {
    fn of(timeline: &Timeline, rules: &ReminderRules) -> (Self, reminders::Watch) {
        let facts = timeline.facts();
        let part = survey::Part::of(&facts, rules.post_exit_window_months);
        let watch = reminders::Watch::of(timeline, &facts, rules);
        (Self { facts, part }, watch)
    }
}

/// Every participant's timeline, folded from the log in sequence order.
#[derive(Debug, Default)]
pub struct Projections {
    timelines: HashMap<ParticipantId, Timeline>,
    /// The participants of each unit (a stream's unit is its first event's),
    /// so that one unit's views do not walk every timeline.
    by_unit: BTreeMap<UnitCode, Vec<ParticipantId>>,
    last_seq: u64,
    events: u64,
    /// The latest `recorded_at` folded in: a `--known-at` at or after it
    /// knows every event.
    latest_recorded: Option<chrono::DateTime<chrono::Utc>>,
    settled: HashMap<ParticipantId, Settled>,
    /// Timelines an event joined since the last settle.
    changed: HashSet<ParticipantId>,
    sums: survey::Sums,
    watches: reminders::Watches,
    /// The reminder rules (configurable), which the kept reminders and the
    /// survey's one-year result are built with, so that `followups` and
    /// `survey` never disagree about what answers a contact.
    rules: ReminderRules,
}

impl Projections {
    /// Projections with the contract's default reminder rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Projections built with these reminder rules.
    pub fn with_rules(rules: ReminderRules) -> Self {
        Self {
            rules,
            ..Self::default()
        }
    }

    /// The reminder rules these projections keep their state with.
    pub fn rules(&self) -> &ReminderRules {
        &self.rules
    }

    /// Folds in one stored event. Sequence numbers must increase: the fold
    /// reads the log in order, and a step back means a broken store.
    pub fn apply(&mut self, seq: u64, event: Event) {
        assert!(
            seq > self.last_seq,
            "log sequence went backwards: {seq} after {}",
            self.last_seq
        );
        self.last_seq = seq;
        self.events += 1;
        self.latest_recorded = self.latest_recorded.max(Some(event.recorded_at));
        let timeline = self.timelines.entry(event.participant).or_default();
        if timeline.entries().is_empty() {
            self.by_unit
                .entry(event.unit)
                .or_default()
                .push(event.participant);
        }
        self.changed.insert(event.participant);
        timeline.push(seq, event);
    }

    /// Walks every timeline changed since the last settle and keeps what it
    /// means, so that views need not walk it again. The walks run on
    /// `threads` threads (each timeline's walk is independent).
    pub fn settle(&mut self, threads: usize) {
        if self.changed.is_empty() {
            return;
        }
        let changed: Vec<ParticipantId> = self.changed.drain().collect();
        let timelines = &self.timelines;
        let rules = &self.rules;
        let walk = |ps: &[ParticipantId]| -> Vec<(Settled, reminders::Watch)> {
            ps.iter()
                .map(|p| Settled::of(&timelines[p], rules))
                .collect()
        };
        let threads = threads.clamp(1, 64);
        let chunk = changed.len().div_ceil(threads).max(1);
        let fresh: Vec<(Settled, reminders::Watch)> = if threads == 1 || changed.len() < 32 {
            walk(&changed)
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = changed
                    .chunks(chunk)
                    .map(|c| s.spawn(move || walk(c)))
                    .collect();
                let mut all = Vec::with_capacity(changed.len());
                for h in handles {
                    all.extend(h.join().expect("a timeline walk does not panic"));
                }
                all
            })
        };
        self.settled.reserve(changed.len());
        for (p, (new, watch)) in changed.into_iter().zip(fresh) {
            let unit = self.timelines[&p]
                .unit()
                .expect("a timeline with an event has a unit");
            if let Some(old) = self.settled.get(&p) {
                self.sums.remove(unit, &old.part);
            }
            self.sums.add(unit, &new.part);
            self.watches.set(unit, p, watch);
            self.settled.insert(p, new);
        }
    }

    /// The latest recording time folded in.
    pub fn latest_recorded(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.latest_recorded
    }

    /// Whether every timeline is settled (no event joined since the last settle).
    pub fn is_settled(&self) -> bool {
        self.changed.is_empty()
    }

    /// What a timeline means as last settled; `None` if an event joined it since.
    pub fn settled(&self, p: ParticipantId) -> Option<&Settled> {
        if self.changed.contains(&p) {
            None
        } else {
            self.settled.get(&p)
        }
    }

    /// A timeline's facts: the settled ones, or a fresh walk.
    pub fn facts(&self, p: ParticipantId, t: &Timeline) -> Cow<'_, Facts> {
        match self.settled(p) {
            Some(s) => Cow::Borrowed(&s.facts),
            None => Cow::Owned(t.facts()),
        }
    }

    /// The last sequence number folded in.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// How many events were folded in.
    pub fn events(&self) -> u64 {
        self.events
    }

    pub fn participants(&self) -> usize {
        self.timelines.len()
    }

    pub fn timeline(&self, p: ParticipantId) -> Option<&Timeline> {
        self.timelines.get(&p)
    }

    /// Every timeline, optionally of one unit only, in no particular order.
    pub fn timelines(
        &self,
        unit: Option<UnitCode>,
    ) -> Box<dyn Iterator<Item = (ParticipantId, &Timeline)> + '_> {
        match unit {
            None => Box::new(self.timelines.iter().map(|(p, t)| (*p, t))),
            Some(u) => Box::new(
                self.by_unit
                    .get(&u)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| self.timelines.get(p).map(|t| (*p, t))),
            ),
        }
    }
}
