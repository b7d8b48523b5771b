//! Unit tests of `env` (kept apart from the request-path code).

use super::*;
use base64::Engine;

#[test]
fn keys_parse_from_base64_or_pem_and_bad_ones_are_refused() {
    let key = JwtPrivateKey::from_seed(*b"auth-unit-tests-ed25519-seed-001");
    let seed_b64 = key.to_base64();
    assert_eq!(
        JwtPrivateKey::parse("K", &seed_b64).unwrap().to_base64(),
        seed_b64
    );
    // As `openssl genpkey -algorithm ed25519` writes it.
    let der = [PKCS8_ED25519_PREFIX.as_slice(), &key.seed].concat();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    );
    assert_eq!(
        JwtPrivateKey::parse("K", &pem).unwrap().to_base64(),
        seed_b64
    );
    let public = key.public_key();
    assert_eq!(
        JwtPublicKey::parse("P", &public.to_base64()).unwrap(),
        *public
    );
    let spki = [SPKI_ED25519_PREFIX.as_slice(), &public.0].concat();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----",
        base64::engine::general_purpose::STANDARD.encode(spki)
    );
    assert_eq!(JwtPublicKey::parse("P", &pem).unwrap(), *public);
    for bad in [
        "",
        "short",
        "liveroom-sample-events-secret-local-only-0001",
        &"A".repeat(43),
        &base64::engine::general_purpose::STANDARD.encode([7u8; 31]),
    ] {
        let err = JwtPrivateKey::parse("JWT_PRIVATE_KEY", bad).unwrap_err();
        assert_eq!(err.variable, "JWT_PRIVATE_KEY");
    }
    // A private key is no public key (its PEM label and prefix differ).
    assert!(
        JwtPublicKey::parse(
            "P",
            &format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
                base64::engine::general_purpose::STANDARD
                    .encode([PKCS8_ED25519_PREFIX.as_slice(), &key.seed].concat())
            )
        )
        .is_err()
    );
    assert!(!format!("{key:?}").contains(&seed_b64));
}
