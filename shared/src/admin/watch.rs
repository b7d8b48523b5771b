//! What an operator watches: one room in full (`room`: the room, its online members, its
//! co-hosts, its bans and its latest audit entries), its figures over time (`roomSeries`),
//! and every open room at once (`stats`). The figures are the sweeper's, written once a
//! minute (`crate::reclaim`): nothing here counts anything itself.
//!
//! Never here: a change (those are [`super::rooms`]), or how a sample is taken.

use lambda_http::Request;
use serde::{Deserialize, Serialize};

use super::invalid;
use super::log::time;
use crate::App;
use crate::clock::rfc3339;
use crate::domain::RoomId;
use crate::domain::audit::{AuditEntry, AuditQuery, AuditScope};
use crate::domain::operator::Scope;
use crate::domain::series::SeriesWindow;
use crate::endpoint::{Endpoint, Handler, Route, json, parse_optional_body};
use crate::env::SecretGroups;
use crate::error::ApiError;
use crate::meeting::view::MeetingInfo;
use crate::metrics;
use crate::operator::{operated, operator};
use crate::presence::members::{OnlineMember, members_page};
use crate::room_change::{Signer, found_view};
use crate::rooms::RoomInfo;
use crate::store::{Store, StoreError};

/// How many members `room` shows a page of.
const MEMBERS_PER_PAGE: u32 = 50;
/// How many of the room's latest audit entries `room` shows.
const ROOM_AUDIT_ENTRIES: usize = 20;
/// How many bans `room` shows (the longest first).
const BANS_SHOWN: u32 = crate::store::MAX_BANS_LISTED;

/// `room {id, members_next_token?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomRequest {
    pub id: String,
    /// The `members_next_token` of the answer before: the next page of members.
    #[serde(default)]
    pub members_next_token: Option<String>,
}

/// A member barred from the room, and until when.
#[derive(Debug, Serialize)]
pub struct BanView {
    pub user_id: String,
    pub banned_until: String,
}

#[derive(Debug, Serialize)]
pub struct RoomResponse {
    pub room: RoomInfo,
    /// One page of the online members, newest activity first.
    pub members: Vec<OnlineMember>,
    /// Pass back as `members_next_token` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members_next_token: Option<String>,
    /// The co-hosts (nothing signed).
    pub meeting_info: MeetingInfo,
    pub bans: Vec<BanView>,
    /// The room's latest audit entries, newest first (empty unless the caller may read the
    /// audit log).
    pub audit: Vec<AuditEntry>,
}

crate::needs!(
    /// `room`: the operator; then at once the room with its counters, its bans and its audit
    /// entries; then one page of its members.
    RoomStore,
    ROOM_NEEDS: SessionRead,
    KeyRead,
    KeyTouch,
    RoomView,
    BanList,
    AuditRead,
    PresenceRead
);

/// Room `id` as an operator sees it (`audit`: whether to read its audit entries).
pub async fn room<S: RoomStore + ?Sized>(
    app: &App<S>,
    id: &RoomId,
    members_token: Option<&str>,
    audit: bool,
) -> Result<RoomResponse, ApiError> {
    let now = app.clock.now();
    let entries = async {
        if !audit {
            return Ok((Vec::new(), None));
        }
        app.store
            .audit(&AuditQuery {
                scope: AuditScope::Room(id.to_string()),
                actor: None,
                action: None,
                from: AuditQuery::FIRST.to_owned(),
                until: AuditQuery::LAST.to_owned(),
                after: None,
                limit: ROOM_AUDIT_ENTRIES,
                now: now.timestamp(),
            })
            .await
    };
    let (view, bans, (entries, _)) = futures_util::try_join!(
        app.store.room_view(id),
        app.store.room_bans(id, now, BANS_SHOWN),
        entries,
    )?;
    let (room, counters) = found_view(view)?;
    let members = members_page(app, &room, MEMBERS_PER_PAGE, members_token).await?;
    let signer = Signer::nothing(app);
    Ok(RoomResponse {
        room: super::rooms::shown(app, &room, metrics::with_counters(&room, counters)),
        members: members.members,
        members_next_token: members.next_token,
        meeting_info: MeetingInfo::view(&room, &signer),
        bans: bans
            .into_iter()
            .map(|b| BanView {
                user_id: b.user_id.to_string(),
                banned_until: rfc3339(&b.until),
            })
            .collect(),
        audit: entries,
    })
}

/// `POST /api/v1/admin/room`: one room in full ([`room`]).
pub struct AdminRoom;

