//! Presence and counters: a member's join, keepalive and leave, the online list read by
//! shard, and likes.
//!
//! Never here: the retention or the online window (that is `presence`, the feature).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::presence::{MembersPage, Visit};
use crate::domain::{RoomId, UserId};
use crate::store::StoreError;

/// A presence write: who, where, when, and until when the items it writes are kept.
#[derive(Debug, Clone, Copy)]
pub struct Touch<'a> {
    pub room: &'a RoomId,
    pub user: &'a UserId,
    pub now: DateTime<Utc>,
    /// The expiry (unix seconds) of the presence and counter items written: `now + retention`.
    pub expires_at: i64,
    /// The caller is the room's anchor: the same write marks the room alive (`anchor_seen_at`).
    pub anchor: bool,
    /// The user's presence shard is not yet among the room's used shards: the same write
    /// records it (`Room::shards_used`), so that listings skip shards nobody ever used.
    pub record_shard: bool,
}

#[async_trait]
pub trait PresenceWrite: Send + Sync {
    /// A join: presence at `now` (joined at `now` unless already present) and the visit
    /// counted (pv + 1, and uv + 1 on the user's first visit), atomically. Returns which.
    async fn join(&self, touch: Touch<'_>) -> Result<Visit, StoreError>;

    /// A keepalive: presence at `now` without counting a visit.
    async fn keepalive(&self, touch: Touch<'_>) -> Result<(), StoreError>;

    /// Takes `user` off the online list (a no-op if absent); the visit stays counted.
    ///
    /// `join` and `keepalive` fail with [`StoreError::Conflict`] while the user is banned
    /// from the room ([`super::MemberBan::ban_member`]) as well as when the room is gone.
    async fn leave(&self, room: &RoomId, user: &UserId) -> Result<(), StoreError>;
}

#[async_trait]
pub trait PresenceRead: Send + Sync {
    /// Members of one presence shard seen after `since`, newest activity first, at most
    /// `limit`, strictly below the `before` activity key when given.
    async fn members_page(
        &self,
        room: &RoomId,
        shard: u32,
        since: DateTime<Utc>,
        limit: u32,
        before: Option<&str>,
    ) -> Result<MembersPage, StoreError>;

    /// How many members were seen after `since` (all shards).
    async fn count_online(&self, room: &RoomId, since: DateTime<Utc>) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait CounterWrite: Send + Sync {
    /// Adds `count` likes on `user`'s counter shard, kept until `expires_at`.
    async fn add_likes(
        &self,
        room: &RoomId,
        user: &UserId,
        count: u64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
}
