//! Rooms: the room item, its listings, its metrics snapshot and its deletion.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;

use super::accounts::{session_keys, take_session};
use super::change::Change;
use super::codec::{
    Reader, meeting_json, metrics_attributes, room_from_item, room_listing_keys,
    room_mutable_attributes, room_to_item, time,
};
use super::schema::{
    DELETED_ROOMS, GSI_STATUS, Index, Item, LISTING_INDEXES, ROOM_SK, SK, TTL_ATTRIBUTE,
    call_status_partition, counter_keys, listing_index, n, presence_key, presence_partitions,
    room_key, s, status_partition,
};
use super::{DynamoStore, applied, conditional, unavailable};
use crate::domain::meeting::Meeting;
use crate::domain::outbox::Entry;
use crate::domain::presence::{PRESENCE_SHARDS, shard};
use crate::domain::room::{
    Counters, Expected, Guard, Listing, Mark, MetricsSnapshot, Room, RoomQuery, created_prefix,
};
use crate::domain::{RoomId, RoomStatus, UserId};
use crate::store::{
    ChannelMark, Lapsed, MeetingWrite, MetricsWrite, RoomBatchRead, RoomCreate, RoomDelete,
    RoomList, RoomRead, RoomUpdate, RoomView, SessionFound, StoreError,
};

/// Items read per `Query` page while listing, at most.
const QUERY_PAGE: usize = 1000;
/// Partitions purged at once.
const PURGE_PARALLELISM: usize = 8;

/// Sums counter items into the room's counters.
pub(super) fn add_counters(total: &mut Counters, item: &Item) -> Result<(), StoreError> {
    let r = Reader(item);
    total.pv += r.count("pv")?;
    total.uv += r.count("uv")?;
    total.likes += r.count("likes")?;
    Ok(())
}

impl DynamoStore {
    /// Every room of one partition of an index, oldest first, created before `before`.
    pub(super) async fn rooms_in(
        &self,
        index: Index,
        partition: &str,
        before: &str,
    ) -> Result<Vec<Room>, StoreError> {
        let query = self
            .client()
            .query()
            .table_name(&self.table)
            .index_name(index.name)
            .key_condition_expression("#pk = :pk AND #sk < :before")
            .expression_attribute_names("#pk", index.pk)
            .expression_attribute_names("#sk", index.sk)
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":before", s(before));
        self.query_all(query)
            .await?
            .iter()
            .map(room_from_item)
            .collect()
    }

    pub(super) async fn rooms_with_status_in(
        &self,
        status: RoomStatus,
        created_before: Option<DateTime<Utc>>,
    ) -> Result<Vec<Room>, StoreError> {
        let before = created_before.map_or_else(|| "~".to_owned(), |t| created_prefix(&t));
        // The listed rooms' partition and the calls' (kept apart from listings).
        let mut rooms = self
            .rooms_in(GSI_STATUS, &status_partition(status), &before)
            .await?;
        rooms.extend(
            self.rooms_in(GSI_STATUS, &call_status_partition(status), &before)
                .await?,
        );
        rooms.sort_by_key(Room::created_key);
        Ok(rooms)
    }

    pub(super) async fn deleted_rooms_in(&self) -> Result<Vec<Room>, StoreError> {
        self.rooms_in(GSI_STATUS, DELETED_ROOMS, "~").await
    }
}

#[async_trait]
impl RoomRead for DynamoStore {
    async fn room(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        self.get(room_key(id))
            .await?
            .map(|item| room_from_item(&item))
            .transpose()
    }
}

#[async_trait]
impl RoomView for DynamoStore {
    async fn room_view(&self, id: &RoomId) -> Result<Option<(Room, Counters)>, StoreError> {
        Ok(self
            .view(id, None)
            .await?
            .0
            .map(|(room, counters, _)| (room, counters)))
    }

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
    > {
        self.view(id, Some((viewer, session))).await
    }
}

