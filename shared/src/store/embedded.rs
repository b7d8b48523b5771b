//! The embedded store: one redb file, for the local server and tests.
//!
//! redb gives ACID transactions with a single writer, so each trait method is one transaction
//! and every condition is checked inside it: the same guarantees the DynamoDB store gets from
//! condition expressions. redb is synchronous, so every call runs on tokio's blocking pool.
//! Records are postcard (JSON from earlier versions is still read); record types only ever gain
//! fields at their end, each defaulting to zero, so a record written before a field existed
//! reads back with zeros appended. The layout mirrors the DynamoDB table (`dynamo/schema.rs`), presence
//! shards included, so that paging and counting behave alike:
//!
//! | table                  | key                                 | value          |
//! |------------------------|-------------------------------------|----------------|
//! | `users`                | user id                             | `User` JSON    |
//! | `usernames`            | lowercased username                 | user id        |
//! | `rooms`                | room id                             | `Room` JSON    |
//! | `rooms_by_created`     | `{created_key}`                     | room id        |
//! | `room_index`           | `{listing partition}|{created_key}` | room id        |
//! | `room_tallies`         | user id                             | `RoomTally`    |
//! | `presence`             | `{room}|{shard}|{user}`             | `Entry` JSON   |
//! | `presence_by_activity` | `{room}|{shard}|{activity_key}`     | user id        |
//! | `counters`             | room id                             | `Counters`     |
//! | `ended_sessions`       | `{user}|{session}`                  | expiry         |
//! | `throttle`             | `{counter}|{count}|{window}`        | attempts       |
//! | `nonces`               | `{user}|{nonce}`                    | expiry         |
//!
//! `room_index` is the DynamoDB store's listing indexes in one table: a room is under the
//! partition of every listing it is in ([`Listing::of`]), so a filtered page reads only its
//! matches. A data file from before it is indexed when it is opened.
//!
//! A deleted room is marked and purged in one transaction here; the two steps exist (as in
//! DynamoDB) so that a purge can be resumed by the sweeper.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redb::{
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    WriteTransaction,
};
use serde::{Deserialize, Serialize};

use super::{
    ChannelMark, Counter, CounterWrite, EventClaim, Lapsed, LoginThrottle, MAX_MUTED, MeetingWrite,
    MemberBan, MemberRead, MetricsWrite, Moderation, NonceClaim, OutboxWork, PresenceRead,
    PresenceWrite, RoomBatchRead, RoomCaps, RoomCreate, RoomDelete, RoomList, RoomQuota, RoomRead,
    RoomSweep, RoomTally, RoomUpdate, RoomView, SessionFound, SessionRead, SessionWrite,
    StoreError, SweptPresence, Touch, UserDelete, UserRead, UserUpdate, UserWrite,
};
use crate::domain::meeting::Meeting;
use crate::domain::outbox::Entry as OutboxEntry;
use crate::domain::presence::{
    MembersPage, PRESENCE_SHARDS, Presence, Visit, activity_key, millis, online_floor, shard,
};
use crate::domain::room::{
    Counters, Expected, Listing, Mark, MetricsSnapshot, Room, RoomQuery, created_prefix,
};
use crate::domain::user::User;
use crate::domain::{ImageUrl, Nick, RoomId, RoomStatus, UserId, Username};

const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
const USERNAMES: TableDefinition<&str, &str> = TableDefinition::new("usernames");
const ROOMS: TableDefinition<&str, &[u8]> = TableDefinition::new("rooms");
const ROOMS_BY_CREATED: TableDefinition<&str, &str> = TableDefinition::new("rooms_by_created");
/// `{listing partition}|{created_key}` → room id: the listings ([`Listing`]).
const ROOM_INDEX: TableDefinition<&str, &str> = TableDefinition::new("room_index");
/// user id → the caps' tally of the user's rooms ([`RoomTally`]).
const ROOM_TALLIES: TableDefinition<&str, &[u8]> = TableDefinition::new("room_tallies");
const PRESENCE: TableDefinition<&str, &[u8]> = TableDefinition::new("presence2");
const PRESENCE_BY_ACTIVITY: TableDefinition<&str, &str> =
    TableDefinition::new("presence_by_activity2");
const COUNTERS: TableDefinition<&str, &[u8]> = TableDefinition::new("counters");
/// `{user}|{session}` → until when the ended session is remembered (unix seconds).
const ENDED_SESSIONS: TableDefinition<&str, i64> = TableDefinition::new("ended_sessions");
/// `{counter}|{count}|{window}` → attempts counted in that window (failed logins, registrations).
const THROTTLE: TableDefinition<&str, u64> = TableDefinition::new("throttle");
/// `{user}|{nonce}` → until when the nonce is claimed (unix seconds).
const NONCES: TableDefinition<&str, i64> = TableDefinition::new("nonces");
/// `~event~{source}|{signature}` → how many streams a vendor signature value moved.
const SIGNATURE_USES: TableDefinition<&str, u64> = TableDefinition::new("signature_uses");
/// `{room}|{sink}|{seq}` → an undelivered outbox entry.
const OUTBOX: TableDefinition<&str, &[u8]> = TableDefinition::new("outbox");

fn outbox_key(entry: &OutboxEntry) -> String {
    format!("{}|{}|{}", entry.room, entry.sink.as_str(), entry.seq)
}

/// Outbox entries are JSON (read back by [`decode`]): an event's optional parts are left out
/// of its JSON, which postcard, not self-describing, cannot read back.
fn encode_entry(entry: &OutboxEntry) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(entry).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Adds `events` to the outbox (in the caller's transaction).
fn put_outbox(txn: &WriteTransaction, events: &[OutboxEntry]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut outbox = txn.open_table(OUTBOX).map_err(unavailable)?;
    for entry in events {
        outbox
            .insert(outbox_key(entry).as_str(), encode_entry(entry)?.as_slice())
            .map_err(unavailable)?;
    }
    Ok(())
}

/// A member's record in a room: present (listed) or not, and how often it visited.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    user_id: UserId,
    #[serde(default, with = "crate::clock::micros_option")]
    joined_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::clock::micros")]
    last_seen: DateTime<Utc>,
    listed: bool,
    visits: u64,
    /// Barred from the room until then (a kick).
    #[serde(default, with = "crate::clock::micros_option")]
    banned_until: Option<DateTime<Utc>>,
}

impl Entry {
    fn presence(&self) -> Option<Presence> {
        Some(Presence {
            user_id: self.user_id.clone(),
            joined_at: self.joined_at?,
            last_seen: self.last_seen,
        })
    }
}

fn shard_prefix(room: &str, shard: u32) -> String {
    format!("{room}|{shard:02}|")
}

fn presence_key(room: &str, user: &UserId) -> String {
    format!(
        "{}{}",
        shard_prefix(room, shard(user, PRESENCE_SHARDS)),
        user
    )
}

