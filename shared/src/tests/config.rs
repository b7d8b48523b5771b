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

const SECRET: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn there_is_no_default_secret() {
    let err = config(&[]).unwrap_err();
    assert_eq!(err.variable, "JWT_SECRET");
}

#[test]
fn a_short_secret_is_refused() {
    let err = config(&[("JWT_SECRET", "too-short")]).unwrap_err();
    assert_eq!(err.variable, "JWT_SECRET");
    assert!(err.to_string().contains("32 bytes"));
}

#[test]
fn defaults_apply_and_the_secret_is_redacted() {
    let c = config(&[("JWT_SECRET", SECRET)]).unwrap();
    assert_eq!(c.access_token_ttl, Duration::from_secs(7200));
    assert_eq!(c.max_body_bytes, 65_536);
    assert!(!format!("{c:?}").contains(SECRET));
}

#[test]
fn a_bad_number_names_its_variable() {
    let err = config(&[("JWT_SECRET", SECRET), ("ACCESS_TOKEN_TTL_SECONDS", "soon")]).unwrap_err();
    assert_eq!(err.variable, "ACCESS_TOKEN_TTL_SECONDS");
    let err = config(&[("JWT_SECRET", SECRET), ("MAX_BODY_BYTES", "1")]).unwrap_err();
    assert_eq!(err.variable, "MAX_BODY_BYTES");
}

#[test]
fn livekit_url_is_never_plain_over_a_network() {
    let with = |url: &str| {
        config(&[
            ("JWT_SECRET", SECRET),
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
