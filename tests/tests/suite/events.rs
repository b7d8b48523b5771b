//! The handlers driven with the API Gateway HTTP API v2 events of `events/`, exactly as the
//! Lambda runtime would pass them (and as `cargo lambda invoke --data-file` does).

use std::path::PathBuf;

use lambda_http::http::Method;
use lambda_http::{Body, Request};
use liveroom::App;
use liveroom::endpoint::{Endpoint, Handler};
use liveroom::http::{handle, resolve};
use liveroom::{
    accounts, callbacks, dialects, meeting, moderation, presence, rooms, service, vendor_tokens,
};
use serde_json::{Value, json};

use crate::common::{TestStore, app, dynamodb, embedded};

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn load(name: &str) -> Value {
    let path = events_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn request(event: &Value) -> Request {
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event")
}

/// The event with its JSON body changed by `edit`.
fn with_body(mut event: Value, edit: impl FnOnce(&mut Value)) -> Value {
    let mut body: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
    edit(&mut body);
    event["body"] = Value::String(body.to_string());
    event
}

fn with_token(mut event: Value, token: &str) -> Value {
    event["headers"]["authorization"] = Value::String(format!("Bearer {token}"));
    event
}

async fn call(app: &App, endpoint: Endpoint, event: &Value) -> (u16, Value) {
    let response = handle(app, endpoint, request(event)).await;
    let status = response.status().as_u16();
    let body = match response.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap(),
        other => panic!("expected a text body, got {other:?}"),
    };
    (status, body)
}

/// `create.json` and `create-base64.json` are for `create`; `rtc-token.json` for `rtc-token`.
fn endpoint_of(file_stem: &str) -> Endpoint {
    liveroom::http::endpoints()
        .into_iter()
        .filter(|e| file_stem == e.name() || file_stem.starts_with(&format!("{}-", e.name())))
        .max_by_key(|e| e.name().len())
        .unwrap_or_else(|| panic!("events/{file_stem}.json names no function"))
}

#[test]
fn every_event_is_a_valid_request_for_the_function_it_is_named_after() {
    let mut covered = Vec::new();
    for entry in std::fs::read_dir(events_dir()).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if stem == "sweeper" {
            // An EventBridge scheduled event, not an HTTP request.
            let event = load(&stem);
            assert_eq!(event["detail-type"], "Scheduled Event");
            continue;
        }
        if stem == "outbox" {
            // A DynamoDB stream batch (the keys of a new outbox entry), not an HTTP request.
            let event = load(&stem);
            let rooms = liveroom::lambda::outbox_rooms_of_stream(&event);
            assert_eq!(
                rooms.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
                ["3f2c1e9a-7b6d-4c5e-9f80-1a2b3c4d5e6f"]
            );
            continue;
        }
        let event = load(&stem);
        let req = request(&event);
        if stem == "console" || stem.starts_with("console-") {
            // The console's files: the function serves the one the path names, and no route
            // of the API claims it.
            let path = req.uri().path().to_owned();
            assert!(liveroom_console::serves(&path), "events/{stem}.json");
            assert!(
                liveroom_console::asset_at(&path).is_some(),
                "events/{stem}.json"
            );
            assert!(resolve(req.method(), &path).is_err(), "events/{stem}.json");
            continue;
        }
        let endpoint = endpoint_of(&stem);
        let method: Method = req.method().clone();
        assert_eq!(
            resolve(&method, req.uri().path()).unwrap(),
            endpoint,
            "events/{stem}.json routes elsewhere"
        );
        assert_eq!(event["version"], "2.0");
        covered.push(endpoint);
    }
    for endpoint in liveroom::http::endpoints() {
        assert!(
            covered.contains(&endpoint),
            "no sample event for {}",
            endpoint.name()
        );
    }
}

