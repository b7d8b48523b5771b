//! The embedded store: one redb file, for the local server and tests.
//!
//! redb gives ACID transactions with a single writer, so each trait method is one write
//! transaction and every condition is checked inside it: the same guarantees the DynamoDB store
//! gets from condition expressions. redb is synchronous, so every call runs on tokio's blocking
//! pool. Records are JSON; the key layout mirrors the DynamoDB table (see `dynamo.rs`):
//!
//! | table               | key                        | value          |
//! |---------------------|----------------------------|----------------|
//! | `users`             | user id                    | `User` JSON    |
//! | `usernames`         | lowercased username        | user id        |
//! | `rooms`             | room id                    | `Room` JSON    |
//! | `rooms_by_created`  | `{created_key}`            | room id        |
//! | `presence`          | `{room}|{user}`            | `Presence`     |
//! | `presence_by_activity` | `{room}|{activity_key}` | user id        |
//! | `visitors`          | `{room}|{user}`            | ()             |
//! | `counters`          | room id                    | `Counters`     |

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use chrono::{DateTime, Utc};

use super::{Counters, Expected, Mark, Presence, Room, RoomQuery, Store, StoreError, User};
use crate::domain::{RoomId, RoomStatus, UserId, Username};
use crate::meeting::Meeting;

const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
const USERNAMES: TableDefinition<&str, &str> = TableDefinition::new("usernames");
const ROOMS: TableDefinition<&str, &[u8]> = TableDefinition::new("rooms");
const ROOMS_BY_CREATED: TableDefinition<&str, &str> = TableDefinition::new("rooms_by_created");
const PRESENCE: TableDefinition<&str, &[u8]> = TableDefinition::new("presence");
const PRESENCE_BY_ACTIVITY: TableDefinition<&str, &str> =
    TableDefinition::new("presence_by_activity");
const VISITORS: TableDefinition<&str, ()> = TableDefinition::new("visitors");
const COUNTERS: TableDefinition<&str, &[u8]> = TableDefinition::new("counters");

/// `{room}|{rest}`: room ids are fixed-width UUIDs, so a room's keys form one range.
fn key(room: &str, rest: &str) -> String {
    format!("{room}|{rest}")
}

/// The upper end of a room's key range.
fn room_end(room: &str) -> String {
    format!("{room}|~")
}

/// The file-backed store. Cheap to clone; all clones share one open database.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
}

fn unavailable(err: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(err.to_string())
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl EmbeddedStore {
    /// Opens (or creates) the database file at `path` and its tables.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(unavailable)?;
        let txn = db.begin_write().map_err(unavailable)?;
        {
            txn.open_table(USERS).map_err(unavailable)?;
            txn.open_table(USERNAMES).map_err(unavailable)?;
            txn.open_table(ROOMS).map_err(unavailable)?;
            txn.open_table(ROOMS_BY_CREATED).map_err(unavailable)?;
            txn.open_table(PRESENCE).map_err(unavailable)?;
            txn.open_table(PRESENCE_BY_ACTIVITY).map_err(unavailable)?;
            txn.open_table(VISITORS).map_err(unavailable)?;
            txn.open_table(COUNTERS).map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)?;
        Ok(Self { db: Arc::new(db) })
    }

    /// Runs `f` on the blocking pool with the database.
    async fn blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(unavailable)?
    }
}

