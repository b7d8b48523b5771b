//! Unit tests of `config` (kept apart from the request-path code).

use super::*;
use std::collections::HashMap;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| vars.get(k).cloned())
}

/// The base64 of an Ed25519 seed.
const SECRET: &str = "Y29uZmlnLXVuaXQtdGVzdHMtZWQyNTUxOS1zZWVkLTE=";

#[test]
fn there_is_no_default_key() {
    let err = config(&[]).unwrap_err();
    assert_eq!(err.variable, "JWT_PRIVATE_KEY");
    let err = Config::reading(SecretGroups::TOKENS, |_| None).unwrap_err();
    assert_eq!(err.variable, "JWT_PUBLIC_KEY");
}

#[test]
fn a_bad_key_is_refused() {
    let err = config(&[("JWT_PRIVATE_KEY", "too-short")]).unwrap_err();
    assert_eq!(err.variable, "JWT_PRIVATE_KEY");
    assert!(err.to_string().contains("Ed25519"));
}

/// Issue 21, 8: a function that only verifies tokens reads the public key alone, even where
/// the private one is in its environment: its configuration holds no private key and its app
/// can issue nothing. One that issues reads the private key and nothing else.
#[test]
fn only_an_issuing_function_holds_the_private_key() {
    let public = JwtPrivateKey::parse("K", SECRET)
        .unwrap()
        .public_key()
        .to_base64();
    let env = |k: &str| match k {
        "JWT_PRIVATE_KEY" => Some(SECRET.to_owned()),
        "JWT_PUBLIC_KEY" => Some(public.clone()),
        _ => None,
    };
    let read = std::cell::RefCell::new(Vec::new());
    let verifying = Config::reading(SecretGroups::TOKENS, |k| {
        read.borrow_mut().push(k.to_owned());
        env(k)
    })
    .unwrap();
    assert!(verifying.jwt_private_key.is_none() && verifying.jwt_public_key.is_some());
    assert!(!read.borrow().iter().any(|k| k == "JWT_PRIVATE_KEY"));
    assert!(!crate::auth::TokenKeys::new(None, verifying.jwt_public_key.as_ref()).can_issue());
    read.borrow_mut().clear();
    let issuing = Config::reading(SecretGroups::ISSUING, |k| {
        read.borrow_mut().push(k.to_owned());
        env(k)
    })
    .unwrap();
    assert!(issuing.jwt_private_key.is_some());
    assert!(!read.borrow().iter().any(|k| k == "JWT_PUBLIC_KEY"));
    // Restricting an issuing configuration to a verifying function drops the private key.
    let restricted = issuing.restricted(SecretGroups::TOKENS);
    assert!(restricted.jwt_private_key.is_none());
    assert_eq!(restricted.jwt_public_key, verifying.jwt_public_key);
    assert!(
        issuing
            .restricted(SecretGroups::NOTHING)
            .jwt_public_key
            .is_none()
    );
}

#[test]
fn defaults_apply_and_the_secret_is_redacted() {
    let c = config(&[("JWT_PRIVATE_KEY", SECRET)]).unwrap();
    assert_eq!(c.access_token_ttl, Duration::from_secs(7200));
    assert_eq!(c.max_body_bytes, 65_536);
    assert!(!format!("{c:?}").contains(SECRET));
}

#[test]
fn a_bad_number_names_its_variable() {
    let err = config(&[
        ("JWT_PRIVATE_KEY", SECRET),
        ("ACCESS_TOKEN_TTL_SECONDS", "soon"),
    ])
    .unwrap_err();
    assert_eq!(err.variable, "ACCESS_TOKEN_TTL_SECONDS");
    let err = config(&[("JWT_PRIVATE_KEY", SECRET), ("MAX_BODY_BYTES", "1")]).unwrap_err();
    assert_eq!(err.variable, "MAX_BODY_BYTES");
}

#[test]
fn livekit_url_is_never_plain_over_a_network() {
    let with = |url: &str| {
        config(&[
            ("JWT_PRIVATE_KEY", SECRET),
            ("RTC_PROVIDER", "livekit"),
            ("LIVEKIT_URL", url),
            ("LIVEKIT_API_KEY", "key"),
            ("LIVEKIT_API_SECRET", SECRET),
        ])
    };
    for bad in [
        "ws://rtc.example.com",
        "http://rtc.example.com:7880",
        "ws://127.0.0.1@evil.example",
        "rtc.example.com",
    ] {
        assert_eq!(with(bad).unwrap_err().variable, "LIVEKIT_URL", "{bad}");
    }
    for good in [
        "wss://rtc.example.com",
        "https://rtc.example.com",
        "ws://127.0.0.1:7880",
        "ws://localhost:7880",
        "ws://[::1]:7880",
    ] {
        assert!(with(good).is_ok(), "{good}");
    }
}

#[test]
fn the_throttle_limits_default_as_documented_and_are_validated() {
    let c = config(&[("JWT_PRIVATE_KEY", SECRET)]).unwrap();
    assert_eq!(
        c.throttle,
        Throttle {
            registrations_per_address: 10,
            registrations: 600,
            login_failures_per_user: 100,
        }
    );
    for variable in [
        "REGISTRATIONS_PER_ADDRESS_PER_MINUTE",
        "REGISTRATIONS_PER_MINUTE",
        "LOGIN_FAILURES_PER_USER_PER_MINUTE",
    ] {
        for bad in ["0", "many", "1000001"] {
            let err = config(&[("JWT_PRIVATE_KEY", SECRET), (variable, bad)]).unwrap_err();
            assert_eq!(err.variable, variable);
        }
    }
}

#[test]
fn an_access_token_never_outlives_the_memory_of_its_logout() {
    let err = config(&[
        ("JWT_PRIVATE_KEY", SECRET),
        ("ACCESS_TOKEN_TTL_SECONDS", "7200"),
        ("REFRESH_TOKEN_TTL_SECONDS", "3600"),
    ])
    .unwrap_err();
    assert_eq!(err.variable, "ACCESS_TOKEN_TTL_SECONDS");
    assert!(
        config(&[
            ("JWT_PRIVATE_KEY", SECRET),
            ("ACCESS_TOKEN_TTL_SECONDS", "3600"),
            ("REFRESH_TOKEN_TTL_SECONDS", "3600"),
        ])
        .is_ok()
    );
}

/// Issue 24: the sweeper's samples are kept 7 days unless told otherwise, 1 to 90.
#[test]
fn series_retention_defaults_to_a_week_and_is_validated() {
    let key = [("JWT_PRIVATE_KEY", SECRET)];
    let week = std::time::Duration::from_secs(7 * 86_400);
    assert_eq!(config(&key).unwrap().series_retention, week);
    let days = |d: &str| config(&[key[0], ("SERIES_RETENTION_DAYS", d)]);
    assert_eq!(
        days("90").unwrap().series_retention,
        std::time::Duration::from_secs(90 * 86_400)
    );
    for bad in ["0", "91", "x"] {
        assert_eq!(days(bad).unwrap_err().variable, "SERIES_RETENTION_DAYS");
    }
}
