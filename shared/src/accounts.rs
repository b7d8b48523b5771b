//! Accounts (SPEC §3): register, login (password or signature), refresh, logout, and the
//! user's own profile (query, update, delete).
//!
//! Passwords are hashed with argon2id on the blocking pool, at most a few at a time (each hash
//! takes ~19 MiB and tens of milliseconds of CPU, so an unbounded flood of logins must queue, not
//! exhaust memory). A failed login says nothing about whether the username exists, and takes
//! as long either way. Failed logins are counted in the store (so the limits hold across Lambda
//! instances) per source address, per username from that address, and per username from every
//! address; registrations per source address and in all. Past a limit the attempts it covers
//! are 429 until the window ends, a correct password included.
//!
//! Sessions: every token names its session (`sid`) and the user's session generation. `logout`
//! ends one session (its refresh tokens are refused from then on), `logout {all}` and
//! `deleteUser` bump the generation (every earlier refresh token is refused). Both are checked
//! where a session is renewed (`refresh`, `token`) and wherever a vendor credential or URL is
//! signed ([`standing`], read in the same one read as the endpoint's own), and nowhere else: an
//! ordinary call that signs nothing costs no read, and its access token lives out its
//! `ACCESS_TOKEN_TTL_SECONDS`.

use std::net::IpAddr;
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::App;
use crate::auth::{Caller, IssuedToken, Session, TokenKind};
use crate::domain::user::{SignatureSalt, User as Account};
use crate::domain::{FieldError, ImageUrl, Nick, Password, UserId, Username};
use crate::error::{ApiError, ErrorCode};
use crate::store::{Counter, SessionFound, StoreError};
use lambda_http::Request;

