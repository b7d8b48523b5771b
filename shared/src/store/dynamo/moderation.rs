//! Moderation: a kick's ban on the member's presence item, the muted set on the room item.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::accounts::{guard_check, session_keys, take_session};
use super::change::Change;
use super::codec::room_from_item;
use super::schema::{
    BANNED_UNTIL, BANS_INDEX, GSI_PRESENCE, PK, ROOM_SK, SK, TTL_ATTRIBUTE, ban_sort,
    bans_partition, n, presence_key, room_key, s,
};
use super::{BATCH_GET_LIMIT, DynamoStore};
use crate::domain::audit::AuditEntry;
use crate::domain::outbox::Entry;
use crate::domain::presence::{PRESENCE_SHARDS, shard};
use crate::domain::room::Room;
use crate::domain::{RoomId, UserId};
use crate::store::{
    Ban, BanList, MAX_BANS_LISTED, MAX_MUTED, MemberBan, MemberRead, Moderation, SessionFound,
    SessionGuard, StoreError,
};

#[async_trait]
impl MemberBan for DynamoStore {
    async fn ban_member(
        &self,
        room: &RoomId,
        user: &UserId,
        until: DateTime<Utc>,
        expires_at: i64,
        events: &[Entry],
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        // Off the online index and barred, in one write: a keepalive racing it either comes
        // first (and is undone here) or after (and fails its condition).
        let change = Change::new(
            presence_key(room, shard(user, PRESENCE_SHARDS), user),
            "SET user_id = :user, #ban = :until, #ttl = :ttl, #bpk = :bans, #bsk = :ban \
             REMOVE #gpk, #gsk, joined_at",
        )
        .name("#ban", BANNED_UNTIL)
        .name("#ttl", TTL_ATTRIBUTE)
        .name("#gpk", GSI_PRESENCE.pk)
        .name("#gsk", GSI_PRESENCE.sk)
        .name("#bpk", BANS_INDEX.pk)
        .name("#bsk", BANS_INDEX.sk)
        .value(":user", s(user.as_str()))
        .value(":until", n(until.timestamp_millis()))
        .value(":bans", s(bans_partition(room)))
        .value(":ban", s(ban_sort(until.timestamp_millis(), user)))
        .value(":ttl", n(expires_at));
        self.change_reporting_checked(change, Vec::new(), events, audit)
            .await
    }
}

