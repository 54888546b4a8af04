//! The audit entry a command leaves when it prints or writes a participant's
//! personal data (contract §4, reliability AU1): one entry per run, made as
//! the operating-system user, durable in `DIR/audit.log` before any of the
//! data is printed. If it cannot be recorded the command fails and prints
//! nothing of the data (AU2: fail closed).

use std::collections::BTreeSet;
use std::sync::Arc;

use anyhow::Context;
use chrono::{SubsecRound, Utc};
use spor_domain::ParticipantId;
use spor_store::{AuditEntry, AuditTrail};
use uuid::Uuid;

/// The role an audit entry gives a command run at the terminal: whoever can
/// run `spor` on the data directory operates it, whatever their account.
pub const OPERATOR_ROLE: &str = "operator";

/// Where a command comes from, as an audit entry names it: the machine
/// itself, also for a command a running server carried out for it.
const LOCAL: &str = "local";

/// The audit trail of a data directory (the one this process opened, or
/// the one a server holding it lends), with the operating-system user the
/// entries of this run name.
pub struct OperatorAudit {
    log: Arc<dyn AuditTrail>,
    who: String,
}

impl OperatorAudit {
    /// Entries in `log` in the name of the operating-system user running
    /// this process. Inside a server that is the server's user, which the
    /// command socket lets in only as the caller's own.
    pub fn new(log: Arc<dyn AuditTrail>) -> anyhow::Result<Self> {
        Ok(Self {
            log,
            who: operating_system_user()?,
        })
    }

    /// The trail itself, for `spor audit` to read.
    pub fn log(&self) -> &dyn AuditTrail {
        self.log.as_ref()
    }

    /// Records that this run of `action` (`spor show`, …) printed or wrote
    /// the data of `participants` (duplicates dropped). Durable when it
    /// returns; call it before printing any of the data.
    pub fn record(
        &self,
        action: &str,
        participants: impl IntoIterator<Item = ParticipantId>,
    ) -> anyhow::Result<()> {
        let participants: BTreeSet<ParticipantId> = participants.into_iter().collect();
        let entry = AuditEntry {
            id: Uuid::new_v4(),
            at: Utc::now().trunc_subsecs(3),
            who: self.who.clone(),
            role: OPERATOR_ROLE.to_owned(),
            units: Vec::new(),
            action: action.to_owned(),
            from: LOCAL.to_owned(),
            participants: participants.into_iter().collect(),
        };
        self.log
            .record(&entry)
            .context("could not record the audit entry, so none of the data was shown")
    }
}

/// The name of the operating-system user running spor (its effective user),
/// or `uid N` when the user database has no name for it (a container's
/// numeric user, say).
pub(crate) fn operating_system_user() -> anyhow::Result<String> {
    match whoami::username() {
        Ok(name) if !name.is_empty() => Ok(name),
        _ => {
            use std::os::unix::fs::MetadataExt;
            // /proc/self belongs to the process's effective user.
            let uid = std::fs::metadata("/proc/self")
                .context("finding out which operating-system user runs spor, for the audit trail")?
                .uid();
            Ok(format!("uid {uid}"))
        }
    }
}
