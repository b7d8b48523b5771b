//! The outbox (issue 9): what the app must still tell the outside world about a room — its IM
//! group and the app's own webhook receiver — kept as entries written in the same write as the
//! change they report, and removed once delivered.
//!
//! An entry is an [`Event`] for one [`Sink`]. Its order key ([`Entry::seq`]) is the room's
//! change count ([`Room::changes`]) as the change leaves it: every write that puts entries
//! moves the count from the value it read to the next, on the condition that it is still the
//! value read — a status change, a co-host change, a kick and a deletion of one room alike —
//! so two such writes never commit with one count, and one room's entries sort in the order
//! their writes committed, whatever the writers' clocks say. Then the event's rank, the time
//! and the id (one write's entries share the count). Each sink
//! of a room is delivered in that order, an entry only after the one before it succeeded; a
//! failed delivery waits ([`Entry::next_at_ms`], growing backoff) and holds the entries behind
//! it.
//!
//! A [`Sink::Vendor`] entry carries one vendor call ([`Enforcement`], issue 24): the moderation
//! that reaches the vendors (an operator's stop cuts the room's stream, a kick removes the
//! member from the RTC channel), and the LiveKit egress that records a room while it is live
//! (issue 26), are written with the change like any other report, and delivered, retried and
//! audited by the outbox. Its values are plain names, no secret: the
//! writers decide the calls from the providers' public settings (`crate::enforce::Enforcers`
//! without keys), and only the deliverer holds the vendors' API credentials.
//!
//! Never here: I/O, or how a call is signed and sent (`crate::enforce`). Writers build entries
//! with [`Outbox::entries`] and [`Outbox::enforcing`]; the delivery is `crate::delivery`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::audit::Action;
use super::room::Room;
use super::{RoomId, UserId};
use crate::clock::rfc3339;

/// Where an entry goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Sink {
    /// The room's IM group (create, notify, destroy).
    Im,
    /// The app's webhook receiver (`WEBHOOK_URL`).
    Webhook,
    /// The vendors' APIs: each entry one [`Enforcement`] call (issue 24's moderation, issue
    /// 26's LiveKit recording).
    Vendor,
}

impl Sink {
    pub const ALL: [Sink; 3] = [Sink::Im, Sink::Webhook, Sink::Vendor];

    pub fn as_str(self) -> &'static str {
        match self {
            Sink::Im => "im",
            Sink::Webhook => "webhook",
            Sink::Vendor => "vendor",
        }
    }
}

/// Whose API a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    Aliyun,
    Tencent,
    Livekit,
}

impl Vendor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aliyun => "aliyun",
            Self::Tencent => "tencent",
            Self::Livekit => "livekit",
        }
    }
}

/// One enforcement call, vendor-neutral in shape; the names are the vendor's own, as our
/// signed URLs and tokens carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum Enforcement {
    /// Cut a room's stream. Alibaba and Tencent: the CDN ingest `{domain}/{app}/{stream}` of
    /// the anchor's push URLs (Alibaba `ForbidLiveStream` with `Oneshot=yes`, Tencent
    /// `DropLiveStream`); the broadcaster may push again. LiveKit: the room `stream` itself
    /// (`DeleteRoom`: everyone is disconnected); no domain or app.
    CutStream {
        vendor: Vendor,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        domain: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        app: String,
        stream: String,
    },
    /// Remove one member from an RTC channel: LiveKit `RemoveParticipant` (room `channel`,
    /// identity `user`), Tencent `RemoveUserByStrRoomId` (SDKAppID `app`, string room
    /// `channel`), Alibaba `RemoveTerminals` (ARTC app `app`, channel `channel`, terminal
    /// `user`: the vendor id our tokens name, `_05alice`). The member may join again.
    RemoveMember {
        vendor: Vendor,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        app: String,
        channel: String,
        user: String,
    },
    /// Start recording a room that went live (issue 26): LiveKit
    /// `Egress/StartRoomCompositeEgress` of room `room`, unless an egress of it is active
    /// already (`ListEgress` first: a start delivered twice records once).
    StartRecording { vendor: Vendor, room: String },
    /// Stop recording a room that paused or ended: LiveKit `Egress/StopEgress` of each of room
    /// `room`'s active egresses (`ListEgress` first: LiveKit names them).
    StopRecording { vendor: Vendor, room: String },
}

