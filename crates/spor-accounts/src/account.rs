//! [`Account`] (konto): who someone is to spor, what they may see, and how
//! they prove it.
//!
//! The fields are private so that the rules hold for every account in memory:
//! adviser and leader accounts have units, analyst and admin accounts have
//! none. They are checked when an account is made and again when one is read
//! back from storage.

use chrono::{DateTime, Utc};
use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use spor_domain::UnitCode;

use crate::error::AccountError;
use crate::name::AccountName;
use crate::password::PasswordHash;
use crate::recovery::{self, StoredRecoveryCode};
use crate::role::Role;
use crate::shown_once::ShownOnce;
use crate::totp::{self, Enrolment, TotpSecret};

/// What is needed to make an account (`spor user add`).
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: AccountName,
    pub role: Role,
    /// Required (one or more) for adviser and leader, refused for analyst and
    /// admin. Duplicates are dropped and the rest sorted.
    pub units: Vec<UnitCode>,
    /// The hash of the one-time password the operator hands on.
    pub password: PasswordHash,
    pub created_at: DateTime<Utc>,
}

/// Who set a password, which decides whether it must be changed at the next
/// login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSetBy {
    /// An operator (`spor user set-password`): the password is one-time, and
    /// the account must choose its own at the next login.
    Operator,
    /// The account's owner, after checking it against the password policy.
    Owner,
}

/// The state of an account's second factor (tofaktor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub enum SecondFactor {
    /// None yet: the account sets one up at its first browser login.
    None,
    /// A TOTP secret has been shown, and no code from it has been confirmed.
    Pending { secret: TotpSecret },
    /// A confirmed TOTP secret.
    Enrolled {
        secret: TotpSecret,
        /// The last TOTP time step accepted. A code is accepted only for a
        /// later step, so that each code works once (RFC 6238 §5.2).
        last_step: u64,
        recovery_codes: Vec<StoredRecoveryCode>,
    },
}

/// An account of a person or a script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "AccountRecord")]
pub struct Account {
    name: AccountName,
    role: Role,
    units: Vec<UnitCode>,
    disabled: bool,
    password: PasswordHash,
    /// True while the password is one an operator set; the account must
    /// change it before doing anything else.
    must_change_password: bool,
    second_factor: SecondFactor,
    created_at: DateTime<Utc>,
}

/// An account as stored, before its rules are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountRecord {
    name: AccountName,
    role: Role,
    units: Vec<UnitCode>,
    disabled: bool,
    password: PasswordHash,
    must_change_password: bool,
    second_factor: SecondFactor,
    created_at: DateTime<Utc>,
}

impl TryFrom<AccountRecord> for Account {
    type Error = AccountError;
    fn try_from(r: AccountRecord) -> Result<Self, Self::Error> {
        let units = checked_units(r.role, r.units)?;
        Ok(Account {
            name: r.name,
            role: r.role,
            units,
            disabled: r.disabled,
            password: r.password,
            must_change_password: r.must_change_password,
            second_factor: r.second_factor,
            created_at: r.created_at,
        })
    }
}

fn checked_units(role: Role, mut units: Vec<UnitCode>) -> Result<Vec<UnitCode>, AccountError> {
    match (role.works_with_units(), units.is_empty()) {
        (true, true) => Err(AccountError::UnitsRequired { role }),
        (false, false) => Err(AccountError::UnitsRefused { role }),
        _ => {
            units.sort_unstable();
            units.dedup();
            Ok(units)
        }
    }
}

impl Account {
    /// Makes an account, enabled, without a second factor, and with a
    /// password that must be changed at the first login. Refuses units for
    /// the wrong role.
    pub fn new(new: NewAccount) -> Result<Self, AccountError> {
        let units = checked_units(new.role, new.units)?;
        Ok(Account {
            name: new.name,
            role: new.role,
            units,
            disabled: false,
            password: new.password,
            must_change_password: true,
            second_factor: SecondFactor::None,
            created_at: new.created_at,
        })
    }

