//! Rooms (SPEC §5): their life cycle and who may change them.
//!
//! The state machine is [`Room::apply`]: 0 prepare —start→ 1 live —pause→ 0, and 0|1
//! —stop→ 2 ended, which is final. A repeated call is a no-op success; an impossible one is
//! 409. Every change is one conditional store write on the status and version that were read;
//! when another writer got there first, the change is re-decided on the fresh room, so
//! concurrent callers serialise into a history the machine allows. Only the anchor writes.

use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

use crate::App;
use crate::auth::Caller;
use crate::clock::rfc3339;
use crate::credentials::{Providers, RoomCredentials};
pub use crate::credentials::{PullUrlInfo, PushUrlInfo};
use crate::domain::outbox::{Entry, Event, EventKind, KickedMember, status_event};
use crate::domain::room::{
    Action, Counters, Expected, MetricsSnapshot, Room, RoomQuery, Transition,
};
use crate::domain::{
    Category, ChannelId, Extends, FieldError, ImageUrl, Nick, Notice, Page, RoomId, RoomMode,
    RoomStatus, Title, parse_status_filter,
};
use crate::error::{ApiError, ErrorCode};
use crate::metrics::{self, Metrics};
use crate::store::{RoomCaps, RoomTally, StoreError};
use lambda_http::Request;

use crate::endpoint::{Endpoint, Handler, Route, Visitor, authenticated, json};
use crate::env::SecretGroups;
use crate::store::Store;

/// How often a write re-reads and retries after losing a race before giving up with 409.
pub(crate) const MAX_ATTEMPTS: usize = 32;

crate::needs!(
    /// `create`: the anchor (its nick and its rooms' tally), then one transaction of the
    /// room's put and the tally's conditional update; when the tally is full, the state of
    /// its rooms in one read.
    CreateStore,
    CREATE_NEEDS: RoomQuota,
    RoomBatchRead
);
crate::needs!(
    /// `get`: the room, its counters and the caller's ban and session in one read; a metrics
    /// refresh when it is due.
    GetStore,
    GET_NEEDS: RoomView,
    RoomRead,
    MetricsWrite,
    PresenceRead,
    ChannelMark
);
crate::needs!(
    /// `list`: one query on an index (and, where anything is signed, the caller's session and
    /// bans in the page's rooms in one read).
    ListStore,
    LIST_NEEDS: RoomList,
    MemberRead
);
crate::needs!(
    /// `update`, `start`, `pause`, `stop`: the room, its counters and the anchor's session in
    /// one read, then one conditional write.
    ChangeStore,
    CHANGE_NEEDS: RoomView,
    RoomUpdate
);
crate::needs!(
    /// `delete`: the room, the mark, then the purge of what is under it.
    DeleteStore,
    DELETE_NEEDS: RoomView,
    RoomDelete
);

// ---- requests -----------------------------------------------------------------------------

