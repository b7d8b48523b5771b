//! Presence and metrics (SPEC §7): join, leave, keepalive, members, likes.
//!
//! A member is online while its last keepalive is younger than `HEARTBEAT_TIMEOUT_SECONDS`.
//! Every read filters on that, so correctness never waits for the sweeper (which only tidies up)
//! or for DynamoDB's TTL. The anchor's keepalive is the room's liveness: the sweeper pauses a
//! live room whose anchor fell silent. Presence and counters are write-sharded in the store, so
//! a popular room spreads its writes over many keys; reads sum the shards.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::accounts::store_error;
use crate::auth::Caller;
use crate::domain::{RoomId, RoomStatus};
use crate::error::{ApiError, ErrorCode};
use crate::rooms::{Metrics, check_claimed_identity};
use crate::store::{Mark, Room};

#[derive(Debug, Deserialize)]
pub struct RoomIdRequest {
    pub id: String,
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct KeepaliveRequest {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MembersRequest {
    pub id: String,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub next_token: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LikeRequest {
    pub id: String,
    pub count: i64,
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct KeepaliveResponse {
    pub server_time: String,
    /// How often clients should call keepalive (seed 004: every 10 s).
    pub interval_seconds: u64,
    pub timeout_seconds: u64,
}

#[derive(Debug, Serialize)]
pub struct MemberView {
    pub user_id: String,
    pub joined_at: String,
    pub last_seen: String,
}

#[derive(Debug, Serialize)]
pub struct MembersResponse {
    pub members: Vec<MemberView>,
    /// Pass back for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LikeResponse {
    pub like_count: u64,
}

fn room_id(raw: &str) -> Result<RoomId, ApiError> {
    RoomId::parse("id", raw).map_err(|e| e.into_api(ErrorCode::SystemVerifyError))
}

async fn open_room(app: &App, id: &RoomId) -> Result<Room, ApiError> {
    let room = app
        .store
        .room(id)
        .await
        .map_err(store_error)?
        .ok_or_else(ApiError::room_not_found)?;
    if room.status == RoomStatus::Ended {
        return Err(
            ApiError::new(ErrorCode::RoomStateConflict, "the room has ended")
                .with_detail("status", room.status.as_i64()),
        );
    }
    Ok(room)
}

/// The instant before which a keepalive no longer counts.
pub fn online_since(app: &App, now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::from_std(app.config.heartbeat_timeout)
        .unwrap_or(chrono::Duration::seconds(20))
}

/// The room's metrics now: counters summed over shards, online members counted on read.
pub async fn metrics(app: &App, room: &RoomId) -> Result<Metrics, ApiError> {
    let since = online_since(app, app.clock.now());
    let (counters, online) = futures_util::future::join(
        app.store.counters(room),
        app.store.online_count(room, since),
    )
    .await;
    let counters = counters.map_err(store_error)?;
    Ok(Metrics {
        like_count: counters.likes,
        online_count: online.map_err(store_error)?,
        pv: counters.pv,
        uv: counters.uv,
    })
}

/// The anchor keeps the room alive; everyone keeps their own presence.
async fn mark_anchor(
    app: &App,
    room: &Room,
    caller: &Caller,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if room.anchor_id == caller.user_id {
        app.store
            .mark_room(&room.id, Mark::AnchorSeen(now))
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

pub async fn join(app: &App, caller: &Caller, req: RoomIdRequest) -> Result<Room, ApiError> {
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let id = room_id(&req.id)?;
    let room = open_room(app, &id).await?;
    let now = app.clock.now();
    let since = online_since(app, now);
    // Seed 000: the channel starts when the first member joins an empty room.
    let empty = app
        .store
        .online_count(&id, since)
        .await
        .map_err(store_error)?
        == 0;
    app.store
        .touch_presence(&id, &caller.user_id, now, true)
        .await
        .map_err(store_error)?;
    if empty {
        app.store
            .mark_room(
                &id,
                Mark::ChannelStarted {
                    at: now,
                    unless_after: since,
                },
            )
            .await
            .map_err(store_error)?;
    }
    mark_anchor(app, &room, caller, now).await?;
    app.store
        .room(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(ApiError::room_not_found)
}

pub async fn leave(app: &App, caller: &Caller, req: RoomIdRequest) -> Result<Room, ApiError> {
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let id = room_id(&req.id)?;
    let room = app
        .store
        .room(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(ApiError::room_not_found)?;
    app.store
        .remove_presence(&id, &caller.user_id)
        .await
        .map_err(store_error)?;
    Ok(room)
}

pub async fn keepalive(
    app: &App,
    caller: &Caller,
    req: KeepaliveRequest,
) -> Result<KeepaliveResponse, ApiError> {
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let now = app.clock.now();
    if let Some(raw) = req.id.as_deref().filter(|s| !s.is_empty()) {
        let id = room_id(raw)?;
        let room = open_room(app, &id).await?;
        // A keepalive after a lapse brings the member back (without counting a new visit).
        app.store
            .touch_presence(&id, &caller.user_id, now, false)
            .await
            .map_err(store_error)?;
        mark_anchor(app, &room, caller, now).await?;
    }
    Ok(KeepaliveResponse {
        server_time: crate::clock::rfc3339(&now),
        interval_seconds: 10,
        timeout_seconds: app.config.heartbeat_timeout.as_secs(),
    })
}

/// The opaque page cursor: the last member's activity key.
fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

fn decode_cursor(token: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::invalid_field(
            ErrorCode::RoomQueryParams,
            "next_token",
            "next_token is not one this server issued",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let key = String::from_utf8(bytes).map_err(|_| bad())?;
    let (ms, user) = key.split_once('#').ok_or_else(bad)?;
    let well_formed = ms.len() == 13
        && ms.bytes().all(|b| b.is_ascii_digit())
        && crate::domain::UserId::parse("next_token", user).is_ok();
    if well_formed { Ok(key) } else { Err(bad()) }
}

pub async fn members(
    app: &App,
    caller: &Caller,
    req: MembersRequest,
) -> Result<MembersResponse, ApiError> {
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let id = RoomId::parse("id", &req.id).map_err(|e| e.into_api(ErrorCode::RoomQueryParams))?;
    let limit = match req.limit {
        None => 20,
        Some(l @ 1..=100) => l as u32,
        Some(_) => {
            return Err(ApiError::invalid_field(
                ErrorCode::RoomQueryParams,
                "limit",
                "limit: must be 1 to 100",
            ));
        }
    };
    let before = req
        .next_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(decode_cursor)
        .transpose()?;
    app.store
        .room(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(ApiError::room_not_found)?;
    let since = online_since(app, app.clock.now());
    // One more than asked, to know whether another page exists.
    let mut page = app
        .store
        .online_members(&id, since, limit + 1, before.as_deref())
        .await
        .map_err(store_error)?;
    let more = page.len() > limit as usize;
    page.truncate(limit as usize);
    let next_token = more
        .then(|| page.last().map(|p| encode_cursor(&p.activity_key())))
        .flatten();
    Ok(MembersResponse {
        members: page
            .into_iter()
            .map(|p| MemberView {
                user_id: p.user_id.to_string(),
                joined_at: crate::clock::rfc3339(&p.joined_at),
                last_seen: crate::clock::rfc3339(&p.last_seen),
            })
            .collect(),
        next_token,
    })
}

pub async fn like(app: &App, caller: &Caller, req: LikeRequest) -> Result<LikeResponse, ApiError> {
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let id = room_id(&req.id)?;
    if !(1..=100).contains(&req.count) {
        return Err(ApiError::invalid_field(
            ErrorCode::SystemVerifyError,
            "count",
            "count: must be 1 to 100",
        ));
    }
    open_room(app, &id).await?;
    app.store
        .add_likes(&id, &caller.user_id, req.count as u64)
        .await
        .map_err(store_error)?;
    let counters = app.store.counters(&id).await.map_err(store_error)?;
    Ok(LikeResponse {
        like_count: counters.likes,
    })
}

#[cfg(test)]
#[path = "tests/presence.rs"]
mod tests;
