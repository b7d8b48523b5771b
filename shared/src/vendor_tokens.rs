//! The vendor-credential endpoints (SPEC §4): `token` (a renewed session pair plus the user's
//! IM and RTC credentials) and `rtcToken` (room credentials with the grant the server decided).
//! Our own tokens (the JWTs) are `auth`'s; the vendors' signers are `credentials`'.
//!
//! Never here: a vendor's signing (`credentials`), or who may be in a room (`room_change`).

use lambda_http::Request;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::App;
use crate::auth::Caller;
use crate::credentials::{Grant, RoomCredentials};
use crate::domain::FieldError;
use crate::endpoint::{Endpoint, Handler, Route, Visitor, authenticated, json};
use crate::env::{SecretGroups, Tokens};
use crate::error::{ApiError, ErrorCode};
use crate::room_change::{
    RoomTarget, Signer, check_claimed_identity, found_for, live_session, refuse_if_banned, standing,
};
use crate::store::Store;

/// `token` (seed 002 `handler.TokenRequest`; `user_id`, if sent, must be the caller's).
#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    pub device_id: String,
    pub device_type: String,
    #[serde(default)]
    pub user_id: Option<String>,
}

/// Seed 002 `handler.TokenResponse` plus expiries and one object per configured provider.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub expire: String,
    pub refresh_expire: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub im: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtc: Option<Value>,
}

#[derive(Debug, Serialize)]
pub struct RtcTokenResponse {
    pub room_id: String,
    pub user_id: String,
    pub grant: Grant,
    pub provider: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtc_push_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtc_pull_url: Option<String>,
    /// Until when the credential holds (unix seconds), for `getRtcAuthToken`'s `timestamp`.
    #[serde(skip)]
    pub expires_at: Option<i64>,
}

/// `getRtcAuthToken` (upstream `RtcAuthTokenRequestDto`, Java server): the room, and a
/// `user_id` that, if sent, must be the caller's.
#[derive(Debug, Deserialize)]
pub struct RtcAuthTokenRequest {
    pub room_id: String,
    #[serde(default)]
    pub user_id: Option<String>,
}

/// Upstream `RtcAuthTokenResponse` (`auth_token`, `timestamp`: the RTC token and until when it
/// holds, unix seconds), followed by what `rtcToken` answers for the same room.
#[derive(Debug, Serialize)]
pub struct RtcAuthTokenResponse {
    pub auth_token: String,
    pub timestamp: i64,
    #[serde(flatten)]
    pub rtc: RtcTokenResponse,
}

impl From<RtcTokenResponse> for RtcAuthTokenResponse {
    /// The vendor's join token (Alibaba's `token`, LiveKit's `token`, Tencent's `user_sig`);
    /// empty, with 0, where no RTC provider is configured.
    fn from(rtc: RtcTokenResponse) -> Self {
        let field = |name: &str| rtc.credentials.as_ref().and_then(|c| c.get(name).cloned());
        let auth_token = field("token")
            .or_else(|| field("user_sig"))
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let timestamp = field("timestamp")
            .and_then(|v| v.as_i64())
            .or(rtc.expires_at)
            .unwrap_or_default();
        Self {
            auth_token,
            timestamp,
            rtc,
        }
    }
}

const DEVICE_TYPES: [&str; 5] = ["android", "ios", "web", "win", "mac"];

fn check_device(req: &TokenRequest) -> Result<(), FieldError> {
    let id = req.device_id.trim();
    if id.is_empty()
        || id.len() > 128
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
    {
        return Err(FieldError::new(
            "device_id",
            "must be 1 to 128 letters, digits or . _ : -",
        ));
    }
    if !DEVICE_TYPES.contains(&req.device_type.as_str()) {
        return Err(FieldError::new(
            "device_type",
            "must be android, ios, web, win or mac",
        ));
    }
    Ok(())
}

crate::needs!(
    /// `rtcToken`: the room and the caller's ban in it and session, in one read.
    RtcTokenStore,
    RTC_TOKEN_NEEDS: MemberRead
);

crate::needs!(
    /// `token`: the caller's session, checked as `refresh` checks it (one read).
    TokenStore,
    TOKEN_NEEDS: SessionRead
);

/// A new session pair and the caller's vendor credentials, if the caller's session still
/// stands: an access token outlives a `logout {all}` or `deleteUser` by at most its own
/// lifetime, never by minting its successor.
pub async fn token<S: TokenStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: TokenRequest,
) -> Result<TokenResponse, ApiError> {
    check_claimed_identity("user_id", req.user_id.as_deref(), caller)?;
    check_device(&req).map_err(|e| ApiError::invalid(ErrorCode::SystemVerifyError, e))?;
    live_session(app, caller).await?;
    let pair = crate::accounts::issue_pair(app, &caller.user_id, &caller.session)?;
    let now = app.clock.now().timestamp();
    // Valid no longer than the access token that asked for them.
    let providers = &app.config.providers.until(caller.expires_at, now);
    Ok(TokenResponse {
        access_token: pair.token,
        refresh_token: pair.refresh_token,
        expire: pair.expire,
        refresh_expire: pair.refresh_expire,
        im: providers.im(&caller.user_id, now),
        rtc: providers.rtc_user(&caller.user_id, now),
    })
}

