//! Presence and metrics (SPEC §7): join, leave, keepalive, members, likes.
//!
//! A member is online while its last keepalive is younger than `HEARTBEAT_TIMEOUT_SECONDS`.
//! Every read filters on that, so correctness never waits for the sweeper (which only tidies up)
//! or for DynamoDB's TTL. The anchor's keepalive is the room's liveness: the sweeper pauses a
//! live room whose anchor fell silent. Presence and counters are write-sharded in the store, so
//! a popular room spreads its writes over many keys; reads sum the shards.

use lambda_http::Request;
use serde::{Deserialize, Serialize};

use crate::App;
use crate::auth::Caller;
use crate::domain::presence::Visit;
use crate::domain::room::{Counters, Mark, Room};
use crate::domain::{RoomId, RoomStatus};
use crate::endpoint::{Endpoint, Handler, Route, Visitor, authenticated, json};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::metrics;
use crate::room_change::{
    RoomTarget, account_standing, check_claimed_identity, claimed_room_id, expiry, found,
    found_for, found_view, parse_room_id, refuse_if_banned,
};
use crate::rooms::{RoomInfo, info, readable_view_for, view_for};
use crate::store::{Store, StoreError, Touch};

pub mod members;

pub use members::{
    MEMBERS_NEEDS, Members, MembersRequest, MembersResponse, MembersStore, OnlineMember, members,
    online_members,
};

crate::needs!(
    /// `join`: the room, its counters and the caller's session in one read, the presence and
    /// the visit in one transaction, and the channel's start when none is running.
    JoinStore,
    JOIN_NEEDS: RoomView,
    PresenceWrite,
    ChannelMark,
    MemberRead
);
crate::needs!(
    /// `leave`: the room, its counters and the caller's ban and session, then the presence.
    LeaveStore,
    LEAVE_NEEDS: RoomView,
    PresenceWrite
);
crate::needs!(
    /// `keepalive`: the room and the caller's session (one read), then the presence (and the
    /// anchor's mark, in one transaction).
    KeepaliveStore,
    KEEPALIVE_NEEDS: PresenceWrite,
    MemberRead
);
crate::needs!(
    /// `like`: the room, its counters and the caller's session (one read), then one counter
    /// shard.
    LikeStore,
    LIKE_NEEDS: RoomView,
    CounterWrite
);

#[derive(Debug, Deserialize)]
pub struct KeepaliveRequest {
    #[serde(default)]
    pub id: Option<String>,
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
pub struct LikeResponse {
    pub like_count: u64,
}

/// A room one can be in: it exists and has not ended.
fn not_ended(room: Room) -> Result<Room, ApiError> {
    if room.status == RoomStatus::Ended {
        return Err(
            ApiError::new(ErrorCode::RoomStateConflict, "the room has ended")
                .with_detail("status", room.status.as_i64()),
        );
    }
    Ok(room)
}

/// A room `caller` may enter: not ended, and, for a call (a channel's room), one the caller
/// holds a seat in — nobody else enters a 1v1 call, through any API (`404`, as for no room).
fn open(room: Room, caller: &Caller) -> Result<Room, ApiError> {
    // Nobody else enters a 1v1 call; to them it does not exist (ended or not).
    not_ended(found_for(Some(room), caller)?)
}

/// Why a presence write failed its condition: the member is banned, or the room is gone
/// (deleted since it was read). One more read, on this path only.
async fn refused<S: crate::store::MemberRead + ?Sized>(
    app: &App<S>,
    room: &RoomId,
    user: &crate::domain::UserId,
    e: StoreError,
) -> ApiError {
    if !matches!(e, StoreError::Conflict) {
        return e.into();
    }
    match app.store.room_member(room, user).await {
        Ok((_, until)) => refuse_if_banned(until, app.clock.now())
            .err()
            .unwrap_or_else(ApiError::room_not_found),
        Err(e) => e.into(),
    }
}

pub async fn join<S: JoinStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: RoomTarget,
) -> Result<RoomInfo, ApiError> {
    enter(app, caller, req, true).await
}

/// A join into a call (a channel's room) by a caller about to take a seat in it
/// ([`crate::meeting::take_seat`]): presence comes first, so that a seat is only ever held by
/// someone who came (a seat whose holder is not on the online list is free), and a presence
/// that takes no seat lapses by itself.
pub(crate) async fn join_call<S: JoinStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    room: &RoomId,
) -> Result<RoomInfo, ApiError> {
    enter(app, caller, RoomTarget::of(room), false).await
}

async fn enter<S: JoinStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: RoomTarget,
    seat_needed: bool,
) -> Result<RoomInfo, ApiError> {
    let id = req.room_id(caller, ErrorCode::SystemVerifyError)?;
    let (room, counters, signer) = view_for(app, caller, &id).await?;
    let mut room = if seat_needed {
        open(room, caller)?
    } else {
        not_ended(room)?
    };
    let now = app.clock.now();
    let anchor = room.anchor_id == caller.user_id;
    let visit = match app
        .store
        .join(Touch {
            room: &id,
            user: &caller.user_id,
            now,
            expires_at: expiry(app, now),
            anchor,
            record_shard: !room.uses_shard_of(&caller.user_id),
        })
        .await
    {
        Ok(visit) => visit,
        Err(e) => return Err(refused(app, &id, &caller.user_id, e).await),
    };
    // Seed 000: the channel starts when a member enters while none is running.
    if room.channel_started_at.is_none()
        && app
            .store
            .mark_room(&id, Mark::ChannelStarted { at: now })
            .await?
    {
        room.channel_started_at = Some(now);
    }
    if anchor {
        room.anchor_seen_at = Some(now);
    }
    let counters = Counters {
        pv: counters.pv + 1,
        uv: counters.uv + u64::from(visit == Visit::First),
        likes: counters.likes,
    };
    Ok(info(
        &room,
        caller,
        &signer,
        metrics::with_counters(&room, counters),
    ))
}

