//! A registered user as kept (SPEC §3).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ImageUrl, Nick, UserId, Username};

/// A registered user. `password_hash` is an argon2id PHC string, never the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub password_hash: String,
    pub nick: Nick,
    pub avatar: ImageUrl,
    #[serde(with = "crate::clock::micros")]
    pub created_at: DateTime<Utc>,
}
