//! Taking events in: the shell around `Timeline::admit` that `spor import`,
//! `spor log`, `spor demo` and the server's import share.
//!
//! Read, decide, write: every line is parsed and admitted against its
//! participant's timeline (as stored, plus the lines before it) first; only if
//! no line is refused are the events written, in file order, in batches of
//! durable commits. The batches of one input land whole or not at all: the
//! store marks the import begun and, if a crash cuts it short, rolls it
//! back when next opened. An id already stored with the same content is a
//! no-op.

use std::collections::HashMap;
use std::io::BufRead;

use chrono::{DateTime, Utc};
use spor_domain::wire::{self, Draft, MAX_LINE_BYTES, WireError};
use spor_domain::{Event, EventId, ParticipantId, Policy, Refusal, Rule, Timeline};
use spor_store::{EventStore, StoreError, StreamAppend};

/// A refused line: its number (from 1) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub problem: LineProblem,
}

/// What is wrong with a line, kept as a value to the edge: the command line
/// prints its text, the server sends its code, rule and text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    #[error("line is longer than the limit of {MAX_LINE_BYTES} bytes")]
    TooLong,
    #[error("line is not valid UTF-8")]
    NotUtf8,
    /// Not an event: JSON syntax, a missing or unknown field, a code outside its list.
    #[error("{0}")]
    Shape(WireError),
    /// The timeline's rules refuse it.
    #[error("{0} [rule: {code}]", code = .0.rule().code())]
    Refused(Refusal),
    /// The same id twice in one input, with other content.
    #[error("{id} is also on line {first}, with other content")]
    IdRepeated { id: EventId, first: usize },
    /// An id already stored with other content.
    #[error("{id} is already stored with other content; an id names one event forever")]
    IdReused { id: EventId },
    /// The line's unit is not one the writer may write to.
    #[error("unit {unit} is not one of yours")]
    UnitNotPermitted { unit: spor_domain::UnitCode },
    /// No participant of the writer's units has this id (it may not exist,
    /// or belong to another unit: the same answer for both).
    #[error("no participant {participant} in your units")]
    NoSuchParticipant { participant: ParticipantId },
}

impl LineProblem {
    /// The stable code scripts match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong => "line_too_long",
            Self::NotUtf8 => "not_utf8",
            Self::Shape(_) => "bad_event",
            Self::Refused(_) => "refused",
            Self::IdRepeated { .. } | Self::IdReused { .. } => "id_reused",
            Self::UnitNotPermitted { .. } => "unit_not_permitted",
            Self::NoSuchParticipant { .. } => "not_found",
        }
    }

    /// The timeline rule broken, for a refusal.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            Self::Refused(r) => Some(r.rule()),
            _ => None,
        }
    }
}

/// What an ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Events written, with their sequence numbers.
    pub stored: Vec<(u64, EventId)>,
    /// Lines whose event was already stored with the same content.
    pub already: usize,
    /// The participants written to, each once, in id order.
    pub participants: Vec<ParticipantId>,
}

/// Why an ingest wrote nothing.
#[derive(Debug)]
pub enum IngestError {
    /// Some lines were refused; nothing was written.
    Refused(Vec<LineError>),
    /// The store failed.
    Store(StoreError),
    /// Reading the input failed.
    Read(std::io::Error),
}

impl From<StoreError> for IngestError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// The validated events, waiting to be written.
struct Plan {
    timelines: HashMap<ParticipantId, Stream>,
    /// In input order: which stream, and the index of the event in it.
    order: Vec<(ParticipantId, usize)>,
    already: usize,
}

struct Stream {
    timeline: Timeline,
    /// Events already stored before this ingest.
    stored: usize,
}

/// The two phases of an ingest, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading and deciding every line; counted in bytes of input.
    Checking,
    /// Writing the decided events; counted in events.
    Writing,
}

