//! Passwords (passord): the policy a new password must meet, argon2id hashes
//! as PHC strings, login verification that takes as long for an unknown
//! account as for a known one, and one-time passwords for new accounts.
//!
//! Hashing and verifying cost tens of milliseconds of CPU each, by design.
//! Async callers must run [`hash_password`], [`verify_password`] and
//! [`verify_login`] in `tokio::task::spawn_blocking`, or they stall every
//! other request on that worker thread.

use std::fmt;

use rand::{CryptoRng, Rng};
use serde::{Deserialize, Serialize};

use crate::account::Account;
use crate::error::AccountError;
use crate::name::AccountName;
use crate::shown_once::ShownOnce;

/// An argon2id hash with the parameters [`hash_password`] uses (m=19456,
/// t=2, p=1), of a password nobody knows. [`verify_login`] checks against it
/// when the account does not exist, so that "no such account" costs the same
/// time as "wrong password". A test keeps its parameters equal to those of a
/// fresh hash.
pub const DUMMY_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3Bvci1kdW1teS1zYWx0$vR5wSgqUt2ZpGZ0qtGz6NHlQFm/qC8cUJj0bRAq7Dro";

/// The characters of a one-time password: lowercase letters and digits
/// without `i`, `l`, `o`, `0` and `1`, which are easily misread when an
/// operator passes the password on.
pub const ONE_TIME_PASSWORD_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// The length of a one-time password: 20 characters of a 31-letter alphabet
/// carry 99 random bits.
pub const ONE_TIME_PASSWORD_CHARS: usize = 20;

/// A password hash as a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`).
///
/// Not a secret in the way a password is, but still kept out of logs: its
/// `Debug` shows only the algorithm.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Checks that `phc` is a PHC string of an algorithm this version can
    /// verify (argon2). The check is a parse, not a hash: it is cheap.
    pub fn from_phc(phc: &str) -> Result<Self, AccountError> {
        // `$argon2id$v=19$m=…,t=…,p=…$salt$hash`: the PHC grammar makes the
        // salt and hash optional, but a hash without them verifies nothing.
        let fields: Vec<&str> = phc.split('$').collect();
        let well_formed = matches!(
            fields.as_slice(),
            ["", "argon2id" | "argon2i" | "argon2d", version, params, salt, hash]
                if version.starts_with("v=") && params.contains("m=") && !salt.is_empty() && !hash.is_empty()
        );
        if !well_formed {
            return Err(AccountError::BadPasswordHash);
        }
        password_auth::is_hash_obsolete(phc).map_err(|_| AccountError::BadPasswordHash)?;
        Ok(Self(phc.to_owned()))
    }

    /// The PHC string as stored.
    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// Whether the hash was made with other parameters than
    /// [`hash_password`] uses now; if so, hash the password again after the
    /// next successful login.
    pub fn needs_rehash(&self) -> bool {
        password_auth::is_hash_obsolete(&self.0).unwrap_or(true)
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algorithm = self.0.split('$').nth(1).unwrap_or("?");
        write!(f, "PasswordHash({algorithm}, <hidden>)")
    }
}

impl Serialize for PasswordHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PasswordHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_phc(&s).map_err(serde::de::Error::custom)
    }
}

/// Hashes `password` with argon2id (m=19456 KiB, t=2, p=1) and a random salt
/// from the operating system. CPU-heavy: see the module documentation.
pub fn hash_password(password: &str) -> PasswordHash {
    PasswordHash(password_auth::generate_hash(password))
}

/// Whether `password` is the one `hash` was made from. CPU-heavy.
pub fn verify_password(hash: &PasswordHash, password: &str) -> bool {
    password_auth::verify_password(password, &hash.0).is_ok()
}

/// Whether a login with `password` succeeds for `account`: the account
/// exists, is not disabled, and the password matches.
///
/// Always runs one argon2 verification, against [`DUMMY_PASSWORD_HASH`] when
/// there is no account, so that the time taken does not tell an unknown name
/// from a wrong password. A disabled account is refused like a wrong password,
/// so the answer does not tell which accounts are disabled either. CPU-heavy.
pub fn verify_login(account: Option<&Account>, password: &str) -> bool {
    let hash = account.map_or(DUMMY_PASSWORD_HASH, |a| a.password_hash().as_phc());
    let matches = password_auth::verify_password(password, hash).is_ok();
    matches && account.is_some_and(|a| !a.is_disabled())
}

