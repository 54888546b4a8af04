//! Reliability goal C3: projections kept incrementally always equal a rebuild
//! from the log, whatever happened to the log.
//!
//! A user relies on this every time spor restarts: the status it shows after
//! a restart (a fresh fold of the log) must be the status, the reminders and
//! the survey it showed before (a fold kept up to date event by event). Each case takes a demo log and
//! interleaves random extra operations with it: retractions of earlier
//! events, re-adds of retracted content under a new id, late events of every
//! type, rebuilds and restarts. Every proposed event goes through
//! `Timeline::admit` against the participant's timeline as read from the log,
//! and only admitted events are appended, as the real shell does; refused
//! ones (also demo events that no longer fit) are dropped.
//!
//! Two logs are driven the same way. The in-memory log keeps canonical lines,
//! as the store's records do, so a rebuild reads every event back through
//! the interchange format. The store variant appends through a real
//! `SledStore` (one fsync per append), reopens it at random points, checks
//! stale versions and repeated ids on the way, and folds the rebuild from
//! `scan`. On failure proptest prints the smallest history it found (seed,
//! size and operations), and that input replays the run exactly: nothing
//! here reads the clock or the OS's randomness.

#![allow(clippy::unwrap_used)] // in a test, a failed unwrap is a failed test, with its line

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{FileFailurePersistence, TestRunner};
use spor_demo::DemoSpec;
use spor_domain::event::{
    Absence, Channel, Completed, CompletedReason, Extended, FollowUp, FollowUpOutcome, Granted,
    Handover, HandoverTo, Hours, Interrupted, InterruptedReason, LeaveGranted, LeaveReason,
    MainActivity, MeasureEnded, MeasureStarted, Refused, Retracted, Stopped, StoppedReason,
    Support,
};
use spor_domain::person::SyntheticIds;
use spor_domain::timeline::Entry;
use spor_domain::wire;
use spor_domain::{Event, EventBody, EventId, EventKind, ParticipantId, Policy, Timeline};
use spor_projections::Projections;
use spor_projections::survey::SurveyRequest;
use spor_store::{EventStore, OpenOptions, SledStore, StoreError, StreamAppend};
use uuid::Uuid;

const POLICY: Policy = Policy {
    synthetic_ids: SyntheticIds::Allowed,
};

/// The days statuses are compared on: inside the demo's years and at their
/// end, so leaves, exits and planned ends fall on both sides of them.
fn days() -> [NaiveDate; 5] {
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a valid constant date");
    // The last is after every event's date, added ones included: views of it
    // read what a settle kept, the others walk the timelines.
    [
        d(2005, 6, 30),
        d(2006, 12, 31),
        d(2007, 12, 31),
        d(2008, 12, 31),
        d(2030, 1, 2),
    ]
}

/// Ids of events this test adds; demo ids are random version-4 UUIDs, which
/// never have this prefix.
const ADDED_IDS: u128 = 0xF000_0000_0000_0000_0000_0000_0000_0000;

/// Measure codes the demo uses, so a late `measure_ended` can find an open one.
const MEASURES: &[&str] = &[
    "NORSK",
    "SAMF",
    "SPRAKPRAKSIS",
    "ARBEIDSPRAKSIS",
    "AMO",
    "GRUNNSKOLE",
];
/// Free text with quotes, non-ASCII letters and a dash, which the wire format
/// must carry byte for byte.
const WHY: &[&str] = &[
    "registrert på feil person",
    "feil dato \"1.3\"",
    "duplicate – entered twice",
];
const BY: &[&str] = &["adviser-1", "rådgiver-Ø", "adviser \"night shift\""];
const NOTES: &[&str] = &["møtte ikke; ringte tilbake", "jobber 80 % på lager"];

