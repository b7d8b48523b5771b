//! The caps on a user's rooms: the tally in `room_tallies`, checked and moved in the same
//! transaction as the room's insertion.
//!
//! Never here: the caps' values (that is `rooms`, the feature).

use async_trait::async_trait;
use redb::ReadableTable;

use super::accounts::read_session;
use super::rooms::{add_room, read_room};
use super::{EmbeddedStore, ROOM_TALLIES, ROOMS, USERS, encode, record};
use crate::domain::outbox::Entry as OutboxEntry;
use crate::domain::room::Room;
use crate::domain::user::User;
use crate::domain::{RoomId, UserId};
use crate::store::{RoomCaps, RoomQuota, RoomTally, SessionFound, StoreError};

fn read_tally(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    user: &str,
) -> Result<RoomTally, StoreError> {
    Ok(record(table, user)?.unwrap_or_default())
}

#[async_trait]
impl RoomQuota for EmbeddedStore {
    async fn user_tally(&self, id: &UserId) -> Result<(Option<User>, RoomTally), StoreError> {
        let id = id.clone();
        self.read(move |txn| {
            let users = txn.open_table(USERS)?;
            let user = record(&users, id.as_str())?;
            let tallies = txn.open_table(ROOM_TALLIES)?;
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
        self.read(move |txn| {
            let found = read_session(txn, &id, &session)?;
            let tallies = txn.open_table(ROOM_TALLIES)?;
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
            let mut tallies = txn.open_table(ROOM_TALLIES)?;
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
            if read_room(&txn.open_table(ROOMS)?, room.id.as_str())?.is_some() {
                return Err(StoreError::Conflict);
            }
            tally.open.push(room.id.clone());
            tallies.insert(anchor, encode(&tally)?.as_slice())?;
            drop(tallies);
            add_room(txn, &room, &events)
        })
        .await
    }

    async fn forget_rooms(&self, user: &UserId, rooms: &[RoomId]) -> Result<(), StoreError> {
        let user = user.clone();
        let rooms = rooms.to_vec();
        self.write(move |txn| {
            let mut tallies = txn.open_table(ROOM_TALLIES)?;
            let Some(mut tally) = record::<RoomTally>(&tallies, user.as_str())? else {
                return Ok(());
            };
            tally.open.retain(|id| !rooms.contains(id));
            tallies.insert(user.as_str(), encode(&tally)?.as_slice())?;
            Ok(())
        })
        .await
    }
}
