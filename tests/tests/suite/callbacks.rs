//! The inbound vendor callbacks through their handlers, on both stores, with a manual clock
//! at the real time (LiveKit's own library signs with the real clock): every kind accepted
//! when valid and rejected when unsigned, mis-signed, stale or replayed (a replay is answered
//! as a success and changes nothing), and what each does to rooms and presence.

use liveroom::endpoint::Handler;
use liveroom::{callbacks, presence, rooms};
use std::collections::HashMap;
use std::sync::Arc;

use chrono::Duration;
use liveroom::clock::ManualClock;
use liveroom::domain::{RoomId, UserId};
use liveroom::endpoint::Endpoint;
use liveroom::{App, Config};
use md5::{Digest as _, Md5};
use serde_json::{Value, json};

use crate::common::{EVENTS_SECRET, TestStore, call, token_for};
use crate::credentials::oracle;

const PUSH_DOMAIN: &str = "push.example.com";
const ALIYUN_KEY: &str = "aliyun-callback-key-for-tests";
const TENCENT_KEY: &str = "tencent-callback-key-for-tests";
const LIVEKIT_KEY: &str = "lk_tests";
const LIVEKIT_SECRET: &str = "livekit-secret-for-the-tests-0123456789";

struct World {
    app: Arc<App>,
    clock: Arc<ManualClock>,
    anchor: String,
    _store: TestStore,
}

fn app_with(store: &TestStore, env: &[(&str, &str)], clock: Arc<ManualClock>) -> App {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([("JWT_PRIVATE_KEY".to_owned(), EVENTS_SECRET.to_owned())])
        .collect();
    let config = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    App::new(config, Arc::clone(&store.store), clock)
}

fn world(store: TestStore) -> World {
    let now = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp(), 0).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let app = app_with(
        &store,
        &[
            ("ALIYUN_LIVE_PUSH_DOMAIN", PUSH_DOMAIN),
            ("ALIYUN_LIVE_CALLBACK_KEY", ALIYUN_KEY),
            ("TENCENT_LIVE_CALLBACK_KEY", TENCENT_KEY),
            ("LIVEKIT_API_KEY", LIVEKIT_KEY),
            ("LIVEKIT_API_SECRET", LIVEKIT_SECRET),
        ],
        clock.clone(),
    );
    let anchor_id = UserId::parse("user", "anchor_cb").unwrap();
    crate::common::ensure_user_now(&*app.store, &anchor_id);
    let anchor = token_for(&app, &anchor_id, 86_400);
    World {
        app: Arc::new(app),
        clock,
        anchor,
        _store: store,
    }
}

fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

/// A request to a callback route, as API Gateway or the local server would pass it.
fn request(
    method: &str,
    uri: &str,
    headers: &[(&str, String)],
    body: &str,
) -> lambda_http::Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(uri);
    for (k, v) in headers {
        builder = builder.header(*k, v.as_str());
    }
    builder
        .body(lambda_http::Body::Text(body.to_owned()))
        .unwrap()
}

impl World {
    fn now(&self) -> i64 {
        liveroom::Clock::now(&*self.clock).timestamp()
    }

    async fn send(&self, endpoint: Endpoint, req: lambda_http::Request) -> (u16, Value) {
        let response = liveroom::http::handle(&self.app, endpoint, req).await;
        let status = response.status().as_u16();
        (
            status,
            serde_json::from_slice(response.body().as_ref()).unwrap(),
        )
    }

    async fn room(&self) -> String {
        let (status, room) = call(
            &self.app,
            rooms::Create::ENDPOINT,
            &self.anchor,
            json!({"title": "callbacks"}),
        )
        .await;
        assert_eq!(status, 200, "{room}");
        room["id"].as_str().unwrap().to_owned()
    }

    async fn status(&self, room: &str) -> i64 {
        let id = RoomId::parse("id", room).unwrap();
        self.app
            .store
            .room(&id)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_i64()
    }

