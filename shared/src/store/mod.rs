//! The store: what the API keeps, behind one trait with two implementations.
//!
//! - [`dynamo::DynamoStore`] (feature `dynamodb`): production, one DynamoDB table.
//! - [`embedded::EmbeddedStore`]: the local default, one redb file.
//!
//! Both give the same guarantees, checked by one contract suite (`tests/tests/contract.rs`):
//! usernames are unique; a room write happens only if the room is still in the status and at
//! the version the caller read (so concurrent writers can never interleave into a state the
//! machine forbids); a listing is newest first; a delete takes the room and everything under it.
//! The store decides nothing about who may do what — that is the domain's job.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{
    Category, Extends, ImageUrl, Nick, Notice, Page, RoomId, RoomMode, RoomStatus, Title, UserId,
    Username,
};
use crate::meeting::Meeting;

#[cfg(feature = "dynamodb")]
pub mod dynamo;
pub mod embedded;

/// A registered user. `password_hash` is an argon2id PHC string, never the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub password_hash: String,
    pub nick: Nick,
    pub avatar: ImageUrl,
    pub created_at: DateTime<Utc>,
}

/// A room as stored. URLs and credentials are not here: they are computed on read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub id: RoomId,
    pub anchor_id: UserId,
    pub anchor_nick: Nick,
    pub title: Title,
    pub notice: Notice,
    pub cover_url: ImageUrl,
    pub extends: Extends,
    pub category: Category,
    pub mode: RoomMode,
    pub status: RoomStatus,
    /// Bumped by one on every write; the optimistic-concurrency token.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// The co-host list, with its own version; written only by [`Store::update_meeting`].
    #[serde(default)]
    pub meeting: Meeting,
    /// The anchor's last keepalive: the room's liveness. Written only by [`Store::mark_room`].
    #[serde(default)]
    pub anchor_seen_at: Option<DateTime<Utc>>,
    /// When the first member joined the empty room (seed 000). Written only by
    /// [`Store::mark_room`].
    #[serde(default)]
    pub channel_started_at: Option<DateTime<Utc>>,
    /// For an ended room: when it may be purged (unix seconds; DynamoDB's TTL attribute).
    #[serde(default)]
    pub expires_at: Option<i64>,
}

impl Room {
    /// Whether `user` may publish in this room: its anchor and its co-hosts. The credentials
    /// code asks only this.
    pub fn is_publisher(&self, user: &UserId) -> bool {
        &self.anchor_id == user || self.meeting.contains(user)
    }

    /// The sort key that orders rooms newest first: creation time, then id to break ties.
    /// Fixed-width so that byte order is time order.
    pub fn created_key(&self) -> String {
        format!("{}#{}", created_prefix(&self.created_at), self.id)
    }
}

/// The time part of [`Room::created_key`]: every key of a room created before `t` sorts below it.
pub fn created_prefix(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// What the caller read before a write: the write happens only if all of it still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub status: RoomStatus,
    pub version: u64,
    /// An extra condition for the sweeper's writes, so a sweep never undoes a user's call.
    pub guard: Guard,
}

/// A condition on the room's liveness marks, checked in the same conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    None,
    /// The anchor has not kept alive since this time.
    AnchorSilentSince(DateTime<Utc>),
    /// Nobody ever entered: no join, no anchor keepalive, never started.
    NeverEntered,
}

impl Guard {
    pub fn holds(&self, room: &Room) -> bool {
        match self {
            Guard::None => true,
            Guard::AnchorSilentSince(t) => room.anchor_seen_at.is_none_or(|seen| seen < *t),
            Guard::NeverEntered => {
                room.anchor_seen_at.is_none()
                    && room.channel_started_at.is_none()
                    && room.started_at.is_none()
            }
        }
    }
}

impl From<&Room> for Expected {
    fn from(room: &Room) -> Self {
        Self {
            status: room.status,
            version: room.version,
            guard: Guard::None,
        }
    }
}

/// A liveness mark on a room; neither bumps the version (they are not state changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// The anchor kept alive at this time.
    AnchorSeen(DateTime<Utc>),
    /// A member joined the empty room at `at`; applied only if no channel started after
    /// `unless_after` (so of racing first joiners, one sets it).
    ChannelStarted {
        at: DateTime<Utc>,
        unless_after: DateTime<Utc>,
    },
}

/// A member's presence in a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub user_id: UserId,
    pub joined_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

impl Presence {
    /// The listing order key: last activity, then user, both fixed-width (newest = largest).
    pub fn activity_key(&self) -> String {
        activity_key(self.last_seen, &self.user_id)
    }
}

/// `{last_seen in ms, 13 digits}#{user}`: byte order is activity order.
pub fn activity_key(last_seen: DateTime<Utc>, user: &UserId) -> String {
    format!("{:013}#{}", last_seen.timestamp_millis().max(0), user)
}

