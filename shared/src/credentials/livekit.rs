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
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    #[test]
    fn the_token_carries_the_grant_and_verifies_with_the_secret() {
        let grant = VideoGrant {
            room: "r1".into(),
            room_join: true,
            can_publish: false,
            can_subscribe: true,
            can_publish_data: false,
        };
        let token = access_token(
            "APIkey",
            b"secret-secret-secret-secret-32by",
            "alice",
            &grant,
            1_700_000_000,
            600,
        )
        .unwrap();
        let mut v = Validation::new(Algorithm::HS256);
        v.validate_exp = false;
        v.set_issuer(&["APIkey"]);
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &DecodingKey::from_secret(b"secret-secret-secret-secret-32by"),
            &v,
        )
        .unwrap();
        let c = data.claims;
        assert_eq!(
            (c["sub"].as_str(), c["exp"].as_i64()),
            (Some("alice"), Some(1_700_000_600))
        );
        assert_eq!(c["video"]["room"], "r1");
        assert_eq!(c["video"]["roomJoin"], true);
        assert_eq!(c["video"]["canPublish"], false);
    }
}
