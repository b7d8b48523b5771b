//! Metrics (SPEC §7): what `RoomInfo.metrics` shows, and the snapshot that keeps reads cheap.
//!
//! Counting who is online means reading 32 presence shards, too much for every read. So the
//! count is materialised on the room item ([`MetricsSnapshot`]) and refreshed:
//!
//! - by `get`, when the snapshot is older than `METRICS_MAX_AGE_SECONDS`: the first such
//!   reader claims the refresh with a conditional write and counts; readers that find it
//!   claimed wait for that count instead of counting again. So one hot room is counted at
//!   most once per period however many readers it has, and `get` never shows an
//!   `online_count` older than the period;
//! - by every sweep (every minute in AWS), for every room that has not ended, so `list`
//!   never shows one older than a sweeper period.
//!
//! `like_count`, `pv` and `uv` on `get` are exact: the counter shards travel in the same
//! read as the room. Elsewhere they are the snapshot's. An ended room has nobody online.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::App;
use crate::domain::RoomStatus;
use crate::domain::room::{Counters, Mark, MetricsSnapshot, Room};
use crate::error::ApiError;

crate::needs!(
    /// A metrics refresh: claim it, count, store the count, mark the channel.
    RefreshStore,
    REFRESH_NEEDS: RoomRead,
    MetricsWrite,
    PresenceRead,
    ChannelMark
);

/// Seed 002 `models.Metrics`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Metrics {
    pub like_count: u64,
    pub online_count: u64,
    pub pv: u64,
    pub uv: u64,
}

/// How long a claim on a refresh holds before another reader may take it over (the claimer
/// failed), and so how long a reader waits for someone else's count.
const CLAIM: Duration = Duration::from_secs(3);
/// The waits between looks at someone else's count (about 3 s in all).
const WAITS_MS: [u64; 9] = [10, 20, 40, 80, 160, 320, 640, 800, 1000];

/// The instant before which a keepalive no longer counts.
pub fn online_since<S: ?Sized>(app: &App<S>, now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::from_std(app.config.heartbeat_timeout)
        .unwrap_or(chrono::Duration::seconds(20))
}

fn online(room: &Room, snapshot_online: u64) -> u64 {
    if room.status == RoomStatus::Ended {
        0
    } else {
        snapshot_online
    }
}

/// The metrics as last counted (for `list` and the answers of writes).
pub fn snapshot(room: &Room) -> Metrics {
    let m = &room.metrics;
    Metrics {
        like_count: m.likes,
        online_count: online(room, m.online),
        pv: m.pv,
        uv: m.uv,
    }
}

/// The snapshot's online count with exact counters beside it (answers that read the counters).
pub fn with_counters(room: &Room, counters: Counters) -> Metrics {
    Metrics {
        like_count: counters.likes,
        online_count: online(room, room.metrics.online),
        pv: counters.pv,
        uv: counters.uv,
    }
}

fn is_fresh<S: ?Sized>(app: &App<S>, at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    let max_age = chrono::Duration::from_std(app.config.metrics_max_age)
        .unwrap_or(chrono::Duration::seconds(5));
    at.is_some_and(|t| now - t <= max_age)
}

/// `get`'s metrics: exact counters, and an online count no older than the period (refreshed
/// here if the snapshot is older).
pub async fn current<S: RefreshStore + ?Sized>(
    app: &App<S>,
    room: &Room,
    counters: Counters,
) -> Result<Metrics, ApiError> {
    let now = app.clock.now();
    let mut metrics = with_counters(room, counters);
    if room.status == RoomStatus::Ended || is_fresh(app, room.metrics.at, now) {
        return Ok(metrics);
    }
    let until = now + chrono::Duration::from_std(CLAIM).unwrap_or(chrono::Duration::seconds(3));
    if app
        .store
        .claim_metrics(&room.id, room.metrics.at, now, until)
        .await?
    {
        metrics.online_count = recount(app, room, counters, now).await?;
        return Ok(metrics);
    }
    // Someone else is counting: wait for their count rather than count again.
    for wait in WAITS_MS {
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let Some(latest) = app.store.room(&room.id).await? else {
            return Err(ApiError::room_not_found());
        };
        if is_fresh(app, latest.metrics.at, app.clock.now()) {
            metrics.online_count = online(&latest, latest.metrics.online);
            return Ok(metrics);
        }
    }
    // They failed (their claim lapses): count, without storing over a claim we do not hold.
    app.stats.online_recounts.fetch_add(1, Ordering::Relaxed);
    let since = online_since(app, app.clock.now());
    metrics.online_count = app.store.count_online(&room.id, since).await?;
    Ok(metrics)
}

/// Counts the room's online members at `now`, stores the snapshot (with `counters`) and
/// keeps the channel mark in step. Returns the count.
pub async fn recount<S: RefreshStore + ?Sized>(
    app: &App<S>,
    room: &Room,
    counters: Counters,
    now: DateTime<Utc>,
) -> Result<u64, ApiError> {
    app.stats.online_recounts.fetch_add(1, Ordering::Relaxed);
    let online = app
        .store
        .count_online(&room.id, online_since(app, now))
        .await?;
    store(app, room, online, counters, now).await?;
    Ok(online)
}

/// Stores a count made at `now` and keeps the channel mark in step with it: an empty room's
/// channel ends; a room with members and no channel (a first join lost a race with an
/// emptiness mark) gets one.
pub async fn store<S: crate::store::MetricsWrite + crate::store::ChannelMark + ?Sized>(
    app: &App<S>,
    room: &Room,
    online: u64,
    counters: Counters,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let snapshot = MetricsSnapshot {
        online,
        likes: counters.likes,
        pv: counters.pv,
        uv: counters.uv,
        at: Some(now),
        refreshing_until: None,
    };
    app.store.save_metrics(&room.id, &snapshot).await?;
    match (online, room.channel_started_at) {
        (0, Some(_)) => {
            app.store
                .mark_room(&room.id, Mark::ChannelEmpty { at: now })
                .await?;
        }
        (1.., None) if room.status != RoomStatus::Ended => {
            app.store
                .mark_room(&room.id, Mark::ChannelStarted { at: now })
                .await?;
        }
        _ => {}
    }
    Ok(())
}
