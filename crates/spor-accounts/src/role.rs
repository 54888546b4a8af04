//! The four roles (roller) an account can hold, and which of them work with
//! units.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What an account may see and do (contract §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Veileder: reads and writes the participants of its units.
    Adviser,
    /// Leder: an adviser's rights plus its units' survey, report and lint.
    Leader,
    /// Analytiker: only published, suppressed aggregates; never a participant.
    Analyst,
    /// Administrator: manages accounts; sees no personal data.
    Admin,
}

impl Role {
    /// Every role, in the order the contract lists them.
    pub const ALL: [Role; 4] = [Role::Adviser, Role::Leader, Role::Analyst, Role::Admin];

    /// The stable name, as in the contract, the CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Adviser => "adviser",
            Role::Leader => "leader",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    /// Whether accounts of this role work with the participants of named
    /// units. Such accounts need at least one unit; the others may have none,
    /// so that an analyst or an admin never reaches personal data by a unit.
    pub fn works_with_units(self) -> bool {
        matches!(self, Role::Adviser | Role::Leader)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{given}`; the roles are adviser, leader, analyst and admin")]
pub struct UnknownRole {
    /// What was given, cut to 32 characters.
    pub given: String,
}

impl UnknownRole {
    /// The stable code for API errors and exit codes.
    pub fn code(&self) -> &'static str {
        "bad_role"
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole {
                given: s.chars().take(32).collect(),
            })
    }
}
