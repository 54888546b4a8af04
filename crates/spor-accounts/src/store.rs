//! [`AccountStore`]: where accounts and tokens are kept, as a trait so that
//! a PostgreSQL backend can take sled's place. Both implementations here pass
//! [`conformance::run`](crate::conformance::run); a new one must too.

mod memory;
mod sled_accounts;

use chrono::{DateTime, Utc};

pub use memory::MemoryAccounts;
pub use sled_accounts::SledAccounts;

use crate::account::Account;
use crate::error::AccountError;
use crate::name::AccountName;
use crate::token::{TokenId, TokenRecord, parse_token, verify_token};

/// Accounts and their tokens. Every write is durable when it returns.
///
/// Accounts are never deleted, only disabled, so a token's account always
/// exists and an audit record always names a known account.
pub trait AccountStore: Send + Sync {
    /// The account named `name`, if there is one.
    fn account(&self, name: &AccountName) -> Result<Option<Account>, AccountError>;

    /// Every account, sorted by name.
    fn accounts(&self) -> Result<Vec<Account>, AccountError>;

    /// Stores a new account; [`AccountError::AccountExists`] if the name is
    /// taken.
    fn create(&self, account: &Account) -> Result<(), AccountError>;

    /// Applies `change` to the account named `name` atomically and returns the
    /// account as stored after. If `change` returns an error, nothing is
    /// written and the error is returned.
    ///
    /// Compare-and-swap: if the account changes between the read and the
    /// write, `change` runs again on the newer account. So `change` may run
    /// more than once, and must set anything it hands out (an enrolment, the
    /// accepted step) afresh each time. This is what lets only one of two
    /// logins racing with the same TOTP code through.
    fn update(
        &self,
        name: &AccountName,
        change: &mut dyn FnMut(&mut Account) -> Result<(), AccountError>,
    ) -> Result<Account, AccountError>;

    /// Stores a new token. [`AccountError::NoSuchAccount`] if its account
    /// does not exist, [`AccountError::TokenExists`] if its id is taken.
    fn insert_token(&self, token: &TokenRecord) -> Result<(), AccountError>;

    /// The token with id `id`, if there is one.
    fn token(&self, id: &TokenId) -> Result<Option<TokenRecord>, AccountError>;

    /// The tokens of `account`, or of all accounts with `None`, sorted by id.
    /// Revoked and expired tokens are included.
    fn tokens(&self, account: Option<&AccountName>) -> Result<Vec<TokenRecord>, AccountError>;

    /// Marks the token revoked at `now` and returns it. Revoking a revoked
    /// token keeps the first time. [`AccountError::NoSuchToken`] if there is
    /// no such token.
    fn revoke_token(&self, id: &TokenId, now: DateTime<Utc>) -> Result<TokenRecord, AccountError>;
}

/// The account a bearer token acts as, if the token is valid at `now`: well
/// formed, issued by this store, not revoked, not expired, and its account not
/// disabled. An unknown id is [`AccountError::BadToken`] like a wrong secret.
pub fn authenticate_token(
    store: &(impl AccountStore + ?Sized),
    text: &str,
    now: DateTime<Utc>,
) -> Result<Account, AccountError> {
    let parsed = parse_token(text)?;
    let record = store.token(&parsed.id())?.ok_or(AccountError::BadToken)?;
    verify_token(&record, &parsed, now)?;
    let account = store
        .account(&record.account)?
        .ok_or(AccountError::BadToken)?;
    account.ensure_enabled()?;
    Ok(account)
}