    async fn anchor_does(&self, endpoint: Endpoint, room: &str) {
        let (status, out) = call(&self.app, endpoint, &self.anchor, json!({"id": room})).await;
        assert_eq!(status, 200, "{out}");
    }

    /// Alibaba's GET callback for `stream`, signed at `ts` with `key`.
    async fn aliyun(&self, action: &str, stream: &str, ts: i64, key: &str) -> (u16, Value) {
        let uri = format!(
            "/api/v1/live/handlePushStreamEventCallback?action={action}&ip=1.2.3.4&id={stream}\
             &app={PUSH_DOMAIN}&appname=live&time={ts}&usrargs=&node=cdn-1"
        );
        let headers = [
            ("ALI-LIVE-TIMESTAMP", ts.to_string()),
            (
                "ALI-LIVE-SIGNATURE",
                md5_hex(&format!("{PUSH_DOMAIN}|{ts}|{key}")),
            ),
        ];
        self.send(
            callbacks::AlibabaCallback::ENDPOINT,
            request("GET", &uri, &headers, ""),
        )
        .await
    }

    /// Tencent's push event (`event_type` 1 start, 0 end) with expiry `t`, signed with `key`.
    async fn tencent(
        &self,
        event_type: i64,
        stream: &str,
        sequence: &str,
        t: i64,
        key: &str,
    ) -> (u16, Value) {
        let body = json!({
            "app": PUSH_DOMAIN, "appid": 12345678, "appname": "live", "channel_id": stream,
            "errcode": 0, "errmsg": "ok", "event_time": t - 600, "event_type": event_type,
            "set_id": 2, "node": "100.121.160.92", "sequence": sequence, "stream_id": stream,
            "stream_param": "", "user_ip": "119.29.94.245", "width": 0, "height": 0,
            "sign": md5_hex(&format!("{key}{t}")), "t": t,
        });
        self.send(
            callbacks::TencentCallback::ENDPOINT,
            request(
                "POST",
                "/api/v1/live/callback/tencent",
                &[("content-type", "application/json".to_owned())],
                &body.to_string(),
            ),
        )
        .await
    }

    async fn livekit(&self, body: &Value, token: &str) -> (u16, Value) {
        self.send(
            callbacks::LivekitCallback::ENDPOINT,
            request(
                "POST",
                "/api/v1/live/callback/livekit",
                &[
                    ("content-type", "application/webhook+json".to_owned()),
                    ("authorization", token.to_owned()),
                ],
                &body.to_string(),
            ),
        )
        .await
    }
}

fn unauthorized(answer: &(u16, Value)) -> bool {
    answer.0 == 401 && answer.1["code"] == 110
}

both_stores!(alibaba_publish_events_move_the_room_once_each);
both_stores!(tencent_push_events_move_the_room_once_each);
both_stores!(livekit_webhooks_signed_by_livekit_move_rooms_and_presence);
both_stores!(genuine_streams_sharing_a_signature_all_act);
both_stores!(a_captured_signature_moves_only_plausible_rooms_once_each);

