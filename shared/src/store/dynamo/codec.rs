//! Items to values and back. Strings were validated before they were stored; reading them
//! back re-parses them through serde, so the newtypes stay closed (no constructor that skips
//! validation).

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::schema::{
    BANNED_UNTIL, CHANGES, GSI_PRESENCE, GSI_STATUS, Item, LISTING_INDEXES,
    RECORDINGS_DUE_PARTITION, TTL_ATTRIBUTE, listing_index, n, room_key, s, status_partition_of,
    user_key,
};
use crate::domain::meeting::Meeting;
use crate::domain::operator::{Disabled, Reason, Role};
use crate::domain::presence::Presence;
use crate::domain::room::{Listing, MetricsSnapshot, Room};
use crate::domain::user::User;
use crate::domain::{RoomMode, RoomStatus};
use crate::store::StoreError;

pub fn time(t: &DateTime<Utc>) -> AttributeValue {
    s(crate::clock::rfc3339(t))
}

/// Reads attributes out of an item, naming the attribute when one is missing or malformed.
pub struct Reader<'a>(pub &'a Item);

impl Reader<'_> {
    pub fn str(&self, name: &str) -> Result<&str, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::S(v)) => Ok(v),
            _ => Err(StoreError::Corrupt(format!(
                "attribute {name} is not a string"
            ))),
        }
    }

    pub fn num(&self, name: &str) -> Result<i64, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::N(v)) => v
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("attribute {name} is not an integer"))),
            _ => Err(StoreError::Corrupt(format!(
                "attribute {name} is not a number"
            ))),
        }
    }

    /// A non-negative count; absent is 0.
    pub fn count(&self, name: &str) -> Result<u64, StoreError> {
        match self.0.get(name) {
            None => Ok(0),
            Some(_) => u64::try_from(self.num(name)?)
                .map_err(|_| StoreError::Corrupt(format!("attribute {name} is negative"))),
        }
    }

    pub fn opt_num(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(_) => self.num(name).map(Some),
        }
    }

    pub fn time(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        DateTime::parse_from_rfc3339(self.str(name)?)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| StoreError::Corrupt(format!("attribute {name} is not a time")))
    }

    pub fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(_) => self.time(name).map(Some),
        }
    }

    pub fn parsed<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, StoreError> {
        serde_json::from_value(serde_json::Value::String(self.str(name)?.to_owned()))
            .map_err(|e| StoreError::Corrupt(format!("attribute {name}: {e}")))
    }

    /// A string attribute holding JSON, decoded.
    pub fn parsed_json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, StoreError> {
        serde_json::from_str(self.str(name)?)
            .map_err(|e| StoreError::Corrupt(format!("attribute {name}: {e}")))
    }
}

pub fn presence_from_item(item: &Item) -> Result<Presence, StoreError> {
    let r = Reader(item);
    Ok(Presence {
        user_id: r.parsed("user_id")?,
        joined_at: r.time("joined_at")?,
        last_seen: r.time("last_seen")?,
    })
}

/// The end of a member's ban, from its presence item.
pub fn banned_until(item: &Item) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(Reader(item)
        .opt_num(BANNED_UNTIL)?
        .and_then(DateTime::from_timestamp_millis))
}

pub fn user_to_item(user: &User) -> Item {
    let mut item = user_key(&user.id);
    item.extend([
        ("id".to_owned(), s(user.id.as_str())),
        ("username".to_owned(), s(user.username.as_str())),
        ("password_hash".to_owned(), s(&user.password_hash)),
        ("nick".to_owned(), s(user.nick.as_str())),
        ("avatar".to_owned(), s(user.avatar.as_str())),
        ("created_at".to_owned(), time(&user.created_at)),
        ("sessions".to_owned(), n(user.sessions)),
    ]);
    if let Some(salt) = &user.salt {
        item.insert("salt".to_owned(), s(salt.expose()));
    }
    match &user.deleted_at {
        Some(t) => {
            item.insert("deleted_at".to_owned(), time(t));
        }
        // A live user is on the users' listing.
        None => item.extend(super::schema::user_listing(&user.username, &user.id)),
    }
    // A string set is never empty: no roles, no attribute.
    if !user.roles.is_empty() {
        item.insert(
            "roles".to_owned(),
            AttributeValue::Ss(user.roles.iter().map(|r| r.name().to_owned()).collect()),
        );
    }
    if let Some(d) = &user.disabled {
        item.insert("disabled_at".to_owned(), time(&d.at));
        item.insert("disabled_reason".to_owned(), s(d.reason.as_str()));
    }
    item
}

