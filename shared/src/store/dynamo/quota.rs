//! The caps on a user's rooms: the tally item in the user's partition (`USER#{id}` /
//! `ROOMS`: `open_rooms`, a string set; `rc_minute` and `rc_count`), moved in the same
//! transaction as the room's put, on conditions that keep it under the caps however many
//! creations race.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::accounts::{session_keys, take_session};
use super::change::{Change, put};
use super::codec::{Reader, room_to_item, user_from_item};
use super::outbox::entry_item;
use super::schema::{OPEN_ROOMS, SK, TALLY_CREATED, TALLY_MINUTE, USER_SK, n, tally_key, user_key};
use super::{DynamoStore, conditional};
use crate::domain::outbox::Entry;
use crate::domain::room::Room;
use crate::domain::user::User;
use crate::domain::{RoomId, UserId};
use crate::store::{RoomCaps, RoomQuota, RoomTally, SessionFound, StoreError};

fn id_set<'a>(ids: impl IntoIterator<Item = &'a RoomId>) -> AttributeValue {
    AttributeValue::Ss(ids.into_iter().map(|id| id.to_string()).collect())
}

fn tally_from_item(item: &super::schema::Item) -> Result<RoomTally, StoreError> {
    let r = Reader(item);
    let open = match item.get(OPEN_ROOMS) {
        None => Vec::new(),
        Some(AttributeValue::Ss(ids)) => ids
            .iter()
            .map(|id| RoomId::parse(OPEN_ROOMS, id).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(StoreError::Corrupt(format!(
                "attribute {OPEN_ROOMS} is not a string set"
            )));
        }
    };
    Ok(RoomTally {
        open,
        minute: r.opt_num(TALLY_MINUTE)?.unwrap_or(0),
        created: u32::try_from(r.count(TALLY_CREATED)?).unwrap_or(u32::MAX),
    })
}

#[async_trait]
impl RoomQuota for DynamoStore {
    async fn user_tally(&self, id: &UserId) -> Result<(Option<User>, RoomTally), StoreError> {
        let mut user = None;
        let mut tally = RoomTally::default();
        for item in self.batch_get(vec![user_key(id), tally_key(id)]).await? {
            match item.get(SK) {
                Some(AttributeValue::S(sk)) if sk == USER_SK => user = Some(user_from_item(&item)?),
                _ => tally = tally_from_item(&item)?,
            }
        }
        Ok((user, tally))
    }

    async fn user_tally_in_session(
        &self,
        id: &UserId,
        session: &str,
    ) -> Result<(SessionFound, RoomTally), StoreError> {
        let mut keys = session_keys(id, session);
        keys.push(tally_key(id));
        let mut items = self.batch_get(keys).await?;
        let found = take_session(&mut items, id)?;
        let tally = match items.first() {
            Some(item) => tally_from_item(item)?,
            None => RoomTally::default(),
        };
        Ok((found, tally))
    }

    async fn insert_counted_room(
        &self,
        room: &Room,
        events: &[Entry],
        caps: RoomCaps,
        seen: &RoomTally,
    ) -> Result<(), StoreError> {
        let mut room = room.clone();
        crate::domain::outbox::counted(&mut room, events);
        // The open set below its cap (an absent set is empty), and the minute's count below
        // its cap, or a new minute that starts it over.
        let (update, minute_holds) = if seen.minute == caps.minute {
            (
                "ADD #open :room, #created :one",
                "#minute = :minute AND #created < :per_minute",
            )
        } else {
            (
                "SET #minute = :minute, #created = :one ADD #open :room",
                "(attribute_not_exists(#minute) OR #minute < :minute)",
            )
        };
        let tally = Change::new(tally_key(&room.anchor_id), update)
            .condition(format!(
                "(attribute_not_exists(#open) OR size(#open) < :max_open) AND {minute_holds}"
            ))
            .name("#open", OPEN_ROOMS)
            .name("#minute", TALLY_MINUTE)
            .name("#created", TALLY_CREATED)
            .value(":room", id_set([&room.id]))
            .value(":one", n(1))
            .value(":minute", n(caps.minute))
            .value(":max_open", n(caps.max_open));
        let tally = if seen.minute == caps.minute {
            tally.value(":per_minute", n(caps.per_minute))
        } else {
            tally
        };
        let mut items = vec![
            put(
                room_to_item(&room),
                &self.table,
                Some("attribute_not_exists(pk)"),
            )?,
            tally.into_transact_item(&self.table)?,
        ];
        for entry in events {
            items.push(put(entry_item(entry)?, &self.table, None)?);
        }
        self.transact(items).await
    }

    async fn forget_rooms(&self, user: &UserId, rooms: &[RoomId]) -> Result<(), StoreError> {
        if rooms.is_empty() {
            return Ok(());
        }
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(tally_key(user)))
            .update_expression("DELETE #open :rooms")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#open", OPEN_ROOMS)
            .expression_attribute_values(":rooms", id_set(rooms))
            .send()
            .await
            .map(|_| ())
            .map_err(conditional);
        match result {
            // No tally: nothing to forget.
            Err(StoreError::Conflict) => Ok(()),
            other => other,
        }
    }
}
