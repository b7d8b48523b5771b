//! Presence as kept (SPEC §7): who is in a room and when they were last seen, spread over
//! shards so that a room of 100,000 viewers makes no hot key.
//!
//! A member is online while its last keepalive is younger than the heartbeat timeout; every
//! read filters on that. Never here: I/O.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::UserId;

/// Presence is spread over this many partition keys per room (DynamoDB: 1,000 writes/s per
/// key, and a keepalive costs one base-table and two index writes).
pub const PRESENCE_SHARDS: u32 = 32;
/// Counters (pv, uv, likes) are spread over this many items per room.
pub const COUNTER_SHARDS: u32 = 8;

/// A member's presence in a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub user_id: UserId,
    #[serde(with = "crate::clock::micros")]
    pub joined_at: DateTime<Utc>,
    #[serde(with = "crate::clock::micros")]
    pub last_seen: DateTime<Utc>,
}

impl Presence {
    /// The listing order key: last activity, then user, both fixed-width (newest = largest).
    pub fn activity_key(&self) -> String {
        activity_key(self.last_seen, &self.user_id)
    }
}

/// `{last_seen in ms, 13 digits}#{user}`: byte order is activity order.
pub fn activity_key(last_seen: DateTime<Utc>, user: &UserId) -> String {
    format!("{}#{}", millis(last_seen), user)
}

/// A time as 13 fixed-width digits of milliseconds, so that byte order is time order.
pub fn millis(t: DateTime<Utc>) -> String {
    format!("{:013}", t.timestamp_millis().max(0))
}

/// The lowest activity key of a member seen after `since` (exclusive).
pub fn online_floor(since: DateTime<Utc>) -> String {
    format!("{:013}", since.timestamp_millis().max(0) + 1)
}

/// A user's shard: FNV-1a of the id, so the same user always lands on the same shard.
pub fn shard(user: &UserId, shards: u32) -> u32 {
    let hash = user
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    (hash % u64::from(shards)) as u32
}

/// One page of online members, read from one presence shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembersPage {
    /// Newest activity first.
    pub members: Vec<Presence>,
    /// Whether this shard has more online members after the last one.
    pub more_in_shard: bool,
}

/// Where a members listing resumes: a shard, and the activity key to continue below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub shard: u32,
    pub before: Option<String>,
}

/// What a join did to the room's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// The user's first visit: pv + 1, uv + 1.
    First,
    /// A return: pv + 1.
    Again,
}
