//! Fixtures: a fixed time, seeded randomness, accounts without the cost of
//! argon2, and an RFC 6238 code computed without totp-rs.

use chrono::{DateTime, TimeZone, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sha1::{Digest, Sha1};
use spor_accounts::{
    Account, AccountName, DUMMY_PASSWORD_HASH, NewAccount, PasswordHash, Role, ShownOnce,
};
use spor_domain::UnitCode;

/// A Monday morning, on a step boundary (1767607200 is divisible by 30).
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 10, 0, 0).unwrap()
}

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub fn name(s: &str) -> AccountName {
    AccountName::parse(s).unwrap()
}

pub fn unit(s: &str) -> UnitCode {
    UnitCode::parse(s).unwrap()
}

/// An adviser of Oslo, with the dummy hash so no argon2 runs.
pub fn adviser(n: &str) -> Account {
    Account::new(NewAccount {
        name: name(n),
        role: Role::Adviser,
        units: vec![unit("0301")],
        password: PasswordHash::from_phc(DUMMY_PASSWORD_HASH).unwrap(),
        created_at: now(),
    })
    .unwrap()
}

/// "code: message", the form refusals are checked in.
pub fn refusal<T: std::fmt::Debug>(result: Result<T, spor_accounts::AccountError>) -> String {
    let e = result.unwrap_err();
    format!("{}: {e}", e.code())
}

/// HOTP (RFC 4226) with HMAC-SHA-1 written out here, so the tests do not
/// check totp-rs against itself. `counter` is the TOTP step, T / 30.
pub fn hotp(secret: &[u8], counter: u64) -> String {
    const BLOCK: usize = 64;
    let mut key = [0u8; BLOCK];
    if secret.len() > BLOCK {
        key[..20].copy_from_slice(&Sha1::digest(secret));
    } else {
        key[..secret.len()].copy_from_slice(secret);
    }
    let mut inner = Sha1::new();
    inner.update(key.map(|b| b ^ 0x36));
    inner.update(counter.to_be_bytes());
    let inner = inner.finalize();
    let mut outer = Sha1::new();
    outer.update(key.map(|b| b ^ 0x5c));
    outer.update(inner);
    let mac = outer.finalize();
    let offset = usize::from(mac[19] & 0x0f);
    let binary = (u32::from(mac[offset] & 0x7f) << 24)
        | (u32::from(mac[offset + 1]) << 16)
        | (u32::from(mac[offset + 2]) << 8)
        | u32::from(mac[offset + 3]);
    format!("{:06}", binary % 1_000_000)
}

/// The TOTP step of `at`.
pub fn step(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp()).unwrap() / 30
}

/// An adviser with a confirmed TOTP secret (its code at `now()` burnt), the
/// secret, and the recovery codes.
pub fn enrolled(n: &str) -> (Account, Vec<u8>, Vec<ShownOnce>) {
    let mut account = adviser(n);
    let mut rng = rng(11);
    let enrolment = account
        .begin_enrolment(spor_accounts::ISSUER, &mut rng)
        .unwrap();
    let secret = enrolment.secret().as_bytes().to_vec();
    let codes = account
        .confirm_enrolment(&hotp(&secret, step(now())), now(), &mut rng)
        .unwrap();
    (account, secret, codes)
}
