//! Counters: pv, uv and likes over 8 shards per room (atomic `ADD`), and the sweeper's view
//! of a room (which also renews the counters of rooms that outlive retention).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::codec::Reader;
use super::rooms::add_counters;
use super::schema::{PK, SK, TTL_ATTRIBUTE, counter_key, counter_keys, n};
use super::{DynamoStore, unavailable};
use crate::domain::presence::{COUNTER_SHARDS, shard};
use crate::domain::room::{Counters, Room};
use crate::domain::{RoomId, RoomStatus, UserId};
use crate::store::{CounterWrite, RoomSweep, StoreError, SweptPresence};

#[async_trait]
impl CounterWrite for DynamoStore {
    async fn add_likes(
        &self,
        room: &RoomId,
        user: &UserId,
        count: u64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(room, shard(user, COUNTER_SHARDS))))
            .update_expression("SET #ttl = :ttl ADD likes :n")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":ttl", n(expires_at))
            .expression_attribute_values(":n", n(count))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl RoomSweep for DynamoStore {
    async fn rooms_with_status(
        &self,
        status: RoomStatus,
        created_before: Option<DateTime<Utc>>,
    ) -> Result<Vec<Room>, StoreError> {
        self.rooms_with_status_in(status, created_before).await
    }

    async fn deleted_rooms(&self) -> Result<Vec<Room>, StoreError> {
        self.deleted_rooms_in().await
    }

    async fn rooms_awaiting_recording(
        &self,
        stopped_before: DateTime<Utc>,
    ) -> Result<Vec<Room>, StoreError> {
        self.rooms_awaiting_recording_in(stopped_before).await
    }

    async fn sweep_presence(
        &self,
        room: &RoomId,
        stale_before: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> Result<SweptPresence, StoreError> {
        self.sweep_presence_in(room, stale_before, since).await
    }

    async fn sweep_counters(
        &self,
        room: &RoomId,
        renew_before: i64,
        expires_at: i64,
    ) -> Result<Counters, StoreError> {
        let mut total = Counters::default();
        for item in self.batch_get(counter_keys(room)).await? {
            add_counters(&mut total, &item)?;
            let expiry = Reader(&item).opt_num(TTL_ATTRIBUTE)?;
            if expiry.is_some_and(|t| t < renew_before) {
                // Only while the item exists (an update would otherwise create it).
                let renewed = self
                    .client()
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(
                        item.iter()
                            .filter(|(k, _)| *k == PK || *k == SK)
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    ))
                    .update_expression("SET #ttl = :ttl")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
                    .expression_attribute_values(":ttl", n(expires_at))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(super::conditional);
                super::applied(renewed)?;
            }
        }
        Ok(total)
    }
}
