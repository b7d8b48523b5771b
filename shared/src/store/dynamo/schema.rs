//! The table's layout: every key and index name, and every attribute name the store's code
//! names by a constant, is encoded here and nowhere else. (Item attributes are mapped to values
//! in `codec`, and named in the update and condition expressions that write them.)
//!
//! | item            | `pk`                  | `sk`       | index keys                                   |
//! |-----------------|-----------------------|------------|----------------------------------------------|
//! | user            | `USER#{id}`           | `USER`     |                                              |
//! | ended session   | `USER#{id}`           | `SESSION#{sid}` | (kept until its refresh tokens expire)  |
//! | room tally      | `USER#{id}`           | `ROOMS`    | (`open_rooms`, `rc_minute`, `rc_count`: the caps on creating rooms) |
//! | username claim  | `USERNAME#{lower}`    | `USERNAME` | (kept for good: a name is never reused)      |
//! | nonce claim     | `NONCE#{user}`        | `{nonce}`  | (signature logins; kept past the `ts` window) |
//! | event claim     | `EVENT#{source}`      | `{id}`     | (vendor callbacks and webhooks; kept past their freshness window) |
//! | throttle counter | `THROTTLE#{key}`     | `W#{minute}` | (`attempts`, an address's per-username `u#{name}`; conditional atomic `ADD`) |
//! | room            | `ROOM#{id}`           | `ROOM`     | one index per listing kind (below); sort key `{created}#{id}` on each |
//! | presence        | `ROOM#{id}#P{00..31}` | `USER#{id}`| `gsi4` while listed online: same key, sort `{last_seen ms}#{user}`; after a kick `banned_until` (ms) and `gsi3` `BANS#{room}`, sort `{banned_until ms}#{user}` |
//! | counters        | `ROOM#{id}#C{0..7}`   | `COUNTERS` | (`pv`, `uv`, `likes`, atomic `ADD`)          |
//! | outbox entry    | `OUTBOX#{room}`       | `{sink}#{seq}` | `gsi4` partition `OUTBOX`, sort `{room}#{sink}#{seq}` (rooms with undelivered entries) |
//! | room (recording awaited) | `ROOM#{id}` | `ROOM` | and `gsi4` partition `RECORDINGS#DUE`, sort `{stopped_at}#{id}`, while ended with its recording awaited (a room write puts it there only at the recording revision it read) |
//! | series sample   | `ROOM#{id}`           | `POINT#{at ms, 13 digits}` | (`online`, `likes`, `pv`, `uv`; kept `SERIES_RETENTION_DAYS` by TTL) |
//! | sweeper stats   | `STATS`               | `STATS`    | (the last run's `prepared`, `live`, `paused`, `online`, `at`) |
//! | API key         | `KEY#{id}`            | `KEY`      | `gsi1` partition `KEYS`, sort `{created µs}#{id}` |
//! | audit entry     | `AUDIT`               | `{id}` (sorts by time) | `gsi1` `AUDIT#ROOM#{room}`, `gsi3` `AUDIT#ACTOR#{kind}#{id}`; sort `{id}` on both |
//!
//! A live user is on `gsi1` too, in partition `USERS` sorted `{username key}#{id}` (the admin
//! API's listing); closing the account takes it off.
//!
//! A user's room tally (`USER#{id}` / `ROOMS`) is what the caps on its rooms count
//! (`open_rooms`, the string set of its rooms not known to have ended; `rc_minute` and
//! `rc_count`, its creations in the current minute), changed in the same transaction as a
//! room's put.
//!
//! Rooms are listed on one index per kind of listing ([`crate::domain::room::Listing`]), each
//! partition newest first: `gsi1` all rooms (`ROOMS`), `gsi2` by status (`ROOMS#{s}`; also the
//! sweeper's: the calls' `CALLS#{s}` and the deleted rooms' `ROOMS#deleted`), `gsi3` by anchor,
//! `gsi5` by anchor and status, `gsi6` by category, `gsi7` by category and status, `gsi8` by
//! anchor and category, `gsi9` by anchor, category and status. A room is on each index whose
//! filters it has (a room without a category is on none of the category indexes; a call or a
//! deleted room is on none but `gsi2`), and moves partition with its status and category, so
//! a listing with any filters is one `Query` (two for "not ended": statuses 0 and 1) that
//! reads only matches.
//!
//! A room's series samples (issue 24) share the room item's partition and sort just below its
//! `ROOM` (nothing else sorts between `POINT#` and `ROOM` there), so one descending `Query`
//! from `ROOM` reads the room item first, then its newest points: a series is never read
//! without learning in the same call whether its room still exists (a sample a racing purge
//! missed is never shown, and expires by TTL).
//!
//! A presence item outlives its member's session as the record that the user visited (its
//! `visits` count makes uv exact); leaving or lapsing only takes it off `gsi4`. Every item
//! under a room has an `expires_at` (DynamoDB's TTL): presence and counter items are kept
//! `RETENTION_DAYS` past their last write (the sweeper renews the counters of living rooms),
//! an ended or deleted room `RETENTION_DAYS` past its end, so nothing outlives retention.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::presence::{COUNTER_SHARDS, PRESENCE_SHARDS};
use crate::domain::room::Listing;
use crate::domain::{RoomId, RoomStatus, UserId, Username};

