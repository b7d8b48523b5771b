//! `create` (SPEC §5): a room made by its anchor, held to the anchor's caps (rooms that have
//! not ended, rooms a minute) through its tally, in one transaction with the room's put; and
//! the room as it is made ([`new_room`], also the start of a call's room).
//!
//! Never here: a change of a room that exists (`change`), or what it looks like (`view`).

use chrono::{DateTime, Utc};
use lambda_http::Request;
use serde::Deserialize;

use super::view::{RoomInfo, info};
use crate::App;
use crate::auth::Caller;
use crate::domain::outbox::EventKind;
use crate::domain::room::{MetricsSnapshot, Room};
use crate::domain::{
    Category, Extends, FieldError, ImageUrl, Nick, Notice, RoomId, RoomMode, RoomStatus, Title,
};
use crate::endpoint::{Endpoint, Handler, Route, authenticated, json};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::metrics;
use crate::room_change::{
    Attempt, MAX_ATTEMPTS, Signer, check_claimed_identity, report, retry_on_conflict, standing,
};
use crate::store::{RoomCaps, RoomTally, Store, StoreError};

crate::needs!(
    /// `create`: the anchor (its nick and its rooms' tally), then one transaction of the
    /// room's put and the tally's conditional update; when the tally is full, the state of
    /// its rooms in one read.
    CreateStore,
    CREATE_NEEDS: RoomQuota,
    RoomBatchRead
);

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
    /// `false`: this room is not recorded, even where `RECORDING=on` (issue 26).
    #[serde(default)]
    pub record: Option<bool>,
}

/// An optional field of a body, parsed when present (a malformed one is `code`).
pub(super) fn optional<T>(
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
    code: ErrorCode,
) -> Result<Option<T>, ApiError> {
    value
        .map(parse)
        .transpose()
        .map_err(|e| ApiError::invalid(code, e))
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
    let recording = (app.config.recording && req.record != Some(false))
        .then(crate::domain::recording::Recording::awaited);
    let id = RoomId::generate();
    let recording = &recording;
    let (id, title, notice, cover_url, extends, category, anchor_nick) = (
        &id,
        &title,
        &notice,
        &cover_url,
        &extends,
        &category,
        &anchor_nick,
    );
    let attempt = |()| async move {
        // The anchor's session (the room's push URLs are signed for it), its nick (when the
        // body has none) and its tally, in one read.
        let (found, tally) = app
            .store
            .user_tally_in_session(&caller.user_id, &caller.session.id)
            .await?;
        let user = standing(caller, found)?;
        let now = app.clock.now();
        let Some(caps) = room_caps(app, caller, &tally, now).await? else {
            // Rooms that ended or are gone left the full set: try again.
            return Ok(Attempt::Again(()));
        };
        let room = Room {
            notice: notice.clone(),
            cover_url: cover_url.clone(),
            extends: extends.clone(),
            recording: recording.clone(),
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
                Ok(Attempt::Done(info(
                    &room,
                    caller,
                    &signer,
                    metrics::snapshot(&room),
                )))
            }
            // Another creation (or an end) moved the tally: read it again.
            Err(StoreError::Conflict) => Ok(Attempt::Again(())),
            Err(e) => Err(e.into()),
        }
    };
    retry_on_conflict(MAX_ATTEMPTS, (), attempt, |()| {
        ApiError::new(
            ErrorCode::RoomVersionConflict,
            "the caller's rooms are changing too fast; retry",
        )
    })
    .await
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
pub(super) fn new_room(
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
        stopped: None,
        recording: None,
        muted: Vec::new(),
        chat_ready: false,
    }
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