async fn alibaba_publish_events_move_the_room_once_each(w: World) {
    let room = w.room().await;
    let now = w.now();
    let ok = w.aliyun("publish", &room, now, ALIYUN_KEY).await;
    assert_eq!(ok, (200, json!({"code": 200, "message": "success"})));
    assert_eq!(w.status(&room).await, 1, "a push makes the room live");
    // A replay is acknowledged and changes nothing.
    w.anchor_does(rooms::Pause::ENDPOINT, &room).await;
    assert_eq!(w.aliyun("publish", &room, now, ALIYUN_KEY).await.0, 200);
    assert_eq!(w.status(&room).await, 0, "the replay did not restart it");
    // Issue 16, 5 and 21, 13: the signature covers only the timestamp, so each kind of event
    // moves the room at most once per signature value, whatever name of its stream: the end
    // of a push (one that drops within its second) acts once, then is a replay.
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    assert_eq!(
        w.aliyun("publish_done", &room, now, ALIYUN_KEY).await.0,
        200
    );
    assert_eq!(
        w.status(&room).await,
        0,
        "the push's end in the same second"
    );
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    let mix = format!("123456_{room}_anchor_cb_camera");
    for stream in [room.as_str(), mix.as_str()] {
        assert_eq!(
            w.aliyun("publish_done", stream, now, ALIYUN_KEY).await.0,
            200
        );
        assert_eq!(w.status(&room).await, 1, "{stream}: a replay");
    }
    w.anchor_does(rooms::Pause::ENDPOINT, &room).await;
    // A new push, then its end (signed later).
    assert_eq!(w.aliyun("publish", &room, now + 1, ALIYUN_KEY).await.0, 200);
    assert_eq!(w.status(&room).await, 1);
    assert_eq!(
        w.aliyun("publish_done", &room, now + 2, ALIYUN_KEY).await.0,
        200
    );
    assert_eq!(w.status(&room).await, 0, "the push ended: paused");

    // Mis-signed, stale (either way), unsigned, a timestamp that is not one.
    assert!(unauthorized(
        &w.aliyun("publish", &room, now + 3, "not-the-key").await
    ));
    assert!(unauthorized(
        &w.aliyun("publish", &room, now - 301, ALIYUN_KEY).await
    ));
    assert!(unauthorized(
        &w.aliyun("publish", &room, now + 301, ALIYUN_KEY).await
    ));
    let bare = request(
        "GET",
        &format!("/handlePushStreamEventCallback?action=publish&id={room}"),
        &[],
        "",
    );
    assert!(unauthorized(
        &w.send(callbacks::AlibabaCallback::ENDPOINT, bare).await
    ));
    let ts = "1e9".to_owned();
    let odd = request(
        "GET",
        &format!("/handlePushStreamEventCallback?action=publish&id={room}"),
        &[
            ("ALI-LIVE-TIMESTAMP", ts.clone()),
            (
                "ALI-LIVE-SIGNATURE",
                md5_hex(&format!("{PUSH_DOMAIN}|{ts}|{ALIYUN_KEY}")),
            ),
        ],
        "",
    );
    assert!(unauthorized(
        &w.send(callbacks::AlibabaCallback::ENDPOINT, odd).await
    ));
    assert_eq!(w.status(&room).await, 0, "no refused callback acted");
    // POST, the event in a JSON body, then in a form body (AUI's Java server takes any method).
    let signed = |ts: i64| {
        vec![
            ("ALI-LIVE-TIMESTAMP", ts.to_string()),
            (
                "ALI-LIVE-SIGNATURE",
                md5_hex(&format!("{PUSH_DOMAIN}|{ts}|{ALIYUN_KEY}")).to_uppercase(),
            ),
            ("content-type", "application/json".to_owned()),
        ]
    };
    let body = json!({"action": "publish", "id": room, "app": PUSH_DOMAIN, "appname": "live",
                      "time": (now + 4).to_string()});
    let post = request(
        "POST",
        "/api/v1/live/handlePushStreamEventCallback",
        &signed(now + 4),
        &body.to_string(),
    );
    assert_eq!(
        w.send(callbacks::AlibabaCallback::ENDPOINT, post).await.0,
        200
    );
    assert_eq!(w.status(&room).await, 1);
    let form = request(
        "POST",
        "/api/v1/live/handlePushStreamEventCallback",
        &signed(now + 5),
        &format!("action=publish_done&id={room}&app={PUSH_DOMAIN}"),
    );
    assert_eq!(
        w.send(callbacks::AlibabaCallback::ENDPOINT, form).await.0,
        200
    );
    assert_eq!(w.status(&room).await, 0);
    // AUI's RTC mix stream names the room second.
    assert_eq!(w.aliyun("publish", &mix, now + 6, ALIYUN_KEY).await.0, 200);
    assert_eq!(w.status(&room).await, 1);

    // An ended room never comes back; an unknown stream is acknowledged and ignored.
    w.anchor_does(rooms::Stop::ENDPOINT, &room).await;
    assert_eq!(w.aliyun("publish", &room, now + 7, ALIYUN_KEY).await.0, 200);
    assert_eq!(w.status(&room).await, 2);
    let ghost = RoomId::generate().to_string();
    assert_eq!(
        w.aliyun("publish", &ghost, now + 8, ALIYUN_KEY).await.0,
        200
    );
    assert_eq!(
        w.aliyun("publish", "some-stream", now + 9, ALIYUN_KEY)
            .await
            .0,
        200
    );
    // A signed callback without its event is the sender's mistake.
    let missing = request(
        "GET",
        "/handlePushStreamEventCallback?id=x",
        &signed(now + 10),
        "",
    );
    assert_eq!(
        w.send(callbacks::AlibabaCallback::ENDPOINT, missing)
            .await
            .0,
        400
    );
}

