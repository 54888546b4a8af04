//! Accounts of the people and scripts that use spor: roles and units,
//! passwords, the TOTP second factor with recovery codes, and bearer tokens,
//! kept behind the [`AccountStore`] trait ([`SledAccounts`] on sled,
//! [`MemoryAccounts`] for tests).
//!
//! Holds the rules (who may hold which units, what a new password must be, when
//! a TOTP code or a token is accepted) and the records they guard. Every
//! decision is a function of its inputs: the time `now` is always a parameter,
//! and randomness comes from a `&mut impl CryptoRng` the caller passes in (the
//! exceptions are inside dependencies: `password-auth` draws the password salt
//! from the operating system, and zxcvbn reads the current year once, to judge
//! years in a password as recent or not).
//!
//! Never: HTTP, sessions, the terminal, the clock, environment variables, or a
//! secret in an error message or a log line. Passwords, TOTP secrets, recovery
//! codes and tokens leave this crate only inside [`ShownOnce`] (or as the TOTP
//! secret of an enrolment), whose `Debug` prints nothing of them.
//!
//! Password hashing is deliberately slow (argon2id, tens of milliseconds of
//! CPU): async callers must run [`hash_password`], [`verify_password`] and
//! [`verify_login`] in `tokio::task::spawn_blocking`.

mod account;
pub mod conformance;
mod digest;
mod error;
mod name;
mod password;
mod recovery;
mod role;
mod shown_once;
mod store;
mod token;
mod totp;

pub use account::{Account, NewAccount, PasswordSetBy, SecondFactor};
pub use digest::Sha256Digest;
pub use error::{AccountError, NameProblem};
pub use name::{AccountName, MAX_NAME_CHARS};
pub use password::{
    DUMMY_PASSWORD_HASH, ONE_TIME_PASSWORD_ALPHABET, ONE_TIME_PASSWORD_CHARS, PasswordHash,
    PasswordPolicy, PasswordRefusal, hash_password, one_time_password, verify_login,
    verify_password,
};
pub use recovery::{RECOVERY_CODE_COUNT, StoredRecoveryCode, generate_recovery_codes};
pub use role::{Role, UnknownRole};
pub use shown_once::ShownOnce;
pub use store::{AccountStore, MemoryAccounts, SledAccounts, authenticate_token};
pub use token::{
    DEFAULT_TOKEN_LIFETIME_DAYS, IssuedToken, MAX_LABEL_CHARS, MAX_TOKEN_LIFETIME_DAYS,
    ParsedToken, TokenId, TokenRecord, TokenRequest, issue_token, parse_token, verify_token,
};
pub use totp::{Enrolment, ISSUER, QR_ARIA_LABEL, TotpSecret, begin_enrolment, check_code, qr_svg};
