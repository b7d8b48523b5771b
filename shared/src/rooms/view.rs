//! The room's read model (seed 002 `models.RoomInfo` and the objects in it): what a viewer is
//! shown of a room, signed per viewer, and the one read that gives it (the room, its counters,
//! and the caller's ban and session).
//!
//! Never here: a write, or a rule on who may change a room (those are the endpoints').

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::App;
use crate::auth::Caller;
use crate::clock::rfc3339;
use crate::credentials::RoomCredentials;
pub use crate::credentials::{PullUrlInfo, PushUrlInfo};
use crate::domain::recording::{RecordedFile, Recording};
use crate::domain::room::{Counters, Room};
use crate::domain::{RoomId, RoomMode, RoomStatus, UserId};
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::room_change::{Signer, found_for, found_view, standing};

/// Seed 002 `models.LinkInfo`.
#[derive(Debug, Serialize)]
pub struct LinkInfo {
    pub rtc_push_url: String,
    pub rtc_pull_url: String,
    pub cdn_pull_info: PullUrlInfo,
}

/// Seed 002 `models.UserStatus`.
#[derive(Debug, Default, Serialize)]
pub struct UserStatus {
    pub mute: bool,
    pub mute_source: Vec<String>,
}

impl UserStatus {
    /// The viewer's own status in the room: muted by the anchor, or not.
    pub fn of(room: &Room, viewer: &UserId) -> Self {
        if room.is_muted(viewer) {
            Self {
                mute: true,
                mute_source: vec!["anchor".to_owned()],
            }
        } else {
            Self::default()
        }
    }
}

/// Seed 002 `models.VodInfo`: the room's recording (issue 26). A room not recorded shows
/// `{status: 0, playlist: []}`, as before recordings were made.
#[derive(Debug, Default, Serialize)]
pub struct VodInfo {
    pub status: u8,
    pub playlist: Vec<PlayInfo>,
}

/// Seed 002 `models.PlayInfo`: one recorded file, every field present with its declared type
/// (what the vendor does not report is empty or 0). `play_url` is signed for the viewer, and
/// empty for one who may not watch the room (see [`Signer`]).
#[derive(Debug, Default, Serialize)]
pub struct PlayInfo {
    pub bit_depth: i64,
    pub bit_rate: String,
    pub creation_time: String,
    pub definition: String,
    pub duration: String,
    pub encrypt: i64,
    pub encrypt_type: String,
    pub format: String,
    pub fps: String,
    pub hdr_type: String,
    pub height: i64,
    pub play_url: String,
    pub size: i64,
    pub status: String,
    pub stream_type: String,
    pub watermark_id: String,
    pub width: i64,
}

