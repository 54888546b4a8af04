//! [`AccountError`]: every refusal and failure of this crate, each with a
//! stable code.
//!
//! Messages say what is wrong and what would be valid, in plain English; the
//! server maps [`AccountError::code`] to its bokmål wording. No message carries
//! a password, a TOTP secret or code, a recovery code or a token: the variants
//! hold only names, ids, dates and counts.

use chrono::{DateTime, Utc};

use crate::name::{AccountName, MAX_NAME_CHARS};
use crate::password::PasswordRefusal;
use crate::role::{Role, UnknownRole};
use crate::token::{MAX_LABEL_CHARS, MAX_TOKEN_LIFETIME_DAYS, TokenId};

/// Why an account operation was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("no account named `{name}`")]
    NoSuchAccount { name: AccountName },
    #[error("an account named `{name}` already exists; choose another name")]
    AccountExists { name: AccountName },
    #[error("the account `{name}` is disabled")]
    AccountDisabled { name: AccountName },
    #[error(
        "an account with role {role} needs at least one unit (a municipality or Oslo ward number)"
    )]
    UnitsRequired { role: Role },
    #[error(
        "an account with role {role} has no units; only adviser and leader accounts have units"
    )]
    UnitsRefused { role: Role },
    #[error("{0}")]
    BadName(NameProblem),
    #[error(transparent)]
    BadRole(#[from] UnknownRole),
    #[error(transparent)]
    Password(#[from] PasswordRefusal),
    #[error("the stored password hash is not a PHC string this version can verify")]
    BadPasswordHash,
    #[error(
        "the code is not valid now; enter the 6 digits your authenticator app shows now, or a recovery code"
    )]
    BadCode,
    #[error("the code has already been used; wait for the next code in your authenticator app")]
    CodeReused,
    #[error("the account `{name}` has no second factor; set one up first")]
    NoSecondFactor { name: AccountName },
    #[error(
        "the account `{name}` already has a second factor; an operator must reset it (`spor user reset-mfa`) before a new one is set up"
    )]
    AlreadyEnrolled { name: AccountName },
    #[error("the account `{name}` has no second-factor setup in progress; start it again")]
    NoEnrolmentPending { name: AccountName },
    #[error("setting up the second factor failed: {reason}")]
    SecondFactorSetup { reason: &'static str },
    #[error("token {id} expired at {expired_at}; create a new one with `spor token create`")]
    TokenExpired {
        id: TokenId,
        expired_at: DateTime<Utc>,
    },
    #[error("token {id} was revoked at {revoked_at}; create a new one with `spor token create`")]
    TokenRevoked {
        id: TokenId,
        revoked_at: DateTime<Utc>,
    },
    #[error(
        "not a valid token; a token looks like spor_ID_SECRET with a 12-character id and a 64-character secret, as `spor token create` printed it"
    )]
    BadToken,
    #[error("no token with id {id}")]
    NoSuchToken { id: TokenId },
    #[error("a token with id {id} already exists")]
    TokenExists { id: TokenId },
    #[error(
        "a token label is at most {MAX_LABEL_CHARS} characters without control characters; this one has {chars} characters"
    )]
    BadLabel { chars: usize },
    #[error("a token lives 1 to {MAX_TOKEN_LIFETIME_DAYS} days, not {days}")]
    BadLifetime { days: i64 },
    #[error("account storage failed: {0}")]
    Storage(String),
}

/// What is wrong with a would-be account name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    Empty,
    TooLong {
        chars: usize,
    },
    /// `position` counts characters from 1.
    BadCharacter {
        character: char,
        position: usize,
    },
}

impl std::fmt::Display for NameProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rule = format_args!(
            "an account name is 1 to {MAX_NAME_CHARS} characters of a-z, 0-9, '.', '_' and '-'"
        );
        match self {
            NameProblem::Empty => write!(f, "the account name is empty; {rule}"),
            NameProblem::TooLong { chars } => {
                write!(f, "the account name has {chars} characters; {rule}")
            }
            NameProblem::BadCharacter {
                character,
                position,
            } => write!(
                f,
                "the account name has {character:?} at character {position}; {rule}"
            ),
        }
    }
}

impl AccountError {
    /// The stable code: API errors carry it, the CLI maps it to an exit code,
    /// and the web interface keys its bokmål wording on it.
    pub fn code(&self) -> &'static str {
        match self {
            AccountError::NoSuchAccount { .. } => "no_such_account",
            AccountError::AccountExists { .. } => "account_exists",
            AccountError::AccountDisabled { .. } => "account_disabled",
            AccountError::UnitsRequired { .. } => "units_required",
            AccountError::UnitsRefused { .. } => "units_refused",
            AccountError::BadName(_) => "bad_name",
            AccountError::BadRole(e) => e.code(),
            AccountError::Password(refusal) => refusal.code(),
            AccountError::BadPasswordHash => "bad_password_hash",
            AccountError::BadCode => "bad_code",
            AccountError::CodeReused => "code_reused",
            AccountError::NoSecondFactor { .. } => "no_second_factor",
            AccountError::AlreadyEnrolled { .. } => "already_enrolled",
            AccountError::NoEnrolmentPending { .. } => "no_enrolment_pending",
            AccountError::SecondFactorSetup { .. } => "second_factor_setup",
            AccountError::TokenExpired { .. } => "token_expired",
            AccountError::TokenRevoked { .. } => "token_revoked",
            AccountError::BadToken => "bad_token",
            AccountError::NoSuchToken { .. } => "no_such_token",
            AccountError::TokenExists { .. } => "token_exists",
            AccountError::BadLabel { .. } => "bad_label",
            AccountError::BadLifetime { .. } => "bad_lifetime",
            AccountError::Storage(_) => "storage",
        }
    }
}

impl From<sled::Error> for AccountError {
    fn from(e: sled::Error) -> Self {
        AccountError::Storage(e.to_string())
    }
}

/// Describes a JSON error by its place and kind only: serde's own message can
/// quote the value it choked on, and that value may be a secret.
pub(crate) fn json_error(what: &str, e: &serde_json::Error) -> AccountError {
    AccountError::Storage(format!(
        "{what} does not parse as JSON ({:?} error at line {} column {})",
        e.classify(),
        e.line(),
        e.column()
    ))
}
