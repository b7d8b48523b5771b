//! Sessions (SPEC §3): the token pair a login issues, `refresh`, seed 004's token login
//! (`renew`) and `logout`. Whether a session still stands is `room_change::standing` (every
//! endpoint that signs asks it).
//!
//! Never here: a login's checks (`login`), or a user's profile (`users`).

use lambda_http::Request;
use serde::{Deserialize, Serialize};

use super::users::UserInfo;
use crate::App;
use crate::auth::{Caller, IssuedToken, Session, TokenKind};
use crate::domain::UserId;
use crate::domain::audit::{Acting, Action, Source, Target};
use crate::endpoint::{
    Endpoint, Handler, Route, authenticate, json, parse_body, parse_optional_body,
};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::operator::{acting, audit_entry};
use crate::room_change::{guard, guarded, live_session};
use crate::store::Store;

crate::needs!(
    /// `refresh`: the user and the session's end, in one read.
    RefreshStore,
    REFRESH_NEEDS: SessionRead
);
crate::needs!(
    /// `logout`: one write.
    LogoutStore,
    LOGOUT_NEEDS: SessionWrite
);

#[derive(Debug, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct LogoutRequest {
    /// End every session of the user, not only this one.
    #[serde(default)]
    pub all: bool,
}

/// The login answer (seed 002 `auth.authResponse` plus `refresh_token` and `user_id`).
#[derive(Debug, Serialize)]
pub struct AuthResponse {
    pub code: u16,
    pub token: String,
    pub expire: String,
    pub refresh_token: String,
    pub refresh_expire: String,
    pub user_id: String,
}

/// `logout`'s answer.
#[derive(Debug, Serialize)]
pub struct LogoutResponse {
    pub code: u16,
    /// `"session"` or `"all"`: what was ended.
    pub ended: &'static str,
    /// Until when access tokens already issued keep working (their expiry at the latest).
    pub access_tokens_valid_until: String,
}

pub async fn refresh<S: RefreshStore + ?Sized>(
    app: &App<S>,
    req: RefreshRequest,
) -> Result<AuthResponse, ApiError> {
    let caller = app
        .tokens
        .verify(&req.refresh_token, TokenKind::Refresh, app.clock.now())?;
    live_session(app, &caller).await?;
    issue_pair(app, &caller.user_id, &caller.session)
}

/// Seed 004's token login (`user_login_token`): the caller's session, checked as `refresh`
/// checks it, renewed with a new pair; and the caller's profile.
pub async fn renew<S: RefreshStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
) -> Result<(UserInfo, AuthResponse), ApiError> {
    let user = live_session(app, caller).await?;
    Ok((
        UserInfo::from(&user),
        issue_pair(app, &caller.user_id, &caller.session)?,
    ))
}

pub async fn logout<S: LogoutStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    by: &Acting,
    req: LogoutRequest,
) -> Result<LogoutResponse, ApiError> {
    let now = app.clock.now();
    let ttl = |d: std::time::Duration| chrono::Duration::from_std(d).map_err(ApiError::internal);
    if req.all {
        let audit = audit_entry(
            app,
            by,
            Action::UserLogoutAll,
            Target::user(&caller.user_id),
        );
        // Held to the caller's standing: a disabled account's token ends nothing (401).
        if !guarded(
            app.store
                .end_all_sessions(&caller.user_id, Some(&audit), guard(caller))
                .await,
        )? {
            return Err(ApiError::new(
                ErrorCode::UserNotExists,
                "the user no longer exists",
            ));
        }
    } else {
        // Remembered until the session's last refresh token has expired anyway.
        let until = (now + ttl(app.config.refresh_token_ttl)?).timestamp();
        guarded(
            app.store
                .end_session(&caller.user_id, &caller.session.id, until, guard(caller))
                .await,
        )?;
    }
    // Every route refuses the tokens of a generation ended by `logout {all}` at once; a
    // session's own logout reaches the calls that sign, and the others take its access
    // tokens until they expire.
    let valid_until = if req.all {
        now
    } else {
        now + ttl(app.config.access_token_ttl)?
    };
    Ok(LogoutResponse {
        code: 200,
        ended: if req.all { "all" } else { "session" },
        access_tokens_valid_until: crate::clock::rfc3339(&valid_until),
    })
}

pub(crate) fn issue_pair<S: ?Sized>(
    app: &App<S>,
    user: &UserId,
    session: &Session,
) -> Result<AuthResponse, ApiError> {
    let now = app.clock.now();
    let IssuedToken { token, expires_at } = app.tokens.issue_in(
        user,
        session,
        TokenKind::Access,
        now,
        app.config.access_token_ttl,
    )?;
    let refresh = app.tokens.issue_in(
        user,
        session,
        TokenKind::Refresh,
        now,
        app.config.refresh_token_ttl,
    )?;
    Ok(AuthResponse {
        code: 200,
        token,
        expire: crate::clock::rfc3339(&expires_at),
        refresh_token: refresh.token,
        refresh_expire: crate::clock::rfc3339(&refresh.expires_at),
        user_id: user.to_string(),
    })
}

/// The upstream AUI AppServer's refresh routes (gin-jwt's `RefreshHandler`, Go server
/// 3cffd72 `cmd/main.go`): the token comes in the `Authorization: Bearer` header, here our
/// refresh token (an access token refreshes nothing).
pub const REFRESH_TOKEN_PATHS: [&str; 2] = ["/api/v1/live/refresh_token", "/auth/refresh_token"];

/// `POST /api/v1/live/refresh` (the refresh token in the body), and the upstream's `POST
/// /api/v1/live/refresh_token` and `GET /auth/refresh_token` (in the Bearer header): a new
/// pair for a refresh token ([`refresh`]).
pub struct Refresh;

impl Handler for Refresh {
    const ENDPOINT: Endpoint = Endpoint::new(
        "refresh",
        &[
            Route::post("/api/v1/live/refresh"),
            Route::post(REFRESH_TOKEN_PATHS[0]),
            Route::get(REFRESH_TOKEN_PATHS[1]),
        ],
    )
    .with_needs(REFRESH_NEEDS)
    .with_secrets(SecretGroups::ISSUING)
    // A refresh token, not an access token (its session is checked all the same).
    .without_token();

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let body = if REFRESH_TOKEN_PATHS.contains(&crate::endpoint::routed_path(req.uri().path()))
        {
            RefreshRequest {
                refresh_token: crate::auth::bearer(req.headers())?.to_owned(),
            }
        } else {
            parse_body(app, Self::ENDPOINT, &req)?
        };
        json(&refresh(app, body).await?)
    }
}

/// `POST /api/v1/live/logout`: ends the caller's session ([`logout`]).
pub struct Logout;

impl Handler for Logout {
    const ENDPOINT: Endpoint = Endpoint::new("logout", &[Route::post("/api/v1/live/logout")])
        .with_needs(LOGOUT_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let caller = authenticate(app, &req)?;
        let body = parse_optional_body(app, Self::ENDPOINT, &req)?;
        let by = acting(&caller, Source::User, &req);
        json(&logout(app, &caller, &by, body).await?)
    }
}
