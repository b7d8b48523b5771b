//! Unit tests of `auth` (kept apart from the request-path code).

use super::*;
use base64::Engine;
use std::time::Duration;

fn keys() -> TokenKeys {
    TokenKeys::new(Some(
        &Secret::parse("T", "0123456789abcdef0123456789abcdef").unwrap(),
    ))
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

#[test]
fn a_token_verifies_to_its_user() {
    let user = UserId::generate();
    let t = keys()
        .issue(&user, TokenKind::Access, now(), Duration::from_secs(60))
        .unwrap();
    let caller = keys().verify(&t.token, TokenKind::Access, now()).unwrap();
    assert_eq!(caller.user_id, user);
}

#[test]
fn an_expired_token_is_203() {
    let t = keys()
        .issue(
            &UserId::generate(),
            TokenKind::Access,
            now(),
            Duration::from_secs(60),
        )
        .unwrap();
    let later = now() + chrono::Duration::seconds(60);
    let err = keys()
        .verify(&t.token, TokenKind::Access, later)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::UserTokenExpired);
}

#[test]
fn a_refresh_token_is_not_an_access_token() {
    let t = keys()
        .issue(
            &UserId::generate(),
            TokenKind::Refresh,
            now(),
            Duration::from_secs(60),
        )
        .unwrap();
    let err = keys()
        .verify(&t.token, TokenKind::Access, now())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::UserTokenInvalid);
}

#[test]
fn a_token_signed_with_another_key_is_invalid() {
    let other = TokenKeys::new(Some(&Secret::parse("T", &"z".repeat(40)).unwrap()));
    let t = other
        .issue(
            &UserId::generate(),
            TokenKind::Access,
            now(),
            Duration::from_secs(60),
        )
        .unwrap();
    let err = keys()
        .verify(&t.token, TokenKind::Access, now())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::UserTokenInvalid);
}

#[test]
fn an_alg_none_token_is_invalid() {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let claims = b64.encode(format!(
        r#"{{"sub":"{}","exp":{},"iat":{},"jti":"x","typ":"access"}}"#,
        UserId::generate(),
        now().timestamp() + 600,
        now().timestamp()
    ));
    for token in [format!("{header}.{claims}."), format!("{header}.{claims}")] {
        let err = keys().verify(&token, TokenKind::Access, now()).unwrap_err();
        assert_eq!(err.code, ErrorCode::UserTokenInvalid);
    }
}

#[test]
fn a_tampered_payload_is_invalid() {
    let t = keys()
        .issue(
            &UserId::generate(),
            TokenKind::Access,
            now(),
            Duration::from_secs(60),
        )
        .unwrap();
    let mut parts: Vec<String> = t.token.split('.').map(str::to_owned).collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let forged = format!(
        r#"{{"sub":"{}","exp":{},"iat":0,"jti":"x","typ":"access"}}"#,
        UserId::generate(),
        now().timestamp() + 600
    );
    parts[1] = b64.encode(forged);
    let err = keys()
        .verify(&parts.join("."), TokenKind::Access, now())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::UserTokenInvalid);
}

#[test]
fn the_bearer_scheme_is_required() {
    let mut h = http::HeaderMap::new();
    assert!(bearer(&h).is_err());
    h.insert(http::header::AUTHORIZATION, "Basic abc".parse().unwrap());
    assert!(bearer(&h).is_err());
    h.insert(
        http::header::AUTHORIZATION,
        "bearer abc.def.ghi".parse().unwrap(),
    );
    assert_eq!(bearer(&h).unwrap(), "abc.def.ghi");
}
