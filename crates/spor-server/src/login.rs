//! Browser logins: the account a session is signed in as (through
//! axum-login, which rotates the session id at login and signs a session out
//! when its account's password or second factor changes), and the throttle
//! that slows down password guessing without locking the real user out
//! (reliability S3).
//!
//! A login is a password, then a code from the authenticator app (or a
//! recovery code). The first login with a one-time password also changes the
//! password and sets up the second factor. The routes are in
//! `routes/session.rs`; the rules they apply (password policy, codes, replay)
//! are the accounts crate's.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum_login::{AuthUser, AuthnBackend};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use spor_accounts::{Account, AccountName, AccountStore, Role, Sha256Digest};
use spor_domain::UnitCode;

/// The session of a signed-in browser, as axum-login sees it.
pub type BrowserSession = axum_login::AuthSession<SessionAccounts>;

/// An account signed in through a browser, as loaded for each request.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub name: AccountName,
    pub role: Role,
    pub units: Vec<UnitCode>,
    /// Changes when the password or the second factor changes (or the
    /// account is disabled), which signs every session of the account out.
    fingerprint: Vec<u8>,
}

impl SignedIn {
    fn of(account: &Account) -> Self {
        let basis = format!(
            "{}|{}|{}",
            account.password_hash().as_phc(),
            account.has_second_factor(),
            account.is_disabled()
        );
        Self {
            name: account.name().clone(),
            role: account.role(),
            units: account.units().to_vec(),
            fingerprint: Sha256Digest::of(basis.as_bytes()).to_hex().into_bytes(),
        }
    }
}

impl AuthUser for SignedIn {
    type Id = String;

    fn id(&self) -> String {
        self.name.as_str().to_owned()
    }

    fn session_auth_hash(&self) -> &[u8] {
        &self.fingerprint
    }
}

/// An account that has passed every step of a login: only the login routes
/// make one, after the password and the second factor, so a session can only
/// be signed in through them.
#[derive(Debug, Clone)]
pub struct Verified(pub(crate) Account);

/// The accounts, as axum-login's backend.
#[derive(Clone)]
pub struct SessionAccounts {
    accounts: Arc<dyn AccountStore>,
}

impl SessionAccounts {
    pub fn new(accounts: Arc<dyn AccountStore>) -> Self {
        Self { accounts }
    }
}

/// The accounts could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the accounts could not be read")]
pub struct AccountsUnavailable;

impl AuthnBackend for SessionAccounts {
    type User = SignedIn;
    type Credentials = Verified;
    type Error = AccountsUnavailable;

    async fn authenticate(
        &self,
        Verified(account): Verified,
    ) -> Result<Option<SignedIn>, AccountsUnavailable> {
        Ok(account
            .ensure_enabled()
            .is_ok()
            .then(|| SignedIn::of(&account)))
    }

    /// The account as it is now: its role and units may have changed since
    /// the login; a disabled account is signed out.
    async fn get_user(&self, name: &String) -> Result<Option<SignedIn>, AccountsUnavailable> {
        let Ok(name) = AccountName::parse(name) else {
            return Ok(None);
        };
        let accounts = Arc::clone(&self.accounts);
        let account = tokio::task::spawn_blocking(move || accounts.account(&name))
            .await
            .map_err(|_| AccountsUnavailable)?
            .map_err(|_| AccountsUnavailable)?;
        Ok(account
            .filter(|a| !a.is_disabled())
            .map(|a| SignedIn::of(&a)))
    }
}

/// How hard logins are throttled (docs/operations.md, "Logins").
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Attempts (a password or a code) from one address, on any accounts:
    /// this many at once, then one per `address_every`; beyond, 429.
    pub address_burst: u32,
    pub address_every: Duration,
    /// Attempts on one account from one address: this many at once, then one
    /// per `account_address_every`; beyond, 429. Another address is not held
    /// back by them, so a guesser cannot lock the real user out.
    pub account_address_burst: u32,
    pub account_address_every: Duration,
    /// Attempts on one account from all addresses together: beyond this many
    /// at once (then one per `account_every`) each answer is delayed by
    /// `slow_down`, the right password included: slower, never locked.
    pub account_burst: u32,
    pub account_every: Duration,
    pub slow_down: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            address_burst: 20,
            address_every: Duration::from_secs(3),
            account_address_burst: 5,
            account_address_every: Duration::from_secs(60),
            account_burst: 10,
            account_every: Duration::from_secs(60),
            slow_down: Duration::from_secs(2),
        }
    }
}

