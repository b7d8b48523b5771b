//! Changes of a stored room beyond its creation and deletion: its mutable fields (moving its
//! listing keys with them), its meeting list (seats given away on their holders' lapsed
//! leases), its channel marks and its metrics snapshot, each one conditional write.
//!
//! Never here: which change a room may take (that is `Room::apply`).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::change::Change;
use super::codec::{
    RECORDING, RECORDING_REVISION, meeting_json, metrics_attributes, recording_due_key,
    recording_json, room_listing_keys, room_mutable_attributes, time,
};
use super::schema::{GSI_PRESENCE, TTL_ATTRIBUTE, n, presence_key, room_key, s};
use super::{DynamoStore, applied, conditional};
use crate::domain::audit::AuditEntry;
use crate::domain::meeting::Meeting;
use crate::domain::outbox::Entry;
use crate::domain::presence::{PRESENCE_SHARDS, shard};
use crate::domain::recording::Recording;
use crate::domain::room::{Expected, Guard, Mark, MetricsSnapshot, Room};
use crate::domain::{RoomId, RoomStatus};
use crate::store::{
    ChannelMark, Lapsed, MeetingWrite, MetricsWrite, RecordingWrite, RoomUpdate, StoreError,
};

#[async_trait]
impl RoomUpdate for DynamoStore {
    async fn update_room_audited(
        &self,
        room: &Room,
        expected: Expected,
        events: &[Entry],
        audit: Option<&AuditEntry>,
    ) -> Result<(), StoreError> {
        debug_assert_eq!(room.version, expected.version + 1);
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut set = Vec::new();
        for (i, (name, value)) in room_mutable_attributes(room).into_iter().enumerate() {
            names.insert(format!("#a{i}"), name.to_owned());
            values.insert(format!(":a{i}"), value);
            set.push(format!("#a{i} = :a{i}"));
        }
        let mut remove = Vec::new();
        // The room moves to the listings of its (new) status and category.
        for (i, (name, partition)) in room_listing_keys(room).into_iter().enumerate() {
            names.insert(format!("#l{i}"), name.to_owned());
            match partition {
                Some(p) => {
                    values.insert(format!(":l{i}"), p);
                    set.push(format!("#l{i} = :l{i}"));
                }
                None => remove.push(format!("#l{i}")),
            }
        }
        // On the awaited recordings' partition while ended with its recording awaited.
        names.insert("#due_pk".to_owned(), GSI_PRESENCE.pk.to_owned());
        names.insert("#due_sk".to_owned(), GSI_PRESENCE.sk.to_owned());
        match recording_due_key(room) {
            Some((pk, sk)) => {
                values.insert(":due_pk".to_owned(), pk);
                values.insert(":due_sk".to_owned(), sk);
                set.push("#due_pk = :due_pk, #due_sk = :due_sk".to_owned());
            }
            None => remove.push("#due_pk, #due_sk".to_owned()),
        }
        names.insert("#expires_at".to_owned(), TTL_ATTRIBUTE.to_owned());
        match room.expires_at {
            Some(t) => {
                values.insert(":expires_at".to_owned(), n(t));
                set.push("#expires_at = :expires_at".to_owned());
            }
            None => remove.push("#expires_at".to_owned()),
        }
        for (name, value) in [
            ("started_at", &room.started_at),
            ("stopped_at", &room.stopped_at),
        ] {
            names.insert(format!("#{name}"), name.to_owned());
            match value {
                Some(t) => {
                    values.insert(format!(":{name}"), time(t));
                    set.push(format!("#{name} = :{name}"));
                }
                None => remove.push(format!("#{name}")),
            }
        }
        // An operator's end: why and by whom (JSON), or nothing.
        names.insert("#stopped".to_owned(), "stopped".to_owned());
        match &room.stopped {
            Some(stopped) => {
                let json = serde_json::to_string(stopped)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                values.insert(":stopped".to_owned(), s(json));
                set.push("#stopped = :stopped".to_owned());
            }
            None => remove.push("#stopped".to_owned()),
        }
        names.insert("#status".to_owned(), "status".to_owned());
        names.insert("#version".to_owned(), "version".to_owned());
        names.insert("#deleted_at".to_owned(), "deleted_at".to_owned());
        values.insert(":expected_status".to_owned(), n(expected.status.as_i64()));
        values.insert(":expected_version".to_owned(), n(expected.version));
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        let mut condition = "attribute_exists(pk) AND attribute_not_exists(#deleted_at) \
             AND #status = :expected_status AND #version = :expected_version"
            .to_owned();
        // A recording write leaves the version alone: a write that puts the room on the
        // awaited recordings' partition does so only if the recording is still the one it
        // read (else it loses the race, and its retry reads the recording as it is now).
        if let (Some(_), Some(recording)) = (recording_due_key(room), &room.recording) {
            names.insert("#rec_rev".to_owned(), RECORDING_REVISION.to_owned());
            values.insert(":rec_rev".to_owned(), n(recording.revision));
            condition.push_str(" AND #rec_rev = :rec_rev");
        }
        match expected.guard {
            Guard::None => {}
            Guard::AnchorSilentSince(t) => {
                names.insert("#anchor_seen_at".to_owned(), "anchor_seen_at".to_owned());
                values.insert(":silent_since".to_owned(), time(&t));
                condition.push_str(
                    " AND (attribute_not_exists(#anchor_seen_at) OR #anchor_seen_at < :silent_since)",
                );
            }
            Guard::NeverEntered => {
                names.insert("#anchor_seen_at".to_owned(), "anchor_seen_at".to_owned());
                names.insert("#shards".to_owned(), "m_shards".to_owned());
                condition.push_str(
                    " AND attribute_not_exists(#anchor_seen_at) AND attribute_not_exists(#shards) AND attribute_not_exists(#started_at)",
                );
            }
        }
        let change = Change {
            names,
            values,
            ..Change::new(room_key(&room.id), update).condition(condition)
        };
        self.change_reporting_checked(change, Vec::new(), events, audit)
            .await
    }
}

