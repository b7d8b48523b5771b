//! Becoming a user and logging in (SPEC §3): `register`, `login` (password) and `signature`
//! (seed 004's signed login), with the passwords' hashing on the blocking pool.
//!
//! Never here: the counting of attempts (`throttle`), or a session once issued (`sessions`).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use lambda_http::Request;
use md5::{Digest, Md5};
use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::sessions::{AuthResponse, issue_pair};
use super::throttle::{admit, login_counters, registration_counters, succeeded};
use super::users::UserInfo;
use crate::App;
use crate::auth::Session;
use crate::domain::user::{SignatureSalt, User};
use crate::domain::{FieldError, ImageUrl, Nick, Password, UserId, Username};
use crate::endpoint::{Endpoint, Handler, Route, json, parse_body, source_ip};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::room_change::invalid;
use crate::store::Store;
use crate::store::StoreError;

crate::needs!(
    /// `register`: looks the name up, counts the registration, then claims the name with the
    /// user in one transaction.
    RegisterStore,
    REGISTER_NEEDS: UserRead,
    LoginThrottle,
    UserWrite
);
crate::needs!(
    /// `login`: the throttle counters, the user, a failure counted.
    LoginStore,
    LOGIN_NEEDS: LoginThrottle,
    UserRead
);
crate::needs!(
    /// `signature`: as `login`, plus the nonce's claim.
    SignatureStore,
    SIGNATURE_NEEDS: LoginThrottle,
    UserRead,
    NonceClaim
);

/// A signature login's `ts` may be this far from the server's clock, either way.
pub const SIGNATURE_MAX_SKEW_SECS: i64 = 300;

