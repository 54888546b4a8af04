//! [`SledAccounts`]: accounts and tokens in two trees of the caller's sled
//! database, as JSON, each write flushed to disk before it returns.

use chrono::{DateTime, Utc};

use crate::account::Account;
use crate::error::{AccountError, json_error};
use crate::name::AccountName;
use crate::store::AccountStore;
use crate::token::{TokenId, TokenRecord};

/// How often `update` re-reads and retries when another writer got in
/// between; past this the store is too contended to make progress.
const MAX_CAS_ATTEMPTS: usize = 64;

/// Accounts in the tree `accounts` (key: the name) and tokens in the tree
/// `tokens` (key: the id) of a [`sled::Db`] the caller opened, so that one
/// data directory holds everything (sled locks its files against a second
/// process).
#[derive(Clone)]
pub struct SledAccounts {
    db: sled::Db,
    accounts: sled::Tree,
    tokens: sled::Tree,
}

impl std::fmt::Debug for SledAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SledAccounts")
    }
}

impl SledAccounts {
    /// Opens (or creates) the two trees in `db`.
    pub fn open(db: &sled::Db) -> Result<Self, AccountError> {
        Ok(Self {
            db: db.clone(),
            accounts: db.open_tree("accounts")?,
            tokens: db.open_tree("tokens")?,
        })
    }

    fn flush(&self) -> Result<(), AccountError> {
        self.db.flush()?;
        Ok(())
    }
}

/// Reads an account record and checks it is stored under its own name.
fn decode_account(key: &[u8], bytes: &[u8]) -> Result<Account, AccountError> {
    let key = String::from_utf8_lossy(key);
    let account: Account = serde_json::from_slice(bytes)
        .map_err(|e| json_error(&format!("account record `{key}`"), &e))?;
    if account.name().as_str() != key {
        return Err(AccountError::Storage(format!(
            "account record under key `{key}` names `{}`",
            account.name()
        )));
    }
    Ok(account)
}

/// Reads a token record and checks it is stored under its own id.
fn decode_token(key: &[u8], bytes: &[u8]) -> Result<TokenRecord, AccountError> {
    let key = String::from_utf8_lossy(key);
    let token: TokenRecord = serde_json::from_slice(bytes)
        .map_err(|e| json_error(&format!("token record `{key}`"), &e))?;
    if token.id.as_str() != key {
        return Err(AccountError::Storage(format!(
            "token record under key `{key}` has id `{}`",
            token.id
        )));
    }
    Ok(token)
}

fn encode<T: serde::Serialize>(what: &str, value: &T) -> Result<Vec<u8>, AccountError> {
    serde_json::to_vec(value).map_err(|e| json_error(what, &e))
}

impl AccountStore for SledAccounts {
    fn account(&self, name: &AccountName) -> Result<Option<Account>, AccountError> {
        let key = name.as_str().as_bytes();
        self.accounts
            .get(key)?
            .map(|bytes| decode_account(key, &bytes))
            .transpose()
    }

    fn accounts(&self) -> Result<Vec<Account>, AccountError> {
        // sled iterates in key order, which is name order.
        self.accounts
            .iter()
            .map(|entry| {
                let (key, bytes) = entry?;
                decode_account(&key, &bytes)
            })
            .collect()
    }

    fn create(&self, account: &Account) -> Result<(), AccountError> {
        let bytes = encode("account", account)?;
        let swapped = self.accounts.compare_and_swap(
            account.name().as_str().as_bytes(),
            None::<&[u8]>,
            Some(bytes),
        )?;
        if swapped.is_err() {
            return Err(AccountError::AccountExists {
                name: account.name().clone(),
            });
        }
        self.flush()?;
        tracing::info!(account = %account.name(), role = %account.role(), "account created");
        Ok(())
    }

    fn update(
        &self,
        name: &AccountName,
        change: &mut dyn FnMut(&mut Account) -> Result<(), AccountError>,
    ) -> Result<Account, AccountError> {
        let key = name.as_str().as_bytes();
        for _ in 0..MAX_CAS_ATTEMPTS {
            let Some(old) = self.accounts.get(key)? else {
                return Err(AccountError::NoSuchAccount { name: name.clone() });
            };
            let before = decode_account(key, &old)?;
            let mut account = before.clone();
            change(&mut account)?;
            if account == before {
                return Ok(account);
            }
            let new = encode("account", &account)?;
            match self.accounts.compare_and_swap(key, Some(&old), Some(new))? {
                Ok(()) => {
                    self.flush()?;
                    return Ok(account);
                }
                Err(_) => {
                    tracing::debug!(account = %name, "account changed during update; retrying");
                }
            }
        }
        Err(AccountError::Storage(format!(
            "account `{name}` changed under {MAX_CAS_ATTEMPTS} updates in a row; try again"
        )))
    }

    fn insert_token(&self, token: &TokenRecord) -> Result<(), AccountError> {
        // Accounts are never deleted, so the account checked here still
        // exists when the token is written.
        if !self
            .accounts
            .contains_key(token.account.as_str().as_bytes())?
        {
            return Err(AccountError::NoSuchAccount {
                name: token.account.clone(),
            });
        }
        let bytes = encode("token", token)?;
        let swapped = self.tokens.compare_and_swap(
            token.id.as_str().as_bytes(),
            None::<&[u8]>,
            Some(bytes),
        )?;
        if swapped.is_err() {
            return Err(AccountError::TokenExists { id: token.id });
        }
        self.flush()?;
        tracing::info!(account = %token.account, token = %token.id, "token created");
        Ok(())
    }

    fn token(&self, id: &TokenId) -> Result<Option<TokenRecord>, AccountError> {
        let key = id.as_str().as_bytes();
        self.tokens
            .get(key)?
            .map(|bytes| decode_token(key, &bytes))
            .transpose()
    }

    fn tokens(&self, account: Option<&AccountName>) -> Result<Vec<TokenRecord>, AccountError> {
        let mut out = Vec::new();
        for entry in self.tokens.iter() {
            let (key, bytes) = entry?;
            let token = decode_token(&key, &bytes)?;
            if account.is_none_or(|name| *name == token.account) {
                out.push(token);
            }
        }
        Ok(out)
    }

    fn revoke_token(&self, id: &TokenId, now: DateTime<Utc>) -> Result<TokenRecord, AccountError> {
        let key = id.as_str().as_bytes();
        for _ in 0..MAX_CAS_ATTEMPTS {
            let Some(old) = self.tokens.get(key)? else {
                return Err(AccountError::NoSuchToken { id: *id });
            };
            let mut token = decode_token(key, &old)?;
            if token.revoked_at.is_some() {
                return Ok(token);
            }
            token.revoked_at = Some(now);
            let new = encode("token", &token)?;
            if self
                .tokens
                .compare_and_swap(key, Some(&old), Some(new))?
                .is_ok()
            {
                self.flush()?;
                tracing::info!(account = %token.account, token = %id, "token revoked");
                return Ok(token);
            }
        }
        Err(AccountError::Storage(format!(
            "token {id} changed under {MAX_CAS_ATTEMPTS} revocations in a row; try again"
        )))
    }
}
