//! A participant named the way a person types it: the whole id, or the
//! first few hexadecimal digits of it, as git takes a short hash.

use spor_domain::ParticipantId;
use spor_store::{EventStore, StoreError};
use uuid::Uuid;

/// The fewest digits a short id may have.
pub const SHORTEST: usize = 4;

/// Why a typed id names no one participant.
#[derive(Debug, thiserror::Error)]
pub enum ShortIdError {
    #[error(
        "`{0}` is not a participant id: give the whole id, or at least its first {SHORTEST} hexadecimal digits"
    )]
    NotAnId(String),
    #[error("no participant's id begins with `{0}`")]
    NoneFound(String),
    #[error("`{prefix}` begins the id of more than one participant ({}); give more of the id", list(.matches))]
    Ambiguous {
        prefix: String,
        matches: Vec<ParticipantId>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn list(matches: &[ParticipantId]) -> String {
    matches
        .iter()
        .map(|p| p.0.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The participant `text` names: a whole id as it is (whether or not the
/// log holds it; the caller says what that means), or the one participant
/// whose id begins with the digits given (dashes may be typed or not).
pub fn find_participant(store: &dyn EventStore, text: &str) -> Result<ParticipantId, ShortIdError> {
    let text = text.trim();
    if let Ok(id) = Uuid::try_parse(text) {
        return Ok(ParticipantId(id));
    }
    let digits: String = text
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_lowercase();
    if digits.len() < SHORTEST
        || digits.len() >= 32
        || !digits.chars().all(|c| c.is_ascii_hexdigit())
    {
        return Err(ShortIdError::NotAnId(text.to_owned()));
    }
    let mut found = store.participants_starting_with(&digits, 6)?;
    match found.len() {
        0 => Err(ShortIdError::NoneFound(text.to_owned())),
        1 => Ok(found.remove(0)),
        _ => Err(ShortIdError::Ambiguous {
            prefix: text.to_owned(),
            matches: found,
        }),
    }
}