    pub fn name(&self) -> &AccountName {
        &self.name
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// The units the account works with, sorted; empty for analyst and admin.
    pub fn units(&self) -> &[UnitCode] {
        &self.units
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    pub fn password_hash(&self) -> &PasswordHash {
        &self.password
    }

    pub fn must_change_password(&self) -> bool {
        self.must_change_password
    }

    pub fn second_factor(&self) -> &SecondFactor {
        &self.second_factor
    }

    /// Whether a confirmed second factor is in place.
    pub fn has_second_factor(&self) -> bool {
        matches!(self.second_factor, SecondFactor::Enrolled { .. })
    }

    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// Refuses a disabled account with [`AccountError::AccountDisabled`].
    pub fn ensure_enabled(&self) -> Result<(), AccountError> {
        if self.disabled {
            return Err(AccountError::AccountDisabled {
                name: self.name.clone(),
            });
        }
        Ok(())
    }

    /// Disables the account (`spor user disable`): no login and no token of
    /// it is accepted any more.
    pub fn disable(&mut self) {
        self.disabled = true;
    }

    /// Enables a disabled account again.
    pub fn enable(&mut self) {
        self.disabled = false;
    }

    /// Replaces the password hash. An operator's password must be changed at
    /// the next login; the owner's need not.
    pub fn set_password(&mut self, hash: PasswordHash, by: PasswordSetBy) {
        self.password = hash;
        self.must_change_password = by == PasswordSetBy::Operator;
    }

    /// Changes the role and units together, so that the rules hold after.
    pub fn set_role(&mut self, role: Role, units: Vec<UnitCode>) -> Result<(), AccountError> {
        self.units = checked_units(role, units)?;
        self.role = role;
        Ok(())
    }

    /// Removes the second factor (`spor user reset-mfa`); the account sets up
    /// a new one at its next login.
    pub fn reset_second_factor(&mut self) {
        self.second_factor = SecondFactor::None;
    }

    /// Starts setting up TOTP: draws a new secret, keeps it as pending and
    /// returns what the account's owner needs to add it to an authenticator
    /// app. Replaces an earlier pending secret; refuses if a confirmed one is
    /// in place ([`AccountError::AlreadyEnrolled`]).
    pub fn begin_enrolment(
        &mut self,
        issuer: &str,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Enrolment, AccountError> {
        if self.has_second_factor() {
            return Err(AccountError::AlreadyEnrolled {
                name: self.name.clone(),
            });
        }
        let enrolment = totp::begin_enrolment(&self.name, issuer, rng)?;
        self.second_factor = SecondFactor::Pending {
            secret: enrolment.secret().clone(),
        };
        Ok(enrolment)
    }

    /// Finishes setting up TOTP with a code from the pending secret. The
    /// code's step is burnt, so the same code cannot then log in. Returns the
    /// recovery codes, to be shown once.
    pub fn confirm_enrolment(
        &mut self,
        code: &str,
        now: DateTime<Utc>,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Vec<ShownOnce>, AccountError> {
        let SecondFactor::Pending { secret } = &self.second_factor else {
            return Err(AccountError::NoEnrolmentPending {
                name: self.name.clone(),
            });
        };
        let step = totp::matching_step(secret, code, now, None)?;
        let (shown, stored) = recovery::generate_recovery_codes(rng);
        self.second_factor = SecondFactor::Enrolled {
            secret: secret.clone(),
            last_step: step,
            recovery_codes: stored,
        };
        Ok(shown)
    }

    /// Accepts a TOTP code and burns its step: the decision of
    /// [`check_code`](crate::check_code), then the write. Run it inside
    /// [`AccountStore::update`](crate::AccountStore::update), so that two
    /// logins racing with the same code cannot both pass.
    pub fn accept_code(&mut self, code: &str, now: DateTime<Utc>) -> Result<u64, AccountError> {
        let step = totp::check_code(self, code, now)?;
        if let SecondFactor::Enrolled { last_step, .. } = &mut self.second_factor {
            *last_step = step;
        }
        Ok(step)
    }

    /// Accepts an unused recovery code and marks it used. Run it inside
    /// [`AccountStore::update`](crate::AccountStore::update).
    pub fn use_recovery_code(
        &mut self,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let SecondFactor::Enrolled { recovery_codes, .. } = &mut self.second_factor else {
            return Err(AccountError::NoSecondFactor {
                name: self.name.clone(),
            });
        };
        recovery::use_code(recovery_codes, code, now)
    }

    /// Replaces all recovery codes with new ones, returned to be shown once.
    pub fn regenerate_recovery_codes(
        &mut self,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Vec<ShownOnce>, AccountError> {
        let SecondFactor::Enrolled { recovery_codes, .. } = &mut self.second_factor else {
            return Err(AccountError::NoSecondFactor {
                name: self.name.clone(),
            });
        };
        let (shown, stored) = recovery::generate_recovery_codes(rng);
        *recovery_codes = stored;
        Ok(shown)
    }

    /// How many recovery codes are still unused; 0 without a second factor.
    pub fn unused_recovery_codes(&self) -> usize {
        match &self.second_factor {
            SecondFactor::Enrolled { recovery_codes, .. } => recovery_codes
                .iter()
                .filter(|c| c.used_at.is_none())
                .count(),
            _ => 0,
        }
    }
}
