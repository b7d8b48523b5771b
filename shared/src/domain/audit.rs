//! The audit log (issue 24): one entry for every operator action, every anchor `kick`/`mute`,
//! `logout {all}`, `deleteUser`, a room's `delete` and every vendor enforcement call's
//! outcome — who did what to what, when, from where and why.
//!
//! An entry's id sorts by time (`{unix ms, 13 digits}{8 random hex}`), so the log reads newest
//! first in one range read by time, by room or by actor. Entries are written in the same
//! atomic write as the change they record (the store's `*_audited` writes), kept
//! `AUDIT_RETENTION_DAYS` (DynamoDB's TTL) and never changed.
//!
//! Never here: a secret, token or password (nothing that holds one is a field here), the
//! store's layout, or who may read the log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::operator::Reason;
use super::{FieldError, RoomId, UserId};

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    /// An account (by its id).
    User,
    /// An API key (by its key id).
    Key,
    /// liveroom itself (the sweeper, the outbox).
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Key => "key",
            Self::System => "system",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: String,
}

impl Actor {
    pub fn user(id: &UserId) -> Self {
        Self {
            kind: ActorKind::User,
            id: id.to_string(),
        }
    }

    pub fn system(what: &str) -> Self {
        Self {
            kind: ActorKind::System,
            id: what.to_owned(),
        }
    }
}

/// Through what the actor acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The admin API.
    Admin,
    /// A room's anchor, through the room API.
    Anchor,
    /// A user on their own account.
    User,
    /// The scheduled sweeper.
    Sweeper,
    /// The outbox, reporting a vendor's answer.
    Outbox,
}

macro_rules! actions {
    ($($variant:ident = $name:literal),+ $(,)?) => {
        /// What was done.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Action {
            $(#[serde(rename = $name)] $variant),+
        }

        impl Action {
            pub const ALL: &[Action] = &[$(Action::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }
        }
    };
}

actions! {
    RoomStop = "room.stop",
    RoomKick = "room.kick",
    RoomMute = "room.mute",
    RoomUnmute = "room.unmute",
    RoomDelete = "room.delete",
    UserDisable = "user.disable",
    UserEnable = "user.enable",
    UserRoles = "user.roles",
    UserLogoutAll = "user.logout_all",
    UserDelete = "user.delete",
    KeyCreate = "key.create",
    KeyRevoke = "key.revoke",
    VendorStreamCut = "vendor.stream_cut",
    VendorMemberRemoved = "vendor.member_removed",
    VendorRecordingStarted = "vendor.recording_started",
    VendorRecordingStopped = "vendor.recording_stopped",
}

impl Action {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == value)
            .ok_or_else(|| FieldError::new("action", "is not an audited action"))
    }
}

/// What was acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    Room,
    User,
    Key,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub kind: TargetKind,
    pub id: String,
}

impl Target {
    pub fn room(id: &RoomId) -> Self {
        Self {
            kind: TargetKind::Room,
            id: id.to_string(),
        }
    }

    pub fn user(id: &UserId) -> Self {
        Self {
            kind: TargetKind::User,
            id: id.to_string(),
        }
    }
}

/// Where an action came from: the request's address and id (empty for the system's own).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

/// Who acts, through what, and from where: what every entry of one call shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acting {
    pub actor: Actor,
    pub source: Source,
    pub origin: Origin,
}

impl Acting {
    /// A user acting through `source` (its own account, or its rooms as their anchor).
    pub fn user(id: &UserId, source: Source, origin: Origin) -> Self {
        Self {
            actor: Actor::user(id),
            source,
            origin,
        }
    }
}

/// One entry of the log, as stored and as the admin API and the `audit` webhook show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub source: Source,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub action: Action,
    pub target: Target,
    pub room_id: Option<String>,
    pub reason: Option<Reason>,
    /// What else the action's record holds (a ban's end, the roles set, a vendor's answer).
    pub details: serde_json::Value,
    /// Unix seconds after which the store may drop the entry (`AUDIT_RETENTION_DAYS`).
    #[serde(skip)]
    pub expires_at: i64,
}

impl AuditEntry {
    /// A new entry of `by`'s `action` on `target` at `at`, kept `retention_days`, with a
    /// fresh time-sortable id, no reason and empty details.
    pub fn new(
        at: DateTime<Utc>,
        retention_days: u32,
        by: &Acting,
        action: Action,
        target: Target,
    ) -> Self {
        // The random part keeps ids of one millisecond apart; the time orders them.
        let random = uuid::Uuid::new_v4().simple().to_string();
        Self {
            id: format!("{:013}{}", at.timestamp_millis().max(0), &random[..8]),
            at,
            actor: by.actor.clone(),
            source: by.source,
            ip: by.origin.ip.clone(),
            request_id: by.origin.request_id.clone(),
            action,
            room_id: (target.kind == TargetKind::Room).then(|| target.id.clone()),
            target,
            reason: None,
            details: serde_json::Value::Object(Default::default()),
            expires_at: at.timestamp() + i64::from(retention_days) * 86_400,
        }
    }

    /// The entry with `reason` (if any).
    pub fn because(mut self, reason: Option<Reason>) -> Self {
        self.reason = reason;
        self
    }

    /// The entry, naming `room` as the room it concerns.
    pub fn in_room(mut self, room: &RoomId) -> Self {
        self.room_id = Some(room.to_string());
        self
    }

    /// The entry with `key` = `value` among its details.
    pub fn detail(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        if let serde_json::Value::Object(map) = &mut self.details {
            map.insert(key.to_owned(), value.into());
        }
        self
    }

    /// The id's lowest value at or after `at` (a range bound of a read by time).
    pub fn id_from(at: DateTime<Utc>) -> String {
        format!("{:013}", at.timestamp_millis().max(0))
    }

    /// The id's highest value at or before `at`.
    pub fn id_until(at: DateTime<Utc>) -> String {
        format!("{:013}~", at.timestamp_millis().max(0))
    }
}

/// Which entries a read wants: one of the three orders, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditScope {
    All,
    Room(String),
    Actor(ActorKind, String),
}

/// A read of the log: newest first, ids in `[from, until]`, at most `limit`, after `after`
/// (the last id of the previous page), none past its retention at `now` (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub scope: AuditScope,
    /// Only this actor's entries (with a room's scope: by room, then filtered).
    pub actor: Option<(ActorKind, String)>,
    pub action: Option<Action>,
    pub from: String,
    pub until: String,
    pub after: Option<String>,
    pub limit: usize,
    pub now: i64,
}

impl AuditQuery {
    /// The lowest and highest ids there are: the bounds of a read not limited in time.
    pub const FIRST: &str = "0";
    pub const LAST: &str = "~";
}
