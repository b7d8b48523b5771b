//! The outbox: entries written in the same write as the change they report (a
//! `TransactWriteItems` of the change and the entries' puts; the change alone, one plain
//! write, when there are none), found through a sparse partition of the presence index, and
//! removed once delivered (a vendor call's with the audit entry of its outcome, in one
//! transaction). The `audit` webhook's feed: a cursor item (`AUDIT_FEED` / `webhook`) and a
//! `Query` of the audit partition after it.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};

use super::change::{Change, put};
use super::codec::Reader;
use super::schema::{
    AUDIT_PK, CHANGES, GSI_PRESENCE, Item, OUTBOX_INDEX_PARTITION, PK, SK, TTL_ATTRIBUTE, n,
    outbox_key, outbox_pk, room_key, s,
};
use super::{DynamoStore, applied, build_error, conditional, unavailable};
use crate::domain::RoomId;
use crate::domain::audit::AuditEntry;
use crate::domain::outbox::Entry;
use crate::store::{OutboxWork, StoreError};

/// Index items read per page while looking for rooms with entries.
const INDEX_PAGE: i32 = 1000;

/// The `audit` webhook feed's cursor: one item, `AUDIT_FEED` / `webhook`, whose `last` is the
/// id of the last audit entry delivered.
const AUDIT_FEED_PK: &str = "AUDIT_FEED";
const AUDIT_FEED_LAST: &str = "last";

fn audit_feed_key() -> Item {
    Item::from([
        (PK.to_owned(), s(AUDIT_FEED_PK)),
        (SK.to_owned(), s("webhook")),
    ])
}

/// `change` of the room item also moving its change counter to `order`, if it is still one
/// below (or absent: a room stored before the counter, whose count was derived).
fn count_change(mut change: Change, order: u64) -> Change {
    const SET: &str = "#changes = :changes_next";
    change.update = match change.update.strip_prefix("SET ") {
        Some(rest) if change.update.contains(SET) => format!("SET {rest}"),
        Some(rest) => format!("SET {SET}, {rest}"),
        None => format!("SET {SET} {}", change.update),
    };
    let counted = "(attribute_not_exists(#changes) OR #changes = :changes_prev)";
    change.condition = Some(match change.condition.take() {
        Some(condition) => format!("({condition}) AND {counted}"),
        None => counted.to_owned(),
    });
    change
        .name("#changes", CHANGES)
        .value(":changes_next", n(order))
        .value(":changes_prev", n(order.saturating_sub(1)))
}

/// The item of an outbox entry.
pub(super) fn entry_item(entry: &Entry) -> Result<Item, StoreError> {
    let mut item = outbox_key(entry);
    let json = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.extend([
        ("entry".to_owned(), s(json)),
        ("attempts".to_owned(), n(entry.attempts)),
        ("next_at_ms".to_owned(), n(entry.next_at_ms)),
        (TTL_ATTRIBUTE.to_owned(), n(entry.expires_at)),
        (GSI_PRESENCE.pk.to_owned(), s(OUTBOX_INDEX_PARTITION)),
        (
            GSI_PRESENCE.sk.to_owned(),
            s(format!(
                "{}#{}#{}",
                entry.room,
                entry.sink.as_str(),
                entry.seq
            )),
        ),
    ]);
    Ok(item)
}

fn entry_from_item(item: &Item) -> Result<Entry, StoreError> {
    let r = Reader(item);
    let mut entry: Entry = serde_json::from_str(r.str("entry")?)
        .map_err(|e| StoreError::Corrupt(format!("attribute entry: {e}")))?;
    entry.attempts = u32::try_from(r.count("attempts")?).unwrap_or(u32::MAX);
    entry.next_at_ms = r.num("next_at_ms")?;
    Ok(entry)
}

impl DynamoStore {
    /// Sends `change`, with `events` put in the same transaction when there are any, and the
    /// room's change counter moved to their order on the condition that it is one below (in
    /// `change` itself when it is the room item's, else as one more update of the room item);
    /// also holds to `checks` (conditions on other items) and puts `audit` in the same
    /// transaction.
    pub(super) async fn change_reporting_checked(
        &self,
        change: Change,
        checks: Vec<Change>,
        events: &[Entry],
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        let mut puts: Vec<Item> = events.iter().map(entry_item).collect::<Result<_, _>>()?;
        if let Some(audit) = audit {
            puts.push(super::operator::audit_item(audit)?);
        }
        let mut changes = match events.first() {
            None => vec![change],
            Some(first) => {
                let room = room_key(&first.room);
                if change.key == room {
                    vec![count_change(change, first.order)]
                } else {
                    let counter = Change::new(room, "SET #changes = :changes_next")
                        .condition("attribute_exists(pk)");
                    vec![change, count_change(counter, first.order)]
                }
            }
        };
        changes.extend(checks);
        self.write(changes, puts).await
    }

