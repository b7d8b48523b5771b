//! Who may operate (issue 24): the operator roles of an account, the scopes they grant, and
//! the API keys machines operate with.
//!
//! An API key's secret is `lrk_<key id>_<secret>`: the key id (16 hex digits, random) names
//! the stored key, so a key is found with one read; the secret part (32 random bytes,
//! base64url) is kept only as its SHA-256 and compared in constant time. What a key may do is
//! its own scopes, never more than the admin who made it.
//!
//! Never here: reading or writing keys (the store), authenticating a request (the edge).

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::FieldError;

/// An operator role stored on an account (`ADMIN_USERS` are always `Admin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Moderator,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Moderator, Role::Auditor];

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Moderator => "moderator",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == value)
            .ok_or_else(|| FieldError::new("roles", "each must be admin, moderator or auditor"))
    }

    /// What the role grants.
    pub fn scopes(self) -> &'static [Scope] {
        match self {
            Role::Admin => &Scope::ALL,
            Role::Moderator => &[
                Scope::RoomsRead,
                Scope::RoomsWrite,
                Scope::UsersRead,
                Scope::UsersWrite,
                Scope::AuditRead,
            ],
            Role::Auditor => &[Scope::RoomsRead, Scope::UsersRead, Scope::AuditRead],
        }
    }
}

/// What an operator (a user by its roles, or an API key) may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "rooms:read")]
    RoomsRead,
    #[serde(rename = "rooms:write")]
    RoomsWrite,
    #[serde(rename = "users:read")]
    UsersRead,
    #[serde(rename = "users:write")]
    UsersWrite,
    #[serde(rename = "audit:read")]
    AuditRead,
    /// Managing roles and API keys: admins only, never a key's.
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::RoomsRead,
        Scope::RoomsWrite,
        Scope::UsersRead,
        Scope::UsersWrite,
        Scope::AuditRead,
        Scope::Admin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::RoomsRead => "rooms:read",
            Scope::RoomsWrite => "rooms:write",
            Scope::UsersRead => "users:read",
            Scope::UsersWrite => "users:write",
            Scope::AuditRead => "audit:read",
            Scope::Admin => "admin",
        }
    }

    /// A scope a key may be given: any but `admin` (a key never manages roles or keys).
    pub fn parse_for_key(value: &str) -> Result<Self, FieldError> {
        Scope::ALL
            .into_iter()
            .filter(|s| *s != Scope::Admin)
            .find(|s| s.name() == value)
            .ok_or_else(|| {
                FieldError::new(
                    "scopes",
                    "each must be rooms:read, rooms:write, users:read, users:write or audit:read",
                )
            })
    }
}

/// Why an operator acted (a stop, a kick, a disabled account): 1 to 500 characters, no
/// control characters. Shown to operators as text, never as HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reason(String);

/// A character an operator's text must not hold: a control character, or one that changes
/// how the text around it is shown without being seen itself (Unicode's format characters,
/// `Cf`: bidirectional overrides, zero-width characters; the line and paragraph separators,
/// `Zl`, `Zp`), which would let a reason or a key's name pose as other text in a console.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{600}'..='\u{605}'
                | '\u{61c}'
                | '\u{6dd}'
                | '\u{70f}'
                | '\u{890}'..='\u{891}'
                | '\u{8e2}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{110bd}'
                | '\u{110cd}'
                | '\u{13430}'..='\u{1343f}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0001}'
                | '\u{e0020}'..='\u{e007f}'
        )
}

