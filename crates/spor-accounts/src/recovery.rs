//! Recovery codes (gjenopprettingskoder): ten single-use codes that stand in
//! for the authenticator app when it is lost. Shown once, stored only as
//! SHA-256, compared in constant time.

use chrono::{DateTime, Utc};
use rand::{CryptoRng, Rng};
use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::error::AccountError;
use crate::shown_once::ShownOnce;

/// How many recovery codes an account gets at a time.
pub const RECOVERY_CODE_COUNT: usize = 10;

/// Crockford's base32 alphabet: no `i`, `l`, `o` or `u`, so a code copied by
/// hand reads back the same. 5 bits a character.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Three groups of five characters: `xxxxx-xxxxx-xxxxx`, 75 random bits.
const GROUPS: usize = 3;
const GROUP_CHARS: usize = 5;

/// A recovery code as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredRecoveryCode {
    /// The SHA-256 of the code's fifteen characters, without hyphens.
    pub sha256: Sha256Digest,
    /// When it was used; a used code is never accepted again.
    pub used_at: Option<DateTime<Utc>>,
}

/// Draws [`RECOVERY_CODE_COUNT`] codes: the codes to show once, and their
/// stored form.
pub fn generate_recovery_codes(
    rng: &mut (impl CryptoRng + ?Sized),
) -> (Vec<ShownOnce>, Vec<StoredRecoveryCode>) {
    (0..RECOVERY_CODE_COUNT)
        .map(|_| {
            let chars: Vec<char> = (0..GROUPS * GROUP_CHARS)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect();
            let canonical: String = chars.iter().collect();
            let shown = chars
                .chunks(GROUP_CHARS)
                .map(|group| group.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-");
            let stored = StoredRecoveryCode {
                sha256: Sha256Digest::of(canonical.as_bytes()),
                used_at: None,
            };
            (ShownOnce::new(shown), stored)
        })
        .unzip()
}

/// The code as hashed: lowercase, without hyphens and spaces, with the
/// letters Crockford reads as digits (`i`, `l` as 1, `o` as 0) mapped. `None`
/// unless that leaves fifteen characters of the alphabet.
fn canonical(code: &str) -> Option<String> {
    // A bound before any work: a code with its separators is 17 characters.
    if code.len() > 64 {
        return None;
    }
    let canonical: String = code
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| match c.to_ascii_lowercase() {
            'i' | 'l' => '1',
            'o' => '0',
            other => other,
        })
        .collect();
    let well_formed =
        canonical.len() == GROUPS * GROUP_CHARS && canonical.bytes().all(|b| ALPHABET.contains(&b));
    well_formed.then_some(canonical)
}

/// Marks the code matching `code` used at `now`. Every stored digest is
/// compared, in constant time, whichever matches.
pub(crate) fn use_code(
    codes: &mut [StoredRecoveryCode],
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let digest = Sha256Digest::of(canonical(code).ok_or(AccountError::BadCode)?.as_bytes());
    let mut found = None;
    for (i, stored) in codes.iter().enumerate() {
        if stored.sha256.ct_eq(&digest) {
            found = Some(i);
        }
    }
    let stored = found
        .and_then(|i| codes.get_mut(i))
        .ok_or(AccountError::BadCode)?;
    if stored.used_at.is_some() {
        return Err(AccountError::CodeReused);
    }
    stored.used_at = Some(now);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forgives_case_separators_and_lookalikes() {
        assert_eq!(
            canonical("ABCDE-FGHJK-MNPQR").as_deref(),
            Some("abcdefghjkmnpqr")
        );
        assert_eq!(
            canonical("abcde fghjk mnpqr").as_deref(),
            Some("abcdefghjkmnpqr")
        );
        assert_eq!(
            canonical("oiL00-00000-00000").as_deref(),
            Some("011000000000000")
        );
        assert_eq!(canonical("abcde-fghjk-mnpq"), None);
        assert_eq!(canonical("abcde-fghjk-mnpqrs"), None);
        assert_eq!(canonical("abcde-fghjk-mnpqu"), None);
    }
}
