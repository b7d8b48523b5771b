//! The meeting list as read (seed 002 `models.MeetingInfo` and `models.MeetingMember`): each
//! co-host with its pull URL, signed per viewer; `getMeetingInfo`'s and `updateMeetingInfo`'s
//! answer, and `RoomInfo.meeting_info`.
//!
//! Never here: a write of the list, or who may make one (`meeting`).

use serde::Serialize;

use crate::domain::room::Room;
use crate::domain::{RoomStatus, UserId};
use crate::room_change::Signer;

/// The answer of both endpoints (seed 002 `models.MeetingInfo` plus `version`).
#[derive(Debug, Serialize)]
pub struct MeetingInfo {
    pub members: Vec<MeetingMemberView>,
    pub version: u64,
}

/// A co-host as read (seed 002 `models.MeetingMember`, with its computed pull URL).
#[derive(Debug, Serialize)]
pub struct MeetingMemberView {
    pub user_id: String,
    pub user_nick: String,
    pub user_avatar: String,
    pub camera_opened: bool,
    pub mic_opened: bool,
    pub rtc_pull_url: String,
}

impl MeetingInfo {
    pub fn view(room: &Room, signer: &Signer) -> Self {
        Self {
            members: member_views(room, signer),
            version: room.meeting.version,
        }
    }
}

/// The room's co-hosts as seed 002's `models.MeetingMember`, each with its RTS pull URL (empty
/// without a live provider, once the room has ended, and where `signer` withholds it):
/// `getMeetingInfo`'s members, and `RoomInfo.meeting_info` (JSON-encoded).
pub fn member_views(room: &Room, signer: &Signer) -> Vec<MeetingMemberView> {
    let (providers, now) = (&signer.providers, signer.now);
    let signed = room.status != RoomStatus::Ended && !signer.withheld;
    room.meeting
        .members
        .iter()
        .map(|m| MeetingMemberView {
            user_id: m.user_id.to_string(),
            user_nick: m.user_nick.to_string(),
            user_avatar: m.user_avatar.to_string(),
            camera_opened: m.camera_opened,
            mic_opened: m.mic_opened,
            rtc_pull_url: signed
                .then(|| {
                    providers
                        .live
                        .pull_urls(&stream_of(room, &m.user_id), now + providers.ttl_secs())
                })
                .flatten()
                .map(|p| p.rts_url)
                .unwrap_or_default(),
        })
        .collect()
}

/// The stream a member publishes: the room id for the anchor, `{room}_{user}` for co-hosts.
pub fn stream_of(room: &Room, user: &UserId) -> String {
    if &room.anchor_id == user {
        room.id.to_string()
    } else {
        format!("{}_{}", room.id, user)
    }
}