    /// Puts `item` if `condition` holds, with `events` put in the same transaction.
    pub(super) async fn put_reporting(
        &self,
        item: Item,
        condition: &str,
        events: &[Entry],
    ) -> Result<(), StoreError> {
        if events.is_empty() {
            self.client()
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition)
                .send()
                .await
                .map_err(conditional)?;
            return Ok(());
        }
        let mut items = vec![put(item, &self.table, Some(condition))?];
        for entry in events {
            items.push(put(entry_item(entry)?, &self.table, None)?);
        }
        self.transact(items).await
    }
}

#[async_trait]
impl OutboxWork for DynamoStore {
    async fn outbox_rooms(&self, limit: usize) -> Result<Vec<RoomId>, StoreError> {
        let mut rooms: Vec<RoomId> = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(&self.table)
                .index_name(GSI_PRESENCE.name)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", GSI_PRESENCE.pk)
                .expression_attribute_names("#sk", GSI_PRESENCE.sk)
                .expression_attribute_values(":pk", s(OUTBOX_INDEX_PARTITION))
                .projection_expression("#sk")
                .limit(INDEX_PAGE)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.items.unwrap_or_default() {
                let reader = Reader(&item);
                let key = reader.str(GSI_PRESENCE.sk)?;
                let Some((room, _)) = key.split_once('#') else {
                    continue;
                };
                let room =
                    RoomId::parse("room", room).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                if rooms.last() != Some(&room) {
                    if rooms.len() == limit {
                        return Ok(rooms);
                    }
                    rooms.push(room);
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(rooms);
            }
        }
    }

    async fn outbox(&self, room: &RoomId) -> Result<Vec<Entry>, StoreError> {
        let query = self
            .client()
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(outbox_pk(room)))
            .consistent_read(true);
        self.query_all(query)
            .await?
            .iter()
            .map(entry_from_item)
            .collect()
    }

    async fn outbox_done(&self, entry: &Entry) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(outbox_key(entry)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn outbox_done_audited(
        &self,
        entry: &Entry,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(outbox_key(entry)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build_error)?;
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            put(super::operator::audit_item(audit)?, &self.table, None)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(true),
            // Removed (and audited) by another delivery meanwhile.
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn outbox_later(
        &self,
        entry: &Entry,
        attempts: u32,
        next_at_ms: i64,
    ) -> Result<(), StoreError> {
        let change = Change::new(
            outbox_key(entry),
            "SET attempts = :attempts, next_at_ms = :next",
        )
        .condition("attribute_exists(pk)")
        .value(":attempts", n(attempts))
        .value(":next", n(next_at_ms));
        let result = self.write(vec![change], Vec::new()).await;
        match result {
            // Delivered and removed by another delivery meanwhile.
            Err(StoreError::Conflict) => Ok(()),
            other => other,
        }
    }

    async fn audit_feed(&self, limit: usize) -> Result<(String, Vec<AuditEntry>), StoreError> {
        let cursor = self
            .client()
            .get_item()
            .table_name(&self.table)
            .set_key(Some(audit_feed_key()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?
            .item
            .map(|item| Reader(&item).str(AUDIT_FEED_LAST).map(str::to_owned))
            .transpose()?
            .unwrap_or_default();
        // Ids are `{13-digit ms}{hex}`: every one sorts after "0".
        let after = if cursor.is_empty() { "0" } else { &cursor };
        let out = self
            .client()
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk > :after")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(AUDIT_PK))
            .expression_attribute_values(":after", s(after))
            .consistent_read(true)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(unavailable)?;
        let entries = out
            .items
            .unwrap_or_default()
            .iter()
            .map(super::operator::audit_from_item)
            .collect::<Result<_, _>>()?;
        Ok((cursor, entries))
    }

    async fn audit_feed_moved(&self, from: &str, to: &str) -> Result<bool, StoreError> {
        let change = Change::new(audit_feed_key(), "SET #last = :to")
            .name("#last", AUDIT_FEED_LAST)
            .value(":to", s(to));
        let change = if from.is_empty() {
            change.condition("attribute_not_exists(#last)")
        } else {
            change.condition("#last = :from").value(":from", s(from))
        };
        applied(self.write(vec![change], Vec::new()).await)
    }

    async fn set_chat_ready(&self, room: &RoomId, ready: bool) -> Result<(), StoreError> {
        let change = Change::new(room_key(room), "SET chat_ready = :ready")
            .condition("attribute_exists(pk)")
            .value(":ready", AttributeValue::Bool(ready));
        let result = self.write(vec![change], Vec::new()).await;
        match result {
            // The room is gone: nothing to record.
            Err(StoreError::Conflict) => Ok(()),
            other => other,
        }
    }
}
