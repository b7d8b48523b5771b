//! The listings: `room_index` holds each room under the partition of every listing it is in
//! (as the DynamoDB store's listing indexes do), so that a filtered page reads only its matches.
//!
//! Never here: what a listing matches (that is `Listing` and `RoomQuery`, in the domain).

use async_trait::async_trait;
use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};

use super::rooms::read_room;
use super::{EmbeddedStore, ROOM_INDEX, ROOMS, decode, end_of};
use crate::domain::room::{Listing, Room, RoomQuery, created_prefix};
use crate::store::{RoomList, StoreError};

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
pub(super) fn reindex(
    txn: &WriteTransaction,
    before: Option<&Room>,
    after: Option<&Room>,
) -> Result<(), StoreError> {
    let old = before.map(listing_keys).unwrap_or_default();
    let new = after.map(listing_keys).unwrap_or_default();
    if old == new {
        return Ok(());
    }
    let mut index = txn.open_table(ROOM_INDEX)?;
    for key in old.iter().filter(|k| !new.contains(k)) {
        index.remove(key.as_str())?;
    }
    if let Some(room) = after {
        for key in new.iter().filter(|k| !old.contains(k)) {
            index.insert(key.as_str(), room.id.as_str())?;
        }
    }
    Ok(())
}

/// Indexes every room in a `room_index` just made (a data file from before it).
pub(super) fn index_rooms_if_new(txn: &WriteTransaction) -> Result<(), StoreError> {
    if !txn.open_table(ROOM_INDEX)?.is_empty()? {
        return Ok(());
    }
    let rooms: Vec<Room> = {
        let table = txn.open_table(ROOMS)?;
        let mut rooms = Vec::new();
        for entry in table.iter()? {
            let (_, bytes) = entry?;
            rooms.push(decode(bytes.value())?);
        }
        rooms
    };
    for room in &rooms {
        reindex(txn, None, Some(room))?;
    }
    Ok(())
}

#[async_trait]
impl RoomList for EmbeddedStore {
    async fn list_rooms(&self, query: &RoomQuery) -> Result<Vec<Room>, StoreError> {
        let query = query.clone();
        self.read(move |txn| {
            let rooms = txn.open_table(ROOMS)?;
            let index = txn.open_table(ROOM_INDEX)?;
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
                    .range(low.as_str()..high.as_str())?
                    .rev()
                    .take(query.depth())
                {
                    let (key, id) = entry?;
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