/// One step of a history.
#[derive(Debug, Clone)]
enum Op {
    /// Propose the next `n` events of the demo log.
    Demo(usize),
    /// Retract one of the events logged so far (any kind, so retractions of
    /// retractions and of retracted events are proposed, and refused, too).
    Retract { what: Index, why: Index },
    /// Log the content of a retracted event again, under a new id.
    ReAdd { what: Index },
    /// Log an event of one participant, dated `day` days after their first event.
    Late {
        who: Index,
        day: i16,
        late: Late,
        by: Index,
    },
    /// Rebuild from the log and compare with the incremental projection.
    Check,
    /// A restart: the log is reopened and a rebuild replaces the incremental
    /// projection, which the run then keeps up to date again.
    Restart,
    /// Store only: an append at a version read before the latest append must
    /// be refused as a conflict, and change nothing.
    Stale { who: Index, behind: Index },
    /// Store only: an id already stored, sent again, is a no-op with the same
    /// content and refused with other content.
    Again { what: Index },
}

/// What a late event says. Fields that depend on the event's date (a leave's
/// period) are given relative to it.
#[derive(Debug, Clone)]
enum Late {
    Claimed,
    Offered,
    Granted {
        months: u32,
    },
    Refused,
    Started,
    LeaveGranted {
        starts_in: u32,
        lasts: u32,
        reason: Index,
    },
    LeaveEnded,
    Extended {
        months: u32,
    },
    MeasureStarted {
        measure: Index,
        tenths: u32,
    },
    MeasureEnded {
        measure: Index,
    },
    Absence {
        tenths: u32,
        approved: bool,
    },
    Handover {
        to: Index,
    },
    Completed {
        reason: Index,
        support: bool,
    },
    Stopped {
        reason: Index,
    },
    Interrupted {
        reason: Index,
    },
    FollowUp {
        outcome: Index,
        note: Option<Index>,
    },
}

fn late() -> impl Strategy<Value = Late> {
    prop_oneof![
        Just(Late::Claimed),
        Just(Late::Offered),
        (1u32..=36).prop_map(|months| Late::Granted { months }),
        Just(Late::Refused),
        Just(Late::Started),
        (0u32..60, 0u32..200, any::<Index>()).prop_map(|(starts_in, lasts, reason)| {
            Late::LeaveGranted {
                starts_in,
                lasts,
                reason,
            }
        }),
        Just(Late::LeaveEnded),
        (1u32..=36).prop_map(|months| Late::Extended { months }),
        (any::<Index>(), 1u32..=600)
            .prop_map(|(measure, tenths)| Late::MeasureStarted { measure, tenths }),
        any::<Index>().prop_map(|measure| Late::MeasureEnded { measure }),
        (1u32..=240, any::<bool>())
            .prop_map(|(tenths, approved)| Late::Absence { tenths, approved }),
        any::<Index>().prop_map(|to| Late::Handover { to }),
        (any::<Index>(), any::<bool>())
            .prop_map(|(reason, support)| Late::Completed { reason, support }),
        any::<Index>().prop_map(|reason| Late::Stopped { reason }),
        any::<Index>().prop_map(|reason| Late::Interrupted { reason }),
        (any::<Index>(), proptest::option::of(any::<Index>()))
            .prop_map(|(outcome, note)| Late::FollowUp { outcome, note }),
    ]
}

