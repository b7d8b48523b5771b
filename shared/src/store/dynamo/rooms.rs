//! Rooms: the room item read alone, with its counters, in listings and by ids; created and
//! deleted. (Its changes are in [`super::room_writes`].)

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;

use super::accounts::{session_keys, take_session};
use super::change::Change;
use super::codec::{Reader, recording_due_key, room_from_item, room_to_item, time};
use super::schema::{
    DELETED_ROOMS, GSI_PRESENCE, GSI_STATUS, Index, Item, LISTING_INDEXES,
    RECORDINGS_DUE_PARTITION, ROOM_SK, SK, TTL_ATTRIBUTE, call_status_partition, counter_keys,
    listing_index, n, presence_key, presence_partitions, room_key, s, status_partition,
};
use super::{DynamoStore, unavailable};
use crate::domain::audit::AuditEntry;
use crate::domain::outbox::Entry;
use crate::domain::presence::{PRESENCE_SHARDS, shard};
use crate::domain::room::{Counters, Listing, Room, RoomQuery, created_prefix};
use crate::domain::{RoomId, RoomStatus, UserId};
use crate::store::{
    RoomBatchRead, RoomCreate, RoomDelete, RoomList, RoomRead, RoomView, SessionFound, StoreError,
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

    /// The rooms on `gsi4`'s partition of awaited recordings that ended before
    /// `stopped_before` (a room whose recording a racing write made ready just as it ended
    /// may linger there until purged: it is not returned).
    pub(super) async fn rooms_awaiting_recording_in(
        &self,
        stopped_before: DateTime<Utc>,
    ) -> Result<Vec<Room>, StoreError> {
        let before = created_prefix(&stopped_before);
        let rooms = self
            .rooms_in(GSI_PRESENCE, RECORDINGS_DUE_PARTITION, &before)
            .await?;
        Ok(rooms
            .into_iter()
            .filter(|room| recording_due_key(room).is_some())
            .collect())
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

/// The keys of rooms `ids`, each once, as one `BatchGetItem` may read them (at most
/// [`super::BATCH_GET_LIMIT`]).
fn distinct_room_keys(ids: &[RoomId]) -> Result<Vec<Item>, StoreError> {
    let mut keys: Vec<Item> = Vec::with_capacity(ids.len() + 2);
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
    Ok(keys)
}

#[async_trait]
impl RoomBatchRead for DynamoStore {
    async fn rooms_by_id(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError> {
        let keys = distinct_room_keys(ids)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.batch_get(keys)
            .await?
            .iter()
            .map(room_from_item)
            .collect()
    }

    async fn rooms_by_id_in_session(
        &self,
        ids: &[RoomId],
        user: &UserId,
        session: &str,
    ) -> Result<(Vec<Room>, SessionFound), StoreError> {
        let mut keys = distinct_room_keys(ids)?;
        keys.extend(session_keys(user, session));
        let mut items = if keys.len() <= super::BATCH_GET_LIMIT {
            self.batch_get(keys).await?
        } else {
            let rest = keys.split_off(super::BATCH_GET_LIMIT);
            let (mut first, second) = tokio::try_join!(self.batch_get(keys), self.batch_get(rest))?;
            first.extend(second);
            first
        };
        let found = take_session(&mut items, user)?;
        let rooms = items.iter().map(room_from_item).collect::<Result<_, _>>()?;
        Ok((rooms, found))
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
impl RoomDelete for DynamoStore {
    async fn mark_deleted_audited(
        &self,
        id: &RoomId,
        anchor: &UserId,
        now: DateTime<Utc>,
        expires_at: i64,
        events: &[Entry],
        audit: Option<&AuditEntry>,
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
        self.change_reporting_checked(change, Vec::new(), events, audit)
            .await
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