/// Presence is spread over this many partition keys per room (DynamoDB: 1,000 writes/s per key,
/// and a keepalive costs one base-table and two index writes).
pub const PRESENCE_SHARDS: u32 = 32;
/// Counters (pv, uv, likes) are spread over this many items per room.
pub const COUNTER_SHARDS: u32 = 8;

/// A user's shard: FNV-1a of the id, so the same user always lands on the same shard.
pub fn shard(user: &UserId, shards: u32) -> u32 {
    let hash = user
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    (hash % u64::from(shards)) as u32
}

/// The room's counters, summed over their shards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub pv: u64,
    pub uv: u64,
    pub likes: u64,
}

/// A listing: filters, then one page, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomQuery {
    pub status: Option<RoomStatus>,
    pub anchor: Option<UserId>,
    pub category: Option<Category>,
    pub page: Page,
}

impl RoomQuery {
    /// Whether `room` passes the filters (the page is applied by the caller).
    pub fn matches(&self, room: &Room) -> bool {
        self.status.is_none_or(|s| room.status == s)
            && self.anchor.as_ref().is_none_or(|a| &room.anchor_id == a)
            && self.category.as_ref().is_none_or(|c| &room.category == c)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition did not hold: the key exists already, or the item changed or vanished.
    #[error("conditional write failed")]
    Conflict,
    /// The store could not be reached or failed; the text is for the log only.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// An item could not be decoded; the text is for the log only.
    #[error("corrupt item: {0}")]
    Corrupt(String),
}

/// Everything the API keeps. Each method is one atomic operation.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Adds a user. [`StoreError::Conflict`] if the username (by [`Username::key`]) is taken.
    async fn insert_user(&self, user: &User) -> Result<(), StoreError>;

    async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError>;

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;

    /// Adds a room. [`StoreError::Conflict`] if the id exists.
    async fn insert_room(&self, room: &Room) -> Result<(), StoreError>;

    async fn room(&self, id: &RoomId) -> Result<Option<Room>, StoreError>;

    /// Rooms that match `query`, newest first, one page.
    async fn list_rooms(&self, query: &RoomQuery) -> Result<Vec<Room>, StoreError>;

    /// Replaces the room's mutable fields (not its meeting list) with `room`'s if the stored room still has
    /// `expected`'s status and version; [`StoreError::Conflict`] otherwise (also if it is gone).
    /// `room.version` must be `expected.version + 1`.
    async fn update_room(&self, room: &Room, expected: Expected) -> Result<(), StoreError>;

    /// Replaces the room's meeting list with `meeting` (whose version is `expected + 1`) if
    /// the room exists, has not ended, and its meeting list is still at `expected`;
    /// [`StoreError::Conflict`] otherwise. Touches nothing else of the room.
    async fn update_meeting(
        &self,
        id: &RoomId,
        meeting: &Meeting,
        expected: u64,
    ) -> Result<(), StoreError>;

    /// Sets a liveness mark if the room exists (and, for a channel start, if no channel started
    /// after `unless_after`). Returns whether it was applied.
    async fn mark_room(&self, id: &RoomId, mark: Mark) -> Result<bool, StoreError>;

    /// Records `user` as present at `now` (joined at `now` unless already present), and, if
    /// `count_visit`, counts the visit: pv + 1, and uv + 1 if the user never visited before.
    async fn touch_presence(
        &self,
        room: &RoomId,
        user: &UserId,
        now: DateTime<Utc>,
        count_visit: bool,
    ) -> Result<(), StoreError>;

    /// Forgets `user`'s presence (a no-op if absent).
    async fn remove_presence(&self, room: &RoomId, user: &UserId) -> Result<(), StoreError>;

    /// Members seen after `since`, newest activity first, at most `limit`, strictly older than
    /// the `before` activity key when given.
    async fn online_members(
        &self,
        room: &RoomId,
        since: DateTime<Utc>,
        limit: u32,
        before: Option<&str>,
    ) -> Result<Vec<Presence>, StoreError>;

    /// How many members were seen after `since`.
    async fn online_count(&self, room: &RoomId, since: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Removes presences last seen before `before`, each only if still that stale (a racing
    /// keepalive wins). Returns how many were removed.
    async fn remove_stale_presence(
        &self,
        room: &RoomId,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    async fn counters(&self, room: &RoomId) -> Result<Counters, StoreError>;

    /// Adds `count` likes, on `user`'s counter shard.
    async fn add_likes(&self, room: &RoomId, user: &UserId, count: u64) -> Result<(), StoreError>;

    /// Every room in `status` (created before `created_before`, if given), oldest first: the
    /// sweeper's work list.
    async fn rooms_with_status(
        &self,
        status: RoomStatus,
        created_before: Option<DateTime<Utc>>,
    ) -> Result<Vec<Room>, StoreError>;

    /// Removes the room and everything stored under it, if it exists and `anchor` is its
    /// anchor; [`StoreError::Conflict`] otherwise.
    async fn delete_room(&self, id: &RoomId, anchor: &UserId) -> Result<(), StoreError>;
}