async fn a_room_walks_its_whole_life_through_the_sample_events(store: TestStore) {
    let app = app(&store);

    let (status, health) = call(&app, service::Health::ENDPOINT, &load("health")).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    assert_eq!(
        call(&app, service::Health::ENDPOINT, &load("health-root"))
            .await
            .0,
        200
    );
    let (status, doc) = call(&app, service::OpenApi::ENDPOINT, &load("openapi")).await;
    assert_eq!(
        (status, doc["openapi"].as_str().map(|v| &v[..2])),
        (200, Some("3."))
    );

    let (status, user) = call(&app, accounts::Register::ENDPOINT, &load("register")).await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["username"], "alice");
    assert!(user.get("password_hash").is_none());
    let (status, again) = call(&app, accounts::Register::ENDPOINT, &load("register")).await;
    assert_eq!(
        (status, again["reason"].as_str()),
        (409, Some("UserAlreadyExists"))
    );

    let (status, login) = call(&app, accounts::Login::ENDPOINT, &load("login")).await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["code"], 200);
    assert_eq!(login["user_id"], user["id"]);
    assert_eq!(
        call(&app, accounts::Login::ENDPOINT, &load("login-root"))
            .await
            .0,
        200
    );

    // The refresh event's token is for the sample user, who is not registered here.
    let (status, err) = call(&app, accounts::Refresh::ENDPOINT, &load("refresh")).await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (401, Some("UserTokenInvalid"))
    );
    let mine = with_body(load("refresh"), |b| {
        b["refresh_token"] = login["refresh_token"].clone()
    });
    let (status, pair) = call(&app, accounts::Refresh::ENDPOINT, &mine).await;
    assert_eq!(status, 200, "{pair}");
    assert_ne!(pair["token"], login["token"]);

    // The sample events carry a token for the sample user, signed with the events secret.
    // `token`, and every endpoint that signs a credential or URL (`create` signs the anchor's
    // push URLs), check the caller's session: the sample user must exist for them.
    for (endpoint, event) in [
        (vendor_tokens::Token::ENDPOINT, "token"),
        (rooms::Create::ENDPOINT, "create"),
    ] {
        let (status, err) = call(&app, endpoint, &load(event)).await;
        assert_eq!(
            (status, err["reason"].as_str()),
            (401, Some("UserTokenInvalid")),
            "{event}"
        );
    }
    let sample = with_body(load("register"), |b| {
        b["username"] = json!("5f2b0c9e8d7a4b6c9e1f0a2b3c4d5e6f")
    });
    assert_eq!(
        call(&app, accounts::Register::ENDPOINT, &sample).await.0,
        200
    );
    let (status, room) = call(&app, rooms::Create::ENDPOINT, &load("create")).await;
    assert_eq!(status, 200, "{room}");
    assert_eq!(room["anchor_id"], "5f2b0c9e8d7a4b6c9e1f0a2b3c4d5e6f");
    assert_eq!(
        (room["status"].as_i64(), room["mode"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(room["category"], "music");
    let (status, b64) = call(&app, rooms::Create::ENDPOINT, &load("create-base64")).await;
    assert_eq!(status, 200, "{b64}");
    assert_eq!(b64["title"], "直播标题 from a base64 body");

    let id = room["id"].clone();
    let for_room = |name: &str| with_body(load(name), |b| b["id"] = id.clone());

    // With no provider configured, credentials are absent (not faked) but the grant is decided.
    let (status, token) = call(&app, vendor_tokens::Token::ENDPOINT, &load("token")).await;
    assert_eq!(status, 200, "{token}");
    assert!(
        token["access_token"].is_string()
            && token.get("im").is_none()
            && token.get("rtc").is_none()
    );
    let (status, creds) = call(
        &app,
        vendor_tokens::RtcToken::ENDPOINT,
        &for_room("rtc-token"),
    )
    .await;
    assert_eq!(
        (status, creds["grant"].as_str(), creds["provider"].as_str()),
        (200, Some("publish"), Some("none"))
    );
    assert!(creds.get("credentials").is_none() && creds.get("rtc_push_url").is_none());
    // Without providers every object of the seed's model is there, with empty strings.
    assert!(
        crate::common::all_empty(&room["push_url_info"])
            && crate::common::all_empty(&room["link_info"]),
        "{room}"
    );

    // Presence through its sample events: join, keepalive, members, like, leave.
    let (status, joined) = call(&app, presence::Join::ENDPOINT, &for_room("join")).await;
    assert_eq!(
        (status, joined["metrics"]["pv"].as_u64()),
        (200, Some(1)),
        "{joined}"
    );
    let (status, alive) = call(&app, presence::Keepalive::ENDPOINT, &for_room("keepalive")).await;
    assert_eq!(
        (status, alive["interval_seconds"].as_u64()),
        (200, Some(10))
    );
    let (status, members) = call(&app, presence::Members::ENDPOINT, &for_room("members")).await;
    assert_eq!(
        members["members"][0]["user_id"], "5f2b0c9e8d7a4b6c9e1f0a2b3c4d5e6f",
        "{status} {members}"
    );
    let (status, liked) = call(&app, presence::Like::ENDPOINT, &for_room("like")).await;
    assert_eq!((status, liked["like_count"].as_u64()), (200, Some(3)));
    let (status, left) = call(&app, presence::Leave::ENDPOINT, &for_room("leave")).await;
    assert_eq!(
        (status, left["metrics"]["online_count"].as_u64()),
        (200, Some(0))
    );
    let (status, meeting) = call(
        &app,
        meeting::GetMeetingInfo::ENDPOINT,
        &for_room("get-meeting-info"),
    )
    .await;
    assert_eq!((status, meeting["version"].as_u64()), (200, Some(0)));
    let (status, meeting) = call(
        &app,
        meeting::UpdateMeetingInfo::ENDPOINT,
        &for_room("update-meeting-info"),
    )
    .await;
    assert_eq!(
        (status, meeting["members"].as_array().map(Vec::len)),
        (200, Some(2)),
        "{meeting}"
    );

    // Moderation: the anchor mutes, then kicks bob (who is not there: a ban before he comes).
    let (status, muted) = call(&app, moderation::Mute::ENDPOINT, &for_room("mute")).await;
    assert_eq!(
        (status, muted["mute"].as_bool()),
        (200, Some(true)),
        "{muted}"
    );
    let (status, kicked) = call(&app, moderation::Kick::ENDPOINT, &for_room("kick")).await;
    assert_eq!(
        (status, kicked["user_id"].as_str()),
        (200, Some("bob")),
        "{kicked}"
    );

    let (status, got) = call(&app, rooms::Get::ENDPOINT, &for_room("get")).await;
    assert_eq!((status, &got["id"]), (200, &id));

    // The dialects' sample events: seed 004 (identity in the parameters, the query string
    // here) and seed 000 (Bearer; without the Alibaba RTC provider it has no tokens to give).
    let (status, alive) = call(
        &app,
        dialects::tencent::TencentUsers::ENDPOINT,
        &load("tencent-users"),
    )
    .await;
    assert_eq!(
        (status, alive["errorCode"].as_i64()),
        (200, Some(0)),
        "{alive}"
    );
    assert_eq!(alive["data"]["userId"], "5f2b0c9e8d7a4b6c9e1f0a2b3c4d5e6f");
    let (status, rooms) = call(
        &app,
        dialects::tencent::TencentRooms::ENDPOINT,
        &load("tencent-rooms"),
    )
    .await;
    assert_eq!(
        (status, rooms["errorMessage"].as_str()),
        (200, Some("query_room ok")),
        "{rooms}"
    );
    assert!(
        rooms["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["roomId"] == id),
        "{rooms}"
    );
    let (status, call_err) = call(
        &app,
        dialects::aliyun::AliyunCall::ENDPOINT,
        &load("aliyun-call"),
    )
    .await;
    assert_eq!(
        (
            status,
            call_err["result"].as_bool(),
            call_err["code"].as_str()
        ),
        (404, Some(false), Some("112")),
        "{call_err}"
    );
    let (status, list) = call(&app, rooms::List::ENDPOINT, &load("list")).await;
    assert_eq!(status, 200);
    let ids: Vec<&Value> = list.as_array().unwrap().iter().map(|r| &r["id"]).collect();
    assert_eq!(ids, vec![&b64["id"], &id], "newest first");

    let (status, updated) = call(&app, rooms::Update::ENDPOINT, &for_room("update")).await;
    assert_eq!(
        (status, updated["title"].as_str()),
        (200, Some("Friday night live (encore)"))
    );
    assert_eq!(updated["version"], 1);

    for (name, endpoint, expected) in [
        ("start", rooms::Start::ENDPOINT, 1),
        ("pause", rooms::Pause::ENDPOINT, 0),
        ("start", rooms::Start::ENDPOINT, 1),
        ("stop", rooms::Stop::ENDPOINT, 2),
    ] {
        let (status, r) = call(&app, endpoint, &for_room(name)).await;
        assert_eq!(
            (status, r["status"].as_i64()),
            (200, Some(expected)),
            "{name}: {r}"
        );
    }
    let (status, err) = call(&app, rooms::Start::ENDPOINT, &for_room("start")).await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (409, Some("RoomStateConflict"))
    );

    // Someone else's token may not delete it.
    let stranger = with_token(for_room("delete"), login["token"].as_str().unwrap());
    let (status, err) = call(&app, rooms::Delete::ENDPOINT, &stranger).await;
    assert_eq!((status, err["code"].as_i64()), (403, Some(2010)));

    let (status, deleted) = call(&app, rooms::Delete::ENDPOINT, &for_room("delete")).await;
    assert_eq!((status, &deleted["id"]), (200, &id));
    let (status, err) = call(&app, rooms::Get::ENDPOINT, &for_room("get")).await;
    assert_eq!((status, err["code"].as_i64()), (404, Some(2004)));

    // Accounts through their sample events: the sample user was registered (for `token`);
    // alice is too (with the sample salt), so her signature login works once re-signed for now.
    let (status, me) = call(&app, accounts::User::ENDPOINT, &load("user")).await;
    assert_eq!(
        (status, me["id"].as_str()),
        (200, Some("5f2b0c9e8d7a4b6c9e1f0a2b3c4d5e6f")),
        "{me}"
    );
    let (status, err) = call(
        &app,
        accounts::SignatureLogin::ENDPOINT,
        &load("signature-login"),
    )
    .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (401, Some("UserOAuthParams")),
        "stale ts"
    );
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let signed = with_body(load("signature-login"), |b| {
        b["ts"] = json!(ts);
        b["signature"] = json!(liveroom::accounts::login_signature(
            "alice",
            "",
            &ts,
            b["nonce"].as_str().unwrap(),
            "sample-signature-salt-local-only-0123456789",
        ));
    });
    let (status, pair) = call(&app, accounts::SignatureLogin::ENDPOINT, &signed).await;
    assert_eq!(
        (status, pair["user_id"].as_str()),
        (200, Some("alice")),
        "{pair}"
    );
    let alice = pair["token"].as_str().unwrap();
    let (status, me) = call(
        &app,
        accounts::UpdateUser::ENDPOINT,
        &with_token(load("update-user"), alice),
    )
    .await;
    assert_eq!(
        (status, me["avatar"].as_str()),
        (200, Some("https://example.com/alice.png"))
    );
    let (status, out) = call(
        &app,
        accounts::Logout::ENDPOINT,
        &with_token(load("logout"), alice),
    )
    .await;
    assert_eq!((status, out["ended"].as_str()), (200, Some("session")));
    let (status, out) = call(
        &app,
        accounts::DeleteUser::ENDPOINT,
        &with_token(load("delete-user"), alice),
    )
    .await;
    assert_eq!((status, out["user_id"].as_str()), (200, Some("alice")));
}

#[tokio::test]
async fn a_room_walks_its_whole_life_through_the_sample_events_on_the_embedded_store() {
    a_room_walks_its_whole_life_through_the_sample_events(embedded()).await;
}

#[tokio::test]
async fn a_room_walks_its_whole_life_through_the_sample_events_on_dynamodb() {
    a_room_walks_its_whole_life_through_the_sample_events(dynamodb().await).await;
}

/// Issue 21, 8: the sample events' tokens are EdDSA, signed with the sample-events key the
/// docs/deploying.md names: its public key alone verifies them (as a function that only verifies holds
/// it), and another key does not.
#[test]
fn the_sample_tokens_are_eddsa_and_verify_with_the_sample_public_key() {
    use liveroom::auth::{TokenKeys, TokenKind};
    use liveroom::env::{JwtPrivateKey, JwtPublicKey};
    let public = JwtPublicKey::parse("JWT_PUBLIC_KEY", crate::common::EVENTS_PUBLIC_KEY).unwrap();
    let private = JwtPrivateKey::parse("JWT_PRIVATE_KEY", crate::common::EVENTS_SECRET).unwrap();
    assert_eq!(private.public_key(), &public);
    let verifying = TokenKeys::verifying(&public);
    let other = TokenKeys::issuing(&JwtPrivateKey::from_seed(
        *b"not-the-sample-events-key-012345",
    ));
    // A fixed instant before the samples' `exp` (2100).
    let at = chrono::DateTime::from_timestamp(1_900_000_000, 0).unwrap();
    let bearer = load("get")["headers"]["authorization"]
        .as_str()
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap()
        .to_owned();
    let refresh: Value = serde_json::from_str(load("refresh")["body"].as_str().unwrap()).unwrap();
    for (token, kind) in [
        (bearer.as_str(), TokenKind::Access),
        (
            refresh["refresh_token"].as_str().unwrap(),
            TokenKind::Refresh,
        ),
    ] {
        let caller = verifying
            .verify(token, kind, at)
            .expect("the sample key verifies");
        assert_eq!(caller.user_id.as_str(), "5f2b0c9e8d7a4b6c9e1f0a2b3c4d5e6f");
        assert!(other.verify(token, kind, at).is_err());
    }
}

#[tokio::test]
async fn a_function_answers_405_to_another_method() {
    let store = embedded();
    let app = app(&store);
    let mut event = load("create");
    event["requestContext"]["http"]["method"] = json!("GET");
    let (status, err) = call(&app, rooms::Create::ENDPOINT, &event).await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (405, Some("MethodNotAllowed"))
    );
    // The request id of API Gateway is the one the error body quotes.
    assert_eq!(err["request_id"], event["requestContext"]["requestId"]);
}

