//! Credentials, end to end through the handlers, verified by the vendors' own libraries
//! (`tests/oracle`: npm `tls-sig-api-v2`, `livekit-server-sdk`) and by the published formulas.

use liveroom::endpoint::Handler;
use liveroom::{accounts, moderation, presence, rooms, vendor_tokens};
use std::collections::HashMap;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::Arc;

use liveroom::auth::TokenKind;
use liveroom::domain::UserId;
use liveroom::{App, Config, SystemClock};
use md5::{Digest as _, Md5};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::{TestStore, call, embedded};

const TENCENT_APP: u32 = 1_400_000_001;
const TENCENT_KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const LIVEKIT_KEY: &str = "APIliveroomtest";
const LIVEKIT_SECRET: &str = "livekit-test-secret-0123456789abcdefghijklmnop";
const TTL: i64 = 3600;

fn app_with(store: &TestStore, vars: &[(&str, &str)]) -> App {
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.insert(
        "JWT_PRIVATE_KEY".into(),
        crate::common::EVENTS_SECRET.into(),
    );
    map.insert("CREDENTIAL_TTL_SECONDS".into(), TTL.to_string());
    let config = Config::from_lookup(|k| map.get(k).cloned()).expect("provider config");
    App::new(config, Arc::clone(&store.store), Arc::new(SystemClock))
}

pub(crate) fn tencent_vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("LIVE_PROVIDER", "tencent"),
        ("RTC_PROVIDER", "tencent"),
        ("IM_PROVIDER", "tencent"),
        ("TENCENT_SDKAPPID", "1400000001"),
        ("TENCENT_SECRET_KEY", TENCENT_KEY),
        ("TENCENT_LIVE_PUSH_DOMAIN", "push.example.com"),
        ("TENCENT_LIVE_PULL_DOMAIN", "play.example.com"),
        ("TENCENT_LIVE_PUSH_KEY", "e12c46f2612d5106e2034781ab261ca3"),
        ("TENCENT_LIVE_PULL_KEY", "0f3c7a09b2d44e1c9a5d6e7f80a1b2c3"),
    ]
}

pub(crate) fn aliyun_vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("LIVE_PROVIDER", "aliyun"),
        ("RTC_PROVIDER", "aliyun"),
        ("IM_PROVIDER", "aliyun"),
        ("ALIYUN_RTC_APP_ID", "rtc-app-1"),
        ("ALIYUN_RTC_APP_KEY", "rtc-app-key-123456"),
        ("ALIYUN_IM_APP_ID", "im-app-1"),
        ("ALIYUN_IM_APP_KEY", "im-app-key-123456"),
        ("ALIYUN_IM_APP_SIGN", "im-app-sign"),
        ("ALIYUN_LIVE_PUSH_DOMAIN", "push.example.com"),
        ("ALIYUN_LIVE_PULL_DOMAIN", "pull.example.com"),
        ("ALIYUN_LIVE_PUSH_AUTH_KEY", "push-auth-key"),
        ("ALIYUN_LIVE_PULL_AUTH_KEY", "pull-auth-key"),
    ]
}

pub(crate) fn livekit_vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("RTC_PROVIDER", "livekit"),
        ("LIVEKIT_URL", "wss://rtc.example.com"),
        ("LIVEKIT_API_KEY", LIVEKIT_KEY),
        ("LIVEKIT_API_SECRET", LIVEKIT_SECRET),
    ]
}

struct Users {
    anchor: (UserId, String),
    viewer: (UserId, String),
}

async fn users(app: &App) -> Users {
    let token = |id: &UserId| {
        app.tokens
            .issue(
                id,
                TokenKind::Access,
                app.clock.now(),
                // Longer than the credentials' TTL: no cap at the token's expiry in play here.
                std::time::Duration::from_secs(86_400),
            )
            .unwrap()
            .token
    };
    let (a, v) = (UserId::generate(), UserId::generate());
    crate::common::ensure_user(&*app.store, &a).await;
    crate::common::ensure_user(&*app.store, &v).await;
    Users {
        anchor: (a.clone(), token(&a)),
        viewer: (v.clone(), token(&v)),
    }
}