/// The upper end of a key range starting with `prefix`.
fn end_of(prefix: &str) -> String {
    format!("{prefix}~")
}

/// The file-backed store. Cheap to clone; all clones share one open database.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
}

fn unavailable(err: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(err.to_string())
}

/// The first byte of a record in the binary format (postcard); JSON, which earlier versions
/// wrote, never starts with it.
const BINARY: u8 = 0xB1;

/// The most fields a record type has gained since the binary format (see [`decode`]).
const APPENDED_FIELDS_MAX: usize = 16;

/// Records are postcard (compact, and several times cheaper to read back than JSON: a page of
/// rooms is decoded on every `list`), after a marker byte.
fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_extend(value, vec![BINARY]).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads a record in either format (JSON: data files of earlier versions).
fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&BINARY, rest)) => match postcard::from_bytes(rest) {
            Err(postcard::Error::DeserializeUnexpectedEnd) => {
                // Written before the type's last fields existed: each new field reads a zero
                // byte as its default (`None`, empty, 0, false); trailing bytes are ignored.
                let mut padded = rest.to_vec();
                padded.extend_from_slice(&[0; APPENDED_FIELDS_MAX]);
                postcard::from_bytes(&padded).map_err(|e| StoreError::Corrupt(e.to_string()))
            }
            other => other.map_err(|e| StoreError::Corrupt(e.to_string())),
        },
        _ => serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string())),
    }
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
            txn.open_table(ROOM_TALLIES).map_err(unavailable)?;
            index_rooms_if_new(&txn)?;
            txn.open_table(PRESENCE).map_err(unavailable)?;
            txn.open_table(PRESENCE_BY_ACTIVITY).map_err(unavailable)?;
            txn.open_table(COUNTERS).map_err(unavailable)?;
            txn.open_table(ENDED_SESSIONS).map_err(unavailable)?;
            txn.open_table(THROTTLE).map_err(unavailable)?;
            txn.open_table(NONCES).map_err(unavailable)?;
            txn.open_table(SIGNATURE_USES).map_err(unavailable)?;
            txn.open_table(OUTBOX).map_err(unavailable)?;
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

    /// Runs `f` in one write transaction, committed if it returns `Ok`.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            let out = f(&txn)?;
            txn.commit().map_err(unavailable)?;
            Ok(out)
        })
        .await
    }

    /// Applies `change` to the stored room (if any) and writes it back if it returns true.
    async fn change_room<F>(&self, id: &RoomId, change: F) -> Result<bool, StoreError>
    where
        F: FnOnce(&mut Room) -> Result<bool, StoreError> + Send + 'static,
    {
        self.change_room_reporting(id, change, &[]).await
    }

    /// [`Self::change_room`], with `events` added to the outbox in the same transaction if
    /// the change applies.
    async fn change_room_reporting<F>(
        &self,
        id: &RoomId,
        change: F,
        events: &[OutboxEntry],
    ) -> Result<bool, StoreError>
    where
        F: FnOnce(&mut Room) -> Result<bool, StoreError> + Send + 'static,
    {
        let id = id.clone();
        let events = events.to_vec();
        self.write(move |txn| change_room_in(txn, &id, change, &events))
            .await
    }
}

/// The body of [`EmbeddedStore::change_room_reporting`], inside a write transaction.
fn change_room_in<F>(
    txn: &WriteTransaction,
    id: &RoomId,
    change: F,
    events: &[OutboxEntry],
) -> Result<bool, StoreError>
where
    F: FnOnce(&mut Room) -> Result<bool, StoreError>,
{
    let mut rooms = txn.open_table(ROOMS).map_err(unavailable)?;
    let Some(mut room) = read_room(&rooms, id.as_str())? else {
        return Ok(false);
    };
    let before = room.clone();
    let changes = room.changes;
    if !change(&mut room)? {
        return Ok(false);
    }
    room.changes = changes;
    if !count_change(&mut room, events) {
        return Ok(false);
    }
    rooms
        .insert(id.as_str(), encode(&room)?.as_slice())
        .map_err(unavailable)?;
    reindex(txn, Some(&before), Some(&room))?;
    put_outbox(txn, events)?;
    Ok(true)
}

/// The room's keys in `room_index`: one per listing it is in.
fn listing_keys(room: &Room) -> Vec<String> {
    let created = room.created_key();
    Listing::of(room)
        .iter()
        .map(|l| format!("{}|{created}", l.partition()))
        .collect()
}

/// Moves a room in `room_index` from the listings `before` was in to those `after` is in
/// (`None`: not stored).
fn reindex(
    txn: &WriteTransaction,
    before: Option<&Room>,
    after: Option<&Room>,
) -> Result<(), StoreError> {
    let old = before.map(listing_keys).unwrap_or_default();
    let new = after.map(listing_keys).unwrap_or_default();
    if old == new {
        return Ok(());
    }
    let mut index = txn.open_table(ROOM_INDEX).map_err(unavailable)?;
    for key in old.iter().filter(|k| !new.contains(k)) {
        index.remove(key.as_str()).map_err(unavailable)?;
    }
    if let Some(room) = after {
        for key in new.iter().filter(|k| !old.contains(k)) {
            index
                .insert(key.as_str(), room.id.as_str())
                .map_err(unavailable)?;
        }
    }
    Ok(())
}

/// Indexes every room in a `room_index` just made (a data file from before it).
fn index_rooms_if_new(txn: &WriteTransaction) -> Result<(), StoreError> {
    if !txn
        .open_table(ROOM_INDEX)
        .map_err(unavailable)?
        .is_empty()
        .map_err(unavailable)?
    {
        return Ok(());
    }
    let rooms: Vec<Room> = {
        let table = txn.open_table(ROOMS).map_err(unavailable)?;
        let mut rooms = Vec::new();
        for entry in table.iter().map_err(unavailable)? {
            let (_, bytes) = entry.map_err(unavailable)?;
            rooms.push(decode(bytes.value())?);
        }
        rooms
    };
    for room in &rooms {
        reindex(txn, None, Some(room))?;
    }
    Ok(())
}

/// Moves the room's change counter to the order of `events` (if any), if it is one below:
/// false when another reported change committed since the writer read the room.
fn count_change(room: &mut Room, events: &[OutboxEntry]) -> bool {
    match events.first() {
        None => true,
        Some(first) if room.changes.saturating_add(1) == first.order => {
            room.changes = first.order;
            true
        }
        Some(_) => false,
    }
}