fn read_room(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    id: &str,
) -> Result<Option<Room>, StoreError> {
    match table.get(id).map_err(unavailable)? {
        Some(bytes) => decode(bytes.value()).map(Some),
        None => Ok(None),
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        let user = user.clone();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut names = txn.open_table(USERNAMES).map_err(unavailable)?;
                let key = user.username.key();
                if names.get(key.as_str()).map_err(unavailable)?.is_some() {
                    return Err(StoreError::Conflict);
                }
                let mut users = txn.open_table(USERS).map_err(unavailable)?;
                if users.get(user.id.as_str()).map_err(unavailable)?.is_some() {
                    return Err(StoreError::Conflict);
                }
                names
                    .insert(key.as_str(), user.id.as_str())
                    .map_err(unavailable)?;
                users
                    .insert(user.id.as_str(), encode(&user)?.as_slice())
                    .map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let key = username.key();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let names = txn.open_table(USERNAMES).map_err(unavailable)?;
            let Some(id) = names.get(key.as_str()).map_err(unavailable)? else {
                return Ok(None);
            };
            let users = txn.open_table(USERS).map_err(unavailable)?;
            match users.get(id.value()).map_err(unavailable)? {
                Some(bytes) => decode(bytes.value()).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let id = id.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let users = txn.open_table(USERS).map_err(unavailable)?;
            match users.get(id.as_str()).map_err(unavailable)? {
                Some(bytes) => decode(bytes.value()).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    async fn insert_room(&self, room: &Room) -> Result<(), StoreError> {
        let room = room.clone();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut rooms = txn.open_table(ROOMS).map_err(unavailable)?;
                if rooms.get(room.id.as_str()).map_err(unavailable)?.is_some() {
                    return Err(StoreError::Conflict);
                }
                rooms
                    .insert(room.id.as_str(), encode(&room)?.as_slice())
                    .map_err(unavailable)?;
                let mut by_created = txn.open_table(ROOMS_BY_CREATED).map_err(unavailable)?;
                by_created
                    .insert(room.created_key().as_str(), room.id.as_str())
                    .map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn room(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        let id = id.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let rooms = txn.open_table(ROOMS).map_err(unavailable)?;
            read_room(&rooms, id.as_str())
        })
        .await
    }

    async fn list_rooms(&self, query: &RoomQuery) -> Result<Vec<Room>, StoreError> {
        let query = query.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let rooms = txn.open_table(ROOMS).map_err(unavailable)?;
            let by_created = txn.open_table(ROOMS_BY_CREATED).map_err(unavailable)?;
            let mut skipped = 0;
            let mut page = Vec::with_capacity(query.page.size as usize);
            for entry in by_created.iter().map_err(unavailable)?.rev() {
                let (_, id) = entry.map_err(unavailable)?;
                let Some(room) = read_room(&rooms, id.value())? else {
                    continue;
                };
                if !query.matches(&room) {
                    continue;
                }
                if skipped < query.page.offset {
                    skipped += 1;
                    continue;
                }
                page.push(room);
                if page.len() == query.page.size as usize {
                    break;
                }
            }
            Ok(page)
        })
        .await
    }

    async fn update_room(&self, room: &Room, expected: Expected) -> Result<(), StoreError> {
        debug_assert_eq!(room.version, expected.version + 1);
        let room = room.clone();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut rooms = txn.open_table(ROOMS).map_err(unavailable)?;
                let Some(current) = read_room(&rooms, room.id.as_str())? else {
                    return Err(StoreError::Conflict);
                };
                if current.status != expected.status
                    || current.version != expected.version
                    || !expected.guard.holds(&current)
                {
                    return Err(StoreError::Conflict);
                }
                // Only the mutable fields change: identity, anchor, creation time, the meeting
                // list and the liveness marks (which have their own writers) stay.
                let next = Room {
                    id: current.id,
                    anchor_id: current.anchor_id,
                    created_at: current.created_at,
                    meeting: current.meeting,
                    anchor_seen_at: current.anchor_seen_at,
                    channel_started_at: current.channel_started_at,
                    ..room
                };
                rooms
                    .insert(next.id.as_str(), encode(&next)?.as_slice())
                    .map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn update_meeting(
        &self,
        id: &RoomId,
        meeting: &Meeting,
        expected: u64,
    ) -> Result<(), StoreError> {
        debug_assert_eq!(meeting.version, expected + 1);
        let (id, meeting) = (id.clone(), meeting.clone());
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut rooms = txn.open_table(ROOMS).map_err(unavailable)?;
                let Some(mut current) = read_room(&rooms, id.as_str())? else {
                    return Err(StoreError::Conflict);
                };
                if current.status == RoomStatus::Ended || current.meeting.version != expected {
                    return Err(StoreError::Conflict);
                }
                current.meeting = meeting;
                rooms
                    .insert(id.as_str(), encode(&current)?.as_slice())
                    .map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn mark_room(&self, id: &RoomId, mark: Mark) -> Result<bool, StoreError> {
        let id = id.clone();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            let applied = {
                let mut rooms = txn.open_table(ROOMS).map_err(unavailable)?;
                let Some(mut current) = read_room(&rooms, id.as_str())? else {
                    return Ok(false);
                };
                let applied = match mark {
                    Mark::AnchorSeen(at) => {
                        current.anchor_seen_at = Some(at);
                        true
                    }
                    Mark::ChannelStarted { at, unless_after } => {
                        let fresh = current.channel_started_at.is_none_or(|t| t < unless_after);
                        if fresh {
                            current.channel_started_at = Some(at);
                        }
                        fresh
                    }
                };
                if applied {
                    rooms
                        .insert(id.as_str(), encode(&current)?.as_slice())
                        .map_err(unavailable)?;
                }
                applied
            };
            txn.commit().map_err(unavailable)?;
            Ok(applied)
        })
        .await
    }

    async fn touch_presence(
        &self,
        room: &RoomId,
        user: &UserId,
        now: DateTime<Utc>,
        count_visit: bool,
    ) -> Result<(), StoreError> {
        let (room, user) = (room.clone(), user.clone());
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut presence = txn.open_table(PRESENCE).map_err(unavailable)?;
                let mut by_activity = txn.open_table(PRESENCE_BY_ACTIVITY).map_err(unavailable)?;
                let k = key(room.as_str(), user.as_str());
                let previous: Option<Presence> =
                    match presence.get(k.as_str()).map_err(unavailable)? {
                        Some(bytes) => Some(decode(bytes.value())?),
                        None => None,
                    };
                if let Some(p) = &previous {
                    by_activity
                        .remove(key(room.as_str(), &p.activity_key()).as_str())
                        .map_err(unavailable)?;
                }
                let next = Presence {
                    user_id: user.clone(),
                    joined_at: previous.map_or(now, |p| p.joined_at),
                    last_seen: now,
                };
                presence
                    .insert(k.as_str(), encode(&next)?.as_slice())
                    .map_err(unavailable)?;
                by_activity
                    .insert(
                        key(room.as_str(), &next.activity_key()).as_str(),
                        user.as_str(),
                    )
                    .map_err(unavailable)?;
                if count_visit {
                    let mut visitors = txn.open_table(VISITORS).map_err(unavailable)?;
                    let first = visitors
                        .insert(k.as_str(), ())
                        .map_err(unavailable)?
                        .is_none();
                    let mut counters = txn.open_table(COUNTERS).map_err(unavailable)?;
                    let mut c: Counters = match counters.get(room.as_str()).map_err(unavailable)? {
                        Some(bytes) => decode(bytes.value())?,
                        None => Counters::default(),
                    };
                    c.pv += 1;
                    c.uv += u64::from(first);
                    counters
                        .insert(room.as_str(), encode(&c)?.as_slice())
                        .map_err(unavailable)?;
                }
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn remove_presence(&self, room: &RoomId, user: &UserId) -> Result<(), StoreError> {
        let (room, user) = (room.clone(), user.clone());
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut presence = txn.open_table(PRESENCE).map_err(unavailable)?;
                let removed = presence
                    .remove(key(room.as_str(), user.as_str()).as_str())
                    .map_err(unavailable)?
                    .map(|bytes| decode::<Presence>(bytes.value()))
                    .transpose()?;
                if let Some(p) = removed {
                    txn.open_table(PRESENCE_BY_ACTIVITY)
                        .map_err(unavailable)?
                        .remove(key(room.as_str(), &p.activity_key()).as_str())
                        .map_err(unavailable)?;
                }
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn online_members(
        &self,
        room: &RoomId,
        since: DateTime<Utc>,
        limit: u32,
        before: Option<&str>,
    ) -> Result<Vec<Presence>, StoreError> {
        let room = room.clone();
        let low = key(
            room.as_str(),
            &format!("{:013}", since.timestamp_millis() + 1),
        );
        let high = match before {
            Some(b) => key(room.as_str(), b),
            None => room_end(room.as_str()),
        };
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let by_activity = txn.open_table(PRESENCE_BY_ACTIVITY).map_err(unavailable)?;
            let presence = txn.open_table(PRESENCE).map_err(unavailable)?;
            let mut out = Vec::new();
            for entry in by_activity
                .range(low.as_str()..high.as_str())
                .map_err(unavailable)?
                .rev()
            {
                if out.len() == limit as usize {
                    break;
                }
                let (_, user) = entry.map_err(unavailable)?;
                if let Some(bytes) = presence
                    .get(key(room.as_str(), user.value()).as_str())
                    .map_err(unavailable)?
                {
                    out.push(decode(bytes.value())?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn online_count(&self, room: &RoomId, since: DateTime<Utc>) -> Result<u64, StoreError> {
        let room = room.clone();
        let low = key(
            room.as_str(),
            &format!("{:013}", since.timestamp_millis() + 1),
        );
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let by_activity = txn.open_table(PRESENCE_BY_ACTIVITY).map_err(unavailable)?;
            let high = room_end(room.as_str());
            let mut n = 0;
            for entry in by_activity
                .range(low.as_str()..high.as_str())
                .map_err(unavailable)?
            {
                entry.map_err(unavailable)?;
                n += 1;
            }
            Ok(n)
        })
        .await
    }

    async fn remove_stale_presence(
        &self,
        room: &RoomId,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let room = room.clone();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            let removed = {
                let mut by_activity = txn.open_table(PRESENCE_BY_ACTIVITY).map_err(unavailable)?;
                let mut presence = txn.open_table(PRESENCE).map_err(unavailable)?;
                let low = key(room.as_str(), "");
                let high = key(room.as_str(), &format!("{:013}", before.timestamp_millis()));
                let mut stale = Vec::new();
                for entry in by_activity
                    .range(low.as_str()..high.as_str())
                    .map_err(unavailable)?
                {
                    let (k, user) = entry.map_err(unavailable)?;
                    stale.push((k.value().to_owned(), user.value().to_owned()));
                }
                for (k, user) in &stale {
                    by_activity.remove(k.as_str()).map_err(unavailable)?;
                    presence
                        .remove(key(room.as_str(), user).as_str())
                        .map_err(unavailable)?;
                }
                stale.len() as u64
            };
            txn.commit().map_err(unavailable)?;
            Ok(removed)
        })
        .await
    }

    async fn counters(&self, room: &RoomId) -> Result<Counters, StoreError> {
        let room = room.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let counters = txn.open_table(COUNTERS).map_err(unavailable)?;
            match counters.get(room.as_str()).map_err(unavailable)? {
                Some(bytes) => decode(bytes.value()),
                None => Ok(Counters::default()),
            }
        })
        .await
    }

    async fn add_likes(&self, room: &RoomId, _user: &UserId, count: u64) -> Result<(), StoreError> {
        let room = room.clone();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut counters = txn.open_table(COUNTERS).map_err(unavailable)?;
                let mut c: Counters = match counters.get(room.as_str()).map_err(unavailable)? {
                    Some(bytes) => decode(bytes.value())?,
                    None => Counters::default(),
                };
                c.likes += count;
                counters
                    .insert(room.as_str(), encode(&c)?.as_slice())
                    .map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }

    async fn rooms_with_status(
        &self,
        status: RoomStatus,
        created_before: Option<DateTime<Utc>>,
    ) -> Result<Vec<Room>, StoreError> {
        let end = created_before.map_or_else(|| "~".to_owned(), |t| super::created_prefix(&t));
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let rooms = txn.open_table(ROOMS).map_err(unavailable)?;
            let by_created = txn.open_table(ROOMS_BY_CREATED).map_err(unavailable)?;
            let mut out = Vec::new();
            for entry in by_created.range(..end.as_str()).map_err(unavailable)? {
                let (_, id) = entry.map_err(unavailable)?;
                if let Some(room) = read_room(&rooms, id.value())?
                    && room.status == status
                {
                    out.push(room);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn delete_room(&self, id: &RoomId, anchor: &UserId) -> Result<(), StoreError> {
        let (id, anchor) = (id.clone(), anchor.clone());
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut rooms = txn.open_table(ROOMS).map_err(unavailable)?;
                let Some(current) = read_room(&rooms, id.as_str())? else {
                    return Err(StoreError::Conflict);
                };
                if current.anchor_id != anchor {
                    return Err(StoreError::Conflict);
                }
                rooms.remove(id.as_str()).map_err(unavailable)?;
                let mut by_created = txn.open_table(ROOMS_BY_CREATED).map_err(unavailable)?;
                by_created
                    .remove(current.created_key().as_str())
                    .map_err(unavailable)?;
                let (start, end) = (key(id.as_str(), ""), room_end(id.as_str()));
                txn.open_table(PRESENCE)
                    .and_then(|mut t| {
                        t.retain_in(start.as_str()..end.as_str(), |_, _| false)
                            .map_err(Into::into)
                    })
                    .map_err(unavailable)?;
                txn.open_table(PRESENCE_BY_ACTIVITY)
                    .and_then(|mut t| {
                        t.retain_in(start.as_str()..end.as_str(), |_, _| false)
                            .map_err(Into::into)
                    })
                    .map_err(unavailable)?;
                txn.open_table(VISITORS)
                    .and_then(|mut t| {
                        t.retain_in(start.as_str()..end.as_str(), |_, _| false)
                            .map_err(Into::into)
                    })
                    .map_err(unavailable)?;
                txn.open_table(COUNTERS)
                    .and_then(|mut t| t.remove(id.as_str()).map(|_| ()).map_err(Into::into))
                    .map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }
}
