//! AdminRooms as an operator sees them: every anchor's rooms (`rooms`), and what an operator may do
//! in any of them: `stopRoom` (the room ends with the reason and who ended it), `kick` and
//! `mute` (the anchor's own moderation, acting for the operator, with a reason).
//!
//! Never here: a room rule of its own (a stop is the state machine's `Stop`; kick and mute are
//! `moderation`'s).

use lambda_http::Request;
use serde::{Deserialize, Serialize};

use super::{invalid, optional_reason, reason};
use crate::App;
use crate::auth::Caller;
use crate::domain::RoomId;
use crate::domain::audit::{Action, Target};
use crate::domain::operator::{Reason, Scope};
use crate::domain::room::{self, Expected, Room, Stopped, Transition};
use crate::endpoint::{Endpoint, Handler, Route, json};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::metrics;
use crate::moderation::{By, KickRequest, MuteRequest, kick, mute};
use crate::operator::{Operator, operated};
use crate::room_change::{
    Attempt, MAX_ATTEMPTS, Signer, found_view, life_cycle_enforced, retry_on_conflict,
};
use crate::rooms::RoomInfo;
use crate::store::{Store, StoreError};

/// A room as an operator is shown it: nothing signed (no URL, no credential).
pub(super) fn shown<S: ?Sized>(
    app: &App<S>,
    room: &Room,
    metrics: crate::metrics::Metrics,
) -> RoomInfo {
    // Nothing is signed, so the viewer only decides `user_status` (the anchor's own view).
    let viewer = Caller::vouched(room.anchor_id.clone());
    RoomInfo::view(room, &viewer, &Signer::nothing(app), metrics)
}

/// `rooms {page_num, page_size, status?, anchor_id?, category?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomsRequest {
    pub page_num: i64,
    pub page_size: i64,
    #[serde(default)]
    pub status: Option<i64>,
    #[serde(default)]
    pub anchor_id: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RoomsResponse {
    pub rooms: Vec<RoomInfo>,
}

crate::needs!(
    /// `rooms`: the operator, then one listing read.
    RoomsStore,
    ROOMS_NEEDS: SessionRead,
    KeyRead,
    KeyTouch,
    RoomList
);

pub async fn rooms<S: RoomsStore + ?Sized>(
    app: &App<S>,
    req: RoomsRequest,
) -> Result<RoomsResponse, ApiError> {
    let query = crate::rooms::room_query(
        req.page_num,
        req.page_size,
        req.status,
        req.anchor_id.as_deref(),
        req.category.as_deref(),
    )
    .map_err(invalid)?;
    let rooms = app.store.list_rooms(&query).await?;
    Ok(RoomsResponse {
        rooms: rooms
            .iter()
            .map(|r| shown(app, r, metrics::snapshot(r)))
            .collect(),
    })
}

/// `POST /api/v1/admin/rooms`: every anchor's rooms, newest first ([`rooms`]).
pub struct AdminRooms;

impl Handler for AdminRooms {
    const ENDPOINT: Endpoint = Endpoint::new("admin-rooms", &[Route::post("/api/v1/admin/rooms")])
        .with_needs(ROOMS_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (_, body) = operated(app, Self::ENDPOINT, &req, Scope::RoomsRead).await?;
        json(&rooms(app, body).await?)
    }
}

/// `stopRoom {id, reason}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopRoomRequest {
    pub id: String,
    #[serde(default)]
    pub reason: Option<String>,
}

crate::needs!(
    /// `stopRoom`: the operator, the room and its counters (one read), one conditional write
    /// with its events and audit entry.
    StopStore,
    STOP_NEEDS: SessionRead,
    KeyRead,
    KeyTouch,
    RoomView,
    RoomUpdate
);

