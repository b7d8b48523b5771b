//! Reclamation (SPEC §7): what the scheduled sweeper does, once a minute in AWS and on a timer
//! in the local server.
//!
//! Serverless means no timers in memory: every rule here is a conditional write whose condition
//! restates what the sweep read, so a sweep racing a user's call never undoes that call. A
//! room that changed since the sweep read it (new version, or a fresh anchor keepalive, or a
//! first join) is simply left alone until the next sweep.
//!
//! - members whose keepalive is older than `HEARTBEAT_TIMEOUT_SECONDS` are taken off the
//!   online list (reads already ignore them; this only tidies), and every room that has not
//!   ended gets a fresh metrics snapshot (so `list` is never more than a sweep behind);
//! - a live room whose anchor has been silent for `ANCHOR_TIMEOUT_SECONDS` is paused;
//! - a room nobody entered within `IDLE_ROOM_TIMEOUT_SECONDS` of its creation is ended (never
//!   deleted: no data is lost);
//! - an ended room past its retention (`RETENTION_DAYS`, also its DynamoDB TTL) is deleted
//!   with everything under it, and so is every room a `delete` marked but did not finish;
//! - every open room (prepared, live or paused; not a seed 000 call, which no listing shows)
//!   gets a sample of its figures as this run read them, kept `SERIES_RETENTION_DAYS`, and the
//!   run's counts by state and everyone online together are the stats (issue 24: the
//!   operators' `roomSeries` and `stats`). They cost no read (the run reads them anyway) and
//!   one kind of call: a `BatchWriteItem` per 25 rooms;
//! - where rooms are recorded (`RECORDING=on`), an ended room whose recording is still awaited
//!   `RECORDING_TIMEOUT_SECONDS` after its end has failed (`vod_info.status` 2; issue 26). Only
//!   those rooms are read: the store keeps the ended rooms awaiting a recording apart (on
//!   DynamoDB a sparse partition of `gsi4`), so a sweep never reads every ended room.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::App;
use crate::domain::RoomStatus;
use crate::domain::outbox::EventKind;
use crate::domain::room::{Action, Expected, Guard, Room, Transition};
use crate::domain::series::{Sample, Stats, series_time};
use crate::error::ApiError;
use crate::room_change::{expiry, life_cycle_events, report};
use crate::store::StoreError;

crate::needs!(
    /// The sweeper: the status index, presence and counters per room, the metrics snapshot,
    /// guarded life-cycle writes, and purges.
    SweepStore,
    SWEEP_NEEDS: RoomSweep,
    RoomUpdate,
    MetricsWrite,
    ChannelMark,
    RoomDelete,
    SeriesWrite,
    RecordingWrite
);

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
    /// Open rooms' samples written (one per open room, calls aside).
    pub samples_written: u64,
    /// Recordings failed for nothing arriving within `RECORDING_TIMEOUT_SECONDS` of the end.
    pub recordings_timed_out: u64,
}

impl SweepReport {
    /// Whether the sweep changed anything (or lost a race to a user's call).
    pub fn acted(&self) -> bool {
        self.members_removed
            + self.rooms_paused
            + self.rooms_ended
            + self.rooms_purged
            + self.races_lost
            + self.recordings_timed_out
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
            samples_written = self.samples_written,
            recordings_timed_out = self.recordings_timed_out,
            "sweep"
        );
    }
}

