//! Seed 004's dialect: the Tencent serverless live-room service's `/base/v1/oauth/*`,
//! `/base/v1/auth_users/*` and `/base/v1/rooms/*`, for its aPaaS client kits.
//!
//! Identity comes from the `token` the client sends in its parameters (our access token, which
//! those clients treat as opaque), and `userId` must name the token's user. Answers are
//! `{errorCode: 0, errorMessage, data?}` with the doc's messages; errors keep their 4xx/5xx
//! status (see [`super::error_body`]).

use serde_json::{Value, json};

use super::{Params, seed_time, seed_time_of};
use crate::App;
use crate::accounts::{
    self, AuthResponse, LogoutRequest, RegisterRequest, SignatureRequest, UpdateUserRequest,
    UserRequest,
};
use crate::auth::{Caller, TokenKind};
use crate::domain::room::RoomQuery;
use crate::domain::{Category, Page, RoomId, RoomStatus, UserId};
use crate::error::{ApiError, ErrorCode};
use crate::presence::{self, KeepaliveRequest, RoomIdRequest};
use crate::rooms::{self, CreateRequest, RoomRequest, UpdateRequest};
use lambda_http::Request;

use super::request;
use crate::endpoint::{Endpoint, Envelope, Handler, Route, Visitor, source_ip};
use crate::env::SecretGroups;
use crate::store::Store;

crate::needs!(
    /// `oauth/*` and `auth_users/*`: what `register`, `signature`, `refresh`, `logout`,
    /// `user`, `updateUser`, `deleteUser` and `keepalive` need.
    UsersStore,
    USERS_NEEDS: UserRead,
    UserWrite,
    UserUpdate,
    UserDelete,
    SessionRead,
    SessionWrite,
    LoginThrottle,
    NonceClaim,
    RoomQuota,
    RoomView,
    RoomRead,
    RoomUpdate,
    PresenceWrite,
    MemberRead
);
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

/// `{errorCode: 0, errorMessage, data?}`.
fn done(message: &str, data: Option<Value>) -> Result<String, ApiError> {
    let mut body = json!({"errorCode": 0, "errorMessage": message});
    if let Some(data) = data {
        body["data"] = data;
    }
    serde_json::to_string(&body).map_err(ApiError::internal)
}

fn token_invalid(message: &str) -> ApiError {
    ApiError::new(ErrorCode::UserTokenInvalid, message)
}

/// The `userId` (or its alias `apaasUserId`) a request names.
fn claimed_user(p: &Params) -> Result<Option<String>, ApiError> {
    const CODE: ErrorCode = ErrorCode::UserTokenInvalid;
    match (p.id(CODE, "userId")?, p.id(CODE, "apaasUserId")?) {
        (Some(user), Some(apaas)) if user != apaas => {
            Err(token_invalid("userId and apaasUserId name different users"))
        }
        (Some(user), _) => Ok(Some(user)),
        (None, apaas) => Ok(apaas),
    }
}

/// The caller: the verified `token`, whose user `userId` must name (401 203 expired, 204
/// otherwise, as seed 004's `authByUserToken`).
fn caller<S: ?Sized>(app: &App<S>, p: &Params) -> Result<Caller, ApiError> {
    let token = p
        .text(ErrorCode::UserTokenInvalid, "token")?
        .ok_or_else(|| token_invalid("token required"))?;
    // The token first: an unauthenticated request learns nothing about its other parameters.
    let caller = app
        .tokens
        .verify(&token, TokenKind::Access, app.clock.now())?;
    let claimed = claimed_user(p)?.ok_or_else(|| token_invalid("userId required"))?;
    if claimed != caller.user_id.as_str() {
        return Err(token_invalid("userId is not the token's user"));
    }
    Ok(caller)
}

/// The SDK credentials of a login answer: seed 004's `sdkAppId` (a number; 0 without the
/// Tencent provider) and `sdkUserSig`/`userSig` ("" without it), valid until `until` at the
/// latest (the access token that asked for them, or the one a login just issued).
fn sdk_fields<S: ?Sized>(app: &App<S>, user: &UserId, until: Option<i64>) -> (u32, String) {
    let now = app.clock.now().timestamp();
    app.config
        .providers
        .until(until, now)
        .tencent_user_sig(user, now)
        .unwrap_or_default()
}

