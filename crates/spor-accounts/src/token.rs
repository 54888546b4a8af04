//! Bearer tokens (API-nøkler) for scripts: `spor_ID_SECRET`, sent as
//! `Authorization: Bearer spor_ID_SECRET`. A token acts as its account, with
//! the account's role and units.
//!
//! ID is 12 lowercase hex digits (48 random bits), shown by `spor token list`
//! and used to find the record; SECRET is 64 lowercase hex digits (256 random
//! bits). Only the SHA-256 of the whole token is stored.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use rand::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::error::AccountError;
use crate::name::AccountName;
use crate::shown_once::ShownOnce;

/// How long a token lives unless the caller says otherwise.
pub const DEFAULT_TOKEN_LIFETIME_DAYS: u32 = 90;
/// The longest a token may live: a year, so that a forgotten token dies.
pub const MAX_TOKEN_LIFETIME_DAYS: u32 = 366;
/// The longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 100;

const PREFIX: &str = "spor_";
const ID_BYTES: usize = 6;
const ID_CHARS: usize = 2 * ID_BYTES;
const SECRET_BYTES: usize = 32;
const SECRET_CHARS: usize = 2 * SECRET_BYTES;
const TOKEN_CHARS: usize = PREFIX.len() + ID_CHARS + 1 + SECRET_CHARS;

fn is_lower_hex(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'a'..=b'f')
}

/// The public part of a token: what `spor token list` shows and
/// `spor token revoke` takes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TokenId([u8; ID_CHARS]);

impl TokenId {
    /// Checks that `s` is 12 lowercase hex digits.
    pub fn parse(s: &str) -> Result<Self, AccountError> {
        let bytes: [u8; ID_CHARS] = s
            .as_bytes()
            .try_into()
            .map_err(|_| AccountError::BadToken)?;
        if !bytes.iter().all(|b| is_lower_hex(*b)) {
            return Err(AccountError::BadToken);
        }
        Ok(Self(bytes))
    }

    /// The id of `s`, which is either an id or a whole token, as
    /// `spor token revoke` accepts both. A whole token must be well formed;
    /// its secret is not checked against anything.
    pub fn from_id_or_token(s: &str) -> Result<Self, AccountError> {
        if s.starts_with(PREFIX) {
            parse_token(s).map(|t| t.id)
        } else {
            Self::parse(s)
        }
    }

    pub fn as_str(&self) -> &str {
        // Only lowercase hex digits are stored, checked in `parse` and made
        // by `hex::encode` in `issue_token`.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenId({})", self.as_str())
    }
}

impl std::str::FromStr for TokenId {
    type Err = AccountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for TokenId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TokenId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s)
            .map_err(|_| serde::de::Error::custom("a token id is 12 lowercase hex digits"))
    }
}

/// What `spor token create` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub account: AccountName,
    /// Free text to tell tokens apart in `spor token list`; at most
    /// [`MAX_LABEL_CHARS`] characters, no control characters.
    pub label: String,
    /// 1 to [`MAX_TOKEN_LIFETIME_DAYS`].
    pub lifetime_days: u32,
}

impl TokenRequest {
    /// A request with no label and the default lifetime of 90 days.
    pub fn new(account: AccountName) -> Self {
        Self {
            account,
            label: String::new(),
            lifetime_days: DEFAULT_TOKEN_LIFETIME_DAYS,
        }
    }
}

/// A token as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    pub id: TokenId,
    pub account: AccountName,
    pub label: String,
    /// The SHA-256 of the whole token text, `spor_ID_SECRET`.
    pub sha256: Sha256Digest,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new token: the text to print once, and the record to store.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: ShownOnce,
    pub record: TokenRecord,
}

/// Draws a new token for `request`, created at `now`. Stores nothing: pass
/// the record to [`AccountStore::insert_token`](crate::AccountStore::insert_token).
pub fn issue_token(
    request: TokenRequest,
    now: DateTime<Utc>,
    rng: &mut (impl CryptoRng + ?Sized),
) -> Result<IssuedToken, AccountError> {
    let chars = request.label.chars().count();
    if chars > MAX_LABEL_CHARS || request.label.chars().any(char::is_control) {
        return Err(AccountError::BadLabel { chars });
    }
    let days = i64::from(request.lifetime_days);
    let lifetime = TimeDelta::try_days(days)
        .filter(|_| (1..=MAX_TOKEN_LIFETIME_DAYS).contains(&request.lifetime_days))
        .ok_or(AccountError::BadLifetime { days })?;
    let expires_at = now
        .checked_add_signed(lifetime)
        .ok_or(AccountError::BadLifetime { days })?;

    let mut id_bytes = [0u8; ID_BYTES];
    rng.fill_bytes(&mut id_bytes);
    let mut secret_bytes = [0u8; SECRET_BYTES];
    rng.fill_bytes(&mut secret_bytes);
    let id = TokenId::parse(&hex::encode(id_bytes))?;
    let text = format!("{PREFIX}{id}_{}", hex::encode(secret_bytes));
    let record = TokenRecord {
        id,
        account: request.account,
        label: request.label,
        sha256: Sha256Digest::of(text.as_bytes()),
        created_at: now,
        expires_at,
        revoked_at: None,
    };
    Ok(IssuedToken {
        token: ShownOnce::new(text),
        record,
    })
}

/// A well-formed token, reduced to what is needed to check it: the id to
/// look the record up by, and the digest to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedToken {
    id: TokenId,
    sha256: Sha256Digest,
}

impl ParsedToken {
    pub fn id(&self) -> TokenId {
        self.id
    }
}

/// Parses `spor_ID_SECRET` strictly: the prefix, 12 lowercase hex digits, an
/// underscore and 64 lowercase hex digits, nothing around them (the HTTP
/// layer strips `Bearer `). Anything else is [`AccountError::BadToken`].
pub fn parse_token(text: &str) -> Result<ParsedToken, AccountError> {
    let bytes = text.as_bytes();
    if bytes.len() != TOKEN_CHARS || !text.starts_with(PREFIX) {
        return Err(AccountError::BadToken);
    }
    let rest = &text[PREFIX.len()..];
    let (id, secret) = rest
        .split_at_checked(ID_CHARS)
        .ok_or(AccountError::BadToken)?;
    let secret = secret.strip_prefix('_').ok_or(AccountError::BadToken)?;
    if secret.len() != SECRET_CHARS || !secret.bytes().all(is_lower_hex) {
        return Err(AccountError::BadToken);
    }
    Ok(ParsedToken {
        id: TokenId::parse(id)?,
        sha256: Sha256Digest::of(bytes),
    })
}

/// Whether `token` is `record`'s and still valid at `now`. The digest is
/// compared in constant time and first, so that a wrong token learns nothing
/// of the record's state.
pub fn verify_token(
    record: &TokenRecord,
    token: &ParsedToken,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    if record.id != token.id || !record.sha256.ct_eq(&token.sha256) {
        return Err(AccountError::BadToken);
    }
    if let Some(revoked_at) = record.revoked_at {
        return Err(AccountError::TokenRevoked {
            id: record.id,
            revoked_at,
        });
    }
    if now >= record.expires_at {
        return Err(AccountError::TokenExpired {
            id: record.id,
            expired_at: record.expires_at,
        });
    }
    Ok(())
}