fn duration(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Applies `action` to the room as read, if the room is still as read and `guard` still holds.
async fn guarded<S: SweepStore + ?Sized>(
    app: &App<S>,
    read: &Room,
    action: Action,
    guard: Guard,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let Transition::To(next) = read.apply(action, now, app.config.retention) else {
        return Ok(false);
    };
    let expected = Expected {
        guard,
        ..Expected::from(read)
    };
    let events = life_cycle_events(app, read, &next, now);
    match app.store.update_room(&next, expected, &events).await {
        Ok(()) => Ok(true),
        Err(StoreError::Conflict) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Marks a room deleted (if it is not yet) and removes everything under it.
async fn purge<S: SweepStore + ?Sized>(
    app: &App<S>,
    room: &Room,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    if !room.is_deleted() {
        let expires_at = room.expires_at.unwrap_or_else(|| expiry(app, now));
        match app
            .store
            .mark_deleted(
                &room.id,
                &room.anchor_id,
                now,
                expires_at,
                &report(app, EventKind::RoomDeleted, room, now, None),
            )
            .await
        {
            Ok(()) => {}
            // Deleted by its anchor since the read: this sweep or the next finishes it.
            Err(StoreError::Conflict) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
    app.store.purge_room(&room.id).await?;
    Ok(true)
}

/// One sweep: every room that has not ended (presence, metrics, liveness), then every deleted
/// room and every ended room past retention (purge).
pub async fn sweep<S: SweepStore + ?Sized>(app: &App<S>) -> Result<SweepReport, ApiError> {
    let now = app.clock.now();
    let mut report = SweepReport::default();
    let stale_before = now - duration(app.config.heartbeat_timeout);
    let anchor_silent_since = now - duration(app.config.anchor_timeout);
    let idle_before = now - duration(app.config.idle_room_timeout);
    let expires_at = expiry(app, now);
    // Counters are renewed when less than half their retention is left.
    let renew_before = now.timestamp() + (expires_at - now.timestamp()) / 2;

    let at = series_time(now);
    let mut samples = Vec::new();
    let mut sampled = std::collections::HashSet::new();
    let mut stats = Stats {
        at,
        ..Stats::default()
    };

    for status in [RoomStatus::Live, RoomStatus::Prepare] {
        for room in app.store.rooms_with_status(status, None).await? {
            report.rooms_checked += 1;
            let swept = app
                .store
                .sweep_presence(&room.id, stale_before, stale_before)
                .await?;
            report.members_removed += swept.removed;
            let counters = app
                .store
                .sweep_counters(&room.id, renew_before, expires_at)
                .await?;
            crate::metrics::store(app, &room, swept.online, counters, now).await?;
            // The run's figures of the room, as read (a call is no listed room: not counted).
            // A room this run paused is read again with the prepared ones: sampled once.
            let listed = !room.id.is_channel() && sampled.insert(room.id.clone());
            if listed {
                samples.push((
                    room.id.clone(),
                    Sample {
                        at,
                        online_count: swept.online,
                        like_count: counters.likes,
                        pv: counters.pv,
                        uv: counters.uv,
                    },
                ));
                stats.online_total += swept.online;
            }

            let anchor_silent = room
                .anchor_seen_at
                .unwrap_or(room.started_at.unwrap_or(room.created_at))
                < anchor_silent_since;
            if room.status == RoomStatus::Live && anchor_silent {
                // The silence must still hold when the write lands: a keepalive since wins.
                let guard = Guard::AnchorSilentSince(anchor_silent_since);
                if guarded(app, &room, Action::Pause, guard, now).await? {
                    report.rooms_paused += 1;
                    // Paused by this run: counted as it is now.
                    stats.rooms_paused += u64::from(listed);
                } else {
                    report.races_lost += 1;
                    stats.rooms_live += u64::from(listed);
                }
                continue;
            }

            let never_entered = Guard::NeverEntered.holds(&room);
            if room.status == RoomStatus::Prepare && never_entered && room.created_at < idle_before
            {
                // Still nobody: a join, keepalive or start since the read wins.
                if guarded(app, &room, Action::Stop, Guard::NeverEntered, now).await? {
                    report.rooms_ended += 1;
                    // Ended by this run: no longer open, so not counted (its last sample stays).
                    continue;
                }
                report.races_lost += 1;
            }
            if listed {
                match (room.status, room.started_at) {
                    (RoomStatus::Live, _) => stats.rooms_live += 1,
                    (_, Some(_)) => stats.rooms_paused += 1,
                    (_, None) => stats.rooms_prepared += 1,
                }
            }
        }
    }

    // Deletions a `delete` call did not finish.
    for room in app.store.deleted_rooms().await? {
        if purge(app, &room, now).await? {
            report.rooms_purged += 1;
        }
    }

    // Where rooms are recorded, a recording awaited past `RECORDING_TIMEOUT_SECONDS` after
    // its room's end has failed: only those rooms are read (the store keeps them apart).
    if app.config.recording {
        // Ended at or before `now - timeout` (the keys are to the microsecond).
        let stopped_before =
            now - duration(app.config.recording_timeout) + chrono::Duration::microseconds(1);
        for room in app.store.rooms_awaiting_recording(stopped_before).await? {
            let timed_out = room
                .recording
                .as_ref()
                .filter(|r| r.timed_out(room.stopped_at, app.config.recording_timeout, now));
            if let Some(next) = timed_out.and_then(|r| r.failed()) {
                // One room's failed write is retried by the next run; it never holds up the
                // rest of this one (the purges, the series).
                match crate::room_change::write_recording(app, &room, &next, now).await {
                    Ok(true) => report.recordings_timed_out += 1,
                    Ok(false) => report.races_lost += 1,
                    Err(e) => {
                        tracing::error!(room = %room.id, error = %e, "recording timeout not written");
                        report.races_lost += 1;
                    }
                }
            }
        }
    }

    // An ended room expires at least `retention` after it was created, so only rooms created
    // before `now - retention` can be due: the status index's sort key bounds the read.
    let due_created_before = now - duration(app.config.retention);
    for room in app
        .store
        .rooms_with_status(RoomStatus::Ended, Some(due_created_before))
        .await?
    {
        if room.expires_at.is_some_and(|t| t <= now.timestamp()) && purge(app, &room, now).await? {
            report.rooms_purged += 1;
        }
    }

    // Last, so that a failure here never holds up the reclamation above.
    let series_expires_at = (now + duration(app.config.series_retention)).timestamp();
    app.store
        .write_series(&samples, &stats, series_expires_at)
        .await?;
    report.samples_written = samples.len() as u64;
    Ok(report)
}
