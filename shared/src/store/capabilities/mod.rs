//! The store's capabilities: one small trait per thing a handler may ask of the store, in one
//! file per group (as the stores' own files are grouped), and here the sum of them all
//! ([`Store`]) and the same traits as data ([`Capability`]), with the DynamoDB actions each
//! performs.
//!
//! Never here: an implementation (that is [`super::dynamo`] and [`super::embedded`]).

pub(super) mod accounts;
pub(super) mod claims;
pub(super) mod moderation;
pub(super) mod operator;
pub(super) mod outbox;
pub(super) mod presence;
pub(super) mod quota;
pub(super) mod rooms;
pub(super) mod series;
pub(super) mod sweep;

use accounts::{SessionRead, SessionWrite, UserDelete, UserRead, UserUpdate, UserWrite};
use claims::{EventClaim, LoginThrottle, NonceClaim};
use moderation::{BanList, MemberBan, MemberRead, Moderation};
use operator::{AuditRead, KeyList, KeyRead, KeyTouch, KeyWrite, UserAdmin, UserList};
use outbox::OutboxWork;
use presence::{CounterWrite, PresenceRead, PresenceWrite};
use quota::RoomQuota;
use rooms::{
    ChannelMark, MeetingWrite, MetricsWrite, RecordingWrite, RoomBatchRead, RoomCreate, RoomDelete,
    RoomList, RoomRead, RoomUpdate, RoomView,
};
use series::{SeriesRead, SeriesWrite, StatsRead};
use sweep::RoomSweep;

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
    + BanList
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
    // The sweeper's runs (issue 24).
    + SeriesWrite
    + SeriesRead
    + StatsRead
    + KeyRead
    + KeyList
    + KeyWrite
    + KeyTouch
    + AuditRead
    + UserAdmin
    + UserList
    // Recordings (issue 26).
    + RecordingWrite
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
        + BanList
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
        // The sweeper's runs (issue 24).
        + SeriesWrite
        + SeriesRead
        + StatsRead
        + KeyRead
        + KeyList
        + KeyWrite
        + KeyTouch
        + AuditRead
        + UserAdmin
        + UserList
        // Recordings (issue 26).
        + RecordingWrite
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
    BanList,
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
    // The sweeper's runs (issue 24).
    SeriesWrite,
    SeriesRead,
    StatsRead,
    KeyRead,
    KeyList,
    KeyWrite,
    KeyTouch,
    AuditRead,
    UserAdmin,
    UserList,
    // Recordings (issue 26).
    RecordingWrite,
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
            Self::UserDelete => &[
                ("UpdateItem", Table),
                ("GetItem", Table),
                ("PutItem", Table),
            ],
            // The user and the session's revocation in one BatchGetItem.
            Self::SessionRead => &[("BatchGetItem", Table)],
            // A revocation item (PutItem), or the user's session generation (UpdateItem); held
            // to the caller's standing, the revocation is put in a transaction with a
            // `ConditionCheck` of the user item.
            Self::SessionWrite => &[
                ("PutItem", Table),
                ("UpdateItem", Table),
                ("ConditionCheckItem", Table),
            ],
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
            // A room's bans (one partition of `gsi3`).
            Self::BanList => &[("Query", Index)],
            // The member's presence item, and (with the outbox on) the kick's entry put in the
            // same transaction.
            Self::MemberBan => &[("UpdateItem", Table), ("PutItem", Table)],
            // The room item's muted set (with its audit entry, and a `ConditionCheck` of the
            // anchor's user item, in the same transaction).
            Self::Moderation => &[
                ("UpdateItem", Table),
                ("PutItem", Table),
                ("ConditionCheckItem", Table),
            ],
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
            // removed (DeleteItem; with a vendor call's audit entry, PutItem, in one
            // transaction) or postponed (UpdateItem), the room's `chat_ready`; the audit feed's
            // cursor (GetItem, UpdateItem) and the entries after it (Query).
            Self::OutboxWork => &[
                ("Query", Index),
                ("Query", Table),
                ("GetItem", Table),
                ("DeleteItem", Table),
                ("PutItem", Table),
                ("UpdateItem", Table),
            ],
            // The sweeper's runs (issue 24): its samples and stats put 25 to a
            // `BatchWriteItem`; a room's series (with the room item, in one `Query`), the
            // stats (`GetItem`).
            Self::SeriesWrite => &[("BatchWriteItem", Table)],
            Self::SeriesRead => &[("Query", Table)],
            Self::StatsRead => &[("GetItem", Table)],
            Self::KeyRead => &[("GetItem", Table)],
            // The keys' listing (one partition of `gsi1`).
            Self::KeyList => &[("Query", Index)],
            // The key's put or its revocation, with the audit entry in one transaction.
            Self::KeyWrite => &[("PutItem", Table), ("UpdateItem", Table)],
            // `last_used_at`, at most once a minute (a condition).
            Self::KeyTouch => &[("UpdateItem", Table)],
            // By time on the table, by room or actor on an index.
            Self::AuditRead => &[("Query", Table), ("Query", Index)],
            // The user's update and its audit entry in one transaction.
            Self::UserAdmin => &[("UpdateItem", Table), ("PutItem", Table)],
            // The users' listing (one partition of `gsi1`, by username).
            Self::UserList => &[("Query", Index)],
            // The room item's recording (and, with the outbox on, its entries put in the
            // same transaction).
            Self::RecordingWrite => &[("UpdateItem", Table), ("PutItem", Table)],
        }
    }
}
