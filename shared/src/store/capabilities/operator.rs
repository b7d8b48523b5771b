//! What the operator plane (issue 24) asks of the store: API keys, the audit log, and an
//! admin's writes on accounts (disable, enable, roles) and their listing.
//!
//! Every write an operator makes carries its [`AuditEntry`], put in the same atomic write as
//! the change (never one without the other); the writes of other capabilities that must be
//! audited (a room's stop, kick, mute and delete; `logout {all}`; `deleteUser`) take theirs
//! the same way.
//!
//! Never here: who may operate (that is `endpoint::operator` and the `admin` feature).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::UserId;
use crate::domain::audit::{AuditEntry, AuditQuery};
use crate::domain::operator::{AccountChange, ApiKey, KeyId};
use crate::domain::user::User;
use crate::store::StoreError;

#[async_trait]
pub trait KeyRead: Send + Sync {
    /// The key (revoked ones included), in one read.
    async fn key(&self, id: &KeyId) -> Result<Option<ApiKey>, StoreError>;
}

#[async_trait]
pub trait KeyList: Send + Sync {
    /// Every key, newest first.
    async fn keys(&self) -> Result<Vec<ApiKey>, StoreError>;
}

#[async_trait]
pub trait KeyWrite: Send + Sync {
    /// Adds `key` with its audit entry. [`StoreError::Conflict`] if the id exists.
    async fn insert_key(&self, key: &ApiKey, audit: &AuditEntry) -> Result<(), StoreError>;

    /// Marks the key revoked at `at` (with its audit entry) if it exists and is not revoked;
    /// [`StoreError::Conflict`] otherwise.
    async fn revoke_key(
        &self,
        id: &KeyId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait KeyTouch: Send + Sync {
    /// Sets the key's `last_used_at` to `at` if it was never used or last used before
    /// `stale_before` (at most one write per key per interval); a key used since is left as
    /// it is, without an error.
    async fn touch_key(
        &self,
        id: &KeyId,
        at: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait AuditRead: Send + Sync {
    /// The entries `query` asks for, newest first, and the id to continue after when there
    /// may be more: one range read.
    async fn audit(
        &self,
        query: &AuditQuery,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError>;
}

/// The most keys one account change revokes (a DynamoDB transaction holds 100 items: the
/// account, its audit entry, the keys).
pub const MAX_KEYS_REVOKED: usize = 98;

#[async_trait]
pub trait UserAdmin: Send + Sync {
    /// Applies `change` ([`AccountChange::apply`]) to the user, with its audit entry, if the
    /// user exists, is not deleted, and (when `unless_admin`) holds no stored `admin` role.
    /// Returns whether there is such a live user; [`StoreError::Conflict`] if it holds the
    /// role.
    ///
    /// The API keys `revoke` (the account's own, when it loses the standing that made them)
    /// are revoked in the same write, at the audit entry's time (a key revoked already keeps
    /// its time; at most [`MAX_KEYS_REVOKED`]).
    async fn change_account(
        &self,
        id: &UserId,
        change: &AccountChange,
        unless_admin: bool,
        audit: &AuditEntry,
        revoke: &[KeyId],
    ) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait UserList: Send + Sync {
    /// Live users whose username (by [`crate::domain::Username::key`]) starts with `prefix`,
    /// in username order, `offset` skipped, at most `limit`.
    async fn users(
        &self,
        prefix: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<User>, StoreError>;
}
