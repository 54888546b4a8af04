//! The server's long-lived state: the stores, the projections that follow
//! the log, the settings, the clock, and the channel live streams read.

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use chrono::NaiveDate;
use serde::Serialize;
use spor_accounts::AccountStore;
use spor_domain::{EventKind, ParticipantId, Policy, UnitCode};
use spor_projections::reminders::ReminderRules;
use spor_shell::{Clock, Projector};
use spor_store::{AuditEntry, AuditTrail, EventStore, StoreError};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::caller::Caller;
use crate::error::ApiError;

/// Where the server keeps things. Each is a trait, so that a PostgreSQL
/// backend can stand in for the embedded one.
pub struct Stores {
    pub events: Arc<dyn EventStore>,
    pub accounts: Arc<dyn AccountStore>,
    pub audit: Arc<dyn AuditTrail>,
}

/// What the binary decides from the configuration.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub policy: Policy,
    pub reminders: ReminderRules,
    /// The default of `within` for follow-ups.
    pub within_days: u32,
    /// Counts from 1 to this are suppressed in published surveys.
    pub suppress_up_to: u64,
    /// The day views are taken on instead of the clock's (`--demo` fixes one
    /// inside the demo's years); writes keep the clock for `recorded_at`.
    pub view_day: Option<NaiveDate>,
    /// The largest body `POST /api/v1/import` takes, in bytes.
    pub import_limit_bytes: usize,
    /// Events per durable commit of an import.
    pub import_batch_events: usize,
    /// The longest a request may take, except imports, exports and event streams.
    pub request_timeout: Duration,
    /// Origins besides the server's own from which browsers may send writes.
    pub trusted_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed: a request from one
    /// of these is recorded as coming from the address the proxy names.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// One appended event, as live streams announce it (contract §4).
#[derive(Debug, Clone, Serialize)]
pub struct AppendedNote {
    pub seq: u64,
    pub participant: ParticipantId,
    pub unit: UnitCode,
    #[serde(rename = "type")]
    pub kind: EventKind,
}

/// The server's state, shared by every request.
pub struct App {
    /// The event log, accounts and the audit trail.
    pub(crate) stores: Stores,
    pub(crate) settings: ServerSettings,
    /// Where `recorded_at` and "today" come from.
    pub(crate) clock: Arc<dyn Clock>,
    /// The projections, once the first rebuild is done (until then the views
    /// answer 503 and `/readyz` says not ready; writes already work).
    projector: OnceLock<Projector>,
    /// Every appended event, for the live streams; a stream that falls more
    /// than this channel's capacity behind is told to reload.
    pub(crate) appended: broadcast::Sender<AppendedNote>,
    /// Cancelled on shutdown; live streams end on it.
    pub(crate) shutdown: CancellationToken,
    /// Single appends share it; an import holds it alone, because the store
    /// takes back everything written since an import began if the import
    /// does not end (a crash), and must not take back others' events.
    pub(crate) writing: RwLock<()>,
}

/// How many appended events a live stream may fall behind before it is told to reload.
const STREAM_BACKLOG: usize = 1024;

impl App {
    pub fn new(stores: Stores, settings: ServerSettings, clock: Arc<dyn Clock>, shutdown: CancellationToken) -> Self {
        let (appended, _) = broadcast::channel(STREAM_BACKLOG);
        Self { stores, settings, clock, projector: OnceLock::new(), appended, shutdown, writing: RwLock::new(()) }
    }

    /// Rebuilds the projections from the log and then follows it. Blocking:
    /// run it off the async threads. If the log cannot be read, the views
    /// stay unavailable (503) and `/readyz` says so; the error is logged.
    pub fn build_projections(&self) -> Result<(), StoreError> {
        let projector = Projector::rebuild(self.stores.events.as_ref(), self.settings.reminders.clone()).inspect_err(|e| {
            tracing::error!(kind = store_error_kind(e), "the projections could not be built from the log; views stay unavailable");
        })?;
        let _ = self.projector.set(projector);
        // Events appended while the rebuild ran are folded in now.
        self.follow();
        tracing::info!("projections ready");
        Ok(())
    }

    /// The projections, if built.
    pub(crate) fn projector(&self) -> Result<&Projector, ApiError> {
        self.projector.get().ok_or_else(ApiError::starting)
    }

    pub fn is_ready(&self) -> bool {
        self.projector.get().is_some()
    }

    /// Folds newly appended events into the projections, if they are built.
    pub(crate) fn follow(&self) {
        if let Some(p) = self.projector.get()
            && let Err(e) = p.follow(self.stores.events.as_ref())
        {
            tracing::error!(kind = store_error_kind(&e), "the projections could not follow the log");
        }
    }

    /// The day views are taken on.
    pub(crate) fn today(&self) -> NaiveDate {
        self.settings.view_day.unwrap_or_else(|| self.clock.today())
    }

    /// Records who received which participants' data, before it is sent.
    /// If the record cannot be made durable, the caller gets an error and
    /// no personal data (reliability AU2).
    pub(crate) fn audit(&self, caller: &Caller, action: &str, participants: Vec<ParticipantId>) -> Result<(), ApiError> {
        let entry = AuditEntry {
            id: caller.request,
            at: self.clock.now(),
            who: caller.name.clone(),
            role: caller.role.as_str().to_owned(),
            units: caller.units.iter().map(ToString::to_string).collect(),
            action: action.to_owned(),
            from: caller.from.clone(),
            participants,
        };
        self.stores.audit.record(&entry).map_err(|e| {
            tracing::error!(kind = store_error_kind(&e), "an audit record could not be written; the answer is withheld");
            ApiError::audit_unavailable()
        })
    }
}

/// What kind of store error this is, for a log line: the messages of some
/// kinds name a participant, which no log line may carry.
pub(crate) fn store_error_kind(e: &StoreError) -> &'static str {
    match e {
        StoreError::NotFound(_) => "not_found",
        StoreError::InUse(_) => "in_use",
        StoreError::NewerFormat { .. } => "newer_format",
        StoreError::Corrupt { .. } => "corrupt",
        StoreError::Conflict { .. } => "conflict",
        StoreError::IdConflict { .. } => "id_conflict",
        StoreError::WrongStream { .. } => "wrong_stream",
        StoreError::Stopped(_) => "stopped",
        StoreError::Io(_) => "io",
    }
}
