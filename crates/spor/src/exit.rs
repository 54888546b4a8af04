//! Exit codes: one table, documented in docs/exit-codes.md, and the mapping
//! from error kinds to it.

use std::process::ExitCode;

use spor_accounts::AccountError;
use spor_store::StoreError;

use crate::settings::ConfigError;

/// spor's exit codes. Scripts rely on these; never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// The command did what was asked.
    Ok = 0,
    /// An unexpected internal error (a bug): the message says what.
    Internal = 1,
    /// Wrong command-line usage or configuration (clap also exits 2).
    Usage = 2,
    /// The input was refused: a bad line, a broken rule, an id reused with
    /// other content, or a stale expected version. Nothing was written.
    Data = 3,
    /// The data directory is in use by another spor process.
    Locked = 4,
    /// The data directory is damaged, or `verify` found problems.
    Corrupt = 5,
    /// Reading or writing the disk failed (including a failed fsync).
    Io = 6,
    /// The data directory was written by a newer spor.
    NewerFormat = 7,
    /// What was asked for does not exist (data directory, participant,
    /// account, token).
    NotFound = 8,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

/// Marks an error as refused input (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Marks an error as "not found" (exit 8).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotFound(pub String);

/// Marks a command the server holding the data directory did not carry out
/// to its end: it refused the connection, or stopped answering (exit 4,
/// as for any directory in use). Outermost in its error, so that the kind
/// of the transport's own error (an I/O error, say) does not decide.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ServerFailed(pub String);

/// Marks a verify run that found problems (exit 5).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Findings(pub String);

/// What the user can do about an error, where the store's or the account
/// store's kind of error says (those crates name no command or flag: they
/// serve the server too).
pub fn hint_for(err: &anyhow::Error) -> Option<&'static str> {
    err.chain().find_map(|c| {
        if let Some(e) = c.downcast_ref::<StoreError>() {
            return store_hint(e);
        }
        c.downcast_ref::<AccountError>().and_then(account_hint)
    })
}

fn store_hint(e: &StoreError) -> Option<&'static str> {
    match e {
        StoreError::NotFound(_) => Some(
            "check --data (or SPOR_DATA); `spor import`, `spor demo` and `spor serve` begin a new store",
        ),
        StoreError::NotAStore(_) => {
            Some("point --data at the store's own directory, or at an empty or new one")
        }
        StoreError::InUse(_) => {
            Some("stop the other spor process first, or point --data elsewhere")
        }
        StoreError::NewerFormat { .. } => Some("use a newer spor"),
        StoreError::Corrupt { .. } => {
            Some("run `spor verify`, then restore from a backup or an export (docs/store.md)")
        }
        StoreError::Stopped(_) => Some("check the disk, then restart spor"),
        _ => None,
    }
}

fn account_hint(e: &AccountError) -> Option<&'static str> {
    match e {
        AccountError::UnitsRequired { .. } => {
            Some("give the account's units with --unit U (one or more)")
        }
        AccountError::UnitsRefused { .. } => {
            Some("leave out --unit: analyst and admin accounts see no unit's participants")
        }
        AccountError::NoSuchAccount { .. } => Some("`spor user list` shows the accounts"),
        AccountError::NoSuchToken { .. } => Some("`spor token list` shows the token ids"),
        AccountError::AccountExists { .. } => Some(
            "to give the existing account a new one-time password, use `spor user set-password NAME`",
        ),
        AccountError::AccountDisabled { .. } => {
            Some("a disabled account gets no new tokens; make a new account instead")
        }
        _ => None,
    }
}

/// The exit code for an account error. Refusals of what was typed (a unit
/// for the wrong role, a malformed token, a label or lifetime out of range)
/// are usage errors; a name taken or a disabled account is refused input;
/// an account or token that does not exist is "not found".
fn account_code(e: &AccountError) -> Exit {
    match e {
        AccountError::NoSuchAccount { .. } | AccountError::NoSuchToken { .. } => Exit::NotFound,
        AccountError::UnitsRequired { .. }
        | AccountError::UnitsRefused { .. }
        | AccountError::BadName(_)
        | AccountError::BadRole(_)
        | AccountError::BadToken
        | AccountError::BadLabel { .. }
        | AccountError::BadLifetime { .. } => Exit::Usage,
        AccountError::AccountExists { .. }
        | AccountError::TokenExists { .. }
        | AccountError::AccountDisabled { .. }
        | AccountError::Password(_)
        | AccountError::BadCode
        | AccountError::CodeReused
        | AccountError::NoSecondFactor { .. }
        | AccountError::AlreadyEnrolled { .. }
        | AccountError::NoEnrolmentPending { .. }
        | AccountError::TokenExpired { .. }
        | AccountError::TokenRevoked { .. } => Exit::Data,
        AccountError::BadPasswordHash => Exit::Corrupt,
        AccountError::Storage(_) => Exit::Io,
        AccountError::SecondFactorSetup { .. } => Exit::Internal,
    }
}

/// Picks the exit code for an error by the first kind found in its chain.
pub fn code_for(err: &anyhow::Error) -> Exit {
    if err.is::<ServerFailed>() {
        return Exit::Locked;
    }
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return match e {
                StoreError::NotFound(_) | StoreError::NotAStore(_) => Exit::NotFound,
                StoreError::InUse(_) => Exit::Locked,
                StoreError::NewerFormat { .. } => Exit::NewerFormat,
                StoreError::Corrupt { .. } => Exit::Corrupt,
                StoreError::Conflict { .. }
                | StoreError::IdConflict { .. }
                | StoreError::WrongStream { .. } => Exit::Data,
                StoreError::Stopped(_) | StoreError::Io(_) => Exit::Io,
            };
        }
        if let Some(e) = cause.downcast_ref::<AccountError>() {
            return account_code(e);
        }
        if cause.is::<Refused>() {
            return Exit::Data;
        }
        if cause.is::<NotFound>() {
            return Exit::NotFound;
        }
        if cause.is::<Findings>() {
            return Exit::Corrupt;
        }
        if cause.is::<ConfigError>() {
            return Exit::Usage;
        }
        if cause.is::<std::io::Error>() {
            return Exit::Io;
        }
    }
    Exit::Internal
}

/// How a command ends: its exit code, with the error (if any) and what to
/// do about it written to `err`. The one path for a command run here and
/// for one a server runs for its client, so both end alike.
pub fn conclude(result: anyhow::Result<()>, err: &mut dyn std::io::Write) -> Exit {
    let Err(e) = result else { return Exit::Ok };
    if is_broken_pipe(&e) {
        return Exit::Ok;
    }
    let code = code_for(&e);
    let _ = writeln!(err, "spor: {e:#}");
    if let Some(hint) = hint_for(&e) {
        let _ = writeln!(err, "hint: {hint}");
    }
    let _ = err.flush();
    // The code only: inside a server, a message may name a participant,
    // which no log line may carry.
    tracing::debug!(code = code as u8, "command failed");
    code
}

/// A closed pipe (`spor export | head`) is the reader's choice, not a failure.
/// The JSON and CSV writers keep the I/O error inside their own.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(BrokenPipe))
            || c.downcast_ref::<csv::Error>().is_some_and(
                |e| matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == BrokenPipe),
            )
    })
}
