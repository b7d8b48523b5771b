//! A room as kept (SPEC §5) and its life cycle: [`Room::apply`] is the one place where a
//! status changes, for the anchor's calls and the sweeper's alike.
//!
//! The machine: 0 prepare —start→ 1 live —pause→ 0, and 0|1 —stop→ 2 ended, which is final. A
//! repeated call is a no-op; an impossible one is refused. Ending a room stamps the time after
//! which it may be purged (`expires_at`, DynamoDB's TTL attribute), so every ended room is
//! purged after retention however it ended.
//!
//! Never here: I/O, or who may call what (the features decide that).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::meeting::Meeting;
use super::{
    Category, Extends, ImageUrl, Nick, Notice, Page, RoomId, RoomMode, RoomStatus, Title, UserId,
};

/// A room as stored. URLs and credentials are not here: they are computed on read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub id: RoomId,
    pub anchor_id: UserId,
    pub anchor_nick: Nick,
    pub title: Title,
    pub notice: Notice,
    pub cover_url: ImageUrl,
    pub extends: Extends,
    pub category: Category,
    pub mode: RoomMode,
    pub status: RoomStatus,
    /// Bumped by one on every change of the fields above; the optimistic-concurrency token.
    pub version: u64,
    #[serde(with = "crate::clock::micros")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::clock::micros")]
    pub updated_at: DateTime<Utc>,
    #[serde(default, with = "crate::clock::micros_option")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::clock::micros_option")]
    pub stopped_at: Option<DateTime<Utc>>,
    /// The co-host list, with its own version.
    #[serde(default)]
    pub meeting: Meeting,
    /// The anchor's last keepalive: the room's liveness.
    #[serde(default, with = "crate::clock::micros_option")]
    pub anchor_seen_at: Option<DateTime<Utc>>,
    /// When the first member entered the empty room (seed 000); cleared when a metrics
    /// refresh finds the room empty.
    #[serde(default, with = "crate::clock::micros_option")]
    pub channel_started_at: Option<DateTime<Utc>>,
    /// For an ended or deleted room: when it may be purged (unix seconds; DynamoDB's TTL).
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// The materialised metrics (see [`MetricsSnapshot`]).
    #[serde(default)]
    pub metrics: MetricsSnapshot,
    /// The presence shards anyone was ever present in, one bit per shard: a members listing
    /// reads only these (a small room's few members are in a few of the 32).
    #[serde(default)]
    pub shards_used: u32,
    /// Set by `delete`: the room is gone for every reader, and what is under it is being
    /// removed (by the same call, or by the sweeper if that call failed half way).
    #[serde(default, with = "crate::clock::micros_option")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Members the anchor muted (sorted): they may not publish, and their `user_status` says so.
    /// Written only by the anchor's `mute` (never by a room update).
    #[serde(default)]
    pub muted: Vec<UserId>,
    /// The room's IM group exists (made by the outbox's delivery after `create`; false again
    /// once it is destroyed). Written only by that delivery (never by a room update).
    #[serde(default)]
    pub chat_ready: bool,
    /// The room's reported changes so far: bumped by one by every write that puts outbox
    /// entries, conditionally on the count it read, so that one room's entries are ordered as
    /// their writes committed ([`crate::domain::outbox`]). A room stored before the counter
    /// counts from its version plus its co-host list's (DynamoDB). Last: records
    /// of the embedded store append new fields.
    #[serde(default)]
    pub changes: u64,
    /// Why and by whom the room was ended, when an operator or the system ended it (issue 24);
    /// `None` for an anchor's own stop.
    #[serde(default)]
    pub stopped: Option<Stopped>,
    /// The room's recording (issue 26): `None` where it is not recorded (`RECORDING=off`, or
    /// the room opted out at `create`). Written only by `create` and the recording callbacks
    /// and the sweeper's timeout ([`RecordingWrite`](crate::store::RecordingWrite)), never by a
    /// room update. Last, for the embedded store's records.
    #[serde(default)]
    pub recording: Option<super::recording::Recording>,
}

