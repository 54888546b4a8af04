//! [`ShownOnce`]: a secret on its way to the one person who should see it.

use std::fmt;

/// A one-time password, recovery code or token, handed to the caller to show
/// once and then drop. Only its SHA-256 or argon2 hash is ever stored.
///
/// It has no `Display` and its `Debug` prints nothing of the secret, so that a
/// `{:?}` in a log line or an error cannot leak it; call [`ShownOnce::expose`]
/// at the one place that prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct ShownOnce(String);

impl ShownOnce {
    pub(crate) fn new(secret: String) -> Self {
        Self(secret)
    }

    /// The secret itself, for the one place that shows it to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ShownOnce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShownOnce(<hidden>)")
    }
}