/// `create` (seed 002 `handler.CreateRequest`; `anchor` is accepted but must be the caller).
#[derive(Debug, Default, Deserialize)]
pub struct CreateRequest {
    pub title: String,
    #[serde(default)]
    pub notice: Option<String>,
    #[serde(default)]
    pub cover_url: Option<String>,
    #[serde(default)]
    pub anchor_nick: Option<String>,
    #[serde(default)]
    pub mode: Option<i64>,
    #[serde(default)]
    pub extends: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub anchor: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

/// `get`, `start`, `pause`, `stop`, `delete`: a room id (and the seed's `user_id`, which must
/// be the caller's if present).
#[derive(Debug, Deserialize)]
pub struct RoomRequest {
    pub id: String,
    #[serde(default)]
    pub user_id: Option<String>,
}

impl RoomRequest {
    /// The request for room `id` (a dialect's mapping).
    pub fn of(id: &impl ToString) -> Self {
        Self {
            id: id.to_string(),
            user_id: None,
        }
    }
}

/// `list` (seed 002 `handler.ListRequest` plus filters).
#[derive(Debug, Deserialize)]
pub struct ListRequest {
    pub page_num: i64,
    pub page_size: i64,
    #[serde(default)]
    pub status: Option<i64>,
    #[serde(default)]
    pub anchor_id: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

/// `update`: only the fields present change.
#[derive(Debug, Default, Deserialize)]
pub struct UpdateRequest {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub notice: Option<String>,
    #[serde(default)]
    pub cover_url: Option<String>,
    #[serde(default)]
    pub extends: Option<String>,
    #[serde(default)]
    pub anchor_nick: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

// ---- the RoomInfo view --------------------------------------------------------------------

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
    pub fn of(room: &Room, viewer: &crate::domain::UserId) -> Self {
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

/// Seed 002 `models.VodInfo`.
#[derive(Debug, Default, Serialize)]
pub struct VodInfo {
    pub status: u8,
    pub playlist: Vec<serde_json::Value>,
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
}

/// What an answer may sign for its viewer: the one rule of every answer that carries a URL or
/// credential (`RoomInfo` and `MeetingInfo` wherever they are answered, `rtcToken`, `token`,
/// the dialects' tokens). Nothing for a member the anchor banned from the room (as `rtcToken`
/// refuses them), and nothing that outlives the viewer's access token (its providers' lifetime
/// is capped at the token's `exp`). Made only by [`Signer::for_viewer`] (and
/// [`Signer::nothing`]).
#[derive(Debug, Clone)]
pub struct Signer {
    /// The configured providers, their credentials' lifetime capped for this viewer.
    pub(crate) providers: Providers,
    /// When (unix seconds) signatures are made.
    pub(crate) now: i64,
    /// Nothing is signed: the viewer is banned from the room (or the room is gone).
    pub(crate) withheld: bool,
}

impl Signer {
    /// What `viewer` may be signed at the app's now, in a room whose ban on them (if any)
    /// ends at `banned_until`.
    pub fn for_viewer<S: ?Sized>(
        app: &App<S>,
        viewer: &Caller,
        banned_until: Option<DateTime<Utc>>,
    ) -> Self {
        let now = app.clock.now();
        Self {
            providers: app
                .config
                .providers
                .until(viewer.expires_at, now.timestamp()),
            now: now.timestamp(),
            withheld: crate::moderation::is_banned(banned_until, now),
        }
    }

    /// Signs nothing (the answer about a room that is gone).
    pub fn nothing<S: ?Sized>(app: &App<S>) -> Self {
        Self {
            providers: app.config.providers.clone(),
            now: app.clock.now().timestamp(),
            withheld: true,
        }
    }
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
        let members = crate::meeting::member_views(room, signer);
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
            vod_id: String::new(),
            vod_info: VodInfo::default(),
        }
    }
}

// ---- operations ---------------------------------------------------------------------------

/// A body `user_id`/`anchor` may only repeat the caller's own id (empty counts as absent).
pub fn check_claimed_identity(
    field: &'static str,
    claimed: Option<&str>,
    caller: &Caller,
) -> Result<(), ApiError> {
    match claimed {
        Some(id) if !id.is_empty() && id != caller.user_id.as_str() => Err(ApiError::forbidden(
            format!("{field} must be the caller's own id (it comes from the token)"),
        )
        .with_detail("field", field)),
        _ => Ok(()),
    }
}

pub(crate) fn room_id(code: ErrorCode, raw: &str) -> Result<RoomId, ApiError> {
    RoomId::parse("id", raw).map_err(|e| ApiError::invalid(code, e))
}

fn optional<T>(
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
    code: ErrorCode,
) -> Result<Option<T>, ApiError> {
    value
        .map(parse)
        .transpose()
        .map_err(|e| ApiError::invalid(code, e))
}

/// The room as `viewer` sees it, signed as `signer` allows, with `metrics`.
pub fn info(room: &Room, viewer: &Caller, signer: &Signer, metrics: Metrics) -> RoomInfo {
    RoomInfo::view(room, viewer, signer, metrics)
}

/// A room that exists and is not deleted (a deleted room is gone for every reader).
pub(crate) fn found(room: Option<Room>) -> Result<Room, ApiError> {
    room.filter(|r| !r.is_deleted())
        .ok_or_else(ApiError::room_not_found)
}

pub(crate) fn found_view(view: Option<(Room, Counters)>) -> Result<(Room, Counters), ApiError> {
    view.filter(|(r, _)| !r.is_deleted())
        .ok_or_else(ApiError::room_not_found)
}

/// [`found`] for an answer that shows the room to `caller`: a 1v1 call is read only by its
/// participants, and does not exist for anyone else (404, as if it never had).
pub(crate) fn found_for(room: Option<Room>, caller: &Caller) -> Result<Room, ApiError> {
    found(room.filter(|r| r.is_readable_by(&caller.user_id)))
}

pub async fn create<S: CreateStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: CreateRequest,
) -> Result<RoomInfo, ApiError> {
    const CODE: ErrorCode = ErrorCode::RoomCreateParams;
    check_claimed_identity("anchor", req.anchor.as_deref(), caller)?;
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let title = Title::parse(&req.title).map_err(|e| ApiError::invalid(CODE, e))?;
    let notice =
        optional(req.notice.as_deref(), Notice::parse, CODE)?.unwrap_or_else(Notice::empty);
    let cover_url = optional(
        req.cover_url.as_deref(),
        |v| ImageUrl::parse("cover_url", v),
        CODE,
    )?
    .unwrap_or_else(ImageUrl::empty);
    let extends =
        optional(req.extends.as_deref(), Extends::parse, CODE)?.unwrap_or_else(Extends::empty);
    let category =
        optional(req.category.as_deref(), Category::parse, CODE)?.unwrap_or_else(Category::empty);
    let mode = match req.mode {
        Some(m) => RoomMode::try_from(m).map_err(|e| ApiError::invalid(CODE, e))?,
        None => RoomMode::Normal,
    };
    let anchor_nick = optional(
        req.anchor_nick.as_deref(),
        |v| Nick::parse("anchor_nick", v),
        CODE,
    )?;
    let id = RoomId::generate();
    for _ in 0..MAX_ATTEMPTS {
        // The anchor's session (the room's push URLs are signed for it), its nick (when the
        // body has none) and its tally, in one read.
        let (found, tally) = app
            .store
            .user_tally_in_session(&caller.user_id, &caller.session.id)
            .await?;
        let user = crate::accounts::standing(caller, found)?;
        let now = app.clock.now();
        let Some(caps) = room_caps(app, caller, &tally, now).await? else {
            // Rooms that ended or are gone left the full set: try again.
            continue;
        };
        let room = Room {
            notice: notice.clone(),
            cover_url: cover_url.clone(),
            extends: extends.clone(),
            ..new_room(
                id.clone(),
                caller,
                anchor_nick
                    .clone()
                    .or(user.map(|u| u.nick))
                    .unwrap_or_else(Nick::empty),
                title.clone(),
                category.clone(),
                mode,
                now,
            )
        };
        let events = report(app, EventKind::RoomCreated, &room, now, None);
        match app
            .store
            .insert_counted_room(&room, &events, caps, &tally)
            .await
        {
            Ok(()) => {
                let signer = Signer::for_viewer(app, caller, None);
                return Ok(info(&room, caller, &signer, metrics::snapshot(&room)));
            }
            // Another creation (or an end) moved the tally: read it again.
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        ErrorCode::RoomVersionConflict,
        "the caller's rooms are changing too fast; retry",
    ))
}

/// The caps `create` holds the caller to at `now`, given the `tally` read: 429 past either
/// (`Retry-After` for the minute's count); `None` when the open set was full but held rooms
/// that ended or are gone, which this took off it (read the tally again).
async fn room_caps<S: CreateStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    tally: &RoomTally,
    now: DateTime<Utc>,
) -> Result<Option<RoomCaps>, ApiError> {
    // A tally of a later minute (another function's clock ahead of ours) counts as this one.
    let minute = now.timestamp().div_euclid(60).max(tally.minute);
    let caps = RoomCaps {
        max_open: app.config.max_open_rooms,
        per_minute: app.config.room_creations_per_minute,
        minute,
    };
    if tally.minute == minute && tally.created >= caps.per_minute {
        let retry_after = ((minute + 1) * 60 - now.timestamp()).max(1);
        return Err(ApiError::new(
            ErrorCode::RoomLimit,
            format!(
                "at most {} rooms a minute; retry in {retry_after} s",
                caps.per_minute
            ),
        )
        .with_detail("limit", "ROOM_CREATIONS_PER_USER_PER_MINUTE")
        .with_detail("max", caps.per_minute)
        .with_detail("retry_after", retry_after));
    }
    if tally.open.len() < caps.max_open as usize {
        return Ok(Some(caps));
    }
    // Full: the rooms that ended or are gone since leave the set (so it never locks a user
    // out), in one read.
    let open = app.store.rooms_by_id(&tally.open).await?;
    let closed: Vec<RoomId> = tally
        .open
        .iter()
        .filter(|id| {
            !open
                .iter()
                .any(|r| &r.id == *id && !r.is_deleted() && r.status != RoomStatus::Ended)
        })
        .cloned()
        .collect();
    if closed.is_empty() {
        return Err(ApiError::new(
            ErrorCode::RoomLimit,
            format!(
                "at most {} rooms that have not ended; stop or delete one first",
                caps.max_open
            ),
        )
        .with_detail("limit", "MAX_OPEN_ROOMS_PER_USER")
        .with_detail("max", caps.max_open));
    }
    app.store.forget_rooms(&caller.user_id, &closed).await?;
    Ok(None)
}