impl Reason {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(field: &'static str, value: &str) -> Result<Self, FieldError> {
        let chars = value.chars().count();
        if value.trim().is_empty() || chars > Self::MAX_CHARS {
            return Err(FieldError::new(field, "must be 1 to 500 characters"));
        }
        if value.chars().any(hidden) {
            return Err(FieldError::new(
                field,
                "must not hold control, format or separator characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An account an operator disabled: when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disabled {
    #[serde(with = "crate::clock::micros")]
    pub at: DateTime<Utc>,
    pub reason: Reason,
}

/// The scopes `roles` grant together.
pub fn scopes_of(roles: &BTreeSet<Role>) -> BTreeSet<Scope> {
    roles
        .iter()
        .flat_map(|r| r.scopes().iter().copied())
        .collect()
}

/// An API key's id: 16 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(String);

impl KeyId {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        if value.len() == 16
            && value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(value.to_owned()))
        } else {
            Err(FieldError::new("key_id", "must be 16 lowercase hex digits"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What is kept of a key's secret: its SHA-256, hex.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretHash(String);

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

impl SecretHash {
    fn of(secret: &str) -> Self {
        Self(hex::encode(Sha256::digest(secret.as_bytes())))
    }

    /// Whether `secret` is the one this is the hash of, in constant time.
    pub fn verifies(&self, secret: &str) -> bool {
        Self::of(secret)
            .0
            .as_bytes()
            .ct_eq(self.0.as_bytes())
            .into()
    }
}

/// A key's secret as presented (`lrk_<key id>_<secret>`), split; never stored, never logged.
pub struct PresentedKey {
    pub key_id: KeyId,
    secret: String,
}

impl fmt::Debug for PresentedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PresentedKey({}, ..)", self.key_id)
    }
}

/// The prefix that tells an API key from an access token in `Authorization: Bearer …`.
pub const KEY_PREFIX: &str = "lrk_";

/// Random bytes of a key's secret (256 bits).
const SECRET_BYTES: usize = 32;

impl PresentedKey {
    /// A bearer credential that looks like a key (`lrk_…`), split; `None` for anything else
    /// (a malformed key is refused the same way as a wrong one, by the caller).
    pub fn parse(bearer: &str) -> Option<Self> {
        let rest = bearer.strip_prefix(KEY_PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        let key_id = KeyId::parse(id).ok()?;
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(secret)
            .ok()?;
        (decoded.len() == SECRET_BYTES).then(|| Self {
            key_id,
            secret: secret.to_owned(),
        })
    }

    /// Whether this is the key whose secret hashes to `hash` (constant time).
    pub fn matches(&self, hash: &SecretHash) -> bool {
        hash.verifies(&self.secret)
    }
}

/// A new key: its id, the secret to show once, and the hash to keep.
pub struct NewKey {
    pub key_id: KeyId,
    /// `lrk_<key id>_<secret>`: shown to its creator once, then only its hash exists.
    pub secret: String,
    pub hash: SecretHash,
}

impl NewKey {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut id = [0u8; 8];
        let mut secret = [0u8; SECRET_BYTES];
        getrandom::fill(&mut id)?;
        getrandom::fill(&mut secret)?;
        let key_id = KeyId(hex::encode(id));
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        Ok(Self {
            hash: SecretHash::of(&secret),
            secret: format!("{KEY_PREFIX}{key_id}_{secret}"),
            key_id,
        })
    }
}

/// An API key's name, as its creator gave it: 1 to 64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyName(String);

impl KeyName {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let chars = value.chars().count();
        if value.trim().is_empty() || chars > 64 {
            return Err(FieldError::new("name", "must be 1 to 64 characters"));
        }
        if value.chars().any(hidden) {
            return Err(FieldError::new(
                "name",
                "must not hold control, format or separator characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored API key: what it may do, who made it, and only the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub key_id: KeyId,
    pub name: KeyName,
    pub scopes: BTreeSet<Scope>,
    pub hash: SecretHash,
    pub created_at: DateTime<Utc>,
    /// The admin who made it (a user id).
    pub created_by: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

impl SecretHash {
    /// A stored hash, as read back (64 hex digits); `None` for anything else.
    pub fn stored(hex: &str) -> Option<Self> {
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(hex.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An admin's change of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    /// Disables the account and ends every session it has (bumps its session generation).
    Disable(Disabled),
    /// Enables it again (its ended sessions stay ended).
    Enable,
    /// Sets its stored roles.
    Roles(BTreeSet<Role>),
}

impl AccountChange {
    /// `user` as the change leaves it (what the store writes, and the answer shows).
    pub fn apply(&self, user: &mut super::user::User) {
        match self {
            AccountChange::Disable(d) => {
                user.disabled = Some(d.clone());
                user.sessions += 1;
            }
            AccountChange::Enable => user.disabled = None,
            AccountChange::Roles(roles) => user.roles = roles.clone(),
        }
    }
}

#[cfg(test)]
#[path = "../tests/operator.rs"]
mod tests;