async fn tencent_push_events_move_the_room_once_each(w: World) {
    let room = w.room().await;
    let t = w.now() + 600;
    assert_eq!(
        w.tencent(1, &room, "6674468118806626493", t, TENCENT_KEY)
            .await,
        (200, json!({"code": 0}))
    );
    assert_eq!(w.status(&room).await, 1);
    // The same event again (Tencent retries): acknowledged, nothing changes.
    w.anchor_does(rooms::Pause::ENDPOINT, &room).await;
    let again = w
        .tencent(1, &room, "6674468118806626493", t, TENCENT_KEY)
        .await;
    assert_eq!(again, (200, json!({"code": 0})));
    assert_eq!(w.status(&room).await, 0);
    // Issue 16, 5 and 21, 13: the signature covers only `t`: each kind of event moves the
    // room once per `t` — the end acts once, then (any sequence) it and the start are replays.
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    assert_eq!(
        w.tencent(0, &room, "6674468118806626494", t, TENCENT_KEY)
            .await,
        (200, json!({"code": 0}))
    );
    assert_eq!(w.status(&room).await, 0, "the push's end with the same t");
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    for (kind, sequence) in [(0, "another-sequence"), (1, "another-sequence")] {
        assert_eq!(
            w.tencent(kind, &room, sequence, t, TENCENT_KEY).await,
            (200, json!({"code": 0}))
        );
        assert_eq!(
            w.status(&room).await,
            1,
            "a replayed signature moved nothing"
        );
    }
    // The push's end, signed on its own (a later `t`), pauses.
    assert_eq!(
        w.tencent(0, &room, "6674468118806626493", t + 1, TENCENT_KEY)
            .await
            .0,
        200
    );
    assert_eq!(w.status(&room).await, 0);
    // Mis-signed, expired (t is the signature's expiry), unsigned.
    assert!(unauthorized(
        &w.tencent(1, &room, "2", t, "wrong-key").await
    ));
    assert!(unauthorized(
        &w.tencent(1, &room, "3", w.now() - 1, TENCENT_KEY).await
    ));
    let unsigned = request(
        "POST",
        "/api/v1/live/callback/tencent",
        &[("content-type", "application/json".to_owned())],
        &json!({"event_type": 1, "stream_id": room, "sequence": "4"}).to_string(),
    );
    assert!(unauthorized(
        &w.send(callbacks::TencentCallback::ENDPOINT, unsigned).await
    ));
    let garbage = request("POST", "/api/v1/live/callback/tencent", &[], "not json");
    assert!(unauthorized(
        &w.send(callbacks::TencentCallback::ENDPOINT, garbage).await
    ));
    assert_eq!(w.status(&room).await, 0, "no refused callback acted");
    // Other event types (recording, screenshot) are acknowledged and ignored.
    assert_eq!(w.tencent(100, &room, "5", t, TENCENT_KEY).await.0, 200);
    assert_eq!(w.status(&room).await, 0);
    // Time passes: the once valid signature expires.
    w.clock.advance(Duration::seconds(601));
    assert!(unauthorized(
        &w.tencent(1, &room, "6", t, TENCENT_KEY).await
    ));
}

