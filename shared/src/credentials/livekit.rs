//! LiveKit access tokens: an HS256 JWT with `iss` = API key, `sub` = identity, `nbf`, `exp`
//! and a `video` grant for one room — for a self-hosted RTC server.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

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
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(api_secret),
    )
}

#[cfg(test)]
#[path = "../tests/livekit.rs"]
mod tests;
