//! Reclamation (SPEC §7): what the scheduled sweeper does, once a minute in AWS and on a timer
//! in the local server.
//!
//! Serverless means no timers in memory: every rule here is a conditional write whose condition
//! restates what the sweep read, so a sweep racing a user's call never undoes that call. A
//! room that changed since the sweep read it (new version, or a fresh anchor keepalive, or a
//! first join) is simply left alone until the next sweep.
//!
//! - members whose keepalive is older than `HEARTBEAT_TIMEOUT_SECONDS` are removed (reads
//!   already ignore them; this only tidies);
//! - a live room whose anchor has been silent for `ANCHOR_TIMEOUT_SECONDS` is paused;
//! - a room nobody entered within `IDLE_ROOM_TIMEOUT_SECONDS` of its creation is ended (never
//!   deleted: no data is lost);
//! - an ended room past its retention (`RETENTION_DAYS`, also its DynamoDB TTL) is deleted
//!   with everything under it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::App;
use crate::accounts::store_error;
use crate::domain::RoomStatus;
use crate::error::ApiError;
use crate::rooms::apply_status;
use crate::store::{Expected, Guard, Room, StoreError};

/// What one sweep did (logged as one JSON line).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub rooms_checked: u64,
    pub members_removed: u64,
    pub rooms_paused: u64,
    pub rooms_ended: u64,
    pub rooms_purged: u64,
    /// Conditional writes that lost to a user's concurrent call (left for the next sweep).
    pub races_lost: u64,
}

impl SweepReport {
    /// Whether the sweep changed anything (or lost a race to a user's call).
    pub fn acted(&self) -> bool {
        self.members_removed
            + self.rooms_paused
            + self.rooms_ended
            + self.rooms_purged
            + self.races_lost
            > 0
    }

    /// One JSON log line with the counts as fields.
    pub fn log(&self) {
        tracing::info!(
            rooms_checked = self.rooms_checked,
            members_removed = self.members_removed,
            rooms_paused = self.rooms_paused,
            rooms_ended = self.rooms_ended,
            rooms_purged = self.rooms_purged,
            races_lost = self.races_lost,
            "sweep"
        );
    }
}

fn duration(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Writes `next` if the room is still as read and `guard` still holds.
async fn conditional(
    app: &App,
    read: &Room,
    mut next: Room,
    guard: Guard,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    next.version = read.version + 1;
    next.updated_at = now;
    let expected = Expected {
        guard,
        ..Expected::from(read)
    };
    match app.store.update_room(&next, expected).await {
        Ok(()) => Ok(true),
        Err(StoreError::Conflict) => Ok(false),
        Err(e) => Err(store_error(e)),
    }
}

/// One sweep over every room that is not ended, then over ended rooms past retention.
pub async fn sweep(app: &App) -> Result<SweepReport, ApiError> {
    let now = app.clock.now();
    let mut report = SweepReport::default();
    let stale_before = now - duration(app.config.heartbeat_timeout);
    let anchor_silent_since = now - duration(app.config.anchor_timeout);
    let idle_before = now - duration(app.config.idle_room_timeout);

    for status in [RoomStatus::Live, RoomStatus::Prepare] {
        for room in app
            .store
            .rooms_with_status(status, None)
            .await
            .map_err(store_error)?
        {
            report.rooms_checked += 1;
            report.members_removed += app
                .store
                .remove_stale_presence(&room.id, stale_before)
                .await
                .map_err(store_error)?;

            let anchor_silent = room
                .anchor_seen_at
                .unwrap_or(room.started_at.unwrap_or(room.created_at))
                < anchor_silent_since;
            if room.status == RoomStatus::Live && anchor_silent {
                let mut next = room.clone();
                apply_status(&mut next, RoomStatus::Prepare, now, app.config.retention);
                // The silence must still hold when the write lands: a keepalive since wins.
                let guard = Guard::AnchorSilentSince(anchor_silent_since);
                if conditional(app, &room, next, guard, now).await? {
                    report.rooms_paused += 1;
                } else {
                    report.races_lost += 1;
                }
                continue;
            }

            let never_entered = Guard::NeverEntered.holds(&room);
            if room.status == RoomStatus::Prepare && never_entered && room.created_at < idle_before
            {
                let mut next = room.clone();
                apply_status(&mut next, RoomStatus::Ended, now, app.config.retention);
                // Still nobody: a join, keepalive or start since the read wins.
                if conditional(app, &room, next, Guard::NeverEntered, now).await? {
                    report.rooms_ended += 1;
                } else {
                    report.races_lost += 1;
                }
            }
        }
    }

    // An ended room expires at least `retention` after it was created, so only rooms created
    // before `now - retention` can be due: the status index's sort key bounds the read.
    let due_created_before = now - duration(app.config.retention);
    let ended = app
        .store
        .rooms_with_status(RoomStatus::Ended, Some(due_created_before))
        .await
        .map_err(store_error)?;
    for room in ended {
        if room.expires_at.is_some_and(|t| t <= now.timestamp()) {
            match app.store.delete_room(&room.id, &room.anchor_id).await {
                Ok(()) => report.rooms_purged += 1,
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(store_error(e)),
            }
        }
    }
    Ok(report)
}