impl PlayInfo {
    /// `file` as seed 002 shows it, with `play_url`.
    fn of(file: &RecordedFile, play_url: String) -> Self {
        let creation_time = DateTime::<Utc>::from_timestamp(file.started_at, 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        let bit_rate = match file.duration_ms {
            0 => String::new(),
            // Kbps, from the size and length where both are known.
            ms if file.size > 0 => format!("{}", file.size.saturating_mul(8) / ms),
            _ => String::new(),
        };
        Self {
            bit_rate,
            creation_time,
            definition: "OD".to_owned(),
            duration: format!("{:.3}", file.duration_ms as f64 / 1000.0),
            format: file.format.clone(),
            height: i64::from(file.height),
            play_url,
            size: i64::try_from(file.size).unwrap_or(i64::MAX),
            status: "Normal".to_owned(),
            stream_type: "video".to_owned(),
            width: i64::from(file.width),
            ..Self::default()
        }
    }
}

impl VodInfo {
    /// The room's recording as `signer` may show it: each file's playback URL signed where the
    /// viewer may watch the room.
    fn of(recording: Option<&Recording>, signer: &Signer) -> Self {
        let Some(recording) = recording else {
            return Self::default();
        };
        let playlist = recording
            .files
            .iter()
            .map(|f| {
                let url = (!signer.withheld)
                    .then(|| signer.providers.playback_url(f, signer.now))
                    .flatten()
                    .unwrap_or_default();
                PlayInfo::of(f, url)
            })
            .collect();
        Self {
            status: recording.status.as_u8(),
            playlist,
        }
    }
}

/// Seed 002 `models.RoomInfo`, every field kept, plus `version`, `category` and
/// `channel_started_at`. Stream URLs and credentials are computed per viewer on read. Every
/// field is always present with its declared type (strict decoders, e.g. Swift `Codable`,
/// reject `null` and missing objects): a time not yet reached and a URL there is none of are
/// empty strings, never `null` and never a made-up URL.
#[derive(Debug, Serialize)]
pub struct RoomInfo {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
    pub started_at: String,
    pub stopped_at: String,
    pub title: String,
    pub notice: String,
    pub cover_url: String,
    pub anchor_id: String,
    pub anchor_nick: String,
    pub extends: String,
    pub category: String,
    pub status: i64,
    pub mode: i64,
    pub version: u64,
    /// The room's IM group: the room id when the IM provider keeps a group per room (Tencent
    /// IM), from creation on; empty otherwise.
    pub chat_id: String,
    /// Whether that group exists yet (it is made just after `create`, and retried until it
    /// is when the IM API is down); false once the room has ended and its group is gone.
    pub chat_ready: bool,
    pub meeting_id: String,
    pub meeting_info: String,
    pub push_url_info: PushUrlInfo,
    pub pull_url_info: PullUrlInfo,
    pub link_info: LinkInfo,
    pub metrics: Metrics,
    /// When the first member joined the empty room (seed 000); empty before anyone joined.
    pub channel_started_at: String,
    pub user_status: UserStatus,
    pub vod_id: String,
    pub vod_info: VodInfo,
    /// Why an operator (or the system) ended the room; null otherwise (issue 24).
    pub stop_reason: Option<String>,
    /// Who ended it so: `{kind: user|key|system, id}`; null otherwise.
    pub stopped_by: Option<crate::domain::audit::Actor>,
}

impl RoomInfo {
    /// The room as `viewer` sees it: push URLs only for the anchor, pull URLs for everyone,
    /// `link_info` per the viewer's grant, and nothing signed once the room has ended or where
    /// `signer` withholds it (see [`Signer`]).
    pub fn view(room: &Room, viewer: &Caller, signer: &Signer, metrics: Metrics) -> Self {
        let (providers, now) = (&signer.providers, signer.now);
        let signed = room.status != RoomStatus::Ended && !signer.withheld;
        let pull_url_info = signed.then(|| providers.pull_urls(room, now)).flatten();
        let push_url_info = (signed && room.anchor_id == viewer.user_id)
            .then(|| providers.push_urls(room, now))
            .flatten();
        let pull_url_info = pull_url_info.unwrap_or_default();
        let credentials = signed.then(|| providers.room_credentials(room, &viewer.user_id, now));
        let (rtc_push_url, rtc_pull_url) = match credentials {
            Some(RoomCredentials::Issued(_, c)) => (
                c.push_url.unwrap_or_default(),
                c.pull_url.unwrap_or_default(),
            ),
            _ => (String::new(), String::new()),
        };
        let members = crate::meeting::view::member_views(room, signer);
        let link_info = LinkInfo {
            rtc_push_url,
            rtc_pull_url,
            cdn_pull_info: pull_url_info.clone(),
        };
        let time = |t: &Option<DateTime<Utc>>| t.as_ref().map(rfc3339).unwrap_or_default();
        Self {
            id: room.id.to_string(),
            created_at: rfc3339(&room.created_at),
            updated_at: rfc3339(&room.updated_at),
            started_at: time(&room.started_at),
            stopped_at: time(&room.stopped_at),
            title: room.title.to_string(),
            notice: room.notice.to_string(),
            cover_url: room.cover_url.to_string(),
            anchor_id: room.anchor_id.to_string(),
            anchor_nick: room.anchor_nick.to_string(),
            extends: room.extends.to_string(),
            category: room.category.to_string(),
            status: room.status.as_i64(),
            mode: i64::from(room.mode),
            version: room.version,
            chat_id: if providers.im.keeps_groups() {
                room.id.to_string()
            } else {
                String::new()
            },
            chat_ready: room.chat_ready,
            meeting_id: match room.mode {
                RoomMode::Normal => String::new(),
                RoomMode::CoHost | RoomMode::Pk => room.id.to_string(),
            },
            meeting_info: serde_json::to_string(&members).unwrap_or_default(),
            push_url_info: push_url_info.unwrap_or_default(),
            pull_url_info,
            link_info,
            metrics,
            channel_started_at: time(&room.channel_started_at),
            user_status: UserStatus::of(room, &viewer.user_id),
            vod_id: room
                .recording
                .as_ref()
                .map(|r| r.vod_id().to_owned())
                .unwrap_or_default(),
            vod_info: VodInfo::of(room.recording.as_ref(), signer),
            stop_reason: room.stopped.as_ref().map(|s| s.reason.as_str().to_owned()),
            stopped_by: room.stopped.as_ref().map(|s| s.by.clone()),
        }
    }
}

/// The room as `viewer` sees it, signed as `signer` allows, with `metrics`.
pub fn info(room: &Room, viewer: &Caller, signer: &Signer, metrics: Metrics) -> RoomInfo {
    RoomInfo::view(room, viewer, signer, metrics)
}

/// The room `id` and its counters as `caller` may be signed them, in one read with the
/// caller's ban and session: 401 once the caller's session has ended ([`Signer`] says what
/// may be signed for them).
pub(crate) async fn view_for<S: crate::store::RoomView + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    id: &RoomId,
) -> Result<(Room, Counters, Signer), ApiError> {
    let (view, session) = app
        .store
        .room_view_for(id, &caller.user_id, &caller.session.id)
        .await?;
    standing(caller, session)?;
    let banned_until = view.as_ref().and_then(|(_, _, until)| *until);
    let (room, counters) = found_view(view.map(|(room, counters, _)| (room, counters)))?;
    Ok((
        room,
        counters,
        Signer::for_viewer(app, caller, banned_until),
    ))
}

/// [`view_for`] for an answer that shows the room to `caller` (see [`found_for`]).
pub(crate) async fn readable_view_for<S: crate::store::RoomView + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    id: &RoomId,
) -> Result<(Room, Counters, Signer), ApiError> {
    let (room, counters, signer) = view_for(app, caller, id).await?;
    Ok((found_for(Some(room), caller)?, counters, signer))
}