/// Registers `user` (with a password): `token` checks that the caller's session stands.
async fn register(app: &App, user: &UserId) {
    let (status, out) = call(
        app,
        accounts::Register::ENDPOINT,
        "",
        json!({"username": user.as_str(), "password": "a long enough password"}),
    )
    .await;
    // 409: the fixtures made the user exist already.
    assert!(status == 200 || status == 409, "{out}");
}

async fn create(app: &App, token: &str) -> String {
    let (status, room) = call(
        app,
        rooms::Create::ENDPOINT,
        token,
        json!({"title": "signed"}),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    room["id"].as_str().unwrap().to_owned()
}

/// Runs the vendors' libraries on `checks`.
pub(crate) fn oracle(checks: &[Value]) -> Vec<Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/oracle");
    assert!(
        std::path::Path::new(dir).join("node_modules").exists(),
        "tests/oracle/node_modules is missing: run scripts/test (it runs npm ci there)"
    );
    let mut child = Command::new("node")
        .arg("verify.mjs")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node (scripts/test installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::Array(checks.to_vec()).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "oracle failed");
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), checks.len());
    results
}

pub(crate) fn tencent_check(sig: &Value) -> Value {
    json!({"kind": "tencent", "sdkappid": TENCENT_APP, "key": TENCENT_KEY, "sig": sig})
}

fn livekit_check(token: &Value, secret: &str) -> Value {
    json!({"kind": "livekit", "api_key": LIVEKIT_KEY, "api_secret": secret, "token": token})
}

/// A UserSig whose HMAC no longer matches: one character of the signed document changed.
fn tampered(sig: &str) -> String {
    use base64::Engine as _;
    let mut doc = liveroom::credentials::tencent::decode(sig).unwrap();
    doc["TLS.expire"] = json!(doc["TLS.expire"].as_i64().unwrap() * 1000);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(doc.to_string().as_bytes()).unwrap();
    base64::engine::general_purpose::STANDARD
        .encode(z.finish().unwrap())
        .replace('+', "*")
        .replace('/', "-")
        .replace('=', "_")
}

#[tokio::test]
async fn tencent_user_sigs_and_private_map_keys_verify_with_tencents_library() {
    let store = embedded();
    let app = app_with(&store, &tencent_vars());
    let u = users(&app).await;
    let (room_a, room_b) = (
        create(&app, &u.anchor.1).await,
        create(&app, &u.anchor.1).await,
    );
    let now = app.clock.now().timestamp();

    let (_, anchor) = call(
        &app,
        vendor_tokens::RtcToken::ENDPOINT,
        &u.anchor.1,
        json!({"id": room_a}),
    )
    .await;
    let (_, viewer) = call(
        &app,
        vendor_tokens::RtcToken::ENDPOINT,
        &u.viewer.1,
        json!({"id": room_a}),
    )
    .await;
    register(&app, &u.viewer.0).await;
    let (status, token) = call(
        &app,
        vendor_tokens::Token::ENDPOINT,
        &u.viewer.1,
        json!({"device_id": "d1", "device_type": "ios"}),
    )
    .await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(
        (anchor["grant"].as_str(), viewer["grant"].as_str()),
        (Some("publish"), Some("subscribe"))
    );
    assert!(
        viewer.get("rtc_push_url").is_none(),
        "an audience member never gets a push URL"
    );

    let sigs = [
        &anchor["credentials"]["user_sig"],
        &anchor["credentials"]["private_map_key"],
        &viewer["credentials"]["private_map_key"],
        &token["im"]["user_sig"],
        &token["rtc"]["user_sig"],
    ];
    let mut checks: Vec<Value> = sigs.iter().map(|s| tencent_check(s)).collect();
    checks.push(tencent_check(&json!(tampered(
        anchor["credentials"]["private_map_key"].as_str().unwrap()
    ))));
    let results = oracle(&checks);

    for (i, r) in results[..5].iter().enumerate() {
        assert_eq!(r["valid"], true, "credential {i} does not verify: {r}");
        assert_eq!(r["expire"], TTL, "credential {i} lifetime");
        assert!((r["time"].as_i64().unwrap() - now).abs() <= 5);
    }
    assert_eq!(
        results[5]["valid"], false,
        "a tampered signature must fail: {}",
        results[5]
    );
    for r in &results[..2] {
        assert_eq!(r["identifier"], u.anchor.0.as_str());
    }
    for r in &results[2..5] {
        assert_eq!(r["identifier"], u.viewer.0.as_str());
    }

    let (anchor_buf, viewer_buf) = (&results[1]["userbuf"], &results[2]["userbuf"]);
    assert_eq!(anchor_buf["privileges"], 255);
    // Enter (2) + receive audio (8), video (32) and screen share (128); no send bit.
    assert_eq!(viewer_buf["privileges"], 2 | 8 | 32 | 128);
    assert_eq!(
        viewer_buf["privileges"].as_u64().unwrap() & (4 | 16 | 64 | 1),
        0
    );
    // Each buffer against its own signature's time (the two calls may straddle a second).
    for (buf, signed) in [(anchor_buf, &results[1]), (viewer_buf, &results[2])] {
        assert_eq!(buf["roomStr"], room_a.as_str(), "bound to room A");
        assert_ne!(
            buf["roomStr"],
            room_b.as_str(),
            "a key for room A never names room B"
        );
        assert_eq!(buf["sdkappid"], TENCENT_APP);
        assert_eq!(buf["expiresAt"].as_i64().unwrap(), buf_time(signed) + TTL);
        assert_eq!(buf["trailing"], 0);
    }
}