/// An end an operator (or liveroom itself) decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stopped {
    pub reason: super::operator::Reason,
    pub by: super::audit::Actor,
}

/// The metrics of a room as last counted, kept on the room item so that a read needs no
/// other item. `online` is refreshed by a reader that finds it older than
/// `METRICS_MAX_AGE_SECONDS` and by every sweep; the counters are exact on `get` (read from
/// their shards in the same request) and as of the last refresh elsewhere.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    pub online: u64,
    pub likes: u64,
    pub pv: u64,
    pub uv: u64,
    /// When `online` was counted; `None` before the first count.
    #[serde(default, with = "crate::clock::micros_option")]
    pub at: Option<DateTime<Utc>>,
    /// A reader has claimed the next refresh until this time (so a hot room is counted once
    /// per period, not once per reader).
    #[serde(default, with = "crate::clock::micros_option")]
    pub refreshing_until: Option<DateTime<Utc>>,
}

/// The room's counters, summed over their shards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub pv: u64,
    pub uv: u64,
    pub likes: u64,
}

/// A life-cycle call: the anchor's, or the sweeper's (which pauses and ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Start,
    Pause,
    Stop,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Pause => "pause",
            Action::Stop => "stop",
        }
    }
}

/// What an action does to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Already there: succeed without writing.
    Stay,
    /// Move to this status.
    To(RoomStatus),
    /// Not allowed from here.
    Refuse,
}

impl RoomStatus {
    /// The state machine on statuses alone.
    pub fn step(self, action: Action) -> Step {
        use RoomStatus::*;
        match (self, action) {
            (Prepare, Action::Start) => Step::To(Live),
            (Live, Action::Start) => Step::Stay,
            (Live, Action::Pause) => Step::To(Prepare),
            (Prepare, Action::Pause) => Step::Stay,
            (Prepare | Live, Action::Stop) => Step::To(Ended),
            (Ended, Action::Stop) => Step::Stay,
            (Ended, Action::Start | Action::Pause) => Step::Refuse,
        }
    }
}

/// The outcome of [`Room::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Nothing to write.
    Stay,
    /// Write this room (version + 1) conditionally on the one it came from.
    To(Box<Room>),
    /// The machine does not allow it.
    Refuse,
}

fn seconds(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4)
}

impl Room {
    /// `action` at `now`: the next room, with its status, the times it stamps (the first start
    /// stamps `started_at`; the end stamps `stopped_at` and `expires_at = now + retention`),
    /// `updated_at` and the next version. The one place a status changes.
    pub fn apply(
        &self,
        action: Action,
        now: DateTime<Utc>,
        retention: std::time::Duration,
    ) -> Transition {
        match self.status.step(action) {
            Step::Stay => Transition::Stay,
            Step::Refuse => Transition::Refuse,
            Step::To(status) => {
                let mut next = self.clone();
                next.status = status;
                match status {
                    RoomStatus::Live if next.started_at.is_none() => next.started_at = Some(now),
                    RoomStatus::Ended => {
                        next.stopped_at = Some(now);
                        next.expires_at = Some(now.timestamp() + seconds(retention));
                    }
                    _ => {}
                }
                next.version = self.version + 1;
                next.updated_at = now;
                Transition::To(Box::new(next))
            }
        }
    }

    /// Whether `user` may publish in this room: its anchor and its co-hosts; in a call (a
    /// channel's room), its seated participants only.
    pub fn is_publisher(&self, user: &UserId) -> bool {
        (&self.anchor_id == user && !self.id.is_channel()) || self.meeting.contains(user)
    }

    /// Whether `user` may read this room: anyone, but a 1v1 call (a channel's room) only its
    /// seated participants — to anyone else it does not exist.
    pub fn is_readable_by(&self, user: &UserId) -> bool {
        !self.id.is_channel() || self.meeting.contains(user)
    }

