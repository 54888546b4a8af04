//! What every [`AccountStore`] must do, as one function both the sled and the
//! memory store are tested with, and which a future PostgreSQL store must pass
//! too.
//!
//! It returns the first broken expectation rather than panicking, so that it
//! can live in the library (where other crates' tests can reach it) without
//! assertions in non-test code.

use std::fmt;
use std::sync::Barrier;

use chrono::{DateTime, TimeDelta, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use spor_domain::UnitCode;

use crate::account::{Account, NewAccount};
use crate::error::AccountError;
use crate::name::AccountName;
use crate::password::{DUMMY_PASSWORD_HASH, PasswordHash};
use crate::role::Role;
use crate::store::{AccountStore, authenticate_token};
use crate::token::{TokenId, TokenRequest, issue_token};
use crate::totp::{Enrolment, ISSUER};

/// How many threads race to use the same TOTP code.
pub const RACING_LOGINS: usize = 8;

/// An expectation the store did not meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

fn expect(holds: bool, what: &str) -> Result<(), Failure> {
    if holds {
        Ok(())
    } else {
        Err(Failure(what.to_owned()))
    }
}

fn expect_eq<T: PartialEq + fmt::Debug>(got: T, want: T, what: &str) -> Result<(), Failure> {
    if got == want {
        Ok(())
    } else {
        Err(Failure(format!("{what}: got {got:?}, want {want:?}")))
    }
}

fn ok<T>(result: Result<T, AccountError>, what: &str) -> Result<T, Failure> {
    result.map_err(|e| Failure(format!("{what}: {e} ({})", e.code())))
}

fn refused<T: fmt::Debug>(
    result: Result<T, AccountError>,
    code: &str,
    what: &str,
) -> Result<(), Failure> {
    match result {
        Err(e) if e.code() == code => Ok(()),
        other => Err(Failure(format!(
            "{what}: got {other:?}, want the error `{code}`"
        ))),
    }
}

fn name(s: &str) -> Result<AccountName, Failure> {
    ok(AccountName::parse(s), "account name")
}

fn unit(s: &str) -> Result<UnitCode, Failure> {
    UnitCode::parse(s).map_err(|e| Failure(format!("unit {s}: {e}")))
}

/// Checks `store`, which must be empty, against the contract of
/// [`AccountStore`]: reads, writes, refusals, token revocation, and that of
/// [`RACING_LOGINS`] concurrent updates accepting the same TOTP step exactly
/// one succeeds. Leaves accounts and tokens behind.
pub fn run(store: &dyn AccountStore) -> Result<(), Failure> {
    let now = DateTime::<Utc>::from_timestamp(1_767_607_200, 0)
        .ok_or_else(|| Failure("the fixed test time is out of range".into()))?;
    let mut rng = StdRng::seed_from_u64(0x5350_4f52);
    let hash = ok(
        PasswordHash::from_phc(DUMMY_PASSWORD_HASH),
        "the dummy hash",
    )?;

    // An empty store.
    let kari = name("kari.nordmann")?;
    let ola = name("ola")?;
    expect_eq(
        ok(store.accounts(), "accounts")?,
        vec![],
        "accounts of an empty store",
    )?;
    expect_eq(
        ok(store.account(&kari), "account")?,
        None,
        "an account of an empty store",
    )?;
    expect_eq(
        ok(store.tokens(None), "tokens")?,
        vec![],
        "tokens of an empty store",
    )?;

    // Creating, and refusing a name that is taken.
    let adviser = ok(
        Account::new(NewAccount {
            name: kari.clone(),
            role: Role::Adviser,
            units: vec![unit("0301")?, unit("1103")?],
            password: hash.clone(),
            created_at: now,
        }),
        "a new adviser",
    )?;
    let analyst = ok(
        Account::new(NewAccount {
            name: ola.clone(),
            role: Role::Analyst,
            units: vec![],
            password: hash.clone(),
            created_at: now,
        }),
        "a new analyst",
    )?;
    ok(store.create(&analyst), "creating the analyst")?;
    ok(store.create(&adviser), "creating the adviser")?;
    refused(
        store.create(&adviser),
        "account_exists",
        "creating the adviser again",
    )?;
    expect_eq(
        ok(store.account(&kari), "account")?,
        Some(adviser.clone()),
        "the adviser read back",
    )?;
    expect_eq(
        ok(store.accounts(), "accounts")?,
        vec![adviser.clone(), analyst.clone()],
        "all accounts, sorted by name",
    )?;

    // Updating: a change is kept, a refusal writes nothing.
    let disabled = ok(
        store.update(&kari, &mut |a| {
            a.disable();
            Ok(())
        }),
        "disabling",
    )?;
    expect(disabled.is_disabled(), "update returns the changed account")?;
    expect_eq(
        ok(store.account(&kari), "account")?,
        Some(disabled),
        "the disabled adviser read back",
    )?;
    refused(
        store.update(&kari, &mut |a| {
            a.enable();
            Err(AccountError::BadCode)
        }),
        "bad_code",
        "an update whose change fails",
    )?;
    expect(
        ok(store.account(&kari), "account")?.is_some_and(|a| a.is_disabled()),
        "a failed update leaves the account as it was",
    )?;
    ok(
        store.update(&kari, &mut |a| {
            a.enable();
            Ok(())
        }),
        "enabling",
    )?;
    refused(
        store.update(&name("nobody")?, &mut |_| Ok(())),
        "no_such_account",
        "updating a missing account",
    )?;

    // Setting up TOTP through update, then racing logins with one code.
    let mut enrolment: Option<Enrolment> = None;
    ok(
        store.update(&kari, &mut |a| {
            enrolment = Some(a.begin_enrolment(ISSUER, &mut rng)?);
            Ok(())
        }),
        "beginning enrolment",
    )?;
    let secret = enrolment
        .ok_or_else(|| Failure("update did not run the change".into()))?
        .secret()
        .clone();
    let code = ok(secret.code_at(now), "computing a code")?;
    ok(
        store.update(&kari, &mut |a| {
            a.confirm_enrolment(&code, now, &mut rng).map(|_| ())
        }),
        "confirming enrolment",
    )?;
    expect(
        ok(store.account(&kari), "account")?.is_some_and(|a| a.has_second_factor()),
        "confirmed enrolment is stored",
    )?;
    let later = now + TimeDelta::seconds(30);
    let next = ok(secret.code_at(later), "computing the next code")?;
    let barrier = Barrier::new(RACING_LOGINS);
    let results: Vec<Result<Account, AccountError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..RACING_LOGINS)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    store.update(&kari, &mut |a| a.accept_code(&next, later).map(|_| ()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(AccountError::Storage("a thread panicked".into())))
            })
            .collect()
    });
    let accepted = results.iter().filter(|r| r.is_ok()).count();
    expect_eq(
        accepted,
        1,
        "racing logins with one TOTP code that got through",
    )?;
    for result in &results {
        if let Err(e) = result {
            expect_eq(e.code(), "code_reused", "a racing login that lost")?;
        }
    }

    // Tokens.
    let issued = ok(
        issue_token(TokenRequest::new(kari.clone()), now, &mut rng),
        "issuing a token",
    )?;
    let id = issued.record.id;
    ok(store.insert_token(&issued.record), "inserting a token")?;
    refused(
        store.insert_token(&issued.record),
        "token_exists",
        "inserting a token again",
    )?;
    let mut orphan = ok(
        issue_token(TokenRequest::new(name("nobody")?), now, &mut rng),
        "issuing",
    )?
    .record;
    refused(
        store.insert_token(&orphan),
        "no_such_account",
        "a token of a missing account",
    )?;
    orphan.account = ola.clone();
    ok(store.insert_token(&orphan), "inserting the analyst's token")?;
    expect_eq(
        ok(store.token(&id), "token")?,
        Some(issued.record.clone()),
        "the token read back",
    )?;
    expect_eq(
        ok(store.tokens(Some(&kari)), "tokens")?,
        vec![issued.record.clone()],
        "the adviser's tokens",
    )?;
    let mut both = vec![issued.record.clone(), orphan.clone()];
    both.sort_by_key(|t| t.id);
    expect_eq(
        ok(store.tokens(None), "tokens")?,
        both,
        "all tokens, sorted by id",
    )?;
    let account = ok(
        authenticate_token(store, issued.token.expose(), now),
        "authenticating",
    )?;
    expect_eq(account.name(), &kari, "the token's account")?;

    ok(
        store.update(&kari, &mut |a| {
            a.disable();
            Ok(())
        }),
        "disabling",
    )?;
    refused(
        authenticate_token(store, issued.token.expose(), now),
        "account_disabled",
        "a disabled account's token",
    )?;
    ok(
        store.update(&kari, &mut |a| {
            a.enable();
            Ok(())
        }),
        "enabling",
    )?;

    let revoked_at = now + TimeDelta::hours(1);
    let revoked = ok(store.revoke_token(&id, revoked_at), "revoking")?;
    expect_eq(revoked.revoked_at, Some(revoked_at), "revocation time")?;
    let again = ok(
        store.revoke_token(&id, revoked_at + TimeDelta::hours(1)),
        "revoking again",
    )?;
    expect_eq(
        again.revoked_at,
        Some(revoked_at),
        "revoking again keeps the first time",
    )?;
    expect_eq(
        ok(store.token(&id), "token")?.and_then(|t| t.revoked_at),
        Some(revoked_at),
        "revocation stored",
    )?;
    refused(
        authenticate_token(store, issued.token.expose(), revoked_at),
        "token_revoked",
        "a revoked token",
    )?;
    let missing = ok(TokenId::parse("000000000000"), "token id")?;
    if missing != id && missing != orphan.id {
        refused(
            store.revoke_token(&missing, now),
            "no_such_token",
            "revoking a missing token",
        )?;
    }
    Ok(())
}