impl Handler for AdminRoom {
    const ENDPOINT: Endpoint = Endpoint::new("admin-room", &[Route::post("/api/v1/admin/room")])
        .with_needs(ROOM_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (op, body): (_, RoomRequest) =
            operated(app, Self::ENDPOINT, &req, Scope::RoomsRead).await?;
        let id = RoomId::parse("id", &body.id).map_err(invalid)?;
        let audit = op.scopes.contains(&Scope::AuditRead);
        json(&room(app, &id, body.members_next_token.as_deref(), audit).await?)
    }
}

/// `roomSeries {id, since?, limit?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesRequest {
    pub id: String,
    /// RFC 3339: points at or after.
    #[serde(default)]
    pub since: Option<String>,
    /// 1..1440 (a day at one a minute; the default): the newest this many.
    #[serde(default)]
    pub limit: Option<i64>,
}

/// A room's figures at one sweeper run.
#[derive(Debug, Serialize)]
pub struct Point {
    pub at: String,
    pub online_count: u64,
    pub like_count: u64,
    pub pv: u64,
    pub uv: u64,
}

#[derive(Debug, Serialize)]
pub struct SeriesResponse {
    /// Oldest first.
    pub points: Vec<Point>,
}

crate::needs!(
    /// `roomSeries`: the operator, then one read of the room and its newest points.
    SeriesStore,
    SERIES_NEEDS: SessionRead,
    KeyRead,
    KeyTouch,
    SeriesRead
);

/// Room `id`'s points in `window`, oldest first; 404 for no room.
pub async fn room_series<S: SeriesStore + ?Sized>(
    app: &App<S>,
    id: &RoomId,
    window: SeriesWindow,
) -> Result<SeriesResponse, ApiError> {
    let points = app
        .store
        .room_series(id, window, app.clock.now())
        .await?
        .ok_or_else(ApiError::room_not_found)?;
    Ok(SeriesResponse {
        points: points
            .into_iter()
            .map(|p| Point {
                at: rfc3339(&p.at),
                online_count: p.online_count,
                like_count: p.like_count,
                pv: p.pv,
                uv: p.uv,
            })
            .collect(),
    })
}

/// `POST /api/v1/admin/roomSeries`: a room's online count, likes, pv and uv over time
/// ([`room_series`]).
pub struct AdminRoomSeries;

impl Handler for AdminRoomSeries {
    const ENDPOINT: Endpoint = Endpoint::new(
        "admin-room-series",
        &[Route::post("/api/v1/admin/roomSeries")],
    )
    .with_needs(SERIES_NEEDS)
    .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (_, body): (_, SeriesRequest) =
            operated(app, Self::ENDPOINT, &req, Scope::RoomsRead).await?;
        let id = RoomId::parse("id", &body.id).map_err(invalid)?;
        let since = match body.since.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(t) => Some(time("since", t)?),
        };
        let window = SeriesWindow::parse(since, body.limit).map_err(invalid)?;
        json(&room_series(app, &id, window).await?)
    }
}

/// `stats`: the last sweeper run's counts over every open room.
#[derive(Debug, Serialize)]
pub struct StatsResponse {
    pub rooms_prepared: u64,
    pub rooms_live: u64,
    pub rooms_paused: u64,
    pub online_total: u64,
    /// When the run counted them (RFC 3339); null before the first run.
    pub at: Option<String>,
}

crate::needs!(
    /// `stats`: the operator, then one item read.
    StatsStore,
    STATS_NEEDS: SessionRead,
    KeyRead,
    KeyTouch,
    StatsRead
);

/// The last run's counts (all zero, `at` null, before the sweeper's first run).
pub async fn stats<S: StatsStore + ?Sized>(app: &App<S>) -> Result<StatsResponse, StoreError> {
    let last = app.store.stats().await?;
    let stats = last.unwrap_or_default();
    Ok(StatsResponse {
        rooms_prepared: stats.rooms_prepared,
        rooms_live: stats.rooms_live,
        rooms_paused: stats.rooms_paused,
        online_total: stats.online_total,
        at: last.map(|s| rfc3339(&s.at)),
    })
}

/// `POST /api/v1/admin/stats`: every open room at the sweeper's last run ([`stats`]).
pub struct AdminStats;

impl Handler for AdminStats {
    const ENDPOINT: Endpoint = Endpoint::new("admin-stats", &[Route::post("/api/v1/admin/stats")])
        .with_needs(STATS_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        operator(app, &req, Some(Scope::RoomsRead)).await?;
        let _: serde::de::IgnoredAny = parse_optional_body(app, Self::ENDPOINT, &req)?;
        json(&stats(app).await?)
    }
}
