//! The store: what the API keeps, behind one small trait per capability, with two
//! implementations.
//!
//! - [`dynamo::DynamoStore`] (feature `dynamodb`): production, one DynamoDB table.
//! - [`embedded::EmbeddedStore`]: the local default, one redb file.
//!
//! Both give the same guarantees, checked by one contract suite (`tests/tests/suite/contract.rs`):
//! usernames are unique; a room write happens only if the room is still in the status and at
//! the version the caller read (so concurrent writers can never interleave into a state the
//! machine forbids); a write that puts outbox entries applies only if the room's change count
//! ([`Room::changes`]) is one below their order, and moves it there (so one room's entries are
//! ordered as their writes committed); a listing is newest first; a deleted room is gone for every reader at
//! once and what was under it is removed by the same call or by the sweeper.
//!
//! A handler asks for the capabilities it uses (e.g. `get` for [`RoomView`], [`MetricsWrite`],
//! [`PresenceRead`], [`RoomRead`]) and the compiler holds it to them; [`Capability`] names the
//! same traits as data, with the DynamoDB actions each one performs, so that a test can check
//! every function's IAM policy in `template.yaml` against what its handler may call.
//!
//! Never here: who may do what (that is the features' job), or a status change the room's
//! [`Room::apply`](crate::domain::room::Room::apply) did not decide.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::meeting::Meeting;
use crate::domain::outbox::Entry;
use crate::domain::presence::{MembersPage, Visit};
use crate::domain::room::{Counters, Expected, Mark, MetricsSnapshot, Room, RoomQuery};
use crate::domain::user::User;
use crate::domain::{ImageUrl, Nick, RoomId, RoomStatus, UserId, Username};

#[cfg(feature = "dynamodb")]
pub mod dynamo;
pub mod embedded;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition did not hold: the key exists already, or the item changed or vanished.
    #[error("conditional write failed")]
    Conflict,
    /// The store could not be reached or failed; the text is for the log only.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// An item could not be decoded; the text is for the log only.
    #[error("corrupt item: {0}")]
    Corrupt(String),
}

/// A presence write: who, where, when, and until when the items it writes are kept.
#[derive(Debug, Clone, Copy)]
pub struct Touch<'a> {
    pub room: &'a RoomId,
    pub user: &'a UserId,
    pub now: DateTime<Utc>,
    /// The expiry (unix seconds) of the presence and counter items written: `now + retention`.
    pub expires_at: i64,
    /// The caller is the room's anchor: the same write marks the room alive (`anchor_seen_at`).
    pub anchor: bool,
    /// The user's presence shard is not yet among the room's used shards: the same write
    /// records it (`Room::shards_used`), so that listings skip shards nobody ever used.
    pub record_shard: bool,
}

/// What a sweep of one room's presence found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweptPresence {
    /// Members removed from the online index (last seen before the cut-off).
    pub removed: u64,
    /// Members seen after `since`.
    pub online: u64,
}

/// A caller's session as a read found it, in the same one read as what the caller asked for:
/// its user item (a closed account included) and whether a `logout` ended the session. The
/// features judge it ([`crate::accounts::standing`]).
#[derive(Debug, Clone, Default)]
pub struct SessionFound {
    pub user: Option<User>,
    pub ended: bool,
}

#[async_trait]
pub trait UserRead: Send + Sync {
    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;

    /// By [`Username::key`] (case-insensitive).
    async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError>;
}

#[async_trait]
pub trait UserWrite: Send + Sync {
    /// Adds a user. [`StoreError::Conflict`] if the username (by [`Username::key`]) is taken.
    async fn insert_user(&self, user: &User) -> Result<(), StoreError>;
}

#[async_trait]
pub trait UserUpdate: Send + Sync {
    /// Sets the profile fields given, if the user exists and is not deleted. Returns the
    /// updated user, or `None` if there is no such (live) user.
    async fn update_profile(
        &self,
        id: &UserId,
        nick: Option<&Nick>,
        avatar: Option<&ImageUrl>,
    ) -> Result<Option<User>, StoreError>;
}