async fn livekit_webhooks_signed_by_livekit_move_rooms_and_presence(w: World) {
    let room = w.room().await;
    let event = |kind: &str, id: &str, participant: Option<&str>| {
        let mut e = json!({
            "event": kind, "id": id, "createdAt": w.now().to_string(),
            "room": {"sid": "RM_x", "name": room, "emptyTimeout": 300, "creationTime": "1"},
        });
        if let Some(p) = participant {
            e["participant"] = json!({"sid": "PA_x", "identity": p, "state": "ACTIVE"});
        }
        e
    };
    let events = [
        event("track_published", "EV_anchor_on", Some("anchor_cb")),
        event("participant_joined", "EV_joined", Some("viewer_cb")),
        event("participant_left", "EV_left", Some("viewer_cb")),
        event("room_finished", "EV_finished", None),
        event("track_published", "EV_track", Some("viewer_cb")),
        event("room_started", "EV_started", None),
        event("participant_joined", "EV_joined_again", Some("viewer_cb")),
    ];
    // LiveKit's own library signs them, as a LiveKit server would.
    let checks: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({"kind": "livekit_webhook_sign", "api_key": LIVEKIT_KEY,
                   "api_secret": LIVEKIT_SECRET, "body": e.to_string()})
        })
        .collect();
    let tokens: Vec<String> = oracle(&checks)
        .iter()
        .map(|r| r["token"].as_str().unwrap().to_owned())
        .collect();
    let online = |w: &World| {
        let room = RoomId::parse("id", &room).unwrap();
        let app = Arc::clone(&w.app);
        async move {
            app.store
                .count_online(
                    &room,
                    liveroom::Clock::now(&*app.clock) - Duration::seconds(20),
                )
                .await
                .unwrap()
        }
    };

    // Issue 16, 4: LiveKit sends room_started when the first participant of any grant
    // connects, and a viewer's connection is no anchor on air: neither it, nor a viewer
    // joining or publishing, starts the room.
    for i in [5, 1, 4] {
        assert_eq!(
            w.livekit(&events[i], &tokens[i]).await,
            (200, json!({"code": 0}))
        );
        assert_eq!(w.status(&room).await, 0, "{}: still prepared", events[i]);
    }
    assert_eq!(online(&w).await, 1, "participant_joined: present");
    // The anchor's track: live.
    assert_eq!(w.livekit(&events[0], &tokens[0]).await.0, 200);
    assert_eq!(
        w.status(&room).await,
        1,
        "the anchor's track_published: live"
    );
    // "Bearer " is tolerated; the replay changes nothing; nor does a viewer connecting undo
    // the anchor's pause.
    w.anchor_does(rooms::Pause::ENDPOINT, &room).await;
    let bearer = format!("Bearer {}", tokens[0]);
    assert_eq!(w.livekit(&events[0], &bearer).await.0, 200);
    assert_eq!(
        w.status(&room).await,
        0,
        "the replayed track_published did nothing"
    );
    assert_eq!(w.livekit(&events[6], &tokens[6]).await.0, 200);
    assert_eq!(
        w.status(&room).await,
        0,
        "a viewer connecting: still paused"
    );
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    assert_eq!(w.livekit(&events[2], &tokens[2]).await.0, 200);
    assert_eq!(online(&w).await, 0, "participant_left: gone");
    assert_eq!(w.livekit(&events[3], &tokens[3]).await.0, 200);
    assert_eq!(w.status(&room).await, 0, "room_finished: paused");

    // Refused: no token, another body than the one signed, another secret, expired.
    let fresh = event("room_started", "EV_other", None);
    let (status, out) = w
        .send(
            callbacks::LivekitCallback::ENDPOINT,
            request(
                "POST",
                "/api/v1/live/callback/livekit",
                &[],
                &fresh.to_string(),
            ),
        )
        .await;
    assert!(unauthorized(&(status, out)));
    assert!(
        unauthorized(&w.livekit(&fresh, &tokens[0]).await),
        "sha256 of another body"
    );
    let foreign = oracle(&[
        json!({"kind": "livekit_webhook_sign", "api_key": LIVEKIT_KEY,
        "api_secret": "another-secret-of-32-bytes-at-least!!", "body": fresh.to_string()}),
    ]);
    assert!(unauthorized(
        &w.livekit(&fresh, foreign[0]["token"].as_str().unwrap())
            .await
    ));
    let other_issuer = oracle(&[
        json!({"kind": "livekit_webhook_sign", "api_key": "someone_else",
        "api_secret": LIVEKIT_SECRET, "body": fresh.to_string()}),
    ]);
    assert!(unauthorized(
        &w.livekit(&fresh, other_issuer[0]["token"].as_str().unwrap())
            .await
    ));
    let signed = oracle(&[
        json!({"kind": "livekit_webhook_sign", "api_key": LIVEKIT_KEY,
        "api_secret": LIVEKIT_SECRET, "body": fresh.to_string()}),
    ]);
    let token = signed[0]["token"].as_str().unwrap();
    // Past `exp` and the minute of leeway (the token was signed on the real clock, a little
    // after this test's clock started).
    w.clock.advance(Duration::seconds(300 + 60 + 60));
    assert!(unauthorized(&w.livekit(&fresh, token).await), "expired");
    assert_eq!(w.status(&room).await, 0, "no refused webhook acted");
}

