//! A synthetic event log of the introduction programme, for `spor demo`,
//! benchmarks and tests: people registered from 2005 to 2008 in Oslo wards
//! and municipalities of eleven counties, with every event type of the
//! contract (§1), late entries and corrections, logged as recorded by the
//! start of 2009.
//!
//! Never: files, network, the clock, environment variables or the operating
//! system's randomness. A [`DemoSpec`] (size and seed) decides every byte, so
//! a run replays exactly; ids come from the seeded generator, recording
//! times from the planned dates. Identity numbers are synthetic (month + 80),
//! never a real person's, so a store must allow synthetic ids to take the log.
//!
//! Every event the log holds is admitted by `spor_domain::Timeline::admit`
//! when appended in the order given (tested in `tests/log.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use spor_domain::Event;

mod exit;
mod leave;
mod life;
mod measure;
mod person;
mod recording;
mod units;

/// The first day anything happens in the demo (the first Monday of 2005).
pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2005, 1, 3) {
    Some(d) => d,
    None => panic!("a valid constant date"),
};

/// The last day the demo's events may be dated.
pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2008, 12, 31) {
    Some(d) => d,
    None => panic!("a valid constant date"),
};

/// The demo's "now": the log holds what was recorded before this instant
/// (midnight UTC at the start of 2009). Events that would be logged later
/// (the rest of a programme, a late entry) are not in it yet.
pub const RECORDED_BEFORE: DateTime<Utc> = match NaiveDate::from_ymd_opt(2009, 1, 1) {
    Some(d) => match d.and_hms_opt(0, 0, 0) {
        Some(t) => t.and_utc(),
        None => panic!("a valid constant time"),
    },
    None => panic!("a valid constant date"),
};

/// How many people to generate, and the seed that decides everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSpec {
    /// People registered. A person who moves to another demo unit and
    /// starts again there has a second stream (participant id), so the log
    /// holds a few more streams than people; about 1 in 70 people move.
    pub participants: usize,
    /// Decides everything else: the same spec gives the same events.
    pub seed: u64,
}

/// Every event of the demo log, in recording order (the order to append them).
pub fn generate(spec: &DemoSpec) -> Vec<Event> {
    stream(spec).collect()
}

/// Same events, streamed, so a 10M-event benchmark never holds them all.
///
/// People are generated a few at a time: their events are merged by
/// `recorded_at` within each group, so streams interleave a little, while
/// each stream's own events stay in recording order.
pub fn stream(spec: &DemoSpec) -> impl Iterator<Item = Event> + use<> {
    Stream {
        spec: *spec,
        seeded: ChaCha8Rng::seed_from_u64(spec.seed),
        next_person: 0,
        buffer: Vec::new().into_iter(),
    }
}

/// People generated together and merged by recording time.
const GROUP: usize = 16;

struct Stream {
    spec: DemoSpec,
    /// Never drawn from: each person draws from a copy set to its own
    /// stream of the generator, so a person's events depend only on the
    /// seed and the person's number.
    seeded: ChaCha8Rng,
    next_person: usize,
    buffer: std::vec::IntoIter<Event>,
}

impl Stream {
    fn fill(&mut self) {
        let units = &*units::UNITS;
        let end = self
            .spec
            .participants
            .min(self.next_person.saturating_add(GROUP));
        let mut events = Vec::with_capacity(GROUP * 20);
        for person in self.next_person..end {
            let mut rng = self.seeded.clone();
            rng.set_stream(u64::try_from(person).expect("a person's number fits in 64 bits"));
            for plan in life::plan_person(&mut rng, units) {
                recording::record(&mut rng, units, plan, &mut events);
            }
        }
        self.next_person = end;
        // Stable: each stream's events are already in recording order.
        events.sort_by_key(|e| e.recorded_at);
        self.buffer = events.into_iter();
    }
}

impl Iterator for Stream {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.buffer.next() {
                return Some(event);
            }
            if self.next_person >= self.spec.participants {
                return None;
            }
            self.fill();
        }
    }
}
