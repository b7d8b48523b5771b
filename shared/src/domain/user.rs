//! A registered user as kept (SPEC §3).

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::operator::{Disabled, Role};
use super::{FieldError, ImageUrl, Nick, UserId, Username};

/// A registered user. `password_hash` is an argon2id PHC string, never the password (empty for
/// a user who signs in only by signature).
///
/// Fields are only ever appended, each defaulting to zero (the embedded store's records rely
/// on it to read users written before a field existed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub password_hash: String,
    pub nick: Nick,
    pub avatar: ImageUrl,
    #[serde(with = "crate::clock::micros")]
    pub created_at: DateTime<Utc>,
    /// The key of signature logins (seed 004's salt), when the user has one.
    #[serde(default)]
    pub salt: Option<SignatureSalt>,
    /// The session generation: `logout {all}` and `deleteUser` bump it, which ends every
    /// session issued before (a refresh token carries the generation it was issued in).
    #[serde(default)]
    pub sessions: u64,
    /// Set by `deleteUser`: the account is closed for good, its name never reusable.
    #[serde(default, with = "crate::clock::micros_option")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Operator roles an admin gave (issue 24; `ADMIN_USERS` are admins besides).
    #[serde(default)]
    pub roles: BTreeSet<Role>,
    /// Set when an operator disabled the account (issue 24).
    #[serde(default)]
    pub disabled: Option<Disabled>,
}

impl User {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// The shared secret of an app's own user system, from which it signs logins: 32 to 256
/// printable ASCII characters. Never logged, never returned.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignatureSalt(String);

impl SignatureSalt {
    pub const MIN_LEN: usize = 32;
    pub const MAX_LEN: usize = 256;

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&value.len()) {
            return Err(FieldError::new(
                "salt",
                format!("must be {} to {} characters", Self::MIN_LEN, Self::MAX_LEN),
            ));
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldError::new(
                "salt",
                "may contain only printable ASCII characters, no spaces",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SignatureSalt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SignatureSalt(***)")
    }
}
