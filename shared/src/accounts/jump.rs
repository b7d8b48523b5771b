//! The desktop pusher's sign-in link (the upstream AUI AppServer's `getLiveJumpUrl` and
//! `verifyAuthToken`): a signed-in anchor asks for an `auipusher://` link carrying a short-lived
//! link token; the desktop pusher sends it back once and gets a token pair of the same session.
//!
//! The link token is ours, not a JWT: `base64url(claims).base64url(HMAC-SHA256)`, its key
//! derived from the token key for this purpose alone ([`crate::auth::JUMP_KEY_LABEL`]), so it
//! never verifies as an access or refresh token and they never verify as it. It names the
//! caller, its session, the room, the app server's address and an id; it lives
//! [`JUMP_TOKEN_TTL_SECS`] and is used at most once (its id claimed in the store, kept past its
//! expiry). Its session is checked as `refresh` checks it.
//!
//! Never here: the token pair's issuing (`sessions`), or whether the session stands
//! (`room_change`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::http::header;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::sessions::issue_pair;
use crate::App;
use crate::auth::{Caller, Session};
use crate::domain::{RoomId, UserId};
use crate::endpoint::{Endpoint, Handler, Route, authenticate, json, parse_body};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::room_change::{check_claimed_identity, live_session};
use crate::store::Store;

crate::needs!(
    /// `getLiveJumpUrl`: the caller's session, one read; `verifyAuthToken`: the link's session
    /// (one read) and the link token's one use (one conditional write).
    LiveJumpStore,
    LIVE_JUMP_NEEDS: SessionRead, NonceClaim
);

/// How long a link token is good for (the upstream's is an hour; a desktop pusher opens the
/// link at once).
pub const JUMP_TOKEN_TTL_SECS: i64 = 300;

/// What a link token's claims say they are (a link token, not anything else signed).
const JUMP_TYP: &str = "desktop-pusher";

/// The path of the link's check (it takes the link token, not an access token).
pub const VERIFY_PATH: &str = "/api/v1/live/verifyAuthToken";

/// The longest `user_name` (a nick) and `version` carried in a link.
const MAX_TEXT: usize = 64;

/// `getLiveJumpUrl` (upstream `JumpUrlRequestDto`, Java; `models.JumpUrlRequest`, Go).
#[derive(Debug, Deserialize)]
pub struct JumpUrlRequest {
    /// Must be the caller's own id (it comes from the token).
    pub user_id: String,
    pub live_id: String,
    #[serde(default)]
    pub user_name: Option<String>,
    /// The desktop pusher's version, passed on in the link (Java).
    #[serde(default)]
    pub version: Option<String>,
}

/// Upstream `JumpUrlResponse`.
#[derive(Debug, Serialize)]
pub struct JumpUrlResponse {
    pub live_jump_url: String,
}

/// `verifyAuthToken` (upstream `AuthTokenRequestDto`, Java; `models.AuthTokenRequest`, Go).
#[derive(Debug, Deserialize)]
pub struct AuthTokenRequest {
    pub user_id: String,
    pub live_id: String,
    #[serde(default)]
    pub user_name: Option<String>,
    pub app_server: String,
    pub token: String,
}

/// Upstream `AuthTokenResponse` (`login_token`), with its expiry and user: the login token is
/// an access token of the session that asked for the link. No refresh token: a link that
/// travels in a URL yields at most one access token's lifetime, never the session's.
#[derive(Debug, Serialize)]
pub struct AuthTokenResponse {
    pub login_token: String,
    pub expire: String,
    pub user_id: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct JumpClaims {
    typ: String,
    sub: String,
    sid: String,
    #[serde(rename = "gen")]
    generation: u64,
    live_id: String,
    user_name: String,
    app_server: String,
    jti: String,
    iat: i64,
    exp: i64,
}

fn link_invalid() -> ApiError {
    ApiError::new(
        ErrorCode::UserTokenInvalid,
        "the link token is invalid, or not for this user, room or server; ask for a new link",
    )
}

/// Bidirectional controls: they would reorder the name the desktop pusher shows.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn text(field: &'static str, value: Option<&str>) -> Result<String, ApiError> {
    let value = value.unwrap_or_default();
    if value.chars().count() > MAX_TEXT
        || value.chars().any(|c| c.is_control() || is_bidi_control(c))
    {
        return Err(ApiError::invalid_field(
            ErrorCode::SystemVerifyError,
            field,
            format!(
                "must be at most {MAX_TEXT} characters, none a control or bidirectional control character"
            ),
        ));
    }
    Ok(value.to_owned())
}

/// The app server's address as the request reached it (`scheme://host`, as the upstream
/// builds it): the link names it, and its check must reach the same one. The host is API
/// Gateway's domain name, else (the local server) the `Host` header; a request that names
/// neither (no client's) gets an empty address, which its check must then repeat. The check is
/// the upstream's and binds nothing a link's holder cannot repeat: the link's signature, expiry
/// and single use are what protect it.
fn app_server(req: &Request) -> Result<String, ApiError> {
    let value = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let domain = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.domain_name.clone(),
        _ => None,
    };
    // API Gateway's own domain name first: a client chooses its `Host` header.
    let Some(host) = domain
        .filter(|d| !d.is_empty())
        .or_else(|| value(header::HOST.as_str()).map(str::to_owned))
    else {
        return Ok(String::new());
    };
    let host = Some(host.as_str())
        .filter(|h| {
            h.len() <= 253
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::SystemVerifyError,
                "the request has no valid Host",
            )
        })?;
    let scheme = match value("x-forwarded-proto") {
        Some(p) if p.eq_ignore_ascii_case("http") => "http",
        Some(_) => "https",
        // The local server (plain HTTP) sets none; API Gateway always does.
        None => "http",
    };
    Ok(format!("{scheme}://{host}"))
}