/// Where an ingest reports how far it has come (a progress bar on a
/// terminal, nothing in the server).
pub trait Progress {
    /// A phase begins; `total` is its size if known.
    fn begin(&self, _phase: Phase, _total: Option<u64>) {}
    /// `done` more units of the phase are done.
    fn advance(&self, _phase: Phase, _done: u64) {}
    /// The phase ended.
    fn end(&self, _phase: Phase) {}
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {}

/// The most refused lines an ingest reports: past them it stops reading, so
/// that a file of garbage cannot fill memory with its refusals.
pub const MAX_REFUSED_LINES: usize = 1000;

/// Options of one ingest.
pub struct Ingest<'a> {
    pub store: &'a dyn EventStore,
    pub policy: Policy,
    /// The time stamped on events that carry no `recorded_at`.
    pub now: DateTime<Utc>,
    pub batch_events: usize,
    /// Total input size in bytes, for progress reports, if known.
    pub input_len: Option<u64>,
    pub progress: &'a dyn Progress,
    /// The units the writer may write to (an account's), or `None` for an
    /// operator, who may write anywhere. A line of another unit, or naming a
    /// participant of another unit, is refused before the rules judge it, and
    /// a participant not of these units is "no such participant" whether it
    /// exists elsewhere or not.
    pub scope: Option<&'a [spor_domain::UnitCode]>,
    /// Who recorded the lines that do not say (the account of an API
    /// import); `None` leaves them without.
    pub by: Option<&'a str>,
}

impl Ingest<'_> {
    /// Reads JSON Lines from `input`, validates all of it, then writes it.
    pub fn lines(&self, input: impl BufRead) -> Result<Ingested, IngestError> {
        self.progress.begin(Phase::Checking, self.input_len);
        let plan = self.plan(
            LineReader {
                input,
                line: 0,
                buf: Vec::new(),
            }
            .map(|r| {
                r.map(|(n, text, len)| {
                    self.progress.advance(Phase::Checking, len);
                    (
                        n,
                        text.and_then(|t| wire::parse_line(&t).map_err(LineProblem::Shape)),
                    )
                })
            }),
        )?;
        self.progress.end(Phase::Checking);
        self.write(plan)
    }

    /// Validates and writes events that are already parsed (demo, `spor log`).
    pub fn drafts(&self, drafts: impl IntoIterator<Item = Draft>) -> Result<Ingested, IngestError> {
        let plan = self.plan(
            drafts
                .into_iter()
                .enumerate()
                .map(|(i, d)| Ok((i + 1, Ok(d)))),
        )?;
        self.write(plan)
    }

    fn plan(
        &self,
        items: impl Iterator<Item = Result<(usize, Result<Draft, LineProblem>), std::io::Error>>,
    ) -> Result<Plan, IngestError> {
        let mut plan = Plan {
            timelines: HashMap::new(),
            order: Vec::new(),
            already: 0,
        };
        let mut errors: Vec<LineError> = Vec::new();
        // Ids met in this input, with the line that brought them.
        let mut seen: HashMap<EventId, usize> = HashMap::new();
        let base_seq = self.store.head().seq;
        for item in items {
            if errors.len() >= MAX_REFUSED_LINES {
                break;
            }
            let (line, parsed) = item.map_err(IngestError::Read)?;
            let draft = match parsed {
                Ok(d) => d,
                Err(problem) => {
                    errors.push(LineError { line, problem });
                    continue;
                }
            };
            if let Some(&first) = seen.get(&draft.id) {
                let same = plan
                    .timelines
                    .get(&draft.participant)
                    .and_then(|s| s.timeline.get(draft.id))
                    .is_some_and(|e| draft.same_as(&e.event));
                if same {
                    plan.already += 1;
                } else {
                    errors.push(LineError {
                        line,
                        problem: LineProblem::IdRepeated {
                            id: draft.id,
                            first,
                        },
                    });
                }
                continue;
            }
            seen.insert(draft.id, line);
            if let Some((_, stored)) = self.store.lookup(draft.id)? {
                if draft.same_as(&stored) {
                    plan.already += 1;
                } else {
                    errors.push(LineError {
                        line,
                        problem: LineProblem::IdReused { id: draft.id },
                    });
                }
                continue;
            }
            let stream = match plan.timelines.entry(draft.participant) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let stored = self.store.stream(draft.participant)?;
                    let n = stored.len();
                    v.insert(Stream {
                        timeline: Timeline::from_entries(stored),
                        stored: n,
                    })
                }
            };
            if let Some(units) = self.scope {
                let known = !stream.timeline.entries().is_empty();
                let outside = stream.timeline.unit().is_some_and(|u| !units.contains(&u));
                if !units.contains(&draft.unit) {
                    errors.push(LineError {
                        line,
                        problem: LineProblem::UnitNotPermitted { unit: draft.unit },
                    });
                    continue;
                }
                if outside || (!known && draft.body.kind() != spor_domain::EventKind::Registered) {
                    errors.push(LineError {
                        line,
                        problem: LineProblem::NoSuchParticipant {
                            participant: draft.participant,
                        },
                    });
                    continue;
                }
            }
            let participant = draft.participant;
            let mut event: Event = draft.stamp(self.now);
            if event.by.is_none() {
                event.by = self.by.map(str::to_owned);
            }
            match stream.timeline.admit(&event, &self.policy) {
                Ok(()) => {
                    let index = stream.timeline.entries().len();
                    let seq = base_seq + u64::try_from(line).unwrap_or(u64::MAX / 2);
                    stream.timeline.push(seq, event);
                    plan.order.push((participant, index));
                }
                Err(refusal) => errors.push(LineError {
                    line,
                    problem: LineProblem::Refused(refusal),
                }),
            }
        }
        if errors.is_empty() {
            Ok(plan)
        } else {
            Err(IngestError::Refused(errors))
        }
    }

    fn write(&self, plan: Plan) -> Result<Ingested, IngestError> {
        let total = plan.order.len();
        self.progress.begin(
            Phase::Writing,
            Some(u64::try_from(total).unwrap_or(u64::MAX)),
        );
        let mut written: HashMap<ParticipantId, usize> = HashMap::new();
        let mut batches = plan.order.chunks(self.batch_events.max(1)).map(|chunk| {
            let mut appends: Vec<StreamAppend> = Vec::new();
            for &(p, index) in chunk {
                let stream = &plan.timelines[&p];
                let event = stream.timeline.entries()[index].event.clone();
                match appends.last_mut() {
                    Some(last) if last.participant == p => last.events.push(event),
                    _ => {
                        let before = stream.stored + written.get(&p).copied().unwrap_or(0);
                        appends.push(StreamAppend {
                            participant: p,
                            expected_version: u32::try_from(before).unwrap_or(u32::MAX),
                            events: vec![event],
                        });
                    }
                }
                *written.entry(p).or_default() += 1;
            }
            appends
        });
        // The batches land whole or not at all, across a crash too
        // (reliability D2); each backend sees to that its own way.
        let out = self.store.append_all(&mut batches, &mut |n| {
            self.progress
                .advance(Phase::Writing, u64::try_from(n).unwrap_or(0));
        })?;
        self.progress.end(Phase::Writing);
        let mut participants: Vec<ParticipantId> = written.into_keys().collect();
        participants.sort_unstable();
        Ok(Ingested {
            stored: out.stored,
            already: plan.already + out.already.len(),
            participants,
        })
    }
}