fn buf_time(result: &Value) -> i64 {
    result["time"].as_i64().unwrap()
}

#[tokio::test]
async fn tencent_stream_urls_carry_the_published_tx_secret() {
    let store = embedded();
    let app = app_with(&store, &tencent_vars());
    let u = users(&app).await;
    let room = create(&app, &u.anchor.1).await;
    let (_, mine) = call(&app, rooms::Get::ENDPOINT, &u.anchor.1, json!({"id": room})).await;
    let (_, theirs) = call(&app, rooms::Get::ENDPOINT, &u.viewer.1, json!({"id": room})).await;

    let push = mine["push_url_info"]["rtmp_url"].as_str().unwrap();
    let query: HashMap<&str, &str> = push
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .map(|kv| kv.split_once('=').unwrap())
        .collect();
    let expected = hex::encode(Md5::digest(
        format!("e12c46f2612d5106e2034781ab261ca3{room}{}", query["txTime"]).as_bytes(),
    ));
    assert_eq!(query["txSecret"], expected);
    let tx_time = i64::from_str_radix(query["txTime"], 16).unwrap();
    assert!(
        (tx_time - (app.clock.now().timestamp() + TTL)).abs() <= 5,
        "push URL expiry"
    );
    assert!(push.starts_with(&format!("rtmp://push.example.com/live/{room}?")));

    assert!(
        crate::common::all_empty(&theirs["push_url_info"]),
        "only the anchor sees push URLs"
    );
    for key in ["rtmp_url", "flv_url", "hls_url", "rts_url"] {
        let url = theirs["pull_url_info"][key].as_str().unwrap();
        assert!(
            url.contains("play.example.com/live/") && url.contains("txSecret="),
            "{key}: {url}"
        );
    }
    assert_eq!(theirs["link_info"]["rtc_push_url"], "");
    assert!(
        mine["link_info"]["rtc_push_url"]
            .as_str()
            .unwrap()
            .starts_with("trtc://cloud.tencent.com/push/")
    );
}

