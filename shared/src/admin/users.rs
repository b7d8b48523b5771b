//! Accounts as an operator sees them: the listing (`users`), disabling one (every session
//! ended at once, logins refused, its open rooms stopped with the reason), enabling it again,
//! and an admin setting its roles.
//!
//! Rules: nobody disables themself; only an admin disables an admin (by stored role or
//! `ADMIN_USERS`); an `ADMIN_USERS` account is always admin, whatever its stored roles.
//!
//! Never here: how a disabled account is refused (`room_change::standing`, `accounts`).

use std::collections::BTreeSet;

use lambda_http::Request;
use serde::{Deserialize, Serialize};

use super::rooms::stop_room;
use super::{invalid, optional_reason, reason};
use crate::App;
use crate::domain::audit::{Action, ActorKind, Target};
use crate::domain::operator::{AccountChange, Disabled, KeyId, Reason, Role, Scope};
use crate::domain::user::User;
use crate::domain::{FieldError, Page, UserId};
use crate::endpoint::{Endpoint, Handler, Route, json};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::operator::{Operator, operated};
use crate::store::{Store, StoreError};

/// A user as operators see it.
#[derive(Debug, Serialize)]
pub struct AdminUser {
    pub id: String,
    pub username: String,
    pub nick: String,
    pub avatar: String,
    pub created_at: String,
    /// Stored roles, and `admin` for `ADMIN_USERS`.
    pub roles: Vec<&'static str>,
    pub disabled: bool,
    pub disabled_reason: Option<String>,
}

fn shown<S: ?Sized>(app: &App<S>, user: &User) -> AdminUser {
    AdminUser {
        id: user.id.to_string(),
        username: user.username.to_string(),
        nick: user.nick.to_string(),
        avatar: user.avatar.to_string(),
        created_at: crate::clock::rfc3339(&user.created_at),
        roles: roles_of(app, user).iter().map(|r| r.name()).collect(),
        disabled: user.disabled.is_some(),
        disabled_reason: user.disabled.as_ref().map(|d| d.reason.as_str().to_owned()),
    }
}

fn roles_of<S: ?Sized>(app: &App<S>, user: &User) -> BTreeSet<Role> {
    let mut roles = user.roles.clone();
    if app.config.admin_users.contains(&user.id) {
        roles.insert(Role::Admin);
    }
    roles
}

fn no_user() -> ApiError {
    ApiError::new(ErrorCode::UserNotExists, "no such user")
}

/// `users {page_num, page_size, prefix?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsersRequest {
    pub page_num: i64,
    pub page_size: i64,
    #[serde(default)]
    pub prefix: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct UsersResponse {
    pub users: Vec<AdminUser>,
}

crate::needs!(
    /// `users`: the operator, then one listing read.
    UsersStore,
    USERS_NEEDS: SessionRead,
    KeyRead,
    KeyTouch,
    UserList
);

/// `POST /api/v1/admin/users`: accounts by username, in its order.
pub struct AdminUsers;

impl Handler for AdminUsers {
    const ENDPOINT: Endpoint = Endpoint::new("admin-users", &[Route::post("/api/v1/admin/users")])
        .with_needs(USERS_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (_, body): (_, UsersRequest) =
            operated(app, Self::ENDPOINT, &req, Scope::UsersRead).await?;
        let page = Page::parse(body.page_num, body.page_size).map_err(invalid)?;
        let prefix = body.prefix.unwrap_or_default();
        if prefix.chars().count() > 64 || prefix.chars().any(char::is_control) {
            return Err(invalid(FieldError::new(
                "prefix",
                "must be at most 64 characters, no control characters",
            )));
        }
        let users = app
            .store
            .users(&prefix, page.offset as usize, page.size as usize)
            .await?;
        json(&UsersResponse {
            users: users.iter().map(|u| shown(app, u)).collect(),
        })
    }
}