impl Late {
    fn body(&self, date: NaiveDate) -> EventBody {
        match self {
            Self::Claimed => EventBody::Claimed,
            Self::Offered => EventBody::Offered,
            Self::Granted { months } => EventBody::Granted(Granted { months: *months }),
            Self::Refused => EventBody::Refused(Refused {
                reason: "ikke i målgruppen".into(),
            }),
            Self::Started => EventBody::Started,
            Self::LeaveGranted {
                starts_in,
                lasts,
                reason,
            } => {
                let from = date + Days::new(u64::from(*starts_in));
                EventBody::LeaveGranted(LeaveGranted {
                    from,
                    to: from + Days::new(u64::from(*lasts)),
                    reason: *reason.get(LeaveReason::ALL),
                })
            }
            Self::LeaveEnded => EventBody::LeaveEnded,
            Self::Extended { months } => EventBody::Extended(Extended { months: *months }),
            Self::MeasureStarted { measure, tenths } => EventBody::MeasureStarted(MeasureStarted {
                measure: (*measure.get(MEASURES)).to_owned(),
                hours_per_week: Hours::from_tenths(*tenths),
            }),
            Self::MeasureEnded { measure } => EventBody::MeasureEnded(MeasureEnded {
                measure: (*measure.get(MEASURES)).to_owned(),
            }),
            Self::Absence { tenths, approved } => EventBody::Absence(Absence {
                hours: Hours::from_tenths(*tenths),
                approved: *approved,
            }),
            Self::Handover { to } => EventBody::Handover(Handover {
                to: *to.get(HandoverTo::ALL),
            }),
            Self::Completed { reason, support } => {
                let reason = *reason.get(CompletedReason::ALL);
                EventBody::Completed(Completed {
                    reason,
                    main_activity: (reason == CompletedReason::Other).then_some(MainActivity::Work),
                    support: if *support {
                        vec![Support::InsuranceBenefit]
                    } else {
                        vec![]
                    },
                })
            }
            Self::Stopped { reason } => {
                let reason = *reason.get(StoppedReason::ALL);
                EventBody::Stopped(Stopped {
                    reason,
                    main_activity: (reason == StoppedReason::Other)
                        .then_some(MainActivity::NoActivity),
                    support: vec![],
                })
            }
            Self::Interrupted { reason } => EventBody::Interrupted(Interrupted {
                reason: *reason.get(InterruptedReason::ALL),
                to_unit: None,
                support: vec![Support::SocialAssistance],
            }),
            Self::FollowUp { outcome, note } => EventBody::FollowUp(FollowUp {
                outcome: *outcome.get(FollowUpOutcome::ALL),
                channel: Some(Channel::Phone),
                note: note.as_ref().map(|n| (*n.get(NOTES)).to_owned()),
            }),
        }
    }
}

/// Steps both logs take. Demo steps weigh most, so the extra operations are
/// spread through the demo log rather than bunched at its start.
fn memory_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1usize..=60).prop_map(Op::Demo),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(what, why)| Op::Retract { what, why }),
        1 => any::<Index>().prop_map(|what| Op::ReAdd { what }),
        3 => (any::<Index>(), -20i16..=1500, late(), any::<Index>())
            .prop_map(|(who, day, late, by)| Op::Late { who, day, late, by }),
        1 => Just(Op::Check),
        1 => Just(Op::Restart),
    ]
}

/// The store's steps add conflicts and repeated ids, which write nothing and
/// so cost no fsync.
fn store_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => memory_op(),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(who, behind)| Op::Stale { who, behind }),
        1 => any::<Index>().prop_map(|what| Op::Again { what }),
    ]
}

/// Where accepted events go, and what a rebuild reads.
trait Log {
    /// The participant's timeline as the shell reads it before deciding.
    fn timeline(&self, p: ParticipantId) -> Timeline;
    /// Appends one admitted event at the version its decision read, and
    /// returns the event's sequence number.
    fn append(&mut self, expected_version: u32, event: &Event) -> u64;
    /// A fresh fold of the whole log, read back from where it is kept.
    fn rebuild(&self) -> Projections;
    /// Closes and reopens the log, as a new process would.
    fn reopen(&mut self) {}
    /// Checks a stale append (store only: a list of lines keeps no versions).
    fn refuses_stale(&mut self, _event: &Event, _expected_version: u32, _actual: u32) {}
    /// Checks a repeated id (store only: idempotency is the store's job).
    fn ignores_again(&mut self, _stored: &Entry) {}
}

/// The log as canonical lines, the form the store's records carry.
#[derive(Default)]
struct MemoryLog {
    lines: Vec<String>,
    /// Each stream's lines, by position, as the store's stream index keeps them.
    streams: HashMap<ParticipantId, Vec<usize>>,
}

fn seq_of(index: usize) -> u64 {
    u64::try_from(index).expect("a test log is far shorter than 2^64") + 1
}