/// What the throttle decides about one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Go ahead, after waiting this long (zero unless the account is under
    /// attack from many addresses).
    Allowed { after: Duration },
    /// Refused (429): try again after this long.
    Refused { retry_after: Duration },
}

/// Keyed rate limiters over login attempts.
pub struct LoginThrottle {
    limits: LoginLimits,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    per_account_address: DefaultKeyedRateLimiter<(String, IpAddr)>,
    per_account: DefaultKeyedRateLimiter<String>,
}

fn quota(burst: u32, every: Duration) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(every.max(Duration::from_millis(1)))
        .unwrap_or_else(|| Quota::per_second(burst))
        .allow_burst(burst)
}

impl LoginThrottle {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            limits,
            per_address: DefaultKeyedRateLimiter::keyed(quota(
                limits.address_burst,
                limits.address_every,
            )),
            per_account_address: DefaultKeyedRateLimiter::keyed(quota(
                limits.account_address_burst,
                limits.account_address_every,
            )),
            per_account: DefaultKeyedRateLimiter::keyed(quota(
                limits.account_burst,
                limits.account_every,
            )),
        }
    }

    /// Counts one attempt on the account named `name` (as typed, whether it
    /// exists or not: the answer must not tell) from `from`.
    pub fn attempt(&self, name: &str, from: IpAddr) -> Attempt {
        let now = DefaultClock::default().now();
        let key = name.trim().to_lowercase();
        if let Err(not_until) = self.per_address.check_key(&from) {
            return Attempt::Refused {
                retry_after: not_until.wait_time_from(now),
            };
        }
        if let Err(not_until) = self.per_account_address.check_key(&(key.clone(), from)) {
            return Attempt::Refused {
                retry_after: not_until.wait_time_from(now),
            };
        }
        match self.per_account.check_key(&key) {
            Ok(_) => Attempt::Allowed {
                after: Duration::ZERO,
            },
            Err(_) => Attempt::Allowed {
                after: self.limits.slow_down,
            },
        }
    }

    /// Forgets keys whose limits have recovered, so memory stays bounded
    /// however many names and addresses are tried.
    pub fn forget_recovered(&self) {
        self.per_address.retain_recent();
        self.per_account_address.retain_recent();
        self.per_account.retain_recent();
        self.per_address.shrink_to_fit();
        self.per_account_address.shrink_to_fit();
        self.per_account.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LoginLimits {
        LoginLimits {
            address_burst: 6,
            address_every: Duration::from_secs(3600),
            account_address_burst: 3,
            account_address_every: Duration::from_secs(3600),
            account_burst: 4,
            account_every: Duration::from_secs(3600),
            slow_down: Duration::from_millis(1500),
        }
    }

    #[test]
    fn one_address_guessing_one_account_is_refused_but_another_address_gets_in() {
        let throttle = LoginThrottle::new(limits());
        let guesser: IpAddr = "192.0.2.1".parse().expect("an address");
        let owner: IpAddr = "198.51.100.2".parse().expect("an address");
        for _ in 0..3 {
            assert_eq!(
                throttle.attempt("veileder", guesser),
                Attempt::Allowed {
                    after: Duration::ZERO
                }
            );
        }
        assert!(
            matches!(throttle.attempt("Veileder ", guesser), Attempt::Refused { retry_after } if retry_after > Duration::ZERO),
            "names are compared as typed logins are: case and spaces aside"
        );
        // The owner, from elsewhere: let in (the account has had 4 attempts: not yet slowed).
        assert_eq!(
            throttle.attempt("veileder", owner),
            Attempt::Allowed {
                after: Duration::ZERO
            }
        );
        // Many addresses on one account: slowed down, never refused.
        for n in 0..5u8 {
            let from = IpAddr::from([203, 0, 113, n]);
            assert_eq!(
                throttle.attempt("veileder", from),
                Attempt::Allowed {
                    after: Duration::from_millis(1500)
                }
            );
        }
    }

    #[test]
    fn one_address_trying_many_accounts_is_refused() {
        let throttle = LoginThrottle::new(limits());
        let guesser: IpAddr = "192.0.2.1".parse().expect("an address");
        for n in 0..6 {
            assert!(matches!(
                throttle.attempt(&format!("konto{n}"), guesser),
                Attempt::Allowed { .. }
            ));
        }
        assert!(matches!(
            throttle.attempt("konto9", guesser),
            Attempt::Refused { .. }
        ));
    }
}