/// A room as `create` makes it: prepared, empty, nothing set but what is given.
fn new_room(
    id: RoomId,
    anchor: &Caller,
    anchor_nick: Nick,
    title: Title,
    category: Category,
    mode: RoomMode,
    now: DateTime<Utc>,
) -> Room {
    Room {
        id,
        anchor_id: anchor.user_id.clone(),
        anchor_nick,
        title,
        notice: Notice::empty(),
        cover_url: ImageUrl::empty(),
        extends: Extends::empty(),
        category,
        mode,
        status: RoomStatus::Prepare,
        version: 0,
        created_at: now,
        updated_at: now,
        started_at: None,
        stopped_at: None,
        meeting: crate::domain::meeting::Meeting::default(),
        anchor_seen_at: None,
        channel_started_at: None,
        expires_at: None,
        // Nobody can be in a room that did not exist: a true count, as of now.
        metrics: MetricsSnapshot {
            at: Some(now),
            ..MetricsSnapshot::default()
        },
        shards_used: 0,
        deleted_at: None,
        changes: 0,
        muted: Vec::new(),
        chat_ready: false,
    }
}

/// The category of the rooms made for RTC channels ([`channel_room`]).
pub const CHANNEL_CATEGORY: &str = "rtc-channel";

/// The room of the RTC channel a seed 000 client named, made by the first caller, who is its
/// anchor: a co-host room (title: the channel id, category [`CHANNEL_CATEGORY`]) whose
/// meeting list holds the call's participants, the anchor first (see
/// [`crate::meeting::take_seat`]). `None` when it does not exist and `make` is false. Two
/// first callers at once: one insert wins, the other reads the winner's room.
pub async fn channel_room<S>(
    app: &App<S>,
    caller: &Caller,
    channel: &ChannelId,
    make: bool,
) -> Result<Option<Room>, ApiError>
where
    S: crate::store::RoomRead + crate::store::RoomCreate + crate::store::SessionRead + ?Sized,
{
    let id = RoomId::for_channel(channel);
    if let Some(room) = app.store.room(&id).await? {
        return found(Some(room)).map(Some);
    }
    if !make {
        return Ok(None);
    }
    let title = Title::parse(channel.as_str())
        .map_err(|e| ApiError::invalid(ErrorCode::RoomQueryParams, e))?;
    // Made only in a session that stands (a call's first caller gets its token next): the
    // caller's profile comes with the check, in one read.
    let user = crate::accounts::live_session(app, caller).await?;
    let anchor = crate::domain::meeting::Member {
        user_id: caller.user_id.clone(),
        user_nick: user.nick,
        user_avatar: user.avatar,
        camera_opened: true,
        mic_opened: true,
    };
    let now = app.clock.now();
    let mut room = new_room(
        id.clone(),
        caller,
        anchor.user_nick.clone(),
        title,
        Category::parse(CHANNEL_CATEGORY).map_err(ApiError::internal)?,
        RoomMode::CoHost,
        now,
    );
    room.meeting = crate::domain::meeting::Meeting {
        members: vec![anchor],
        version: 1,
    };
    let events = report(app, EventKind::RoomCreated, &room, now, None);
    match app.store.insert_room(&room, &events).await {
        Ok(()) => {
            crate::domain::outbox::counted(&mut room, &events);
            Ok(Some(room))
        }
        Err(StoreError::Conflict) => found(app.store.room(&id).await?).map(Some),
        Err(e) => Err(e.into()),
    }
}