/// The callback samples are signed with the sample keys docs/callbacks-and-webhooks.md names: a server holding
/// them accepts each (at the Alibaba sample's time: its signature is fresh for 5 minutes), one
/// holding other keys refuses each.
#[tokio::test]
async fn the_callback_samples_are_signed_with_the_sample_keys() {
    let store = embedded();
    let with_keys = |suffix: &str| {
        let env: std::collections::HashMap<&str, String> = [
            ("JWT_PRIVATE_KEY", crate::common::EVENTS_SECRET.to_owned()),
            ("ALIYUN_LIVE_PUSH_DOMAIN", "push.example.com".to_owned()),
            (
                "ALIYUN_LIVE_RECORD_NOTIFY_DOMAIN",
                "hooks.example.com".to_owned(),
            ),
            (
                "ALIYUN_LIVE_CALLBACK_KEY",
                format!("sample-aliyun-callback-key{suffix}"),
            ),
            (
                "TENCENT_LIVE_CALLBACK_KEY",
                format!("sample-tencent-callback-key{suffix}"),
            ),
            ("LIVEKIT_API_KEY", "sample_livekit_key".to_owned()),
            (
                "LIVEKIT_API_SECRET",
                format!("sample-livekit-secret-local-only-0123456789{suffix}"),
            ),
        ]
        .into_iter()
        .collect();
        let config = liveroom::Config::from_lookup(|k| env.get(k).cloned()).unwrap();
        let clock = liveroom::clock::ManualClock::new(
            chrono::DateTime::from_timestamp(1_795_482_010, 0).unwrap(),
        );
        App::new(
            config,
            std::sync::Arc::clone(&store.store),
            std::sync::Arc::new(clock),
        )
    };
    let (right, wrong) = (with_keys(""), with_keys("-other"));
    for (name, endpoint) in [
        ("alibaba-callback", callbacks::AlibabaCallback::ENDPOINT),
        (
            "alibaba-callback-recording",
            callbacks::AlibabaCallback::ENDPOINT,
        ),
        ("tencent-callback", callbacks::TencentCallback::ENDPOINT),
        (
            "tencent-callback-recording",
            callbacks::TencentCallback::ENDPOINT,
        ),
        ("livekit-callback", callbacks::LivekitCallback::ENDPOINT),
        (
            "livekit-callback-recording",
            callbacks::LivekitCallback::ENDPOINT,
        ),
    ] {
        let (status, body) = call(&right, endpoint, &load(name)).await;
        assert_eq!(status, 200, "{name}: {body}");
        let (status, body) = call(&wrong, endpoint, &load(name)).await;
        assert_eq!((status, body["code"].as_u64()), (401, Some(110)), "{name}");
    }
}

/// The console's events, as the `console` function gets them: each answered with its file,
/// gzip-compressed (the events' browser takes gzip), under the console's security headers.
#[tokio::test]
async fn every_console_event_is_answered_with_its_file() {
    for stem in ["console", "console-file", "console-docs"] {
        let event = load(stem);
        let response = liveroom_console::respond(request(&event)).await;
        assert_eq!(response.status(), 200, "events/{stem}.json");
        let headers = response.headers();
        assert_eq!(headers["content-encoding"], "gzip", "events/{stem}.json");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .starts_with("default-src 'self'")
        );
        let Body::Binary(gz) = response.body() else {
            panic!("events/{stem}.json: a gzip body is binary (base64 through API Gateway)");
        };
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text)
            .unwrap();
        let asset = liveroom_console::asset_at(event["rawPath"].as_str().unwrap()).unwrap();
        assert_eq!(text.as_bytes(), asset.body, "events/{stem}.json");
    }
}
