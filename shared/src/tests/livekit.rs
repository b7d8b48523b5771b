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

#[test]
fn a_webhook_verifies_until_a_minute_past_its_expiry_and_only_for_its_body() {
    let secret = b"webhook-secret-for-the-unit-tests-0123456789";
    let now = 1_800_000_000;
    let token = webhook_token("lk_key", secret, b"{\"a\":1}", now).unwrap();
    assert_eq!(
        verify_webhook(&token, b"{\"a\":1}", "lk_key", secret, now),
        Ok(now + WEBHOOK_VALID_SECS)
    );
    let last = now + WEBHOOK_VALID_SECS + WEBHOOK_LEEWAY_SECS - 1;
    assert!(verify_webhook(&token, b"{\"a\":1}", "lk_key", secret, last).is_ok());
    assert_eq!(
        verify_webhook(&token, b"{\"a\":1}", "lk_key", secret, last + 1),
        Err(WebhookRefusal::Stale)
    );
    assert_eq!(
        verify_webhook(&token, b"{\"a\":2}", "lk_key", secret, now),
        Err(WebhookRefusal::Checksum)
    );
    assert_eq!(
        verify_webhook(&token, b"{\"a\":1}", "other", secret, now),
        Err(WebhookRefusal::Signature)
    );
    assert_eq!(
        verify_webhook(
            &token,
            b"{\"a\":1}",
            "lk_key",
            b"another-secret-0123456789abcdef!",
            now
        ),
        Err(WebhookRefusal::Signature)
    );
    assert_eq!(
        body_hash(b""),
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    );
}