pub async fn get<S: GetStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: RoomRequest,
) -> Result<RoomInfo, ApiError> {
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let id = room_id(ErrorCode::RoomQueryParams, &req.id)?;
    // The caller's ban and session come with the room, in the same one read.
    let (room, counters, signer) = readable_view_for(app, caller, &id).await?;
    let metrics = metrics::current(app, &room, counters).await?;
    Ok(RoomInfo::view(&room, caller, &signer, metrics))
}

pub async fn list<S: ListStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: ListRequest,
) -> Result<Vec<RoomInfo>, ApiError> {
    const CODE: ErrorCode = ErrorCode::RoomQueryParams;
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let page = Page::parse(req.page_num, req.page_size).map_err(|e| ApiError::invalid(CODE, e))?;
    let status = parse_status_filter(req.status).map_err(|e| ApiError::invalid(CODE, e))?;
    let anchor = match req.anchor_id.as_deref() {
        None | Some("") => None,
        Some(a) => Some(
            crate::domain::UserId::parse("anchor_id", a).map_err(|e| ApiError::invalid(CODE, e))?,
        ),
    };
    let category = match req.category.as_deref() {
        None | Some("") => None,
        Some(c) => Some(Category::parse(c).map_err(|e| ApiError::invalid(CODE, e))?),
    };
    let query = RoomQuery {
        status,
        anchor,
        category,
        page,
        ..RoomQuery::default()
    };
    let rooms = app.store.list_rooms(&query).await?;
    let providers = &app.config.providers;
    // Where anything is signed, the caller's session and bans in the page's rooms: one read
    // for the page.
    let bans =
        if (providers.live.is_configured() || providers.rtc.is_configured()) && !rooms.is_empty() {
            let ids: Vec<RoomId> = rooms.iter().map(|r| r.id.clone()).collect();
            let (bans, session) = app
                .store
                .bans(&ids, &caller.user_id, &caller.session.id)
                .await?;
            crate::accounts::standing(caller, session)?;
            bans
        } else {
            Vec::new()
        };
    Ok(rooms
        .iter()
        .enumerate()
        .map(|(i, room)| {
            let signer = Signer::for_viewer(app, caller, bans.get(i).copied().flatten());
            RoomInfo::view(room, caller, &signer, metrics::snapshot(room))
        })
        .collect())
}