#[tokio::test]
async fn a_callback_whose_key_is_not_set_is_not_there() {
    let store = crate::common::embedded();
    let app = crate::common::app(&store);
    for (endpoint, uri) in [
        (
            callbacks::AlibabaCallback::ENDPOINT,
            "/handlePushStreamEventCallback",
        ),
        (
            callbacks::TencentCallback::ENDPOINT,
            "/api/v1/live/callback/tencent",
        ),
        (
            callbacks::LivekitCallback::ENDPOINT,
            "/api/v1/live/callback/livekit",
        ),
    ] {
        let method = if endpoint == callbacks::AlibabaCallback::ENDPOINT {
            "GET"
        } else {
            "POST"
        };
        let response =
            liveroom::http::handle(&app, endpoint, request(method, uri, &[], "{}")).await;
        assert_eq!(response.status().as_u16(), 404, "{uri}");
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["code"], 111, "{uri}: {body}");
    }
    // A wrong method is 405 with the methods that are allowed.
    let response = liveroom::http::handle(
        &app,
        callbacks::AlibabaCallback::ENDPOINT,
        request("PUT", "/handlePushStreamEventCallback", &[], ""),
    )
    .await;
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "GET, POST");
}

/// Our outbound webhooks pass LiveKit's own receiver checks (TokenVerifier with the key
/// `liveroom`, the sha256 claim), and fail them when the body is not the one signed.
#[tokio::test]
async fn our_webhooks_verify_with_livekits_receiver() {
    let secret = "webhook-secret-for-the-tests-only-0123456789";
    let hook = liveroom::delivery::Webhook::new(
        "http://127.0.0.1:9/",
        &liveroom::env::Secret::parse("WEBHOOK_SECRET", secret).unwrap(),
    );
    let body = json!({"id": "e1", "event": "room_started", "created_at": 1}).to_string();
    let token = hook
        .token(body.as_bytes(), chrono::Utc::now().timestamp())
        .unwrap();
    let check = |body: &str| {
        json!({"kind": "livekit_webhook_verify", "api_key": "liveroom", "api_secret": secret,
               "body": body, "token": token})
    };
    let results = oracle(&[check(&body), check(&body.replace("e1", "e2"))]);
    assert_eq!(results[0]["valid"], true, "{}", results[0]);
    assert_eq!(results[0]["claims"]["iss"], "liveroom");
    assert_eq!(results[1]["valid"], false, "{}", results[1]);
}

