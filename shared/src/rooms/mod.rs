//! Rooms (SPEC §5): their life cycle and who may change them.
//!
//! The state machine is [`Room::apply`]: 0 prepare —start→ 1 live —pause→ 0, and 0|1
//! —stop→ 2 ended, which is final. A repeated call is a no-op success; an impossible one is
//! 409. Every change is one conditional store write on the status and version that were read;
//! when another writer got there first, the change is re-decided on the fresh room, so
//! concurrent callers serialise into a history the machine allows. Only the anchor writes.
//!
//! The files: this one holds the endpoints of our API (and their requests); [`create`] the
//! making of a room; [`view`] the read model ([`RoomInfo`] and friends); `change` the anchor's
//! guarded write; [`system`] what other features ask of rooms (a call's room, a callback's
//! change, an account's closing).
//!
//! Never here: what every room feature shares (the `{id, user_id}` request, room-or-404, the
//! outbox report, the retry loop: `room_change`), or another feature's rule.

use lambda_http::Request;
use serde::Deserialize;

use crate::App;
use crate::auth::Caller;
use crate::domain::audit::{self, Acting, Source, Target};
use crate::domain::outbox::EventKind;
use crate::domain::room::{Action, Room, RoomQuery};
use crate::domain::{
    Category, Extends, FieldError, ImageUrl, Nick, Notice, Page, RoomId, Title, parse_status_filter,
};
use crate::error::{ApiError, ErrorCode};
use crate::metrics;
use crate::operator::{acting, audit_entry};
use crate::room_change::{
    Attempt, MAX_ATTEMPTS, RoomTarget, Signer, account_standing, check_claimed_identity,
    claimed_room_id, expiry, found_for, recording_calls, report_enforced, retry_on_conflict,
    standing,
};
use crate::store::StoreError;

mod change;
pub mod create;
pub mod system;
pub mod view;

use change::{For, apply_as_anchor, write_with_retry};
use create::optional;

use crate::endpoint::{Endpoint, Handler, Route, Visitor, authenticated, json};
use crate::env::SecretGroups;
use crate::store::Store;
pub use change::{CHANGE_NEEDS, ChangeStore};
pub use create::{CREATE_NEEDS, Create, CreateRequest, CreateStore, create};
pub(crate) use system::apply_as_system;
pub use system::{CHANNEL_CATEGORY, channel_room, end_rooms_of, find, find_for};
pub use view::{LinkInfo, PullUrlInfo, PushUrlInfo, RoomInfo, UserStatus, VodInfo, info};
pub(crate) use view::{readable_view_for, view_for};

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
    /// `list`: one query on an index, and the caller's session in one read (with, where
    /// anything is signed, the caller's bans in the page's rooms; else at once with the query).
    ListStore,
    LIST_NEEDS: RoomList,
    MemberRead
);
crate::needs!(
    /// `delete`: the room with the caller's session (one read), the mark, then the purge of
    /// what is under it.
    DeleteStore,
    DELETE_NEEDS: RoomView,
    RoomDelete
);

// ---- requests -----------------------------------------------------------------------------

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

// ---- endpoints ----------------------------------------------------------------------------

pub async fn get<S: GetStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: RoomTarget,
) -> Result<RoomInfo, ApiError> {
    let id = req.room_id(caller, ErrorCode::RoomQueryParams)?;
    // The caller's ban and session come with the room, in the same one read.
    let (room, counters, signer) = readable_view_for(app, caller, &id).await?;
    let metrics = metrics::current(app, &room, counters).await?;
    Ok(RoomInfo::view(&room, caller, &signer, metrics))
}

/// A listing's filters and page, parsed (`list`, and the admin API's `rooms`): an empty
/// anchor or category is no filter.
pub fn room_query(
    page_num: i64,
    page_size: i64,
    status: Option<i64>,
    anchor_id: Option<&str>,
    category: Option<&str>,
) -> Result<RoomQuery, FieldError> {
    // In the order a client reads its mistakes: the page, then the filters.
    let page = Page::parse(page_num, page_size)?;
    let status = parse_status_filter(status)?;
    let anchor = match anchor_id.filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => Some(crate::domain::UserId::parse("anchor_id", a)?),
    };
    let category = match category.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(Category::parse(c)?),
    };
    Ok(RoomQuery {
        status,
        anchor,
        category,
        page,
        ..RoomQuery::default()
    })
}