/// One page of the rooms `query` selects, newest first (seed 004's `query_room`); with
/// `ids`, only those of them (at most 100, read in one batch).
pub async fn find<S>(app: &App<S>, query: &RoomQuery, ids: &[RoomId]) -> Result<Vec<Room>, ApiError>
where
    S: crate::store::RoomList + crate::store::RoomBatchRead + ?Sized,
{
    if ids.is_empty() {
        return Ok(app.store.list_rooms(query).await?);
    }
    if ids.len() > 100 {
        return Err(ApiError::invalid_field(
            ErrorCode::RoomQueryParams,
            "roomIds",
            "at most 100 room ids",
        ));
    }
    let mut rooms: Vec<Room> = app
        .store
        .rooms_by_id(ids)
        .await?
        .into_iter()
        .filter(|room| query.matches(room))
        .collect();
    rooms.sort_by_key(|r| std::cmp::Reverse(r.created_key()));
    Ok(rooms
        .into_iter()
        .skip(query.page.offset as usize)
        .take(query.page.size as usize)
        .collect())
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
    crate::accounts::standing(caller, session)?;
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

/// Who an anchor's change answers: the anchor's own call (its session checked, its answer
/// signed), or the server closing the anchor's account (`deleteUser`: no answer is signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum For {
    Anchor,
    Closing,
}

