//! Presence: one record per member and room (`presence`, on the member's shard), listed by
//! activity in `presence_by_activity` while online.
//!
//! Never here: the online window or the retention (that is `presence`, the feature).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redb::WriteTransaction;
use serde::{Deserialize, Serialize};

use super::counters::write_counters;
use super::rooms::read_room;
use super::{EmbeddedStore, PRESENCE, PRESENCE_BY_ACTIVITY, ROOMS, encode, end_of, record};
use crate::domain::presence::{
    MembersPage, PRESENCE_SHARDS, Presence, Visit, activity_key, online_floor, shard,
};
use crate::domain::{RoomId, UserId};
use crate::store::{PresenceRead, PresenceWrite, StoreError, Touch};

/// A member's record in a room: present (listed) or not, and how often it visited.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Entry {
    pub(super) user_id: UserId,
    #[serde(default, with = "crate::clock::micros_option")]
    pub(super) joined_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::clock::micros")]
    pub(super) last_seen: DateTime<Utc>,
    pub(super) listed: bool,
    pub(super) visits: u64,
    /// Barred from the room until then (a kick).
    #[serde(default, with = "crate::clock::micros_option")]
    pub(super) banned_until: Option<DateTime<Utc>>,
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

pub(super) fn shard_prefix(room: &str, shard: u32) -> String {
    format!("{room}|{shard:02}|")
}

pub(super) fn presence_key(room: &str, user: &UserId) -> String {
    format!(
        "{}{}",
        shard_prefix(room, shard(user, PRESENCE_SHARDS)),
        user
    )
}

/// The presence part of a touch, inside the caller's transaction. Returns the visit counted.
fn touch_presence(
    txn: &WriteTransaction,
    room: &RoomId,
    user: &UserId,
    now: DateTime<Utc>,
    count_visit: bool,
) -> Result<Option<Visit>, StoreError> {
    let mut presence = txn.open_table(PRESENCE)?;
    let mut by_activity = txn.open_table(PRESENCE_BY_ACTIVITY)?;
    let k = presence_key(room.as_str(), user);
    let prefix = shard_prefix(room.as_str(), shard(user, PRESENCE_SHARDS));
    let previous: Option<Entry> = record(&presence, &k)?;
    if previous
        .as_ref()
        .and_then(|p| p.banned_until)
        .is_some_and(|until| until > now)
    {
        return Err(StoreError::Conflict);
    }
    if let Some(p) = previous.as_ref().filter(|p| p.listed) {
        by_activity.remove(format!("{prefix}{}", activity_key(p.last_seen, user)).as_str())?;
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
    presence.insert(k.as_str(), encode(&next)?.as_slice())?;
    by_activity.insert(
        format!("{prefix}{}", activity_key(now, user)).as_str(),
        user.as_str(),
    )?;
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
    let mut rooms = txn.open_table(ROOMS)?;
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
    rooms.insert(touch.room.as_str(), encode(&current)?.as_slice())?;
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
pub(super) fn unlist(
    txn: &WriteTransaction,
    room: &RoomId,
    user: &UserId,
    stale_before: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let mut presence = txn.open_table(PRESENCE)?;
    let k = presence_key(room.as_str(), user);
    let Some(mut entry) = record::<Entry>(&presence, &k)? else {
        return Ok(false);
    };
    if !entry.listed || stale_before.is_some_and(|t| entry.last_seen >= t) {
        return Ok(false);
    }
    let prefix = shard_prefix(room.as_str(), shard(user, PRESENCE_SHARDS));
    txn.open_table(PRESENCE_BY_ACTIVITY)?
        .remove(format!("{prefix}{}", activity_key(entry.last_seen, user)).as_str())?;
    entry.listed = false;
    entry.joined_at = None;
    presence.insert(k.as_str(), encode(&entry)?.as_slice())?;
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
        self.read(move |txn| {
            let by_activity = txn.open_table(PRESENCE_BY_ACTIVITY)?;
            let presence = txn.open_table(PRESENCE)?;
            let mut members = Vec::new();
            let mut more_in_shard = false;
            for entry in by_activity.range(low.as_str()..high.as_str())?.rev() {
                if members.len() == limit as usize {
                    more_in_shard = true;
                    break;
                }
                let (_, user) = entry?;
                let key = format!("{room}|{shard:02}|{}", user.value());
                if let Some(p) = record::<Entry>(&presence, &key)?.and_then(|e| e.presence()) {
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
        self.read(move |txn| {
            let by_activity = txn.open_table(PRESENCE_BY_ACTIVITY)?;
            let floor = online_floor(since);
            let mut n = 0;
            for k in 0..PRESENCE_SHARDS {
                let prefix = shard_prefix(&room, k);
                let low = format!("{prefix}{floor}");
                let high = end_of(&prefix);
                for entry in by_activity.range(low.as_str()..high.as_str())? {
                    entry?;
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
    }
}
