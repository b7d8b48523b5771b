//! Accounts (SPEC §3): register, login, refresh.
//!
//! Passwords are hashed with argon2id on the blocking pool, at most a few at a time (each hash
//! takes ~19 MiB and tens of milliseconds of CPU, so an unbounded flood of logins must queue, not
//! exhaust memory). A failed login says nothing about whether the username exists, and takes
//! as long either way.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::auth::{IssuedToken, TokenKind};
use crate::domain::user::User;
use crate::domain::{FieldError, ImageUrl, Nick, Password, Username};
use crate::error::{ApiError, ErrorCode};
use crate::store::StoreError;

crate::needs!(
    /// `register`: looks the name up, then claims it with the user in one transaction.
    RegisterStore,
    REGISTER_NEEDS: UserRead,
    UserWrite
);
crate::needs!(
    /// `login` and `refresh`: reads users only.
    LoginStore,
    LOGIN_NEEDS: UserRead
);

#[derive(Debug, Deserialize)]
pub struct RegisterRequest {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub nick: Option<String>,
    #[serde(default)]
    pub avatar: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: String,
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

impl From<&User> for UserInfo {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.to_string(),
            nick: user.nick.to_string(),
            avatar: user.avatar.to_string(),
            created_at: crate::clock::rfc3339(&user.created_at),
        }
    }
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

fn bad(e: FieldError) -> ApiError {
    e.into_api(ErrorCode::SystemVerifyError)
}

fn login_failed() -> ApiError {
    ApiError::new(ErrorCode::UserLoginFailed, "wrong username or password")
}

/// Hashes on the blocking pool, holding one of the app's KDF permits.
async fn hash_password<S: ?Sized>(app: &App<S>, password: Password) -> Result<String, ApiError> {
    let _permit = app
        .kdf_permits()
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(ApiError::internal)?;
        let salt = SaltString::encode_b64(&salt).map_err(ApiError::internal)?;
        Argon2::default()
            .hash_password(password.expose(), &salt)
            .map(|h| h.to_string())
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

/// A valid hash of a password nobody has, so that a login for an unknown username does the
/// same work as one for a known username.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::encode_b64(b"liveroom-decoy!!").ok();
        salt.and_then(|salt| {
            Argon2::default()
                .hash_password(b"decoy password", &salt)
                .ok()
                .map(|h| h.to_string())
        })
        .unwrap_or_default()
    })
}

async fn verify_password<S: ?Sized>(
    app: &App<S>,
    password: Password,
    hash: Option<String>,
) -> Result<bool, ApiError> {
    let _permit = app
        .kdf_permits()
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| decoy_hash().to_owned());
        let parsed = PasswordHash::new(&hash).map_err(ApiError::internal)?;
        let ok = Argon2::default()
            .verify_password(password.expose(), &parsed)
            .is_ok();
        Ok(known && ok)
    })
    .await
    .map_err(ApiError::internal)?
}

pub async fn register<S: RegisterStore + ?Sized>(
    app: &App<S>,
    req: RegisterRequest,
) -> Result<UserInfo, ApiError> {
    let username = Username::parse(&req.username).map_err(bad)?;
    let password = Password::parse(req.password).map_err(bad)?;
    let nick = match req.nick.as_deref() {
        Some(n) => Nick::parse("nick", n).map_err(bad)?,
        None => Nick::parse("nick", username.as_str()).unwrap_or_else(|_| Nick::empty()),
    };
    let avatar = match req.avatar.as_deref() {
        Some(a) => ImageUrl::parse("avatar", a).map_err(bad)?,
        None => ImageUrl::empty(),
    };
    // Cheap rejection before the expensive hash; the conditional write below is the real rule.
    if app.store.user_by_username(&username).await?.is_some() {
        return Err(username_taken());
    }
    let user = User {
        id: crate::domain::UserId::generate(),
        username,
        password_hash: hash_password(app, password).await?,
        nick,
        avatar,
        created_at: app.clock.now(),
    };
    match app.store.insert_user(&user).await {
        Ok(()) => Ok(UserInfo::from(&user)),
        Err(StoreError::Conflict) => Err(username_taken()),
        Err(e) => Err(e.into()),
    }
}

fn username_taken() -> ApiError {
    ApiError::new(ErrorCode::UserAlreadyExists, "that username is taken")
        .with_detail("field", "username")
}

pub async fn login<S: LoginStore + ?Sized>(
    app: &App<S>,
    req: LoginRequest,
) -> Result<AuthResponse, ApiError> {
    // Malformed credentials fail like wrong ones, after the same work.
    let password = Password::parse(req.password).ok();
    let user = match Username::parse(&req.username) {
        Ok(username) => app.store.user_by_username(&username).await?,
        Err(_) => None,
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = match password {
        Some(password) => verify_password(app, password, hash).await?,
        None => {
            verify_password(app, Password::parse("x".repeat(8)).map_err(bad)?, None).await?;
            false
        }
    };
    match user {
        Some(user) if ok => issue_pair(app, &user.id),
        _ => Err(login_failed()),
    }
}

pub async fn refresh<S: LoginStore + ?Sized>(
    app: &App<S>,
    req: RefreshRequest,
) -> Result<AuthResponse, ApiError> {
    let caller = app
        .tokens
        .verify(&req.refresh_token, TokenKind::Refresh, app.clock.now())?;
    // A refresh token outlives its user only if the user was removed; then it is useless.
    if app.store.user(&caller.user_id).await?.is_none() {
        return Err(ApiError::new(
            ErrorCode::UserNotExists,
            "the user no longer exists",
        ));
    }
    issue_pair(app, &caller.user_id)
}

pub(crate) fn issue_pair<S: ?Sized>(
    app: &App<S>,
    user: &crate::domain::UserId,
) -> Result<AuthResponse, ApiError> {
    let now = app.clock.now();
    let IssuedToken { token, expires_at } =
        app.tokens
            .issue(user, TokenKind::Access, now, app.config.access_token_ttl)?;
    let refresh = app
        .tokens
        .issue(user, TokenKind::Refresh, now, app.config.refresh_token_ttl)?;
    Ok(AuthResponse {
        code: 200,
        token,
        expire: crate::clock::rfc3339(&expires_at),
        refresh_token: refresh.token,
        refresh_expire: crate::clock::rfc3339(&refresh.expires_at),
        user_id: user.to_string(),
    })
}