#[async_trait]
impl MeetingWrite for DynamoStore {
    async fn replace_seats(
        &self,
        id: &RoomId,
        meeting: &Meeting,
        expected: u64,
        lapsed: &[Lapsed],
        events: &[Entry],
    ) -> Result<(), StoreError> {
        debug_assert_eq!(meeting.version, expected + 1);
        let change = Change::new(room_key(id), "SET #meeting = :meeting, #mv = :next")
            .condition(
                "attribute_exists(pk) AND attribute_not_exists(deleted_at) \
                 AND #status <> :ended AND #mv = :expected",
            )
            .name("#meeting", "meeting")
            .name("#mv", "meeting_version")
            .name("#status", "status")
            .value(":meeting", s(meeting_json(meeting)))
            .value(":next", n(meeting.version))
            .value(":expected", n(expected))
            .value(":ended", n(RoomStatus::Ended.as_i64()));
        // Each holder's presence item still says silent (a renewal since fails the write).
        let checks = lapsed
            .iter()
            .map(|l| {
                Change::check(
                    presence_key(id, shard(&l.user, PRESENCE_SHARDS), &l.user),
                    "attribute_not_exists(#last_seen) OR #last_seen < :before",
                )
                .name("#last_seen", "last_seen")
                .value(":before", time(&l.before))
            })
            .collect();
        self.change_reporting_checked(change, checks, events, None)
            .await
    }
}

#[async_trait]
impl RecordingWrite for DynamoStore {
    async fn update_recording(
        &self,
        id: &RoomId,
        recording: &Recording,
        expected: u64,
        events: &[Entry],
    ) -> Result<(), StoreError> {
        debug_assert_eq!(recording.revision, expected + 1);
        // A recording only ever changes to ready or failed: it is awaited no more.
        let change = Change::new(
            room_key(id),
            "SET #rec = :rec, #rev = :next REMOVE #due_pk, #due_sk",
        )
        .name("#due_pk", GSI_PRESENCE.pk)
        .name("#due_sk", GSI_PRESENCE.sk)
        .condition(
            "attribute_exists(pk) AND attribute_not_exists(deleted_at) \
                 AND attribute_exists(#rec) AND #rev = :expected",
        )
        .name("#rec", RECORDING)
        .name("#rev", RECORDING_REVISION)
        .value(":rec", s(recording_json(recording)))
        .value(":next", n(recording.revision))
        .value(":expected", n(expected));
        self.change_reporting_checked(change, Vec::new(), events, None)
            .await
    }
}

#[async_trait]
impl ChannelMark for DynamoStore {
    async fn mark_room(&self, id: &RoomId, mark: Mark) -> Result<bool, StoreError> {
        let request = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(room_key(id)));
        let request = match mark {
            Mark::ChannelStarted { at } => request
                .update_expression("SET channel_started_at = :at")
                .condition_expression(
                    "attribute_exists(pk) AND attribute_not_exists(deleted_at) \
                     AND attribute_not_exists(channel_started_at)",
                )
                .expression_attribute_values(":at", time(&at)),
            Mark::ChannelEmpty { at } => request
                .update_expression("REMOVE channel_started_at")
                .condition_expression("attribute_exists(pk) AND channel_started_at < :at")
                .expression_attribute_values(":at", time(&at)),
        };
        applied(request.send().await.map(|_| ()).map_err(conditional))
    }
}

#[async_trait]
impl MetricsWrite for DynamoStore {
    async fn claim_metrics(
        &self,
        id: &RoomId,
        seen: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let request = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(room_key(id)))
            .update_expression("SET m_lease = :until")
            .expression_attribute_values(":until", time(&until))
            .expression_attribute_values(":now", time(&now));
        let unclaimed = "(attribute_not_exists(m_lease) OR m_lease < :now)";
        let request = match seen {
            Some(at) => request
                .condition_expression(format!(
                    "attribute_exists(pk) AND m_at = :seen AND {unclaimed}"
                ))
                .expression_attribute_values(":seen", time(&at)),
            None => request.condition_expression(format!(
                "attribute_exists(pk) AND attribute_not_exists(m_at) AND {unclaimed}"
            )),
        };
        applied(request.send().await.map(|_| ()).map_err(conditional))
    }

    async fn save_metrics(
        &self,
        id: &RoomId,
        snapshot: &MetricsSnapshot,
    ) -> Result<bool, StoreError> {
        let Some(at) = snapshot.at else {
            return Ok(false);
        };
        let fresh = MetricsSnapshot {
            refreshing_until: None,
            ..*snapshot
        };
        let mut names = HashMap::new();
        let mut values = HashMap::from([(":at".to_owned(), time(&at))]);
        let mut set = Vec::new();
        for (name, value) in metrics_attributes(&fresh) {
            names.insert(format!("#{name}"), name.to_owned());
            values.insert(format!(":{name}"), value);
            set.push(format!("#{name} = :{name}"));
        }
        names.insert("#lease".to_owned(), "m_lease".to_owned());
        let request = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(room_key(id)))
            .update_expression(format!("SET {} REMOVE #lease", set.join(", ")))
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(#m_at) OR #m_at <= :at)",
            )
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values));
        applied(request.send().await.map(|_| ()).map_err(conditional))
    }
}