pub fn user_from_item(item: &Item) -> Result<User, StoreError> {
    let r = Reader(item);
    Ok(User {
        id: r.parsed("id")?,
        username: r.parsed("username")?,
        password_hash: r.str("password_hash")?.to_owned(),
        nick: r.parsed("nick")?,
        avatar: r.parsed("avatar")?,
        created_at: r.time("created_at")?,
        salt: match item.get("salt") {
            None => None,
            Some(_) => Some(r.parsed("salt")?),
        },
        sessions: r.count("sessions")?,
        deleted_at: r.opt_time("deleted_at")?,
        roles: match item.get("roles") {
            None => Default::default(),
            Some(AttributeValue::Ss(names)) => names
                .iter()
                .map(|n| Role::parse(n).map_err(|e| StoreError::Corrupt(e.to_string())))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(StoreError::Corrupt("roles: not a string set".to_owned())),
        },
        disabled: match r.opt_time("disabled_at")? {
            None => None,
            Some(at) => Some(Disabled {
                at,
                reason: Reason::parse("disabled_reason", r.str("disabled_reason")?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            }),
        },
    })
}

/// The attributes `update_room` replaces: the fields a life-cycle call or an update may change.
pub fn room_mutable_attributes(room: &Room) -> Vec<(&'static str, AttributeValue)> {
    vec![
        ("anchor_nick", s(room.anchor_nick.as_str())),
        ("title", s(room.title.as_str())),
        ("notice", s(room.notice.as_str())),
        ("cover_url", s(room.cover_url.as_str())),
        ("extends", s(room.extends.as_str())),
        ("category", s(room.category.as_str())),
        ("mode", n(i64::from(room.mode))),
        ("status", n(room.status.as_i64())),
        ("version", n(room.version)),
        ("updated_at", time(&room.updated_at)),
        (GSI_STATUS.pk, s(status_partition_of(&room.id, room.status))),
    ]
}

/// The room's key on `gsi4`'s partition of awaited recordings
/// ([`RECORDINGS_DUE_PARTITION`]): while it is ended, not deleted, and its recording awaited.
/// Every write of the room sets or removes it.
pub fn recording_due_key(room: &Room) -> Option<(AttributeValue, AttributeValue)> {
    use crate::domain::recording::VodStatus;
    let awaited = room
        .recording
        .as_ref()
        .is_some_and(|r| r.status == VodStatus::Preparing);
    match room.stopped_at {
        Some(stopped) if awaited && room.status == RoomStatus::Ended && !room.is_deleted() => {
            Some((
                s(RECORDINGS_DUE_PARTITION),
                s(format!(
                    "{}#{}",
                    crate::domain::room::created_prefix(&stopped),
                    room.id
                )),
            ))
        }
        _ => None,
    }
}

/// The room's partition attribute on each listing index: its partition there, or `None` when
/// it is not on that index (a call, a deleted room, a room without a category on the
/// category indexes). `update_room` sets the ones given and removes the rest.
pub fn room_listing_keys(room: &Room) -> Vec<(&'static str, Option<AttributeValue>)> {
    let listings = Listing::of(room);
    LISTING_INDEXES
        .iter()
        .map(|index| {
            let partition = listings
                .iter()
                .find(|l| listing_index(l).name == index.name)
                .map(|l| s(l.partition()));
            (index.pk, partition)
        })
        .collect()
}

/// The snapshot's attributes (`m_at`, `m_lease` are written only when set).
pub fn metrics_attributes(m: &MetricsSnapshot) -> Vec<(&'static str, AttributeValue)> {
    let mut out = vec![
        ("m_online", n(m.online)),
        ("m_likes", n(m.likes)),
        ("m_pv", n(m.pv)),
        ("m_uv", n(m.uv)),
    ];
    if let Some(t) = &m.at {
        out.push(("m_at", time(t)));
    }
    if let Some(t) = &m.refreshing_until {
        out.push(("m_lease", time(t)));
    }
    out
}

/// The meeting list is stored as one JSON string: it is read and written whole.
pub fn meeting_json(meeting: &Meeting) -> String {
    serde_json::to_string(&meeting.members).unwrap_or_else(|_| "[]".to_owned())
}

pub fn room_to_item(room: &Room) -> Item {
    let created_key = room.created_key();
    let mut item = room_key(&room.id);
    item.extend([
        ("id".to_owned(), s(room.id.as_str())),
        ("anchor_id".to_owned(), s(room.anchor_id.as_str())),
        ("created_at".to_owned(), time(&room.created_at)),
        (GSI_STATUS.sk.to_owned(), s(&created_key)),
        ("meeting".to_owned(), s(meeting_json(&room.meeting))),
        ("meeting_version".to_owned(), n(room.meeting.version)),
        (CHANGES.to_owned(), n(room.changes)),
    ]);
    // Every listing index sorts by creation; a room is on those whose partition it has (a
    // call, a channel's room, is in no listing).
    for index in LISTING_INDEXES {
        item.insert(index.sk.to_owned(), s(&created_key));
    }
    for (name, partition) in room_listing_keys(room) {
        if let Some(partition) = partition {
            item.insert(name.to_owned(), partition);
        }
    }
    for (name, value) in room_mutable_attributes(room)
        .into_iter()
        .chain(metrics_attributes(&room.metrics))
    {
        item.insert(name.to_owned(), value);
    }
    for (name, t) in [
        ("started_at", &room.started_at),
        ("stopped_at", &room.stopped_at),
        ("anchor_seen_at", &room.anchor_seen_at),
        ("channel_started_at", &room.channel_started_at),
        ("deleted_at", &room.deleted_at),
    ] {
        if let Some(t) = t {
            item.insert(name.to_owned(), time(t));
        }
    }
    if let Some(t) = room.expires_at {
        item.insert(TTL_ATTRIBUTE.to_owned(), n(t));
    }
    if let Some(shards) = shards_to(room.shards_used) {
        item.insert("m_shards".to_owned(), shards);
    }
    if room.chat_ready {
        item.insert("chat_ready".to_owned(), AttributeValue::Bool(true));
    }
    if let Some(recording) = &room.recording {
        item.insert(RECORDING.to_owned(), s(recording_json(recording)));
        item.insert(RECORDING_REVISION.to_owned(), n(recording.revision));
    }
    if let Some((pk, sk)) = recording_due_key(room) {
        item.insert(GSI_PRESENCE.pk.to_owned(), pk);
        item.insert(GSI_PRESENCE.sk.to_owned(), sk);
    }
    if !room.muted.is_empty() {
        item.insert(
            "muted".to_owned(),
            AttributeValue::Ss(room.muted.iter().map(|u| u.to_string()).collect()),
        );
    }
    item
}

pub fn room_from_item(item: &Item) -> Result<Room, StoreError> {
    let r = Reader(item);
    let meeting = Meeting {
        members: match item.get("meeting") {
            Some(AttributeValue::S(json)) => serde_json::from_str(json)
                .map_err(|e| StoreError::Corrupt(format!("attribute meeting: {e}")))?,
            _ => Vec::new(),
        },
        version: r.count("meeting_version")?,
    };
    let version = r.count("version")?;
    // A room stored before the change counter counts from where its entries' order was.
    let changes = match item.get(CHANGES) {
        Some(_) => r.count(CHANGES)?,
        None => version.saturating_add(meeting.version),
    };
    let status =
        RoomStatus::try_from(r.num("status")?).map_err(|e| StoreError::Corrupt(e.message))?;
    let mode = RoomMode::try_from(r.num("mode")?).map_err(|e| StoreError::Corrupt(e.message))?;
    Ok(Room {
        id: r.parsed("id")?,
        anchor_id: r.parsed("anchor_id")?,
        anchor_nick: r.parsed("anchor_nick")?,
        title: r.parsed("title")?,
        notice: r.parsed("notice")?,
        cover_url: r.parsed("cover_url")?,
        extends: r.parsed("extends")?,
        category: r.parsed("category")?,
        mode,
        status,
        version,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        started_at: r.opt_time("started_at")?,
        stopped_at: r.opt_time("stopped_at")?,
        meeting,
        anchor_seen_at: r.opt_time("anchor_seen_at")?,
        channel_started_at: r.opt_time("channel_started_at")?,
        expires_at: r.opt_num(TTL_ATTRIBUTE)?,
        metrics: MetricsSnapshot {
            online: r.count("m_online")?,
            likes: r.count("m_likes")?,
            pv: r.count("m_pv")?,
            uv: r.count("m_uv")?,
            at: r.opt_time("m_at")?,
            refreshing_until: r.opt_time("m_lease")?,
        },
        shards_used: shards_from(item.get("m_shards"))?,
        deleted_at: r.opt_time("deleted_at")?,
        changes,
        muted: match item.get("muted") {
            None => Vec::new(),
            Some(AttributeValue::Ss(ids)) => {
                let mut ids = ids
                    .iter()
                    .map(|id| {
                        crate::domain::UserId::parse("muted", id)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                ids.sort();
                ids
            }
            Some(_) => {
                return Err(StoreError::Corrupt(
                    "attribute muted is not a string set".to_owned(),
                ));
            }
        },
        chat_ready: matches!(item.get("chat_ready"), Some(AttributeValue::Bool(true))),
        stopped: match item.get("stopped") {
            None => None,
            Some(_) => Some(r.parsed_json("stopped")?),
        },
        recording: match item.get(RECORDING) {
            None => None,
            Some(_) => Some(r.parsed_json(RECORDING)?),
        },
    })
}

/// The room item's recording (issue 26): its JSON, and its revision (the condition of its
/// writes) beside it.
pub const RECORDING: &str = "recording";
pub const RECORDING_REVISION: &str = "rec_rev";

pub fn recording_json(recording: &crate::domain::recording::Recording) -> String {
    serde_json::to_string(recording).unwrap_or_default()
}

/// A presence shard as an element of the room's `m_shards` string set.
pub fn shard_name(shard: u32) -> String {
    format!("{shard:02}")
}

fn shards_from(value: Option<&AttributeValue>) -> Result<u32, StoreError> {
    let names = match value {
        None => return Ok(0),
        Some(AttributeValue::Ss(names)) => names,
        Some(_) => {
            return Err(StoreError::Corrupt(
                "attribute m_shards is not a string set".to_owned(),
            ));
        }
    };
    names
        .iter()
        .try_fold(0u32, |bits, name| match name.parse::<u32>() {
            Ok(k) if k < 32 => Ok(bits | (1 << k)),
            _ => Err(StoreError::Corrupt(format!("m_shards holds {name:?}"))),
        })
}

fn shards_to(bits: u32) -> Option<AttributeValue> {
    let names: Vec<String> = (0..32)
        .filter(|k| bits & (1 << k) != 0)
        .map(shard_name)
        .collect();
    (!names.is_empty()).then_some(AttributeValue::Ss(names))
}
