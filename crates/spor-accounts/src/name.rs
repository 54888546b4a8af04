//! Account names (brukernavn): 1 to 64 characters of `a-z`, `0-9`, `.`, `_`
//! and `-`, checked once when a name enters the crate.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{AccountError, NameProblem};

/// The longest account name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A checked account name. Only lowercase ASCII letters, digits, `.`, `_` and
/// `-`, so it is safe in a URL, a log line, an `otpauth://` label and a file
/// name, and two names that look alike are the same name.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountName(String);

impl AccountName {
    /// Checks `s` and returns the name. Uppercase letters are refused rather
    /// than folded, so that what an operator typed is what is stored.
    pub fn parse(s: &str) -> Result<Self, AccountError> {
        if s.is_empty() {
            return Err(AccountError::BadName(NameProblem::Empty));
        }
        let chars = s.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(AccountError::BadName(NameProblem::TooLong { chars }));
        }
        if let Some((position, character)) = s
            .chars()
            .enumerate()
            .find(|(_, c)| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '-'))
        {
            return Err(AccountError::BadName(NameProblem::BadCharacter {
                character,
                position: position + 1,
            }));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountName({})", self.0)
    }
}

impl std::str::FromStr for AccountName {
    type Err = AccountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for AccountName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AccountName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}