impl Enforcement {
    pub fn vendor(&self) -> Vendor {
        match self {
            Self::CutStream { vendor, .. }
            | Self::RemoveMember { vendor, .. }
            | Self::StartRecording { vendor, .. }
            | Self::StopRecording { vendor, .. } => *vendor,
        }
    }

    /// Whether it is a recording call (issue 26), not moderation: the two are delivered as two
    /// lanes of a room's vendor entries, each in order, a failure holding its own lane only.
    pub fn is_recording(&self) -> bool {
        matches!(
            self,
            Self::StartRecording { .. } | Self::StopRecording { .. }
        )
    }

    /// The audit log's action for this call's outcome (`vendor.stream_cut`, ...).
    pub fn action(&self) -> &'static str {
        self.audit_action().as_str()
    }

    /// The audit log's action for this call's outcome.
    pub fn audit_action(&self) -> Action {
        match self {
            Self::CutStream { .. } => Action::VendorStreamCut,
            Self::RemoveMember { .. } => Action::VendorMemberRemoved,
            Self::StartRecording { .. } => Action::VendorRecordingStarted,
            Self::StopRecording { .. } => Action::VendorRecordingStopped,
        }
    }

    /// The vendor API's name of the call (`ForbidLiveStream`, `DropLiveStream`, ...).
    pub fn api(&self) -> &'static str {
        match self {
            Self::CutStream { vendor, .. } => match vendor {
                Vendor::Aliyun => "ForbidLiveStream",
                Vendor::Tencent => "DropLiveStream",
                Vendor::Livekit => "DeleteRoom",
            },
            Self::RemoveMember { vendor, .. } => match vendor {
                Vendor::Aliyun => "RemoveTerminals",
                Vendor::Tencent => "RemoveUserByStrRoomId",
                Vendor::Livekit => "RemoveParticipant",
            },
            // Only LiveKit's egress is started by the server (the CDNs record by their own
            // configuration).
            Self::StartRecording { .. } => "StartRoomCompositeEgress",
            Self::StopRecording { .. } => "StopEgress",
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    RoomCreated,
    RoomStarted,
    RoomPaused,
    CohostsChanged,
    MemberKicked,
    RoomEnded,
    RoomDeleted,
    /// The room's replay is ready or failed (issue 26).
    RoomRecorded,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::RoomCreated => "room_created",
            EventKind::RoomStarted => "room_started",
            EventKind::RoomPaused => "room_paused",
            EventKind::CohostsChanged => "cohosts_changed",
            EventKind::MemberKicked => "member_kicked",
            EventKind::RoomEnded => "room_ended",
            EventKind::RoomDeleted => "room_deleted",
            EventKind::RoomRecorded => "room_recorded",
        }
    }

    /// The tie-break of events of one room written in the same millisecond.
    fn rank(self) -> u8 {
        self as u8
    }

    /// Whether the room's IM group hears of it: its life cycle and co-host list (never a
    /// join: an audience of 100,000 must not turn into IM API calls).
    fn reaches_im(self) -> bool {
        !matches!(self, EventKind::MemberKicked | EventKind::RoomRecorded)
    }
}

/// The room as an event reports it (the webhook body's `room`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSummary {
    pub id: String,
    pub anchor_id: String,
    pub title: String,
    pub status: i64,
    pub mode: i64,
    pub version: u64,
    pub cohosts: Vec<String>,
    pub cohosts_version: u64,
    pub created_at: String,
    pub started_at: String,
    pub stopped_at: String,
}