#[async_trait]
pub trait UserDelete: Send + Sync {
    /// Closes the account at `now`: marked deleted, its password hash, salt, nick and avatar
    /// cleared, every session ended; its username claim stays (never reusable). Idempotent
    /// (a deleted user stays deleted as it was). Returns whether the user exists.
    async fn delete_user(&self, id: &UserId, now: DateTime<Utc>) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait SessionRead: Send + Sync {
    /// The user, and whether the session `session` was ended by a logout: one read.
    async fn session(
        &self,
        user: &UserId,
        session: &str,
    ) -> Result<(Option<User>, bool), StoreError>;
}

#[async_trait]
pub trait SessionWrite: Send + Sync {
    /// Ends one session of `user` (its refresh tokens stop working), remembered until
    /// `expires_at` (when its last refresh token expires anyway).
    async fn end_session(
        &self,
        user: &UserId,
        session: &str,
        expires_at: i64,
    ) -> Result<(), StoreError>;

    /// Ends every session of `user` begun so far (bumps [`User::sessions`]). Returns the new
    /// generation, or `None` if there is no such (live) user.
    async fn end_all_sessions(&self, user: &UserId) -> Result<Option<u64>, StoreError>;
}

/// A throttle counter: one record per time window, keeping one or more counts, each with the
/// most it may reach in a window (e.g. an address's failed logins, and among them those for one
/// username).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// What is counted: `ip:…`, `user:…`, `reg:…` (no `|`).
    pub key: String,
    /// The counts the record keeps: a name (no `|`) and its limit.
    pub counts: Vec<(String, u64)>,
}

#[async_trait]
pub trait LoginThrottle: Send + Sync {
    /// Counts one attempt (a login, a registration) on each of `counters` in the time window
    /// `window` (kept until `expires_at`). A counter counts it — one atomic conditional add to
    /// each of its counts — only if every one of its counts is below its limit, and is left as
    /// it is otherwise (a refused attempt is never counted). Returns, for each counter, whether
    /// it counted the attempt. Of attempts at once each is decided on the counts the others
    /// left, so no count ever passes its limit. A store may decide all counters together
    /// (counting on none when one refuses); the caller takes back those that counted when any
    /// did not.
    async fn count_attempt(
        &self,
        counters: &[Counter],
        window: i64,
        expires_at: i64,
    ) -> Result<Vec<bool>, StoreError>;

    /// Takes one counted attempt back from each count of each of `counters` in `window` (the
    /// login succeeded, or another counter refused it). A no-op on a count that is gone or 0.
    async fn forgive_attempt(&self, counters: &[Counter], window: i64) -> Result<(), StoreError>;
}