/// A change that did not apply is a failed condition.
fn conflict_unless(applied: bool) -> Result<(), StoreError> {
    if applied {
        Ok(())
    } else {
        Err(StoreError::Conflict)
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

fn read_counters(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    id: &str,
) -> Result<Counters, StoreError> {
    match table.get(id).map_err(unavailable)? {
        Some(bytes) => decode(bytes.value()),
        None => Ok(Counters::default()),
    }
}

fn write_counters(
    txn: &WriteTransaction,
    room: &str,
    change: impl FnOnce(&mut Counters),
) -> Result<(), StoreError> {
    let mut counters = txn.open_table(COUNTERS).map_err(unavailable)?;
    let mut c = read_counters(&counters, room)?;
    change(&mut c);
    counters
        .insert(room, encode(&c)?.as_slice())
        .map_err(unavailable)?;
    Ok(())
}

#[async_trait]
impl UserWrite for EmbeddedStore {
    async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        let user = user.clone();
        self.write(move |txn| {
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
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl UserRead for EmbeddedStore {
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
}

#[async_trait]
impl RoomCreate for EmbeddedStore {
    async fn insert_room(&self, room: &Room, events: &[OutboxEntry]) -> Result<(), StoreError> {
        let mut room = room.clone();
        crate::domain::outbox::counted(&mut room, events);
        let events = events.to_vec();
        self.write(move |txn| {
            let rooms = txn.open_table(ROOMS).map_err(unavailable)?;
            if rooms.get(room.id.as_str()).map_err(unavailable)?.is_some() {
                return Err(StoreError::Conflict);
            }
            drop(rooms);
            add_room(txn, &room, &events)
        })
        .await
    }
}

/// Adds a room (whose id is not taken) to the rooms, its listings and `events` to the
/// outbox, in the caller's transaction.
fn add_room(txn: &WriteTransaction, room: &Room, events: &[OutboxEntry]) -> Result<(), StoreError> {
    txn.open_table(ROOMS)
        .map_err(unavailable)?
        .insert(room.id.as_str(), encode(room)?.as_slice())
        .map_err(unavailable)?;
    txn.open_table(ROOMS_BY_CREATED)
        .map_err(unavailable)?
        .insert(room.created_key().as_str(), room.id.as_str())
        .map_err(unavailable)?;
    reindex(txn, None, Some(room))?;
    put_outbox(txn, events)
}

#[async_trait]
impl RoomBatchRead for EmbeddedStore {
    async fn rooms_by_id(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError> {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let rooms = txn.open_table(ROOMS).map_err(unavailable)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                out.extend(read_room(&rooms, id.as_str())?);
            }
            Ok(out)
        })
        .await
    }
}

fn read_tally(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    user: &str,
) -> Result<RoomTally, StoreError> {
    match table.get(user).map_err(unavailable)? {
        Some(bytes) => decode(bytes.value()),
        None => Ok(RoomTally::default()),
    }
}

#[async_trait]
impl RoomQuota for EmbeddedStore {
    async fn user_tally(&self, id: &UserId) -> Result<(Option<User>, RoomTally), StoreError> {
        let id = id.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let users = txn.open_table(USERS).map_err(unavailable)?;
            let user = match users.get(id.as_str()).map_err(unavailable)? {
                Some(bytes) => Some(decode(bytes.value())?),
                None => None,
            };
            let tallies = txn.open_table(ROOM_TALLIES).map_err(unavailable)?;
            Ok((user, read_tally(&tallies, id.as_str())?))
        })
        .await
    }

    async fn user_tally_in_session(
        &self,
        id: &UserId,
        session: &str,
    ) -> Result<(SessionFound, RoomTally), StoreError> {
        let (id, session) = (id.clone(), session.to_owned());
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let found = read_session(&txn, &id, &session)?;
            let tallies = txn.open_table(ROOM_TALLIES).map_err(unavailable)?;
            Ok((found, read_tally(&tallies, id.as_str())?))
        })
        .await
    }

    async fn insert_counted_room(
        &self,
        room: &Room,
        events: &[OutboxEntry],
        caps: RoomCaps,
        _seen: &RoomTally,
    ) -> Result<(), StoreError> {
        let mut room = room.clone();
        crate::domain::outbox::counted(&mut room, events);
        let events = events.to_vec();
        self.write(move |txn| {
            let anchor = room.anchor_id.as_str();
            let mut tallies = txn.open_table(ROOM_TALLIES).map_err(unavailable)?;
            let mut tally = read_tally(&tallies, anchor)?;
            if tally.open.len() >= caps.max_open as usize {
                return Err(StoreError::Conflict);
            }
            match tally.minute.cmp(&caps.minute) {
                std::cmp::Ordering::Equal if tally.created < caps.per_minute => tally.created += 1,
                std::cmp::Ordering::Less => {
                    tally.minute = caps.minute;
                    tally.created = 1;
                }
                _ => return Err(StoreError::Conflict),
            }
            if read_room(
                &txn.open_table(ROOMS).map_err(unavailable)?,
                room.id.as_str(),
            )?
            .is_some()
            {
                return Err(StoreError::Conflict);
            }
            tally.open.push(room.id.clone());
            tallies
                .insert(anchor, encode(&tally)?.as_slice())
                .map_err(unavailable)?;
            drop(tallies);
            add_room(txn, &room, &events)
        })
        .await
    }

    async fn forget_rooms(&self, user: &UserId, rooms: &[RoomId]) -> Result<(), StoreError> {
        let user = user.clone();
        let rooms = rooms.to_vec();
        self.write(move |txn| {
            let mut tallies = txn.open_table(ROOM_TALLIES).map_err(unavailable)?;
            let Some(mut tally) = tallies
                .get(user.as_str())
                .map_err(unavailable)?
                .map(|bytes| decode::<RoomTally>(bytes.value()))
                .transpose()?
            else {
                return Ok(());
            };
            tally.open.retain(|id| !rooms.contains(id));
            tallies
                .insert(user.as_str(), encode(&tally)?.as_slice())
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl RoomRead for EmbeddedStore {
    async fn room(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        let id = id.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let rooms = txn.open_table(ROOMS).map_err(unavailable)?;
            read_room(&rooms, id.as_str())
        })
        .await
    }
}

#[async_trait]
impl RoomView for EmbeddedStore {
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

impl EmbeddedStore {
    /// The room, its counters and the end of `viewer`'s ban and `viewer`'s session, in one
    /// read transaction.
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
        let key = viewer.map(|(v, _)| presence_key(id.as_str(), v));
        let viewer = viewer.map(|(v, session)| (v.clone(), session.to_owned()));
        let id = id.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let session = match &viewer {
                Some((v, session)) => read_session(&txn, v, session)?,
                None => SessionFound::default(),
            };
            let rooms = txn.open_table(ROOMS).map_err(unavailable)?;
            let Some(room) = read_room(&rooms, id.as_str())? else {
                return Ok((None, session));
            };
            let counters = txn.open_table(COUNTERS).map_err(unavailable)?;
            let banned_until = match &key {
                Some(key) => banned_until(&txn.open_table(PRESENCE).map_err(unavailable)?, key)?,
                None => None,
            };
            Ok((
                Some((room, read_counters(&counters, id.as_str())?, banned_until)),
                session,
            ))
        })
        .await
    }
}