impl Log for MemoryLog {
    fn timeline(&self, p: ParticipantId) -> Timeline {
        let stream = self.streams.get(&p).map_or(&[][..], Vec::as_slice);
        Timeline::from_entries(stream.iter().map(|&i| {
            (
                seq_of(i),
                wire::parse_stored(&self.lines[i]).expect("a line this test wrote"),
            )
        }))
    }

    fn append(&mut self, _expected_version: u32, event: &Event) -> u64 {
        self.streams
            .entry(event.participant)
            .or_default()
            .push(self.lines.len());
        self.lines.push(wire::to_line(event));
        seq_of(self.lines.len() - 1)
    }

    fn rebuild(&self) -> Projections {
        let mut p = Projections::new();
        for (i, line) in self.lines.iter().enumerate() {
            p.apply(
                seq_of(i),
                wire::parse_stored(line).expect("a line this test wrote"),
            );
        }
        p
    }
}

/// A real store in a temporary directory.
struct StoreLog {
    tmp: tempfile::TempDir,
    /// `None` only while reopening: the old store must let go of the lock first.
    store: Option<SledStore>,
}

impl StoreLog {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let store = Some(Self::open(tmp.path()));
        Self { tmp, store }
    }

    /// Opens the store, waiting (up to 10 s) for sled's own file lock when a
    /// reopen finds it still held: sled 0.34 releases that lock when its
    /// background flusher thread exits, a moment after the `Db` is dropped
    /// (spacejam/sled#1289), so a reopen in the same process can race it.
    /// A new spor process cannot: the old one has exited.
    fn open(tmp: &std::path::Path) -> SledStore {
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let options = OpenOptions {
                create: true,
                cache_capacity: 8 * 1024 * 1024,
                ..OpenOptions::default()
            };
            match SledStore::open(&tmp.join("data"), options) {
                Ok(store) => return store,
                Err(StoreError::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(e) => panic!("opening the test store: {e}"),
            }
        }
    }

    fn store(&self) -> &SledStore {
        self.store
            .as_ref()
            .expect("the store is open between steps")
    }
}

impl Log for StoreLog {
    fn timeline(&self, p: ParticipantId) -> Timeline {
        Timeline::from_entries(self.store().stream(p).expect("reading a stream"))
    }

    fn append(&mut self, expected_version: u32, event: &Event) -> u64 {
        let store = self.store();
        let seq = store.head().seq + 1;
        let append = StreamAppend {
            participant: event.participant,
            expected_version,
            events: vec![event.clone()],
        };
        let done = store
            .append(&[append])
            .expect("an admitted event, at the version read, is stored");
        assert_eq!(
            done.stored,
            vec![(seq, event.id)],
            "one new event, at the next sequence number"
        );
        assert_eq!(store.head().seq, seq);
        seq
    }

    fn rebuild(&self) -> Projections {
        let mut p = Projections::new();
        self.store()
            .scan(1, &mut |seq, event| {
                p.apply(seq, event);
                Ok(())
            })
            .expect("scanning the log");
        p
    }

    fn reopen(&mut self) {
        let head = self.store().head();
        self.store = None;
        self.store = Some(Self::open(self.tmp.path()));
        assert_eq!(self.store().head(), head, "the head survives a reopen");
    }

    fn refuses_stale(&mut self, event: &Event, expected_version: u32, actual: u32) {
        let store = self.store();
        let head = store.head();
        let append = StreamAppend {
            participant: event.participant,
            expected_version,
            events: vec![event.clone()],
        };
        match store.append(&[append]) {
            Err(StoreError::Conflict {
                participant,
                expected,
                actual: found,
            }) => {
                assert_eq!(
                    (participant, expected, found),
                    (event.participant, expected_version, actual)
                );
            }
            other => panic!("an append at version {expected_version} of {actual} gave {other:?}"),
        }
        assert_eq!(store.head(), head, "a refused append writes nothing");
        assert!(store.lookup(event.id).expect("lookup").is_none());
    }