    /// Whether the anchor muted `user` (who then may not publish).
    pub fn is_muted(&self, user: &UserId) -> bool {
        self.muted.binary_search(user).is_ok()
    }

    /// Whether `user`'s presence shard is recorded as used.
    pub fn uses_shard_of(&self, user: &UserId) -> bool {
        let k = super::presence::shard(user, super::presence::PRESENCE_SHARDS);
        self.shards_used & (1 << k) != 0
    }

    /// The first used presence shard at or after `from`.
    pub fn next_used_shard(&self, from: u32) -> Option<u32> {
        (from..super::presence::PRESENCE_SHARDS).find(|k| self.shards_used & (1 << k) != 0)
    }

    /// Whether the anchor has shown itself since `since`: its last keepalive (or join), else
    /// the room's first start, else its creation. The sweeper pauses a live room whose anchor
    /// has not.
    pub fn anchor_seen_since(&self, since: DateTime<Utc>) -> bool {
        self.anchor_seen_at
            .unwrap_or(self.started_at.unwrap_or(self.created_at))
            >= since
    }

    /// Whether the room is being deleted (gone for every reader).
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// The sort key that orders rooms newest first: creation time, then id to break ties.
    /// Fixed-width so that byte order is time order.
    pub fn created_key(&self) -> String {
        format!("{}#{}", created_prefix(&self.created_at), self.id)
    }
}

/// The time part of [`Room::created_key`]: every key of a room created before `t` sorts below it.
pub fn created_prefix(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// What the caller read before a write: the write happens only if all of it still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub status: RoomStatus,
    pub version: u64,
    /// An extra condition for the sweeper's writes, so a sweep never undoes a user's call.
    pub guard: Guard,
}

/// A condition on the room's liveness marks, checked in the same conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    None,
    /// The anchor has not kept alive since this time.
    AnchorSilentSince(DateTime<Utc>),
    /// Nobody ever entered: nobody was ever present (no join, no keepalive), never started.
    NeverEntered,
}

impl Guard {
    pub fn holds(&self, room: &Room) -> bool {
        match self {
            Guard::None => true,
            Guard::AnchorSilentSince(t) => room.anchor_seen_at.is_none_or(|seen| seen < *t),
            Guard::NeverEntered => {
                room.anchor_seen_at.is_none() && room.shards_used == 0 && room.started_at.is_none()
            }
        }
    }
}

impl From<&Room> for Expected {
    fn from(room: &Room) -> Self {
        Self {
            status: room.status,
            version: room.version,
            guard: Guard::None,
        }
    }
}

/// A mark of the room's channel (seed 000's "channel start time"); it does not bump the
/// version (it is not a state change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A member entered while no channel was running: the channel starts at `at`, unless one
    /// is already running (so of racing first joiners, one sets it).
    ChannelStarted { at: DateTime<Utc> },
    /// A count at `at` found nobody online: the channel ends, unless it started after `at`.
    ChannelEmpty { at: DateTime<Utc> },
}

/// A listing: filters, then one page, newest first. An empty `category` is no filter.
///
/// Both stores answer it from listings keyed for its filters ([`Listing`]): one listing, or two
/// (statuses 0 and 1) for `not_ended`, each read newest first for at most `offset + size`
/// rooms, so a page costs what it returns, whatever else is stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomQuery {
    pub status: Option<RoomStatus>,
    /// Only rooms that have not ended (prepare or live), when no `status` is given.
    pub not_ended: bool,
    pub anchor: Option<UserId>,
    pub category: Option<Category>,
    /// Only rooms created at or after this instant.
    pub created_from: Option<DateTime<Utc>>,
    /// Only rooms created before this instant.
    pub created_before: Option<DateTime<Utc>>,
    pub page: Page,
}