/// Percent-encodes a query value (all but RFC 3986's unreserved characters).
fn q(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub async fn live_jump_url<S: LiveJumpStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    server: &str,
    req: JumpUrlRequest,
) -> Result<JumpUrlResponse, ApiError> {
    check_claimed_identity("user_id", Some(&req.user_id), caller)?;
    let room = RoomId::parse("live_id", &req.live_id)
        .map_err(|e| ApiError::invalid(ErrorCode::SystemVerifyError, e))?;
    let user_name = text("user_name", req.user_name.as_deref())?;
    let version = text("version", req.version.as_deref())?;
    // The session that asks must stand (as every route that signs checks it).
    live_session(app, caller).await?;
    let now = app.clock.now().timestamp();
    let claims = JumpClaims {
        typ: JUMP_TYP.to_owned(),
        sub: caller.user_id.to_string(),
        sid: caller.session.id.clone(),
        generation: caller.session.generation,
        live_id: room.to_string(),
        user_name: user_name.clone(),
        app_server: server.to_owned(),
        jti: uuid::Uuid::new_v4().simple().to_string(),
        iat: now,
        // Never past the access token that asked.
        exp: caller.expires_at.map_or(now + JUMP_TOKEN_TTL_SECS, |e| {
            e.min(now + JUMP_TOKEN_TTL_SECS)
        }),
    };
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).map_err(ApiError::internal)?);
    let tag = URL_SAFE_NO_PAD.encode(app.tokens.sign_jump(payload.as_bytes())?);
    let mut url = format!(
        "auipusher://page/live-room?app_server={}&token={payload}.{tag}&user_id={}&user_name={}&live_id={}",
        q(server),
        q(caller.user_id.as_str()),
        q(&user_name),
        q(&claims.live_id),
    );
    if !version.is_empty() {
        url.push_str(&format!("&version={}", q(&version)));
    }
    Ok(JumpUrlResponse { live_jump_url: url })
}

/// Whether `a` and `b` are equal, in constant time.
fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub async fn verify_auth_token<S: LiveJumpStore + ?Sized>(
    app: &App<S>,
    server: &str,
    req: AuthTokenRequest,
) -> Result<AuthTokenResponse, ApiError> {
    let (payload, tag) = req.token.split_once('.').ok_or_else(link_invalid)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| link_invalid())?;
    if !app.tokens.verify_jump(payload.as_bytes(), &tag) {
        return Err(link_invalid());
    }
    let claims: JumpClaims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(link_invalid)?;
    let now = app.clock.now().timestamp();
    if claims.typ != JUMP_TYP {
        return Err(link_invalid());
    }
    if now >= claims.exp {
        return Err(ApiError::new(
            ErrorCode::UserTokenExpired,
            "the link has expired; ask for a new one",
        ));
    }
    // The link names who, where and on which server; the request must say the same.
    let user_name = req.user_name.unwrap_or_default();
    let matches = [
        same(&req.user_id, &claims.sub),
        same(&req.live_id, &claims.live_id),
        same(&req.app_server, &claims.app_server),
        same(server, &claims.app_server),
        user_name.is_empty() || same(&user_name, &claims.user_name),
    ];
    if !matches.iter().all(|m| *m) {
        return Err(link_invalid());
    }
    let user_id = UserId::parse("sub", &claims.sub).map_err(|_| link_invalid())?;
    let caller = Caller {
        user_id,
        session: Session {
            id: claims.sid,
            generation: claims.generation,
        },
        expires_at: Some(claims.exp),
    };
    live_session(app, &caller).await?;
    // Once: kept a minute past its expiry, when it is refused anyway.
    if !app
        .store
        .claim_nonce(
            &caller.user_id,
            &format!("jump:{}", claims.jti),
            now,
            claims.exp + 60,
        )
        .await?
    {
        return Err(ApiError::new(
            ErrorCode::UserNonceConsumed,
            "this link was used already; ask for a new one",
        ));
    }
    let pair = issue_pair(app, &caller.user_id, &caller.session)?;
    Ok(AuthTokenResponse {
        login_token: pair.token,
        expire: pair.expire,
        user_id: pair.user_id,
    })
}

/// `POST /api/v1/live/getLiveJumpUrl` ([`live_jump_url`]) and `POST
/// /api/v1/live/verifyAuthToken` ([`verify_auth_token`]): one function, as the link's key and
/// its check belong together.
pub struct LiveJump;

impl Handler for LiveJump {
    const ENDPOINT: Endpoint = Endpoint::new(
        "live-jump",
        &[
            Route::post("/api/v1/live/getLiveJumpUrl"),
            Route::post(VERIFY_PATH),
        ],
    )
    .with_needs(LIVE_JUMP_NEEDS)
    .with_secrets(SecretGroups::ISSUING)
    // The check takes the link token (the desktop pusher has no access token yet).
    .without_token_at(&[VERIFY_PATH]);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        if crate::endpoint::routed_path(req.uri().path()) == VERIFY_PATH {
            let body = parse_body(app, Self::ENDPOINT, &req)?;
            let server = app_server(&req)?;
            json(&verify_auth_token(app, &server, body).await?)
        } else {
            let caller = authenticate(app, &req)?;
            let body = parse_body(app, Self::ENDPOINT, &req)?;
            let server = app_server(&req)?;
            json(&live_jump_url(app, &caller, &server, body).await?)
        }
    }
}
