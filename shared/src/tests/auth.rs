//! Unit tests of `auth` (kept apart from the request-path code).

use super::*;
use base64::Engine;
use std::time::Duration;

fn private_key() -> JwtPrivateKey {
    JwtPrivateKey::from_seed(*b"auth-unit-tests-ed25519-seed-001")
}

fn keys() -> TokenKeys {
    TokenKeys::issuing(&private_key())
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
    let other = TokenKeys::issuing(&JwtPrivateKey::from_seed(
        *b"another-ed25519-seed-for-a-test!",
    ));
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

/// Issue 21, 8: a token signed with the HS256 secret tokens were signed with before (or any
/// HMAC key, the public key's bytes among them: the algorithm-confusion forgery) is refused.
#[test]
fn an_hs256_token_is_invalid_whatever_its_key() {
    let claims = Claims {
        sub: UserId::generate().to_string(),
        exp: now().timestamp() + 600,
        iat: now().timestamp(),
        jti: "x".into(),
        typ: TokenKind::Access,
        sid: "s".into(),
        generation: 0,
    };
    let public = private_key().public_key().clone();
    let public_b64 = public.to_base64();
    for secret in [
        "liveroom-sample-events-secret-local-only-0001".as_bytes(),
        &public.as_bytes()[..],
        public_b64.as_bytes(),
    ] {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let token = jsonwebtoken::encode(
                &Header::new(alg),
                &claims,
                &EncodingKey::from_secret(secret),
            )
            .unwrap();
            let err = keys().verify(&token, TokenKind::Access, now()).unwrap_err();
            assert_eq!(err.code, ErrorCode::UserTokenInvalid, "{alg:?}");
        }
    }
}

/// Issue 21, 8: tokens are EdDSA; a function holding only the public key verifies them and
/// cannot issue one.
#[test]
fn the_public_key_verifies_and_cannot_issue() {
    let user = UserId::generate();
    let t = keys()
        .issue(&user, TokenKind::Access, now(), Duration::from_secs(60))
        .unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.decode(t.token.split('.').next().unwrap()).unwrap();
    assert!(
        String::from_utf8(header)
            .unwrap()
            .contains(r#""alg":"EdDSA""#)
    );
    let verifying = TokenKeys::verifying(private_key().public_key());
    assert!(!verifying.can_issue() && keys().can_issue());
    assert_eq!(
        verifying
            .verify(&t.token, TokenKind::Access, now())
            .unwrap()
            .user_id,
        user
    );
    let err = verifying
        .issue(&user, TokenKind::Access, now(), Duration::from_secs(60))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::SystemError);
    // No keys at all: nothing verifies.
    let none = TokenKeys::new(None, None);
    assert!(none.verify(&t.token, TokenKind::Access, now()).is_err());
}

/// A signature cut or flipped fails, the header's key id or algorithm changed fails.
#[test]
fn a_bad_signature_is_invalid() {
    let t = keys()
        .issue(
            &UserId::generate(),
            TokenKind::Access,
            now(),
            Duration::from_secs(60),
        )
        .unwrap();
    let (rest, signature) = t.token.rsplit_once('.').unwrap();
    let flipped: String = signature
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 3 {
                if c == 'A' { 'B' } else { 'A' }
            } else {
                c
            }
        })
        .collect();
    for token in [
        format!("{rest}.{flipped}"),
        format!("{rest}.{}", &signature[..signature.len() - 2]),
        format!("{rest}."),
    ] {
        let err = keys().verify(&token, TokenKind::Access, now()).unwrap_err();
        assert_eq!(err.code, ErrorCode::UserTokenInvalid);
    }
}

/// Issue 26: the desktop link's key is derived for that purpose alone: a MAC made with it checks
/// under the same key only, and keys that only verify (the public key) check none.
#[test]
fn the_link_key_is_its_own_and_only_where_tokens_are_issued() {
    let payload = b"claims";
    let tag = keys().sign_jump(payload).unwrap();
    assert!(keys().verify_jump(payload, &tag));
    assert!(!keys().verify_jump(b"claimz", &tag));
    assert!(!keys().verify_jump(payload, &tag[..31]));
    let other = TokenKeys::issuing(&JwtPrivateKey::from_seed(
        *b"auth-unit-tests-ed25519-seed-002",
    ));
    assert!(!other.verify_jump(payload, &tag));
    let verifying = TokenKeys::verifying(private_key().public_key());
    assert!(!verifying.verify_jump(payload, &tag));
    assert!(verifying.sign_jump(payload).is_err());
    // Another label gives an unrelated key; the label's key is not the seed.
    let key = private_key();
    assert_ne!(key.derive(JUMP_KEY_LABEL), key.derive("another purpose"));
    assert_ne!(
        &key.derive(JUMP_KEY_LABEL),
        b"auth-unit-tests-ed25519-seed-001"
    );
}
