//! The sweeper's runs (issue 24): each room's samples in one table keyed `{room}|{at ms}` (so
//! a room's newest points are one reverse range read), their expiries in a second one keyed
//! `{expires_at}|{room}|{at ms}` (the embedded store's TTL: each run removes, in its own
//! transaction, every sample expired by then), and the last run's stats under one key.
//!
//! A read of a series reads the room in the same transaction, as the DynamoDB store's `Query`
//! does: no room (or a deleted one), no series; samples from before the room's creation are
//! never shown.
//!
//! Never here: what a run counts (the sweeper), or any record but samples and the stats.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::rooms::read_room;
use super::{EmbeddedStore, ROOMS, SERIES, SERIES_EXPIRY, STATS, decode, encode, end_of};
use crate::domain::RoomId;
use crate::domain::series::{Sample, SeriesWindow, Stats};
use crate::store::{SeriesRead, SeriesWrite, StatsRead, StoreError};

/// The key of the stats record.
const LAST_RUN: &str = "last";

/// A sample as kept (its time and room are its key). Fields are only ever appended.
#[derive(Serialize, Deserialize)]
struct Point {
    online: u64,
    likes: u64,
    pv: u64,
    uv: u64,
    expires_at: i64,
}

/// The stats as kept. Fields are only ever appended.
#[derive(Serialize, Deserialize)]
struct Run {
    prepared: u64,
    live: u64,
    paused: u64,
    online: u64,
    #[serde(with = "crate::clock::micros")]
    at: DateTime<Utc>,
}

fn sample_key(room: &str, at_ms: i64) -> String {
    format!("{room}|{:013}", at_ms.max(0))
}

fn expiry_key(expires_at: i64, sample: &str) -> String {
    format!("{:011}|{sample}", expires_at.max(0))
}

#[async_trait]
impl SeriesWrite for EmbeddedStore {
    async fn write_series(
        &self,
        samples: &[(RoomId, Sample)],
        stats: &Stats,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let samples = samples.to_vec();
        let stats = *stats;
        self.write(move |txn| {
            let mut series = txn.open_table(SERIES)?;
            let mut expiry = txn.open_table(SERIES_EXPIRY)?;
            // What expired by this run goes first (DynamoDB's TTL, here).
            let due = end_of(&format!("{:011}|", stats.at.timestamp().max(0)));
            let mut expired = Vec::new();
            for row in expiry.range(..due.as_str())? {
                let (key, sample) = row?;
                expired.push((key.value().to_owned(), sample.value().to_owned()));
            }
            for (key, sample) in expired {
                expiry.remove(key.as_str())?;
                series.remove(sample.as_str())?;
            }
            for (room, sample) in &samples {
                let key = sample_key(room.as_str(), sample.at.timestamp_millis());
                let point = Point {
                    online: sample.online_count,
                    likes: sample.like_count,
                    pv: sample.pv,
                    uv: sample.uv,
                    expires_at,
                };
                if let Some(old) = series.insert(key.as_str(), encode(&point)?.as_slice())? {
                    // The same room at the same millisecond: the expiry of the one replaced.
                    let old: Point = decode(old.value())?;
                    expiry.remove(expiry_key(old.expires_at, &key).as_str())?;
                }
                expiry.insert(expiry_key(expires_at, &key).as_str(), key.as_str())?;
            }
            let run = Run {
                prepared: stats.rooms_prepared,
                live: stats.rooms_live,
                paused: stats.rooms_paused,
                online: stats.online_total,
                at: stats.at,
            };
            txn.open_table(STATS)?
                .insert(LAST_RUN, encode(&run)?.as_slice())?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl SeriesRead for EmbeddedStore {
    async fn room_series(
        &self,
        room: &RoomId,
        window: SeriesWindow,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<Sample>>, StoreError> {
        let room = room.clone();
        self.read(move |txn| {
            let Some(read) = read_room(&txn.open_table(ROOMS)?, room.as_str())? else {
                return Ok(None);
            };
            if read.is_deleted() {
                return Ok(None);
            }
            let from = window.since().map_or(i64::MIN, |t| t.timestamp_millis());
            let low = sample_key(room.as_str(), from);
            let high = end_of(&format!("{room}|"));
            let limit = usize::try_from(window.limit()).unwrap_or(usize::MAX);
            let mut samples = Vec::new();
            for row in txn
                .open_table(SERIES)?
                .range(low.as_str()..high.as_str())?
                .rev()
                .take(limit)
            {
                let (key, value) = row?;
                let point: Point = decode(value.value())?;
                let at = key
                    .value()
                    .rsplit('|')
                    .next()
                    .and_then(|ms| ms.parse::<i64>().ok())
                    .and_then(DateTime::<Utc>::from_timestamp_millis)
                    .ok_or_else(|| StoreError::Corrupt("a sample's key is not its time".into()))?;
                if point.expires_at > now.timestamp() && at >= read.created_at {
                    samples.push(Sample {
                        at,
                        online_count: point.online,
                        like_count: point.likes,
                        pv: point.pv,
                        uv: point.uv,
                    });
                }
            }
            samples.reverse();
            Ok(Some(samples))
        })
        .await
    }
}

#[async_trait]
impl StatsRead for EmbeddedStore {
    async fn stats(&self) -> Result<Option<Stats>, StoreError> {
        self.read(|txn| {
            let run: Option<Run> = super::record(&txn.open_table(STATS)?, LAST_RUN)?;
            Ok(run.map(|run| Stats {
                rooms_prepared: run.prepared,
                rooms_live: run.live,
                rooms_paused: run.paused,
                online_total: run.online,
                at: run.at,
            }))
        })
        .await
    }
}
