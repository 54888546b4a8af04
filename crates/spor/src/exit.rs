//! Exit codes: one table, documented in docs/exit-codes.md, and the mapping
//! from error kinds to it.

use std::process::ExitCode;

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
    /// What was asked for does not exist (data directory, participant).
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

/// Marks a verify run that found problems (exit 5).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Findings(pub String);

/// What the user can do about an error, where the store's kind of error
/// says (the store itself names no command or flag: it serves the server too).
pub fn hint_for(err: &anyhow::Error) -> Option<&'static str> {
    err.chain().find_map(|c| c.downcast_ref::<StoreError>()).and_then(|e| match e {
        StoreError::NotFound(_) => Some("run `spor import` or `spor demo` to create one, or point --data at an existing one"),
        StoreError::InUse(_) => Some("stop the other spor process first, or point --data elsewhere"),
        StoreError::NewerFormat { .. } => Some("use a newer spor"),
        StoreError::Corrupt { .. } => Some("run `spor verify`, then restore from a backup or an export (docs/store.md)"),
        StoreError::Stopped(_) => Some("check the disk, then restart spor"),
        _ => None,
    })
}

/// Picks the exit code for an error by the first kind found in its chain.
pub fn code_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return match e {
                StoreError::NotFound(_) => Exit::NotFound,
                StoreError::InUse(_) => Exit::Locked,
                StoreError::NewerFormat { .. } => Exit::NewerFormat,
                StoreError::Corrupt { .. } => Exit::Corrupt,
                StoreError::Conflict { .. } | StoreError::IdConflict { .. } | StoreError::WrongStream { .. } => Exit::Data,
                StoreError::Stopped(_) | StoreError::Io(_) => Exit::Io,
            };
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