/// Reads the room, lets `change` decide (given the time of this attempt), and writes
/// conditionally; re-decides on a lost race. `change` returns `Ok(None)` for "nothing to write".
async fn write_with_retry<S: ChangeStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    id: &RoomId,
    answer: For,
    mut change: impl FnMut(&Room, DateTime<Utc>) -> Result<Option<Room>, ApiError>,
) -> Result<RoomInfo, ApiError> {
    for _ in 0..MAX_ATTEMPTS {
        let (current, counters, signer) = match answer {
            For::Anchor => readable_view_for(app, caller, id).await?,
            For::Closing => {
                let (room, counters) = found_view(app.store.room_view(id).await?)?;
                (room, counters, Signer::nothing(app))
            }
        };
        if current.anchor_id != caller.user_id {
            return Err(ApiError::not_owner());
        }
        let now = app.clock.now();
        let Some(next) = change(&current, now)? else {
            return Ok(info(
                &current,
                caller,
                &signer,
                metrics::with_counters(&current, counters),
            ));
        };
        match app
            .store
            .update_room(
                &next,
                Expected::from(&current),
                &life_cycle_events(app, &current, &next, now),
            )
            .await
        {
            Ok(()) => {
                return Ok(info(
                    &next,
                    caller,
                    &signer,
                    metrics::with_counters(&next, counters),
                ));
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        ErrorCode::RoomVersionConflict,
        "the room is changing too fast; retry",
    ))
}

pub async fn update<S: ChangeStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: UpdateRequest,
) -> Result<RoomInfo, ApiError> {
    const CODE: ErrorCode = ErrorCode::SystemVerifyError;
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let id = room_id(CODE, &req.id)?;
    let title = optional(req.title.as_deref(), Title::parse, CODE)?;
    let notice = optional(req.notice.as_deref(), Notice::parse, CODE)?;
    let cover_url = optional(
        req.cover_url.as_deref(),
        |v| ImageUrl::parse("cover_url", v),
        CODE,
    )?;
    let extends = optional(req.extends.as_deref(), Extends::parse, CODE)?;
    let anchor_nick = optional(
        req.anchor_nick.as_deref(),
        |v| Nick::parse("anchor_nick", v),
        CODE,
    )?;
    let category = optional(req.category.as_deref(), Category::parse, CODE)?;
    write_with_retry(app, caller, &id, For::Anchor, |room, now| {
        let mut next = room.clone();
        if let Some(v) = &title {
            next.title = v.clone();
        }
        if let Some(v) = &notice {
            next.notice = v.clone();
        }
        if let Some(v) = &cover_url {
            next.cover_url = v.clone();
        }
        if let Some(v) = &extends {
            next.extends = v.clone();
        }
        if let Some(v) = &anchor_nick {
            next.anchor_nick = v.clone();
        }
        if let Some(v) = &category {
            next.category = v.clone();
        }
        // An update that changes nothing writes nothing (and keeps the version).
        if next == *room {
            return Ok(None);
        }
        next.version = room.version + 1;
        next.updated_at = now;
        Ok(Some(next))
    })
    .await
}

pub async fn transition<S: ChangeStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: RoomRequest,
    action: Action,
) -> Result<RoomInfo, ApiError> {
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let id = room_id(ErrorCode::SystemVerifyError, &req.id)?;
    apply_as_anchor(app, caller, &id, action, For::Anchor).await
}

/// The anchor's life-cycle `action` on room `id`, through the state machine.
async fn apply_as_anchor<S: ChangeStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    id: &RoomId,
    action: Action,
    answer: For,
) -> Result<RoomInfo, ApiError> {
    let retention = app.config.retention;
    write_with_retry(app, caller, id, answer, |room, now| {
        match room.apply(action, now, retention) {
            Transition::Stay => Ok(None),
            Transition::To(next) => Ok(Some(*next)),
            Transition::Refuse => Err(ApiError::new(
                ErrorCode::RoomStateConflict,
                format!("cannot {} a room that has ended", action.name()),
            )
            .with_detail("status", room.status.as_i64())),
        }
    })
    .await
}

/// The outbox entries reporting `kind` of `room` (as the change leaves it) at `now`: none when
/// no sink is on.
pub(crate) fn report<S: ?Sized>(
    app: &App<S>,
    kind: EventKind,
    room: &Room,
    now: DateTime<Utc>,
    member: Option<KickedMember>,
) -> Vec<Entry> {
    let outbox = app.config.outbox;
    if outbox.is_off() {
        return Vec::new();
    }
    let mut event = Event::new(kind, room, now);
    event.member = member;
    let order = crate::domain::outbox::order(room);
    outbox.entries(&room.id, order, now, expiry(app, now), vec![event])
}

/// The outbox entries of a change from `before` to `after` at `now`: its life-cycle event,
/// if the status changed.
pub(crate) fn life_cycle_events<S: ?Sized>(
    app: &App<S>,
    before: &Room,
    after: &Room,
    now: DateTime<Utc>,
) -> Vec<Entry> {
    match status_event(before, after) {
        Some(kind) => report(app, kind, after, now, None),
        None => Vec::new(),
    }
}