impl RoomSummary {
    pub fn of(room: &Room) -> Self {
        let time = |t: &Option<DateTime<Utc>>| t.as_ref().map(rfc3339).unwrap_or_default();
        Self {
            id: room.id.to_string(),
            anchor_id: room.anchor_id.to_string(),
            title: room.title.to_string(),
            status: room.status.as_i64(),
            mode: i64::from(room.mode),
            version: room.version,
            cohosts: room
                .meeting
                .members
                .iter()
                .map(|m| m.user_id.to_string())
                .collect(),
            cohosts_version: room.meeting.version,
            created_at: rfc3339(&room.created_at),
            started_at: time(&room.started_at),
            stopped_at: time(&room.stopped_at),
        }
    }
}

/// A kicked member (the `member` of a `member_kicked` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KickedMember {
    pub user_id: String,
    /// When the ban ends (RFC 3339); the kick's time when there is no ban.
    pub banned_until: String,
}

/// One event, as its receivers get it (the webhook body, JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Stable across retries: receivers dedupe on it.
    pub id: String,
    pub event: EventKind,
    /// Unix seconds (LiveKit's `createdAt` convention).
    pub created_at: i64,
    pub room: RoomSummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<KickedMember>,
    /// The room's recording, in a `room_recorded` event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<RecordingSummary>,
}

/// A recording as a `room_recorded` event reports it: `status` 1 ready or 2 failed (seed 002's
/// `vod_info.status`), `vod_id`, and how many files it has (their URLs are signed per viewer:
/// `get` gives them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingSummary {
    pub status: u8,
    pub vod_id: String,
    pub files: u64,
}

impl RecordingSummary {
    pub fn of(recording: &super::recording::Recording) -> Self {
        Self {
            status: recording.status.as_u8(),
            vod_id: recording.vod_id().to_owned(),
            files: recording.files.len() as u64,
        }
    }
}

impl Event {
    /// `kind` of `room` (as it is after the change) at `at`, with a fresh id.
    pub fn new(kind: EventKind, room: &Room, at: DateTime<Utc>) -> Self {
        Self {
            id: uuid::Uuid::new_v4().simple().to_string(),
            event: kind,
            created_at: at.timestamp(),
            room: RoomSummary::of(room),
            member: None,
            recording: None,
        }
    }

    /// What the room's IM group is told: the event and the room's versions.
    pub fn im_notification(&self) -> serde_json::Value {
        serde_json::json!({
            "event": self.event.as_str(),
            "room_id": self.room.id,
            "status": self.room.status,
            "version": self.room.version,
            "cohosts": self.room.cohosts,
            "cohosts_version": self.room.cohosts_version,
        })
    }
}

/// One event for one sink, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub room: RoomId,
    pub sink: Sink,
    /// The order key within the room and sink (see the module docs).
    pub seq: String,
    pub event: Event,
    /// The vendor call of a [`Sink::Vendor`] entry (the change `event` reports is what it
    /// enforces); `None` for the other sinks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Enforcement>,
    /// The room's change count its write moves to (the head of [`Self::seq`]): the store
    /// writes the entry only if the room's count was one below, and sets it.
    #[serde(default)]
    pub order: u64,
    /// Failed deliveries so far.
    pub attempts: u32,
    /// Not before this time (ms) after a failure; 0 for at once.
    pub next_at_ms: i64,
    /// Given up (DynamoDB's TTL) if still undelivered then: `RETENTION_DAYS` after the change.
    pub expires_at: i64,
}

impl Entry {
    /// Whether it may be tried at `now`.
    pub fn due(&self, now: DateTime<Utc>) -> bool {
        self.next_at_ms <= now.timestamp_millis()
    }