impl RoomQuery {
    /// Whether `room` passes the filters (the page is applied by the caller); a call (a
    /// channel's room) is in no listing.
    pub fn matches(&self, room: &Room) -> bool {
        let listed = !room.is_deleted() && !room.id.is_channel();
        listed
            && self.status.is_none_or(|s| room.status == s)
            && !(self.not_ended && room.status == RoomStatus::Ended)
            && self.created_from.is_none_or(|t| room.created_at >= t)
            && self.created_before.is_none_or(|t| room.created_at < t)
            && self.anchor.as_ref().is_none_or(|a| &room.anchor_id == a)
            && self.category().is_none_or(|c| &room.category == c)
    }

    /// The category filter (an empty category is none).
    pub fn category(&self) -> Option<&Category> {
        self.category.as_ref().filter(|c| !c.is_empty())
    }

    /// The listings whose rooms are exactly the matches (before the creation window): none
    /// when nothing can match, two for `not_ended` without a status (prepare and live, to be
    /// merged newest first), one otherwise.
    pub fn listings(&self) -> Vec<Listing<'_>> {
        let listing = |status| Listing {
            anchor: self.anchor.as_ref(),
            category: self.category(),
            status,
        };
        match (self.status, self.not_ended) {
            (Some(RoomStatus::Ended), true) => Vec::new(),
            (Some(s), _) => vec![listing(Some(s))],
            (None, true) => vec![
                listing(Some(RoomStatus::Prepare)),
                listing(Some(RoomStatus::Live)),
            ],
            (None, false) => vec![listing(None)],
        }
    }

    /// How many rooms of each listing a page needs at most: its offset and size.
    pub fn depth(&self) -> usize {
        (self.page.offset as usize).saturating_add(self.page.size as usize)
    }
}

/// One listing of rooms, newest first: those of one anchor and/or one category and/or one
/// status (all `None`: every room). Each listed room (not a call, not deleted) is in the
/// listings of every combination of its anchor, its category (when it has one) and its
/// status ([`Listing::of`]); the stores keep one index partition per listing, named by
/// [`Listing::partition`], so a filtered page is read, never searched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing<'a> {
    pub anchor: Option<&'a UserId>,
    pub category: Option<&'a Category>,
    pub status: Option<RoomStatus>,
}

impl<'a> Listing<'a> {
    /// Every listing `room` is in: none for a call or a deleted room; 8 for a room with a
    /// category, 4 without.
    pub fn of(room: &'a Room) -> Vec<Listing<'a>> {
        if room.is_deleted() || room.id.is_channel() {
            return Vec::new();
        }
        let categories = if room.category.is_empty() {
            vec![None]
        } else {
            vec![None, Some(&room.category)]
        };
        let mut out = Vec::with_capacity(8);
        for anchor in [None, Some(&room.anchor_id)] {
            for &category in &categories {
                for status in [None, Some(room.status)] {
                    out.push(Listing {
                        anchor,
                        category,
                        status,
                    });
                }
            }
        }
        out
    }

    /// The listing's name (a DynamoDB index partition; a key prefix in the embedded store):
    /// `ROOMS`, `ROOMS#{status}` (the sweeper's status partitions), `ANCHOR#{id}`,
    /// `CATEGORY#{c}`, `ANCHOR#{id}#CATEGORY#{c}`, each but the second with `#S{status}` for a
    /// status. User ids and categories hold no `#`, so names never collide.
    pub fn partition(&self) -> String {
        let status = |s: RoomStatus| format!("#S{}", s.as_i64());
        match (self.anchor, self.category, self.status) {
            (None, None, None) => "ROOMS".to_owned(),
            (None, None, Some(s)) => format!("ROOMS#{}", s.as_i64()),
            (Some(a), None, s) => format!("ANCHOR#{a}{}", s.map(status).unwrap_or_default()),
            (None, Some(c), s) => format!("CATEGORY#{c}{}", s.map(status).unwrap_or_default()),
            (Some(a), Some(c), s) => format!(
                "ANCHOR#{a}#CATEGORY#{c}{}",
                s.map(status).unwrap_or_default()
            ),
        }
    }
}

#[cfg(test)]
#[path = "../tests/rooms.rs"]
mod tests;