pub async fn list<S: ListStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: ListRequest,
) -> Result<Vec<RoomInfo>, ApiError> {
    const CODE: ErrorCode = ErrorCode::RoomQueryParams;
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    let query = room_query(
        req.page_num,
        req.page_size,
        req.status,
        req.anchor_id.as_deref(),
        req.category.as_deref(),
    )
    .map_err(|e| ApiError::invalid(CODE, e))?;
    let providers = &app.config.providers;
    let signs = providers.live.is_configured() || providers.rtc.is_configured();
    let (rooms, bans) = if signs {
        let rooms = app.store.list_rooms(&query).await?;
        // Where anything is signed, the caller's session and bans in the page's rooms: one
        // read for the page (the session alone for an empty page).
        let ids: Vec<RoomId> = rooms.iter().map(|r| r.id.clone()).collect();
        let (bans, session) = app
            .store
            .bans(&ids, &caller.user_id, &caller.session.id)
            .await?;
        standing(caller, session)?;
        (rooms, bans)
    } else {
        // Nothing to sign, so no bans to read: the caller's session alone, read at the same
        // time as the page (a listing's one `Query` cannot carry it).
        let (rooms, session) = futures_util::future::try_join(
            async { Ok::<_, ApiError>(app.store.list_rooms(&query).await?) },
            async {
                Ok::<_, ApiError>(
                    app.store
                        .bans(&[], &caller.user_id, &caller.session.id)
                        .await?
                        .1,
                )
            },
        )
        .await?;
        account_standing(caller, session)?;
        (rooms, Vec::new())
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

pub async fn update<S: ChangeStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: UpdateRequest,
) -> Result<RoomInfo, ApiError> {
    const CODE: ErrorCode = ErrorCode::SystemVerifyError;
    let id = claimed_room_id(caller, req.user_id.as_deref(), &req.id, CODE)?;
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
    .map(|(info, _)| info)
}

pub async fn transition<S: ChangeStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: RoomTarget,
    action: Action,
) -> Result<RoomInfo, ApiError> {
    let id = req.room_id(caller, ErrorCode::SystemVerifyError)?;
    apply_as_anchor(app, caller, &id, action, For::Anchor).await
}

/// Marks the room deleted (it is gone for every reader from here on), then removes what is
/// under it. If the removal fails half way, the deletion stands and the sweeper finishes it;
/// a retry by the anchor finishes it too.
pub async fn delete<S: DeleteStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    by: &Acting,
    req: RoomTarget,
) -> Result<RoomInfo, ApiError> {
    let id = req.room_id(caller, ErrorCode::SystemVerifyError)?;
    // The caller's session comes with the room, in the same one read.
    let (view, session) = app
        .store
        .room_view_for(&id, &caller.user_id, &caller.session.id)
        .await?;
    account_standing(caller, session)?;
    let (room, counters, _) = view.ok_or_else(ApiError::room_not_found)?;
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
    let id = &id;
    let mark = |unmarked: Room| async move {
        if unmarked.is_deleted() {
            return Ok(Attempt::Done(()));
        }
        let now = app.clock.now();
        // A live room deleted stops its recording (issue 26).
        let stops = recording_calls(app, &unmarked, false);
        let events = report_enforced(app, EventKind::RoomDeleted, &unmarked, now, None, stops);
        let audit = audit_entry(app, by, audit::Action::RoomDelete, Target::room(id));
        match app
            .store
            .mark_deleted_audited(
                id,
                &caller.user_id,
                now,
                expiry(app, now),
                &events,
                Some(&audit),
            )
            .await
        {
            Ok(()) => Ok(Attempt::Done(())),
            // Deleted meanwhile, or another reported change committed: read it again.
            Err(StoreError::Conflict) => match app.store.room_view(id).await? {
                Some((again, _)) if !again.is_deleted() => Ok(Attempt::Again(again)),
                _ => Ok(Attempt::Done(())),
            },
            Err(e) => Err(e.into()),
        }
    };
    retry_on_conflict(MAX_ATTEMPTS, room.clone(), mark, |_| {
        ApiError::new(
            ErrorCode::RoomVersionConflict,
            "the room is changing too fast; retry the delete",
        )
    })
    .await?;
    if let Err(e) = app.store.purge_room(id).await {
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
        let by = acting(&caller, Source::Anchor, &req);
        json(&delete(app, &caller, &by, body).await?)
    }
}