    fn ignores_again(&mut self, stored: &Entry) {
        let store = self.store();
        let head = store.head();
        let p = stored.event.participant;
        // The version does not matter for an id already stored: it is skipped first.
        let again = |event: Event| StreamAppend {
            participant: p,
            expected_version: 0,
            events: vec![event],
        };
        let done = store
            .append(&[again(stored.event.clone())])
            .expect("a repeated event is a no-op");
        assert!(done.stored.is_empty(), "{done:?}");
        assert_eq!(done.already, vec![(stored.seq, stored.event.id)]);
        let mut changed = stored.event.clone();
        changed.by = Some("someone else".into());
        match store.append(&[again(changed)]) {
            Err(StoreError::IdConflict { id }) => assert_eq!(id, stored.event.id),
            other => panic!("the same id with other content gave {other:?}"),
        }
        assert_eq!(store.head(), head, "neither wrote anything");
    }
}

/// What a history did, to show that the generated histories reach the cases
/// that matter (see the last test).
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    demo_appended: usize,
    demo_refused: usize,
    retracted: usize,
    retraction_refused: usize,
    re_added: usize,
    late_appended: usize,
    late_refused: usize,
    checks: usize,
    restarts: usize,
    /// Store only: stale appends and repeated ids sent (each checked on the spot).
    conflicts: usize,
    repeats: usize,
}

impl Tally {
    fn add(&mut self, t: Tally) {
        self.demo_appended += t.demo_appended;
        self.demo_refused += t.demo_refused;
        self.retracted += t.retracted;
        self.retraction_refused += t.retraction_refused;
        self.re_added += t.re_added;
        self.late_appended += t.late_appended;
        self.late_refused += t.late_refused;
        self.checks += t.checks;
        self.restarts += t.restarts;
        self.conflicts += t.conflicts;
        self.repeats += t.repeats;
    }
}

/// One history being played: the log, the projection kept alongside it, and
/// what the next added event needs.
struct Run<L: Log> {
    log: L,
    incremental: Projections,
    demo: std::vec::IntoIter<Event>,
    /// Participants in the order they first appeared: picks by index must
    /// not depend on a hash map's order, or a case would not replay.
    participants: Vec<ParticipantId>,
    /// The latest recording time logged; added events are recorded after it.
    clock: DateTime<Utc>,
    next_id: u128,
    tally: Tally,
}

impl<L: Log> Run<L> {
    fn new(log: L, spec: DemoSpec) -> Self {
        Self {
            log,
            incremental: Projections::new(),
            demo: spor_demo::generate(&spec).into_iter(),
            participants: Vec::new(),
            clock: DateTime::<Utc>::MIN_UTC,
            next_id: 0,
            tally: Tally::default(),
        }
    }

    /// Plays `ops`, then the rest of the demo log, then checks once more.
    fn play(mut self, ops: &[Op]) -> (L, Tally) {
        for op in ops {
            self.step(op);
        }
        while let Some(event) = self.demo.next() {
            self.propose_demo(event);
        }
        self.check();
        (self.log, self.tally)
    }

