//! The sweeper's runs (issue 24): each sample under its room's own partition, just below the
//! room item (`POINT#{ms}` < `ROOM`), so one descending `Query` from the room item reads the
//! room and its newest points; the stats in one item. A run is put 25 items to a
//! `BatchWriteItem` (DynamoDB's limit; moto does not keep it, [`DynamoStore::batch_write`]
//! does).
//!
//! Never here: what a run counts (the sweeper), or an item that is not a sample or the stats.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use chrono::{DateTime, Utc};

use super::codec::{Reader, time};
use super::schema::{
    Item, PK, ROOM_SK, SAMPLE_SK_PREFIX, SK, TTL_ATTRIBUTE, n, room_pk, s, sample_key, sample_sk,
    stats_key,
};
use super::{DynamoStore, build_error, unavailable};
use crate::domain::RoomId;
use crate::domain::series::{Sample, SeriesWindow, Stats};
use crate::store::{SeriesRead, SeriesWrite, StatsRead, StoreError};

/// A sample's attributes (its time is its sort key).
const ONLINE: &str = "online";
const LIKES: &str = "likes";
const PV: &str = "pv";
const UV: &str = "uv";

fn sample_item(room: &RoomId, sample: &Sample, expires_at: i64) -> Item {
    let mut item = sample_key(room, sample.at.timestamp_millis());
    item.extend([
        (ONLINE.to_owned(), n(sample.online_count)),
        (LIKES.to_owned(), n(sample.like_count)),
        (PV.to_owned(), n(sample.pv)),
        (UV.to_owned(), n(sample.uv)),
        (TTL_ATTRIBUTE.to_owned(), n(expires_at)),
    ]);
    item
}

fn stats_item(stats: &Stats) -> Item {
    let mut item = stats_key();
    item.extend([
        ("prepared".to_owned(), n(stats.rooms_prepared)),
        ("live".to_owned(), n(stats.rooms_live)),
        ("paused".to_owned(), n(stats.rooms_paused)),
        (ONLINE.to_owned(), n(stats.online_total)),
        ("at".to_owned(), time(&stats.at)),
    ]);
    item
}

fn stats_from_item(item: &Item) -> Result<Stats, StoreError> {
    let r = Reader(item);
    Ok(Stats {
        rooms_prepared: r.count("prepared")?,
        rooms_live: r.count("live")?,
        rooms_paused: r.count("paused")?,
        online_total: r.count(ONLINE)?,
        at: r.time("at")?,
    })
}

/// A sample and its expiry, from its item.
fn sample_from_item(item: &Item) -> Result<(Sample, Option<i64>), StoreError> {
    let r = Reader(item);
    let at = r
        .str(SK)?
        .strip_prefix(SAMPLE_SK_PREFIX)
        .and_then(|ms| ms.parse::<i64>().ok())
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .ok_or_else(|| StoreError::Corrupt("a sample's sort key is not its time".to_owned()))?;
    Ok((
        Sample {
            at,
            online_count: r.count(ONLINE)?,
            like_count: r.count(LIKES)?,
            pv: r.count(PV)?,
            uv: r.count(UV)?,
        },
        r.opt_num(TTL_ATTRIBUTE)?,
    ))
}

#[async_trait]
impl SeriesWrite for DynamoStore {
    async fn write_series(
        &self,
        samples: &[(RoomId, Sample)],
        stats: &Stats,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        // One item per key (DynamoDB refuses a batch that names a key twice; moto does not):
        // the last sample of a room at one millisecond wins, as it would in two batches.
        let mut keys = std::collections::HashSet::new();
        let mut items: Vec<Item> = samples
            .iter()
            .rev()
            .filter(|(room, sample)| keys.insert((room, sample.at.timestamp_millis())))
            .map(|(room, sample)| sample_item(room, sample, expires_at))
            .collect();
        items.reverse();
        let requests = items
            .into_iter()
            .chain([stats_item(stats)])
            .map(|item| {
                PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map(|p| WriteRequest::builder().put_request(p).build())
                    .map_err(build_error)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_write(requests).await
    }
}

#[async_trait]
impl SeriesRead for DynamoStore {
    async fn room_series(
        &self,
        room: &RoomId,
        window: SeriesWindow,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<Sample>>, StoreError> {
        let from = window.since().map_or_else(
            || SAMPLE_SK_PREFIX.to_owned(),
            |t| sample_sk(t.timestamp_millis()),
        );
        // Newest first from the room item: the room, then at most `limit` points (one page:
        // a point is about 110 bytes, the room item a few KB at most). Eventually consistent
        // (half the read units): a run's points are a minute apart.
        let out = self
            .client()
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :room")
            .projection_expression("#pk, #sk, #created, #deleted, #online, #likes, #pv, #uv, #ttl")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_names("#created", "created_at")
            .expression_attribute_names("#deleted", "deleted_at")
            .expression_attribute_names("#online", ONLINE)
            .expression_attribute_names("#likes", LIKES)
            .expression_attribute_names("#pv", PV)
            .expression_attribute_names("#uv", UV)
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":pk", s(room_pk(room)))
            .expression_attribute_values(":from", s(from))
            .expression_attribute_values(":room", s(ROOM_SK))
            .scan_index_forward(false)
            .limit(
                i32::try_from(window.limit())
                    .unwrap_or(i32::MAX)
                    .saturating_add(1),
            )
            .send()
            .await
            .map_err(unavailable)?;
        let items = out.items.unwrap_or_default();
        let Some((first, points)) = items.split_first() else {
            return Ok(None);
        };
        let r = Reader(first);
        if r.str(SK)? != ROOM_SK || r.opt_time("deleted_at")?.is_some() {
            // No room (a purge's leftovers, until their TTL), or one being deleted.
            return Ok(None);
        }
        let created_at = r.time("created_at")?;
        let mut samples = Vec::with_capacity(points.len());
        for item in points.iter().rev() {
            let (sample, expires_at) = sample_from_item(item)?;
            if expires_at.is_none_or(|t| t > now.timestamp()) && sample.at >= created_at {
                samples.push(sample);
            }
        }
        Ok(Some(samples))
    }
}

#[async_trait]
impl StatsRead for DynamoStore {
    async fn stats(&self) -> Result<Option<Stats>, StoreError> {
        self.get(stats_key())
            .await?
            .as_ref()
            .map(stats_from_item)
            .transpose()
    }
}
