//! Presence: one item per member and room, on one of 32 shards, listed on `gsi4` while online.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::Select;
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;

use super::change::Change;
use super::codec::{presence_from_item, shard_name, time};
use super::schema::{
    BANNED_UNTIL, GSI_PRESENCE, TTL_ATTRIBUTE, counter_key, n, presence_key, presence_pk, room_key,
    s,
};
use super::{DynamoStore, applied, conditional, unavailable};
use crate::domain::presence::{
    COUNTER_SHARDS, MembersPage, PRESENCE_SHARDS, Visit, activity_key, millis, online_floor, shard,
};
use crate::domain::{RoomId, UserId};
use crate::store::{PresenceRead, PresenceWrite, StoreError, SweptPresence, Touch};

/// The condition of every presence touch: not banned, or the ban is over.
const NOT_BANNED: &str = "attribute_not_exists(#ban) OR #ban <= :now_ms";
/// ...and of a join counted as a first visit.
const FIRST_VISIT_NOT_BANNED: &str =
    "attribute_not_exists(visits) AND (attribute_not_exists(#ban) OR #ban <= :now_ms)";

/// Shards read at once by a count or a sweep.
const SHARD_PARALLELISM: usize = 8;

impl DynamoStore {
    /// A `Query` on one presence shard of `gsi4` with `condition` on its sort key (`#sk`, with
    /// the placeholders the caller binds).
    fn presence_query(&self, room: &RoomId, shard: u32, condition: &str) -> QueryFluentBuilder {
        self.client()
            .query()
            .table_name(&self.table)
            .index_name(GSI_PRESENCE.name)
            .key_condition_expression(format!("#pk = :pk AND {condition}"))
            .expression_attribute_names("#pk", GSI_PRESENCE.pk)
            .expression_attribute_names("#sk", GSI_PRESENCE.sk)
            .expression_attribute_values(":pk", s(presence_pk(room, shard)))
    }

    /// The presence update of a touch: seen now, listed online, kept until the expiry; a
    /// join also counts the visit (a first visit only if there was none).
    fn presence_update(&self, touch: &Touch<'_>, visit: Option<Visit>) -> Change {
        let k = shard(touch.user, PRESENCE_SHARDS);
        let mut w = Change::new(
            presence_key(touch.room, k, touch.user),
            "SET user_id = :user, last_seen = :now, joined_at = if_not_exists(joined_at, :now), \
             #gpk = :gpk, #gsk = :activity, #ttl = :ttl",
        )
        .name("#gpk", GSI_PRESENCE.pk)
        .name("#gsk", GSI_PRESENCE.sk)
        .name("#ttl", TTL_ATTRIBUTE)
        .value(":user", s(touch.user.as_str()))
        .value(":now", time(&touch.now))
        .value(":gpk", s(presence_pk(touch.room, k)))
        .value(":activity", s(activity_key(touch.now, touch.user)))
        .value(":ttl", n(touch.expires_at))
        // A member the anchor banned stays out until the ban ends.
        .name("#ban", BANNED_UNTIL)
        .value(":now_ms", n(touch.now.timestamp_millis()));
        w = w.condition(NOT_BANNED);
        if let Some(visit) = visit {
            w.update.push_str(" ADD visits :one");
            w = w.value(":one", n(1));
            if visit == Visit::First {
                w = w.condition(FIRST_VISIT_NOT_BANNED);
            }
        }
        w
    }

    /// The visit counted on the user's counter shard.
    fn visit_count(touch: &Touch<'_>, visit: Visit) -> Change {
        let counts = match visit {
            Visit::First => "ADD pv :one, uv :one",
            Visit::Again => "ADD pv :one",
        };
        Change::new(
            counter_key(touch.room, shard(touch.user, COUNTER_SHARDS)),
            format!("SET #ttl = :ttl {counts}"),
        )
        .name("#ttl", TTL_ATTRIBUTE)
        .value(":ttl", n(touch.expires_at))
        .value(":one", n(1))
    }

    /// What a touch writes on the room item, in the same transaction as the presence: the
    /// anchor's keepalive, and the user's shard among the used ones. Only while the room
    /// exists and is not deleted (so a join cannot outlive a delete).
    fn room_marks(touch: &Touch<'_>) -> Option<Change> {
        let mut set = Vec::new();
        let mut w = Change::new(room_key(touch.room), "");
        if touch.anchor {
            set.push("SET anchor_seen_at = :now");
            w = w.value(":now", time(&touch.now));
        }
        if touch.record_shard {
            set.push("ADD m_shards :shard");
            w = w.value(
                ":shard",
                aws_sdk_dynamodb::types::AttributeValue::Ss(vec![shard_name(shard(
                    touch.user,
                    PRESENCE_SHARDS,
                ))]),
            );
        }
        if set.is_empty() {
            return None;
        }
        w.update = set.join(" ");
        Some(w.condition("attribute_exists(pk) AND attribute_not_exists(deleted_at)"))
    }

    /// The presence update, the visit counted and the anchor's mark: one `UpdateItem` when
    /// it is only the first, else one transaction.
    async fn touch(&self, touch: &Touch<'_>, visit: Option<Visit>) -> Result<(), StoreError> {
        let mut writes = vec![self.presence_update(touch, visit)];
        if let Some(visit) = visit {
            writes.push(Self::visit_count(touch, visit));
        }
        writes.extend(Self::room_marks(touch));
        self.write(writes, Vec::new()).await
    }
}

