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

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{Expected, Room, RoomQuery, Store, StoreError, User};
use crate::domain::{RoomId, RoomStatus, UserId, Username};
use crate::meeting::Meeting;

const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
const USERNAMES: TableDefinition<&str, &str> = TableDefinition::new("usernames");
const ROOMS: TableDefinition<&str, &[u8]> = TableDefinition::new("rooms");
const ROOMS_BY_CREATED: TableDefinition<&str, &str> = TableDefinition::new("rooms_by_created");

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
                if Expected::from(&current) != expected {
                    return Err(StoreError::Conflict);
                }
                // Only the mutable fields change: identity, anchor, creation time and the
                // meeting list (which has its own writer) stay.
                let next = Room {
                    id: current.id,
                    anchor_id: current.anchor_id,
                    created_at: current.created_at,
                    meeting: current.meeting,
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
            }
            txn.commit().map_err(unavailable)
        })
        .await
    }
}