/// The data of a login answer (`oauth/signature`, `user_login_token` by `caller`).
fn login_data<S: ?Sized>(
    app: &App<S>,
    auth: &AuthResponse,
    caller: Option<&Caller>,
) -> Result<Value, ApiError> {
    let user = UserId::parse("userId", &auth.user_id).map_err(|e| ApiError::internal(e.message))?;
    let until = match caller {
        Some(caller) => caller.expires_at,
        None => chrono::DateTime::parse_from_rfc3339(&auth.expire)
            .ok()
            .map(|t| t.timestamp()),
    };
    let (sdk_app_id, user_sig) = sdk_fields(app, &user, until);
    Ok(json!({
        "userId": auth.user_id,
        "apaasUserId": auth.user_id,
        "apaasAppId": "",
        "sdkAppId": sdk_app_id,
        "sdkUserSig": user_sig,
        "userSig": user_sig,
        "token": auth.token,
        "expire": seed_time_of(&auth.expire),
    }))
}

/// `/base/v1/oauth/{register,signature}` and `/base/v1/auth_users/*`.
pub async fn users<S: UsersStore + ?Sized>(
    app: &App<S>,
    operation: &str,
    p: &Params,
    source: Option<&str>,
) -> Result<String, ApiError> {
    const CODE: ErrorCode = ErrorCode::SystemVerifyError;
    match operation {
        "register" => {
            let salt = p
                .text(CODE, "salt")?
                .ok_or_else(|| ApiError::invalid_field(CODE, "salt", "salt required"))?;
            let user = accounts::register(
                app,
                RegisterRequest {
                    username: p.text(CODE, "username")?.unwrap_or_default(),
                    password: None,
                    nick: None,
                    avatar: None,
                    salt: Some(salt),
                },
                source,
            )
            .await?;
            done(
                "register ok",
                Some(json!({"name": user.username, "userId": user.id})),
            )
        }
        "signature" => {
            if let Some(hash) = p.text(CODE, "hash")?
                && !hash.eq_ignore_ascii_case("md5")
            {
                return Err(ApiError::invalid_field(
                    CODE,
                    "hash",
                    "hash: only md5 is supported",
                ));
            }
            accepted(p, CODE, &["nickname", "avatar"])?;
            let auth = accounts::signature(
                app,
                SignatureRequest {
                    username: p.text(CODE, "username")?.unwrap_or_default(),
                    tag: p.text(CODE, "tag")?,
                    ts: p.raw("ts"),
                    nonce: p.text(CODE, "nonce")?.unwrap_or_default(),
                    signature: p.text(CODE, "signature")?.unwrap_or_default(),
                },
                source,
            )
            .await?;
            done("signature ok", Some(login_data(app, &auth, None)?))
        }
        "user_login_token" => {
            let caller = caller(app, p)?;
            let (user, auth) = accounts::renew(app, &caller).await?;
            let mut data = login_data(app, &auth, Some(&caller))?;
            data["phone"] = json!("");
            data["email"] = json!("");
            data["name"] = json!(user.nick);
            data["avatar"] = json!(user.avatar);
            done("login done", Some(data))
        }
        "user_logout" => {
            // Seed 004: an expired, invalid or missing token is logged out already.
            let Some(token) = p.text(ErrorCode::UserTokenInvalid, "token")? else {
                return done("user logout ok", None);
            };
            let Ok(caller) = app
                .tokens
                .verify(&token, TokenKind::Access, app.clock.now())
            else {
                return done("user logout ok", None);
            };
            if claimed_user(p)?.is_some_and(|id| id != caller.user_id.as_str()) {
                return Err(token_invalid("userId is not the token's user"));
            }
            accounts::logout(app, &caller, LogoutRequest { all: false }).await?;
            done("user logout ok", None)
        }
        "user_delete" => {
            let caller = caller(app, p)?;
            match accounts::delete_user(app, &caller).await {
                // Seed 004: a user that is gone counts as deleted.
                Ok(_) => done("user delete ok", None),
                Err(e) if e.code == ErrorCode::UserNotExists => done("user delete ok", None),
                Err(e) => Err(e),
            }
        }
        "user_update" => {
            let caller = caller(app, p)?;
            let name = p.text(CODE, "name")?;
            let avatar = p.text(CODE, "avatar")?;
            let tagged = p.text(CODE, "tag")?.is_some() || p.text(CODE, "tag2")?.is_some();
            if name.is_none() && avatar.is_none() {
                if tagged {
                    // Tags are not kept here (nothing this server answers reads them).
                    return done("update ok", None);
                }
                return Err(ApiError::new(
                    ErrorCode::UserInfoEmpty,
                    "nothing to update: give name, avatar, tag or tag2",
                ));
            }
            accounts::update_user(app, &caller, UpdateUserRequest { nick: name, avatar })
                .await
                .map_err(|e| rename_field(e, "nick", "name"))?;
            done("update ok", None)
        }
        "user_query" => {
            let caller = caller(app, p)?;
            if p.text(CODE, "searchPhone")?.is_some() {
                // This server keeps no phone numbers, so no user has one.
                return Err(ApiError::new(
                    ErrorCode::UserNotExists,
                    "no user has that phone number",
                ));
            }
            let user = accounts::user(
                app,
                &caller,
                UserRequest {
                    user_id: p.id(CODE, "searchUserId")?,
                },
            )
            .await?;
            done(
                "query done",
                Some(json!({
                    "userId": user.id,
                    "apaasUserId": user.id,
                    "name": user.nick,
                    "avatar": user.avatar,
                })),
            )
        }
        "user_keepalive" => {
            let caller = caller(app, p)?;
            // The room is ours to add: seed 004 keeps users, not room members, alive.
            presence::keepalive(
                app,
                &caller,
                KeepaliveRequest {
                    id: p.id(CODE, "roomId")?,
                    user_id: None,
                },
            )
            .await?;
            done(
                "keep alive done",
                Some(json!({
                    "userId": caller.user_id,
                    "updateUtc": seed_time(&app.clock.now()),
                })),
            )
        }
        _ => Err(unknown(operation)),
    }
}