    /// The wait after the `attempts`-th failure: 5 s, doubling, at most 10 minutes.
    pub fn backoff(attempts: u32) -> chrono::Duration {
        let secs = 5u64.saturating_mul(1u64 << attempts.saturating_sub(1).min(16));
        chrono::Duration::seconds(secs.min(600) as i64)
    }
}

/// Which sinks are on (from the configuration): `IM_PROVIDER=tencent` makes a group per room,
/// `WEBHOOK_URL` a receiver. With neither, no entry is ever written and every write is as cheap
/// as without an outbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outbox {
    pub im: bool,
    pub webhook: bool,
}

impl Outbox {
    pub fn is_off(&self) -> bool {
        !self.im && !self.webhook
    }

    /// The entries reporting `events` of `room`, whose change count (see the module docs) is
    /// `order` after the change, written at `now` and kept until `expires_at`.
    pub fn entries(
        &self,
        room: &RoomId,
        order: u64,
        now: DateTime<Utc>,
        expires_at: i64,
        events: Vec<Event>,
    ) -> Vec<Entry> {
        if self.is_off() {
            return Vec::new();
        }
        let at = now.timestamp_millis();
        let mut out = Vec::new();
        for event in events {
            let seq = format!("{order:016}#{}#{at:013}#{}", event.event.rank(), event.id);
            for sink in Sink::ALL {
                let on = match sink {
                    Sink::Im => self.im && event.event.reaches_im(),
                    Sink::Webhook => self.webhook,
                    // Made by [`Outbox::enforcing`] only.
                    Sink::Vendor => false,
                };
                if on {
                    out.push(Entry {
                        room: room.clone(),
                        sink,
                        seq: seq.clone(),
                        event: event.clone(),
                        call: None,
                        order,
                        attempts: 0,
                        next_at_ms: 0,
                        expires_at,
                    });
                }
            }
        }
        out
    }
}

impl Outbox {
    /// The [`Sink::Vendor`] entries making `calls` to enforce `event` of `room` (its change
    /// count `order` after the change), written at `now` and kept until `expires_at`: one per
    /// call, in the calls' order, after the change's other entries. None without calls
    /// (whatever the other sinks: the calls are decided from the providers' settings).
    pub fn enforcing(
        room: &RoomId,
        order: u64,
        now: DateTime<Utc>,
        expires_at: i64,
        event: &Event,
        calls: Vec<Enforcement>,
    ) -> Vec<Entry> {
        let at = now.timestamp_millis();
        calls
            .into_iter()
            .enumerate()
            .map(|(i, call)| Entry {
                room: room.clone(),
                sink: Sink::Vendor,
                seq: format!(
                    "{order:016}#{}#{at:013}#{}#{i:02}",
                    event.event.rank(),
                    event.id
                ),
                event: event.clone(),
                call: Some(call),
                order,
                attempts: 0,
                next_at_ms: 0,
                expires_at,
            })
            .collect()
    }
}

/// The change count a write of `room` (as read) that reports events moves it to.
pub fn order(room: &Room) -> u64 {
    room.changes.saturating_add(1)
}

/// `room` (as a write of it left it) with the change count its `entries` moved it to, if any.
pub fn counted(room: &mut Room, entries: &[Entry]) {
    if let Some(entry) = entries.first() {
        room.changes = entry.order;
    }
}

/// The event a life-cycle change reports, if any (`before` → `after`).
pub fn status_event(before: &Room, after: &Room) -> Option<EventKind> {
    use super::RoomStatus::*;
    match (before.status, after.status) {
        (a, b) if a == b => None,
        (_, Live) => Some(EventKind::RoomStarted),
        (_, Prepare) => Some(EventKind::RoomPaused),
        (_, Ended) => Some(EventKind::RoomEnded),
    }
}

/// A kicked member's record for the event.
pub fn kicked(user: &UserId, until: DateTime<Utc>) -> KickedMember {
    KickedMember {
        user_id: user.to_string(),
        banned_until: rfc3339(&until),
    }
}