/// `action` on room `id` as the system (a vendor's callback said the stream started or
/// stopped): through the state machine and its guarded write, without an owner, if the room
/// as read satisfies `allowed` (e.g. the event came from its anchor). Returns whether the room
/// changed; a room that is gone, not allowed, or that the machine will not move (an ended room
/// never comes back), is left alone.
pub(crate) async fn apply_as_system<S>(
    app: &App<S>,
    id: &RoomId,
    action: Action,
    allowed: impl Fn(&Room) -> bool,
) -> Result<bool, ApiError>
where
    S: crate::store::RoomRead + crate::store::RoomUpdate + ?Sized,
{
    for _ in 0..MAX_ATTEMPTS {
        let Some(current) = app
            .store
            .room(id)
            .await?
            .filter(|r| !r.is_deleted() && allowed(r))
        else {
            return Ok(false);
        };
        let now = app.clock.now();
        let Transition::To(next) = current.apply(action, now, app.config.retention) else {
            return Ok(false);
        };
        match app
            .store
            .update_room(
                &next,
                Expected::from(&current),
                &life_cycle_events(app, &current, &next, now),
            )
            .await
        {
            Ok(()) => return Ok(true),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        ErrorCode::RoomVersionConflict,
        "the room is changing too fast; retry",
    ))
}

/// The expiry of what a write at `now` keeps: `now + RETENTION_DAYS`.
pub fn expiry<S: ?Sized>(app: &App<S>, now: DateTime<Utc>) -> i64 {
    now.timestamp() + i64::try_from(app.config.retention.as_secs()).unwrap_or(i64::MAX / 4)
}

/// Marks the room deleted (it is gone for every reader from here on), then removes what is
/// under it. If the removal fails half way, the deletion stands and the sweeper finishes it;
/// a retry by the anchor finishes it too.
pub async fn delete<S: DeleteStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: RoomRequest,
) -> Result<RoomInfo, ApiError> {
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let id = room_id(ErrorCode::SystemVerifyError, &req.id)?;
    let (room, counters) = app
        .store
        .room_view(&id)
        .await?
        .ok_or_else(ApiError::room_not_found)?;
    if room.id.is_channel() {
        // A call is not deleted: a new one on its channel would seat others under its
        // participants' running credentials. It ends (`stop`) and expires.
        found_for(Some(room), caller)?;
        return Err(ApiError::new(
            ErrorCode::RoomModeConflict,
            "a 1v1 call is not deleted: stop it, and it expires",
        ));
    }
    if room.anchor_id != caller.user_id {
        return Err(if room.is_deleted() {
            ApiError::room_not_found()
        } else {
            ApiError::not_owner()
        });
    }
    // Marked deleted by this call, or already (someone else's, or a retry of ours): the purge
    // below finishes it. Never purged unmarked.
    let mut current = Some(room.clone());
    for _ in 0..MAX_ATTEMPTS {
        let Some(unmarked) = current.as_ref().filter(|r| !r.is_deleted()) else {
            break;
        };
        let now = app.clock.now();
        let events = report(app, EventKind::RoomDeleted, unmarked, now, None);
        match app
            .store
            .mark_deleted(&id, &caller.user_id, now, expiry(app, now), &events)
            .await
        {
            Ok(()) => current = None,
            // Deleted meanwhile, or another reported change committed: read it again.
            Err(StoreError::Conflict) => current = app.store.room_view(&id).await?.map(|(r, _)| r),
            Err(e) => return Err(e.into()),
        }
    }
    if current.is_some_and(|r| !r.is_deleted()) {
        return Err(ApiError::new(
            ErrorCode::RoomVersionConflict,
            "the room is changing too fast; retry the delete",
        ));
    }
    if let Err(e) = app.store.purge_room(&id).await {
        // The room is deleted for every reader; the sweeper removes the rest.
        tracing::warn!(room = %id, error = %e, "purge left for the sweeper");
    }
    // The room is gone: nothing in the answer is signed.
    Ok(info(
        &room,
        caller,
        &Signer::nothing(app),
        metrics::with_counters(&room, counters),
    ))
}