pub type Item = HashMap<String, AttributeValue>;

/// The attribute DynamoDB's TTL reads (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// The table's partition key attribute.
pub const PK: &str = "pk";
/// The table's sort key attribute.
pub const SK: &str = "sk";

/// The sort key of a user item (its partition also holds its sessions' ends and its tally).
pub const USER_SK: &str = "USER";
/// The sort key of a room item (read beside its presence and counter items).
pub const ROOM_SK: &str = "ROOM";
/// What the sort key of each of a user's ended sessions starts with.
pub const SESSION_SK_PREFIX: &str = "SESSION#";

/// The attribute of a presence item that bars its member until then (unix milliseconds).
pub const BANNED_UNTIL: &str = "banned_until";
/// The room item's change counter ([`Room::changes`](crate::domain::room::Room::changes)).
pub const CHANGES: &str = "changes";
/// The room tally's open rooms (a string set).
pub const OPEN_ROOMS: &str = "open_rooms";
/// The minute the room tally's creations count in.
pub const TALLY_MINUTE: &str = "rc_minute";
/// The room tally's creations in its minute.
pub const TALLY_CREATED: &str = "rc_count";
/// The count of a signature value's uses (on its item under the event claims).
pub const SIGNATURE_USES: &str = "uses";

/// An index: its name, partition attribute and sort attribute.
#[derive(Debug, Clone, Copy)]
pub struct Index {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

/// Every room, newest first.
pub const GSI_ALL: Index = Index {
    name: "gsi1",
    pk: "gsi1pk",
    sk: "gsi1sk",
};
/// Rooms by status (and the deleted ones awaiting their purge).
pub const GSI_STATUS: Index = Index {
    name: "gsi2",
    pk: "gsi2pk",
    sk: "gsi2sk",
};
/// Rooms by anchor.
pub const GSI_ANCHOR: Index = Index {
    name: "gsi3",
    pk: "gsi3pk",
    sk: "gsi3sk",
};
/// Online presence by last activity, one partition per presence shard.
pub const GSI_PRESENCE: Index = Index {
    name: "gsi4",
    pk: "gsi4pk",
    sk: "gsi4sk",
};
/// Rooms by anchor and status.
pub const GSI_ANCHOR_STATUS: Index = Index {
    name: "gsi5",
    pk: "gsi5pk",
    sk: "gsi5sk",
};
/// Rooms by category.
pub const GSI_CATEGORY: Index = Index {
    name: "gsi6",
    pk: "gsi6pk",
    sk: "gsi6sk",
};
/// Rooms by category and status.
pub const GSI_CATEGORY_STATUS: Index = Index {
    name: "gsi7",
    pk: "gsi7pk",
    sk: "gsi7sk",
};
/// Rooms by anchor and category.
pub const GSI_ANCHOR_CATEGORY: Index = Index {
    name: "gsi8",
    pk: "gsi8pk",
    sk: "gsi8sk",
};
/// Rooms by anchor, category and status.
pub const GSI_ANCHOR_CATEGORY_STATUS: Index = Index {
    name: "gsi9",
    pk: "gsi9pk",
    sk: "gsi9sk",
};
pub const INDEXES: [Index; 9] = [
    GSI_ALL,
    GSI_STATUS,
    GSI_ANCHOR,
    GSI_PRESENCE,
    GSI_ANCHOR_STATUS,
    GSI_CATEGORY,
    GSI_CATEGORY_STATUS,
    GSI_ANCHOR_CATEGORY,
    GSI_ANCHOR_CATEGORY_STATUS,
];

/// The listing indexes whose partition a room item sets or removes as it changes (`gsi2`,
/// the status index, is set apart: it also keeps the calls and the deleted rooms).
pub const LISTING_INDEXES: [Index; 7] = [
    GSI_ALL,
    GSI_ANCHOR,
    GSI_ANCHOR_STATUS,
    GSI_CATEGORY,
    GSI_CATEGORY_STATUS,
    GSI_ANCHOR_CATEGORY,
    GSI_ANCHOR_CATEGORY_STATUS,
];

/// The index a listing is kept on (its partition there is [`Listing::partition`]).
pub fn listing_index(listing: &Listing<'_>) -> Index {
    match (
        listing.anchor.is_some(),
        listing.category.is_some(),
        listing.status.is_some(),
    ) {
        (false, false, false) => GSI_ALL,
        (false, false, true) => GSI_STATUS,
        (true, false, false) => GSI_ANCHOR,
        (true, false, true) => GSI_ANCHOR_STATUS,
        (false, true, false) => GSI_CATEGORY,
        (false, true, true) => GSI_CATEGORY_STATUS,
        (true, true, false) => GSI_ANCHOR_CATEGORY,
        (true, true, true) => GSI_ANCHOR_CATEGORY_STATUS,
    }
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

/// The partition of a user: its item, its sessions' ends, its room tally.
pub fn user_pk(id: &UserId) -> String {
    format!("USER#{id}")
}

pub fn user_key(id: &UserId) -> Item {
    key(user_pk(id), USER_SK)
}

/// The tally of the user's rooms (the caps on creating them).
pub fn tally_key(user: &UserId) -> Item {
    key(user_pk(user), "ROOMS")
}

pub fn session_key(user: &UserId, session: &str) -> Item {
    key(user_pk(user), &format!("{SESSION_SK_PREFIX}{session}"))
}

pub fn nonce_key(user: &UserId, nonce: &str) -> Item {
    key(format!("NONCE#{user}"), nonce)
}

pub fn event_key(source: &str, id: &str) -> Item {
    key(format!("EVENT#{source}"), id)
}

/// The item counting the uses of signature value `signature` of `source` (beside its event
/// claims).
pub fn signature_uses_key(source: &str, signature: &str) -> Item {
    event_key(source, &format!("USES#{signature}"))
}

pub fn throttle_key(counter: &str, window: i64) -> Item {
    key(format!("THROTTLE#{counter}"), &format!("W#{window}"))
}

pub fn username_key(username: &Username) -> Item {
    key(format!("USERNAME#{}", username.key()), "USERNAME")
}

pub fn room_pk(id: &RoomId) -> String {
    format!("ROOM#{id}")
}

pub fn room_key(id: &RoomId) -> Item {
    key(room_pk(id), ROOM_SK)
}

pub fn presence_pk(room: &RoomId, shard: u32) -> String {
    format!("ROOM#{room}#P{shard:02}")
}

pub fn presence_sk(user: &UserId) -> String {
    format!("USER#{user}")
}

pub fn presence_key(room: &RoomId, shard: u32, user: &UserId) -> Item {
    key(presence_pk(room, shard), &presence_sk(user))
}

pub fn counter_key(room: &RoomId, shard: u32) -> Item {
    key(format!("ROOM#{room}#C{shard}"), "COUNTERS")
}

pub fn counter_keys(room: &RoomId) -> Vec<Item> {
    (0..COUNTER_SHARDS).map(|k| counter_key(room, k)).collect()
}

/// Every partition under a room other than the room item's own.
pub fn presence_partitions(room: &RoomId) -> Vec<String> {
    (0..PRESENCE_SHARDS).map(|k| presence_pk(room, k)).collect()
}

pub fn status_partition(status: RoomStatus) -> String {
    Listing {
        anchor: None,
        category: None,
        status: Some(status),
    }
    .partition()
}

/// The status partition of the calls (channels' rooms): the sweeper's, never a listing's.
pub fn call_status_partition(status: RoomStatus) -> String {
    format!("CALLS#{}", status.as_i64())
}

/// Room `id`'s status partition: a call's is apart from the listed rooms'.
pub fn status_partition_of(id: &RoomId, status: RoomStatus) -> String {
    if id.is_channel() {
        call_status_partition(status)
    } else {
        status_partition(status)
    }
}

/// Where deleted rooms wait for their purge (on the status index).
pub const DELETED_ROOMS: &str = "ROOMS#deleted";

/// What the sort key of a room's series sample starts with (below [`ROOM_SK`]).
pub const SAMPLE_SK_PREFIX: &str = "POINT#";

/// The sort key of a room's sample at `at_ms` (unix milliseconds, fixed width: byte order is
/// time order).
pub fn sample_sk(at_ms: i64) -> String {
    format!("{SAMPLE_SK_PREFIX}{:013}", at_ms.max(0))
}

pub fn sample_key(room: &RoomId, at_ms: i64) -> Item {
    key(room_pk(room), &sample_sk(at_ms))
}

/// The sweeper's last run's stats.
pub fn stats_key() -> Item {
    key("STATS".to_owned(), "STATS")
}

pub fn outbox_pk(room: &RoomId) -> String {
    format!("OUTBOX#{room}")
}

pub fn outbox_key(entry: &crate::domain::outbox::Entry) -> Item {
    key(
        outbox_pk(&entry.room),
        &format!("{}#{}", entry.sink.as_str(), entry.seq),
    )
}

/// The partition of the presence index that lists undelivered outbox entries (presence
/// partitions are `ROOM#...`, so they never meet).
pub const OUTBOX_INDEX_PARTITION: &str = "OUTBOX";

/// `gsi4`'s partition of the ended rooms whose recording is still awaited (issue 26), sorted
/// `{stopped_at}#{room}`: what the sweeper reads to fail the ones past
/// `RECORDING_TIMEOUT_SECONDS`, so that it never reads every ended room. A room leaves it with
/// the write that makes its recording ready or failed.
pub const RECORDINGS_DUE_PARTITION: &str = "RECORDINGS#DUE";

/// The audit log, by time (one partition; the entries' ids sort by time).
pub const AUDIT_PK: &str = "AUDIT";
/// The audit log by room: on the every-room index, in partitions rooms never use.
pub const AUDIT_BY_ROOM: Index = GSI_ALL;
/// The audit log by actor: on the rooms-by-anchor index, in partitions rooms never use.
pub const AUDIT_BY_ACTOR: Index = GSI_ANCHOR;

/// A room's banned members: on the rooms-by-anchor index (presence items are never on it
/// otherwise), partition `BANS#{room}`, sorted by the ban's end.
pub const BANS_INDEX: Index = GSI_ANCHOR;

pub fn bans_partition(room: &RoomId) -> String {
    format!("BANS#{room}")
}

/// A ban's sort key on [`BANS_INDEX`]: `{until ms, 13 digits}#{user}`.
pub fn ban_sort(until_ms: i64, user: &UserId) -> String {
    format!("{until_ms:013}#{user}")
}

pub fn audit_room_partition(room: &str) -> String {
    format!("AUDIT#ROOM#{room}")
}

pub fn audit_actor_partition(kind: &str, id: &str) -> String {
    format!("AUDIT#ACTOR#{kind}#{id}")
}

/// The API keys' listing partition on `gsi1`.
pub const KEYS_PARTITION: &str = "KEYS";

pub fn key_key(id: &crate::domain::operator::KeyId) -> Item {
    key(format!("KEY#{id}"), "KEY")
}

/// The users' listing partition on `gsi1`.
pub const USERS_PARTITION: &str = "USERS";

/// The users' listing keys of a live user.
pub fn user_listing(username: &Username, id: &UserId) -> [(String, AttributeValue); 2] {
    [
        (GSI_ALL.pk.to_owned(), s(USERS_PARTITION)),
        (GSI_ALL.sk.to_owned(), s(format!("{}#{id}", username.key()))),
    ]
}