#[tokio::test]
async fn livekit_tokens_verify_with_livekits_library_and_carry_the_decided_grant() {
    let store = embedded();
    let app = app_with(&store, &livekit_vars());
    let u = users(&app).await;
    let (room_a, room_b) = (
        create(&app, &u.anchor.1).await,
        create(&app, &u.anchor.1).await,
    );

    let (_, anchor) = call(
        &app,
        vendor_tokens::RtcToken::ENDPOINT,
        &u.anchor.1,
        json!({"id": room_a}),
    )
    .await;
    let (_, viewer) = call(
        &app,
        vendor_tokens::RtcToken::ENDPOINT,
        &u.viewer.1,
        json!({"id": room_a}),
    )
    .await;
    let results = oracle(&[
        livekit_check(&anchor["credentials"]["token"], LIVEKIT_SECRET),
        livekit_check(&viewer["credentials"]["token"], LIVEKIT_SECRET),
        livekit_check(
            &viewer["credentials"]["token"],
            "another-secret-0123456789abcdefghijklmnop",
        ),
    ]);
    assert_eq!(
        results[2]["valid"], false,
        "a token must not verify under another secret"
    );
    let (a, v) = (&results[0]["claims"], &results[1]["claims"]);
    assert_eq!(
        (results[0]["valid"].as_bool(), results[1]["valid"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(
        (a["sub"].as_str(), v["sub"].as_str()),
        (Some(u.anchor.0.as_str()), Some(u.viewer.0.as_str()))
    );
    assert_eq!(a["iss"], LIVEKIT_KEY);
    for claims in [a, v] {
        assert_eq!(claims["video"]["room"], room_a.as_str());
        assert_ne!(claims["video"]["room"], room_b.as_str());
        assert_eq!(claims["video"]["roomJoin"], true);
        assert_eq!(claims["video"]["canSubscribe"], true);
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["nbf"].as_i64().unwrap(),
            TTL
        );
    }
    assert_eq!(a["video"]["canPublish"], true);
    assert_eq!(
        v["video"]["canPublish"], false,
        "an audience member never gets a publish grant"
    );
    assert_eq!(v["video"]["canPublishData"], false);
    assert_eq!(anchor["credentials"]["url"], "wss://rtc.example.com");
}

#[tokio::test]
async fn aliyun_credentials_follow_the_published_formulas_and_audiences_get_no_rtc_token() {
    let store = embedded();
    let app = app_with(&store, &aliyun_vars());
    let u = users(&app).await;
    let room = create(&app, &u.anchor.1).await;

    let (status, anchor) = call(
        &app,
        vendor_tokens::RtcToken::ENDPOINT,
        &u.anchor.1,
        json!({"id": room}),
    )
    .await;
    assert_eq!(status, 200, "{anchor}");
    let c = &anchor["credentials"];
    // The nonce-less form, and the user id in its Alibaba form (issue 21, 1).
    assert_eq!(c["nonce"], "");
    let vendor = format!("_{:02}{}", u.anchor.0.as_str().len(), u.anchor.0);
    assert_eq!(c["user_id"], vendor.as_str());
    let expected = hex::encode(Sha256::digest(
        format!(
            "rtc-app-1rtc-app-key-123456{room}{vendor}{}",
            c["timestamp"]
        )
        .as_bytes(),
    ));
    assert_eq!(c["token"], expected);
    assert!(
        anchor["rtc_push_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("artc://live.aliyun.com/push/{room}?"))
    );

    let (status, err) = call(
        &app,
        vendor_tokens::RtcToken::ENDPOINT,
        &u.viewer.1,
        json!({"id": room}),
    )
    .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (403, Some("RtcGrantUnavailable"))
    );

    register(&app, &u.viewer.0).await;
    let (_, token) = call(
        &app,
        vendor_tokens::Token::ENDPOINT,
        &u.viewer.1,
        json!({"device_id": "d1", "device_type": "web"}),
    )
    .await;
    let im = &token["im"];
    let auth = &im["auth"];
    let expected = hex::encode(Sha256::digest(
        format!(
            "im-app-1im-app-key-123456_{:02}{}{}{}{}",
            u.viewer.0.as_str().len(),
            u.viewer.0,
            auth["nonce"].as_str().unwrap(),
            auth["timestamp"],
            auth["role"].as_str().unwrap()
        )
        .as_bytes(),
    ));
    assert_eq!(im["app_token"], expected);
    assert_eq!(im["app_sign"], "im-app-sign");

    let (_, mine) = call(&app, rooms::Get::ENDPOINT, &u.anchor.1, json!({"id": room})).await;
    let (_, theirs) = call(&app, rooms::Get::ENDPOINT, &u.viewer.1, json!({"id": room})).await;
    assert!(crate::common::all_empty(&theirs["push_url_info"]));
    assert_eq!(theirs["link_info"]["rtc_push_url"], "");
    let check = |url: &str, path: &str, key: &str| {
        let auth_key = url
            .split("auth_key=")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap();
        let parts: Vec<&str> = auth_key.splitn(4, '-').collect();
        let exp: i64 = parts[0].parse().unwrap();
        assert!(
            (exp - (app.clock.now().timestamp() + TTL)).abs() <= 5,
            "expiry of {url}"
        );
        let sign = format!("{path}-{}-{}-{}-{key}", parts[0], parts[1], parts[2]);
        assert_eq!(parts[3], hex::encode(Md5::digest(sign.as_bytes())), "{url}");
    };
    let push = &mine["push_url_info"];
    check(
        push["rtmp_url"].as_str().unwrap(),
        &format!("/live/{room}"),
        "push-auth-key",
    );
    check(
        push["srt_url"].as_str().unwrap(),
        &format!("/live/{room}"),
        "push-auth-key",
    );
    let pull = &theirs["pull_url_info"];
    check(
        pull["flv_url"].as_str().unwrap(),
        &format!("/live/{room}.flv"),
        "pull-auth-key",
    );
    check(
        pull["hls_url"].as_str().unwrap(),
        &format!("/live/{room}.m3u8"),
        "pull-auth-key",
    );
    check(
        pull["rts_url"].as_str().unwrap(),
        &format!("/live/{room}"),
        "pull-auth-key",
    );
}

#[tokio::test]
async fn an_ended_room_has_no_credentials_for_anyone() {
    let store = embedded();
    let app = app_with(&store, &tencent_vars());
    let u = users(&app).await;
    let room = create(&app, &u.anchor.1).await;
    let (status, _) = call(
        &app,
        rooms::Stop::ENDPOINT,
        &u.anchor.1,
        json!({"id": room}),
    )
    .await;
    assert_eq!(status, 200);
    for (_, token) in [&u.anchor, &u.viewer] {
        let (status, err) = call(
            &app,
            vendor_tokens::RtcToken::ENDPOINT,
            token,
            json!({"id": room}),
        )
        .await;
        assert_eq!(
            (status, err["reason"].as_str()),
            (409, Some("RoomStateConflict"))
        );
        let (_, info) = call(&app, rooms::Get::ENDPOINT, token, json!({"id": room})).await;
        for field in ["push_url_info", "pull_url_info", "link_info"] {
            assert!(
                crate::common::all_empty(&info[field]),
                "{field} on an ended room: {}",
                info[field]
            );
        }
    }
    let (status, _) = call(
        &app,
        vendor_tokens::RtcToken::ENDPOINT,
        &u.anchor.1,
        json!({"id": uuid::Uuid::new_v4().to_string()}),
    )
    .await;
    assert_eq!(status, 404);
}

/// Issue 16, 7: the IM administrator the server calls Tencent's REST API as
/// (`TENCENT_IM_ADMIN`, any name) is nobody's user name, and no caller is ever signed a
/// UserSig for it: not through `token`, not through `rtcToken` (a TRTC UserSig is an IM one),
/// not through seed 004's login (whose `sdkUserSig` is one). On both stores.
#[tokio::test(flavor = "multi_thread")]
async fn the_configured_im_admin_is_reserved_and_never_signed_for() {
    for store in [embedded(), crate::common::dynamodb().await] {
        let mut vars = tencent_vars();
        vars.push(("TENCENT_IM_ADMIN", "ops_bot"));
        let app = app_with(&store, &vars);
        for name in ["ops_bot", "OPS_BOT", "Ops_Bot"] {
            let (status, out) = call(
                &app,
                accounts::Register::ENDPOINT,
                "",
                json!({"username": name, "password": "a long enough password"}),
            )
            .await;
            assert_eq!(
                (status, out["reason"].as_str()),
                (400, Some("SystemVerifyError")),
                "{name}: {out}"
            );
            assert!(out.to_string().contains("reserved"), "{out}");
        }
        // Someone who holds the name anyway (registered before the variable was set): a
        // token of theirs gets no IM or RTC UserSig, and no room credentials.
        let admin = UserId::parse("user_id", "ops_bot").unwrap();
        let token = crate::common::user_token(&app, &admin, 600).await;
        let (status, out) = call(
            &app,
            vendor_tokens::Token::ENDPOINT,
            &token,
            json!({"device_id": "D1", "device_type": "web"}),
        )
        .await;
        assert_eq!(status, 200, "{out}");
        assert!(out.get("im").is_none() && out.get("rtc").is_none(), "{out}");
        let providers = &app.config.providers;
        let now = app.clock.now().timestamp();
        for user in ["ops_bot", "OPS_BOT"] {
            let user = UserId::parse("user_id", user).unwrap();
            assert!(providers.im(&user, now).is_none(), "{user}");
            assert!(providers.rtc_user(&user, now).is_none(), "{user}");
            assert!(providers.tencent_user_sig(&user, now).is_none(), "{user}");
        }
        let other = UserId::parse("user_id", "ops_bot2").unwrap();
        assert!(providers.im(&other, now).is_some());
        // rtcToken for the admin's name, in a room: no UserSig either.
        let room = create(&app, &users(&app).await.anchor.1).await;
        let (status, creds) = call(
            &app,
            vendor_tokens::RtcToken::ENDPOINT,
            &token,
            json!({"id": room}),
        )
        .await;
        assert!(
            creds.get("credentials").is_none() && !creds.to_string().contains("user_sig"),
            "{status} {creds}"
        );
    }
}

/// Issue 16, 8: a member the anchor kicked (banned from the room) gets no stream URL or RTC
/// credential through `get` or `list` — as `rtcToken` refuses them: no `link_info`, no CDN pull
/// URLs, no co-host pull URL. Others still get theirs, in the same page. On both stores.
#[tokio::test(flavor = "multi_thread")]
async fn a_banned_member_reads_rooms_without_stream_urls() {
    for store in [embedded(), crate::common::dynamodb().await] {
        let app = app_with(&store, &tencent_vars());
        let u = users(&app).await;
        let (_, bystander) = users(&app).await.viewer;
        let banned_room = create(&app, &u.anchor.1).await;
        let other_room = create(&app, &u.anchor.1).await;
        for room in [&banned_room, &other_room] {
            let (status, out) = call(
                &app,
                rooms::Start::ENDPOINT,
                &u.anchor.1,
                json!({"id": room}),
            )
            .await;
            assert_eq!(status, 200, "{out}");
        }
        let (status, out) = call(
            &app,
            presence::Join::ENDPOINT,
            &u.viewer.1,
            json!({"id": banned_room}),
        )
        .await;
        assert_eq!(status, 200, "{out}");
        let (status, out) = call(
            &app,
            moderation::Kick::ENDPOINT,
            &u.anchor.1,
            json!({"id": banned_room, "user_id": u.viewer.0.as_str()}),
        )
        .await;
        assert_eq!(status, 200, "{out}");

        let signed = |room: &Value| {
            !room["link_info"]["rtc_pull_url"]
                .as_str()
                .unwrap()
                .is_empty()
                && !room["link_info"]["cdn_pull_info"]["flv_url"]
                    .as_str()
                    .unwrap()
                    .is_empty()
                && !room["pull_url_info"]["flv_url"]
                    .as_str()
                    .unwrap()
                    .is_empty()
        };
        let unsigned = |room: &Value| {
            crate::common::all_empty(&room["link_info"])
                && crate::common::all_empty(&room["pull_url_info"])
                && crate::common::all_empty(&room["push_url_info"])
                && !room["meeting_info"].as_str().unwrap().contains("://")
        };
        // get: the banned member sees the room, unsigned; a bystander sees it signed.
        let (status, room) = call(
            &app,
            rooms::Get::ENDPOINT,
            &u.viewer.1,
            json!({"id": banned_room}),
        )
        .await;
        assert_eq!(status, 200, "{room}");
        assert!(unsigned(&room), "{room}");
        let (_, room) = call(
            &app,
            rooms::Get::ENDPOINT,
            &bystander,
            json!({"id": banned_room}),
        )
        .await;
        assert!(signed(&room), "{room}");
        // rtcToken agrees.
        let (status, _) = call(
            &app,
            vendor_tokens::RtcToken::ENDPOINT,
            &u.viewer.1,
            json!({"id": banned_room}),
        )
        .await;
        assert_eq!(status, 403);
        // list: the banned room unsigned, the other signed, in one page.
        let (status, page) = call(
            &app,
            rooms::List::ENDPOINT,
            &u.viewer.1,
            json!({"page_num": 1, "page_size": 10, "anchor_id": u.anchor.0.as_str()}),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        let rooms = page.as_array().unwrap();
        assert_eq!(rooms.len(), 2, "{page}");
        for room in rooms {
            if room["id"] == banned_room.as_str() {
                assert!(unsigned(room), "{room}");
            } else {
                assert!(signed(room), "{room}");
            }
        }
    }
}
