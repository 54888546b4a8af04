//! The subcommands. Each module reads what it needs, lets the domain and
//! projections decide, and prints. A command that prints or writes a
//! participant's personal data first records it in the audit trail, through
//! `crate::operator_audit`.

mod audit;
mod demo;
mod export;
mod followups;
mod import;
mod lint;
mod log;
mod report;
mod serve;
mod show;
mod status;
mod survey;
mod token;
mod user;
mod verify;

use std::path::Path;

use anyhow::Context;
use clap::Subcommand;
use spor_store::{OpenOptions, SledStore};

use crate::settings::Settings;
use crate::workspace::Workspace;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import events from a JSON Lines file (or - for standard input).
    ///
    /// The whole file is checked first; if any line is refused, every bad
    /// line is reported with its number and nothing is written. Events
    /// already stored with the same id and content are skipped, so a
    /// re-import is a no-op.
    Import(import::Args),
    /// Export events as JSON Lines, in log order, to a file or standard output.
    Export(export::Args),
    /// Append one event, given as a JSON line or as flags, and print it as stored.
    Log(log::Args),
    /// Show one participant's timeline (retracted events marked) and status.
    Show(show::Args),
    /// The current status of every participant, or of one unit.
    Status(status::Args),
    /// The year-end survey (q1..q13c and the indicators) for a calendar year,
    /// by unit, county or the whole country.
    Survey(survey::Args),
    /// The follow-up reminders open on a day: leave ending, hand-over to NAV,
    /// planned end, contact 2, 6 and 12 months after exit, nobody touched
    /// for 90 days.
    Followups(followups::Args),
    /// The national report for a year: a self-contained HTML page (no
    /// JavaScript, nothing loaded from elsewhere) and the same figures as
    /// CSV, with small counts suppressed. Records the year as published.
    Report(report::Args),
    /// Data-quality findings: past the planned end, nothing logged for long,
    /// exits recorded late, leaves with no return, unknown unit numbers.
    Lint(lint::Args),
    /// Check the log, every index and the audit trail; print the head hash.
    ///
    /// Reports every changed, missing, reordered or unreadable record with
    /// its position (in the log, or in audit.log) and exits 5 if anything is
    /// found. Note the head hash: a later verify printing the same hash at
    /// the same sequence number proves the history up to it was not rewritten.
    Verify(verify::Args),
    /// Write a realistic synthetic log (synthetic identity numbers, real
    /// municipality numbers, 2005-2008). Same seed, same log.
    Demo(demo::Args),
    /// Serve the HTTP API (contract §4) until SIGTERM or Ctrl-C. The first
    /// line printed is `listening on http://ADDR`. With --demo on an empty
    /// directory: the demo log and one account per role, their logins printed.
    Serve(serve::Args),
    /// Accounts for the server: add, list, disable, set-password, reset-mfa.
    User(user::Args),
    /// Bearer tokens for scripts: create, list, revoke.
    Token(token::Args),
    /// The audit trail: who read or wrote a participant's data, or what one
    /// account or operating-system user did, oldest first. This read is
    /// recorded too.
    Audit(audit::Args),
}

/// Runs `command` in `ws`: on the data directory this process opens, or on
/// the one a running server holds (the command then runs inside it).
pub fn run(command: Command, ws: &mut Workspace) -> anyhow::Result<()> {
    match command {
        Command::Import(a) => import::run(a, ws),
        Command::Export(a) => export::run(a, ws),
        Command::Log(a) => log::run(a, ws),
        Command::Show(a) => show::run(a, ws),
        Command::Status(a) => status::run(a, ws),
        Command::Survey(a) => survey::run(a, ws),
        Command::Lint(a) => lint::run(a, ws),
        Command::Report(a) => report::run(a, ws),
        Command::Followups(a) => followups::run(a, ws),
        Command::Verify(a) => verify::run(a, ws),
        Command::Demo(a) => demo::run(a, ws),
        Command::Serve(a) => serve::run(a, ws.data(), &ws.settings),
        Command::User(a) => user::run(a, ws),
        Command::Token(a) => token::run(a, ws),
        Command::Audit(a) => audit::run(a, ws),
    }
}

impl Command {
    /// Whether the command reads standard input (`import -`, `log --json
    /// -`): only then does a command sent to a server take it along.
    pub fn reads_stdin(&self) -> bool {
        match self {
            Command::Import(a) => a.reads_stdin(),
            Command::Log(a) => a.reads_stdin(),
            _ => false,
        }
    }
}

/// A cryptographically secure generator seeded by the operating system, for
/// one-time passwords and tokens.
pub fn os_seeded_rng() -> anyhow::Result<rand::rngs::StdRng> {
    use rand::SeedableRng;
    rand::rngs::StdRng::try_from_os_rng().context("drawing random bytes from the operating system")
}

/// The participant a typed id names: a whole id, or a short one looked up
/// in the log. A malformed or ambiguous one is a usage error (exit 2), a
/// short one nobody's id begins with is not found (exit 8).
pub fn find_participant(ws: &Workspace, text: &str) -> anyhow::Result<spor_domain::ParticipantId> {
    use spor_shell::short_id::{ShortIdError, find_participant};
    let store = ws.store(Access::Existing)?;
    find_participant(store.as_ref(), text).map_err(|e| match e {
        ShortIdError::Store(e) => e.into(),
        e @ ShortIdError::NoneFound(_) => crate::exit::NotFound(e.to_string()).into(),
        e => crate::settings::ConfigError(e.to_string()).into(),
    })
}

/// Whether a command may create the data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Every other command: the directory must hold a store.
    Existing,
    /// The commands that begin a store (import, demo, serve): create it in
    /// an empty or missing directory.
    CreateIfMissing,
}

pub fn open_store(data: &Path, settings: &Settings, access: Access) -> anyhow::Result<SledStore> {
    let options = OpenOptions {
        create: access == Access::CreateIfMissing,
        cache_capacity: settings.store.cache_capacity_mb.saturating_mul(1024 * 1024),
        ..OpenOptions::default()
    };
    let new = !spor_store::dir::holds_store(data);
    let store = SledStore::open(data, options)
        .with_context(|| format!("opening data directory {}", data.display()))?;
    if new {
        // Said on standard error, so that a mistyped --data is noticed.
        eprintln!("spor: began a new store in {}", data.display());
    }
    Ok(store)
}
