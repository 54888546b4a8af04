//! Participant timelines: the events of the introduction programme, the code
//! tables and identity numbers they carry, and the rules that decide whether a
//! new event may follow those already logged.
//!
//! Never: files, network, the clock, environment variables or logging.
//! Today's date, the id policy and the limits arrive as arguments, so every
//! answer here is a function of its inputs and replays exactly.

pub mod calendar;
pub mod codes;
pub mod event;
pub mod person;
pub mod refusal;
pub mod timeline;
pub mod wire;

pub use codes::{CountyCode, UnitCode};
pub use event::{Event, EventBody, EventId, EventKind, ParticipantId};
pub use refusal::{Refusal, Rule};
pub use timeline::{Facts, Policy, Timeline};
