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
//! | `series`               | `{room}|{at ms}`                    | a sample       |
//! | `series_expiry`        | `{expires_at}|{room}|{at ms}`       | its `series` key |
//! | `stats`                | `last`                              | the last run's stats |
//!
//! `room_index` is the DynamoDB store's listing indexes in one table: a room is under the
//! partition of every listing it is in ([`Listing::of`](crate::domain::room::Listing::of)), so a filtered page reads only its
//! matches. A data file from before it is indexed when it is opened.
//!
//! A deleted room is marked and purged in one transaction here; the two steps exist (as in
//! DynamoDB) so that a purge can be resumed by the sweeper.
//!
//! One file per group of capabilities, as in `dynamo/`; here, the tables, opening the file, the
//! record format and the transactions every file runs in: [`EmbeddedStore::read`] and
//! [`EmbeddedStore::write`], in which a redb error converts into [`StoreError::Unavailable`] by
//! `From` (so a `?` is enough).
//!
//! Never here: who may do what, or a status change the room's `apply` did not decide.

mod accounts;
mod claims;
mod counters;
mod listing;
mod moderation;
mod operator;
mod outbox;
mod presence;
mod quota;
mod room_writes;
mod rooms;
mod series;
mod users;

use std::path::Path;
use std::sync::Arc;

use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};

use crate::store::StoreError;

const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
const USERNAMES: TableDefinition<&str, &str> = TableDefinition::new("usernames");
const ROOMS: TableDefinition<&str, &[u8]> = TableDefinition::new("rooms");
const ROOMS_BY_CREATED: TableDefinition<&str, &str> = TableDefinition::new("rooms_by_created");
/// `{listing partition}|{created_key}` → room id: the listings ([`Listing`](crate::domain::room::Listing)).
const ROOM_INDEX: TableDefinition<&str, &str> = TableDefinition::new("room_index");
/// user id → the caps' tally of the user's rooms ([`RoomTally`](crate::store::RoomTally)).
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
/// `{room}|{at ms}` → a sweeper run's sample of the room (issue 24).
const SERIES: TableDefinition<&str, &[u8]> = TableDefinition::new("series");
/// `{expires_at}|{room}|{at ms}` → the `series` key of the sample that expires then.
const SERIES_EXPIRY: TableDefinition<&str, &str> = TableDefinition::new("series_expiry");
/// `last` → the sweeper's last run's stats.
const STATS: TableDefinition<&str, &[u8]> = TableDefinition::new("stats");

/// The record under `key` in `table`, decoded (`None`: there is none).
fn record<T: serde::de::DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<T>, StoreError> {
    table
        .get(key)?
        .map(|bytes| decode(bytes.value()))
        .transpose()
}

/// The upper end of a key range starting with `prefix`.
fn end_of(prefix: &str) -> String {
    format!("{prefix}~")
}

fn pair_key(a: &str, b: &str) -> String {
    format!("{a}|{b}")
}

/// The file-backed store. Cheap to clone; all clones share one open database.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
}

/// Anything else that fails on the way to the file (the blocking pool), as unavailability.
fn unavailable(err: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(err.to_string())
}

impl From<redb::DatabaseError> for StoreError {
    fn from(err: redb::DatabaseError) -> Self {
        unavailable(err)
    }
}

impl From<redb::TransactionError> for StoreError {
    fn from(err: redb::TransactionError) -> Self {
        unavailable(err)
    }
}

impl From<redb::TableError> for StoreError {
    fn from(err: redb::TableError) -> Self {
        unavailable(err)
    }
}

impl From<redb::StorageError> for StoreError {
    fn from(err: redb::StorageError) -> Self {
        unavailable(err)
    }
}

impl From<redb::CommitError> for StoreError {
    fn from(err: redb::CommitError) -> Self {
        unavailable(err)
    }
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
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        {
            txn.open_table(USERS)?;
            txn.open_table(USERNAMES)?;
            txn.open_table(ROOMS)?;
            txn.open_table(ROOMS_BY_CREATED)?;
            txn.open_table(ROOM_TALLIES)?;
            listing::index_rooms_if_new(&txn)?;
            txn.open_table(PRESENCE)?;
            txn.open_table(PRESENCE_BY_ACTIVITY)?;
            txn.open_table(COUNTERS)?;
            txn.open_table(ENDED_SESSIONS)?;
            txn.open_table(THROTTLE)?;
            txn.open_table(NONCES)?;
            txn.open_table(SIGNATURE_USES)?;
            txn.open_table(OUTBOX)?;
            txn.open_table(SERIES)?;
            txn.open_table(SERIES_EXPIRY)?;
            txn.open_table(STATS)?;
            txn.open_table(operator::API_KEYS)?;
            txn.open_table(operator::AUDIT)?;
            txn.open_table(operator::AUDIT_BY_ROOM)?;
            txn.open_table(operator::AUDIT_BY_ACTOR)?;
        }
        txn.commit()?;
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
            let txn = db.begin_write()?;
            let out = f(&txn)?;
            txn.commit()?;
            Ok(out)
        })
        .await
    }

    /// Runs `f` in one read transaction.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        self.blocking(move |db| f(&db.begin_read()?)).await
    }
}

#[cfg(test)]
#[path = "../../tests/embedded.rs"]
mod tests;
