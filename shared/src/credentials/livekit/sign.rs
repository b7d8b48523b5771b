//! LiveKit access tokens: an HS256 JWT with `iss` = API key, `sub` = identity, `nbf`, `exp`
//! and a `video` grant for one room — for a self-hosted RTC server. And LiveKit's webhook
//! signature, both ways: an HS256 JWT valid five minutes whose claim `sha256` is the
//! base64 SHA-256 of the body (livekit/protocol `webhook/`).

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// How long a webhook's signature is valid (LiveKit's `SetValidFor(5*time.Minute)`).
pub const WEBHOOK_VALID_SECS: i64 = 300;
/// How far past `exp` a webhook is still taken (LiveKit's Go verifier's leeway).
pub const WEBHOOK_LEEWAY_SECS: i64 = 60;

/// base64(SHA-256(body)): the `sha256` claim.
pub fn body_hash(body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body))
}

#[derive(Serialize, Deserialize)]
struct WebhookClaims {
    iss: String,
    #[serde(default)]
    nbf: i64,
    exp: i64,
    #[serde(default)]
    sha256: String,
}

/// The `Authorization` of a webhook with `body`, from `issuer`, signed at `now`.
pub fn webhook_token(
    issuer: &str,
    secret: &[u8],
    body: &[u8],
    now: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = WebhookClaims {
        iss: issuer.to_owned(),
        nbf: now,
        exp: now + WEBHOOK_VALID_SECS,
        sha256: body_hash(body),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
}

/// Why a webhook was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookRefusal {
    /// Not an HS256 JWT from `issuer` signed with the secret, or without `exp`.
    Signature,
    /// Past its `exp` (and the leeway) at `now`.
    Stale,
    /// The body is not the one signed.
    Checksum,
}

/// Checks a webhook as LiveKit's receivers do: the token (HS256, `iss` = `issuer`, `exp`
/// required, checked against `now` with a minute of leeway), then `sha256` against the body in
/// constant time. Returns the token's `exp`.
pub fn verify_webhook(
    token: &str,
    body: &[u8],
    issuer: &str,
    secret: &[u8],
    now: i64,
) -> Result<i64, WebhookRefusal> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss"]);
    // Expiry is checked below, against the caller's clock.
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<WebhookClaims>(
        token,
        &DecodingKey::from_secret(secret),
        &validation,
    )
    .map_err(|_| WebhookRefusal::Signature)?
    .claims;
    if claims.exp + WEBHOOK_LEEWAY_SECS <= now {
        return Err(WebhookRefusal::Stale);
    }
    if !bool::from(body_hash(body).as_bytes().ct_eq(claims.sha256.as_bytes())) {
        return Err(WebhookRefusal::Checksum);
    }
    Ok(claims.exp)
}

/// The `video` grant (LiveKit's claim names).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VideoGrant {
    pub room: String,
    pub room_join: bool,
    pub can_publish: bool,
    pub can_subscribe: bool,
    pub can_publish_data: bool,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    nbf: i64,
    exp: i64,
    jti: String,
    video: &'a VideoGrant,
}

/// Signs an access token for `identity` valid from `now` for `ttl` seconds.
pub fn access_token(
    api_key: &str,
    api_secret: &[u8],
    identity: &str,
    grant: &VideoGrant,
    now: i64,
    ttl: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = Claims {
        iss: api_key,
        sub: identity,
        nbf: now,
        exp: now + ttl,
        jti: uuid::Uuid::new_v4().simple().to_string(),
        video: grant,
    };
    hs256(&claims, api_secret)
}

/// The `video` grant of a server API token (LiveKit's claim names): `roomCreate` (create and
/// delete rooms), `roomAdmin` for `room` (remove, mute and update its participants),
/// `roomRecord` (start, list and stop egresses: issue 26). Fields that are off are left out, as
/// LiveKit's SDKs do.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AdminGrant {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub room: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub room_create: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub room_admin: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub room_record: bool,
}

#[derive(Serialize)]
struct AdminClaims<'a> {
    iss: &'a str,
    nbf: i64,
    exp: i64,
    video: &'a AdminGrant,
}

/// Signs a server API token (no identity: the server SDKs' `ServiceBase` sends none) valid
/// from `now` for `ttl` seconds.
pub fn admin_token(
    api_key: &str,
    api_secret: &[u8],
    grant: &AdminGrant,
    now: i64,
    ttl: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = AdminClaims {
        iss: api_key,
        nbf: now,
        exp: now + ttl,
        video: grant,
    };
    hs256(&claims, api_secret)
}

#[cfg(test)]
#[path = "../../tests/livekit.rs"]
mod tests;

/// `claims` signed as LiveKit signs its tokens: HS256 with the API secret.
fn hs256(
    claims: &impl Serialize,
    api_secret: &[u8],
) -> Result<String, jsonwebtoken::errors::Error> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(api_secret),
    )
}
