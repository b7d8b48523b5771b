//! Rooms: the room item read alone, with its counters and by ids; created and deleted; and
//! the one way every change of a stored room is written (read, change, count the outbox's
//! entries, reindex, write back, in one transaction).
//!
//! Never here: which change a room may take (that is `Room::apply`); the listings' index
//! ([`super::listing`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redb::{ReadableTable, WriteTransaction};

use super::accounts::read_session;
use super::counters::read_counters;
use super::listing::reindex;
use super::moderation::banned_until;
use super::operator::put_audit;
use super::outbox::put_outbox;
use super::presence::presence_key;
use super::{
    COUNTERS, EmbeddedStore, PRESENCE, PRESENCE_BY_ACTIVITY, ROOMS, ROOMS_BY_CREATED, encode,
    end_of, record,
};
use crate::domain::audit::AuditEntry;
use crate::domain::outbox::Entry as OutboxEntry;
use crate::domain::room::{Counters, Room};
use crate::domain::{RoomId, UserId};
use crate::store::{
    RoomBatchRead, RoomCreate, RoomDelete, RoomRead, RoomView, SessionFound, StoreError,
};

impl EmbeddedStore {
    /// Applies `change` to the stored room (if any) and writes it back if it returns true.
    pub(super) async fn change_room<F>(&self, id: &RoomId, change: F) -> Result<bool, StoreError>
    where
        F: FnOnce(&mut Room) -> Result<bool, StoreError> + Send + 'static,
    {
        self.change_room_reporting(id, change, &[]).await
    }

    /// [`Self::change_room`], with `events` added to the outbox in the same transaction if
    /// the change applies.
    pub(super) async fn change_room_reporting<F>(
        &self,
        id: &RoomId,
        change: F,
        events: &[OutboxEntry],
    ) -> Result<bool, StoreError>
    where
        F: FnOnce(&mut Room) -> Result<bool, StoreError> + Send + 'static,
    {
        self.change_room_audited(id, change, events, None).await
    }

    /// [`Self::change_room_reporting`], with `audit` put in the same transaction too.
    pub(super) async fn change_room_audited<F>(
        &self,
        id: &RoomId,
        change: F,
        events: &[OutboxEntry],
        audit: Option<&AuditEntry>,
    ) -> Result<bool, StoreError>
    where
        F: FnOnce(&mut Room) -> Result<bool, StoreError> + Send + 'static,
    {
        let id = id.clone();
        let events = events.to_vec();
        let audit = audit.cloned();
        self.write(move |txn| change_room_in(txn, &id, change, &events, audit.as_ref()))
            .await
    }
}

/// The body of [`EmbeddedStore::change_room_reporting`], inside a write transaction.
pub(super) fn change_room_in<F>(
    txn: &WriteTransaction,
    id: &RoomId,
    change: F,
    events: &[OutboxEntry],
    audit: Option<&AuditEntry>,
) -> Result<bool, StoreError>
where
    F: FnOnce(&mut Room) -> Result<bool, StoreError>,
{
    let mut rooms = txn.open_table(ROOMS)?;
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
    rooms.insert(id.as_str(), encode(&room)?.as_slice())?;
    reindex(txn, Some(&before), Some(&room))?;
    put_outbox(txn, events)?;
    put_audit(txn, audit)?;
    Ok(true)
}

/// Moves the room's change counter to the order of `events` (if any), if it is one below:
/// false when another reported change committed since the writer read the room.
pub(super) fn count_change(room: &mut Room, events: &[OutboxEntry]) -> bool {
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
pub(super) fn conflict_unless(applied: bool) -> Result<(), StoreError> {
    if applied {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

pub(super) fn read_room(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    id: &str,
) -> Result<Option<Room>, StoreError> {
    record(table, id)
}

#[async_trait]
impl RoomCreate for EmbeddedStore {
    async fn insert_room(&self, room: &Room, events: &[OutboxEntry]) -> Result<(), StoreError> {
        let mut room = room.clone();
        crate::domain::outbox::counted(&mut room, events);
        let events = events.to_vec();
        self.write(move |txn| {
            let rooms = txn.open_table(ROOMS)?;
            if rooms.get(room.id.as_str())?.is_some() {
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
pub(super) fn add_room(
    txn: &WriteTransaction,
    room: &Room,
    events: &[OutboxEntry],
) -> Result<(), StoreError> {
    txn.open_table(ROOMS)?
        .insert(room.id.as_str(), encode(room)?.as_slice())?;
    txn.open_table(ROOMS_BY_CREATED)?
        .insert(room.created_key().as_str(), room.id.as_str())?;
    reindex(txn, None, Some(room))?;
    put_outbox(txn, events)
}

#[async_trait]
impl RoomBatchRead for EmbeddedStore {
    async fn rooms_by_id(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError> {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        self.read(move |txn| {
            let rooms = txn.open_table(ROOMS)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                out.extend(read_room(&rooms, id.as_str())?);
            }
            Ok(out)
        })
        .await
    }

    async fn rooms_by_id_in_session(
        &self,
        ids: &[RoomId],
        user: &UserId,
        session: &str,
    ) -> Result<(Vec<Room>, SessionFound), StoreError> {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        let (user, session) = (user.clone(), session.to_owned());
        self.read(move |txn| {
            let found = super::accounts::read_session(txn, &user, &session)?;
            let rooms = txn.open_table(ROOMS)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                out.extend(read_room(&rooms, id.as_str())?);
            }
            Ok((out, found))
        })
        .await
    }
}

#[async_trait]
impl RoomRead for EmbeddedStore {
    async fn room(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        let id = id.clone();
        self.read(move |txn| {
            let rooms = txn.open_table(ROOMS)?;
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
        self.read(move |txn| {
            let session = match &viewer {
                Some((v, session)) => read_session(txn, v, session)?,
                None => SessionFound::default(),
            };
            let rooms = txn.open_table(ROOMS)?;
            let Some(room) = read_room(&rooms, id.as_str())? else {
                return Ok((None, session));
            };
            let counters = txn.open_table(COUNTERS)?;
            let banned_until = match &key {
                Some(key) => banned_until(&txn.open_table(PRESENCE)?, key)?,
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
impl RoomDelete for EmbeddedStore {
    async fn mark_deleted_audited(
        &self,
        id: &RoomId,
        anchor: &UserId,
        now: DateTime<Utc>,
        expires_at: i64,
        events: &[OutboxEntry],
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        let anchor = anchor.clone();
        self.change_room_audited(
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
            audit,
        )
        .await
        .and_then(conflict_unless)
    }

    async fn purge_room(&self, id: &RoomId) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |txn| {
            let (start, end) = (format!("{id}|"), end_of(&format!("{id}|")));
            txn.open_table(PRESENCE)?
                .retain_in(start.as_str()..end.as_str(), |_, _| false)?;
            txn.open_table(PRESENCE_BY_ACTIVITY)?
                .retain_in(start.as_str()..end.as_str(), |_, _| false)?;
            txn.open_table(COUNTERS)?.remove(id.as_str())?;
            let mut rooms = txn.open_table(ROOMS)?;
            if let Some(room) = read_room(&rooms, id.as_str())? {
                rooms.remove(id.as_str())?;
                txn.open_table(ROOMS_BY_CREATED)?
                    .remove(room.created_key().as_str())?;
                reindex(txn, Some(&room), None)?;
            }
            Ok(())
        })
        .await
    }
}
