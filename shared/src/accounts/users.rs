//! The user's own profile (SPEC §3): `user` (anyone's public profile), `updateUser` and
//! `deleteUser` (which ends the user's rooms through `rooms`).
//!
//! Never here: passwords and logins (`login`), or sessions (`sessions`).

use lambda_http::Request;
use serde::{Deserialize, Serialize};

use crate::App;
use crate::auth::Caller;
use crate::domain::audit::{Acting, Action, Source, Target};
use crate::domain::user::User as Account;
use crate::domain::{ImageUrl, Nick, UserId};
use crate::endpoint::{
    Endpoint, Handler, Route, authenticate, authenticated, json, parse_optional_body,
};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::operator::{acting, audit_entry};
use crate::room_change::{account_standing, guard, guarded, invalid};
use crate::store::Store;

crate::needs!(
    /// `user`: one read (the user asked for, and the caller's session).
    UserQueryStore,
    USER_QUERY_NEEDS: SessionRead
);
crate::needs!(
    /// `updateUser`: one conditional write.
    UpdateUserStore,
    UPDATE_USER_NEEDS: UserUpdate
);
crate::needs!(
    /// `deleteUser`: the account closed, then the user's rooms found and ended.
    DeleteUserStore,
    DELETE_USER_NEEDS: UserDelete,
    RoomQuota,
    RoomView,
    RoomUpdate
);

#[derive(Debug, Default, Deserialize)]
pub struct UserRequest {
    /// Whom to look up; the caller when absent or empty.
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct UpdateUserRequest {
    #[serde(default)]
    pub nick: Option<String>,
    #[serde(default)]
    pub avatar: Option<String>,
}

/// A user as others may see it: no hash, no secrets.
#[derive(Debug, Serialize)]
pub struct UserInfo {
    pub id: String,
    pub username: String,
    pub nick: String,
    pub avatar: String,
    pub created_at: String,
}

impl From<&Account> for UserInfo {
    fn from(user: &Account) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.to_string(),
            nick: user.nick.to_string(),
            avatar: user.avatar.to_string(),
            created_at: crate::clock::rfc3339(&user.created_at),
        }
    }
}

/// `deleteUser`'s answer.
#[derive(Debug, Serialize)]
pub struct DeleteUserResponse {
    pub code: u16,
    pub user_id: String,
    /// Rooms of the user this call ended (the user's other rooms had ended already).
    pub rooms_ended: u64,
}

fn no_user() -> ApiError {
    ApiError::new(ErrorCode::UserNotExists, "no such user")
}

/// A user's public profile (the caller's by default). Never a hash, a salt, or anything but
/// what `UserInfo` holds.
pub async fn user<S: UserQueryStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: UserRequest,
) -> Result<UserInfo, ApiError> {
    let id = match req.user_id.as_deref() {
        None | Some("") => caller.user_id.clone(),
        Some(id) => UserId::parse("user_id", id)
            .map_err(|e| ApiError::invalid(ErrorCode::SystemVerifyError, e))?,
    };
    // The caller's session comes with the user asked for, in the same one read.
    let (user, session) = app
        .store
        .user_in_session(&id, &caller.user_id, &caller.session.id)
        .await?;
    account_standing(caller, session)?;
    let user = user.filter(|u| !u.is_deleted());
    user.as_ref().map(UserInfo::from).ok_or_else(no_user)
}

pub async fn update_user<S: UpdateUserStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: UpdateUserRequest,
) -> Result<UserInfo, ApiError> {
    let nick = req
        .nick
        .as_deref()
        .map(|n| Nick::parse("nick", n))
        .transpose()
        .map_err(invalid)?;
    let avatar = req
        .avatar
        .as_deref()
        .map(|a| ImageUrl::parse("avatar", a))
        .transpose()
        .map_err(invalid)?;
    if nick.is_none() && avatar.is_none() {
        return Err(ApiError::new(
            ErrorCode::UserInfoEmpty,
            "nothing to update: give nick or avatar",
        ));
    }
    // Held to the caller's standing, in the same one write.
    let user = guarded(
        app.store
            .update_profile(
                &caller.user_id,
                nick.as_ref(),
                avatar.as_ref(),
                guard(caller),
            )
            .await,
    )?;
    user.as_ref().map(UserInfo::from).ok_or_else(no_user)
}

/// Closes the caller's account: every session ended, the profile cleared, the username never
/// given to anyone else (so old tokens and room ids cannot be claimed), and the user's rooms
/// ended (kept, not deleted: their viewers see them end). Repeatable: a call that failed half
/// way is finished by the next (the user's access token still works for that), and a room it
/// missed is ended by the sweeper once its anchor falls silent.
pub async fn delete_user<S: DeleteUserStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    by: &Acting,
) -> Result<DeleteUserResponse, ApiError> {
    let now = app.clock.now();
    let audit = audit_entry(app, by, Action::UserDelete, Target::user(&caller.user_id));
    // Held to the caller's standing (a closed account's retry finishes it, whatever it is).
    if !guarded(
        app.store
            .delete_user(&caller.user_id, now, Some(&audit), guard(caller))
            .await,
    )? {
        return Err(no_user());
    }
    let rooms_ended = crate::rooms::end_rooms_of(app, caller).await?;
    Ok(DeleteUserResponse {
        code: 200,
        user_id: caller.user_id.to_string(),
        rooms_ended,
    })
}

/// `POST /api/v1/live/user`: a user's profile ([`user`]).
pub struct User;

impl Handler for User {
    const ENDPOINT: Endpoint = Endpoint::new("user", &[Route::post("/api/v1/live/user")])
        .with_needs(USER_QUERY_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let caller = authenticate(app, &req)?;
        let body = parse_optional_body(app, Self::ENDPOINT, &req)?;
        json(&user(app, &caller, body).await?)
    }
}

/// `POST /api/v1/live/updateUser`: the caller's nick and avatar ([`update_user`]).
pub struct UpdateUser;

impl Handler for UpdateUser {
    const ENDPOINT: Endpoint =
        Endpoint::new("update-user", &[Route::post("/api/v1/live/updateUser")])
            .with_needs(UPDATE_USER_NEEDS)
            .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&update_user(app, &caller, body).await?)
    }
}

/// `POST /api/v1/live/deleteUser`: the caller's account, gone ([`delete_user`]).
pub struct DeleteUser;

impl Handler for DeleteUser {
    const ENDPOINT: Endpoint =
        Endpoint::new("delete-user", &[Route::post("/api/v1/live/deleteUser")])
            .with_needs(DELETE_USER_NEEDS)
            .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let caller = authenticate(app, &req)?;
        let _: serde::de::IgnoredAny = parse_optional_body(app, Self::ENDPOINT, &req)?;
        let by = acting(&caller, Source::User, &req);
        json(&delete_user(app, &caller, &by).await?)
    }
}