/// `disableUser {user_id, reason}`, `enableUser {user_id, reason?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserActionRequest {
    pub user_id: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `setRoles {user_id, roles}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRolesRequest {
    pub user_id: String,
    pub roles: Vec<String>,
}

crate::needs!(
    /// `disableUser`, `enableUser`, `setRoles`: the operator, the account's change with its
    /// audit entry (and, to disable, the account's open rooms stopped).
    AccountStore,
    ACCOUNT_NEEDS: SessionRead,
    KeyRead,
    KeyTouch,
    UserRead,
    UserAdmin,
    KeyList
);

crate::needs!(
    /// `disableUser`: [`AccountStore`], and the account's open rooms stopped.
    DisableStore,
    DISABLE_NEEDS: SessionRead,
    KeyRead,
    KeyTouch,
    UserRead,
    UserAdmin,
    KeyList,
    RoomQuota,
    RoomView,
    RoomUpdate
);

/// Applies `change` to account `id` for `operator`, with its audit entry: never the
/// operator's own account, and an admin's only by an admin (the write holds to it: a moderator
/// changes the account only while it has no stored `admin` role). The account as changed.
async fn change<S: AccountStore + ?Sized>(
    app: &App<S>,
    operator: &Operator,
    id: &UserId,
    change: AccountChange,
    action: Action,
    reason: Option<Reason>,
) -> Result<User, ApiError> {
    let only_admins = || {
        ApiError::new(
            ErrorCode::AdminForbidden,
            "only an admin changes an admin's account",
        )
    };
    if operator.actor.kind == ActorKind::User && operator.actor.id == id.as_str() {
        return Err(
            ApiError::forbidden("an operator does not disable or change themself")
                .with_detail("field", "user_id"),
        );
    }
    if operator.made_by.as_deref() == Some(id.as_str()) {
        return Err(ApiError::forbidden(
            "a key does not change the account of the admin who made it",
        )
        .with_detail("field", "user_id"));
    }

    let mut user = app
        .store
        .user(id)
        .await?
        .filter(|u| !u.is_deleted())
        .ok_or_else(no_user)?;
    let was_admin = roles_of(app, &user).contains(&Role::Admin);
    if was_admin && !operator.is_admin() {
        return Err(only_admins());
    }
    if matches!(change, AccountChange::Disable(_)) && app.config.admin_users.contains(id) {
        // ADMIN_USERS is the way back in: no API call locks it out.
        return Err(ApiError::new(
            ErrorCode::AdminForbidden,
            "an account of ADMIN_USERS is not disabled through the API",
        ));
    }
    let mut audit = operator
        .entry(app, action, Target::user(id))
        .because(reason);
    if let AccountChange::Roles(roles) = &change {
        audit = audit.detail("roles", roles.iter().map(|r| r.name()).collect::<Vec<_>>());
    }
    // A key is worth no more than its maker: an account disabled, or an admin no longer one,
    // loses the keys it made, in the same write (one more read, of the keys, only then).
    let demoted = match &change {
        AccountChange::Disable(_) => true,
        AccountChange::Roles(roles) => {
            was_admin && !roles.contains(&Role::Admin) && !app.config.admin_users.contains(id)
        }
        AccountChange::Enable => false,
    };
    let revoked: Vec<KeyId> = if demoted {
        app.store
            .keys()
            .await?
            .into_iter()
            .filter(|k| !k.is_revoked() && k.created_by == id.as_str())
            .map(|k| k.key_id)
            .collect()
    } else {
        Vec::new()
    };
    if !revoked.is_empty() {
        audit = audit.detail(
            "keys_revoked",
            revoked.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        );
    }
    match app
        .store
        .change_account(id, &change, !operator.is_admin(), &audit, &revoked)
        .await
    {
        // The answer is the account as read, changed as written.
        Ok(true) => {
            change.apply(&mut user);
            Ok(user)
        }
        Ok(false) => Err(no_user()),
        Err(StoreError::Conflict) => Err(only_admins()),
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/v1/admin/disableUser`: every session of the account ends at once, its logins
/// are refused, and its rooms that have not ended are stopped with the reason.
pub struct AdminDisableUser;

impl Handler for AdminDisableUser {
    const ENDPOINT: Endpoint = Endpoint::new(
        "admin-disable-user",
        &[Route::post("/api/v1/admin/disableUser")],
    )
    .with_needs(DISABLE_NEEDS)
    .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (op, body): (_, UserActionRequest) =
            operated(app, Self::ENDPOINT, &req, Scope::UsersWrite).await?;
        let id = UserId::parse("user_id", &body.user_id).map_err(invalid)?;
        let reason = reason(body.reason.as_deref())?;
        let disabled = Disabled {
            at: app.clock.now(),
            reason: reason.clone(),
        };
        let user = change(
            app,
            &op,
            &id,
            AccountChange::Disable(disabled),
            Action::UserDisable,
            Some(reason.clone()),
        )
        .await?;
        stop_rooms_of(app, &op, &id, &reason).await?;
        json(&shown(app, &user))
    }
}

/// Stops every room of `user` not known to have ended (a failure is left to a retry of the
/// call, and to the sweeper once the anchor falls silent).
async fn stop_rooms_of<S: DisableStore + ?Sized>(
    app: &App<S>,
    op: &Operator,
    user: &UserId,
    reason: &crate::domain::operator::Reason,
) -> Result<(), ApiError> {
    let (_, tally) = app.store.user_tally(user).await?;
    for id in &tally.open {
        match stop_room(app, op, id, reason).await {
            Ok(_) => {}
            Err(e) if e.code == ErrorCode::RoomNotExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `POST /api/v1/admin/enableUser`: the account may log in again (its old sessions stay
/// ended).
pub struct AdminEnableUser;

impl Handler for AdminEnableUser {
    const ENDPOINT: Endpoint = Endpoint::new(
        "admin-enable-user",
        &[Route::post("/api/v1/admin/enableUser")],
    )
    .with_needs(ACCOUNT_NEEDS)
    .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (op, body): (_, UserActionRequest) =
            operated(app, Self::ENDPOINT, &req, Scope::UsersWrite).await?;
        let id = UserId::parse("user_id", &body.user_id).map_err(invalid)?;
        let reason = optional_reason(body.reason.as_deref())?;
        let user = change(
            app,
            &op,
            &id,
            AccountChange::Enable,
            Action::UserEnable,
            reason,
        )
        .await?;
        json(&shown(app, &user))
    }
}

/// `POST /api/v1/admin/setRoles`: an admin sets an account's stored roles.
pub struct AdminSetRoles;

impl Handler for AdminSetRoles {
    const ENDPOINT: Endpoint =
        Endpoint::new("admin-set-roles", &[Route::post("/api/v1/admin/setRoles")])
            .with_needs(ACCOUNT_NEEDS)
            .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (op, body): (_, SetRolesRequest) =
            operated(app, Self::ENDPOINT, &req, Scope::Admin).await?;
        let id = UserId::parse("user_id", &body.user_id).map_err(invalid)?;
        if body.roles.len() > Role::ALL.len() {
            return Err(invalid(FieldError::new(
                "roles",
                "has more roles than there are",
            )));
        }
        let roles = body
            .roles
            .iter()
            .map(|r| Role::parse(r))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(invalid)?;
        let user = change(
            app,
            &op,
            &id,
            AccountChange::Roles(roles),
            Action::UserRoles,
            None,
        )
        .await?;
        json(&shown(app, &user))
    }
}