#[async_trait]
pub trait NonceClaim: Send + Sync {
    /// Claims `nonce` for `user` until `expires_at`. Returns false if it is claimed already
    /// (by a claim that has not expired at `now`).
    async fn claim_nonce(
        &self,
        user: &UserId,
        nonce: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait EventClaim: Send + Sync {
    /// Claims the vendor event `id` of `source` (a stream callback, a webhook) until
    /// `expires_at`. Returns false if it is claimed already (by a claim that has not expired at
    /// `now`): a replay.
    async fn claim_event(
        &self,
        source: &str,
        id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError>;

    /// Gives the claim up (the event's work failed: the vendor's retry must not be a replay).
    async fn release_event(&self, source: &str, id: &str) -> Result<(), StoreError>;

    /// Counts one use of the signature value `signature` of `source` (kept until
    /// `expires_at`) by one atomic add, and returns the count with it: uses at once each see
    /// their own count.
    async fn count_signature_use(
        &self,
        source: &str,
        signature: &str,
        expires_at: i64,
    ) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait MemberRead: Send + Sync {
    /// The room item and the end of `user`'s ban in it (if ever banned), in one read.
    async fn room_member(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<(Option<Room>, Option<DateTime<Utc>>), StoreError>;

    /// When each of `users` (at most 100) was last seen in `room` (its last join or
    /// keepalive, whether or not it has left since; `None`: never came), in their order, in
    /// one read.
    async fn seen(
        &self,
        room: &RoomId,
        users: &[UserId],
    ) -> Result<Vec<Option<DateTime<Utc>>>, StoreError>;

    /// [`Self::room_member`] and `user`'s session `session`, in the same one read.
    async fn room_member_in_session(
        &self,
        room: &RoomId,
        user: &UserId,
        session: &str,
    ) -> Result<(Option<Room>, Option<DateTime<Utc>>, SessionFound), StoreError>;

    /// The end of `user`'s ban (if ever banned) in each of `rooms` (at most 99), in their
    /// order, and `user`'s session `session`, in one read.
    async fn bans(
        &self,
        rooms: &[RoomId],
        user: &UserId,
        session: &str,
    ) -> Result<(Vec<Option<DateTime<Utc>>>, SessionFound), StoreError>;
}

#[async_trait]
pub trait MemberBan: Send + Sync {
    /// Takes `user` off the room's online list and bars them from it until `until` (a join or
    /// keepalive before then fails its condition); the record is kept until `expires_at`.
    async fn ban_member(
        &self,
        room: &RoomId,
        user: &UserId,
        until: DateTime<Utc>,
        expires_at: i64,
        events: &[Entry],
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait Moderation: Send + Sync {
    /// Adds `user` to (or removes them from) the room's muted members, if the room exists, is
    /// not deleted, `anchor` is its anchor and (to add) fewer than [`MAX_MUTED`] are muted;
    /// [`StoreError::Conflict`] otherwise.
    async fn set_muted(
        &self,
        room: &RoomId,
        anchor: &UserId,
        user: &UserId,
        muted: bool,
    ) -> Result<(), StoreError>;
}

/// The most members a room may have muted at once (the set lives on the room item).
pub const MAX_MUTED: usize = 1000;

#[async_trait]
pub trait RoomRead: Send + Sync {
    /// The room item alone (deleted rooms included: the features treat them as gone).
    async fn room(&self, id: &RoomId) -> Result<Option<Room>, StoreError>;
}

#[async_trait]
pub trait RoomView: Send + Sync {
    /// The room and its exact counters, in one read.
    async fn room_view(&self, id: &RoomId) -> Result<Option<(Room, Counters)>, StoreError>;

    /// [`Self::room_view`], the end of `viewer`'s ban in the room (if ever banned) and
    /// `viewer`'s session `session`, in the same one read.
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
    >;
}

#[async_trait]
pub trait RoomList: Send + Sync {
    /// Rooms that match `query` (never deleted ones), newest first, one page.
    async fn list_rooms(&self, query: &RoomQuery) -> Result<Vec<Room>, StoreError>;
}

#[async_trait]
pub trait RoomBatchRead: Send + Sync {
    /// The rooms of `ids` that exist (deleted ones included: the features treat them as
    /// gone), in no particular order, in one read; at most 100 distinct ids.
    async fn rooms_by_id(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError>;
}

/// What the caps on a user's rooms count, kept apart from the user's record (an item of the
/// user's partition in DynamoDB, so the user item's writers never meet room creations).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoomTally {
    /// The user's rooms not known to have ended. A room leaves it when the set is found full
    /// and the room ended or is gone ([`RoomQuota::forget_rooms`]), so the set may hold rooms
    /// that have ended since, never miss one that has not.
    pub open: Vec<RoomId>,
    /// The minute (unix time / 60) `created` counts in.
    pub minute: i64,
    /// The rooms the user created in `minute`.
    pub created: u32,
}

/// The caps a creation is held to: at most `max_open` rooms in the open set, at most
/// `per_minute` creations in `minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomCaps {
    pub max_open: u32,
    pub per_minute: u32,
    pub minute: i64,
}

#[async_trait]
pub trait RoomQuota: Send + Sync {
    /// The user (if any; deleted or not) and its tally (empty if none), in one read.
    async fn user_tally(&self, id: &UserId) -> Result<(Option<User>, RoomTally), StoreError>;

    /// [`Self::user_tally`] with the user's session `session` (whether a logout ended it), all
    /// in one read: `create` checks the session it signs push URLs for in the read it makes
    /// anyway.
    async fn user_tally_in_session(
        &self,
        id: &UserId,
        session: &str,
    ) -> Result<(SessionFound, RoomTally), StoreError>;

    /// Adds `room` (and `events` to the outbox) and counts it on its anchor's tally, in one
    /// write, if the anchor's open set holds fewer than `caps.max_open` rooms and it created
    /// fewer than `caps.per_minute` rooms in `caps.minute` (a count of an earlier minute
    /// starts over); [`StoreError::Conflict`] otherwise (or if the room id exists): the caller
    /// reads the tally again to say which. `seen` is the tally the caller read (the DynamoDB
    /// store words its condition by it).
    async fn insert_counted_room(
        &self,
        room: &Room,
        events: &[Entry],
        caps: RoomCaps,
        seen: &RoomTally,
    ) -> Result<(), StoreError>;

    /// Takes `rooms` off `user`'s open set (they ended or are gone); a no-op for rooms not in
    /// it, or a user without a tally.
    async fn forget_rooms(&self, user: &UserId, rooms: &[RoomId]) -> Result<(), StoreError>;
}

#[async_trait]
pub trait RoomCreate: Send + Sync {
    /// Adds a room (and `events` to the outbox, in the same write). [`StoreError::Conflict`] if
    /// the id exists.
    async fn insert_room(&self, room: &Room, events: &[Entry]) -> Result<(), StoreError>;
}

#[async_trait]
pub trait RoomUpdate: Send + Sync {
    /// Replaces the room's mutable fields (not its meeting list, marks or metrics) with
    /// `room`'s if the stored room is not deleted and still has `expected`'s status and version
    /// and guard; [`StoreError::Conflict`] otherwise. `room.version` must be `expected.version + 1`.
    /// `events` go to the outbox in the same write.
    async fn update_room(
        &self,
        room: &Room,
        expected: Expected,
        events: &[Entry],
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait MeetingWrite: Send + Sync {
    /// Replaces the room's meeting list with `meeting` (whose version is `expected + 1`) if
    /// the room exists, is not deleted, has not ended, and its meeting list is still at
    /// `expected`; [`StoreError::Conflict`] otherwise. Touches nothing else of the room.
    /// `events` go to the outbox in the same write.
    async fn update_meeting(
        &self,
        id: &RoomId,
        meeting: &Meeting,
        expected: u64,
        events: &[Entry],
    ) -> Result<(), StoreError> {
        self.replace_seats(id, meeting, expected, &[], events).await
    }

    /// [`Self::update_meeting`], also on the condition that each of `lapsed` is still silent
    /// in the room (last seen before its `before`, or never), in the same atomic write: a
    /// call's seat is given away only while its holder's lease has run out, never under a
    /// holder who renewed it meanwhile.
    async fn replace_seats(
        &self,
        id: &RoomId,
        meeting: &Meeting,
        expected: u64,
        lapsed: &[Lapsed],
        events: &[Entry],
    ) -> Result<(), StoreError>;
}

/// A seat holder whose lease a seat change relies on having run out: last seen in the room
/// (joined, or kept alive) before `before`, or never.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lapsed {
    pub user: UserId,
    pub before: DateTime<Utc>,
}

#[async_trait]
pub trait ChannelMark: Send + Sync {
    /// Sets or clears the room's channel start under the mark's condition. Returns whether it
    /// was applied.
    async fn mark_room(&self, id: &RoomId, mark: Mark) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait PresenceWrite: Send + Sync {
    /// A join: presence at `now` (joined at `now` unless already present) and the visit
    /// counted (pv + 1, and uv + 1 on the user's first visit), atomically. Returns which.
    async fn join(&self, touch: Touch<'_>) -> Result<Visit, StoreError>;

    /// A keepalive: presence at `now` without counting a visit.
    async fn keepalive(&self, touch: Touch<'_>) -> Result<(), StoreError>;

    /// Takes `user` off the online list (a no-op if absent); the visit stays counted.
    ///
    /// `join` and `keepalive` fail with [`StoreError::Conflict`] while the user is banned
    /// from the room ([`Moderation::ban_member`]) as well as when the room is gone.
    async fn leave(&self, room: &RoomId, user: &UserId) -> Result<(), StoreError>;
}

#[async_trait]
pub trait PresenceRead: Send + Sync {
    /// Members of one presence shard seen after `since`, newest activity first, at most
    /// `limit`, strictly below the `before` activity key when given.
    async fn members_page(
        &self,
        room: &RoomId,
        shard: u32,
        since: DateTime<Utc>,
        limit: u32,
        before: Option<&str>,
    ) -> Result<MembersPage, StoreError>;

    /// How many members were seen after `since` (all shards).
    async fn count_online(&self, room: &RoomId, since: DateTime<Utc>) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait CounterWrite: Send + Sync {
    /// Adds `count` likes on `user`'s counter shard, kept until `expires_at`.
    async fn add_likes(
        &self,
        room: &RoomId,
        user: &UserId,
        count: u64,
        expires_at: i64,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait MetricsWrite: Send + Sync {
    /// Claims the next metrics refresh until `until`, if the snapshot is still the one counted
    /// at `seen` and nobody holds an unexpired claim. Returns whether this caller has it.
    async fn claim_metrics(
        &self,
        id: &RoomId,
        seen: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Stores `snapshot` (and drops any claim) unless one counted later is stored already.
    /// Returns whether it was stored.
    async fn save_metrics(
        &self,
        id: &RoomId,
        snapshot: &MetricsSnapshot,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait RoomDelete: Send + Sync {
    /// Marks the room deleted at `now` (gone for every reader and every listing from here on;
    /// kept at most until `expires_at`) if it exists, is not deleted, and `anchor` is its
    /// anchor; [`StoreError::Conflict`] otherwise. `events` go to the outbox in the same write.
    async fn mark_deleted(
        &self,
        id: &RoomId,
        anchor: &UserId,
        now: DateTime<Utc>,
        expires_at: i64,
        events: &[Entry],
    ) -> Result<(), StoreError>;

    /// Removes everything stored under a room, the room item last. Idempotent: a purge
    /// interrupted half way is finished by the next.
    async fn purge_room(&self, id: &RoomId) -> Result<(), StoreError>;
}

#[async_trait]
pub trait RoomSweep: Send + Sync {
    /// Every room in `status` (created before `created_before`, if given), oldest first.
    async fn rooms_with_status(
        &self,
        status: RoomStatus,
        created_before: Option<DateTime<Utc>>,
    ) -> Result<Vec<Room>, StoreError>;

    /// Every room marked deleted and not yet purged.
    async fn deleted_rooms(&self) -> Result<Vec<Room>, StoreError>;

    /// Takes members last seen before `stale_before` off the online list (each only if still
    /// that stale: a racing keepalive wins) and counts those seen after `since`.
    async fn sweep_presence(
        &self,
        room: &RoomId,
        stale_before: DateTime<Utc>,
        since: DateTime<Utc>,
    ) -> Result<SweptPresence, StoreError>;

    /// The room's exact counters; counter items that would expire before `renew_before` are
    /// kept until `expires_at` (a room that lives longer than retention keeps its counts).
    async fn sweep_counters(
        &self,
        room: &RoomId,
        renew_before: i64,
        expires_at: i64,
    ) -> Result<Counters, StoreError>;
}

#[async_trait]
pub trait OutboxWork: Send + Sync {
    /// Rooms with undelivered outbox entries, at most `limit` of them.
    async fn outbox_rooms(&self, limit: usize) -> Result<Vec<RoomId>, StoreError>;

    /// The room's undelivered entries, every sink, each sink's in order.
    async fn outbox(&self, room: &RoomId) -> Result<Vec<Entry>, StoreError>;

    /// Removes a delivered entry (a no-op if it is gone).
    async fn outbox_done(&self, entry: &Entry) -> Result<(), StoreError>;

    /// Records a failed delivery: `attempts` so far, not again before `next_at_ms` (a no-op if
    /// the entry is gone: another delivery finished it).
    async fn outbox_later(
        &self,
        entry: &Entry,
        attempts: u32,
        next_at_ms: i64,
    ) -> Result<(), StoreError>;

    /// Records whether the room's IM group exists (a no-op if the room is gone).
    async fn set_chat_ready(&self, room: &RoomId, ready: bool) -> Result<(), StoreError>;
}

/// Everything: what the local server and the tests hold. A handler never asks for this.
pub trait Store:
    UserRead
    + UserWrite
    + UserUpdate
    + UserDelete
    + SessionRead
    + SessionWrite
    + LoginThrottle
    + NonceClaim
    + EventClaim
    + MemberRead
    + MemberBan
    + Moderation
    + RoomRead
    + RoomView
    + RoomList
    + RoomBatchRead
    + RoomQuota
    + RoomCreate
    + RoomUpdate
    + MeetingWrite
    + ChannelMark
    + PresenceWrite
    + PresenceRead
    + CounterWrite
    + MetricsWrite
    + RoomDelete
    + RoomSweep
    + OutboxWork
    + 'static
{
}

impl<T> Store for T where
    T: UserRead
        + UserWrite
        + UserUpdate
        + UserDelete
        + SessionRead
        + SessionWrite
        + LoginThrottle
        + NonceClaim
        + EventClaim
        + MemberRead
        + MemberBan
        + Moderation
        + RoomRead
        + RoomView
        + RoomList
        + RoomBatchRead
        + RoomQuota
        + RoomCreate
        + RoomUpdate
        + MeetingWrite
        + ChannelMark
        + PresenceWrite
        + PresenceRead
        + CounterWrite
        + MetricsWrite
        + RoomDelete
        + RoomSweep
        + OutboxWork
        + ?Sized
        + 'static
{
}

/// The capability traits as data: what a function's handler may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    UserRead,
    UserWrite,
    UserUpdate,
    UserDelete,
    SessionRead,
    SessionWrite,
    LoginThrottle,
    NonceClaim,
    EventClaim,
    MemberRead,
    MemberBan,
    Moderation,
    RoomRead,
    RoomView,
    RoomList,
    RoomBatchRead,
    RoomQuota,
    RoomCreate,
    RoomUpdate,
    MeetingWrite,
    ChannelMark,
    PresenceWrite,
    PresenceRead,
    CounterWrite,
    MetricsWrite,
    RoomDelete,
    RoomSweep,
    OutboxWork,
}

/// Where a DynamoDB action is performed: on the table or on its indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum On {
    Table,
    Index,
}

impl Capability {
    /// The DynamoDB actions the production store performs for this capability (an action in a
    /// `TransactWriteItems` is authorised as its item action: `Put` as `PutItem`, ...).
    pub const fn dynamodb_actions(self) -> &'static [(&'static str, On)] {
        use On::*;
        match self {
            Self::UserRead => &[("GetItem", Table)],
            // A transaction of two conditional puts (the username claim and the user).
            Self::UserWrite => &[("PutItem", Table)],
            Self::UserUpdate => &[("UpdateItem", Table)],
            // The conditional close, and a read when it did not apply (closed already?).
            Self::UserDelete => &[("UpdateItem", Table), ("GetItem", Table)],
            // The user and the session's revocation in one BatchGetItem.
            Self::SessionRead => &[("BatchGetItem", Table)],
            // A revocation item (PutItem), or the user's session generation (UpdateItem).
            Self::SessionWrite => &[("PutItem", Table), ("UpdateItem", Table)],
            // Each counter's conditional atomic add (and, for a login that succeeded or an
            // attempt another counter refused, its take-back).
            Self::LoginThrottle => &[("UpdateItem", Table)],
            Self::NonceClaim => &[("PutItem", Table)],
            // The claim, its release when the event's work failed, and the signature's uses
            // (an atomic add).
            Self::EventClaim => &[
                ("PutItem", Table),
                ("DeleteItem", Table),
                ("UpdateItem", Table),
            ],
            // The room and the member's presence item in one BatchGetItem (or the member's
            // presence items of a page of rooms), with the member's session when asked.
            Self::MemberRead => &[("BatchGetItem", Table)],
            // The member's presence item, and (with the outbox on) the kick's entry put in the
            // same transaction.
            Self::MemberBan => &[("UpdateItem", Table), ("PutItem", Table)],
            // The room item's muted set.
            Self::Moderation => &[("UpdateItem", Table)],
            Self::RoomRead => &[("GetItem", Table)],
            // The room and its counter shards (and a viewer's presence item and session) in
            // one BatchGetItem.
            Self::RoomView => &[("BatchGetItem", Table)],
            // One `Query` per listing read (two for "not ended").
            Self::RoomList => &[("Query", Index)],
            Self::RoomBatchRead => &[("BatchGetItem", Table)],
            // The user and its tally in one BatchGetItem, the room's put and the tally's
            // update in one transaction, and rooms taken off the tally.
            Self::RoomQuota => &[
                ("BatchGetItem", Table),
                ("PutItem", Table),
                ("UpdateItem", Table),
            ],
            Self::RoomCreate => &[("PutItem", Table)],
            // A change and (with the outbox on) its entries put in the same transaction.
            Self::RoomUpdate => &[("UpdateItem", Table), ("PutItem", Table)],
            // The same, and a call's seat given away on the condition that its holders' presence
            // items still say silent (`ConditionCheck`s in the transaction).
            Self::MeetingWrite => &[
                ("UpdateItem", Table),
                ("PutItem", Table),
                ("ConditionCheckItem", Table),
            ],
            Self::ChannelMark => &[("UpdateItem", Table)],
            // Presence and counter updates (a join is one transaction of updates; an anchor's
            // keepalive updates the room in the same transaction).
            Self::PresenceWrite => &[("UpdateItem", Table)],
            Self::PresenceRead => &[("Query", Index)],
            Self::CounterWrite => &[("UpdateItem", Table)],
            Self::MetricsWrite => &[("UpdateItem", Table)],
            // Mark (UpdateItem), then each partition: Query its keys, BatchWriteItem deletes
            // (the room item last).
            Self::RoomDelete => &[
                ("UpdateItem", Table),
                ("PutItem", Table),
                ("Query", Table),
                ("BatchWriteItem", Table),
            ],
            // The status index, the presence index, conditional removals from it, and the
            // counter shards (read, and their expiry renewed).
            Self::RoomSweep => &[
                ("Query", Index),
                ("UpdateItem", Table),
                ("BatchGetItem", Table),
            ],
            // The outbox index (rooms with entries), a room's entries (Query), an entry
            // removed (DeleteItem) or postponed (UpdateItem), the room's `chat_ready`.
            Self::OutboxWork => &[
                ("Query", Index),
                ("Query", Table),
                ("DeleteItem", Table),
                ("UpdateItem", Table),
            ],
        }
    }
}

/// Declares what a feature needs from the store, once: a trait that is the sum of the
/// capability traits (with a blanket impl), and the same list as data.
///
/// `needs!(GetStore, GET_NEEDS: RoomView, MetricsWrite)` emits `trait GetStore: RoomView +
/// MetricsWrite` and `const GET_NEEDS: &[Capability] = &[RoomView, MetricsWrite]`.
#[macro_export]
macro_rules! needs {
    ($(#[$doc:meta])* $name:ident, $list:ident: $($cap:ident),+ $(,)?) => {
        $(#[$doc])*
        pub trait $name: $($crate::store::$cap +)+ {}
        impl<T: $($crate::store::$cap +)+ ?Sized> $name for T {}
        /// The capabilities of the trait of the same feature, as data (IAM policy check).
        pub const $list: &[$crate::store::Capability] = &[$($crate::store::Capability::$cap),+];
    };
}
