//! What the sweeper's runs leave for the operators (issue 24): a sample per open room and the
//! stats of the run, written together; a room's series and the last stats, read back.
//!
//! Never here: what a run counts (that is the sweeper, `crate::reclaim`), or who may read it
//! (the admin feature).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::RoomId;
use crate::domain::series::{Sample, SeriesWindow, Stats};
use crate::store::StoreError;

#[async_trait]
pub trait SeriesWrite: Send + Sync {
    /// Writes one run: a sample per room (each kept until `expires_at`, unix seconds: the
    /// DynamoDB TTL) and the run's stats (replacing the last run's), in as few calls as the
    /// store allows. Not atomic: a failure half way leaves some samples written.
    async fn write_series(
        &self,
        samples: &[(RoomId, Sample)],
        stats: &Stats,
        expires_at: i64,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait SeriesRead: Send + Sync {
    /// The room's samples in `window`, oldest first, leaving out those expired at `now`
    /// (DynamoDB deletes expired items only eventually) and those from before the room was
    /// created; `None` when there is no such room (or it is deleted). One read.
    async fn room_series(
        &self,
        room: &RoomId,
        window: SeriesWindow,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<Sample>>, StoreError>;
}

#[async_trait]
pub trait StatsRead: Send + Sync {
    /// The last run's stats (`None` before the first run). One read.
    async fn stats(&self) -> Result<Option<Stats>, StoreError>;
}
