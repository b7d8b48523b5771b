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
        format!(
            "{}#{}",
            self.created_at.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
            self.id
        )
    }
}

/// What the caller read before a write: the write happens only if both still hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub status: RoomStatus,
    pub version: u64,
}

impl From<&Room> for Expected {
    fn from(room: &Room) -> Self {
        Self {
            status: room.status,
            version: room.version,
        }
    }
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

    /// Removes the room and everything stored under it, if it exists and `anchor` is its
    /// anchor; [`StoreError::Conflict`] otherwise.
    async fn delete_room(&self, id: &RoomId, anchor: &UserId) -> Result<(), StoreError>;
}