/// `n` rooms, each of its own anchor (one room per user, as a busy deployment has them): the
/// anchors' tokens and the rooms' ids.
async fn busy_rooms(w: &World, tag: &str, n: usize) -> Vec<(String, String)> {
    let mut rooms = Vec::with_capacity(n);
    for i in 0..n {
        let user = UserId::parse("user", &format!("{tag}_{i}")).unwrap();
        let anchor = crate::common::user_token(&w.app, &user, 86_400).await;
        let (status, room) = call(
            &w.app,
            rooms::Create::ENDPOINT,
            &anchor,
            json!({"title": tag}),
        )
        .await;
        assert_eq!(status, 200, "{room}");
        rooms.push((anchor, room["id"].as_str().unwrap().to_owned()));
    }
    rooms
}

/// Each anchor of `rooms` is in its room (joins, or keeps alive).
async fn anchors_in(w: &World, rooms: &[(String, String)], endpoint: Endpoint) {
    for (anchor, id) in rooms {
        let (status, out) = call(&w.app, endpoint, anchor, json!({"id": id})).await;
        assert_eq!(status, 200, "{out}");
    }
}

/// Issue 21, 13: a second with more streams than the old cap (16) is an ordinary busy second:
/// every genuine callback sharing one signature value acts, for both vendors.
async fn genuine_streams_sharing_a_signature_all_act(w: World) {
    let rooms = busy_rooms(&w, "busy", 40).await;
    // Long after creation (which no longer counts as the anchor's presence), the anchors enter.
    w.clock.advance(Duration::minutes(5));
    anchors_in(&w, &rooms, presence::Join::ENDPOINT).await;
    let now = w.now();
    for (ts, action, status) in [(now, "publish", 1), (now + 1, "publish_done", 0)] {
        for (i, (_, id)) in rooms.iter().enumerate() {
            let answer = w.aliyun(action, id, ts, ALIYUN_KEY).await;
            assert_eq!(
                answer,
                (200, json!({"code": 200, "message": "success"})),
                "{i}"
            );
        }
        for (i, (_, id)) in rooms.iter().enumerate() {
            assert_eq!(w.status(id).await, status, "Alibaba {action} of stream {i}");
        }
    }
    let t = now + 600;
    for (t, kind, status) in [(t, 1, 1), (t + 1, 0, 0)] {
        for (i, (_, id)) in rooms.iter().enumerate() {
            let answer = w
                .tencent(kind, id, &format!("seq-{i}"), t, TENCENT_KEY)
                .await;
            assert_eq!(answer, (200, json!({"code": 0})), "{i}");
        }
        for (i, (_, id)) in rooms.iter().enumerate() {
            assert_eq!(w.status(id).await, status, "Tencent {kind} of stream {i}");
        }
    }
    // A push that drops and comes back within one second: its end and its new start share a
    // signature value and a room, and both act (review of issue 21, 13).
    let (_, id) = &rooms[0];
    assert_eq!(w.aliyun("publish", id, now + 4, ALIYUN_KEY).await.0, 200);
    assert_eq!(w.status(id).await, 1);
    for action in ["publish_done", "publish"] {
        assert_eq!(w.aliyun(action, id, now + 5, ALIYUN_KEY).await.0, 200);
    }
    assert_eq!(w.status(id).await, 1, "the push is back");
    for kind in [0, 1] {
        let answer = w.tencent(kind, id, "seq-again", t + 5, TENCENT_KEY).await;
        assert_eq!(answer, (200, json!({"code": 0})));
    }
    assert_eq!(w.status(id).await, 1, "the push is back");
}

