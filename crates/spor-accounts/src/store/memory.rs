//! [`MemoryAccounts`]: the store in a mutex-guarded map, for the tests of
//! other crates. It passes the same conformance checks as the sled store.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use crate::account::Account;
use crate::error::AccountError;
use crate::name::AccountName;
use crate::store::AccountStore;
use crate::token::{TokenId, TokenRecord};

/// Accounts and tokens in memory; gone when dropped. One mutex guards both
/// maps, so every operation, `update` included, is atomic.
#[derive(Debug, Default)]
pub struct MemoryAccounts {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    accounts: BTreeMap<AccountName, Account>,
    tokens: BTreeMap<TokenId, TokenRecord>,
}

impl MemoryAccounts {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, AccountError> {
        // A panic while holding the lock leaves the maps as they were before
        // the operation (every change is a single insert), but say so rather
        // than carry on silently.
        self.inner
            .lock()
            .map_err(|_| AccountError::Storage("a thread panicked while holding the store".into()))
    }
}

impl AccountStore for MemoryAccounts {
    fn account(&self, name: &AccountName) -> Result<Option<Account>, AccountError> {
        Ok(self.lock()?.accounts.get(name).cloned())
    }

    fn accounts(&self) -> Result<Vec<Account>, AccountError> {
        Ok(self.lock()?.accounts.values().cloned().collect())
    }

    fn create(&self, account: &Account) -> Result<(), AccountError> {
        let mut inner = self.lock()?;
        if inner.accounts.contains_key(account.name()) {
            return Err(AccountError::AccountExists {
                name: account.name().clone(),
            });
        }
        inner
            .accounts
            .insert(account.name().clone(), account.clone());
        Ok(())
    }

    fn update(
        &self,
        name: &AccountName,
        change: &mut dyn FnMut(&mut Account) -> Result<(), AccountError>,
    ) -> Result<Account, AccountError> {
        let mut inner = self.lock()?;
        let stored = inner
            .accounts
            .get_mut(name)
            .ok_or_else(|| AccountError::NoSuchAccount { name: name.clone() })?;
        let mut account = stored.clone();
        change(&mut account)?;
        *stored = account.clone();
        Ok(account)
    }

    fn insert_token(&self, token: &TokenRecord) -> Result<(), AccountError> {
        let mut inner = self.lock()?;
        if !inner.accounts.contains_key(&token.account) {
            return Err(AccountError::NoSuchAccount {
                name: token.account.clone(),
            });
        }
        if inner.tokens.contains_key(&token.id) {
            return Err(AccountError::TokenExists { id: token.id });
        }
        inner.tokens.insert(token.id, token.clone());
        Ok(())
    }

    fn token(&self, id: &TokenId) -> Result<Option<TokenRecord>, AccountError> {
        Ok(self.lock()?.tokens.get(id).cloned())
    }

    fn tokens(&self, account: Option<&AccountName>) -> Result<Vec<TokenRecord>, AccountError> {
        Ok(self
            .lock()?
            .tokens
            .values()
            .filter(|token| account.is_none_or(|name| *name == token.account))
            .cloned()
            .collect())
    }

    fn revoke_token(&self, id: &TokenId, now: DateTime<Utc>) -> Result<TokenRecord, AccountError> {
        let mut inner = self.lock()?;
        let token = inner
            .tokens
            .get_mut(id)
            .ok_or(AccountError::NoSuchToken { id: *id })?;
        token.revoked_at.get_or_insert(now);
        Ok(token.clone())
    }
}