    fn step(&mut self, op: &Op) {
        match op {
            Op::Demo(n) => {
                for event in self.demo.by_ref().take(*n).collect::<Vec<_>>() {
                    self.propose_demo(event);
                }
            }
            Op::Retract { what, why } => {
                let Some(target) = self.pick_entry(what, |_| true) else {
                    return;
                };
                let body = EventBody::Retracted(Retracted {
                    event: target.event.id,
                    why: (*why.get(WHY)).to_owned(),
                });
                let event = self.added(&target.event, None, BY[0], body);
                if self.propose(event) {
                    self.tally.retracted += 1;
                } else {
                    self.tally.retraction_refused += 1;
                }
            }
            Op::ReAdd { what } => {
                let retracted = |e: &Entry| {
                    e.retracted_by.is_some() && e.event.body.kind() != EventKind::Retracted
                };
                let Some(target) = self.pick_entry(what, retracted) else {
                    return;
                };
                let by = target.event.by.clone().unwrap_or_else(|| BY[0].to_owned());
                let event = self.added(
                    &target.event,
                    Some(target.event.date),
                    &by,
                    target.event.body.clone(),
                );
                if self.propose(event) {
                    self.tally.re_added += 1;
                }
            }
            Op::Late { who, day, late, by } => {
                let Some(first) = self
                    .pick_participant(who)
                    .map(|t| t.entries()[0].event.clone())
                else {
                    return;
                };
                let date = if *day < 0 {
                    first.date - Days::new(u64::from(day.unsigned_abs()))
                } else {
                    first.date + Days::new(u64::from(day.unsigned_abs()))
                };
                let body = late.body(date);
                let event = self.added(&first, Some(date), by.get::<&str>(BY), body);
                if self.propose(event) {
                    self.tally.late_appended += 1;
                } else {
                    self.tally.late_refused += 1;
                }
            }
            Op::Check => self.check(),
            Op::Restart => {
                self.log.reopen();
                self.incremental = self.log.rebuild();
                self.tally.restarts += 1;
            }
            Op::Stale { who, behind } => {
                let Some(t) = self.pick_participant(who) else {
                    return;
                };
                let version = t.version();
                let last = t.entries()[t.entries().len() - 1].event.clone();
                // Any version below the current one was read before the latest append.
                let expected =
                    u32::try_from(behind.index(usize::try_from(version).expect("small")))
                        .expect("below a u32");
                let event = self.added(&last, Some(last.date), BY[0], last.body.clone());
                self.log.refuses_stale(&event, expected, version);
                self.tally.conflicts += 1;
            }
            Op::Again { what } => {
                if let Some(stored) = self.pick_entry(what, |_| true) {
                    self.log.ignores_again(&stored);
                    self.tally.repeats += 1;
                }
            }
        }
    }

    fn propose_demo(&mut self, event: Event) {
        if self.propose(event) {
            self.tally.demo_appended += 1;
        } else {
            self.tally.demo_refused += 1;
        }
    }

    /// Read, decide, write: the shell's steps. Returns whether the event was appended.
    fn propose(&mut self, event: Event) -> bool {
        let p = event.participant;
        let timeline = self.log.timeline(p);
        // Pair the two reads: what the shell decides on is what the projection holds.
        let held = self
            .incremental
            .timeline(p)
            .map_or(&[][..], Timeline::entries);
        assert_eq!(
            timeline.entries(),
            held,
            "participant {p}: the log's stream and the projection's timeline"
        );
        if timeline.admit(&event, &POLICY).is_err() {
            return false;
        }
        let seq = self.log.append(timeline.version(), &event);
        self.clock = self.clock.max(event.recorded_at);
        if timeline.version() == 0 {
            self.participants.push(p);
        }
        self.incremental.apply(seq, event);
        true
    }

    /// An event of `like`'s participant and unit, recorded just after the
    /// latest one logged. It is dated `date` (at most the recording day),
    /// or on the recording day.
    fn added(&mut self, like: &Event, date: Option<NaiveDate>, by: &str, body: EventBody) -> Event {
        self.next_id += 1;
        // A fraction of a second, so that times with milliseconds go through the log too.
        let recorded_at = self.clock + Duration::milliseconds(60_125);
        let today = recorded_at.date_naive();
        Event {
            id: EventId(Uuid::from_u128(ADDED_IDS | self.next_id)),
            participant: like.participant,
            unit: like.unit,
            date: date.map_or(today, |d| d.min(today)),
            recorded_at,
            by: Some(by.to_owned()),
            body,
        }
    }

    fn pick_participant(&self, who: &Index) -> Option<&Timeline> {
        if self.participants.is_empty() {
            return None;
        }
        self.incremental.timeline(*who.get(&self.participants))
    }