/// Issue 21, 13: what one captured signature (a genuine callback's, sent again with other
/// streams while fresh) can do, as "Residual risk" in docs/callbacks-and-webhooks.md says: each room at most once,
/// a start only where the anchor is in the room, a pause only of a live room, never an ended
/// room.
async fn a_captured_signature_moves_only_plausible_rooms_once_each(w: World) {
    let rooms = busy_rooms(&w, "target", 20).await;
    let (present, absent) = rooms.split_at(10);
    let ended = w.room().await;
    w.anchor_does(rooms::Stop::ENDPOINT, &ended).await;
    w.clock.advance(Duration::minutes(5));
    anchors_in(&w, present, presence::Join::ENDPOINT).await;
    let mine = &present[0].1;
    let now = w.now();
    // The genuine start the attacker captured.
    assert_eq!(w.aliyun("publish", mine, now, ALIYUN_KEY).await.0, 200);
    assert_eq!(w.status(mine).await, 1);
    // Sent again for every room: acknowledged (as a genuine one is) ...
    for (_, id) in &rooms[1..] {
        assert_eq!(w.aliyun("publish", id, now, ALIYUN_KEY).await.0, 200);
    }
    assert_eq!(w.aliyun("publish", &ended, now, ALIYUN_KEY).await.0, 200);
    // ... it starts only the rooms whose anchor is in them, never an absent anchor's or an
    // ended room.
    for (_, id) in &present[1..] {
        assert_eq!(w.status(id).await, 1, "an anchor in its room: plausible");
    }
    for (_, id) in absent {
        assert_eq!(
            w.status(id).await,
            0,
            "an absent anchor's room stays off air"
        );
    }
    assert_eq!(w.status(&ended).await, 2, "an ended room never comes back");
    // The same signature starts a room at most once, with any name of its stream: paused by
    // its anchor, a room stays paused whatever copy of the start comes again.
    for (anchor, id) in present {
        let (status, out) = call(&w.app, rooms::Pause::ENDPOINT, anchor, json!({"id": id})).await;
        assert_eq!(status, 200, "{out}");
        let mix = format!("123456_{id}_someone_camera");
        for stream in [id.as_str(), mix.as_str()] {
            assert_eq!(w.aliyun("publish", stream, now, ALIYUN_KEY).await.0, 200);
            assert_eq!(w.status(id).await, 0, "{stream}: one start per room");
        }
        let (status, out) = call(&w.app, rooms::Start::ENDPOINT, anchor, json!({"id": id})).await;
        assert_eq!(status, 200, "{out}");
    }
    // A captured end pauses each live room once; the anchors go on air again and the same
    // signature moves nothing more.
    let end = now + 1;
    assert_eq!(w.aliyun("publish_done", mine, end, ALIYUN_KEY).await.0, 200);
    for (_, id) in &rooms[1..] {
        assert_eq!(w.aliyun("publish_done", id, end, ALIYUN_KEY).await.0, 200);
    }
    for (_, id) in present {
        assert_eq!(w.status(id).await, 0, "a live room: paused once");
    }
    for (anchor, id) in present {
        let (status, out) = call(&w.app, rooms::Start::ENDPOINT, anchor, json!({"id": id})).await;
        assert_eq!(status, 200, "{out}");
    }
    for (_, id) in present {
        assert_eq!(w.aliyun("publish_done", id, end, ALIYUN_KEY).await.0, 200);
        assert_eq!(w.status(id).await, 1, "not twice");
    }
    // Anchors who stop keeping alive are absent too: two minutes on (the signature still
    // fresh), only those who kept alive can be started by a copy.
    let restart = now + 2;
    for (anchor, id) in present {
        let (status, out) = call(&w.app, rooms::Pause::ENDPOINT, anchor, json!({"id": id})).await;
        assert_eq!(status, 200, "{out}");
    }
    assert_eq!(w.aliyun("publish", mine, restart, ALIYUN_KEY).await.0, 200);
    w.clock.advance(Duration::minutes(2));
    let (kept, gone) = present[1..].split_at(4);
    anchors_in(&w, kept, presence::Keepalive::ENDPOINT).await;
    for (_, id) in &present[1..] {
        assert_eq!(w.aliyun("publish", id, restart, ALIYUN_KEY).await.0, 200);
    }
    for (_, id) in kept {
        assert_eq!(w.status(id).await, 1);
    }
    for (_, id) in gone {
        assert_eq!(
            w.status(id).await,
            0,
            "an anchor silent past ANCHOR_TIMEOUT_SECONDS"
        );
    }
}