impl DynamoStore {
    /// The room, its counter shards and `viewer`'s presence item and session, in one
    /// BatchGetItem.
    async fn view(
        &self,
        id: &RoomId,
        viewer: Option<(&UserId, &str)>,
    ) -> Result<
        (
            Option<(Room, Counters, Option<DateTime<Utc>>)>,
            SessionFound,
        ),
        StoreError,
    > {
        let mut keys = vec![room_key(id)];
        keys.extend(counter_keys(id));
        let presence = viewer.map(|(v, _)| presence_key(id, shard(v, PRESENCE_SHARDS), v));
        keys.extend(presence.clone());
        if let Some((v, session)) = viewer {
            keys.extend(session_keys(v, session));
        }
        let mut items = self.batch_get(keys).await?;
        let session = match viewer {
            Some((v, _)) => take_session(&mut items, v)?,
            None => SessionFound::default(),
        };
        let mut room = None;
        let mut counters = Counters::default();
        let mut banned_until = None;
        for item in items {
            let sk = match item.get(SK) {
                Some(aws_sdk_dynamodb::types::AttributeValue::S(sk)) => sk.as_str(),
                _ => "",
            };
            if sk == ROOM_SK {
                room = Some(room_from_item(&item)?);
            } else if presence.as_ref().is_some_and(|p| p.get(SK) == item.get(SK)) {
                banned_until = super::codec::banned_until(&item)?;
            } else {
                add_counters(&mut counters, &item)?;
            }
        }
        Ok((room.map(|r| (r, counters, banned_until)), session))
    }
}

#[async_trait]
impl RoomList for DynamoStore {
    async fn list_rooms(&self, query: &RoomQuery) -> Result<Vec<Room>, StoreError> {
        // One query per listing (two, at once, for "not ended"), each reading only matches:
        // at most offset + size of them, newest first.
        let reads = query
            .listings()
            .into_iter()
            .map(|listing| self.listing_page(listing, query));
        let mut rooms: Vec<Room> = futures_util::future::try_join_all(reads)
            .await?
            .into_iter()
            .flatten()
            .filter(|room| query.matches(room))
            .collect();
        rooms.sort_by_key(|r| std::cmp::Reverse(r.created_key()));
        // A room changing status can be seen in both of its listings for a moment.
        rooms.dedup_by(|a, b| a.id == b.id);
        Ok(rooms
            .into_iter()
            .skip(query.page.offset as usize)
            .take(query.page.size as usize)
            .collect())
    }
}