/// Reads lines with a bound on their length, so one endless line cannot
/// exhaust memory. Yields (line number, text or error, bytes consumed).
struct LineReader<R> {
    input: R,
    line: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> Iterator for LineReader<R> {
    type Item = Result<(usize, Result<String, LineProblem>, u64), std::io::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            let limit = u64::try_from(MAX_LINE_BYTES + 2).unwrap_or(u64::MAX);
            let mut bounded = std::io::Read::take(&mut self.input, limit);
            let read = match bounded.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(n) => n,
                Err(e) => return Some(Err(e)),
            };
            self.line += 1;
            let consumed = u64::try_from(read).unwrap_or(0);
            if !self.buf.ends_with(b"\n") && self.buf.len() > MAX_LINE_BYTES {
                // Skip the rest of the overlong line.
                let mut skipped = 0u64;
                loop {
                    let chunk = match self.input.fill_buf() {
                        Ok(c) => c,
                        Err(e) => return Some(Err(e)),
                    };
                    if chunk.is_empty() {
                        break;
                    }
                    let (n, end) = match chunk.iter().position(|b| *b == b'\n') {
                        Some(i) => (i + 1, true),
                        None => (chunk.len(), false),
                    };
                    self.input.consume(n);
                    skipped += u64::try_from(n).unwrap_or(0);
                    if end {
                        break;
                    }
                }
                return Some(Ok((
                    self.line,
                    Err(LineProblem::TooLong),
                    consumed + skipped,
                )));
            }
            while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
                self.buf.pop();
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let text =
                String::from_utf8(std::mem::take(&mut self.buf)).map_err(|_| LineProblem::NotUtf8);
            return Some(Ok((self.line, text, consumed)));
        }
    }
}
