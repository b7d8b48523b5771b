//! A room's members as moderation sees them: a member's ban and last sighting, a kick's ban,
//! the muted set.
//!
//! Never here: who may kick or mute (that is `moderation`, the feature).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::accounts::{SessionFound, SessionGuard};
use crate::domain::audit::AuditEntry;
use crate::domain::outbox::Entry;
use crate::domain::room::Room;
use crate::domain::{RoomId, UserId};
use crate::store::StoreError;

/// A member barred from a room: who, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    pub user_id: UserId,
    pub until: DateTime<Utc>,
}

/// The most bans one read lists.
pub const MAX_BANS_LISTED: u32 = 100;

#[async_trait]
pub trait BanList: Send + Sync {
    /// The members of `room` still barred at `now` (a kick's ban that has not ended), the
    /// longest-barred first, at most `limit` (1..=[`MAX_BANS_LISTED`]). One read.
    async fn room_bans(
        &self,
        room: &RoomId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Ban>, StoreError>;
}

#[async_trait]
pub trait MemberRead: Send + Sync {
    /// The room item and the end of `user`'s ban in it (if ever banned), in one read.
    async fn room_member(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<(Option<Room>, Option<DateTime<Utc>>), StoreError>;

    /// When each of `users` (at most 100) was last seen in `room` (its last join or
    /// keepalive, whether or not it has left since; `None`: never came), in their order, in
    /// one read.
    async fn seen(
        &self,
        room: &RoomId,
        users: &[UserId],
    ) -> Result<Vec<Option<DateTime<Utc>>>, StoreError>;

    /// [`Self::room_member`] and `user`'s session `session`, in the same one read.
    async fn room_member_in_session(
        &self,
        room: &RoomId,
        user: &UserId,
        session: &str,
    ) -> Result<(Option<Room>, Option<DateTime<Utc>>, SessionFound), StoreError>;

    /// The end of `user`'s ban (if ever banned) in each of `rooms` (at most 99), in their
    /// order, and `user`'s session `session`, in one read.
    async fn bans(
        &self,
        rooms: &[RoomId],
        user: &UserId,
        session: &str,
    ) -> Result<(Vec<Option<DateTime<Utc>>>, SessionFound), StoreError>;
}

#[async_trait]
pub trait MemberBan: Send + Sync {
    /// Takes `user` off the room's online list and bars them from it until `until` (a join or
    /// keepalive before then fails its condition); the record is kept until `expires_at`.
    /// `events` and `audit` are put in the same atomic write.
    async fn ban_member(
        &self,
        room: &RoomId,
        user: &UserId,
        until: DateTime<Utc>,
        expires_at: i64,
        events: &[Entry],
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait Moderation: Send + Sync {
    /// Adds `user` to (or removes them from) the room's muted members, if the room exists, is
    /// not deleted, `anchor` (when given: an operator mutes in any room) is its anchor and (to
    /// add) fewer than [`MAX_MUTED`] are muted; [`StoreError::Conflict`] otherwise. `audit` is
    /// put in the same atomic write, and `guard` (the anchor's standing, if given) is held to
    /// by it.
    async fn set_muted(
        &self,
        room: &RoomId,
        anchor: Option<&UserId>,
        user: &UserId,
        muted: bool,
        audit: Option<&AuditEntry>,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<(), StoreError>;
}

/// The most members a room may have muted at once (the set lives on the room item).
pub const MAX_MUTED: usize = 1000;
