//! Seed 004's `/base/v1/oauth/{register,signature}` and `/base/v1/auth_users/*`: mapped onto
//! `accounts` (and `presence`'s keepalive), answered with the SDK credentials of a login.
//!
//! Never here: a rule of the core (the mapping only renames and reshapes).

use lambda_http::Request;
use serde_json::{Value, json};

use super::wire::{accepted, caller, claimed_user, done, rename_field, token_invalid, unknown};
use crate::App;
use crate::accounts::{
    self, AuthResponse, LogoutRequest, RegisterRequest, SignatureRequest, UpdateUserRequest,
    UserRequest,
};
use crate::auth::{Caller, TokenKind};
use crate::dialects::request;
use crate::dialects::{Params, seed_time, seed_time_of};
use crate::domain::UserId;
use crate::domain::audit::{Acting, Origin, Source};
use crate::endpoint::{Endpoint, Envelope, Handler, Route};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::presence::{self, KeepaliveRequest};
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
    origin: &Origin,
) -> Result<String, ApiError> {
    const CODE: ErrorCode = ErrorCode::SystemVerifyError;
    let source = origin.ip.as_deref();
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
            let by = Acting::user(&caller.user_id, Source::User, origin.clone());
            accounts::logout(app, &caller, &by, LogoutRequest { all: false }).await?;
            done("user logout ok", None)
        }
        "user_delete" => {
            let caller = caller(app, p)?;
            let by = Acting::user(&caller.user_id, Source::User, origin.clone());
            match accounts::delete_user(app, &caller, &by).await {
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
    .with_envelope(Envelope::Tencent)
    .without_token_at(&["/base/v1/oauth/register", "/base/v1/oauth/signature"]);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (operation, params) = request(app, &req)?;
        users(app, &operation, &params, &crate::operator::origin(&req)).await
    }
}