pub async fn rtc_token<S: RtcTokenStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: RoomTarget,
) -> Result<RtcTokenResponse, ApiError> {
    let id = req.room_id(caller, ErrorCode::RoomQueryParams)?;
    let (room, banned_until, session) = app
        .store
        .room_member_in_session(&id, &caller.user_id, &caller.session.id)
        .await?;
    standing(caller, session)?;
    let room = found_for(room, caller)?;
    refuse_if_banned(banned_until, app.clock.now())?;
    let signer = Signer::for_viewer(app, caller, banned_until);
    let (providers, now) = (&signer.providers, signer.now);
    let response =
        |grant, expire: Option<(String, i64)>, credentials, push, pull| RtcTokenResponse {
            room_id: room.id.to_string(),
            user_id: caller.user_id.to_string(),
            grant,
            provider: providers.rtc.name(),
            expires_at: expire.as_ref().map(|(_, at)| *at),
            expire: expire.map(|(text, _)| text),
            credentials,
            rtc_push_url: push,
            rtc_pull_url: pull,
        };
    match providers.room_credentials(&room, &caller.user_id, now) {
        RoomCredentials::Ended => Err(ApiError::new(
            ErrorCode::RoomStateConflict,
            "the room has ended; it has no credentials",
        )
        .with_detail("status", room.status.as_i64())),
        RoomCredentials::Unavailable(_) if room.id.is_channel() => Err(ApiError::new(
            ErrorCode::RtcGrantUnavailable,
            "a 1v1 call's RTC credentials come from /app/token, with the seat they hold",
        )),
        RoomCredentials::Unavailable(_) => Err(ApiError::new(
            ErrorCode::RtcGrantUnavailable,
            "this RTC provider cannot limit credentials to subscribing; watch through the pull URLs",
        )),
        RoomCredentials::NoProvider(grant) => Ok(response(grant, None, None, None, None)),
        RoomCredentials::Issued(grant, c) => Ok(response(
            grant,
            Some((
                crate::credentials::expiry(now, providers.ttl_secs()),
                now + providers.ttl_secs(),
            )),
            Some(c.fields),
            c.push_url,
            c.pull_url,
        )),
    }
}

/// This module's endpoints, for the edge's route table.
pub fn endpoints(v: &mut impl Visitor) {
    v.visit::<Token>();
    v.visit::<RtcToken>();
}

/// `POST /api/v1/live/token`: the caller's RTC and IM credentials ([`token`]).
pub struct Token;

impl Handler for Token {
    const ENDPOINT: Endpoint = Endpoint::new("token", &[Route::post("/api/v1/live/token")])
        .with_needs(TOKEN_NEEDS)
        .with_secrets(SecretGroups {
            tokens: Tokens::Issue,
            user_sig: true,
            im_token: true,
            ..SecretGroups::NOTHING
        });

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&token(app, &caller, body).await?)
    }
}

/// The upstream AUI AppServer's route for the same credential (Java server's
/// `RoomInfoController`).
pub const RTC_AUTH_TOKEN_PATH: &str = "/api/v1/live/getRtcAuthToken";

/// `POST /api/v1/live/rtcToken`: an RTC credential for one room ([`rtc_token`]); and `POST
/// /api/v1/live/getRtcAuthToken`, the same credential in the upstream's shape
/// ([`RtcAuthTokenResponse`]).
pub struct RtcToken;

impl Handler for RtcToken {
    const ENDPOINT: Endpoint = Endpoint::new(
        "rtc-token",
        &[
            Route::post("/api/v1/live/rtcToken"),
            Route::post(RTC_AUTH_TOKEN_PATH),
        ],
    )
    .with_needs(RTC_TOKEN_NEEDS)
    .with_secrets(SecretGroups {
        rtc_room: true,
        ..SecretGroups::TOKENS
    })
    .with_param_error(ErrorCode::RoomQueryParams);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        if crate::endpoint::routed_path(req.uri().path()) == RTC_AUTH_TOKEN_PATH {
            let (caller, body): (_, RtcAuthTokenRequest) =
                authenticated(app, Self::ENDPOINT, &req)?;
            // A malformed room names this route's field (`room_id`), not `rtcToken`'s `id`.
            crate::domain::RoomId::parse("room_id", &body.room_id)
                .map_err(|e| ApiError::invalid(ErrorCode::RoomQueryParams, e))?;
            let target = RoomTarget {
                id: body.room_id,
                user_id: body.user_id,
            };
            let answer = rtc_token(app, &caller, target).await?;
            return json(&RtcAuthTokenResponse::from(answer));
        }
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&rtc_token(app, &caller, body).await?)
    }
}