#[async_trait]
impl PresenceWrite for DynamoStore {
    async fn join(&self, touch: Touch<'_>) -> Result<Visit, StoreError> {
        // Most joins are first visits: try that, and count a return if the user was here.
        match self.touch(&touch, Some(Visit::First)).await {
            Ok(()) => Ok(Visit::First),
            Err(StoreError::Conflict) => {
                self.touch(&touch, Some(Visit::Again)).await?;
                Ok(Visit::Again)
            }
            Err(e) => Err(e),
        }
    }

    async fn keepalive(&self, touch: Touch<'_>) -> Result<(), StoreError> {
        self.touch(&touch, None).await
    }

    async fn leave(&self, room: &RoomId, user: &UserId) -> Result<(), StoreError> {
        let k = shard(user, PRESENCE_SHARDS);
        let left = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(presence_key(room, k, user)))
            .update_expression("REMOVE #gpk, #gsk, joined_at")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#gpk", GSI_PRESENCE.pk)
            .expression_attribute_names("#gsk", GSI_PRESENCE.sk)
            .send()
            .await
            .map(|_| ())
            .map_err(conditional);
        applied(left).map(|_| ())
    }
}

#[async_trait]
impl PresenceRead for DynamoStore {
    async fn members_page(
        &self,
        room: &RoomId,
        shard: u32,
        since: DateTime<Utc>,
        limit: u32,
        before: Option<&str>,
    ) -> Result<MembersPage, StoreError> {
        let out = self
            .presence_query(room, shard, "#sk BETWEEN :low AND :high")
            .expression_attribute_values(":low", s(online_floor(since)))
            .expression_attribute_values(":high", s(before.unwrap_or("~")))
            .scan_index_forward(false)
            // The cursor item itself may come back (BETWEEN is inclusive), and one more tells
            // whether the shard has more.
            .limit(limit as i32 + 2)
            .send()
            .await
            .map_err(unavailable)?;
        let mut members = Vec::new();
        for item in out.items.unwrap_or_default() {
            let p = presence_from_item(&item)?;
            if before.is_none_or(|b| p.activity_key().as_str() < b) {
                members.push(p);
            }
        }
        let more_in_shard = members.len() > limit as usize || out.last_evaluated_key.is_some();
        members.truncate(limit as usize);
        Ok(MembersPage {
            members,
            more_in_shard,
        })
    }

    async fn count_online(&self, room: &RoomId, since: DateTime<Utc>) -> Result<u64, StoreError> {
        let floor = online_floor(since);
        let counts: Vec<Result<u64, StoreError>> = futures_util::stream::iter(0..PRESENCE_SHARDS)
            .map(|k| {
                let floor = floor.clone();
                async move {
                    let mut total = 0u64;
                    let mut start = None;
                    loop {
                        let out = self
                            .presence_query(room, k, "#sk >= :low")
                            .expression_attribute_values(":low", s(&floor))
                            .select(Select::Count)
                            .set_exclusive_start_key(start)
                            .send()
                            .await
                            .map_err(unavailable)?;
                        total += u64::try_from(out.count).unwrap_or(0);
                        start = out.last_evaluated_key;
                        if start.is_none() {
                            return Ok(total);
                        }
                    }
                }
            })
            .buffer_unordered(PRESENCE_SHARDS as usize)
            .collect()
            .await;
        counts.into_iter().sum()
    }
}

impl DynamoStore {
    /// One shard of a presence sweep: every listed member, the stale ones unlisted.
    async fn sweep_shard(
        &self,
        room: &RoomId,
        k: u32,
        stale_before: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> Result<SweptPresence, StoreError> {
        let stale_key = millis(stale_before);
        let floor = online_floor(since);
        let mut swept = SweptPresence::default();
        let mut start = None;
        loop {
            let out = self
                .presence_query(room, k, "#sk >= :zero")
                .expression_attribute_values(":zero", s("0"))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.items.unwrap_or_default() {
                let p = presence_from_item(&item)?;
                let key = p.activity_key();
                if key >= floor {
                    swept.online += 1;
                }
                if key < stale_key {
                    // Only if still that stale: a keepalive since the query wins.
                    let removed = self
                        .client()
                        .update_item()
                        .table_name(&self.table)
                        .set_key(Some(presence_key(room, k, &p.user_id)))
                        .update_expression("REMOVE #gpk, #gsk, joined_at")
                        .condition_expression("last_seen < :before")
                        .expression_attribute_names("#gpk", GSI_PRESENCE.pk)
                        .expression_attribute_names("#gsk", GSI_PRESENCE.sk)
                        .expression_attribute_values(":before", time(&stale_before))
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(conditional);
                    if applied(removed)? {
                        swept.removed += 1;
                    }
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(swept);
            }
        }
    }

    pub(super) async fn sweep_presence_in(
        &self,
        room: &RoomId,
        stale_before: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> Result<SweptPresence, StoreError> {
        let shards: Vec<Result<SweptPresence, StoreError>> =
            futures_util::stream::iter(0..PRESENCE_SHARDS)
                .map(|k| self.sweep_shard(room, k, stale_before, since))
                .buffer_unordered(SHARD_PARALLELISM)
                .collect()
                .await;
        let mut total = SweptPresence::default();
        for s in shards {
            let s = s?;
            total.removed += s.removed;
            total.online += s.online;
        }
        Ok(total)
    }
}
