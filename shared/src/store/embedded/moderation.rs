//! Moderation: a kick's ban on the member's presence record, the muted set on the room, and
//! a member's ban and last sighting as the features read them.
//!
//! Never here: who may kick or mute (that is `moderation`, the feature).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redb::ReadableTable;

use super::accounts::{Held, read_session, stands};
use super::operator::put_audit;
use super::outbox::put_outbox;
use super::presence::{Entry, presence_key, unlist};
use super::rooms::{change_room_in, conflict_unless, count_change, read_room};
use super::{EmbeddedStore, PRESENCE, ROOMS, encode, record};
use crate::domain::audit::AuditEntry;
use crate::domain::outbox::Entry as OutboxEntry;
use crate::domain::room::Room;
use crate::domain::{RoomId, UserId};
use crate::store::{
    Ban, BanList, MAX_BANS_LISTED, MAX_MUTED, MemberBan, MemberRead, Moderation, SessionFound,
    SessionGuard, StoreError,
};

#[async_trait]
impl MemberRead for EmbeddedStore {
    async fn room_member(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<(Option<Room>, Option<DateTime<Utc>>), StoreError> {
        let (id, key) = (room.clone(), presence_key(room.as_str(), user));
        self.read(move |txn| {
            let rooms = txn.open_table(ROOMS)?;
            let found = read_room(&rooms, id.as_str())?;
            let presence = txn.open_table(PRESENCE)?;
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
        self.read(move |txn| {
            let found_session = read_session(txn, &user, &session)?;
            let rooms = txn.open_table(ROOMS)?;
            let found = read_room(&rooms, id.as_str())?;
            let presence = txn.open_table(PRESENCE)?;
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
        self.read(move |txn| {
            let found = read_session(txn, &user, &session)?;
            let presence = txn.open_table(PRESENCE)?;
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
        self.read(move |txn| {
            let presence = txn.open_table(PRESENCE)?;
            keys.iter()
                .map(|k| Ok(record::<Entry>(&presence, k)?.and_then(pick)))
                .collect()
        })
        .await
    }
}

/// The end of a member's ban, from its presence entry (if any).
pub(super) fn banned_until(
    presence: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(record::<Entry>(presence, key)?.and_then(|entry| entry.banned_until))
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
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        let (room, user) = (room.clone(), user.clone());
        let events = events.to_vec();
        let audit = audit.cloned();
        self.write(move |txn| {
            put_audit(txn, audit.as_ref())?;
            if !events.is_empty() {
                // The room's change counter, as every reported change moves it.
                let mut rooms = txn.open_table(ROOMS)?;
                let mut current = read_room(&rooms, room.as_str())?.ok_or(StoreError::Conflict)?;
                if !count_change(&mut current, &events) {
                    return Err(StoreError::Conflict);
                }
                rooms.insert(room.as_str(), encode(&current)?.as_slice())?;
            }
            put_outbox(txn, &events)?;
            unlist(txn, &room, &user, None)?;
            let mut presence = txn.open_table(PRESENCE)?;
            let k = presence_key(room.as_str(), &user);
            let entry = match record::<Entry>(&presence, &k)? {
                Some(entry) => Entry {
                    banned_until: Some(until),
                    ..entry
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
            presence.insert(k.as_str(), encode(&entry)?.as_slice())?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl BanList for EmbeddedStore {
    async fn room_bans(
        &self,
        room: &RoomId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Ban>, StoreError> {
        // The room's presence records (every shard: keys `{room}|{shard}|{user}`), the barred
        // ones. A read of the whole room: the embedded store serves one machine's rooms.
        let prefix = format!("{room}|");
        let limit = usize::try_from(limit.min(MAX_BANS_LISTED)).unwrap_or(1);
        self.read(move |txn| {
            let mut bans = Vec::new();
            for row in txn
                .open_table(PRESENCE)?
                .range(prefix.as_str()..super::end_of(&prefix).as_str())?
            {
                let (_, value) = row?;
                let entry: Entry = super::decode(value.value())?;
                if let Some(until) = entry.banned_until.filter(|until| *until > now) {
                    bans.push(Ban {
                        user_id: entry.user_id,
                        until,
                    });
                }
            }
            bans.sort_by(|a, b| (b.until, b.user_id.as_str()).cmp(&(a.until, a.user_id.as_str())));
            bans.truncate(limit);
            Ok(bans)
        })
        .await
    }
}

#[async_trait]
impl Moderation for EmbeddedStore {
    async fn set_muted(
        &self,
        room: &RoomId,
        anchor: Option<&UserId>,
        user: &UserId,
        muted: bool,
        audit: Option<&AuditEntry>,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<(), StoreError> {
        let (id, anchor, user) = (room.clone(), anchor.cloned(), user.clone());
        let (guard, audit) = (Held::of(guard), audit.cloned());
        self.write(move |txn| {
            // The anchor's standing, in the same transaction as the change.
            if !stands(txn, guard.as_ref())? {
                return Ok(false);
            }
            let change = move |current: &mut Room| {
                if current.is_deleted() || anchor.is_some_and(|a| current.anchor_id != a) {
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
            };
            change_room_in(txn, &id, change, &[], audit.as_ref())
        })
        .await
        .and_then(conflict_unless)
    }
}