    /// One entry among every stream's entries that `keep` lets through.
    fn pick_entry(&self, what: &Index, keep: impl Fn(&Entry) -> bool) -> Option<Entry> {
        let all: Vec<&Entry> = self
            .participants
            .iter()
            .filter_map(|p| self.incremental.timeline(*p))
            .flat_map(Timeline::entries)
            .filter(|e| keep(e))
            .collect();
        if all.is_empty() {
            None
        } else {
            Some((*what.get(&all)).clone())
        }
    }

    /// The rebuild equals the incremental projection: every status on every
    /// compared day, and every participant's timeline and facts.
    fn check(&mut self) {
        self.tally.checks += 1;
        // The kept projection is settled at each check, so its sums have
        // moved through many settles; the rebuild is not, so its views walk
        // every timeline. Views read from both must agree.
        self.incremental.settle(2);
        let rebuilt = self.log.rebuild();
        let kept = &self.incremental;
        assert_eq!(
            (kept.events(), kept.last_seq(), kept.participants()),
            (rebuilt.events(), rebuilt.last_seq(), rebuilt.participants()),
            "events, last sequence number and participants folded (incremental, rebuilt)"
        );
        assert_eq!(kept.participants(), self.participants.len());
        for day in days() {
            let (a, b) = (kept.statuses(None, day), rebuilt.statuses(None, day));
            assert_eq!(a.len(), b.len(), "statuses on {day}");
            if let Some((x, y)) = a.iter().zip(&b).find(|(x, y)| x != y) {
                panic!("status on {day} differs:\nincremental {x:?}\nrebuilt     {y:?}");
            }
        }
        // The reminders open on each day, and each year's survey, are the
        // same from both folds (issue 5: reminders after any sequence of
        // appends and retractions equal those of a rebuild).
        let rules = spor_projections::reminders::ReminderRules::default();
        for day in days() {
            let (a, b) = (
                spor_projections::reminders::list(kept, day, None, 100_000, &rules),
                spor_projections::reminders::list(&rebuilt, day, None, 100_000, &rules),
            );
            assert_eq!(a, b, "reminders open on {day}");
        }
        for year in 2005..=2008 {
            let request = spor_projections::survey::SurveyRequest {
                year,
                by: spor_projections::survey::Grouping::Unit,
                known_at: None,
                as_of: days()[3],
            };
            assert_eq!(
                spor_projections::survey::survey(kept, &request),
                spor_projections::survey::survey(&rebuilt, &request),
                "survey of {year}"
            );
            // Known at the latest recording: every event, read from the
            // kept sums, equals the plain survey walked.
            let latest = SurveyRequest {
                known_at: kept.latest_recorded(),
                ..request
            };
            assert_eq!(
                spor_projections::survey::survey(kept, &latest),
                spor_projections::survey::survey(&rebuilt, &request),
                "survey of {year} known at the latest recording"
            );
            // Known just before it: the latest event is not known, and the
            // kept sums must not be read.
            let before = SurveyRequest {
                known_at: kept.latest_recorded().map(|t| t - Duration::seconds(1)),
                ..request
            };
            assert_eq!(
                spor_projections::survey::survey(kept, &before),
                spor_projections::survey::survey(&rebuilt, &before),
                "survey of {year} known just before the latest recording"
            );
        }
        // Settled from nothing in one go, the sums are the same again.
        let mut rebuilt = rebuilt;
        rebuilt.settle(1);
        for year in 2005..=2008 {
            let request = spor_projections::survey::SurveyRequest {
                year,
                by: spor_projections::survey::Grouping::County,
                known_at: None,
                as_of: days()[1],
            };
            assert_eq!(
                spor_projections::survey::survey(kept, &request),
                spor_projections::survey::survey(&rebuilt, &request),
                "survey of {year} by county, both settled"
            );
        }
        for &p in &self.participants {
            let (a, b) = (kept.timeline(p), rebuilt.timeline(p));
            let (a, b) = (
                a.expect("kept"),
                b.unwrap_or_else(|| panic!("{p} missing from the rebuild")),
            );
            assert_eq!(a.entries(), b.entries(), "participant {p}: entries");
            assert_eq!(a.facts(), b.facts(), "participant {p}: facts");
        }
    }
}

