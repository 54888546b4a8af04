//! Projections: what the log means, folded from its events.
//!
//! Holds the in-memory fold of every participant's timeline and the views
//! read from it (current status now; reminders and the survey later).
//!
//! Never: I/O, the clock, configuration or logging. The date a view is taken
//! on arrives as an argument. A projection kept incrementally must equal one
//! rebuilt from the log; the tests check exactly that.

pub mod status;
pub mod lint;
pub mod outcomes;
pub mod publish;
pub mod reminders;
pub mod survey;

use std::collections::{BTreeMap, HashMap};

use spor_domain::{Event, ParticipantId, Timeline, UnitCode};

/// Every participant's timeline, folded from the log in sequence order.
#[derive(Debug, Default)]
pub struct Projections {
    timelines: HashMap<ParticipantId, Timeline>,
    /// The participants of each unit (a stream's unit is its first event's),
    /// so that one unit's views do not walk every timeline.
    by_unit: BTreeMap<UnitCode, Vec<ParticipantId>>,
    last_seq: u64,
    events: u64,
}

impl Projections {
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds in one stored event. Sequence numbers must increase: the fold
    /// reads the log in order, and a step back means a broken store.
    pub fn apply(&mut self, seq: u64, event: Event) {
        assert!(seq > self.last_seq, "log sequence went backwards: {seq} after {}", self.last_seq);
        self.last_seq = seq;
        self.events += 1;
        let timeline = self.timelines.entry(event.participant).or_default();
        if timeline.entries().is_empty() {
            self.by_unit.entry(event.unit).or_default().push(event.participant);
        }
        timeline.push(seq, event);
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
    pub fn timelines(&self, unit: Option<UnitCode>) -> Box<dyn Iterator<Item = (ParticipantId, &Timeline)> + '_> {
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