/// Ends every room of the caller that has not ended (their account is closing): each through
/// the state machine like the anchor's own `stop`. Returns how many this call ended. The
/// rooms are those of the caller's tally (every room `create` made that is not known to have
/// ended), read in one item; a room the tally does not hold (made before it existed) is ended
/// by the sweeper once its anchor's keepalive lapses.
pub async fn end_rooms_of<S: crate::store::RoomQuota + ChangeStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
) -> Result<u64, ApiError> {
    let (_, tally) = app.store.user_tally(&caller.user_id).await?;
    let mut ended = 0;
    let retention = app.config.retention;
    for id in &tally.open {
        // The anchor's `stop`, noting whether this call is the one that ended the room.
        let mut ends = false;
        let stopped = write_with_retry(app, caller, id, For::Closing, |room, now| {
            ends = false;
            match room.apply(Action::Stop, now, retention) {
                Transition::To(next) => {
                    ends = true;
                    Ok(Some(*next))
                }
                Transition::Stay | Transition::Refuse => Ok(None),
            }
        })
        .await;
        match stopped {
            Ok(_) => ended += u64::from(ends),
            // Deleted meanwhile (or never the caller's): nothing to end.
            Err(e) if matches!(e.code, ErrorCode::RoomNotExists | ErrorCode::RoomNotOwner) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ended)
}

/// This module's endpoints, for the edge's route table.
pub fn endpoints(v: &mut impl Visitor) {
    v.visit::<Create>();
    v.visit::<Get>();
    v.visit::<List>();
    v.visit::<Update>();
    v.visit::<Start>();
    v.visit::<Pause>();
    v.visit::<Stop>();
    v.visit::<Delete>();
}

/// `POST /api/v1/live/create`: a new room of the caller's ([`create`]).
pub struct Create;

impl Handler for Create {
    const ENDPOINT: Endpoint = Endpoint::new("create", &[Route::post("/api/v1/live/create")])
        .with_needs(CREATE_NEEDS)
        .with_secrets(SecretGroups::ROOM_INFO)
        .with_param_error(ErrorCode::RoomCreateParams);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&create(app, &caller, body).await?)
    }
}

/// `POST /api/v1/live/get`: one room ([`get`]).
pub struct Get;

impl Handler for Get {
    const ENDPOINT: Endpoint = Endpoint::new("get", &[Route::post("/api/v1/live/get")])
        .with_needs(GET_NEEDS)
        .with_secrets(SecretGroups::ROOM_INFO)
        .with_param_error(ErrorCode::RoomQueryParams);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&get(app, &caller, body).await?)
    }
}

/// `POST /api/v1/live/list`: a page of rooms ([`list`]).
pub struct List;

impl Handler for List {
    const ENDPOINT: Endpoint = Endpoint::new("list", &[Route::post("/api/v1/live/list")])
        .with_needs(LIST_NEEDS)
        .with_secrets(SecretGroups::ROOM_INFO)
        .with_param_error(ErrorCode::RoomQueryParams);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&list(app, &caller, body).await?)
    }
}

/// `POST /api/v1/live/update`: a room's title, notice, cover, extends ([`update`]).
pub struct Update;

impl Handler for Update {
    const ENDPOINT: Endpoint = Endpoint::new("update", &[Route::post("/api/v1/live/update")])
        .with_needs(CHANGE_NEEDS)
        .with_secrets(SecretGroups::ROOM_INFO);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&update(app, &caller, body).await?)
    }
}

/// `POST /api/v1/live/start`: the room goes live ([`transition`]).
pub struct Start;

impl Handler for Start {
    const ENDPOINT: Endpoint = Endpoint::new("start", &[Route::post("/api/v1/live/start")])
        .with_needs(CHANGE_NEEDS)
        .with_secrets(SecretGroups::ROOM_INFO);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&transition(app, &caller, body, Action::Start).await?)
    }
}

/// `POST /api/v1/live/pause`: the room pauses ([`transition`]).
pub struct Pause;

impl Handler for Pause {
    const ENDPOINT: Endpoint = Endpoint::new("pause", &[Route::post("/api/v1/live/pause")])
        .with_needs(CHANGE_NEEDS)
        .with_secrets(SecretGroups::ROOM_INFO);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&transition(app, &caller, body, Action::Pause).await?)
    }
}

/// `POST /api/v1/live/stop`: the room ends ([`transition`]).
pub struct Stop;

impl Handler for Stop {
    // A stopped room's answer signs nothing: an ended room has no URLs.
    const ENDPOINT: Endpoint = Endpoint::new("stop", &[Route::post("/api/v1/live/stop")])
        .with_needs(CHANGE_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&transition(app, &caller, body, Action::Stop).await?)
    }
}

/// `POST /api/v1/live/delete`: the room, gone ([`delete`]).
pub struct Delete;

impl Handler for Delete {
    // A deleted room's answer signs nothing: the room is gone.
    const ENDPOINT: Endpoint = Endpoint::new("delete", &[Route::post("/api/v1/live/delete")])
        .with_needs(DELETE_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&delete(app, &caller, body).await?)
    }
}