/// Sizes of the in-memory histories: people in the demo log, and extra steps.
const MEMORY_PEOPLE: std::ops::RangeInclusive<usize> = 20..=60;
const MEMORY_STEPS: usize = 80;
/// The store's histories are smaller: every append there is an fsync.
const STORE_CASES: u32 = 16;
const STORE_PEOPLE: std::ops::RangeInclusive<usize> = 4..=12;
const STORE_STEPS: usize = 50;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // A test in tests/ has no lib.rs above it for proptest's default
        // place, so say where failing inputs are kept: next to this file,
        // as rebuild.proptest-regressions, replayed first on every run.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn incremental_projections_equal_a_rebuild_from_the_log(
        seed in any::<u64>(),
        people in MEMORY_PEOPLE,
        ops in proptest::collection::vec(memory_op(), 0..MEMORY_STEPS),
    ) {
        Run::new(MemoryLog::default(), DemoSpec { participants: people, seed }).play(&ops);
    }
}

proptest! {
    #![proptest_config(config(STORE_CASES))]

    #[test]
    fn projections_equal_a_fold_of_the_store_across_restarts(
        seed in any::<u64>(),
        people in STORE_PEOPLE,
        ops in proptest::collection::vec(store_op(), 0..STORE_STEPS),
    ) {
        Run::new(StoreLog::new(), DemoSpec { participants: people, seed }).play(&ops);
    }
}

/// Plays `cases` histories drawn as a property draws them, from a fixed
/// seed, and adds up what they did.
fn tally<L: Log>(
    cases: usize,
    ops: impl Strategy<Value = Op>,
    people: std::ops::RangeInclusive<usize>,
    steps: usize,
    log: impl Fn() -> L,
) -> Tally {
    let strategy = (
        any::<u64>(),
        people,
        proptest::collection::vec(ops, 0..steps),
    );
    let mut runner = TestRunner::deterministic();
    let mut sum = Tally::default();
    for _ in 0..cases {
        let (seed, people, ops) = strategy.new_tree(&mut runner).expect("a value").current();
        sum.add(
            Run::new(
                log(),
                DemoSpec {
                    participants: people,
                    seed,
                },
            )
            .play(&ops)
            .1,
        );
    }
    sum
}

/// The properties above can only fail if the histories reach the cases
/// where a fold could go wrong: checks each kind of step took effect, and
/// was refused, often enough over as many histories as a property run plays.
#[test]
fn the_generated_histories_reach_retractions_re_adds_late_events_and_refusals() {
    let sum = tally(
        64,
        memory_op(),
        MEMORY_PEOPLE,
        MEMORY_STEPS,
        MemoryLog::default,
    );
    let Tally {
        demo_refused,
        retracted,
        retraction_refused,
        re_added,
        late_appended,
        late_refused,
        restarts,
        ..
    } = sum;
    for (what, n) in [
        ("demo events refused after a change", demo_refused),
        ("retractions", retracted),
        ("refused retractions", retraction_refused),
        ("re-adds", re_added),
        ("late events", late_appended),
        ("refused late events", late_refused),
        ("restarts", restarts),
    ] {
        assert!(n >= 20, "{what}: {n} in {sum:?}");
    }
    assert!(
        sum.checks > 64,
        "checks in the middle of a history too: {sum:?}"
    );

    let sum = tally(
        usize::try_from(STORE_CASES).expect("small"),
        store_op(),
        STORE_PEOPLE,
        STORE_STEPS,
        StoreLog::new,
    );
    let Tally {
        retracted,
        re_added,
        late_appended,
        restarts,
        conflicts,
        repeats,
        ..
    } = sum;
    for (what, n) in [
        ("retractions", retracted),
        ("re-adds", re_added),
        ("late events", late_appended),
        ("reopens", restarts),
        ("stale appends", conflicts),
        ("repeated ids", repeats),
    ] {
        assert!(n >= 3, "store: {what}: {n} in {sum:?}");
    }
}