#[async_trait]
impl BanList for DynamoStore {
    async fn room_bans(
        &self,
        room: &RoomId,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Ban>, StoreError> {
        // Bans that end after `now`: every sort key above `{now ms}~` (`~` sorts after `#`,
        // so a ban ending at `now` itself, a kick without one, is not read).
        let out = self
            .client()
            .query()
            .table_name(&self.table)
            .index_name(BANS_INDEX.name)
            .key_condition_expression("#pk = :pk AND #sk > :now")
            .expression_attribute_names("#pk", BANS_INDEX.pk)
            .expression_attribute_names("#sk", BANS_INDEX.sk)
            .expression_attribute_values(":pk", s(bans_partition(room)))
            .expression_attribute_values(":now", s(format!("{:013}~", now.timestamp_millis())))
            .projection_expression("#sk")
            .scan_index_forward(false)
            .limit(i32::try_from(limit.min(MAX_BANS_LISTED)).unwrap_or(1))
            .send()
            .await
            .map_err(super::unavailable)?;
        out.items
            .unwrap_or_default()
            .iter()
            .map(|item| {
                let sort = match item.get(BANS_INDEX.sk) {
                    Some(AttributeValue::S(sort)) => sort.as_str(),
                    _ => "",
                };
                ban_from_sort(sort)
                    .ok_or_else(|| StoreError::Corrupt("a ban's index key is not one".into()))
            })
            .collect()
    }
}

/// `{until ms}#{user}` back to the ban.
fn ban_from_sort(sort: &str) -> Option<Ban> {
    let (ms, user) = sort.split_once('#')?;
    Some(Ban {
        user_id: UserId::parse("user_id", user).ok()?,
        until: DateTime::<Utc>::from_timestamp_millis(ms.parse().ok()?)?,
    })
}

#[async_trait]
impl Moderation for DynamoStore {
    async fn set_muted(
        &self,
        room: &RoomId,
        anchor: Option<&UserId>,
        user: &UserId,
        muted: bool,
        audit: Option<&AuditEntry>,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<(), StoreError> {
        let mut condition = "attribute_exists(pk) AND attribute_not_exists(deleted_at)".to_owned();
        let change = if muted {
            condition.push_str(
                " AND (attribute_not_exists(muted) OR size(muted) < :max OR contains(muted, :one))",
            );
            Change::new(room_key(room), "ADD muted :user")
                .value(":max", n(MAX_MUTED))
                .value(":one", s(user.as_str()))
        } else {
            Change::new(room_key(room), "DELETE muted :user")
        };
        let mut change = change.value(":user", AttributeValue::Ss(vec![user.to_string()]));
        if let Some(anchor) = anchor {
            condition.push_str(" AND anchor_id = :anchor");
            change = change.value(":anchor", s(anchor.as_str()));
        }
        let change = change.condition(condition);
        let puts = audit.map(super::operator::audit_item).transpose()?;
        let mut changes = vec![change];
        changes.extend(guard.map(guard_check));
        self.write(changes, puts.into_iter().collect()).await
    }
}

#[async_trait]
impl MemberRead for DynamoStore {
    async fn room_member(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<(Option<Room>, Option<DateTime<Utc>>), StoreError> {
        let keys = vec![
            room_key(room),
            presence_key(room, shard(user, PRESENCE_SHARDS), user),
        ];
        let mut found = None;
        let mut banned_until = None;
        for item in self.batch_get(keys).await? {
            match item.get(SK) {
                Some(AttributeValue::S(sk)) if sk == ROOM_SK => {
                    found = Some(room_from_item(&item)?)
                }
                _ => banned_until = super::codec::banned_until(&item)?,
            }
        }
        Ok((found, banned_until))
    }

    async fn seen(
        &self,
        room: &RoomId,
        users: &[UserId],
    ) -> Result<Vec<Option<DateTime<Utc>>>, StoreError> {
        let pairs: Vec<(&RoomId, &UserId)> = users.iter().map(|user| (room, user)).collect();
        self.presence_items(&pairs, None)
            .await?
            .0
            .iter()
            .map(|item| match item {
                // Listed or not: a leave keeps `last_seen`.
                Some(item) => super::codec::Reader(item).opt_time("last_seen"),
                None => Ok(None),
            })
            .collect()
    }

    async fn room_member_in_session(
        &self,
        room: &RoomId,
        user: &UserId,
        session: &str,
    ) -> Result<(Option<Room>, Option<DateTime<Utc>>, SessionFound), StoreError> {
        let mut keys = vec![
            room_key(room),
            presence_key(room, shard(user, PRESENCE_SHARDS), user),
        ];
        keys.extend(session_keys(user, session));
        let mut items = self.batch_get(keys).await?;
        let found_session = take_session(&mut items, user)?;
        let mut found = None;
        let mut banned_until = None;
        for item in items {
            match item.get(SK) {
                Some(AttributeValue::S(sk)) if sk == ROOM_SK => {
                    found = Some(room_from_item(&item)?)
                }
                _ => banned_until = super::codec::banned_until(&item)?,
            }
        }
        Ok((found, banned_until, found_session))
    }

    async fn bans(
        &self,
        rooms: &[RoomId],
        user: &UserId,
        session: &str,
    ) -> Result<(Vec<Option<DateTime<Utc>>>, SessionFound), StoreError> {
        let pairs: Vec<(&RoomId, &UserId)> = rooms.iter().map(|room| (room, user)).collect();
        let (items, found) = self.presence_items(&pairs, Some((user, session))).await?;
        let bans = items
            .iter()
            .map(|item| item.as_ref().map_or(Ok(None), super::codec::banned_until))
            .collect::<Result<_, _>>()?;
        Ok((bans, found))
    }
}

impl DynamoStore {
    /// The presence items of `(room, user)` pairs (at most 100), in their order, and
    /// `session`'s user and end when given, in one BatchGetItem (`None` where there is none;
    /// two at once where the session's keys take the total past 100).
    async fn presence_items(
        &self,
        pairs: &[(&RoomId, &UserId)],
        session: Option<(&UserId, &str)>,
    ) -> Result<(Vec<Option<super::schema::Item>>, SessionFound), StoreError> {
        let mut keys: Vec<_> = pairs
            .iter()
            .map(|(room, user)| presence_key(room, shard(user, PRESENCE_SHARDS), user))
            .collect();
        let wanted = keys.clone();
        if let Some((user, session)) = session {
            keys.extend(session_keys(user, session));
        }
        if keys.is_empty() {
            return Ok((Vec::new(), SessionFound::default()));
        }
        let mut items = if keys.len() <= BATCH_GET_LIMIT {
            self.batch_get(keys).await?
        } else {
            let rest = keys.split_off(BATCH_GET_LIMIT);
            let (mut first, second) = tokio::try_join!(self.batch_get(keys), self.batch_get(rest))?;
            first.extend(second);
            first
        };
        let found = match session {
            Some((user, _)) => take_session(&mut items, user)?,
            None => SessionFound::default(),
        };
        let items = wanted
            .iter()
            .map(|key| {
                let at = items
                    .iter()
                    .position(|item| item.get(PK) == key.get(PK) && item.get(SK) == key.get(SK))?;
                Some(items.swap_remove(at))
            })
            .collect();
        Ok((items, found))
    }
}
