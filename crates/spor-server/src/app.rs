//! The server's long-lived state: the stores, the projections that follow
//! the log, the settings, the clock, and the channel live streams read.

use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use chrono::NaiveDate;
use serde::Serialize;
use spor_accounts::{AccountStore, PasswordPolicy};
use spor_domain::{EventKind, ParticipantId, Policy, UnitCode};
use spor_projections::lint::LintLimits;
use spor_projections::reminders::ReminderRules;
use spor_shell::{Clock, Projector};
use spor_store::{AuditEntry, AuditTrail, EventStore, StoreError};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::login::{LoginLimits, LoginThrottle};
use crate::session_store::Sessions;

/// Where the server keeps things. Each is a trait, so that a PostgreSQL
/// backend can stand in for the embedded one.
pub struct Stores {
    pub events: Arc<dyn EventStore>,
    pub accounts: Arc<dyn AccountStore>,
    pub audit: Arc<dyn AuditTrail>,
    /// Browser sessions.
    pub sessions: Sessions,
    /// The data directory, where the publications made are recorded
    /// (reliability P4).
    pub publications: std::path::PathBuf,
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
    /// The thresholds of the data-quality findings (lint, the report).
    pub lint_limits: LintLimits,
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
    /// How hard password and code guessing is throttled.
    pub login_limits: LoginLimits,
    /// What a new password chosen at login must be.
    pub password_policy: PasswordPolicy,
    /// A browser session ends after this long without a request.
    pub session_idle: Duration,
    /// How often a live stream checks that its token or account still
    /// holds; it ends when not.
    pub stream_recheck: Duration,
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
    /// Counts login attempts per address and per account.
    pub(crate) login_throttle: LoginThrottle,
}

/// How many appended events a live stream may fall behind before it is told to reload.
const STREAM_BACKLOG: usize = 1024;

impl App {
    pub fn new(
        stores: Stores,
        settings: ServerSettings,
        clock: Arc<dyn Clock>,
        shutdown: CancellationToken,
    ) -> Self {
        let (appended, _) = broadcast::channel(STREAM_BACKLOG);
        let login_throttle = LoginThrottle::new(settings.login_limits);
        Self {
            stores,
            settings,
            clock,
            projector: OnceLock::new(),
            appended,
            shutdown,
            writing: RwLock::new(()),
            login_throttle,
        }
    }

    /// Rebuilds the projections from the log and then follows it. Blocking:
    /// run it off the async threads. If the log cannot be read, the views
    /// stay unavailable (503) and `/readyz` says so; the error is logged.
    pub fn build_projections(&self) -> Result<(), StoreError> {
        let projector =
            Projector::rebuild(self.stores.events.as_ref(), self.settings.reminders.clone())
                .inspect_err(|e| {
                    tracing::error!(
                        kind = store_error_kind(e),
                        "the projections could not be built from the log; views stay unavailable"
                    );
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
            tracing::error!(
                kind = store_error_kind(&e),
                "the projections could not follow the log"
            );
        }
    }

    /// The day views are taken on.
    pub(crate) fn today(&self) -> NaiveDate {
        self.settings.view_day.unwrap_or_else(|| self.clock.today())
    }

    /// Records who received which participants' data, before it is sent.
    /// If the record cannot be made durable, the caller gets an error and
    /// no personal data (reliability AU2).
    pub(crate) fn audit(
        &self,
        caller: &Caller,
        action: &str,
        participants: Vec<ParticipantId>,
    ) -> Result<(), ApiError> {
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
            tracing::error!(
                kind = store_error_kind(&e),
                "an audit record could not be written; the answer is withheld"
            );
            ApiError::audit_unavailable()
        })
    }
}

/// What kind of store error this is, for a log line: the messages of some
/// kinds name a participant, which no log line may carry.
pub(crate) fn store_error_kind(e: &StoreError) -> &'static str {
    match e {
        StoreError::NotFound(_) => "not_found",
        StoreError::NotAStore(_) => "not_a_store",
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

/// For commands the binary runs inside the server, sent over the command
/// socket (`socket.rs`): they write the same log through the same gate as
/// the routes do, and the projections and live streams hear of it the same way.
impl App {
    /// The gate every write of the log passes (see the field `writing`):
    /// shared for a single append, alone for an import or anything that
    /// must see the log stand still.
    pub fn write_gate(&self) -> &RwLock<()> {
        &self.writing
    }

    /// After events were appended outside the routes: the projections
    /// follow the log, and live streams are told of each event.
    pub fn after_append(&self, stored: &[(u64, spor_domain::EventId)]) {
        self.follow();
        let Some(first) = stored.iter().map(|(seq, _)| *seq).min() else {
            return;
        };
        // Nobody listening: nothing to tell, and no reason to read the log.
        if self.appended.receiver_count() == 0 {
            return;
        }
        let wanted: std::collections::HashSet<u64> = stored.iter().map(|(seq, _)| *seq).collect();
        let _ = self.stores.events.scan(first, &mut |seq, e| {
            if wanted.contains(&seq) {
                let _ = self.appended.send(AppendedNote {
                    seq,
                    participant: e.participant,
                    unit: e.unit,
                    kind: e.body.kind(),
                });
            }
            Ok(())
        });
    }
}
