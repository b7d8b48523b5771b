//! Users and their sessions: reading, adding, updating and closing a user; a session's end.
//!
//! Never here: password hashing or token checks (that is `accounts` and `auth`), or how a
//! store keeps a user (that is each store's own `users`/`accounts` file).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::audit::AuditEntry;
use crate::domain::user::User;
use crate::domain::{ImageUrl, Nick, UserId, Username};
use crate::store::StoreError;

/// A caller's session as a read found it, in the same one read as what the caller asked for:
/// its user item (a closed account included) and whether a `logout` ended the session. The
/// features judge it ([`crate::room_change::standing`]).
#[derive(Debug, Clone, Default)]
pub struct SessionFound {
    pub user: Option<User>,
    pub ended: bool,
}

/// The caller's standing a write holds to, in the same one atomic write (on DynamoDB a
/// `ConditionCheck` of the user item in the write's transaction, or the condition of the
/// write of the user item itself; on the embedded store, the write's own transaction): the
/// user exists, is not closed or disabled, and its session generation is still `generation`
/// (no `logout {all}`, disabling or closing since the caller's token was issued). A guard
/// that fails is [`StoreError::Conflict`], as the write's own condition is: the feature tells
/// them apart by reading the session on that path only ([`crate::room_change::refused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionGuard<'a> {
    pub user: &'a UserId,
    pub generation: u64,
}

impl SessionGuard<'_> {
    /// Whether `user` (as stored) still passes this guard.
    pub fn holds(&self, user: &User) -> bool {
        !user.is_deleted() && user.disabled.is_none() && user.sessions == self.generation
    }
}

#[async_trait]
pub trait UserRead: Send + Sync {
    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;

    /// By [`Username::key`] (case-insensitive).
    async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError>;
}

#[async_trait]
pub trait UserWrite: Send + Sync {
    /// Adds a user. [`StoreError::Conflict`] if the username (by [`Username::key`]) is taken.
    async fn insert_user(&self, user: &User) -> Result<(), StoreError>;
}

#[async_trait]
pub trait UserUpdate: Send + Sync {
    /// Sets the profile fields given, if the user exists and is not deleted. Returns the
    /// updated user, or `None` if there is no such (live) user; held to `guard` (if any),
    /// [`StoreError::Conflict`] instead when it fails (no such live user included).
    async fn update_profile(
        &self,
        id: &UserId,
        nick: Option<&Nick>,
        avatar: Option<&ImageUrl>,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<Option<User>, StoreError>;
}

#[async_trait]
pub trait UserDelete: Send + Sync {
    /// Closes the account at `now`: marked deleted, its password hash, salt, nick and avatar
    /// cleared, every session ended; its username claim stays (never reusable). Idempotent
    /// (a deleted user stays deleted as it was). Returns whether the user exists.
    /// `audit` is put in the same atomic write (only when the account was open). An open
    /// account is closed only while `guard` (if any) holds ([`StoreError::Conflict`]
    /// otherwise); a closed one stays closed whatever the guard.
    async fn delete_user(
        &self,
        id: &UserId,
        now: DateTime<Utc>,
        audit: Option<&AuditEntry>,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait SessionRead: Send + Sync {
    /// The user, and whether the session `session` was ended by a logout: one read.
    async fn session(
        &self,
        user: &UserId,
        session: &str,
    ) -> Result<(Option<User>, bool), StoreError>;

    /// The user `other` (`None`: no such user; a closed one included) and `user`'s session
    /// `session`, in the same one read (`user`'s own profile when `other` is `user`).
    async fn user_in_session(
        &self,
        other: &UserId,
        user: &UserId,
        session: &str,
    ) -> Result<(Option<User>, SessionFound), StoreError>;
}

#[async_trait]
pub trait SessionWrite: Send + Sync {
    /// Ends one session of `user` (its refresh tokens stop working), remembered until
    /// `expires_at` (when its last refresh token expires anyway), if `guard` (if any) holds
    /// ([`StoreError::Conflict`] otherwise).
    async fn end_session(
        &self,
        user: &UserId,
        session: &str,
        expires_at: i64,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<(), StoreError>;

    /// Ends every session of `user` begun so far (bumps [`User::sessions`]). Returns whether
    /// there is such a (live) user; held to `guard` (if any), [`StoreError::Conflict`] instead
    /// when it fails (no such live user included).
    /// `audit` is put in the same atomic write.
    async fn end_all_sessions(
        &self,
        user: &UserId,
        audit: Option<&AuditEntry>,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<bool, StoreError>;
}