#[async_trait]
impl RoomList for EmbeddedStore {
    async fn list_rooms(&self, query: &RoomQuery) -> Result<Vec<Room>, StoreError> {
        let query = query.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let rooms = txn.open_table(ROOMS).map_err(unavailable)?;
            let index = txn.open_table(ROOM_INDEX).map_err(unavailable)?;
            let from = query.created_from.as_ref().map(created_prefix);
            let before = query.created_before.as_ref().map(created_prefix);
            // The newest offset + size of each listing (two for "not ended"), merged.
            let mut found: Vec<(String, String)> = Vec::new();
            for listing in query.listings() {
                let prefix = format!("{}|", listing.partition());
                let low = format!("{prefix}{}", from.as_deref().unwrap_or_default());
                let high = match &before {
                    Some(b) => format!("{prefix}{b}"),
                    None => end_of(&prefix),
                };
                if low >= high {
                    continue;
                }
                for entry in index
                    .range(low.as_str()..high.as_str())
                    .map_err(unavailable)?
                    .rev()
                    .take(query.depth())
                {
                    let (key, id) = entry.map_err(unavailable)?;
                    let created = key.value()[prefix.len()..].to_owned();
                    found.push((created, id.value().to_owned()));
                }
            }
            found.sort_by(|a, b| b.cmp(a));
            found.dedup_by(|a, b| a.1 == b.1);
            let mut page = Vec::with_capacity(query.page.size as usize);
            for (_, id) in found
                .iter()
                .skip(query.page.offset as usize)
                .take(query.page.size as usize)
            {
                if let Some(room) = read_room(&rooms, id)?.filter(|r| query.matches(r)) {
                    page.push(room);
                }
            }
            Ok(page)
        })
        .await
    }
}

#[async_trait]
impl RoomUpdate for EmbeddedStore {
    async fn update_room(
        &self,
        room: &Room,
        expected: Expected,
        events: &[OutboxEntry],
    ) -> Result<(), StoreError> {
        debug_assert_eq!(room.version, expected.version + 1);
        let room = room.clone();
        let id = room.id.clone();
        self.change_room_reporting(
            &id,
            move |current| {
                if current.is_deleted()
                    || current.status != expected.status
                    || current.version != expected.version
                    || !expected.guard.holds(current)
                {
                    return Ok(false);
                }
                // Only the mutable fields change: identity, anchor, creation time, the meeting
                // list, the marks and the metrics (which have their own writers) stay.
                *current = Room {
                    id: current.id.clone(),
                    anchor_id: current.anchor_id.clone(),
                    created_at: current.created_at,
                    meeting: current.meeting.clone(),
                    anchor_seen_at: current.anchor_seen_at,
                    channel_started_at: current.channel_started_at,
                    metrics: current.metrics,
                    shards_used: current.shards_used,
                    deleted_at: current.deleted_at,
                    muted: current.muted.clone(),
                    chat_ready: current.chat_ready,
                    ..room
                };
                Ok(true)
            },
            events,
        )
        .await
        .and_then(conflict_unless)
    }
}

#[async_trait]
impl MeetingWrite for EmbeddedStore {
    async fn replace_seats(
        &self,
        id: &RoomId,
        meeting: &Meeting,
        expected: u64,
        lapsed: &[Lapsed],
        events: &[OutboxEntry],
    ) -> Result<(), StoreError> {
        debug_assert_eq!(meeting.version, expected + 1);
        let (id, meeting, lapsed) = (id.clone(), meeting.clone(), lapsed.to_vec());
        let events = events.to_vec();
        self.write(move |txn| {
            // Each holder still silent (a renewal since fails the write).
            let presence = txn.open_table(PRESENCE).map_err(unavailable)?;
            for l in &lapsed {
                let key = presence_key(id.as_str(), &l.user);
                if let Some(bytes) = presence.get(key.as_str()).map_err(unavailable)? {
                    let entry = decode::<Entry>(bytes.value())?;
                    if (entry.listed || entry.visits > 0) && entry.last_seen >= l.before {
                        return Ok(false);
                    }
                }
            }
            drop(presence);
            change_room_in(
                txn,
                &id,
                move |current| {
                    if current.is_deleted()
                        || current.status == RoomStatus::Ended
                        || current.meeting.version != expected
                    {
                        return Ok(false);
                    }
                    current.meeting = meeting;
                    Ok(true)
                },
                &events,
            )
        })
        .await
        .and_then(conflict_unless)
    }
}

#[async_trait]
impl ChannelMark for EmbeddedStore {
    async fn mark_room(&self, id: &RoomId, mark: Mark) -> Result<bool, StoreError> {
        self.change_room(id, move |current| {
            Ok(match mark {
                Mark::ChannelStarted { at } => {
                    let applies = !current.is_deleted() && current.channel_started_at.is_none();
                    if applies {
                        current.channel_started_at = Some(at);
                    }
                    applies
                }
                Mark::ChannelEmpty { at } => {
                    let applies = current.channel_started_at.is_some_and(|t| t < at);
                    if applies {
                        current.channel_started_at = None;
                    }
                    applies
                }
            })
        })
        .await
    }
}

/// The presence part of a touch, inside the caller's transaction. Returns the visit counted.
fn touch_presence(
    txn: &WriteTransaction,
    room: &RoomId,
    user: &UserId,
    now: DateTime<Utc>,
    count_visit: bool,
) -> Result<Option<Visit>, StoreError> {
    let mut presence = txn.open_table(PRESENCE).map_err(unavailable)?;
    let mut by_activity = txn.open_table(PRESENCE_BY_ACTIVITY).map_err(unavailable)?;
    let k = presence_key(room.as_str(), user);
    let prefix = shard_prefix(room.as_str(), shard(user, PRESENCE_SHARDS));
    let previous: Option<Entry> = match presence.get(k.as_str()).map_err(unavailable)? {
        Some(bytes) => Some(decode(bytes.value())?),
        None => None,
    };
    if previous
        .as_ref()
        .and_then(|p| p.banned_until)
        .is_some_and(|until| until > now)
    {
        return Err(StoreError::Conflict);
    }
    if let Some(p) = previous.as_ref().filter(|p| p.listed) {
        by_activity
            .remove(format!("{prefix}{}", activity_key(p.last_seen, user)).as_str())
            .map_err(unavailable)?;
    }
    let visits = previous.as_ref().map_or(0, |p| p.visits);
    let next = Entry {
        user_id: user.clone(),
        joined_at: Some(previous.as_ref().and_then(|p| p.joined_at).unwrap_or(now)),
        last_seen: now,
        listed: true,
        visits: visits + u64::from(count_visit),
        banned_until: previous.as_ref().and_then(|p| p.banned_until),
    };
    presence
        .insert(k.as_str(), encode(&next)?.as_slice())
        .map_err(unavailable)?;
    by_activity
        .insert(
            format!("{prefix}{}", activity_key(now, user)).as_str(),
            user.as_str(),
        )
        .map_err(unavailable)?;
    Ok(count_visit.then_some(if visits == 0 {
        Visit::First
    } else {
        Visit::Again
    }))
}

