//! The outbox: entries added in the transaction of the change they report (`outbox`, keyed
//! `{room}|{sink}|{seq}`), read by room, and removed once delivered (a vendor call's with the
//! audit entry of its outcome, in one transaction). The `audit` webhook's feed: a cursor
//! (`audit_feed`) and the audit table read after it.
//!
//! Never here: delivery itself (that is `delivery`).

use async_trait::async_trait;
use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::operator::{audit_after, put_audit};
use super::{EmbeddedStore, OUTBOX, decode, end_of, record};
use crate::domain::RoomId;
use crate::domain::audit::AuditEntry;
use crate::domain::outbox::Entry as OutboxEntry;
use crate::store::{OutboxWork, StoreError};

/// The `audit` webhook feed's cursor: the id of the last audit entry delivered.
const AUDIT_FEED: TableDefinition<&str, &str> = TableDefinition::new("audit_feed");
const AUDIT_FEED_KEY: &str = "webhook";

fn outbox_key(entry: &OutboxEntry) -> String {
    format!("{}|{}|{}", entry.room, entry.sink.as_str(), entry.seq)
}

/// Outbox entries are JSON (read back by [`decode`]): an event's optional parts are left out
/// of its JSON, which postcard, not self-describing, cannot read back.
fn encode_entry(entry: &OutboxEntry) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(entry).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Adds `events` to the outbox (in the caller's transaction).
pub(super) fn put_outbox(txn: &WriteTransaction, events: &[OutboxEntry]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut outbox = txn.open_table(OUTBOX)?;
    for entry in events {
        outbox.insert(outbox_key(entry).as_str(), encode_entry(entry)?.as_slice())?;
    }
    Ok(())
}

#[async_trait]
impl OutboxWork for EmbeddedStore {
    async fn outbox_rooms(&self, limit: usize) -> Result<Vec<RoomId>, StoreError> {
        self.read(move |txn| {
            let outbox = txn.open_table(OUTBOX)?;
            let mut rooms: Vec<RoomId> = Vec::new();
            // The room is the key's first part: no entry needs decoding here.
            for row in outbox.iter()? {
                let (key, _) = row?;
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
        self.read(move |txn| {
            let outbox = txn.open_table(OUTBOX)?;
            let end = end_of(&prefix);
            outbox
                .range(prefix.as_str()..end.as_str())?
                .map(|row| decode(row?.1.value()))
                .collect()
        })
        .await
    }

    async fn outbox_done(&self, entry: &OutboxEntry) -> Result<(), StoreError> {
        let key = outbox_key(entry);
        self.write(move |txn| {
            txn.open_table(OUTBOX)?.remove(key.as_str())?;
            Ok(())
        })
        .await
    }

    async fn outbox_done_audited(
        &self,
        entry: &OutboxEntry,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let key = outbox_key(entry);
        let audit = audit.clone();
        self.write(move |txn| {
            let removed = txn.open_table(OUTBOX)?.remove(key.as_str())?.is_some();
            if removed {
                put_audit(txn, Some(&audit))?;
            }
            Ok(removed)
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
            let mut outbox = txn.open_table(OUTBOX)?;
            let Some(stored) = record::<OutboxEntry>(&outbox, &key)? else {
                return Ok(());
            };
            let updated = OutboxEntry {
                attempts,
                next_at_ms,
                ..stored
            };
            outbox.insert(key.as_str(), encode_entry(&updated)?.as_slice())?;
            Ok(())
        })
        .await
    }

    async fn audit_feed(&self, limit: usize) -> Result<(String, Vec<AuditEntry>), StoreError> {
        self.read(move |txn| {
            // Made by the first move of the cursor: none yet is no cursor.
            let cursor = match txn.open_table(AUDIT_FEED) {
                Ok(table) => table
                    .get(AUDIT_FEED_KEY)?
                    .map(|v| v.value().to_owned())
                    .unwrap_or_default(),
                Err(redb::TableError::TableDoesNotExist(_)) => String::new(),
                Err(e) => return Err(e.into()),
            };
            let entries = audit_after(txn, &cursor, limit)?;
            Ok((cursor, entries))
        })
        .await
    }

    async fn audit_feed_moved(&self, from: &str, to: &str) -> Result<bool, StoreError> {
        let (from, to) = (from.to_owned(), to.to_owned());
        self.write(move |txn| {
            let mut feed = txn.open_table(AUDIT_FEED)?;
            let current = feed
                .get(AUDIT_FEED_KEY)?
                .map(|v| v.value().to_owned())
                .unwrap_or_default();
            if current != from {
                return Ok(false);
            }
            feed.insert(AUDIT_FEED_KEY, to.as_str())?;
            Ok(true)
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
