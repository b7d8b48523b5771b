//! Changes of a stored room beyond its creation and deletion: its mutable fields, its
//! meeting list (seats given away on their holders' lapsed leases), its channel marks and its
//! metrics snapshot, each one conditional write through [`EmbeddedStore::change_room`].
//!
//! Never here: which change a room may take (that is `Room::apply`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::presence::{Entry, presence_key};
use super::rooms::{change_room_in, conflict_unless};
use super::{EmbeddedStore, PRESENCE, record};
use crate::domain::audit::AuditEntry;
use crate::domain::meeting::Meeting;
use crate::domain::outbox::Entry as OutboxEntry;
use crate::domain::recording::Recording;
use crate::domain::room::{Expected, Mark, MetricsSnapshot, Room};
use crate::domain::{RoomId, RoomStatus};
use crate::store::{
    ChannelMark, Lapsed, MeetingWrite, MetricsWrite, RecordingWrite, RoomUpdate, StoreError,
};

#[async_trait]
impl RoomUpdate for EmbeddedStore {
    async fn update_room_audited(
        &self,
        room: &Room,
        expected: Expected,
        events: &[OutboxEntry],
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        debug_assert_eq!(room.version, expected.version + 1);
        let room = room.clone();
        let id = room.id.clone();
        self.change_room_audited(
            &id,
            move |current| {
                if current.is_deleted()
                    || current.status != expected.status
                    || current.version != expected.version
                    || !expected.guard.holds(current)
                {
                    return Ok(false);
                }
                // Only the mutable fields change: identity, anchor, creation time, the meeting
                // list, the marks and the metrics (which have their own writers) stay.
                *current = Room {
                    id: current.id.clone(),
                    anchor_id: current.anchor_id.clone(),
                    created_at: current.created_at,
                    meeting: current.meeting.clone(),
                    anchor_seen_at: current.anchor_seen_at,
                    channel_started_at: current.channel_started_at,
                    metrics: current.metrics,
                    shards_used: current.shards_used,
                    deleted_at: current.deleted_at,
                    muted: current.muted.clone(),
                    chat_ready: current.chat_ready,
                    recording: current.recording.clone(),
                    ..room
                };
                Ok(true)
            },
            events,
            audit,
        )
        .await
        .and_then(conflict_unless)
    }
}

#[async_trait]
impl MeetingWrite for EmbeddedStore {
    async fn replace_seats(
        &self,
        id: &RoomId,
        meeting: &Meeting,
        expected: u64,
        lapsed: &[Lapsed],
        events: &[OutboxEntry],
    ) -> Result<(), StoreError> {
        debug_assert_eq!(meeting.version, expected + 1);
        let (id, meeting, lapsed) = (id.clone(), meeting.clone(), lapsed.to_vec());
        let events = events.to_vec();
        self.write(move |txn| {
            // Each holder still silent (a renewal since fails the write).
            let presence = txn.open_table(PRESENCE)?;
            for l in &lapsed {
                let key = presence_key(id.as_str(), &l.user);
                if let Some(entry) = record::<Entry>(&presence, &key)?
                    && (entry.listed || entry.visits > 0)
                    && entry.last_seen >= l.before
                {
                    return Ok(false);
                }
            }
            drop(presence);
            change_room_in(
                txn,
                &id,
                move |current| {
                    if current.is_deleted()
                        || current.status == RoomStatus::Ended
                        || current.meeting.version != expected
                    {
                        return Ok(false);
                    }
                    current.meeting = meeting;
                    Ok(true)
                },
                &events,
                None,
            )
        })
        .await
        .and_then(conflict_unless)
    }
}

#[async_trait]
impl RecordingWrite for EmbeddedStore {
    async fn update_recording(
        &self,
        id: &RoomId,
        recording: &Recording,
        expected: u64,
        events: &[OutboxEntry],
    ) -> Result<(), StoreError> {
        debug_assert_eq!(recording.revision, expected + 1);
        let recording = recording.clone();
        self.change_room_reporting(
            id,
            move |current| {
                let at = current.recording.as_ref().map(|r| r.revision);
                if current.is_deleted() || at != Some(expected) {
                    return Ok(false);
                }
                current.recording = Some(recording);
                Ok(true)
            },
            events,
        )
        .await
        .and_then(conflict_unless)
    }
}

#[async_trait]
impl ChannelMark for EmbeddedStore {
    async fn mark_room(&self, id: &RoomId, mark: Mark) -> Result<bool, StoreError> {
        self.change_room(id, move |current| {
            Ok(match mark {
                Mark::ChannelStarted { at } => {
                    let applies = !current.is_deleted() && current.channel_started_at.is_none();
                    if applies {
                        current.channel_started_at = Some(at);
                    }
                    applies
                }
                Mark::ChannelEmpty { at } => {
                    let applies = current.channel_started_at.is_some_and(|t| t < at);
                    if applies {
                        current.channel_started_at = None;
                    }
                    applies
                }
            })
        })
        .await
    }
}

#[async_trait]
impl MetricsWrite for EmbeddedStore {
    async fn claim_metrics(
        &self,
        id: &RoomId,
        seen: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.change_room(id, move |current| {
            let m = &mut current.metrics;
            let unclaimed = m.refreshing_until.is_none_or(|t| t < now);
            if m.at != seen || !unclaimed {
                return Ok(false);
            }
            m.refreshing_until = Some(until);
            Ok(true)
        })
        .await
    }

    async fn save_metrics(
        &self,
        id: &RoomId,
        snapshot: &MetricsSnapshot,
    ) -> Result<bool, StoreError> {
        let snapshot = *snapshot;
        let Some(at) = snapshot.at else {
            return Ok(false);
        };
        self.change_room(id, move |current| {
            if current.metrics.at.is_some_and(|t| t > at) {
                return Ok(false);
            }
            current.metrics = MetricsSnapshot {
                refreshing_until: None,
                ..snapshot
            };
            Ok(true)
        })
        .await
    }
}