use crate::endpoint::{
    Endpoint, Handler, Route, Visitor, authenticate, authenticated, json, parse_body,
    parse_optional_body, source_ip,
};
use crate::env::SecretGroups;
use crate::store::Store;

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
crate::needs!(
    /// `user`: one read.
    UserQueryStore,
    USER_QUERY_NEEDS: UserRead
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

/// Failed logins and registrations are counted in windows of this many seconds.
pub const THROTTLE_WINDOW_SECS: i64 = 60;
/// Failed logins of one username from one source address per window, before that address's
/// logins for it are refused.
pub const MAX_FAILURES_PER_USERNAME_PER_ADDRESS: u64 = 5;
/// Failed logins per source address (IPv6: per /64) per window, over every username.
pub const MAX_FAILURES_PER_ADDRESS: u64 = 30;
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

/// `deleteUser`'s answer.
#[derive(Debug, Serialize)]
pub struct DeleteUserResponse {
    pub code: u16,
    pub user_id: String,
    /// Rooms of the user this call ended (the user's other rooms had ended already).
    pub rooms_ended: u64,
}

fn bad(e: FieldError) -> ApiError {
    ApiError::invalid(ErrorCode::SystemVerifyError, e)
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
    let username = Username::parse(&req.username).map_err(bad)?;
    if app.config.reserves(username.as_str()) {
        return Err(bad(FieldError::new("username", "is reserved")));
    }
    let salt = req
        .salt
        .as_deref()
        .map(SignatureSalt::parse)
        .transpose()
        .map_err(bad)?;
    let password = match (req.password, &salt) {
        (Some(p), _) => Some(Password::parse(p).map_err(bad)?),
        (None, Some(_)) => None,
        (None, None) => {
            return Err(bad(FieldError::new(
                "password",
                "is required (unless the user signs in by signature: then give a salt)",
            )));
        }
    };
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
    admit(app, registration_counters(app, source), "registrations").await?;
    let password_hash = match password {
        Some(p) => hash_password(app, p).await?,
        None => String::new(),
    };
    let user = Account {
        id: UserId::from(&username),
        username,
        password_hash,
        nick,
        avatar,
        created_at: app.clock.now(),
        salt,
        sessions: 0,
        deleted_at: None,
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

// ---- throttling ----------------------------------------------------------------------------

/// The counters an attempt was counted on, in its window.
struct Attempt {
    counters: Vec<Counter>,
    window: i64,
}

/// The address counter of a source address: IPv4 as is, IPv6 by its /64 (one host owns a /64).
/// A request without one (none in production: API Gateway and the local server always give
/// one) counts as one shared unknown address, so it cannot escape the address limits.
fn address_counter(source: Option<&str>) -> String {
    let Some(ip) = source.and_then(|s| s.parse::<IpAddr>().ok()) else {
        return "ip:unknown".to_owned();
    };
    match ip {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The count every counter keeps: all the attempts it counted.
const ATTEMPTS: &str = "attempts";

/// A login's counters (password or signature): on its address's record, the address's
/// failures (at most [`MAX_FAILURES_PER_ADDRESS`]) and, among them, this username's (at most
/// [`MAX_FAILURES_PER_USERNAME_PER_ADDRESS`]); on the username's record, its failures from
/// every address together (at most `LOGIN_FAILURES_PER_USER_PER_MINUTE`). A flood from one
/// address uses up only its own counts and at most 5 of the username's: the same user logs in
/// from another address as before. Two records, so a login costs what it did with two
/// counters; the per-username counts sit on the address's record, which only that address's
/// own attempts make grow (many addresses cannot swell one user's record).
fn login_counters<S: ?Sized>(
    app: &App<S>,
    username: Option<&Username>,
    source: Option<&str>,
) -> Vec<Counter> {
    let mut address = Counter {
        key: address_counter(source),
        counts: vec![(ATTEMPTS.to_owned(), MAX_FAILURES_PER_ADDRESS)],
    };
    let Some(name) = username else {
        return vec![address];
    };
    address.counts.push((
        format!("u#{}", name.key()),
        MAX_FAILURES_PER_USERNAME_PER_ADDRESS,
    ));
    let user = Counter {
        key: format!("user:{}", name.key()),
        counts: vec![(
            ATTEMPTS.to_owned(),
            app.config.throttle.login_failures_per_user,
        )],
    };
    vec![address, user]
}

/// A registration's counters: its address's (`REGISTRATIONS_PER_ADDRESS_PER_MINUTE`) and
/// everyone's (`REGISTRATIONS_PER_MINUTE`).
fn registration_counters<S: ?Sized>(app: &App<S>, source: Option<&str>) -> Vec<Counter> {
    let limits = app.config.throttle;
    vec![
        Counter {
            key: format!("reg:{}", address_counter(source)),
            counts: vec![(ATTEMPTS.to_owned(), limits.registrations_per_address)],
        },
        Counter {
            key: "reg:all".to_owned(),
            counts: vec![(ATTEMPTS.to_owned(), limits.registrations)],
        },
    ]
}

/// Counts an attempt on its counters (one conditional atomic add per counter, at once) and
/// refuses it (429, `Retry-After`) when any counter is at its limit — before any password is
/// checked or hashed, so a correct one is refused too. Counting first is what holds the limits
/// under concurrency: of attempts at once, at most the limit are counted, and only counted
/// ones go on. A refused attempt counts nowhere (a counter that took it is given it back), so
/// a flood that is refused uses up nothing but the minute; a login that then succeeds is taken
/// back too ([`succeeded`]): only failures count against the login limits.
async fn admit<S: crate::store::LoginThrottle + ?Sized>(
    app: &App<S>,
    counters: Vec<Counter>,
    what: &str,
) -> Result<Attempt, ApiError> {
    let now = app.clock.now().timestamp();
    let window = now.div_euclid(THROTTLE_WINDOW_SECS);
    let expires_at = (window + 2) * THROTTLE_WINDOW_SECS;
    let counted = app
        .store
        .count_attempt(&counters, window, expires_at)
        .await?;
    if counted.len() == counters.len() && counted.iter().all(|c| *c) {
        return Ok(Attempt { counters, window });
    }
    let given_back: Vec<Counter> = counters
        .into_iter()
        .zip(&counted)
        .filter_map(|(counter, counted)| counted.then_some(counter))
        .collect();
    take_back(app, &given_back, window).await;
    let retry_after = ((window + 1) * THROTTLE_WINDOW_SECS - now).max(1);
    Err(ApiError::new(
        ErrorCode::UserLoginThrottled,
        format!("too many {what}; retry in {retry_after} s"),
    )
    .with_detail("retry_after", retry_after))
}

/// Takes an attempt off `counters`. A counter that cannot be written is logged: the answer
/// stands either way.
async fn take_back<S: crate::store::LoginThrottle + ?Sized>(
    app: &App<S>,
    counters: &[Counter],
    window: i64,
) {
    if counters.is_empty() {
        return;
    }
    if let Err(e) = app.store.forgive_attempt(counters, window).await {
        tracing::warn!(error = %e, "an attempt could not be taken off its counters");
    }
}

/// A login succeeded: its counted attempt is taken back.
async fn succeeded<S: crate::store::LoginThrottle + ?Sized>(app: &App<S>, attempt: &Attempt) {
    take_back(app, &attempt.counters, attempt.window).await;
}

// ---- logins -------------------------------------------------------------------------------

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
            verify_password(app, Password::parse("x".repeat(8)).map_err(bad)?, None).await?;
            false
        }
    };
    match user {
        Some(user) if ok => {
            succeeded(app, &attempt).await;
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
    let (ts_text, ts) = signed_ts(&req.ts).map_err(bad)?;
    check_nonce(&req.nonce).map_err(bad)?;
    let tag = req.tag.unwrap_or_default();
    if tag.chars().count() > 128 {
        return Err(bad(FieldError::new(
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
    issue_pair(app, &user.id, &Session::begin(user.sessions))
}

// ---- sessions -----------------------------------------------------------------------------

fn session_ended() -> ApiError {
    ApiError::new(
        ErrorCode::UserTokenInvalid,
        "the session has ended; log in again",
    )
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

/// The caller's user, if the caller's session still stands: not logged out, not ended by
/// `logout {all}` or `deleteUser`.
pub(crate) async fn live_session<S: RefreshStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
) -> Result<Account, ApiError> {
    let (user, ended) = app
        .store
        .session(&caller.user_id, &caller.session.id)
        .await?;
    // A vouched caller has no session to renew.
    standing(caller, SessionFound { user, ended })?.ok_or_else(session_ended)
}

/// Whether the caller's session still stands, by what one read `found` of it (in the same
/// read as what the caller asked for): 401 `UserTokenInvalid` once a `logout` ended it, a
/// `logout {all}` or `deleteUser` ended every session of its generation, or the user is
/// gone. Every endpoint that signs a vendor credential or URL asks this before signing. The
/// caller's user, or `None` for a caller a vendor vouched for ([`Caller::vouched`]: no session).
pub(crate) fn standing(caller: &Caller, found: SessionFound) -> Result<Option<Account>, ApiError> {
    if caller.expires_at.is_none() {
        return Ok(None);
    }
    // A token outlives its user only if the user was deleted; then it names nobody.
    let Some(user) = found.user.filter(|u| !u.is_deleted()) else {
        return Err(ApiError::new(
            ErrorCode::UserTokenInvalid,
            "the user no longer exists",
        ));
    };
    if found.ended || user.sessions != caller.session.generation {
        return Err(session_ended());
    }
    Ok(Some(user))
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
    req: LogoutRequest,
) -> Result<LogoutResponse, ApiError> {
    let now = app.clock.now();
    let ttl = |d: std::time::Duration| chrono::Duration::from_std(d).map_err(ApiError::internal);
    if req.all {
        if app.store.end_all_sessions(&caller.user_id).await?.is_none() {
            return Err(ApiError::new(
                ErrorCode::UserNotExists,
                "the user no longer exists",
            ));
        }
    } else {
        // Remembered until the session's last refresh token has expired anyway.
        let until = (now + ttl(app.config.refresh_token_ttl)?).timestamp();
        app.store
            .end_session(&caller.user_id, &caller.session.id, until)
            .await?;
    }
    Ok(LogoutResponse {
        code: 200,
        ended: if req.all { "all" } else { "session" },
        access_tokens_valid_until: crate::clock::rfc3339(
            &(now + ttl(app.config.access_token_ttl)?),
        ),
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

// ---- the user's profile -------------------------------------------------------------------

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
    let user = app.store.user(&id).await?.filter(|u| !u.is_deleted());
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
        .map_err(bad)?;
    let avatar = req
        .avatar
        .as_deref()
        .map(|a| ImageUrl::parse("avatar", a))
        .transpose()
        .map_err(bad)?;
    if nick.is_none() && avatar.is_none() {
        return Err(ApiError::new(
            ErrorCode::UserInfoEmpty,
            "nothing to update: give nick or avatar",
        ));
    }
    let user = app
        .store
        .update_profile(&caller.user_id, nick.as_ref(), avatar.as_ref())
        .await?;
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
) -> Result<DeleteUserResponse, ApiError> {
    if !app
        .store
        .delete_user(&caller.user_id, app.clock.now())
        .await?
    {
        return Err(no_user());
    }
    let rooms_ended = crate::rooms::end_rooms_of(app, caller).await?;
    Ok(DeleteUserResponse {
        code: 200,
        user_id: caller.user_id.to_string(),
        rooms_ended,
    })
}

/// This module's endpoints, for the edge's route table.
pub fn endpoints(v: &mut impl Visitor) {
    v.visit::<Register>();
    v.visit::<Login>();
    v.visit::<Refresh>();
    v.visit::<SignatureLogin>();
    v.visit::<Logout>();
    v.visit::<User>();
    v.visit::<UpdateUser>();
    v.visit::<DeleteUser>();
}

/// `POST /api/v1/live/register`: a new account ([`register`]).
pub struct Register;

impl Handler for Register {
    const ENDPOINT: Endpoint = Endpoint::new("register", &[Route::post("/api/v1/live/register")])
        .with_needs(REGISTER_NEEDS);

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
    .with_secrets(SecretGroups::ISSUING);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let body = parse_body(app, Self::ENDPOINT, &req)?;
        json(&login(app, body, source_ip(&req).as_deref()).await?)
    }
}

/// `POST /api/v1/live/refresh`: a new access token for a refresh token ([`refresh`]).
pub struct Refresh;

impl Handler for Refresh {
    const ENDPOINT: Endpoint = Endpoint::new("refresh", &[Route::post("/api/v1/live/refresh")])
        .with_needs(REFRESH_NEEDS)
        .with_secrets(SecretGroups::ISSUING);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let body = parse_body(app, Self::ENDPOINT, &req)?;
        json(&refresh(app, body).await?)
    }
}

/// `POST /api/v1/live/signature`: a session for a signed user id ([`signature`]).
pub struct SignatureLogin;

impl Handler for SignatureLogin {
    const ENDPOINT: Endpoint =
        Endpoint::new("signature-login", &[Route::post("/api/v1/live/signature")])
            .with_needs(SIGNATURE_NEEDS)
            .with_secrets(SecretGroups::ISSUING);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let body = parse_body(app, Self::ENDPOINT, &req)?;
        json(&signature(app, body, source_ip(&req).as_deref()).await?)
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
        json(&logout(app, &caller, body).await?)
    }
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
        json(&delete_user(app, &caller).await?)
    }
}
