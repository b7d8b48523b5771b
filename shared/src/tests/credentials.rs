//! Unit tests of `credentials` (kept apart from the request-path code).

use super::*;
use crate::env::ConfigError;
use std::collections::HashMap;

fn providers(vars: &[(&str, &str)]) -> Result<Providers, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Providers::from_lookup(
        &|k: &str| vars.get(k).cloned(),
        &crate::env::SecretGroups::ALL,
    )
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

/// Issue 21, 8: a provider holds the keys of the purposes it was read (or restricted) for and
/// signs nothing else: the outbox's Tencent app signs its administrator's UserSig and no user
/// credential, URL or room credential; a `RoomInfo` function's signs no administrator UserSig
/// (and still knows the IM keeps groups).
#[test]
fn a_provider_signs_only_for_the_purposes_it_holds_keys_for() {
    let vars: HashMap<String, String> = [
        ("LIVE_PROVIDER", "tencent"),
        ("RTC_PROVIDER", "tencent"),
        ("IM_PROVIDER", "tencent"),
        ("TENCENT_SDKAPPID", "1400000001"),
        ("TENCENT_SECRET_KEY", "tencent-secret-key-0123"),
        ("TENCENT_LIVE_PUSH_DOMAIN", "push.example.com"),
        ("TENCENT_LIVE_PULL_DOMAIN", "play.example.com"),
        ("TENCENT_LIVE_PUSH_KEY", "push-key-0123"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let lookup = |k: &str| vars.get(k).cloned();
    let user = UserId::generate();
    let all = Providers::from_lookup(&lookup, &crate::env::SecretGroups::ALL).unwrap();
    for delivery in [
        Providers::from_lookup(&lookup, &crate::env::SecretGroups::DELIVERY).unwrap(),
        all.restricted(&crate::env::SecretGroups::DELIVERY),
    ] {
        assert!(delivery.im.im_groups().is_some());
        assert!(delivery.live.push_urls("s", 1).is_none());
        assert!(delivery.live.pull_urls("s", 1).is_none());
        assert!(delivery.im(&user, 0).is_none());
        assert!(delivery.rtc_user(&user, 0).is_none());
        assert!(delivery.tencent_user_sig(&user, 0).is_none());
    }
    for room_info in [
        Providers::from_lookup(&lookup, &crate::env::SecretGroups::ROOM_INFO).unwrap(),
        all.restricted(&crate::env::SecretGroups::ROOM_INFO),
    ] {
        assert!(room_info.im.im_groups().is_none());
        assert!(room_info.im.keeps_groups());
        assert!(room_info.live.push_urls("s", 1).is_some());
        // No pull key configured: unsigned pull URLs, but only where pull URLs are read.
        assert!(room_info.live.pull_urls("s", 1).is_some());
        assert!(room_info.tencent_user_sig(&user, 0).is_none());
    }
    let meeting = all.restricted(&crate::env::SecretGroups {
        live_pull: true,
        ..crate::env::SecretGroups::TOKENS
    });
    assert!(meeting.live.pull_urls("s", 1).is_some());
    assert!(meeting.live.push_urls("s", 1).is_none());
    assert!(all.tencent_user_sig(&user, 0).is_some());
}
