//! Seed 004's `/base/v1/rooms/*`: mapped onto `rooms` and `presence` (and `accounts` for the
//! profiles of listed members).
//!
//! Never here: a rule of the core (the mapping only renames and reshapes).

use lambda_http::Request;
use serde_json::{Value, json};

use super::wire::{accepted, caller, done, rename_field, unknown};
use crate::App;
use crate::accounts::{self, UserRequest};
use crate::auth::Caller;
use crate::dialects::request;
use crate::dialects::{Params, seed_time, seed_time_of};
use crate::domain::audit::{Acting, Origin, Source};
use crate::domain::room::RoomQuery;
use crate::domain::{Category, Page, RoomId, RoomStatus};
use crate::endpoint::{Endpoint, Envelope, Handler, Route};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::presence;
use crate::room_change::{RoomTarget, account_standing, found, found_for};
use crate::rooms::{self, CreateRequest, UpdateRequest};
use crate::store::Store;

crate::needs!(
    /// `rooms/*`: what `create`, `update`, `start`, `join`, `leave`, `delete`, `get`, `list`
    /// and `members` need, and the profiles of listed members.
    RoomsStore,
    ROOMS_NEEDS: UserRead,
    SessionRead,
    RoomCreate,
    RoomQuota,
    RoomBatchRead,
    RoomRead,
    RoomView,
    RoomList,
    RoomUpdate,
    RoomDelete,
    PresenceWrite,
    PresenceRead,
    ChannelMark,
    MemberRead,
    MetricsWrite
);

/// A `roomId`: any text is a room id to seed 004's clients, so one that cannot be ours names
/// no room (404), and a missing one is the operation's parameter error.
fn room_id(p: &Params, missing: ErrorCode) -> Result<RoomId, ApiError> {
    let raw = p
        .id(missing, "roomId")?
        .ok_or_else(|| ApiError::invalid_field(missing, "roomId", "roomId required"))?;
    RoomId::parse("roomId", &raw).map_err(|_| ApiError::room_not_found())
}

/// The id of a room this server just named.
fn room_id_of(id: &str) -> Result<RoomId, ApiError> {
    RoomId::parse("roomId", id).map_err(|e| ApiError::internal(e.message))
}

/// Seed 004's room roles: the anchor, and everyone else a guest.
fn role(anchor: &str, user: &str) -> &'static str {
    if anchor == user { "anchor" } else { "guest" }
}

/// A role a client asks for must be the one it has (roles are the server's decision).
fn check_role(p: &Params, code: ErrorCode, has: &str) -> Result<(), ApiError> {
    match p.text(code, "role")? {
        Some(asked) if asked != has => Err(ApiError::forbidden(format!(
            "role {asked} is not yours in this room (the room's creator is its anchor, everyone else a guest)"
        ))
        .with_detail("role", has)),
        _ => Ok(()),
    }
}

fn status_name(status: i64) -> &'static str {
    match RoomStatus::try_from(status) {
        Ok(RoomStatus::Prepare) => "prepare",
        Ok(RoomStatus::Live) => "live",
        _ => "ended",
    }
}

/// A time parameter in seed 004's format (`YYYY-MM-DD hh:mm:ss`, UTC).
fn time_param(p: &Params, key: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    const CODE: ErrorCode = ErrorCode::RoomQueryParams;
    p.text(CODE, key)?
        .map(|t| {
            chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S")
                .map(|t| t.and_utc())
                .map_err(|_| {
                    ApiError::invalid_field(
                        CODE,
                        key,
                        format!("{key}: must be YYYY-MM-DD hh:mm:ss"),
                    )
                })
        })
        .transpose()
}