/// Ends room `id` for `operator`, with `reason`: the state machine's stop, the reason and the
/// operator kept on the room, the `room_ended` events, the vendor calls that cut its stream
/// (issue 24) and the audit entry in one write. A room
/// that has ended already is answered as it is (nothing written, nothing audited).
pub async fn stop_room<S: StopStore + ?Sized>(
    app: &App<S>,
    operator: &Operator,
    id: &RoomId,
    reason: &Reason,
) -> Result<RoomInfo, ApiError> {
    let attempt = |()| async move {
        let (current, counters) = found_view(app.store.room_view(id).await?)?;
        let now = app.clock.now();
        let mut next = match current.apply(room::Action::Stop, now, app.config.retention) {
            Transition::To(next) => *next,
            Transition::Stay | Transition::Refuse => {
                let metrics = metrics::with_counters(&current, counters);
                return Ok(Attempt::Done(shown(app, &current, metrics)));
            }
        };
        next.stopped = Some(Stopped {
            reason: reason.clone(),
            by: operator.actor.clone(),
        });
        // The room's stream is cut at the vendors too (issue 24), through the outbox.
        let cuts = app.config.enforcement.cut_stream(id.as_str());
        let events = life_cycle_enforced(app, &current, &next, now, cuts);
        let audit = operator
            .entry(app, Action::RoomStop, Target::room(id))
            .because(Some(reason.clone()));
        match app
            .store
            .update_room_audited(&next, Expected::from(&current), &events, Some(&audit))
            .await
        {
            Ok(()) => {
                crate::domain::outbox::counted(&mut next, &events);
                let metrics = metrics::with_counters(&next, counters);
                Ok(Attempt::Done(shown(app, &next, metrics)))
            }
            Err(StoreError::Conflict) => Ok(Attempt::Again(())),
            Err(e) => Err(e.into()),
        }
    };
    retry_on_conflict(MAX_ATTEMPTS, (), attempt, |()| {
        ApiError::new(
            ErrorCode::RoomVersionConflict,
            "the room is changing too fast; retry the stop",
        )
    })
    .await
}

/// `POST /api/v1/admin/stopRoom`: an operator ends a room, with a reason ([`stop_room`]).
pub struct AdminStopRoom;

impl Handler for AdminStopRoom {
    const ENDPOINT: Endpoint =
        Endpoint::new("admin-stop-room", &[Route::post("/api/v1/admin/stopRoom")])
            .with_needs(STOP_NEEDS)
            .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (op, body): (_, StopRoomRequest) =
            operated(app, Self::ENDPOINT, &req, Scope::RoomsWrite).await?;
        let id = RoomId::parse("id", &body.id).map_err(invalid)?;
        let reason = reason(body.reason.as_deref())?;
        json(&stop_room(app, &op, &id, &reason).await?)
    }
}

/// `kick {id, user_id, ban_seconds?, reason}` (an operator's ban may last 30 days).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminKickRequest {
    pub id: String,
    pub user_id: String,
    #[serde(default)]
    pub ban_seconds: Option<i64>,
    #[serde(default)]
    pub reason: Option<String>,
}

crate::needs!(
    /// Admin `kick`: the operator, then the anchor's kick.
    AdminKickStore,
    ADMIN_KICK_NEEDS: SessionRead,
    KeyRead,
    KeyTouch,
    MemberRead,
    RoomRead,
    MemberBan,
    MeetingWrite
);

/// `POST /api/v1/admin/kick`: an operator removes (and bans) a member of any room.
pub struct AdminKick;

impl Handler for AdminKick {
    const ENDPOINT: Endpoint = Endpoint::new("admin-kick", &[Route::post("/api/v1/admin/kick")])
        .with_needs(ADMIN_KICK_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (op, body): (_, AdminKickRequest) =
            operated(app, Self::ENDPOINT, &req, Scope::RoomsWrite).await?;
        let reason = reason(body.reason.as_deref())?;
        let kicked = KickRequest {
            id: body.id,
            user_id: body.user_id,
            ban_seconds: body.ban_seconds,
        };
        json(&kick(app, &By::Operator(&op, Some(&reason)), kicked).await?)
    }
}

/// `mute {id, user_id, mute, reason?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminMuteRequest {
    pub id: String,
    pub user_id: String,
    pub mute: bool,
    #[serde(default)]
    pub reason: Option<String>,
}

crate::needs!(
    /// Admin `mute`: the operator, the room (whose anchor is not muted), one conditional write
    /// with its audit entry.
    AdminMuteStore,
    ADMIN_MUTE_NEEDS: SessionRead,
    KeyRead,
    KeyTouch,
    RoomRead,
    Moderation
);

/// `POST /api/v1/admin/mute`: an operator mutes or unmutes a member of any room.
pub struct AdminMute;

impl Handler for AdminMute {
    const ENDPOINT: Endpoint = Endpoint::new("admin-mute", &[Route::post("/api/v1/admin/mute")])
        .with_needs(ADMIN_MUTE_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (op, body): (_, AdminMuteRequest) =
            operated(app, Self::ENDPOINT, &req, Scope::RoomsWrite).await?;
        let reason = optional_reason(body.reason.as_deref())?;
        let muted = MuteRequest {
            id: body.id,
            user_id: body.user_id,
            mute: body.mute,
        };
        json(&mute(app, &By::Operator(&op, reason.as_ref()), muted).await?)
    }
}
