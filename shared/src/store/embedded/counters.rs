//! Counters (pv, uv, likes: one record per room here, no shards) and the sweeper's view of
//! the rooms: by status, the deleted ones, stale members taken off the online list.
//!
//! Never here: when a room expires or is ended (that is the sweeper's feature).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redb::{ReadableTable, WriteTransaction};

use super::presence::{shard_prefix, unlist};
use super::rooms::read_room;
use super::{
    COUNTERS, EmbeddedStore, PRESENCE_BY_ACTIVITY, ROOMS, ROOMS_BY_CREATED, encode, end_of, record,
};
use crate::domain::presence::{PRESENCE_SHARDS, millis, online_floor};
use crate::domain::room::{Counters, Room, created_prefix};
use crate::domain::{RoomId, RoomStatus, UserId};
use crate::store::{CounterWrite, RoomSweep, StoreError, SweptPresence};

pub(super) fn read_counters(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    id: &str,
) -> Result<Counters, StoreError> {
    Ok(record(table, id)?.unwrap_or_default())
}

pub(super) fn write_counters(
    txn: &WriteTransaction,
    room: &str,
    change: impl FnOnce(&mut Counters),
) -> Result<(), StoreError> {
    let mut counters = txn.open_table(COUNTERS)?;
    let mut c = read_counters(&counters, room)?;
    change(&mut c);
    counters.insert(room, encode(&c)?.as_slice())?;
    Ok(())
}

#[async_trait]
impl CounterWrite for EmbeddedStore {
    async fn add_likes(
        &self,
        room: &RoomId,
        _user: &UserId,
        count: u64,
        _expires_at: i64,
    ) -> Result<(), StoreError> {
        let room = room.clone();
        self.write(move |txn| write_counters(txn, room.as_str(), |c| c.likes += count))
            .await
    }
}

#[async_trait]
impl RoomSweep for EmbeddedStore {
    async fn rooms_with_status(
        &self,
        status: RoomStatus,
        created_before: Option<DateTime<Utc>>,
    ) -> Result<Vec<Room>, StoreError> {
        let end = created_before.map_or_else(|| "~".to_owned(), |t| created_prefix(&t));
        self.rooms_where(end, move |room| !room.is_deleted() && room.status == status)
            .await
    }

    async fn deleted_rooms(&self) -> Result<Vec<Room>, StoreError> {
        self.rooms_where("~".to_owned(), Room::is_deleted).await
    }

    async fn rooms_awaiting_recording(
        &self,
        stopped_before: DateTime<Utc>,
    ) -> Result<Vec<Room>, StoreError> {
        use crate::domain::recording::VodStatus;
        let mut rooms = self
            .rooms_where("~".to_owned(), move |room| {
                !room.is_deleted()
                    && room.status == RoomStatus::Ended
                    && room
                        .recording
                        .as_ref()
                        .is_some_and(|r| r.status == VodStatus::Preparing)
                    && room.stopped_at.is_some_and(|t| t < stopped_before)
            })
            .await?;
        rooms.sort_by_key(|room| (room.stopped_at, room.id.to_string()));
        Ok(rooms)
    }

    async fn sweep_presence(
        &self,
        room: &RoomId,
        stale_before: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> Result<SweptPresence, StoreError> {
        let room = room.clone();
        self.write(move |txn| {
            let stale_key = millis(stale_before);
            let floor = online_floor(since);
            let mut swept = SweptPresence::default();
            let mut stale = Vec::new();
            {
                let by_activity = txn.open_table(PRESENCE_BY_ACTIVITY)?;
                for k in 0..PRESENCE_SHARDS {
                    let prefix = shard_prefix(room.as_str(), k);
                    for entry in by_activity.range(prefix.as_str()..end_of(&prefix).as_str())? {
                        let (key, user) = entry?;
                        let activity = &key.value()[prefix.len()..];
                        if activity >= floor.as_str() {
                            swept.online += 1;
                        }
                        if activity < stale_key.as_str() {
                            stale.push(user.value().to_owned());
                        }
                    }
                }
            }
            for user in stale {
                let user =
                    UserId::parse("user", &user).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                swept.removed += u64::from(unlist(txn, &room, &user, Some(stale_before))?);
            }
            Ok(swept)
        })
        .await
    }

    async fn sweep_counters(
        &self,
        room: &RoomId,
        _renew_before: i64,
        _expires_at: i64,
    ) -> Result<Counters, StoreError> {
        // No TTL here: the sweeper's purge is the only expiry.
        let room = room.clone();
        self.read(move |txn| {
            let counters = txn.open_table(COUNTERS)?;
            read_counters(&counters, room.as_str())
        })
        .await
    }
}

impl EmbeddedStore {
    /// Rooms created before `end` (a created-key prefix) that pass `keep`, oldest first.
    async fn rooms_where(
        &self,
        end: String,
        keep: impl Fn(&Room) -> bool + Send + 'static,
    ) -> Result<Vec<Room>, StoreError> {
        self.read(move |txn| {
            let rooms = txn.open_table(ROOMS)?;
            let by_created = txn.open_table(ROOMS_BY_CREATED)?;
            let mut out = Vec::new();
            for entry in by_created.range(..end.as_str())? {
                let (_, id) = entry?;
                if let Some(room) = read_room(&rooms, id.value())?
                    && keep(&room)
                {
                    out.push(room);
                }
            }
            Ok(out)
        })
        .await
    }
}
