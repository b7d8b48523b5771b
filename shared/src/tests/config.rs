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
fn the_throttle_limits_default_as_documented_and_are_validated() {
    let c = config(&[("JWT_SECRET", SECRET)]).unwrap();
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
            let err = config(&[("JWT_SECRET", SECRET), (variable, bad)]).unwrap_err();
            assert_eq!(err.variable, variable);
        }
    }
}
