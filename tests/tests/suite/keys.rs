//! Issue 21, 8: each endpoint's declared key purposes ([`Endpoint::secrets`]) are exactly those
//! its answers use, found by running it: served with its declared keys it answers as with every
//! key (no purpose missing), and served without any one of them it answers differently for
//! some vendor (no purpose it never uses). With `template.rs`, which derives each function's
//! variables from the declarations, the template gives each function exactly the keys its code
//! uses. The key purposes touch no store: the embedded store serves.

use liveroom::endpoint::Handler;
use liveroom::{accounts, dialects, meeting, presence, rooms, vendor_tokens};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use liveroom::domain::UserId;
use liveroom::endpoint::Endpoint;
use liveroom::env::SecretGroups;
use liveroom::env::Tokens;
use liveroom::{App, Config, SystemClock};
use serde_json::{Value, json};

use crate::common::{EVENTS_SECRET, TestStore, embedded, token_for};
use crate::credentials::{aliyun_vars, livekit_vars, tencent_vars};

/// Every vendor in every role it can serve.
fn vendors() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let mut livekit_rtc = livekit_vars();
    livekit_rtc.extend(
        tencent_vars()
            .into_iter()
            .filter(|(k, _)| *k != "RTC_PROVIDER"),
    );
    vec![
        ("aliyun", aliyun_vars()),
        ("tencent", tencent_vars()),
        ("livekit rtc, tencent live and im", livekit_rtc),
    ]
}

struct World {
    app: App,
    anchor: UserId,
    _store: TestStore,
}

async fn world(vars: &[(&str, &str)]) -> World {
    let store = embedded();
    let env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([("JWT_PRIVATE_KEY".to_owned(), EVENTS_SECRET.to_owned())])
        // One anchor makes every room here.
        .chain(
            [
                ("MAX_OPEN_ROOMS_PER_USER", "100"),
                ("ROOM_CREATIONS_PER_USER_PER_MINUTE", "100000"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
        .collect();
    let config = Config::from_lookup(|k| env.get(k).cloned()).expect("config");
    let app = App::new(config, Arc::clone(&store.store), Arc::new(SystemClock));
    let anchor = UserId::generate();
    let (status, out) = request(
        &app,
        accounts::Register::ENDPOINT,
        None,
        json!({"username": anchor.as_str(), "password": "a long enough password"}),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    World {
        app,
        anchor,
        _store: store,
    }
}

/// `endpoint`'s handler on `app` (already scoped as wanted): POST with a JSON body, or the
/// dialects' GET with the body's fields as the query string.
async fn request(app: &App, endpoint: Endpoint, token: Option<&str>, body: Value) -> (u16, Value) {
    let route = endpoint
        .routes()
        .iter()
        // Seed 004's users: the token login, which renews and signs the UserSig.
        .find(|r| {
            endpoint != dialects::tencent::TencentUsers::ENDPOINT
                || r.path.ends_with("user_login_token")
        })
        .expect("a route");
    let mut builder = lambda_http::http::Request::builder();
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let req = if route.method == liveroom::endpoint::ANY {
        let query: HashMap<String, String> = body
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let qs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let req = builder
            .method("GET")
            .uri(format!("{}?{}", route.path, qs.join("&")))
            .body(lambda_http::Body::Empty)
            .unwrap();
        lambda_http::RequestExt::with_query_string_parameters(req, query)
    } else {
        builder
            .method("POST")
            .uri(route.path)
            .header("content-type", "application/json")
            .body(lambda_http::Body::Text(body.to_string()))
            .unwrap()
    };
    let response = liveroom::http::handle(app, endpoint, req).await;
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null),
    )
}

/// Where an answer has something: the paths of its non-empty leaves (a string that holds JSON,
/// like `meeting_info`, looked into), and its status. Signed values differ call to call; what
/// a missing key changes is whether they are there.
fn shape(status: u16, answer: &Value) -> BTreeSet<String> {
    fn walk(path: String, v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => map
                .iter()
                .for_each(|(k, v)| walk(format!("{path}/{k}"), v, out)),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, v)| walk(format!("{path}/{i}"), v, out)),
            Value::String(s) if s.starts_with(['{', '[']) => match serde_json::from_str(s) {
                Ok(inner) => walk(path, &inner, out),
                Err(_) => {
                    out.insert(path);
                }
            },
            Value::String(s) if s.is_empty() => {}
            Value::Null => {}
            _ => {
                out.insert(path);
            }
        }
    }
    let mut out = BTreeSet::from([format!("status {status}")]);
    walk(String::new(), answer, &mut out);
    out
}

