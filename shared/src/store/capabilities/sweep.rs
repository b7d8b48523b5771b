//! What the sweeper asks of the store: rooms by status and the deleted ones, stale members
//! taken off the online list, and the counters kept alive.
//!
//! Never here: when a room expires or is ended (that is the sweeper's feature).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::room::{Counters, Room};
use crate::domain::{RoomId, RoomStatus};
use crate::store::StoreError;

/// What a sweep of one room's presence found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweptPresence {
    /// Members removed from the online index (last seen before the cut-off).
    pub removed: u64,
    /// Members seen after `since`.
    pub online: u64,
}

#[async_trait]
pub trait RoomSweep: Send + Sync {
    /// Every room in `status` (created before `created_before`, if given), oldest first.
    async fn rooms_with_status(
        &self,
        status: RoomStatus,
        created_before: Option<DateTime<Utc>>,
    ) -> Result<Vec<Room>, StoreError>;

    /// Every room marked deleted and not yet purged.
    async fn deleted_rooms(&self) -> Result<Vec<Room>, StoreError>;

    /// Every ended room (not deleted) whose recording is still awaited and that ended before
    /// `stopped_before`, oldest end first (issue 26): read from where only such rooms are
    /// kept, never by reading every ended room.
    async fn rooms_awaiting_recording(
        &self,
        stopped_before: DateTime<Utc>,
    ) -> Result<Vec<Room>, StoreError>;

    /// Takes members last seen before `stale_before` off the online list (each only if still
    /// that stale: a racing keepalive wins) and counts those seen after `since`.
    async fn sweep_presence(
        &self,
        room: &RoomId,
        stale_before: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> Result<SweptPresence, StoreError>;

    /// The room's exact counters; counter items that would expire before `renew_before` are
    /// kept until `expires_at` (a room that lives longer than retention keeps its counts).
    async fn sweep_counters(
        &self,
        room: &RoomId,
        renew_before: i64,
        expires_at: i64,
    ) -> Result<Counters, StoreError>;
}
