//! Unit tests of `credentials` (kept apart from the request-path code).

use super::*;
use crate::config::ConfigError;
use std::collections::HashMap;

fn providers(vars: &[(&str, &str)]) -> Result<Providers, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Providers::from_lookup(&|k: &str| vars.get(k).cloned())
}

#[test]
fn no_provider_is_the_default() {
    let p = providers(&[]).unwrap();
    assert_eq!(
        (p.live.name(), p.rtc.name(), p.im.name()),
        ("none", "none", "none")
    );
}

#[test]
fn a_chosen_provider_requires_its_settings_by_name() {
    let err = providers(&[("RTC_PROVIDER", "tencent")]).err().unwrap();
    assert_eq!(err.variable, "TENCENT_SDKAPPID");
    let err = providers(&[("RTC_PROVIDER", "tencent"), ("TENCENT_SDKAPPID", "x")])
        .err()
        .unwrap();
    assert_eq!(err.variable, "TENCENT_SDKAPPID");
    let err = providers(&[
        ("LIVE_PROVIDER", "aliyun"),
        ("ALIYUN_LIVE_PUSH_DOMAIN", "push.example.com"),
    ])
    .err()
    .unwrap();
    assert_eq!(err.variable, "ALIYUN_LIVE_PULL_DOMAIN");
    let err = providers(&[("RTC_PROVIDER", "agora")]).err().unwrap();
    assert_eq!(err.variable, "RTC_PROVIDER");
}

#[test]
fn livekit_serves_rtc_only() {
    assert_eq!(
        providers(&[("LIVE_PROVIDER", "livekit")])
            .err()
            .unwrap()
            .variable,
        "LIVE_PROVIDER"
    );
    assert_eq!(
        providers(&[("IM_PROVIDER", "livekit")])
            .err()
            .unwrap()
            .variable,
        "IM_PROVIDER"
    );
}

#[test]
fn a_domain_with_a_path_or_scheme_is_refused() {
    let err = providers(&[
        ("LIVE_PROVIDER", "tencent"),
        ("TENCENT_LIVE_PUSH_DOMAIN", "rtmp://push.example.com/x"),
    ])
    .err()
    .unwrap();
    assert_eq!(err.variable, "TENCENT_LIVE_PUSH_DOMAIN");
}