impl DynamoStore {
    /// The newest `query.depth()` rooms of one listing in the query's creation window: one
    /// `Query` unless they exceed a response's megabyte (then as many as that depth takes,
    /// never more: every item read is a match).
    async fn listing_page(
        &self,
        listing: Listing<'_>,
        query: &RoomQuery,
    ) -> Result<Vec<Room>, StoreError> {
        let index = listing_index(&listing);
        let partition = listing.partition();
        let wanted = query.depth();
        // A creation window bounds the sort key (`{created}#{id}`), so only it is read.
        let from = query.created_from.as_ref().map(created_prefix);
        let before = query.created_before.as_ref().map(created_prefix);
        let (condition, bounds) = match (from, before) {
            (Some(f), Some(b)) => (
                "#pk = :pk AND #sk BETWEEN :from AND :before",
                vec![(":from", f), (":before", b)],
            ),
            (Some(f), None) => ("#pk = :pk AND #sk >= :from", vec![(":from", f)]),
            (None, Some(b)) => ("#pk = :pk AND #sk < :before", vec![(":before", b)]),
            (None, None) => ("#pk = :pk", Vec::new()),
        };
        let mut rooms: Vec<Room> = Vec::with_capacity(wanted.min(QUERY_PAGE));
        let mut start = None;
        while rooms.len() < wanted {
            let mut request = self
                .client()
                .query()
                .table_name(&self.table)
                .index_name(index.name)
                .key_condition_expression(condition)
                .expression_attribute_names("#pk", index.pk)
                .expression_attribute_values(":pk", s(&partition));
            if !bounds.is_empty() {
                request = request.expression_attribute_names("#sk", index.sk);
            }
            for (name, value) in &bounds {
                request = request.expression_attribute_values(*name, s(value));
            }
            let out = request
                .scan_index_forward(false)
                .limit((wanted - rooms.len()).clamp(1, QUERY_PAGE) as i32)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.items.unwrap_or_default() {
                rooms.push(room_from_item(&item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(rooms)
    }
}

#[async_trait]
impl RoomBatchRead for DynamoStore {
    async fn rooms_by_id(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError> {
        let mut keys: Vec<Item> = Vec::with_capacity(ids.len());
        for id in ids {
            let key = room_key(id);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        if keys.len() > super::BATCH_GET_LIMIT {
            return Err(StoreError::Unavailable(format!(
                "a batch read of {} rooms (at most {})",
                keys.len(),
                super::BATCH_GET_LIMIT
            )));
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.batch_get(keys)
            .await?
            .iter()
            .map(room_from_item)
            .collect()
    }
}

#[async_trait]
impl RoomCreate for DynamoStore {
    async fn insert_room(&self, room: &Room, events: &[Entry]) -> Result<(), StoreError> {
        let mut room = room.clone();
        crate::domain::outbox::counted(&mut room, events);
        self.put_reporting(room_to_item(&room), "attribute_not_exists(pk)", events)
            .await
    }
}

#[async_trait]
impl RoomUpdate for DynamoStore {
    async fn update_room(
        &self,
        room: &Room,
        expected: Expected,
        events: &[Entry],
    ) -> Result<(), StoreError> {
        debug_assert_eq!(room.version, expected.version + 1);
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut set = Vec::new();
        for (i, (name, value)) in room_mutable_attributes(room).into_iter().enumerate() {
            names.insert(format!("#a{i}"), name.to_owned());
            values.insert(format!(":a{i}"), value);
            set.push(format!("#a{i} = :a{i}"));
        }
        let mut remove = Vec::new();
        // The room moves to the listings of its (new) status and category.
        for (i, (name, partition)) in room_listing_keys(room).into_iter().enumerate() {
            names.insert(format!("#l{i}"), name.to_owned());
            match partition {
                Some(p) => {
                    values.insert(format!(":l{i}"), p);
                    set.push(format!("#l{i} = :l{i}"));
                }
                None => remove.push(format!("#l{i}")),
            }
        }
        names.insert("#expires_at".to_owned(), TTL_ATTRIBUTE.to_owned());
        match room.expires_at {
            Some(t) => {
                values.insert(":expires_at".to_owned(), n(t));
                set.push("#expires_at = :expires_at".to_owned());
            }
            None => remove.push("#expires_at".to_owned()),
        }
        for (name, value) in [
            ("started_at", &room.started_at),
            ("stopped_at", &room.stopped_at),
        ] {
            names.insert(format!("#{name}"), name.to_owned());
            match value {
                Some(t) => {
                    values.insert(format!(":{name}"), time(t));
                    set.push(format!("#{name} = :{name}"));
                }
                None => remove.push(format!("#{name}")),
            }
        }
        names.insert("#status".to_owned(), "status".to_owned());
        names.insert("#version".to_owned(), "version".to_owned());
        names.insert("#deleted_at".to_owned(), "deleted_at".to_owned());
        values.insert(":expected_status".to_owned(), n(expected.status.as_i64()));
        values.insert(":expected_version".to_owned(), n(expected.version));
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let mut condition = "attribute_exists(pk) AND attribute_not_exists(#deleted_at) \
             AND #status = :expected_status AND #version = :expected_version"
            .to_owned();
        match expected.guard {
            Guard::None => {}
            Guard::AnchorSilentSince(t) => {
                names.insert("#anchor_seen_at".to_owned(), "anchor_seen_at".to_owned());
                values.insert(":silent_since".to_owned(), time(&t));
                condition.push_str(
                    " AND (attribute_not_exists(#anchor_seen_at) OR #anchor_seen_at < :silent_since)",
                );
            }
            Guard::NeverEntered => {
                names.insert("#anchor_seen_at".to_owned(), "anchor_seen_at".to_owned());
                names.insert("#shards".to_owned(), "m_shards".to_owned());
                condition.push_str(
                    " AND attribute_not_exists(#anchor_seen_at) AND attribute_not_exists(#shards) AND attribute_not_exists(#started_at)",
                );
            }
        }
        let change = Change {
            names,
            values,
            ..Change::new(room_key(&room.id), update).condition(condition)
        };
        self.change_reporting(change, events).await
    }
}

#[async_trait]
impl MeetingWrite for DynamoStore {
    async fn replace_seats(
        &self,
        id: &RoomId,
        meeting: &Meeting,
        expected: u64,
        lapsed: &[Lapsed],
        events: &[Entry],
    ) -> Result<(), StoreError> {
        debug_assert_eq!(meeting.version, expected + 1);
        let change = Change::new(room_key(id), "SET #meeting = :meeting, #mv = :next")
            .condition(
                "attribute_exists(pk) AND attribute_not_exists(deleted_at) \
                 AND #status <> :ended AND #mv = :expected",
            )
            .name("#meeting", "meeting")
            .name("#mv", "meeting_version")
            .name("#status", "status")
            .value(":meeting", s(meeting_json(meeting)))
            .value(":next", n(meeting.version))
            .value(":expected", n(expected))
            .value(":ended", n(RoomStatus::Ended.as_i64()));
        // Each holder's presence item still says silent (a renewal since fails the write).
        let checks = lapsed
            .iter()
            .map(|l| {
                Change::check(
                    presence_key(id, shard(&l.user, PRESENCE_SHARDS), &l.user),
                    "attribute_not_exists(#last_seen) OR #last_seen < :before",
                )
                .name("#last_seen", "last_seen")
                .value(":before", time(&l.before))
            })
            .collect();
        self.change_reporting_checked(change, checks, events).await
    }
}

#[async_trait]
impl ChannelMark for DynamoStore {
    async fn mark_room(&self, id: &RoomId, mark: Mark) -> Result<bool, StoreError> {
        let request = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(room_key(id)));
        let request = match mark {
            Mark::ChannelStarted { at } => request
                .update_expression("SET channel_started_at = :at")
                .condition_expression(
                    "attribute_exists(pk) AND attribute_not_exists(deleted_at) \
                     AND attribute_not_exists(channel_started_at)",
                )
                .expression_attribute_values(":at", time(&at)),
            Mark::ChannelEmpty { at } => request
                .update_expression("REMOVE channel_started_at")
                .condition_expression("attribute_exists(pk) AND channel_started_at < :at")
                .expression_attribute_values(":at", time(&at)),
        };
        applied(request.send().await.map(|_| ()).map_err(conditional))
    }
}

#[async_trait]
impl MetricsWrite for DynamoStore {
    async fn claim_metrics(
        &self,
        id: &RoomId,
        seen: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let request = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(room_key(id)))
            .update_expression("SET m_lease = :until")
            .expression_attribute_values(":until", time(&until))
            .expression_attribute_values(":now", time(&now));
        let unclaimed = "(attribute_not_exists(m_lease) OR m_lease < :now)";
        let request = match seen {
            Some(at) => request
                .condition_expression(format!(
                    "attribute_exists(pk) AND m_at = :seen AND {unclaimed}"
                ))
                .expression_attribute_values(":seen", time(&at)),
            None => request.condition_expression(format!(
                "attribute_exists(pk) AND attribute_not_exists(m_at) AND {unclaimed}"
            )),
        };
        applied(request.send().await.map(|_| ()).map_err(conditional))
    }

    async fn save_metrics(
        &self,
        id: &RoomId,
        snapshot: &MetricsSnapshot,
    ) -> Result<bool, StoreError> {
        let Some(at) = snapshot.at else {
            return Ok(false);
        };
        let fresh = MetricsSnapshot {
            refreshing_until: None,
            ..*snapshot
        };
        let mut names = HashMap::new();
        let mut values = HashMap::from([(":at".to_owned(), time(&at))]);
        let mut set = Vec::new();
        for (name, value) in metrics_attributes(&fresh) {
            names.insert(format!("#{name}"), name.to_owned());
            values.insert(format!(":{name}"), value);
            set.push(format!("#{name} = :{name}"));
        }
        names.insert("#lease".to_owned(), "m_lease".to_owned());
        let request = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(room_key(id)))
            .update_expression(format!("SET {} REMOVE #lease", set.join(", ")))
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(#m_at) OR #m_at <= :at)",
            )
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values));
        applied(request.send().await.map(|_| ()).map_err(conditional))
    }
}

#[async_trait]
impl RoomDelete for DynamoStore {
    async fn mark_deleted(
        &self,
        id: &RoomId,
        anchor: &UserId,
        now: DateTime<Utc>,
        expires_at: i64,
        events: &[Entry],
    ) -> Result<(), StoreError> {
        // Off the lists at once (the listing indexes are sparse), onto the sweeper's list of
        // deletions to finish.
        let off: Vec<String> = (0..LISTING_INDEXES.len())
            .map(|i| format!("#l{i}"))
            .collect();
        let mut change = Change::new(
            room_key(id),
            format!(
                "SET deleted_at = :now, #ttl = :ttl, #status_pk = :deleted REMOVE {}",
                off.join(", ")
            ),
        )
        .condition(
            "attribute_exists(pk) AND attribute_not_exists(deleted_at) AND anchor_id = :anchor",
        )
        .name("#ttl", TTL_ATTRIBUTE)
        .name("#status_pk", GSI_STATUS.pk);
        for (placeholder, index) in off.iter().zip(LISTING_INDEXES) {
            change = change.name(placeholder, index.pk);
        }
        let change = change
            .value(":now", time(&now))
            .value(":ttl", n(expires_at))
            .value(":deleted", s(DELETED_ROOMS))
            .value(":anchor", s(anchor.as_str()));
        self.change_reporting(change, events).await
    }

    async fn purge_room(&self, id: &RoomId) -> Result<(), StoreError> {
        // Everything under the room first, the room item last: while it exists, the sweeper
        // finds the room again and finishes what a failure left.
        let results: Vec<Result<(), StoreError>> =
            futures_util::stream::iter(presence_partitions(id))
                .map(|pk| async move { self.delete_partition(&pk).await })
                .buffer_unordered(PURGE_PARALLELISM)
                .collect()
                .await;
        results.into_iter().collect::<Result<(), _>>()?;
        self.batch_delete(counter_keys(id)).await?;
        self.batch_delete(vec![room_key(id)]).await
    }
}