/// A live co-host room of the anchor, fresh for each call (the calls change it), and its info.
async fn live_room(w: &World, token: &str) -> Value {
    let (status, room) = request(
        &w.app,
        rooms::Create::ENDPOINT,
        Some(token),
        json!({"title": "keys", "mode": 1}),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    let (status, room) = request(
        &w.app,
        rooms::Start::ENDPOINT,
        Some(token),
        json!({"id": room["id"]}),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    room
}

/// The endpoints that hold any vendor key or issue tokens, each called as the anchor of a live
/// room (so that whatever it can sign, it signs), served with `reads`.
async fn answer(w: &World, endpoint: Endpoint, reads: SecretGroups) -> BTreeSet<String> {
    let app = w.app.scoped(reads);
    let token = token_for(&w.app, &w.anchor, 600);
    let room = live_room(w, &token).await;
    let id = room["id"].clone();
    if endpoint == meeting::GetMeetingInfo::ENDPOINT {
        // The anchor on the meeting list, so that the list has a pull URL to sign.
        let (status, meeting) = request(
            &w.app,
            meeting::UpdateMeetingInfo::ENDPOINT,
            Some(&token),
            meeting_body(w, &room),
        )
        .await;
        assert_eq!(status, 200, "{meeting}");
    }
    let body = match endpoint {
        rooms::Create::ENDPOINT => json!({"title": "another", "mode": 1}),
        // The newest of the anchor's rooms: the one just made.
        rooms::List::ENDPOINT => {
            json!({"anchor_id": w.anchor.as_str(), "page_num": 1, "page_size": 1})
        }
        rooms::Update::ENDPOINT => json!({"id": id, "title": "changed"}),
        meeting::UpdateMeetingInfo::ENDPOINT => meeting_body(w, &room),
        vendor_tokens::Token::ENDPOINT => json!({"device_id": "d1", "device_type": "web"}),
        dialects::tencent::TencentUsers::ENDPOINT => {
            let (status, out) = request(
                &app,
                endpoint,
                None,
                json!({"userId": w.anchor.as_str(), "token": token}),
            )
            .await;
            return shape(status, &out);
        }
        dialects::aliyun::AliyunCall::ENDPOINT => {
            json!({"channelId": format!("call-{}", fastrand::u32(..))})
        }
        _ => json!({"id": id}),
    };
    let (status, out) = request(&app, endpoint, Some(&token), body).await;
    shape(status, &out)
}

/// An `updateMeetingInfo` body putting the anchor on a fresh room's meeting list.
fn meeting_body(w: &World, room: &Value) -> Value {
    json!({
        "id": room["id"],
        // The meeting list's own version: 0 in a fresh room.
        "version": 0,
        "members": [{"user_id": w.anchor.as_str(), "user_nick": "a", "camera_opened": true, "mic_opened": true}],
    })
}

/// One of [`SecretGroups`]'s vendor purposes.
type Flag = fn(&mut SecretGroups) -> &mut bool;

/// `reads` without one purpose: its names and what is left.
fn without_each(reads: SecretGroups) -> Vec<(&'static str, SecretGroups)> {
    let mut out = Vec::new();
    match reads.tokens {
        Tokens::Issue => out.push((
            "issuing tokens",
            SecretGroups {
                tokens: Tokens::Verify,
                ..reads
            },
        )),
        Tokens::Verify => out.push((
            "verifying tokens",
            SecretGroups {
                tokens: Tokens::None,
                ..reads
            },
        )),
        Tokens::None => {}
    }
    let flags: [(&str, Flag); 7] = [
        ("live push", |r| &mut r.live_push),
        ("live pull", |r| &mut r.live_pull),
        ("room credentials", |r| &mut r.rtc_room),
        ("Alibaba room credentials", |r| &mut r.rtc_room_aliyun),
        ("a user's UserSig", |r| &mut r.user_sig),
        ("an Alibaba IM token", |r| &mut r.im_token),
        ("the IM administrator's UserSig", |r| &mut r.im_admin),
    ];
    for (name, flag) in flags {
        let mut less = reads;
        if *flag(&mut less) {
            *flag(&mut less) = false;
            out.push((name, less));
        }
    }
    out
}

/// The endpoints checked here: every one whose function holds a vendor key, or issues tokens.
const SIGNING: [Endpoint; 17] = [
    rooms::Create::ENDPOINT,
    rooms::Get::ENDPOINT,
    rooms::List::ENDPOINT,
    rooms::Update::ENDPOINT,
    rooms::Start::ENDPOINT,
    rooms::Pause::ENDPOINT,
    rooms::Stop::ENDPOINT,
    rooms::Delete::ENDPOINT,
    presence::Join::ENDPOINT,
    presence::Leave::ENDPOINT,
    vendor_tokens::Token::ENDPOINT,
    vendor_tokens::RtcToken::ENDPOINT,
    meeting::GetMeetingInfo::ENDPOINT,
    meeting::UpdateMeetingInfo::ENDPOINT,
    dialects::tencent::TencentUsers::ENDPOINT,
    dialects::aliyun::AliyunCall::ENDPOINT,
    accounts::Refresh::ENDPOINT,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_endpoint_declares_exactly_the_key_purposes_its_answers_use() {
    // Every endpoint that signs for a vendor or issues tokens is checked (login, signature
    // login and the refresh's issuing are in `accounts`'s suites; refresh is here).
    for endpoint in liveroom::http::endpoints() {
        let reads = endpoint.secrets();
        let signs = reads.live_push
            || reads.live_pull
            || reads.rtc_room
            || reads.rtc_room_aliyun
            || reads.user_sig
            || reads.im_token;
        assert!(
            !signs || SIGNING.contains(&endpoint),
            "{endpoint:?} holds vendor keys: check it here"
        );
    }
    let mut worlds = Vec::new();
    for (vendor, vars) in vendors() {
        worlds.push((vendor, world(&vars).await));
    }
    let mut wrong = Vec::new();
    for endpoint in SIGNING {
        if endpoint == accounts::Refresh::ENDPOINT {
            continue; // Its body is a refresh token: checked below.
        }
        let declared = endpoint.secrets();
        let mut used: BTreeMap<&str, bool> = BTreeMap::new();
        for (vendor, w) in &worlds {
            let full = answer(w, endpoint, SecretGroups::ALL).await;
            let scoped = answer(w, endpoint, declared).await;
            if scoped != full {
                wrong.push(format!(
                    "{endpoint:?} ({vendor}) misses a key it uses: with every key {full:?}, with its own {scoped:?}"
                ));
            }
            for (purpose, less) in without_each(declared) {
                let changed = answer(w, endpoint, less).await != full;
                *used.entry(purpose).or_default() |= changed;
            }
        }
        for (purpose, used) in used {
            if !used {
                wrong.push(format!(
                    "{endpoint:?} declares {purpose} but answers the same without it, for every vendor"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `refresh` issues (it needs the private key) and nothing else.
#[tokio::test]
async fn refresh_issues_with_the_private_key_alone() {
    let (_, vars) = vendors().remove(1);
    let w = world(&vars).await;
    let refresh = w
        .app
        .tokens
        .issue(
            &w.anchor,
            liveroom::auth::TokenKind::Refresh,
            liveroom::Clock::now(&*w.app.clock),
            std::time::Duration::from_secs(600),
        )
        .unwrap()
        .token;
    let body = json!({"refresh_token": refresh});
    let declared = accounts::Refresh::ENDPOINT.secrets();
    assert_eq!(declared, SecretGroups::ISSUING);
    let (status, out) = request(
        &w.app.scoped(declared),
        accounts::Refresh::ENDPOINT,
        None,
        body.clone(),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let verify_only = SecretGroups {
        tokens: Tokens::Verify,
        ..declared
    };
    let (status, _) = request(
        &w.app.scoped(verify_only),
        accounts::Refresh::ENDPOINT,
        None,
        body,
    )
    .await;
    assert_eq!(
        status, 500,
        "a function holding only the public key cannot mint"
    );
}
