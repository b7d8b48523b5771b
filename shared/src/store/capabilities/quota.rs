//! The caps on a user's rooms: the tally a creation is counted on, in the same write as the
//! room.
//!
//! Never here: the caps' values or what a refusal answers (that is `rooms`, the feature).

use async_trait::async_trait;

use super::accounts::SessionFound;
use crate::domain::outbox::Entry;
use crate::domain::room::Room;
use crate::domain::user::User;
use crate::domain::{RoomId, UserId};
use crate::store::StoreError;

/// What the caps on a user's rooms count, kept apart from the user's record (an item of the
/// user's partition in DynamoDB, so the user item's writers never meet room creations).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoomTally {
    /// The user's rooms not known to have ended. A room leaves it when the set is found full
    /// and the room ended or is gone ([`RoomQuota::forget_rooms`]), so the set may hold rooms
    /// that have ended since, never miss one that has not.
    pub open: Vec<RoomId>,
    /// The minute (unix time / 60) `created` counts in.
    pub minute: i64,
    /// The rooms the user created in `minute`.
    pub created: u32,
}

/// The caps a creation is held to: at most `max_open` rooms in the open set, at most
/// `per_minute` creations in `minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomCaps {
    pub max_open: u32,
    pub per_minute: u32,
    pub minute: i64,
}

#[async_trait]
pub trait RoomQuota: Send + Sync {
    /// The user (if any; deleted or not) and its tally (empty if none), in one read.
    async fn user_tally(&self, id: &UserId) -> Result<(Option<User>, RoomTally), StoreError>;

    /// [`Self::user_tally`] with the user's session `session` (whether a logout ended it), all
    /// in one read: `create` checks the session it signs push URLs for in the read it makes
    /// anyway.
    async fn user_tally_in_session(
        &self,
        id: &UserId,
        session: &str,
    ) -> Result<(SessionFound, RoomTally), StoreError>;

    /// Adds `room` (and `events` to the outbox) and counts it on its anchor's tally, in one
    /// write, if the anchor's open set holds fewer than `caps.max_open` rooms and it created
    /// fewer than `caps.per_minute` rooms in `caps.minute` (a count of an earlier minute
    /// starts over); [`StoreError::Conflict`] otherwise (or if the room id exists): the caller
    /// reads the tally again to say which. `seen` is the tally the caller read (the DynamoDB
    /// store words its condition by it).
    async fn insert_counted_room(
        &self,
        room: &Room,
        events: &[Entry],
        caps: RoomCaps,
        seen: &RoomTally,
    ) -> Result<(), StoreError>;

    /// Takes `rooms` off `user`'s open set (they ended or are gone); a no-op for rooms not in
    /// it, or a user without a tally.
    async fn forget_rooms(&self, user: &UserId, rooms: &[RoomId]) -> Result<(), StoreError>;
}
