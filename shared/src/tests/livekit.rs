//! Unit tests of `credentials/livekit` (kept apart from the request-path code).

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
