//! Rooms: the room item read alone, with its counters, in listings and by ids; created,
//! changed (its fields, its meeting list, its channel marks, its metrics snapshot) and deleted.
//!
//! Never here: which change a room may take (that is
//! [`Room::apply`](crate::domain::room::Room::apply)), or the caps on creating rooms
//! ([`super::quota`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::accounts::SessionFound;
use crate::domain::audit::AuditEntry;
use crate::domain::meeting::Meeting;
use crate::domain::outbox::Entry;
use crate::domain::recording::Recording;
use crate::domain::room::{Counters, Expected, Mark, MetricsSnapshot, Room, RoomQuery};
use crate::domain::{RoomId, UserId};
use crate::store::StoreError;

#[async_trait]
pub trait RoomRead: Send + Sync {
    /// The room item alone (deleted rooms included: the features treat them as gone).
    async fn room(&self, id: &RoomId) -> Result<Option<Room>, StoreError>;
}

#[async_trait]
pub trait RoomView: Send + Sync {
    /// The room and its exact counters, in one read.
    async fn room_view(&self, id: &RoomId) -> Result<Option<(Room, Counters)>, StoreError>;

    /// [`Self::room_view`], the end of `viewer`'s ban in the room (if ever banned) and
    /// `viewer`'s session `session`, in the same one read.
    async fn room_view_for(
        &self,
        id: &RoomId,
        viewer: &UserId,
        session: &str,
    ) -> Result<
        (
            Option<(Room, Counters, Option<DateTime<Utc>>)>,
            SessionFound,
        ),
        StoreError,
    >;
}

#[async_trait]
pub trait RoomList: Send + Sync {
    /// Rooms that match `query` (never deleted ones), newest first, one page.
    async fn list_rooms(&self, query: &RoomQuery) -> Result<Vec<Room>, StoreError>;
}

#[async_trait]
pub trait RoomBatchRead: Send + Sync {
    /// The rooms of `ids` that exist (deleted ones included: the features treat them as
    /// gone), in no particular order, in one read; at most 100 distinct ids.
    async fn rooms_by_id(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError>;

    /// [`Self::rooms_by_id`] and `user`'s session `session`, in the same one read (two at
    /// once where the session's keys take the total past a batch's 100).
    async fn rooms_by_id_in_session(
        &self,
        ids: &[RoomId],
        user: &UserId,
        session: &str,
    ) -> Result<(Vec<Room>, SessionFound), StoreError>;
}

#[async_trait]
pub trait RoomCreate: Send + Sync {
    /// Adds a room (and `events` to the outbox, in the same write). [`StoreError::Conflict`] if
    /// the id exists.
    async fn insert_room(&self, room: &Room, events: &[Entry]) -> Result<(), StoreError>;
}

#[async_trait]
pub trait RoomUpdate: Send + Sync {
    /// Replaces the room's mutable fields (not its meeting list, marks or metrics) with
    /// `room`'s if the stored room is not deleted and still has `expected`'s status and version
    /// and guard; [`StoreError::Conflict`] otherwise. `room.version` must be `expected.version + 1`.
    /// `events` go to the outbox in the same write.
    async fn update_room(
        &self,
        room: &Room,
        expected: Expected,
        events: &[Entry],
    ) -> Result<(), StoreError> {
        self.update_room_audited(room, expected, events, None).await
    }

    /// [`Self::update_room`], with `audit` put in the same atomic write.
    async fn update_room_audited(
        &self,
        room: &Room,
        expected: Expected,
        events: &[Entry],
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait MeetingWrite: Send + Sync {
    /// Replaces the room's meeting list with `meeting` (whose version is `expected + 1`) if
    /// the room exists, is not deleted, has not ended, and its meeting list is still at
    /// `expected`; [`StoreError::Conflict`] otherwise. Touches nothing else of the room.
    /// `events` go to the outbox in the same write.
    async fn update_meeting(
        &self,
        id: &RoomId,
        meeting: &Meeting,
        expected: u64,
        events: &[Entry],
    ) -> Result<(), StoreError> {
        self.replace_seats(id, meeting, expected, &[], events).await
    }

    /// [`Self::update_meeting`], also on the condition that each of `lapsed` is still silent
    /// in the room (last seen before its `before`, or never), in the same atomic write: a
    /// call's seat is given away only while its holder's lease has run out, never under a
    /// holder who renewed it meanwhile.
    async fn replace_seats(
        &self,
        id: &RoomId,
        meeting: &Meeting,
        expected: u64,
        lapsed: &[Lapsed],
        events: &[Entry],
    ) -> Result<(), StoreError>;
}

/// A seat holder whose lease a seat change relies on having run out: last seen in the room
/// (joined, or kept alive) before `before`, or never.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lapsed {
    pub user: UserId,
    pub before: DateTime<Utc>,
}

#[async_trait]
pub trait RecordingWrite: Send + Sync {
    /// Replaces the room's recording with `recording` (whose revision is `expected + 1`) if the
    /// room exists, is not deleted, is recorded and its recording is still at revision
    /// `expected`; [`StoreError::Conflict`] otherwise. Touches nothing else of the room.
    /// `events` go to the outbox in the same write.
    async fn update_recording(
        &self,
        id: &RoomId,
        recording: &Recording,
        expected: u64,
        events: &[Entry],
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait ChannelMark: Send + Sync {
    /// Sets or clears the room's channel start under the mark's condition. Returns whether it
    /// was applied.
    async fn mark_room(&self, id: &RoomId, mark: Mark) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait MetricsWrite: Send + Sync {
    /// Claims the next metrics refresh until `until`, if the snapshot is still the one counted
    /// at `seen` and nobody holds an unexpired claim. Returns whether this caller has it.
    async fn claim_metrics(
        &self,
        id: &RoomId,
        seen: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Stores `snapshot` (and drops any claim) unless one counted later is stored already.
    /// Returns whether it was stored.
    async fn save_metrics(
        &self,
        id: &RoomId,
        snapshot: &MetricsSnapshot,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait RoomDelete: Send + Sync {
    /// Marks the room deleted at `now` (gone for every reader and every listing from here on;
    /// kept at most until `expires_at`) if it exists, is not deleted, and `anchor` is its
    /// anchor; [`StoreError::Conflict`] otherwise. `events` go to the outbox in the same write.
    async fn mark_deleted(
        &self,
        id: &RoomId,
        anchor: &UserId,
        now: DateTime<Utc>,
        expires_at: i64,
        events: &[Entry],
    ) -> Result<(), StoreError> {
        self.mark_deleted_audited(id, anchor, now, expires_at, events, None)
            .await
    }

    /// [`Self::mark_deleted`], with `audit` put in the same atomic write.
    async fn mark_deleted_audited(
        &self,
        id: &RoomId,
        anchor: &UserId,
        now: DateTime<Utc>,
        expires_at: i64,
        events: &[Entry],
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError>;

    /// Removes everything stored under a room, the room item last. Idempotent: a purge
    /// interrupted half way is finished by the next.
    async fn purge_room(&self, id: &RoomId) -> Result<(), StoreError>;
}
