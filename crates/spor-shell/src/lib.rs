//! The shell that every front end of spor shares: the command line and the
//! server read, let the domain decide, and write through these functions.
//!
//! Holds: [`ingest`] (many events in, decided whole before anything is
//! written, then written all or nothing), [`append`] (one event, at the
//! version the writer saw, with a retry when another writer came first), the
//! [`projector`] (projections rebuilt from the log, then following it as
//! events are appended) and the [`Clock`] those take their time from.
//!
//! Never: a terminal, HTTP, the environment or configuration files. Progress
//! is reported through a callback, the time through a [`Clock`], and every
//! failure is a typed value that the front end renders (bokmål for people,
//! stable codes for machines).

pub mod append;
pub mod bokmal;
pub mod clock;
pub mod ingest;
pub mod projector;
pub mod publication;
pub mod short_id;
pub mod views;

pub use append::{AppendError, Appended, Expected, append_one};
pub use clock::{Clock, FixedClock, SystemClock};
pub use ingest::{Ingest, IngestError, Ingested, LineError, LineProblem, Phase, Progress, Silent};
pub use projector::Projector;
