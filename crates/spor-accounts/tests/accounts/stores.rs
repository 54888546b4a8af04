//! The two stores against the same conformance checks, sled's durability, and
//! its refusal of records that do not read back.

use std::sync::Barrier;

use chrono::TimeDelta;
use spor_accounts::{AccountStore, MemoryAccounts, SledAccounts, conformance};

use crate::common::{adviser, hotp, name, now, step};

fn sled_db(dir: &tempfile::TempDir) -> sled::Db {
    sled::Config::new()
        .path(dir.path().join("db"))
        .open()
        .unwrap()
}

#[test]
fn the_memory_store_passes_the_conformance_checks() {
    conformance::run(&MemoryAccounts::new()).unwrap();
}

#[test]
fn the_sled_store_passes_the_conformance_checks() {
    let dir = tempfile::tempdir().unwrap();
    let db = sled_db(&dir);
    conformance::run(&SledAccounts::open(&db).unwrap()).unwrap();
}

#[test]
fn the_conformance_checks_catch_a_store_that_lets_two_racing_logins_through() {
    /// A store whose update reads, then writes without checking that the
    /// account is unchanged: the check-then-write bug.
    struct Racy(MemoryAccounts, Barrier);
    impl AccountStore for Racy {
        fn account(
            &self,
            n: &spor_accounts::AccountName,
        ) -> Result<Option<spor_accounts::Account>, spor_accounts::AccountError> {
            self.0.account(n)
        }
        fn accounts(&self) -> Result<Vec<spor_accounts::Account>, spor_accounts::AccountError> {
            self.0.accounts()
        }
        fn create(&self, a: &spor_accounts::Account) -> Result<(), spor_accounts::AccountError> {
            self.0.create(a)
        }
        fn update(
            &self,
            n: &spor_accounts::AccountName,
            change: &mut dyn FnMut(
                &mut spor_accounts::Account,
            ) -> Result<(), spor_accounts::AccountError>,
        ) -> Result<spor_accounts::Account, spor_accounts::AccountError> {
            let mut account = self
                .0
                .account(n)?
                .ok_or(spor_accounts::AccountError::NoSuchAccount { name: n.clone() })?;
            change(&mut account)?;
            if std::thread::current().name().is_none() {
                // The racing threads are unnamed: let them all read first.
                let _ = self.1.wait();
            }
            let result = account.clone();
            self.0.update(n, &mut |a| {
                *a = account.clone();
                Ok(())
            })?;
            Ok(result)
        }
        fn insert_token(
            &self,
            t: &spor_accounts::TokenRecord,
        ) -> Result<(), spor_accounts::AccountError> {
            self.0.insert_token(t)
        }
        fn token(
            &self,
            id: &spor_accounts::TokenId,
        ) -> Result<Option<spor_accounts::TokenRecord>, spor_accounts::AccountError> {
            self.0.token(id)
        }
        fn tokens(
            &self,
            a: Option<&spor_accounts::AccountName>,
        ) -> Result<Vec<spor_accounts::TokenRecord>, spor_accounts::AccountError> {
            self.0.tokens(a)
        }
        fn revoke_token(
            &self,
            id: &spor_accounts::TokenId,
            at: chrono::DateTime<chrono::Utc>,
        ) -> Result<spor_accounts::TokenRecord, spor_accounts::AccountError> {
            self.0.revoke_token(id, at)
        }
    }
    let store = Racy(
        MemoryAccounts::new(),
        Barrier::new(conformance::RACING_LOGINS),
    );
    let failure = conformance::run(&store).unwrap_err();
    assert!(
        failure
            .0
            .starts_with("racing logins with one TOTP code that got through: got 8, want 1"),
        "{failure}"
    );
}

#[test]
fn sled_writes_are_on_disk_when_they_return() {
    let dir = tempfile::tempdir().unwrap();
    let kari = adviser("kari");
    {
        let db = sled_db(&dir);
        let store = SledAccounts::open(&db).unwrap();
        store.create(&kari).unwrap();
        store
            .update(kari.name(), &mut |a| {
                a.disable();
                Ok(())
            })
            .unwrap();
        // Dropped without a flush of its own: the store flushed each write.
    }
    let db = sled_db(&dir);
    let store = SledAccounts::open(&db).unwrap();
    let read = store.account(kari.name()).unwrap().unwrap();
    assert!(read.is_disabled());
    assert_eq!(read.name(), kari.name());
}

#[test]
fn eight_threads_accepting_the_same_totp_step_on_sled_let_exactly_one_through() {
    let dir = tempfile::tempdir().unwrap();
    let db = sled_db(&dir);
    let store = SledAccounts::open(&db).unwrap();
    let (account, secret, _) = crate::common::enrolled("kari");
    store.create(&account).unwrap();
    let later = now() + TimeDelta::seconds(30);
    let code = hotp(&secret, step(later));
    let barrier = Barrier::new(8);
    let outcomes: Vec<Result<u64, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let mut accepted = None;
                    store
                        .update(&name("kari"), &mut |a| {
                            accepted = Some(a.accept_code(&code, later)?);
                            Ok(())
                        })
                        .map(|_| accepted.unwrap())
                        .map_err(|e| e.code().to_owned())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        outcomes.iter().filter(|o| **o == Ok(step(later))).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Err("code_reused".into()))
            .count(),
        7,
        "{outcomes:?}"
    );
}

#[test]
fn a_record_that_does_not_read_back_is_a_storage_error_without_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let db = sled_db(&dir);
    let store = SledAccounts::open(&db).unwrap();
    let tree = db.open_tree("accounts").unwrap();
    let secret = "5ec12e75ec12e75ec12e75ec12e75ec12e75ec1";
    tree.insert("kari", format!(r#"{{"totp":"{secret}""#).as_bytes())
        .unwrap();
    let e = store.account(&name("kari")).unwrap_err();
    assert_eq!(e.code(), "storage");
    assert!(!e.to_string().contains(secret), "{e}");
    assert!(e.to_string().contains("account record `kari`"), "{e}");

    // A valid record under another name's key breaks the pairing of key and name.
    let ola = serde_json::to_vec(&adviser("ola")).unwrap();
    tree.insert("kari", ola).unwrap();
    let e = store.accounts().unwrap_err();
    assert_eq!(
        e.to_string(),
        "account storage failed: account record under key `kari` names `ola`"
    );
}

#[test]
fn an_unchanged_update_returns_the_account() {
    let store = MemoryAccounts::new();
    let kari = adviser("kari");
    store.create(&kari).unwrap();
    assert_eq!(store.update(kari.name(), &mut |_| Ok(())).unwrap(), kari);
    let dir = tempfile::tempdir().unwrap();
    let db = sled_db(&dir);
    let sled = SledAccounts::open(&db).unwrap();
    sled.create(&kari).unwrap();
    assert_eq!(sled.update(kari.name(), &mut |_| Ok(())).unwrap(), kari);
}