/// What a touch writes on the room: the anchor's keepalive and the user's shard among the
/// used ones; a conflict if the room is gone.
fn room_marks(txn: &WriteTransaction, touch: &OwnedTouch) -> Result<(), StoreError> {
    if !touch.anchor && !touch.record_shard {
        return Ok(());
    }
    let mut rooms = txn.open_table(ROOMS).map_err(unavailable)?;
    let Some(mut current) = read_room(&rooms, touch.room.as_str())? else {
        return Err(StoreError::Conflict);
    };
    if current.is_deleted() {
        return Err(StoreError::Conflict);
    }
    if touch.anchor {
        current.anchor_seen_at = Some(touch.now);
    }
    if touch.record_shard {
        current.shards_used |= 1 << shard(&touch.user, PRESENCE_SHARDS);
    }
    rooms
        .insert(touch.room.as_str(), encode(&current)?.as_slice())
        .map_err(unavailable)?;
    Ok(())
}

/// A [`Touch`] that can move to the blocking pool.
struct OwnedTouch {
    room: RoomId,
    user: UserId,
    now: DateTime<Utc>,
    anchor: bool,
    record_shard: bool,
}

impl From<Touch<'_>> for OwnedTouch {
    fn from(t: Touch<'_>) -> Self {
        Self {
            room: t.room.clone(),
            user: t.user.clone(),
            now: t.now,
            anchor: t.anchor,
            record_shard: t.record_shard,
        }
    }
}

#[async_trait]
impl PresenceWrite for EmbeddedStore {
    async fn join(&self, touch: Touch<'_>) -> Result<Visit, StoreError> {
        let touch = OwnedTouch::from(touch);
        self.write(move |txn| {
            room_marks(txn, &touch)?;
            let visit = touch_presence(txn, &touch.room, &touch.user, touch.now, true)?
                .unwrap_or(Visit::Again);
            write_counters(txn, touch.room.as_str(), |c| {
                c.pv += 1;
                c.uv += u64::from(visit == Visit::First);
            })?;
            Ok(visit)
        })
        .await
    }

    async fn keepalive(&self, touch: Touch<'_>) -> Result<(), StoreError> {
        let touch = OwnedTouch::from(touch);
        self.write(move |txn| {
            room_marks(txn, &touch)?;
            touch_presence(txn, &touch.room, &touch.user, touch.now, false).map(|_| ())
        })
        .await
    }

    async fn leave(&self, room: &RoomId, user: &UserId) -> Result<(), StoreError> {
        let (room, user) = (room.clone(), user.clone());
        self.write(move |txn| unlist(txn, &room, &user, None).map(|_| ()))
            .await
    }
}

/// Takes a member off the online list (only if last seen before `stale_before`, when given).
/// Returns whether it was listed and is not any more.
fn unlist(
    txn: &WriteTransaction,
    room: &RoomId,
    user: &UserId,
    stale_before: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let mut presence = txn.open_table(PRESENCE).map_err(unavailable)?;
    let k = presence_key(room.as_str(), user);
    let Some(mut entry) = presence
        .get(k.as_str())
        .map_err(unavailable)?
        .map(|bytes| decode::<Entry>(bytes.value()))
        .transpose()?
    else {
        return Ok(false);
    };
    if !entry.listed || stale_before.is_some_and(|t| entry.last_seen >= t) {
        return Ok(false);
    }
    let prefix = shard_prefix(room.as_str(), shard(user, PRESENCE_SHARDS));
    txn.open_table(PRESENCE_BY_ACTIVITY)
        .map_err(unavailable)?
        .remove(format!("{prefix}{}", activity_key(entry.last_seen, user)).as_str())
        .map_err(unavailable)?;
    entry.listed = false;
    entry.joined_at = None;
    presence
        .insert(k.as_str(), encode(&entry)?.as_slice())
        .map_err(unavailable)?;
    Ok(true)
}