/// A one-time password for `spor user add` and `spor user set-password`:
/// [`ONE_TIME_PASSWORD_CHARS`] characters of [`ONE_TIME_PASSWORD_ALPHABET`].
/// The account must change it at its first login.
pub fn one_time_password(rng: &mut (impl CryptoRng + ?Sized)) -> ShownOnce {
    let password = (0..ONE_TIME_PASSWORD_CHARS)
        .map(|_| {
            let i = rng.random_range(0..ONE_TIME_PASSWORD_ALPHABET.len());
            char::from(ONE_TIME_PASSWORD_ALPHABET[i])
        })
        .collect();
    ShownOnce::new(password)
}

/// What a new password chosen by its owner must be.
///
/// The rules follow NIST SP 800-63B: a minimum length, a check against
/// guessable passwords (zxcvbn, which knows common passwords, names, keyboard
/// runs and dates, and is told the account name and some Norwegian words),
/// and no composition rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// The fewest characters (Unicode scalar values, not bytes).
    pub min_chars: usize,
    /// The most characters: a bound on what is hashed and estimated.
    pub max_chars: usize,
    /// The lowest zxcvbn score accepted, 0 to 4; 3 means an estimated 10^8
    /// to 10^10 guesses.
    pub min_score: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: 12,
            max_chars: 256,
            min_score: 3,
        }
    }
}

/// Norwegian words common in passwords, which zxcvbn's English dictionaries
/// do not know (it already catches "passord"). zxcvbn weighs them like the
/// account name: as the first words an attacker would try.
const NORWEGIAN_WORDS: &[&str] = &[
    "passord",
    "hemmelig",
    "sommer",
    "vinter",
    "høst",
    "våren",
    "norge",
    "noreg",
    "oslo",
    "bergen",
    "trondheim",
    "stavanger",
    "tromsø",
    "elsker",
    "kjæreste",
    "velkommen",
    "hei",
    "fotball",
    "rosenborg",
    "brann",
    "vålerenga",
    "glemmeg",
    "jul",
    "påske",
    "mamma",
    "pappa",
    "kommune",
    "nav",
    "introduksjon",
    "bydel",
];

/// Names shorter than this are not searched for inside a password: refusing
/// every password that contains, say, the letter `a` would help nobody.
/// zxcvbn still weighs short names as user input.
const MIN_NAME_CHARS_SEARCHED: usize = 3;

impl PasswordPolicy {
    /// Checks a new password for the account `name`. Cheap next to hashing,
    /// but zxcvbn takes a few milliseconds on long input.
    pub fn check(&self, name: &AccountName, password: &str) -> Result<(), PasswordRefusal> {
        let chars = password.chars().count();
        if chars < self.min_chars {
            return Err(PasswordRefusal::TooShort {
                min_chars: self.min_chars,
            });
        }
        if chars > self.max_chars {
            return Err(PasswordRefusal::TooLong {
                max_chars: self.max_chars,
            });
        }
        let lowered = password.to_lowercase();
        if name.as_str().len() >= MIN_NAME_CHARS_SEARCHED && lowered.contains(name.as_str()) {
            return Err(PasswordRefusal::ContainsName);
        }
        let mut inputs: Vec<&str> = vec![name.as_str(), "spor"];
        inputs.extend_from_slice(NORWEGIAN_WORDS);
        inputs.extend(
            name.as_str()
                .split(['.', '_', '-'])
                .filter(|part| !part.is_empty()),
        );
        let score = u8::from(zxcvbn::zxcvbn(password, &inputs).score());
        if score < self.min_score {
            return Err(PasswordRefusal::TooWeak {
                min_score: self.min_score,
            });
        }
        Ok(())
    }
}

/// Why a new password was refused. Neither the password nor its length is
/// kept, so the refusal can be logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRefusal {
    #[error(
        "the password is too short; use at least {min_chars} characters, for example a few unrelated words"
    )]
    TooShort { min_chars: usize },
    #[error("the password is too long; use at most {max_chars} characters")]
    TooLong { max_chars: usize },
    #[error("the password contains the account name; choose one that does not")]
    ContainsName,
    #[error(
        "the password is too easy to guess (it is common, or built from names, dates, keyboard runs or repeats); use a longer passphrase of several unrelated words"
    )]
    TooWeak { min_score: u8 },
}

impl PasswordRefusal {
    /// The stable code for API errors.
    pub fn code(&self) -> &'static str {
        match self {
            PasswordRefusal::TooShort { .. } => "password_too_short",
            PasswordRefusal::TooLong { .. } => "password_too_long",
            PasswordRefusal::ContainsName => "password_contains_name",
            PasswordRefusal::TooWeak { .. } => "password_too_weak",
        }
    }
}