#[derive(Debug, Deserialize)]
pub struct RegisterRequest {
    pub username: String,
    /// Required unless `salt` is given (a user of an app's own user system may have none).
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub nick: Option<String>,
    #[serde(default)]
    pub avatar: Option<String>,
    /// The key of signature logins (seed 004), 32 to 256 characters.
    #[serde(default)]
    pub salt: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// `signature` (seed 004 `oauth/signature`): `signature = md5("{username}-{tag}-{ts}-{nonce}-{salt}")`.
#[derive(Debug, Deserialize)]
pub struct SignatureRequest {
    pub username: String,
    #[serde(default)]
    pub tag: Option<String>,
    /// Unix seconds or milliseconds, a number or a numeric string, exactly as signed.
    pub ts: Value,
    pub nonce: String,
    pub signature: String,
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

/// Registers a user. Registrations are counted per source address and in all
/// ([`registration_counters`]) after the request is found well formed and its name free, before
/// the password is hashed (or the account made).
pub async fn register<S: RegisterStore + ?Sized>(
    app: &App<S>,
    req: RegisterRequest,
    source: Option<&str>,
) -> Result<UserInfo, ApiError> {
    let username = Username::parse(&req.username).map_err(invalid)?;
    if app.config.reserves(username.as_str()) {
        return Err(invalid(FieldError::new("username", "is reserved")));
    }
    let salt = req
        .salt
        .as_deref()
        .map(SignatureSalt::parse)
        .transpose()
        .map_err(invalid)?;
    let password = match (req.password, &salt) {
        (Some(p), _) => Some(Password::parse(p).map_err(invalid)?),
        (None, Some(_)) => None,
        (None, None) => {
            return Err(invalid(FieldError::new(
                "password",
                "is required (unless the user signs in by signature: then give a salt)",
            )));
        }
    };
    let nick = match req.nick.as_deref() {
        Some(n) => Nick::parse("nick", n).map_err(invalid)?,
        None => Nick::parse("nick", username.as_str()).unwrap_or_else(|_| Nick::empty()),
    };
    let avatar = match req.avatar.as_deref() {
        Some(a) => ImageUrl::parse("avatar", a).map_err(invalid)?,
        None => ImageUrl::empty(),
    };
    // Cheap rejection before the expensive hash; the conditional write below is the real rule.
    if app.store.user_by_username(&username).await?.is_some() {
        return Err(username_taken());
    }
    admit(app, registration_counters(app, source), "registrations").await?;
    let password_hash = match password {
        Some(p) => hash_password(app, p).await?,
        None => String::new(),
    };
    let user = User {
        id: UserId::from(&username),
        username,
        password_hash,
        nick,
        avatar,
        created_at: app.clock.now(),
        salt,
        sessions: 0,
        deleted_at: None,
        roles: Default::default(),
        disabled: None,
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
    source: Option<&str>,
) -> Result<AuthResponse, ApiError> {
    let username = Username::parse(&req.username).ok();
    let counters = login_counters(app, username.as_ref(), source);
    let attempt = admit(app, counters, "failed logins").await?;
    // Malformed credentials fail like wrong ones, after the same work.
    let password = Password::parse(req.password).ok();
    let user = match &username {
        Some(username) => app.store.user_by_username(username).await?,
        None => None,
    }
    .filter(|u| !u.is_deleted() && !u.password_hash.is_empty());
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = match password {
        Some(password) => verify_password(app, password, hash).await?,
        None => {
            verify_password(app, Password::parse("x".repeat(8)).map_err(invalid)?, None).await?;
            false
        }
    };
    match user {
        Some(user) if ok => {
            succeeded(app, &attempt).await;
            refuse_disabled(&user)?;
            issue_pair(app, &user.id, &Session::begin(user.sessions))
        }
        _ => Err(login_failed()),
    }
}

/// The text `ts` was signed as, and the instant it names (unix seconds).
fn signed_ts(ts: &Value) -> Result<(String, i64), FieldError> {
    let text = match ts {
        Value::Number(n) if n.as_u64().is_some() => n.to_string(),
        Value::String(s)
            if (1..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            s.clone()
        }
        _ => {
            return Err(FieldError::new(
                "ts",
                "must be unix seconds or milliseconds, as a whole number or a string of digits",
            ));
        }
    };
    let value: i64 = text
        .parse()
        .map_err(|_| FieldError::new("ts", "is out of range"))?;
    // Milliseconds from 2001 on are 13 digits; seconds stay 10 digits until the year 2286.
    let secs = if value >= 1_000_000_000_000 {
        value / 1000
    } else {
        value
    };
    Ok((text, secs))
}

/// A nonce: 1 to 128 printable ASCII characters.
fn check_nonce(nonce: &str) -> Result<(), FieldError> {
    if (1..=128).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(FieldError::new(
            "nonce",
            "must be 1 to 128 printable ASCII characters",
        ))
    }
}

fn signature_invalid() -> ApiError {
    ApiError::new(
        ErrorCode::UserSignatureInvalid,
        "the signature does not verify for this username",
    )
}

/// seed 004's `md5("{username}-{tag}-{ts}-{nonce}-{salt}")`, lowercase hex.
pub fn login_signature(username: &str, tag: &str, ts: &str, nonce: &str, salt: &str) -> String {
    hex::encode(Md5::digest(
        format!("{username}-{tag}-{ts}-{nonce}-{salt}").as_bytes(),
    ))
}

/// Signature login (seed 004) with what it lacks: `ts` within ±300 s of the server's clock and
/// every nonce good once. The signature is checked first, so only the holder of the salt can
/// spend a nonce or learn that a `ts` is stale.
pub async fn signature<S: SignatureStore + ?Sized>(
    app: &App<S>,
    req: SignatureRequest,
    source: Option<&str>,
) -> Result<AuthResponse, ApiError> {
    // The request's shape first: a malformed one is refused without counting an attempt.
    let (ts_text, ts) = signed_ts(&req.ts).map_err(invalid)?;
    check_nonce(&req.nonce).map_err(invalid)?;
    let tag = req.tag.unwrap_or_default();
    if tag.chars().count() > 128 {
        return Err(invalid(FieldError::new(
            "tag",
            "must be at most 128 characters",
        )));
    }
    let username = Username::parse(&req.username).ok();
    let counters = login_counters(app, username.as_ref(), source);
    let attempt = admit(app, counters, "failed logins").await?;
    let user = match &username {
        Some(name) => app.store.user_by_username(name).await?,
        None => None,
    }
    .filter(|u| !u.is_deleted());
    let Some((user, salt)) = user.and_then(|u| u.salt.clone().map(|salt| (u, salt))) else {
        return Err(signature_invalid());
    };
    // Signed with the name as the app sent it (its own user system's spelling).
    let expected = login_signature(&req.username, &tag, &ts_text, &req.nonce, salt.expose());
    let given = req.signature.to_ascii_lowercase();
    if !bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        return Err(signature_invalid());
    }
    let now = app.clock.now().timestamp();
    if (now - ts).abs() > SIGNATURE_MAX_SKEW_SECS {
        let err = ApiError::new(
            ErrorCode::UserSignatureInvalid,
            format!("ts must be within {SIGNATURE_MAX_SKEW_SECS} s of the server's clock"),
        )
        .with_detail("server_time", now);
        return Err(err);
    }
    // Kept until no `ts` it could be signed with is fresh any more.
    let keep_until = ts.max(now) + SIGNATURE_MAX_SKEW_SECS + 60;
    if !app
        .store
        .claim_nonce(&user.id, &req.nonce, now, keep_until)
        .await?
    {
        let err = ApiError::new(
            ErrorCode::UserNonceConsumed,
            "this nonce was used already; sign again with a new one",
        );
        return Err(err);
    }
    succeeded(app, &attempt).await;
    refuse_disabled(&user)?;
    issue_pair(app, &user.id, &Session::begin(user.sessions))
}

/// 403 `UserDisabled` for an account an operator disabled: said only to a caller who proved
/// they hold it (a wrong password is refused as ever, saying nothing of the account).
fn refuse_disabled(user: &User) -> Result<(), ApiError> {
    match &user.disabled {
        None => Ok(()),
        Some(_) => Err(ApiError::new(
            ErrorCode::UserDisabled,
            "this account has been disabled by an operator",
        )),
    }
}

/// `POST /api/v1/live/register`: a new account ([`register`]).
pub struct Register;

impl Handler for Register {
    const ENDPOINT: Endpoint = Endpoint::new("register", &[Route::post("/api/v1/live/register")])
        .with_needs(REGISTER_NEEDS)
        .without_token();

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let body = parse_body(app, Self::ENDPOINT, &req)?;
        json(&register(app, body, source_ip(&req).as_deref()).await?)
    }
}

/// `POST /login` and `POST /api/v1/live/login`: a session for a password ([`login`]).
pub struct Login;

impl Handler for Login {
    const ENDPOINT: Endpoint = Endpoint::new(
        "login",
        &[Route::post("/login"), Route::post("/api/v1/live/login")],
    )
    .with_needs(LOGIN_NEEDS)
    .without_token()
    .with_secrets(SecretGroups::ISSUING);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let body = parse_body(app, Self::ENDPOINT, &req)?;
        json(&login(app, body, source_ip(&req).as_deref()).await?)
    }
}

/// `POST /api/v1/live/signature`: a session for a signed user id ([`signature`]).
pub struct SignatureLogin;

impl Handler for SignatureLogin {
    const ENDPOINT: Endpoint =
        Endpoint::new("signature-login", &[Route::post("/api/v1/live/signature")])
            .with_needs(SIGNATURE_NEEDS)
            .with_secrets(SecretGroups::ISSUING)
            .without_token();

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let body = parse_body(app, Self::ENDPOINT, &req)?;
        json(&signature(app, body, source_ip(&req).as_deref()).await?)
    }
}