#[async_trait]
impl PresenceRead for EmbeddedStore {
    async fn members_page(
        &self,
        room: &RoomId,
        shard: u32,
        since: DateTime<Utc>,
        limit: u32,
        before: Option<&str>,
    ) -> Result<MembersPage, StoreError> {
        let prefix = shard_prefix(room.as_str(), shard);
        let low = format!("{prefix}{}", online_floor(since));
        let high = match before {
            Some(b) => format!("{prefix}{b}"),
            None => end_of(&prefix),
        };
        let room = room.as_str().to_owned();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let by_activity = txn.open_table(PRESENCE_BY_ACTIVITY).map_err(unavailable)?;
            let presence = txn.open_table(PRESENCE).map_err(unavailable)?;
            let mut members = Vec::new();
            let mut more_in_shard = false;
            for entry in by_activity
                .range(low.as_str()..high.as_str())
                .map_err(unavailable)?
                .rev()
            {
                if members.len() == limit as usize {
                    more_in_shard = true;
                    break;
                }
                let (_, user) = entry.map_err(unavailable)?;
                let key = format!("{room}|{shard:02}|{}", user.value());
                if let Some(bytes) = presence.get(key.as_str()).map_err(unavailable)?
                    && let Some(p) = decode::<Entry>(bytes.value())?.presence()
                {
                    members.push(p);
                }
            }
            Ok(MembersPage {
                members,
                more_in_shard,
            })
        })
        .await
    }

    async fn count_online(&self, room: &RoomId, since: DateTime<Utc>) -> Result<u64, StoreError> {
        let room = room.as_str().to_owned();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let by_activity = txn.open_table(PRESENCE_BY_ACTIVITY).map_err(unavailable)?;
            let floor = online_floor(since);
            let mut n = 0;
            for k in 0..PRESENCE_SHARDS {
                let prefix = shard_prefix(&room, k);
                let low = format!("{prefix}{floor}");
                let high = end_of(&prefix);
                for entry in by_activity
                    .range(low.as_str()..high.as_str())
                    .map_err(unavailable)?
                {
                    entry.map_err(unavailable)?;
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
    }
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
impl MetricsWrite for EmbeddedStore {
    async fn claim_metrics(
        &self,
        id: &RoomId,
        seen: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.change_room(id, move |current| {
            let m = &mut current.metrics;
            let unclaimed = m.refreshing_until.is_none_or(|t| t < now);
            if m.at != seen || !unclaimed {
                return Ok(false);
            }
            m.refreshing_until = Some(until);
            Ok(true)
        })
        .await
    }

    async fn save_metrics(
        &self,
        id: &RoomId,
        snapshot: &MetricsSnapshot,
    ) -> Result<bool, StoreError> {
        let snapshot = *snapshot;
        let Some(at) = snapshot.at else {
            return Ok(false);
        };
        self.change_room(id, move |current| {
            if current.metrics.at.is_some_and(|t| t > at) {
                return Ok(false);
            }
            current.metrics = MetricsSnapshot {
                refreshing_until: None,
                ..snapshot
            };
            Ok(true)
        })
        .await
    }
}

#[async_trait]
impl RoomDelete for EmbeddedStore {
    async fn mark_deleted(
        &self,
        id: &RoomId,
        anchor: &UserId,
        now: DateTime<Utc>,
        expires_at: i64,
        events: &[OutboxEntry],
    ) -> Result<(), StoreError> {
        let anchor = anchor.clone();
        self.change_room_reporting(
            id,
            move |current| {
                if current.is_deleted() || current.anchor_id != anchor {
                    return Ok(false);
                }
                current.deleted_at = Some(now);
                current.expires_at = Some(expires_at);
                Ok(true)
            },
            events,
        )
        .await
        .and_then(conflict_unless)
    }

    async fn purge_room(&self, id: &RoomId) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |txn| {
            let (start, end) = (format!("{id}|"), end_of(&format!("{id}|")));
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
            txn.open_table(COUNTERS)
                .and_then(|mut t| t.remove(id.as_str()).map(|_| ()).map_err(Into::into))
                .map_err(unavailable)?;
            let mut rooms = txn.open_table(ROOMS).map_err(unavailable)?;
            if let Some(room) = read_room(&rooms, id.as_str())? {
                rooms.remove(id.as_str()).map_err(unavailable)?;
                txn.open_table(ROOMS_BY_CREATED)
                    .map_err(unavailable)?
                    .remove(room.created_key().as_str())
                    .map_err(unavailable)?;
                reindex(txn, Some(&room), None)?;
            }
            Ok(())
        })
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
                let by_activity = txn.open_table(PRESENCE_BY_ACTIVITY).map_err(unavailable)?;
                for k in 0..PRESENCE_SHARDS {
                    let prefix = shard_prefix(room.as_str(), k);
                    for entry in by_activity
                        .range(prefix.as_str()..end_of(&prefix).as_str())
                        .map_err(unavailable)?
                    {
                        let (key, user) = entry.map_err(unavailable)?;
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
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let counters = txn.open_table(COUNTERS).map_err(unavailable)?;
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
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let rooms = txn.open_table(ROOMS).map_err(unavailable)?;
            let by_created = txn.open_table(ROOMS_BY_CREATED).map_err(unavailable)?;
            let mut out = Vec::new();
            for entry in by_created.range(..end.as_str()).map_err(unavailable)? {
                let (_, id) = entry.map_err(unavailable)?;
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

// ---- accounts -------------------------------------------------------------------------------

impl EmbeddedStore {
    /// Applies `change` to the stored user (if any, and not deleted) and writes it back.
    async fn change_user<T, F>(&self, id: &UserId, change: F) -> Result<Option<T>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut User) -> T + Send + 'static,
    {
        let id = id.clone();
        self.write(move |txn| {
            let mut users = txn.open_table(USERS).map_err(unavailable)?;
            let mut user: User = match users.get(id.as_str()).map_err(unavailable)? {
                Some(bytes) => decode(bytes.value())?,
                None => return Ok(None),
            };
            if user.is_deleted() {
                return Ok(None);
            }
            let out = change(&mut user);
            users
                .insert(id.as_str(), encode(&user)?.as_slice())
                .map_err(unavailable)?;
            Ok(Some(out))
        })
        .await
    }
}

#[async_trait]
impl UserUpdate for EmbeddedStore {
    async fn update_profile(
        &self,
        id: &UserId,
        nick: Option<&Nick>,
        avatar: Option<&ImageUrl>,
    ) -> Result<Option<User>, StoreError> {
        let (nick, avatar) = (nick.cloned(), avatar.cloned());
        self.change_user(id, move |user| {
            if let Some(nick) = nick {
                user.nick = nick;
            }
            if let Some(avatar) = avatar {
                user.avatar = avatar;
            }
            user.clone()
        })
        .await
    }
}

#[async_trait]
impl UserDelete for EmbeddedStore {
    async fn delete_user(&self, id: &UserId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let closed = self
            .change_user(id, move |user| {
                user.deleted_at = Some(now);
                user.password_hash.clear();
                user.salt = None;
                user.nick = Nick::empty();
                user.avatar = ImageUrl::empty();
                user.sessions += 1;
            })
            .await?;
        match closed {
            Some(()) => Ok(true),
            None => Ok(self.user(id).await?.is_some()),
        }
    }
}

fn pair_key(a: &str, b: &str) -> String {
    format!("{a}|{b}")
}

#[async_trait]
impl SessionRead for EmbeddedStore {
    async fn session(
        &self,
        user: &UserId,
        session: &str,
    ) -> Result<(Option<User>, bool), StoreError> {
        let (user, session) = (user.clone(), session.to_owned());
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let found = read_session(&txn, &user, &session)?;
            Ok((found.user, found.ended))
        })
        .await
    }
}

/// `user`'s session `session` as the read transaction `txn` sees it.
fn read_session(
    txn: &redb::ReadTransaction,
    user: &UserId,
    session: &str,
) -> Result<SessionFound, StoreError> {
    let users = txn.open_table(USERS).map_err(unavailable)?;
    let user_item = match users.get(user.as_str()).map_err(unavailable)? {
        Some(bytes) => Some(decode(bytes.value())?),
        None => None,
    };
    let ended = txn
        .open_table(ENDED_SESSIONS)
        .map_err(unavailable)?
        .get(pair_key(user.as_str(), session).as_str())
        .map_err(unavailable)?
        .is_some();
    Ok(SessionFound {
        user: user_item,
        ended,
    })
}

#[async_trait]
impl SessionWrite for EmbeddedStore {
    async fn end_session(
        &self,
        user: &UserId,
        session: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let key = pair_key(user.as_str(), session);
        self.write(move |txn| {
            txn.open_table(ENDED_SESSIONS)
                .map_err(unavailable)?
                .insert(key.as_str(), expires_at)
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn end_all_sessions(&self, user: &UserId) -> Result<Option<u64>, StoreError> {
        self.change_user(user, |user| {
            user.sessions += 1;
            user.sessions
        })
        .await
    }
}

/// The record of count `name` of throttle counter `key` in `window`.
fn count_key(key: &str, name: &str, window: i64) -> String {
    format!("{key}|{name}|{window}")
}

/// Drops the throttle windows no request can still be counting in: those older than the one
/// before the newest any request has counted in (or `window`). A request's window is read from
/// its clock just before it counts; requests counting at once straddle at most one window
/// boundary, so the window before the newest must stay (dropping every window older than the
/// caller's restarted its neighbours' counts from zero whenever two windows interleaved).
/// Returns whether `window` itself is still kept: a request later than that (a minute behind
/// the others) is refused rather than counted on a window already dropped.
fn drop_old_windows(table: &mut redb::Table<&str, u64>, window: i64) -> Result<bool, StoreError> {
    let windows: Vec<(String, i64)> = table
        .iter()
        .map_err(unavailable)?
        .filter_map(Result::ok)
        .filter_map(|(k, _)| {
            let key = k.value().to_owned();
            let w = key.rsplit_once('|')?.1.parse::<i64>().ok()?;
            Some((key, w))
        })
        .collect();
    let newest = windows.iter().map(|(_, w)| *w).fold(window, i64::max);
    let oldest_kept = newest - 1;
    for (key, w) in &windows {
        if *w < oldest_kept {
            table.remove(key.as_str()).map_err(unavailable)?;
        }
    }
    Ok(window >= oldest_kept)
}

#[async_trait]
impl LoginThrottle for EmbeddedStore {
    async fn count_attempt(
        &self,
        counters: &[Counter],
        window: i64,
        _expires_at: i64,
    ) -> Result<Vec<bool>, StoreError> {
        let counts: Vec<(String, u64)> = counters
            .iter()
            .flat_map(|c| {
                c.counts
                    .iter()
                    .map(|(name, limit)| (count_key(&c.key, name, window), *limit))
            })
            .collect();
        let n = counters.len();
        // One transaction decides every counter together: counted on all, or on none.
        self.write(move |txn| {
            let mut table = txn.open_table(THROTTLE).map_err(unavailable)?;
            if !drop_old_windows(&mut table, window)? {
                return Ok(vec![false; n]);
            }
            let mut now = Vec::with_capacity(counts.len());
            for (k, limit) in &counts {
                let count = table
                    .get(k.as_str())
                    .map_err(unavailable)?
                    .map_or(0, |v| v.value());
                if count >= *limit {
                    return Ok(vec![false; n]);
                }
                now.push(count);
            }
            for ((k, _), count) in counts.iter().zip(now) {
                table.insert(k.as_str(), count + 1).map_err(unavailable)?;
            }
            Ok(vec![true; n])
        })
        .await
    }

    async fn forgive_attempt(&self, counters: &[Counter], window: i64) -> Result<(), StoreError> {
        let keys: Vec<String> = counters
            .iter()
            .flat_map(|c| {
                c.counts
                    .iter()
                    .map(|(name, _)| count_key(&c.key, name, window))
            })
            .collect();
        self.write(move |txn| {
            let mut table = txn.open_table(THROTTLE).map_err(unavailable)?;
            for k in &keys {
                let count = table
                    .get(k.as_str())
                    .map_err(unavailable)?
                    .map_or(0, |v| v.value());
                if count > 0 {
                    table.insert(k.as_str(), count - 1).map_err(unavailable)?;
                }
            }
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl NonceClaim for EmbeddedStore {
    async fn claim_nonce(
        &self,
        user: &UserId,
        nonce: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        self.claim(pair_key(user.as_str(), nonce), now, expires_at)
            .await
    }
}

#[async_trait]
impl EventClaim for EmbeddedStore {
    async fn claim_event(
        &self,
        source: &str,
        id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        self.claim(event_claim_key(source, id), now, expires_at)
            .await
    }

    async fn count_signature_use(
        &self,
        source: &str,
        signature: &str,
        _expires_at: i64,
    ) -> Result<u64, StoreError> {
        let key = event_claim_key(source, signature);
        self.write(move |txn| {
            let mut table = txn.open_table(SIGNATURE_USES).map_err(unavailable)?;
            let uses = table
                .get(key.as_str())
                .map_err(unavailable)?
                .map_or(0, |v| v.value())
                + 1;
            table.insert(key.as_str(), uses).map_err(unavailable)?;
            Ok(uses)
        })
        .await
    }

    async fn release_event(&self, source: &str, id: &str) -> Result<(), StoreError> {
        let key = event_claim_key(source, id);
        self.write(move |txn| {
            txn.open_table(NONCES)
                .map_err(unavailable)?
                .remove(key.as_str())
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }
}

/// `~` is in no user id: event claims and users' nonces never meet.
fn event_claim_key(source: &str, id: &str) -> String {
    pair_key(&format!("~event~{source}"), id)
}

impl EmbeddedStore {
    /// Records the claim `key` until `expires_at` unless an unexpired one exists.
    async fn claim(&self, key: String, now: i64, expires_at: i64) -> Result<bool, StoreError> {
        self.write(move |txn| {
            let mut table = txn.open_table(NONCES).map_err(unavailable)?;
            if table
                .get(key.as_str())
                .map_err(unavailable)?
                .is_some_and(|until| until.value() >= now)
            {
                return Ok(false);
            }
            table
                .insert(key.as_str(), expires_at)
                .map_err(unavailable)?;
            Ok(true)
        })
        .await
    }
}

// ---- moderation -----------------------------------------------------------------------------

#[async_trait]
impl MemberRead for EmbeddedStore {
    async fn room_member(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<(Option<Room>, Option<DateTime<Utc>>), StoreError> {
        let (id, key) = (room.clone(), presence_key(room.as_str(), user));
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let rooms = txn.open_table(ROOMS).map_err(unavailable)?;
            let found = read_room(&rooms, id.as_str())?;
            let presence = txn.open_table(PRESENCE).map_err(unavailable)?;
            Ok((found, banned_until(&presence, &key)?))
        })
        .await
    }

    async fn seen(
        &self,
        room: &RoomId,
        users: &[UserId],
    ) -> Result<Vec<Option<DateTime<Utc>>>, StoreError> {
        let pairs = users.iter().map(|user| (room, user));
        self.presence_entries(pairs, |entry| {
            // A ban of someone who never came records no sighting.
            (entry.listed || entry.visits > 0).then_some(entry.last_seen)
        })
        .await
    }

    async fn room_member_in_session(
        &self,
        room: &RoomId,
        user: &UserId,
        session: &str,
    ) -> Result<(Option<Room>, Option<DateTime<Utc>>, SessionFound), StoreError> {
        let (id, key) = (room.clone(), presence_key(room.as_str(), user));
        let (user, session) = (user.clone(), session.to_owned());
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let found_session = read_session(&txn, &user, &session)?;
            let rooms = txn.open_table(ROOMS).map_err(unavailable)?;
            let found = read_room(&rooms, id.as_str())?;
            let presence = txn.open_table(PRESENCE).map_err(unavailable)?;
            Ok((found, banned_until(&presence, &key)?, found_session))
        })
        .await
    }

    async fn bans(
        &self,
        rooms: &[RoomId],
        user: &UserId,
        session: &str,
    ) -> Result<(Vec<Option<DateTime<Utc>>>, SessionFound), StoreError> {
        let keys: Vec<String> = rooms
            .iter()
            .map(|room| presence_key(room.as_str(), user))
            .collect();
        let (user, session) = (user.clone(), session.to_owned());
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let found = read_session(&txn, &user, &session)?;
            let presence = txn.open_table(PRESENCE).map_err(unavailable)?;
            let bans = keys
                .iter()
                .map(|k| banned_until(&presence, k))
                .collect::<Result<_, _>>()?;
            Ok((bans, found))
        })
        .await
    }
}

impl EmbeddedStore {
    /// `pick` of the presence entries of `(room, user)` pairs, in their order, in one read
    /// transaction (`None` where there is none).
    async fn presence_entries<'a, T: Send + 'static>(
        &self,
        pairs: impl Iterator<Item = (&'a RoomId, &'a UserId)>,
        pick: fn(Entry) -> Option<T>,
    ) -> Result<Vec<Option<T>>, StoreError> {
        let keys: Vec<String> = pairs
            .map(|(room, user)| presence_key(room.as_str(), user))
            .collect();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let presence = txn.open_table(PRESENCE).map_err(unavailable)?;
            keys.iter()
                .map(|k| {
                    Ok(match presence.get(k.as_str()).map_err(unavailable)? {
                        Some(bytes) => pick(decode::<Entry>(bytes.value())?),
                        None => None,
                    })
                })
                .collect()
        })
        .await
    }
}

/// The end of a member's ban, from its presence entry (if any).
fn banned_until(
    presence: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(match presence.get(key).map_err(unavailable)? {
        Some(bytes) => decode::<Entry>(bytes.value())?.banned_until,
        None => None,
    })
}

#[async_trait]
impl MemberBan for EmbeddedStore {
    async fn ban_member(
        &self,
        room: &RoomId,
        user: &UserId,
        until: DateTime<Utc>,
        _expires_at: i64,
        events: &[OutboxEntry],
    ) -> Result<(), StoreError> {
        let (room, user) = (room.clone(), user.clone());
        let events = events.to_vec();
        self.write(move |txn| {
            if !events.is_empty() {
                // The room's change counter, as every reported change moves it.
                let mut rooms = txn.open_table(ROOMS).map_err(unavailable)?;
                let mut current = read_room(&rooms, room.as_str())?.ok_or(StoreError::Conflict)?;
                if !count_change(&mut current, &events) {
                    return Err(StoreError::Conflict);
                }
                rooms
                    .insert(room.as_str(), encode(&current)?.as_slice())
                    .map_err(unavailable)?;
            }
            put_outbox(txn, &events)?;
            unlist(txn, &room, &user, None)?;
            let mut presence = txn.open_table(PRESENCE).map_err(unavailable)?;
            let k = presence_key(room.as_str(), &user);
            let entry = match presence.get(k.as_str()).map_err(unavailable)? {
                Some(bytes) => Entry {
                    banned_until: Some(until),
                    ..decode::<Entry>(bytes.value())?
                },
                None => Entry {
                    user_id: user.clone(),
                    joined_at: None,
                    last_seen: until,
                    listed: false,
                    visits: 0,
                    banned_until: Some(until),
                },
            };
            presence
                .insert(k.as_str(), encode(&entry)?.as_slice())
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl Moderation for EmbeddedStore {
    async fn set_muted(
        &self,
        room: &RoomId,
        anchor: &UserId,
        user: &UserId,
        muted: bool,
    ) -> Result<(), StoreError> {
        let (anchor, user) = (anchor.clone(), user.clone());
        self.change_room(room, move |current| {
            if current.is_deleted() || current.anchor_id != anchor {
                return Ok(false);
            }
            match (current.muted.binary_search(&user), muted) {
                (Err(at), true) if current.muted.len() < MAX_MUTED => {
                    current.muted.insert(at, user);
                }
                (Err(_), true) => return Ok(false),
                (Ok(at), false) => {
                    current.muted.remove(at);
                }
                (Ok(_), true) | (Err(_), false) => {}
            }
            Ok(true)
        })
        .await
        .and_then(conflict_unless)
    }
}

#[cfg(test)]
#[path = "../tests/embedded.rs"]
mod tests;

#[async_trait]
impl OutboxWork for EmbeddedStore {
    async fn outbox_rooms(&self, limit: usize) -> Result<Vec<RoomId>, StoreError> {
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let outbox = txn.open_table(OUTBOX).map_err(unavailable)?;
            let mut rooms: Vec<RoomId> = Vec::new();
            // The room is the key's first part: no entry needs decoding here.
            for row in outbox.iter().map_err(unavailable)? {
                let (key, _) = row.map_err(unavailable)?;
                let room = key.value().split('|').next().unwrap_or_default();
                if rooms.last().map(RoomId::as_str) != Some(room) {
                    if rooms.len() == limit {
                        break;
                    }
                    rooms.push(
                        RoomId::parse("room", room)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    );
                }
            }
            Ok(rooms)
        })
        .await
    }

    async fn outbox(&self, room: &RoomId) -> Result<Vec<OutboxEntry>, StoreError> {
        let prefix = format!("{room}|");
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let outbox = txn.open_table(OUTBOX).map_err(unavailable)?;
            let end = end_of(&prefix);
            outbox
                .range(prefix.as_str()..end.as_str())
                .map_err(unavailable)?
                .map(|row| decode(row.map_err(unavailable)?.1.value()))
                .collect()
        })
        .await
    }

    async fn outbox_done(&self, entry: &OutboxEntry) -> Result<(), StoreError> {
        let key = outbox_key(entry);
        self.write(move |txn| {
            txn.open_table(OUTBOX)
                .map_err(unavailable)?
                .remove(key.as_str())
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn outbox_later(
        &self,
        entry: &OutboxEntry,
        attempts: u32,
        next_at_ms: i64,
    ) -> Result<(), StoreError> {
        let key = outbox_key(entry);
        self.write(move |txn| {
            let mut outbox = txn.open_table(OUTBOX).map_err(unavailable)?;
            let stored = match outbox.get(key.as_str()).map_err(unavailable)? {
                Some(bytes) => decode::<OutboxEntry>(bytes.value())?,
                None => return Ok(()),
            };
            let updated = OutboxEntry {
                attempts,
                next_at_ms,
                ..stored
            };
            outbox
                .insert(key.as_str(), encode_entry(&updated)?.as_slice())
                .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn set_chat_ready(&self, room: &RoomId, ready: bool) -> Result<(), StoreError> {
        self.change_room(room, move |current| {
            current.chat_ready = ready;
            Ok(true)
        })
        .await
        .map(|_| ())
    }
}