pub async fn leave<S: LeaveStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: RoomTarget,
) -> Result<RoomInfo, ApiError> {
    let id = req.room_id(caller, ErrorCode::SystemVerifyError)?;
    let (room, counters, signer) = readable_view_for(app, caller, &id).await?;
    app.store.leave(&id, &caller.user_id).await?;
    Ok(info(
        &room,
        caller,
        &signer,
        metrics::with_counters(&room, counters),
    ))
}

pub async fn keepalive<S: KeepaliveStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: KeepaliveRequest,
) -> Result<KeepaliveResponse, ApiError> {
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let now = app.clock.now();
    if let Some(raw) = req.id.as_deref() {
        let id = parse_room_id(ErrorCode::SystemVerifyError, raw)?;
        // The caller's session comes with the room, in the same one read.
        let (room, _, session) = app
            .store
            .room_member_in_session(&id, &caller.user_id, &caller.session.id)
            .await?;
        account_standing(caller, session)?;
        let room = open(found(room)?, caller)?;
        // A keepalive after a lapse brings the member back (without counting a new visit),
        // unless the anchor banned them.
        if let Err(e) = app
            .store
            .keepalive(Touch {
                room: &id,
                user: &caller.user_id,
                now,
                expires_at: expiry(app, now),
                anchor: room.anchor_id == caller.user_id,
                record_shard: !room.uses_shard_of(&caller.user_id),
            })
            .await
        {
            return Err(refused(app, &id, &caller.user_id, e).await);
        }
    }
    Ok(KeepaliveResponse {
        server_time: crate::clock::rfc3339(&now),
        interval_seconds: 10,
        timeout_seconds: app.config.heartbeat_timeout.as_secs(),
    })
}

pub async fn like<S: LikeStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: LikeRequest,
) -> Result<LikeResponse, ApiError> {
    let id = claimed_room_id(
        caller,
        req.user_id.as_deref(),
        &req.id,
        ErrorCode::SystemVerifyError,
    )?;
    if !(1..=100).contains(&req.count) {
        return Err(ApiError::invalid_field(
            ErrorCode::SystemVerifyError,
            "count",
            "count: must be 1 to 100",
        ));
    }
    // The caller's session comes with the room and its counters, in the same one read.
    let (view, session) = app
        .store
        .room_view_for(&id, &caller.user_id, &caller.session.id)
        .await?;
    account_standing(caller, session)?;
    let (room, counters) = found_view(view.map(|(room, counters, _)| (room, counters)))?;
    open(room, caller)?;
    let count = req.count as u64;
    let now = app.clock.now();
    app.store
        .add_likes(&id, &caller.user_id, count, expiry(app, now))
        .await?;
    // The total as read plus ours: exact unless others liked in between (then one of their
    // likes may show a moment later).
    Ok(LikeResponse {
        like_count: counters.likes + count,
    })
}

/// This module's endpoints, for the edge's route table.
pub fn endpoints(v: &mut impl Visitor) {
    v.visit::<Join>();
    v.visit::<Leave>();
    v.visit::<Keepalive>();
    v.visit::<Members>();
    v.visit::<Like>();
}

/// `POST /api/v1/live/join`: the caller enters a room ([`join`]).
pub struct Join;

impl Handler for Join {
    const ENDPOINT: Endpoint = Endpoint::new("join", &[Route::post("/api/v1/live/join")])
        .with_needs(JOIN_NEEDS)
        .with_secrets(SecretGroups::ROOM_INFO);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&join(app, &caller, body).await?)
    }
}

/// `POST /api/v1/live/leave`: the caller leaves a room ([`leave`]).
pub struct Leave;

impl Handler for Leave {
    const ENDPOINT: Endpoint = Endpoint::new("leave", &[Route::post("/api/v1/live/leave")])
        .with_needs(LEAVE_NEEDS)
        .with_secrets(SecretGroups::ROOM_INFO);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&leave(app, &caller, body).await?)
    }
}

/// `POST /api/v1/live/keepalive`: the caller is still in the room ([`keepalive`]).
pub struct Keepalive;

impl Handler for Keepalive {
    const ENDPOINT: Endpoint = Endpoint::new("keepalive", &[Route::post("/api/v1/live/keepalive")])
        .with_needs(KEEPALIVE_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&keepalive(app, &caller, body).await?)
    }
}

/// `POST /api/v1/live/like`: likes for a room ([`like`]).
pub struct Like;

impl Handler for Like {
    const ENDPOINT: Endpoint = Endpoint::new("like", &[Route::post("/api/v1/live/like")])
        .with_needs(LIKE_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&like(app, &caller, body).await?)
    }
}