/// Parameters the seed takes that nothing here keeps: still strings, or the request is bad.
fn accepted(p: &Params, code: ErrorCode, keys: &[&str]) -> Result<(), ApiError> {
    keys.iter().try_for_each(|k| p.text(code, k).map(drop))
}

fn unknown(operation: &str) -> ApiError {
    ApiError::new(ErrorCode::RouteNotFound, "no such path").with_detail("operation", operation)
}

/// An error about the core's field `from` named as the dialect names it.
fn rename_field(mut e: ApiError, from: &str, to: &str) -> ApiError {
    if e.details.get("field").and_then(Value::as_str) == Some(from) {
        e.details.insert("field".into(), json!(to));
        e.message = e.message.replace(from, to);
    }
    e
}

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
            // Only the anchor is needed (no metrics, no URLs): one read.
            let anchor = rooms::found(app.store.room(&room_id_of(&id)?).await?)?.anchor_id;
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
                    RoomRequest::of(&id),
                    crate::domain::room::Action::Start,
                )
                .await?;
            }
            presence::join(app, &caller, RoomIdRequest::of(&id)).await?;
            done("enter_room ok", Some(json!({"roomId": id, "role": role})))
        }
        "leave_room" => {
            let caller = caller(app, p)?;
            let id = room_id(p, ErrorCode::RoomQueryParams)?;
            presence::leave(app, &caller, RoomIdRequest::of(&id)).await?;
            done("leave_room ok", None)
        }
        "destroy_room" => {
            let caller = caller(app, p)?;
            let id = room_id(p, ErrorCode::RoomQueryParams)?;
            rooms::delete(app, &caller, RoomRequest::of(&id)).await?;
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
            let room = rooms::get(app, &caller, RoomRequest::of(&id)).await?;
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
    let anchor = rooms::found_for(app.store.room(&id).await?, &caller)?.anchor_id;
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

/// `query_room`: rooms that have not ended (seed 004 lists rooms until they are destroyed),
/// newest first, by `category`, `roomIds` and a creation window, `offset`/`limit` paged.
async fn query_room<S: RoomsStore + ?Sized>(app: &App<S>, p: &Params) -> Result<String, ApiError> {
    const CODE: ErrorCode = ErrorCode::RoomQueryParams;
    caller(app, p)?;
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
    let rooms = rooms::find(app, &query, &ids).await?;
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

/// This module's endpoints, for the edge's route table.
pub fn endpoints(v: &mut impl Visitor) {
    v.visit::<TencentUsers>();
    v.visit::<TencentRooms>();
}

/// Seed 004's users: registration, logins, profiles and sessions ([`users`]); one function
/// for the group, as seed 004's clients call them in one breath.
pub struct TencentUsers;

impl Handler for TencentUsers {
    const ENDPOINT: Endpoint = Endpoint::new(
        "tencent-users",
        &[
            Route::any("/base/v1/oauth/register"),
            Route::any("/base/v1/oauth/signature"),
            Route::any("/base/v1/auth_users/user_login_token"),
            Route::any("/base/v1/auth_users/user_logout"),
            Route::any("/base/v1/auth_users/user_delete"),
            Route::any("/base/v1/auth_users/user_update"),
            Route::any("/base/v1/auth_users/user_query"),
            Route::any("/base/v1/auth_users/user_keepalive"),
        ],
    )
    .with_needs(USERS_NEEDS)
    .with_secrets(SecretGroups {
        user_sig: true,
        ..SecretGroups::ISSUING
    })
    .with_envelope(Envelope::Tencent);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (operation, params) = request(app, &req)?;
        users(app, &operation, &params, source_ip(&req).as_deref()).await
    }
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
        rooms(app, &operation, &params).await
    }
}