/// `/base/v1/rooms/*`.
pub async fn rooms<S: RoomsStore + ?Sized>(
    app: &App<S>,
    operation: &str,
    p: &Params,
    origin: &Origin,
) -> Result<String, ApiError> {
    match operation {
        "generate_roomid" => {
            let caller = caller(app, p)?;
            let room = create(app, &caller, p).await?;
            done("generate_roomid ok", Some(json!({"roomId": room})))
        }
        "enter_room" => {
            const CODE: ErrorCode = ErrorCode::RoomCreateParams;
            let caller = caller(app, p)?;
            let id = match p.id(CODE, "roomId")? {
                // Seed 004 still makes the room when none is named.
                None => create(app, &caller, p).await?,
                Some(_) => room_id(p, CODE)?.to_string(),
            };
            // Only the anchor is needed (no metrics, no URLs): one read, with the caller's
            // session.
            let anchor = found(room_in_session(app, &caller, &room_id_of(&id)?).await?)?.anchor_id;
            let role = role(anchor.as_str(), caller.user_id.as_str());
            check_role(p, CODE, role)?;
            if role == "anchor" {
                // The anchor's entering names the room and puts it on air.
                let (title, category) = (p.given(CODE, "title")?, p.given(CODE, "category")?);
                if title.is_some() || category.is_some() {
                    rooms::update(
                        app,
                        &caller,
                        UpdateRequest {
                            id: id.clone(),
                            title,
                            category,
                            ..UpdateRequest::default()
                        },
                    )
                    .await?;
                }
                rooms::transition(
                    app,
                    &caller,
                    RoomTarget::of(&id),
                    crate::domain::room::Action::Start,
                )
                .await?;
            }
            presence::join(app, &caller, RoomTarget::of(&id)).await?;
            done("enter_room ok", Some(json!({"roomId": id, "role": role})))
        }
        "leave_room" => {
            let caller = caller(app, p)?;
            let id = room_id(p, ErrorCode::RoomQueryParams)?;
            presence::leave(app, &caller, RoomTarget::of(&id)).await?;
            done("leave_room ok", None)
        }
        "destroy_room" => {
            let caller = caller(app, p)?;
            let id = room_id(p, ErrorCode::RoomQueryParams)?;
            let by = Acting::user(&caller.user_id, Source::Anchor, origin.clone());
            rooms::delete(app, &caller, &by, RoomTarget::of(&id)).await?;
            done("destroy ok", None)
        }
        "update_room" => {
            const CODE: ErrorCode = ErrorCode::RoomCreateParams;
            let caller = caller(app, p)?;
            let id = room_id(p, CODE)?;
            // Only the anchor may update (the core refuses everyone else), so a role given
            // must be the anchor's.
            check_role(p, CODE, "anchor")?;
            accepted(p, CODE, &["subject"])?;
            let room = rooms::update(
                app,
                &caller,
                UpdateRequest {
                    id: id.to_string(),
                    title: p.given(CODE, "title")?,
                    category: p.given(CODE, "category")?,
                    cover_url: p.given(CODE, "cover")?,
                    notice: p.given(CODE, "description")?,
                    ..UpdateRequest::default()
                },
            )
            .await
            .map_err(|e| {
                rename_field(
                    rename_field(e, "cover_url", "cover"),
                    "notice",
                    "description",
                )
            })?;
            done(
                "update_room ok",
                Some(json!({
                    "roomId": room.id,
                    "category": room.category,
                    "title": room.title,
                    "cover": room.cover_url,
                    "subject": "",
                    "description": room.notice,
                })),
            )
        }
        "room_detail" => {
            let caller = caller(app, p)?;
            let id = room_id(p, ErrorCode::RoomQueryParams)?;
            let room = rooms::get(app, &caller, RoomTarget::of(&id)).await?;
            done(
                "room_detail ok",
                Some(json!({
                    "roomId": room.id,
                    "title": room.title,
                    "category": room.category,
                    "removed": 0,
                    "createBy": room.anchor_id,
                    "updateBy": room.anchor_id,
                    "ownBy": room.anchor_id,
                    "createUtc": seed_time_of(&room.created_at),
                    "updateUtc": seed_time_of(&room.updated_at),
                    "status": status_name(room.status),
                    "nnUsers": room.metrics.online_count,
                })),
            )
        }
        "list_users" => list_users(app, p).await,
        "query_room" => query_room(app, p).await,
        _ => Err(unknown(operation)),
    }
}

/// Makes a room for `generate_roomid` / `enter_room` (its `title`, default the caller's id,
/// and `category`); returns its id.
async fn create<S: RoomsStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    p: &Params,
) -> Result<String, ApiError> {
    const CODE: ErrorCode = ErrorCode::RoomCreateParams;
    let room = rooms::create(
        app,
        caller,
        CreateRequest {
            title: p
                .given(CODE, "title")?
                .unwrap_or_else(|| caller.user_id.to_string()),
            category: p.given(CODE, "category")?,
            ..CreateRequest::default()
        },
    )
    .await?;
    Ok(room.id)
}

/// A page size: `limit`, 1 to 100; absent or 0 is seed 004's default, 10.
fn limit(p: &Params) -> Result<u32, ApiError> {
    const CODE: ErrorCode = ErrorCode::RoomQueryParams;
    match p.int(CODE, "limit")? {
        None | Some(0) => Ok(10),
        Some(l @ 1..=100) => Ok(l as u32),
        Some(_) => Err(ApiError::invalid_field(
            CODE,
            "limit",
            "limit: must be 0 to 100",
        )),
    }
}

/// `list_users`: the room's online members (at most `limit`, default 10), with their profiles.
async fn list_users<S: RoomsStore + ?Sized>(app: &App<S>, p: &Params) -> Result<String, ApiError> {
    const CODE: ErrorCode = ErrorCode::RoomQueryParams;
    let caller = caller(app, p)?;
    let id = room_id(p, CODE)?;
    let limit = limit(p)? as usize;
    let anchor = found_for(room_in_session(app, &caller, &id).await?, &caller)?.anchor_id;
    let ids = presence::online_members(app, &caller, &id, limit).await?;
    let mut users = Vec::with_capacity(ids.len());
    for user_id in ids {
        let (name, avatar) = match accounts::user(
            app,
            &caller,
            UserRequest {
                user_id: Some(user_id.clone()),
            },
        )
        .await
        {
            Ok(u) => (u.nick, u.avatar),
            // A member whose account closed since: listed without a profile.
            Err(e) if e.code == ErrorCode::UserNotExists => (String::new(), String::new()),
            Err(e) => return Err(e),
        };
        users.push(json!({
            "userId": user_id,
            "apaasUserId": user_id,
            "name": name,
            "avatar": avatar,
            "role": role(anchor.as_str(), &user_id),
        }));
    }
    done("query_Users ok", Some(Value::Array(users)))
}

/// Room `id`, read with `caller`'s session, whose account must still stand (one read).
async fn room_in_session<S: RoomsStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    id: &RoomId,
) -> Result<Option<crate::domain::room::Room>, ApiError> {
    let (room, _, session) = app
        .store
        .room_member_in_session(id, &caller.user_id, &caller.session.id)
        .await?;
    account_standing(caller, session)?;
    Ok(room)
}

/// `query_room`: rooms that have not ended (seed 004 lists rooms until they are destroyed),
/// newest first, by `category`, `roomIds` and a creation window, `offset`/`limit` paged.
async fn query_room<S: RoomsStore + ?Sized>(app: &App<S>, p: &Params) -> Result<String, ApiError> {
    const CODE: ErrorCode = ErrorCode::RoomQueryParams;
    let caller = caller(app, p)?;
    let size = limit(p)?;
    let offset = match p.int(CODE, "offset")? {
        None => 0,
        Some(o) if (0..=Page::MAX_OFFSET).contains(&o) => o as u32,
        Some(_) => {
            return Err(ApiError::invalid_field(
                CODE,
                "offset",
                format!("offset: must be 0 to {}", Page::MAX_OFFSET),
            ));
        }
    };
    let category = p
        .text(CODE, "category")?
        .map(|c| Category::parse(&c))
        .transpose()
        .map_err(|e| ApiError::invalid(CODE, e))?;
    // An id that cannot be ours names no room.
    let ids: Vec<RoomId> = p
        .list(CODE, "roomIds")?
        .iter()
        .filter_map(|id| RoomId::parse("roomIds", id).ok())
        .collect();
    if ids.is_empty() && !p.list(CODE, "roomIds")?.is_empty() {
        return done("query_room ok", Some(json!([])));
    }
    let query = RoomQuery {
        not_ended: true,
        category,
        created_from: time_param(p, "startUtc")?,
        created_before: time_param(p, "endUtc")?,
        page: Page { offset, size },
        ..RoomQuery::default()
    };
    // The caller's session comes with the rooms by id, or at the same time as a listing.
    let rooms = rooms::find_for(app, &caller, &query, &ids).await?;
    let list: Vec<Value> = rooms
        .iter()
        .map(|r| {
            json!({
                "roomId": r.id,
                "category": r.category,
                "title": r.title,
                "ownBy": r.anchor_id,
                "createUtc": seed_time(&r.created_at),
                "updateUtc": seed_time(&r.updated_at),
            })
        })
        .collect();
    done("query_room ok", Some(Value::Array(list)))
}

/// Seed 004's rooms ([`rooms`]).
pub struct TencentRooms;

impl Handler for TencentRooms {
    const ENDPOINT: Endpoint = Endpoint::new(
        "tencent-rooms",
        &[
            Route::any("/base/v1/rooms/query_room"),
            Route::any("/base/v1/rooms/generate_roomid"),
            Route::any("/base/v1/rooms/enter_room"),
            Route::any("/base/v1/rooms/leave_room"),
            Route::any("/base/v1/rooms/destroy_room"),
            Route::any("/base/v1/rooms/update_room"),
            Route::any("/base/v1/rooms/room_detail"),
            Route::any("/base/v1/rooms/list_users"),
        ],
    )
    .with_needs(ROOMS_NEEDS)
    .with_secrets(SecretGroups::TOKENS)
    .with_envelope(Envelope::Tencent);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (operation, params) = request(app, &req)?;
        rooms(app, &operation, &params, &crate::operator::origin(&req)).await
    }
}
