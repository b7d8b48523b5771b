//! Recordings and replay (issue 26) through the handlers, on both stores, with a manual clock at
//! the real time: a recorded room's `vod_info` is preparing until its files arrive (signed
//! vendor callbacks), then ready with its playlist in recording order; a vendor's failure and
//! the sweeper's timeout fail it; a replayed, forged or implausible recording callback changes
//! nothing; a room that opted out (or a server with `RECORDING=off`) shows the empty default;
//! `list` shows what `get` shows.

use liveroom::endpoint::Handler;
use liveroom::{callbacks, rooms};
use std::collections::HashMap;
use std::sync::Arc;

use chrono::Duration;
use liveroom::clock::ManualClock;
use liveroom::domain::UserId;
use liveroom::endpoint::Endpoint;
use liveroom::{App, Config};
use md5::{Digest as _, Md5};
use serde_json::{Value, json};

use crate::common::{EVENTS_SECRET, TestStore, call, token_for};

const TENCENT_KEY: &str = "tencent-callback-key-for-tests";
const ALIYUN_KEY: &str = "aliyun-callback-key-for-tests";
const PUSH_DOMAIN: &str = "push.example.com";
const RECORD_DOMAIN: &str = "hooks.example.com";
const LIVEKIT_KEY: &str = "lk_tests";
const LIVEKIT_SECRET: &str = "livekit-secret-for-the-tests-0123456789";
const TIMEOUT_SECS: i64 = 600;

struct World {
    app: Arc<App>,
    clock: Arc<ManualClock>,
    anchor: String,
    _store: TestStore,
}

fn world_with(store: TestStore, recording: &str) -> World {
    world_with_vars(store, recording, &[])
}

fn world_with_vars(store: TestStore, recording: &str, vars: &[(&str, &str)]) -> World {
    let now = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp(), 0).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let env: HashMap<String, String> = [
        ("JWT_PRIVATE_KEY", EVENTS_SECRET),
        ("TENCENT_LIVE_CALLBACK_KEY", TENCENT_KEY),
        ("RECORDING", recording),
        ("ALIYUN_LIVE_PUSH_DOMAIN", PUSH_DOMAIN),
        ("ALIYUN_LIVE_CALLBACK_KEY", ALIYUN_KEY),
        ("ALIYUN_LIVE_RECORD_NOTIFY_DOMAIN", RECORD_DOMAIN),
        ("LIVEKIT_API_KEY", LIVEKIT_KEY),
        ("LIVEKIT_API_SECRET", LIVEKIT_SECRET),
        ("RECORDING_TIMEOUT_SECONDS", "600"),
        ("TENCENT_VOD_PLAY_DOMAIN", VOD_DOMAIN),
    ]
    .iter()
    .chain(vars)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    let app = App::new(config, Arc::clone(&store.store), clock.clone());
    let anchor_id = UserId::parse("user", "anchor_rec").unwrap();
    crate::common::ensure_user_now(&*app.store, &anchor_id);
    let anchor = token_for(&app, &anchor_id, 86_400);
    World {
        app: Arc::new(app),
        clock,
        anchor,
        _store: store,
    }
}

fn world(store: TestStore) -> World {
    world_with(store, "on")
}

fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

impl World {
    fn now(&self) -> i64 {
        liveroom::Clock::now(&*self.clock).timestamp()
    }

    async fn room(&self, body: Value) -> String {
        let (status, room) = call(&self.app, rooms::Create::ENDPOINT, &self.anchor, body).await;
        assert_eq!(status, 200, "{room}");
        assert_eq!(room["vod_info"], json!({"status": 0, "playlist": []}));
        room["id"].as_str().unwrap().to_owned()
    }

    async fn anchor_does(&self, endpoint: Endpoint, room: &str) {
        let (status, out) = call(&self.app, endpoint, &self.anchor, json!({"id": room})).await;
        assert_eq!(status, 200, "{out}");
    }

    /// A room that was live and ended.
    async fn ended_room(&self, body: Value) -> String {
        let room = self.room(body).await;
        self.anchor_does(rooms::Start::ENDPOINT, &room).await;
        self.clock.advance(Duration::seconds(120));
        self.anchor_does(rooms::Stop::ENDPOINT, &room).await;
        room
    }

    async fn get(&self, room: &str) -> Value {
        let (status, out) = call(
            &self.app,
            rooms::Get::ENDPOINT,
            &self.anchor,
            json!({"id": room}),
        )
        .await;
        assert_eq!(status, 200, "{out}");
        out
    }

    async fn vod(&self, room: &str) -> (Value, Value) {
        let out = self.get(room).await;
        (out["vod_id"].clone(), out["vod_info"].clone())
    }

    async fn send_tencent(&self, body: &Value) -> (u16, Value) {
        let req = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/api/v1/live/callback/tencent")
            .header("content-type", "application/json")
            .body(lambda_http::Body::Text(body.to_string()))
            .unwrap();
        let endpoint = callbacks::TencentCallback::ENDPOINT;
        let response = liveroom::http::handle(&self.app, endpoint, req).await;
        (
            response.status().as_u16(),
            serde_json::from_slice(response.body().as_ref()).unwrap(),
        )
    }
}

impl World {
    /// Alibaba's recording callback with `body`, signed over `domain` at `ts` with `key`.
    async fn send_alibaba(&self, body: &Value, domain: &str, ts: i64, key: &str) -> (u16, Value) {
        let req = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/api/v1/live/callback/alibaba/record")
            .header("content-type", "application/json")
            .header("ali-live-timestamp", ts.to_string())
            .header(
                "ali-live-signature",
                md5_hex(&format!("{domain}|{ts}|{key}")),
            )
            .body(lambda_http::Body::Text(body.to_string()))
            .unwrap();
        let endpoint = callbacks::AlibabaCallback::ENDPOINT;
        let response = liveroom::http::handle(&self.app, endpoint, req).await;
        (
            response.status().as_u16(),
            serde_json::from_slice(response.body().as_ref()).unwrap(),
        )
    }
}

/// Alibaba's recording callback body for `stream`'s file recorded from `start` to `stop`.
fn alibaba_file(stream: &str, name: &str, start: i64, stop: i64) -> Value {
    json!({
        "domain": "play.example.com", "app": "live", "stream": stream,
        "uri": format!("live/{stream}/{name}.m3u8"), "duration": (stop - start) as f64 + 0.25,
        "start_time": start, "stop_time": stop,
        "push_args": {"callback_args1": "value1"},
    })
}

/// Tencent's recording event (`event_type` 100) for `stream`'s file `file_id` recorded from
/// `start` to `end`, with expiry `t`, signed with `key`.
/// A Tencent VOD file id (digits), as the tests' first file.
const F1: &str = "5285890781000000001";

fn tencent_file(stream: &str, file_id: &str, start: i64, end: i64, t: i64, key: &str) -> Value {
    json!({
        "event_type": 100, "appid": 12345678, "app": "push.example.com", "appname": "live",
        "stream_id": stream, "channel_id": stream, "file_id": file_id,
        "record_file_id": file_id, "file_format": "mp4", "task_id": "1",
        "start_time": start, "end_time": end, "start_time_usec": 0, "end_time_usec": 0,
        "duration": end - start, "file_size": 2_000_000, "stream_param": "",
        "video_url": format!("https://1250000000.vod2.myqcloud.com/d0/{file_id}/f0.mp4"),
        "record_temp_id": "", "media_start_time": 0, "record_bps": 0, "callback_ext": "{}",
        "sign": md5_hex(&format!("{key}{t}")), "t": t,
    })
}

/// Every seed 002 `PlayInfo` field, with its declared type.
fn assert_play_info(info: &Value) {
    let ints = ["bit_depth", "encrypt", "height", "size", "width"];
    let strings = [
        "bit_rate",
        "creation_time",
        "definition",
        "duration",
        "encrypt_type",
        "format",
        "fps",
        "hdr_type",
        "play_url",
        "status",
        "stream_type",
        "watermark_id",
    ];
    let object = info.as_object().unwrap();
    assert_eq!(object.len(), ints.len() + strings.len(), "{info}");
    for k in ints {
        assert!(info[k].is_i64(), "{k} in {info}");
    }
    for k in strings {
        assert!(info[k].is_string(), "{k} in {info}");
    }
}

both_stores!(a_tencent_recording_is_preparing_then_ready_in_order);
both_stores!(a_failure_and_a_timeout_fail_a_recording);
both_stores!(replayed_forged_and_implausible_recordings_change_nothing);
both_stores!(an_alibaba_recording_is_ready_in_order_and_signed_over_its_own_domain);
both_stores!(livekit_egresses_bring_their_files_or_their_failure);

mod webhook {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::a_replay_ready_or_failed_is_reported_once_to_the_webhook(super::hooked(
            crate::common::embedded(),
        ))
        .await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn dynamodb_store() {
        super::a_replay_ready_or_failed_is_reported_once_to_the_webhook(super::hooked(
            crate::common::dynamodb().await,
        ))
        .await;
    }
}

mod playback {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::a_playback_url_is_signed_for_a_viewer_and_none_for_a_banned_member(super::signing(
            crate::common::embedded(),
        ))
        .await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn dynamodb_store() {
        super::a_playback_url_is_signed_for_a_viewer_and_none_for_a_banned_member(super::signing(
            crate::common::dynamodb().await,
        ))
        .await;
    }
}

mod recording_off {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::nothing_is_recorded_where_recording_is_off(super::world_with(
            crate::common::embedded(),
            "off",
        ))
        .await;
    }
}

async fn a_tencent_recording_is_preparing_then_ready_in_order(w: World) {
    let room = w.room(json!({"title": "recorded"})).await;
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    let first_start = w.now();
    w.clock.advance(Duration::seconds(120));
    w.anchor_does(rooms::Pause::ENDPOINT, &room).await;
    w.clock.advance(Duration::seconds(30));
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    let second_start = w.now();
    w.clock.advance(Duration::seconds(120));
    w.anchor_does(rooms::Stop::ENDPOINT, &room).await;
    assert_eq!(
        w.vod(&room).await,
        (json!(""), json!({"status": 0, "playlist": []}))
    );
    let opted_out = w
        .ended_room(json!({"title": "not recorded", "record": false}))
        .await;

    // The second file arrives first: the playlist is in recording order all the same.
    let t = w.now() + 600;
    let second = tencent_file(
        &room,
        "5285890781000000002",
        second_start,
        second_start + 120,
        t,
        TENCENT_KEY,
    );
    assert_eq!(w.send_tencent(&second).await, (200, json!({"code": 0})));
    let (vod_id, info) = w.vod(&room).await;
    assert_eq!(
        (vod_id, info["status"].clone()),
        (json!("5285890781000000002"), json!(1))
    );
    w.clock.advance(Duration::seconds(5));
    let t = w.now() + 600;
    let first = tencent_file(
        &room,
        "5285890781000000001",
        first_start,
        first_start + 120,
        t,
        TENCENT_KEY,
    );
    assert_eq!(w.send_tencent(&first).await, (200, json!({"code": 0})));
    let (vod_id, info) = w.vod(&room).await;
    assert_eq!(
        vod_id,
        json!("5285890781000000002"),
        "the first file to arrive names the recording (an earlier one, arriving later, goes first in the playlist)"
    );
    assert_eq!(info["status"], 1);
    let playlist = info["playlist"].as_array().unwrap();
    assert_eq!(playlist.len(), 2);
    for p in playlist {
        assert_play_info(p);
        assert_eq!(p["format"], "mp4");
        assert_eq!(p["duration"], "120.000");
        assert_eq!(p["size"], 2_000_000);
    }
    let created = |p: &Value| p["creation_time"].as_str().unwrap().to_owned();
    assert!(created(&playlist[0]) < created(&playlist[1]), "{info}");

    // A room that opted out keeps the empty default, whatever arrives for it.
    let other = tencent_file(
        &opted_out,
        "5285890781000000009",
        second_start,
        second_start + 60,
        t,
        TENCENT_KEY,
    );
    assert_eq!(w.send_tencent(&other).await, (200, json!({"code": 0})));
    assert_eq!(
        w.vod(&opted_out).await,
        (json!(""), json!({"status": 0, "playlist": []}))
    );

    // `list` shows the same, at the same cost (the recording is on the room item).
    let (status, listed) = call(
        &w.app,
        rooms::List::ENDPOINT,
        &w.anchor,
        json!({"page_num": 1, "page_size": 50}),
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    let listed = listed.as_array().unwrap();
    let find = |id: &str| listed.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(find(&room)["vod_info"], w.get(&room).await["vod_info"]);
    assert_eq!(find(&room)["vod_id"], "5285890781000000002");
    assert_eq!(
        find(&opted_out)["vod_info"],
        json!({"status": 0, "playlist": []})
    );
}

async fn a_failure_and_a_timeout_fail_a_recording(w: World) {
    // Tencent's status event: the recording could not start.
    let failed = w.ended_room(json!({"title": "failed"})).await;
    let t = w.now() + 600;
    let failure = json!({
        "event_type": 332, "stream_id": failed, "record_event": "record_start_failed",
        "sign": md5_hex(&format!("{TENCENT_KEY}{t}")), "t": t,
    });
    assert_eq!(w.send_tencent(&failure).await, (200, json!({"code": 0})));
    assert_eq!(
        w.vod(&failed).await,
        (json!(""), json!({"status": 2, "playlist": []}))
    );

    // Nothing arrives: preparing until RECORDING_TIMEOUT_SECONDS after the end, then failed
    // by the sweeper.
    let not_recorded = w.ended_room(json!({"title": "x", "record": false})).await;
    let silent = w.ended_room(json!({"title": "silent"})).await;
    w.clock.advance(Duration::seconds(TIMEOUT_SECS - 1));
    liveroom::reclaim::sweep(&*w.app).await.unwrap();
    assert_eq!(w.vod(&silent).await.1["status"], 0);
    w.clock.advance(Duration::seconds(1));
    let report = liveroom::reclaim::sweep(&*w.app).await.unwrap();
    assert!(report.recordings_timed_out >= 1, "{report:?}");
    assert_eq!(
        w.vod(&silent).await,
        (json!(""), json!({"status": 2, "playlist": []}))
    );
    assert_eq!(
        w.vod(&not_recorded).await.1,
        json!({"status": 0, "playlist": []})
    );
    // A sweep again changes nothing.
    liveroom::reclaim::sweep(&*w.app).await.unwrap();
    assert_eq!(w.vod(&silent).await.1["status"], 2);
}

async fn replayed_forged_and_implausible_recordings_change_nothing(w: World) {
    let room = w.room(json!({"title": "guarded"})).await;
    // Before the room ever started, no file of it can exist.
    let early = w.now();
    let t = w.now() + 600;
    let before = tencent_file(
        &room,
        "5285890781000000000",
        early - 60,
        early,
        t,
        TENCENT_KEY,
    );
    assert_eq!(w.send_tencent(&before).await, (200, json!({"code": 0})));
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    let start = w.now();
    w.clock.advance(Duration::seconds(120));
    w.anchor_does(rooms::Stop::ENDPOINT, &room).await;
    assert_eq!(w.vod(&room).await.1["status"], 0);

    // Forged: another key, a tampered signature, no signature: refused, nothing changes.
    let t = w.now() + 600;
    let forged = tencent_file(
        &room,
        "5285890781000000099",
        start,
        start + 60,
        t,
        "not-the-key",
    );
    let answer = w.send_tencent(&forged).await;
    assert_eq!((answer.0, answer.1["code"].clone()), (401, json!(110)));
    let mut unsigned = tencent_file(
        &room,
        "5285890781000000099",
        start,
        start + 60,
        t,
        TENCENT_KEY,
    );
    unsigned.as_object_mut().unwrap().remove("sign");
    assert_eq!(w.send_tencent(&unsigned).await.0, 401);
    // Stale: `t` has passed.
    let stale = tencent_file(
        &room,
        "5285890781000000099",
        start,
        start + 60,
        w.now() - 1,
        TENCENT_KEY,
    );
    assert_eq!(w.send_tencent(&stale).await.0, 401);
    // A file that ends in the future is no file yet.
    let future = tencent_file(
        &room,
        "5285890781000000099",
        start,
        w.now() + 3600,
        t,
        TENCENT_KEY,
    );
    assert_eq!(w.send_tencent(&future).await, (200, json!({"code": 0})));
    assert_eq!(w.vod(&room).await.1["status"], 0);

    // Genuine, then replayed as is, then its signature reused for another file.
    let t = w.now() + 601;
    let genuine = tencent_file(
        &room,
        "5285890781000000001",
        start,
        start + 120,
        t,
        TENCENT_KEY,
    );
    assert_eq!(w.send_tencent(&genuine).await, (200, json!({"code": 0})));
    let after = w.vod(&room).await;
    assert_eq!(after.0, "5285890781000000001");
    assert_eq!(w.send_tencent(&genuine).await, (200, json!({"code": 0})));
    let copy = tencent_file(
        &room,
        "5285890781000000666",
        start + 1,
        start + 100,
        t,
        TENCENT_KEY,
    );
    assert_eq!(w.send_tencent(&copy).await, (200, json!({"code": 0})));
    assert_eq!(w.vod(&room).await, after, "a replay changes nothing");
    // A failure reported after a file changes nothing either.
    let t = w.now() + 602;
    let failure = json!({
        "event_type": 332, "stream_id": room, "record_event": "record_error",
        "sign": md5_hex(&format!("{TENCENT_KEY}{t}")), "t": t,
    });
    assert_eq!(w.send_tencent(&failure).await, (200, json!({"code": 0})));
    assert_eq!(w.vod(&room).await, after);
    // Malformed: a URL that is not one, a missing file id.
    let t = w.now() + 603;
    let mut bad_url = tencent_file(
        &room,
        "5285890781000000002",
        start,
        start + 60,
        t,
        TENCENT_KEY,
    );
    bad_url["video_url"] = json!("javascript:alert(1)");
    assert_eq!(w.send_tencent(&bad_url).await.0, 400);
    let mut no_id = tencent_file(
        &room,
        "5285890781000000002",
        start,
        start + 60,
        t,
        TENCENT_KEY,
    );
    no_id["file_id"] = json!("");
    assert_eq!(w.send_tencent(&no_id).await.0, 400);
    assert_eq!(w.vod(&room).await, after);
}

async fn nothing_is_recorded_where_recording_is_off(w: World) {
    let room = w.ended_room(json!({"title": "off", "record": true})).await;
    let t = w.now() + 600;
    let start = w.now() - 120;
    let file = tencent_file(
        &room,
        "5285890781000000001",
        start,
        start + 60,
        t,
        TENCENT_KEY,
    );
    assert_eq!(w.send_tencent(&file).await, (200, json!({"code": 0})));
    assert_eq!(
        w.vod(&room).await,
        (json!(""), json!({"status": 0, "playlist": []}))
    );
    w.clock.advance(Duration::seconds(TIMEOUT_SECS + 1));
    let report = liveroom::reclaim::sweep(&*w.app).await.unwrap();
    assert_eq!(report.recordings_timed_out, 0);
}

async fn an_alibaba_recording_is_ready_in_order_and_signed_over_its_own_domain(w: World) {
    let room = w.room(json!({"title": "alibaba"})).await;
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    let first = w.now();
    w.clock.advance(Duration::seconds(100));
    w.anchor_does(rooms::Pause::ENDPOINT, &room).await;
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    let second = w.now();
    w.clock.advance(Duration::seconds(100));
    w.anchor_does(rooms::Stop::ENDPOINT, &room).await;
    assert_eq!(w.vod(&room).await.1, json!({"status": 0, "playlist": []}));

    let later = alibaba_file(&room, "b", second, second + 100);
    // Signed over the ingest domain (a stream callback's signature): refused.
    let ts = w.now();
    let answer = w.send_alibaba(&later, PUSH_DOMAIN, ts, ALIYUN_KEY).await;
    assert_eq!((answer.0, answer.1["code"].clone()), (401, json!(110)));
    // Another key, a stale timestamp: refused.
    assert_eq!(
        w.send_alibaba(&later, RECORD_DOMAIN, ts, "other").await.0,
        401
    );
    let stale = ts - 301;
    assert_eq!(
        w.send_alibaba(&later, RECORD_DOMAIN, stale, ALIYUN_KEY)
            .await
            .0,
        401
    );
    assert_eq!(w.vod(&room).await.1["status"], 0);

    let ok = json!({"code": 200, "message": "success"});
    assert_eq!(
        w.send_alibaba(&later, RECORD_DOMAIN, ts, ALIYUN_KEY).await,
        (200, ok.clone())
    );
    // The same signature again, for another file of the room: a replay, nothing changes.
    let copy = alibaba_file(&room, "a", first, first + 100);
    assert_eq!(
        w.send_alibaba(&copy, RECORD_DOMAIN, ts, ALIYUN_KEY).await,
        (200, ok.clone())
    );
    let (vod_id, info) = w.vod(&room).await;
    assert_eq!(vod_id, format!("live/{room}/b.m3u8"));
    assert_eq!(info["playlist"].as_array().unwrap().len(), 1);
    // Genuine, a second later: the earlier file goes first; the first to arrive names the
    // recording.
    w.clock.advance(Duration::seconds(1));
    let ts = w.now();
    assert_eq!(
        w.send_alibaba(&copy, RECORD_DOMAIN, ts, ALIYUN_KEY).await,
        (200, ok.clone())
    );
    let (vod_id, info) = w.vod(&room).await;
    assert_eq!(vod_id, format!("live/{room}/b.m3u8"));
    assert_eq!(info["status"], 1);
    let playlist = info["playlist"].as_array().unwrap();
    assert_eq!(playlist.len(), 2);
    for p in playlist {
        assert_play_info(p);
        assert_eq!(
            (p["format"].clone(), p["duration"].clone()),
            (json!("m3u8"), json!("100.250"))
        );
    }
    // A status event is acknowledged; a path that climbs out is refused.
    w.clock.advance(Duration::seconds(1));
    let ts = w.now();
    let status = json!({"domain": "play.example.com", "app": "live", "stream": room, "event": "record_paused"});
    assert_eq!(
        w.send_alibaba(&status, RECORD_DOMAIN, ts, ALIYUN_KEY).await,
        (200, ok)
    );
    let mut climbing = alibaba_file(&room, "c", second, second + 10);
    climbing["uri"] = json!("live/../../etc/passwd");
    assert_eq!(
        w.send_alibaba(&climbing, RECORD_DOMAIN, ts, ALIYUN_KEY)
            .await
            .0,
        400
    );
    assert_eq!(
        w.vod(&room).await.1["playlist"].as_array().unwrap().len(),
        2
    );
}

impl World {
    /// LiveKit's webhooks `events`, each signed by LiveKit's own library (the oracle), sent.
    async fn send_livekit(&self, events: &[Value], secret: &str) -> Vec<(u16, Value)> {
        let checks: Vec<Value> = events
            .iter()
            .map(|e| {
                json!({"kind": "livekit_webhook_sign", "api_key": LIVEKIT_KEY,
                       "api_secret": secret, "body": e.to_string()})
            })
            .collect();
        let tokens = crate::credentials::oracle(&checks);
        let mut answers = Vec::new();
        for (event, token) in events.iter().zip(tokens) {
            let req = lambda_http::http::Request::builder()
                .method("POST")
                .uri("/api/v1/live/callback/livekit")
                .header("content-type", "application/webhook+json")
                .header("authorization", token["token"].as_str().unwrap())
                .body(lambda_http::Body::Text(event.to_string()))
                .unwrap();
            let endpoint = callbacks::LivekitCallback::ENDPOINT;
            let response = liveroom::http::handle(&self.app, endpoint, req).await;
            answers.push((
                response.status().as_u16(),
                serde_json::from_slice(response.body().as_ref()).unwrap(),
            ));
        }
        answers
    }
}

/// LiveKit's `egress_ended` for `room`: egress `egress`, its `files` (name, start s, end s).
fn egress_ended(
    id: &str,
    room: &str,
    egress: &str,
    status: &str,
    files: &[(&str, i64, i64)],
) -> Value {
    let ns = |s: i64| (s * 1_000_000_000).to_string();
    let results: Vec<Value> = files
        .iter()
        .map(|(name, start, end)| {
            json!({"filename": name, "startedAt": ns(*start), "endedAt": ns(*end),
                   "duration": ns(end - start), "size": "3000000",
                   "location": format!("https://recordings.example.com/{name}")})
        })
        .collect();
    json!({
        "event": "egress_ended", "id": id, "createdAt": "1",
        "egressInfo": {"egressId": egress, "roomId": "RM_x", "roomName": room, "status": status,
                       "roomComposite": {"roomName": room, "layout": "speaker"},
                       "fileResults": results},
    })
}

async fn livekit_egresses_bring_their_files_or_their_failure(w: World) {
    let room = w.ended_room(json!({"title": "livekit"})).await;
    let failed = w.ended_room(json!({"title": "livekit failed"})).await;
    let now = w.now();
    let second = egress_ended(
        "EV_2",
        &room,
        "EG_2",
        "EGRESS_COMPLETE",
        &[("b.mp4", now - 60, now)],
    );
    let first = egress_ended(
        "EV_1",
        &room,
        "EG_1",
        "EGRESS_COMPLETE",
        &[("a.mp4", now - 300, now - 200)],
    );
    let failure = egress_ended("EV_3", &failed, "EG_3", "EGRESS_FAILED", &[]);
    // Signed with another secret: refused, nothing changes.
    let forged = w
        .send_livekit(
            std::slice::from_ref(&second),
            "not-the-secret-0123456789012345678",
        )
        .await;
    assert_eq!(forged[0].0, 401);
    assert_eq!(w.vod(&room).await.1["status"], 0);

    let answers = w
        .send_livekit(
            &[second.clone(), first.clone(), failure.clone()],
            LIVEKIT_SECRET,
        )
        .await;
    assert!(answers.iter().all(|a| a.0 == 200), "{answers:?}");
    let (vod_id, info) = w.vod(&room).await;
    assert_eq!(
        vod_id, "EG_2",
        "the egress of the first file to arrive names the recording"
    );
    assert_eq!(info["status"], 1);
    let playlist = info["playlist"].as_array().unwrap();
    assert_eq!(playlist.len(), 2);
    for p in playlist {
        assert_play_info(p);
        assert_eq!(p["format"], "mp4");
    }
    assert_eq!(playlist[0]["duration"], "100.000");
    assert_eq!(
        w.vod(&failed).await,
        (json!(""), json!({"status": 2, "playlist": []}))
    );
    // Replayed: the same events again change nothing.
    let before = w.vod(&room).await;
    let again = w.send_livekit(&[second, first], LIVEKIT_SECRET).await;
    assert!(again.iter().all(|a| a.0 == 200));
    assert_eq!(w.vod(&room).await, before);
}

const VOD_KEY: &str = "24FEQmTzro4V5u3D5epW";
/// The VOD domain Tencent's recordings are played from (`TENCENT_VOD_PLAY_DOMAIN`).
const VOD_DOMAIN: &str = "1250000000.vod2.myqcloud.com";

/// A world whose live provider is Tencent, its recordings played with VOD Key protection.
fn signing(store: TestStore) -> World {
    let mut vars = crate::credentials::tencent_vars();
    vars.retain(|(k, _)| k.starts_with("TENCENT_LIVE") || *k == "LIVE_PROVIDER");
    vars.push(("TENCENT_VOD_PLAY_KEY", VOD_KEY));
    vars.push(("PLAY_URL_TTL_SECONDS", "900"));
    world_with_vars(store, "on", &vars)
}

#[test]
fn the_vod_key_signature_is_tencent_s_published_example() {
    let url = liveroom::credentials::tencent::vod_play_url(
        "https://example.vod2.myqcloud.com/dir1/dir2/myVideo.mp4",
        VOD_KEY,
        1_517_400_000,
        "72d4cd1101",
    );
    assert_eq!(
        url.as_deref(),
        Some(
            "https://example.vod2.myqcloud.com/dir1/dir2/myVideo.mp4\
             ?t=5a71afc0&us=72d4cd1101&sign=3d8488faeb37d52d6bf63b63c1b171c3"
        )
    );
    // A URL with a query, or not http(s), is not signed.
    let sign = |u: &str| liveroom::credentials::tencent::vod_play_url(u, VOD_KEY, 1, "u");
    assert_eq!(sign("https://h/d/f.mp4?x=1"), None);
    assert_eq!(sign("ftp://h/d/f.mp4"), None);
}

async fn a_playback_url_is_signed_for_a_viewer_and_none_for_a_banned_member(w: World) {
    let room = w.room(json!({"title": "signed"})).await;
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    let start = w.now();
    let bob = UserId::parse("user", "bob_rec").unwrap();
    let carol = UserId::parse("user", "carol_rec").unwrap();
    crate::common::ensure_user_now(&*w.app.store, &bob);
    crate::common::ensure_user_now(&*w.app.store, &carol);
    let (bob_token, carol_token) = (
        token_for(&w.app, &bob, 86_400),
        token_for(&w.app, &carol, 86_400),
    );
    for token in [&bob_token, &carol_token] {
        let (status, out) = call(
            &w.app,
            liveroom::presence::Join::ENDPOINT,
            token,
            json!({"id": room}),
        )
        .await;
        assert_eq!(status, 200, "{out}");
    }
    let (status, out) = call(
        &w.app,
        liveroom::moderation::Kick::ENDPOINT,
        &w.anchor,
        json!({"id": room, "user_id": "bob_rec", "ban_seconds": 86_400}),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    w.clock.advance(Duration::seconds(120));
    w.anchor_does(rooms::Stop::ENDPOINT, &room).await;
    let t = w.now() + 600;
    let file = tencent_file(
        &room,
        "5285890781000000001",
        start,
        start + 120,
        t,
        TENCENT_KEY,
    );
    assert_eq!(w.send_tencent(&file).await, (200, json!({"code": 0})));

    let url_for = |token: String| {
        let (app, room) = (Arc::clone(&w.app), room.clone());
        async move {
            let (status, out) = call(&app, rooms::Get::ENDPOINT, &token, json!({"id": room})).await;
            assert_eq!(status, 200, "{out}");
            assert_eq!(out["vod_info"]["status"], 1);
            out["vod_info"]["playlist"][0]["play_url"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    // A viewer: the file's URL, signed for PLAY_URL_TTL_SECONDS (VOD Key protection).
    let url = url_for(carol_token.clone()).await;
    let base = format!(
        "https://1250000000.vod2.myqcloud.com/d0/5285890781000000001/f0.mp4?t={:x}&us=",
        w.now() + 900
    );
    assert!(url.starts_with(&base), "{url}");
    let rest = &url[base.len()..];
    let (us, sign) = rest.split_once("&sign=").unwrap();
    assert_eq!(
        sign,
        md5_hex(&format!(
            "{VOD_KEY}/d0/5285890781000000001/{:x}{us}",
            w.now() + 900
        ))
    );
    // The anchor too; the banned member gets none, in `get` and in `list`.
    assert!(url_for(w.anchor.clone()).await.starts_with("https://"));
    assert_eq!(url_for(bob_token.clone()).await, "");
    let (status, listed) = call(
        &w.app,
        rooms::List::ENDPOINT,
        &bob_token,
        json!({"page_num": 1, "page_size": 50}),
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    let mine = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room)
        .unwrap()
        .clone();
    assert_eq!(mine["vod_info"]["status"], 1);
    assert_eq!(mine["vod_info"]["playlist"][0]["play_url"], "");
    let (_, listed) = call(
        &w.app,
        rooms::List::ENDPOINT,
        &carol_token,
        json!({"page_num": 1, "page_size": 50}),
    )
    .await;
    let theirs = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room)
        .unwrap()
        .clone();
    assert!(
        theirs["vod_info"]["playlist"][0]["play_url"]
            .as_str()
            .unwrap()
            .starts_with(&base)
    );
}

/// A world whose outbox reports to a webhook receiver.
fn hooked(store: TestStore) -> World {
    world_with_vars(
        store,
        "on",
        &[("WEBHOOK_URL", "https://hooks.example.com/liveroom")],
    )
}

/// The `room_recorded` events waiting in `room`'s outbox, oldest first: (status, vod_id, files).
async fn recorded_reports(w: &World, room: &str) -> Vec<(u8, String, u64)> {
    let id = liveroom::domain::RoomId::parse("id", room).unwrap();
    let mut entries = w.app.store.outbox(&id).await.unwrap();
    entries.sort_by(|a, b| a.seq.cmp(&b.seq));
    entries
        .iter()
        .filter(|e| e.event.event == liveroom::domain::outbox::EventKind::RoomRecorded)
        .map(|e| {
            let r = e.event.recording.clone().unwrap();
            assert_eq!(e.event.room.id, room);
            (r.status, r.vod_id, r.files)
        })
        .collect()
}

async fn a_replay_ready_or_failed_is_reported_once_to_the_webhook(w: World) {
    let room = w.room(json!({"title": "hooked"})).await;
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    let start = w.now();
    w.clock.advance(Duration::seconds(120));
    w.anchor_does(rooms::Pause::ENDPOINT, &room).await;
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    let second = w.now();
    w.clock.advance(Duration::seconds(60));
    w.anchor_does(rooms::Stop::ENDPOINT, &room).await;
    assert!(recorded_reports(&w, &room).await.is_empty());
    let t = w.now() + 600;
    let file = tencent_file(
        &room,
        "5285890781000000001",
        start,
        start + 120,
        t,
        TENCENT_KEY,
    );
    assert_eq!(w.send_tencent(&file).await, (200, json!({"code": 0})));
    // Replayed: no second report.
    assert_eq!(w.send_tencent(&file).await, (200, json!({"code": 0})));
    assert_eq!(
        recorded_reports(&w, &room).await,
        [(1, "5285890781000000001".to_owned(), 1)]
    );
    // A further file of a ready recording is no new report.
    w.clock.advance(Duration::seconds(1));
    let t = w.now() + 600;
    let more = tencent_file(
        &room,
        "5285890781000000002",
        second,
        second + 60,
        t,
        TENCENT_KEY,
    );
    assert_eq!(w.send_tencent(&more).await, (200, json!({"code": 0})));
    assert_eq!(
        w.vod(&room).await.1["playlist"].as_array().unwrap().len(),
        2
    );
    assert_eq!(recorded_reports(&w, &room).await.len(), 1);

    // The sweeper's timeout reports the failure.
    let silent = w.ended_room(json!({"title": "silent"})).await;
    w.clock.advance(Duration::seconds(TIMEOUT_SECS));
    liveroom::reclaim::sweep(&*w.app).await.unwrap();
    assert_eq!(recorded_reports(&w, &silent).await, [(2, String::new(), 0)]);
    liveroom::reclaim::sweep(&*w.app).await.unwrap();
    assert_eq!(recorded_reports(&w, &silent).await.len(), 1);
}

fn total(counts: &std::collections::BTreeMap<String, u64>) -> u64 {
    counts.values().sum()
}

/// SPEC §10 unchanged: an ended, recorded room's `get` costs one DynamoDB call and `list` at
/// most two (the recording is on the room item), with playback URLs signed (bans read with the
/// page); a recording callback costs its claim, the signature's count, the room's read and the
/// recording's write; a replay its claim alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_recorded_room_costs_no_extra_call_to_read() {
    let (store, counter) = crate::common::counted_dynamodb().await;
    let w = signing(store);
    let room = w.ended_room(json!({"title": "counted"})).await;
    let start = w.now() - 120;
    let t = w.now() + 600;
    let file = tencent_file(
        &room,
        "5285890781000000001",
        start,
        start + 60,
        t,
        TENCENT_KEY,
    );
    counter.take();
    assert_eq!(w.send_tencent(&file).await.0, 200);
    let counts = counter.take();
    assert_eq!(total(&counts), 4, "{counts:?}");
    assert_eq!(w.send_tencent(&file).await.0, 200);
    let counts = counter.take();
    assert_eq!(total(&counts), 1, "a replay: its claim alone ({counts:?})");

    let out = w.get(&room).await;
    let counts = counter.take();
    assert_eq!(total(&counts), 1, "get: {counts:?}");
    assert!(
        out["vod_info"]["playlist"][0]["play_url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let (status, listed) = call(
        &w.app,
        rooms::List::ENDPOINT,
        &w.anchor,
        json!({"page_num": 1, "page_size": 20}),
    )
    .await;
    assert_eq!(status, 200);
    let counts = counter.take();
    assert!(total(&counts) <= 2, "list: {counts:?}");
    let mine = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room)
        .unwrap()
        .clone();
    assert_eq!(mine["vod_info"]["status"], 1);
    assert_eq!(mine["vod_id"], "5285890781000000001");
    let url = |v: &Value| {
        let u = v["vod_info"]["playlist"][0]["play_url"]
            .as_str()
            .unwrap()
            .to_owned();
        u.split_once('?').unwrap().0.to_owned()
    };
    assert_eq!(url(&mine), url(&out));
}

// ---- from the attack review (issue 26): each failed on the code as reviewed ---------------------------------

impl World {
    /// Alibaba's recording callback with `body` POSTed to `path`, signed over `domain` at `ts`.
    async fn send_alibaba_to(&self, path: &str, body: &Value, domain: &str, ts: i64) -> u16 {
        let req = lambda_http::http::Request::builder()
            .method("POST")
            .uri(path)
            .header("content-type", "application/json")
            .header("ali-live-timestamp", ts.to_string())
            .header(
                "ali-live-signature",
                md5_hex(&format!("{domain}|{ts}|{ALIYUN_KEY}")),
            )
            .body(lambda_http::Body::Text(body.to_string()))
            .unwrap();
        let endpoint = callbacks::AlibabaCallback::ENDPOINT;
        let response = liveroom::http::handle(&self.app, endpoint, req).await;
        let status = response.status().as_u16();
        if status != 200 {
            eprintln!(
                "{status}: {}",
                String::from_utf8_lossy(response.body().as_ref())
            );
        }
        status
    }
}

/// Attack review finding: Tencent's `sign` covers only `key + t`, so the signature of a
/// captured callback (here a push start's) is sent again as a recording event (`event_type`
/// 100) whose `video_url` the sender chose: another host, plain `http://`, another VOD
/// directory. The server signs it with `TENCENT_VOD_PLAY_KEY` and gives it to every viewer as
/// `play_url`: viewers are sent to the sender's host, and the sender (any signed-in user who
/// `get`s the room) obtains a VOD signature for a directory of their choice.
async fn a_recording_callback_cannot_point_play_urls_at_another_host(w: World) {
    let room = w.room(json!({"title": "hijacked"})).await;
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    let start = w.now();
    w.clock.advance(Duration::seconds(120));
    w.anchor_does(rooms::Stop::ENDPOINT, &room).await;
    // A genuine push-start callback (captured by whoever saw it on its way).
    let t = w.now() + 600;
    let captured = json!({
        "event_type": 1, "stream_id": room, "sign": md5_hex(&format!("{TENCENT_KEY}{t}")), "t": t,
    });
    assert_eq!(w.send_tencent(&captured).await, (200, json!({"code": 0})));
    // Its `t` and `sign`, now with a file of the sender's choosing.
    let mut forged = tencent_file(
        &room,
        "5285890781000000001",
        start,
        start + 60,
        t,
        TENCENT_KEY,
    );
    forged["video_url"] = json!("http://evil.example.net/other-app/secret-dir/f0.mp4");
    forged["sign"] = captured["sign"].clone();
    let _ = w.send_tencent(&forged).await;
    let (_, vod) = w.vod(&room).await;
    for file in vod["playlist"].as_array().unwrap() {
        let url = file["play_url"].as_str().unwrap();
        assert!(
            url.is_empty() || url.starts_with("https://1250000000.vod2.myqcloud.com/"),
            "a callback's signature reused for a file put {url} in the room's playlist"
        );
    }
}

mod attack_tencent_play_url {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::a_recording_callback_cannot_point_play_urls_at_another_host(super::signing(
            crate::common::embedded(),
        ))
        .await;
    }
}

/// Attack review finding: Alibaba's recording callback signs only `domain|timestamp`; a file's
/// `uri` naming another room's object path (or any path on the playback domain) is accepted
/// for this room and signed (auth type A, the full path) for every viewer.
async fn an_alibaba_file_must_be_of_its_own_room(w: World) {
    let room = w.ended_room(json!({"title": "mine"})).await;
    let other = w.room(json!({"title": "someone else's"})).await;
    let start = w.now() - 120;
    let mut body = alibaba_file(&room, "x", start, start + 60);
    body["uri"] = json!(format!("live/{other}/private-replay.m3u8"));
    let ts = w.now();
    let status = w
        .send_alibaba_to(RECORDING_PATH, &body, RECORD_DOMAIN, ts)
        .await;
    let (_, vod) = w.vod(&room).await;
    assert!(
        status == 400 || vod["playlist"].as_array().unwrap().is_empty(),
        "another room's object path was kept: {vod}"
    );
}

const RECORDING_PATH: &str = "/api/v1/live/callback/alibaba/record";

fn aliyun_playback(store: TestStore) -> World {
    let mut vars = crate::credentials::aliyun_vars();
    vars.retain(|(k, _)| k.starts_with("ALIYUN_LIVE") || *k == "LIVE_PROVIDER");
    vars.push(("ALIYUN_LIVE_PLAYBACK_DOMAIN", "vod.example.com"));
    world_with_vars(store, "on", &vars)
}

mod attack_alibaba_other_room {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::an_alibaba_file_must_be_of_its_own_room(super::aliyun_playback(
            crate::common::embedded(),
        ))
        .await;
    }
}

/// Attack review finding: the router serves `/api/v1/live/callback/alibaba/record/` (one
/// trailing slash) as the recording route, but the handler compares the raw path, so a
/// genuine recording callback sent there runs the stream callback (and is refused: signed
/// over the other domain).
async fn the_recording_route_with_a_trailing_slash_is_the_recording_route(w: World) {
    let room = w.ended_room(json!({"title": "slash"})).await;
    let start = w.now() - 120;
    let body = alibaba_file(&room, "a", start, start + 60);
    let path = format!("{RECORDING_PATH}/");
    let status = w
        .send_alibaba_to(&path, &body, RECORD_DOMAIN, w.now())
        .await;
    assert_eq!(status, 200, "{path} ran the stream callback");
    assert_eq!(w.vod(&room).await.1["status"], 1);
}

mod attack_trailing_slash {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::the_recording_route_with_a_trailing_slash_is_the_recording_route(super::world(
            crate::common::embedded(),
        ))
        .await;
    }
}

/// Attack review finding: 200 files of an object path as long as a callback could send (1024
/// characters, then kept twice) made a room item larger than DynamoDB's 400 KB: the write
/// failed (500, the vendor retried in vain) and every later file of the room was lost. (moto
/// counts an update's old and new values together: it failed near file 92, at ~200 KB.) Now
/// a path is at most 256 bytes and a room keeps `MAX_FILES` (48): every callback is
/// acknowledged, the first 48 files are kept in order, and the rest are dropped (logged).
async fn a_full_recording_still_fits_a_room_item(w: World) {
    let room = w.ended_room(json!({"title": "many files"})).await;
    let start = w.now() - 120;
    let now = w.now();
    let max = liveroom::domain::recording::MAX_FILES as i64;
    let name = |i: i64| format!("{i:04}");
    let uri = |i: i64| {
        let padding = "p".repeat(256 - "live/".len() - room.len() - 1 - 4 - 5);
        format!("live/{room}/{}{padding}.m3u8", name(i))
    };
    for i in 0..max + 10 {
        let mut body = alibaba_file(&room, "x", start, start + 60);
        body["uri"] = json!(uri(i));
        assert_eq!(body["uri"].as_str().unwrap().len(), 256);
        let status = w
            .send_alibaba_to(RECORDING_PATH, &body, RECORD_DOMAIN, now - 299 + i)
            .await;
        assert_eq!(status, 200, "file {i} of the room was refused");
    }
    // One byte longer: refused.
    let mut body = alibaba_file(&room, "x", start, start + 60);
    body["uri"] = json!(format!("{}p", uri(999)));
    let status = w
        .send_alibaba_to(RECORDING_PATH, &body, RECORD_DOMAIN, now - 100)
        .await;
    assert_eq!(status, 400);
    let (_, vod) = w.vod(&room).await;
    let playlist = vod["playlist"].as_array().unwrap();
    assert_eq!(playlist.len() as i64, max);
    for (i, file) in playlist.iter().enumerate() {
        let url = file["play_url"].as_str().unwrap();
        assert!(url.contains(&format!("/{}", name(i as i64))), "{i}: {url}");
    }
}

mod attack_item_size {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::a_full_recording_still_fits_a_room_item(super::aliyun_playback(
            crate::common::embedded(),
        ))
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn dynamodb_store() {
        super::a_full_recording_still_fits_a_room_item(super::aliyun_playback(
            crate::common::dynamodb().await,
        ))
        .await;
    }
}

/// Attack review finding (a genuine vendor's loss, not an attack): a recording template with
/// two formats (Tencent's MP4 and HLS, Alibaba's m3u8 and mp4) reports two files when the push
/// ends, in the same second, so with the same `t` (Tencent: the event's time + 10 minutes).
/// The claim is per (`t`, room), so the second file is taken for a replay and dropped.
async fn two_formats_of_one_recording_are_both_kept(w: World) {
    let room = w.ended_room(json!({"title": "two formats"})).await;
    let start = w.now() - 120;
    let t = w.now() + 600;
    let mp4 = tencent_file(
        &room,
        "5285890781000000041",
        start,
        start + 120,
        t,
        TENCENT_KEY,
    );
    let mut hls = tencent_file(
        &room,
        "5285890781000000042",
        start,
        start + 120,
        t,
        TENCENT_KEY,
    );
    hls["file_format"] = json!("hls");
    assert_eq!(w.send_tencent(&mp4).await, (200, json!({"code": 0})));
    assert_eq!(w.send_tencent(&hls).await, (200, json!({"code": 0})));
    let (_, vod) = w.vod(&room).await;
    assert_eq!(vod["playlist"].as_array().unwrap().len(), 2, "{vod}");
}

mod attack_two_formats {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::two_formats_of_one_recording_are_both_kept(super::world(crate::common::embedded()))
            .await;
    }
}

/// The class of the Tencent finding: every way a `video_url` can name another host, another
/// file's directory or a path the signer would read differently is refused (400, nothing
/// kept); Tencent's own forms (http or https, the host in any case) are kept, as a path on
/// `TENCENT_VOD_PLAY_DOMAIN`.
async fn a_tencent_file_must_be_on_the_vod_domain_under_its_own_id(w: World) {
    let room = w.ended_room(json!({"title": "vod domain"})).await;
    let start = w.now() - 120;
    let refused = [
        "https://evil.example.net/d0/5285890781000000001/f0.mp4",
        "https://1250000000.vod2.myqcloud.com.evil.example.net/d0/5285890781000000001/f0.mp4",
        "https://evil.example.net/1250000000.vod2.myqcloud.com/5285890781000000001/f0.mp4",
        "https://1250000000.vod2.myqcloud.com@evil.example.net/d0/5285890781000000001/f0.mp4",
        "https://1250000000.vod2.myqcloud.com:8443/d0/5285890781000000001/f0.mp4",
        "https://1250000001.vod2.myqcloud.com/d0/5285890781000000001/f0.mp4",
        "https://1250000000.vod2.myqcloud.com/d0/5285890781000000002/f0.mp4",
        "https://1250000000.vod2.myqcloud.com/d0/f0.mp4",
        "https://1250000000.vod2.myqcloud.com/d0/f0-5285890781000000001/f0.mp4",
        "https://1250000000.vod2.myqcloud.com/d0/0123456789abcdef05285890781000000001/f0.mp4",
        "https://1250000000.vod2.myqcloud.com/d0/5285890781000000001x/f0.mp4",
        "https://1250000000.vod2.myqcloud.com/d0/5285890781000000001",
        "https://1250000000.vod2.myqcloud.com/d0/5285890781000000001/../secret/f0.mp4",
        "https://1250000000.vod2.myqcloud.com/d0/5285890781000000001/./f0.mp4",
        "https://1250000000.vod2.myqcloud.com/d0//5285890781000000001/f0.mp4",
        "https://1250000000.vod2.myqcloud.com/d0/5285890781000000001/f0.mp4?t=1&sign=x",
        "https://1250000000.vod2.myqcloud.com/d0/5285890781000000001/f0.mp4#x",
        "https://1250000000.vod2.myqcloud.com/d0/5285890781000000001/%2e%2e/f0.mp4",
        "https://1250000000.vod2.myqcloud.com/d0/5285890781000000001\\..\\f0.mp4",
        "ftp://1250000000.vod2.myqcloud.com/d0/5285890781000000001/f0.mp4",
        "//1250000000.vod2.myqcloud.com/d0/5285890781000000001/f0.mp4",
        "1250000000.vod2.myqcloud.com/d0/5285890781000000001/f0.mp4",
        "",
    ];
    for (i, url) in refused.iter().enumerate() {
        let t = w.now() + 600 + i as i64;
        let mut file = tencent_file(
            &room,
            "5285890781000000001",
            start,
            start + 60,
            t,
            TENCENT_KEY,
        );
        file["video_url"] = json!(url);
        let (status, _) = w.send_tencent(&file).await;
        assert_eq!(status, 400, "{url} was not refused");
    }
    assert_eq!(w.vod(&room).await.1["status"], 0, "a refused file was kept");
    // Tencent's own forms: plain http, the host in capitals, the file id after a hex prefix
    // (as in a genuine event, trailing blank and all); played on the configured domain.
    let t = w.now() + 700;
    let mut file = tencent_file(
        &room,
        "9031868223267109922",
        start,
        start + 60,
        t,
        TENCENT_KEY,
    );
    file["video_url"] = json!(
        "http://1250000000.VOD2.myqcloud.com/9425a3e9vodgzp1250000000/6367ba459031868223267109922/playlist.m3u8 "
    );
    file["file_format"] = json!("hls");
    assert_eq!(w.send_tencent(&file).await, (200, json!({"code": 0})));
    let t = w.now() + 701;
    let mut file = tencent_file(
        &room,
        "5285890781000000001",
        start,
        start + 60,
        t,
        TENCENT_KEY,
    );
    file["video_url"] = json!("https://1250000000.vod2.myqcloud.com/d0/5285890781000000001/f0.mp4");
    assert_eq!(w.send_tencent(&file).await, (200, json!({"code": 0})));
    let (_, vod) = w.vod(&room).await;
    let urls: Vec<&str> = vod["playlist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["play_url"].as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), 2, "{vod}");
    assert!(urls.iter().any(|u| u.starts_with(
        "https://1250000000.vod2.myqcloud.com/9425a3e9vodgzp1250000000/6367ba459031868223267109922/playlist.m3u8?t="
    )), "{urls:?}");
    assert!(
        urls.iter().any(|u| u
            .starts_with("https://1250000000.vod2.myqcloud.com/d0/5285890781000000001/f0.mp4?t=")),
        "{urls:?}"
    );
}

mod tencent_vod_domain {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::a_tencent_file_must_be_on_the_vod_domain_under_its_own_id(super::signing(
            crate::common::embedded(),
        ))
        .await;
    }
}

/// Without `TENCENT_VOD_PLAY_DOMAIN`, a server that records and takes Tencent's callback does
/// not start (it could keep no Tencent file): the configuration says which setting is missing.
#[test]
fn recording_with_the_tencent_callback_needs_the_vod_domain() {
    let vars = [
        ("JWT_PRIVATE_KEY", EVENTS_SECRET),
        ("TENCENT_LIVE_CALLBACK_KEY", TENCENT_KEY),
        ("RECORDING", "on"),
    ];
    let lookup = |k: &str| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    let error = Config::from_lookup(lookup).expect_err("refused");
    assert!(
        error.to_string().contains("TENCENT_VOD_PLAY_DOMAIN"),
        "{error}"
    );
    let off = |k: &str| (k != "RECORDING").then(|| lookup(k)).flatten();
    assert!(Config::from_lookup(off).is_ok());
}

// ---- attack review 2 (issue 26, after the fixes of 1180213): each failed on the code as reviewed ----

/// Attack review 2, MEDIUM: the `video_url` check binds the path to the event's `file_id`,
/// but the `file_id` is a field of the same unsigned event (Tencent's `sign` covers only
/// `key + t`), so the sender names any directory on `TENCENT_VOD_PLAY_DOMAIN` and gives the
/// `file_id` as one of its directories. The server signs that directory with
/// `TENCENT_VOD_PLAY_KEY` (VOD Key's `sign` covers the directory, not the file name: every
/// file in it plays) and hands the URL to whoever `get`s the room — the sender's own room will
/// do. The first review's "the sender obtains a VOD signature for a directory of their choice"
/// still holds, and the docs' "no other directory is signed" is not so. Here: a directory of
/// another VOD app, `file_id` its first segment (any position works).
async fn a_senders_file_id_does_not_choose_the_signed_directory(w: World) {
    let room = w.ended_room(json!({"title": "mine"})).await;
    let start = w.now() - 120;
    // Fixed: a file id is digits and names the file's own directory (the one VOD Key
    // signs), so what a copy can have signed is a directory Tencent named for a file: a media
    // file of the app's whose id and directory the sender knows (docs: residual risk).
    for (i, (file_id, path)) in [
        ("other-app", "/other-app/secret-dir/f0.mp4"),
        (
            "vodtranscq1250000000",
            "/vodtranscq1250000000/someone-elses-file/f0.mp4",
        ),
        (
            "5285890781000000077",
            "/5285890781000000077/secret-dir/f0.mp4",
        ),
        (
            "5285890781000000078",
            "/d0/secret-dir/5285890781000000078.mp4",
        ),
    ]
    .iter()
    .enumerate()
    {
        let t = w.now() + 600 + i as i64;
        let mut forged = tencent_file(&room, file_id, start, start + 60, t, TENCENT_KEY);
        forged["video_url"] = json!(format!("https://{VOD_DOMAIN}{path}"));
        let _ = w.send_tencent(&forged).await;
    }
    let (_, vod) = w.vod(&room).await;
    let signed: Vec<&str> = vod["playlist"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["play_url"].as_str())
        .filter(|u| u.contains("&sign="))
        .collect();
    assert!(
        signed.is_empty(),
        "a reused signature had these directories signed for its sender: {signed:?}"
    );
}

mod attack2_any_directory {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::a_senders_file_id_does_not_choose_the_signed_directory(super::signing(
            crate::common::embedded(),
        ))
        .await;
    }
}

/// Attack review 2, LOW: the path check is a list of refused characters (`?#%\ @`), so a
/// `video_url` path keeps `"`, `'`, `<`, `>`, `{`, `|`, `^`, backticks, bidi overrides
/// (U+202E is not `is_control`) and any other Unicode, and `play_url` is made from it without
/// escaping: a URL that is not an RFC 3986 URI, with HTML metacharacters and a reversed-text
/// control, is given to every viewer of the room (any room a captured signature names). The
/// sign is computed over the raw bytes, where a player sends them %-encoded.
async fn a_play_url_is_a_uri_of_plain_characters(w: World) {
    let room = w.ended_room(json!({"title": "markup"})).await;
    let start = w.now() - 120;
    let t = w.now() + 600;
    let mut forged = tencent_file(&room, F1, start, start + 60, t, TENCENT_KEY);
    forged["video_url"] = json!(format!(
        "https://{VOD_DOMAIN}/d0/{F1}/\"'><svg/onload=alert(1)>\u{202E}4pm.exe"
    ));
    let (status, _) = w.send_tencent(&forged).await;
    let (_, vod) = w.vod(&room).await;
    for file in vod["playlist"].as_array().unwrap() {
        let url = file["play_url"].as_str().unwrap();
        let uri_char = |c: char| c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c);
        assert!(
            url.chars().all(|c| uri_char(c) && c != '\''),
            "status {status}: play_url is not a plain URI: {url}"
        );
    }
}

mod attack2_uri_chars {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::a_play_url_is_a_uri_of_plain_characters(super::signing(crate::common::embedded()))
            .await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn alibaba_embedded_store() {
        super::an_alibaba_play_url_is_a_uri_of_plain_characters(super::aliyun_playback(
            crate::common::embedded(),
        ))
        .await;
    }
}

/// The same for Alibaba: its `uri` check refuses only `?#\ %`, so the playback URL
/// (`https://{ALIYUN_LIVE_PLAYBACK_DOMAIN}/{uri}?auth_key=...`) carries the same characters.
async fn an_alibaba_play_url_is_a_uri_of_plain_characters(w: World) {
    let room = w.ended_room(json!({"title": "markup"})).await;
    let start = w.now() - 120;
    let body = alibaba_file(
        &room,
        "\"'><svg/onload=alert(1)>\u{202E}4pm",
        start,
        start + 60,
    );
    let status = w
        .send_alibaba_to(RECORDING_PATH, &body, RECORD_DOMAIN, w.now())
        .await;
    let (_, vod) = w.vod(&room).await;
    for file in vod["playlist"].as_array().unwrap() {
        let url = file["play_url"].as_str().unwrap();
        let uri_char = |c: char| c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&()*+,;=%".contains(c);
        assert!(
            url.chars().all(uri_char),
            "status {status}: play_url is not a plain URI: {url}"
        );
    }
}

/// Attack review 2, MEDIUM: files are kept in order of their start, a file may start up to
/// two minutes before the room's first start, and `vod_id` is the first file's id. So after
/// the genuine file arrived, one captured signature adds a file that starts 100 s before it:
/// the room's `vod_id` (what the app fetches the replay by) becomes the sender's text, for
/// good (no file is ever removed), in any room that started.
async fn a_later_file_does_not_take_over_the_vod_id(w: World) {
    let room = w.room(json!({"title": "vod id"})).await;
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    let start = w.now();
    w.clock.advance(Duration::seconds(120));
    w.anchor_does(rooms::Stop::ENDPOINT, &room).await;
    let t = w.now() + 600;
    let genuine = tencent_file(&room, F1, start, start + 120, t, TENCENT_KEY);
    assert_eq!(w.send_tencent(&genuine).await, (200, json!({"code": 0})));
    assert_eq!(w.vod(&room).await.0, F1);
    // A captured signature (another callback's `t`), a file that "began" 100 s earlier: kept
    // (nothing tells it from a genuine file), but the recording keeps its name.
    let t2 = w.now() + 601;
    let chosen = "5285890781000000666";
    let mut forged = tencent_file(&room, chosen, start - 100, start, t2, TENCENT_KEY);
    forged["file_format"] = json!("flv");
    let _ = w.send_tencent(&forged).await;
    let (vod_id, vod) = w.vod(&room).await;
    assert_eq!(vod_id, F1, "the room's vod_id was taken over: {vod}");
}

mod attack2_vod_id {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::a_later_file_does_not_take_over_the_vod_id(
            super::signing(crate::common::embedded()),
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn dynamodb_store() {
        super::a_later_file_does_not_take_over_the_vod_id(super::signing(
            crate::common::dynamodb().await,
        ))
        .await;
    }
}

/// Attack review 2, MEDIUM: `file_id` and `video_url` are bounded in characters (128, 1024)
/// but the budget counts bytes, so with four-byte characters one file weighs ~4.6 KB (the
/// docs' "60 of the longest a callback may send" is 14), and each captured signature adds 5
/// files to a room (below). Three captured signatures (15 files) fill any room that started:
/// its genuine file, arriving at the end of the push, is acknowledged and dropped ("recorded
/// file not kept"); the room's replay is the sender's files only.
async fn captured_signatures_do_not_crowd_out_a_rooms_recording(w: World) {
    let room = w.room(json!({"title": "crowded"})).await;
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    let start = w.now();
    w.clock.advance(Duration::seconds(300));
    let prefix = format!("https://{VOD_DOMAIN}/");
    let mut sent = 0;
    // Fixed: a file's id and path are URL-safe ASCII of at most 32 digits and 256 bytes, a
    // signature adds at most one file per format (4) to a room, and a room keeps 48 files:
    // three captured signatures add 12 of the heaviest, and the genuine file is still kept
    // (twelve would fill it: docs, residual risk).
    for sig in 0..3i64 {
        let t = w.now() + 600 + sig;
        for (k, format) in ["mp4", "flv", "aac", "hls", ""].iter().enumerate() {
            let n = sig * 5 + k as i64;
            let mut forged = tencent_file(&room, "x", start, start + 60, t, TENCENT_KEY);
            let id = format!("{n:032}");
            let dir = format!("0123456789abcdef{id}");
            let name = "p".repeat(256 - "d0/".len() - dir.len() - 1);
            forged["file_id"] = json!(id);
            forged["file_format"] = json!(format);
            forged["video_url"] = json!(format!("{prefix}d0/{dir}/{name}"));
            let (status, out) = w.send_tencent(&forged).await;
            if format.is_empty() {
                assert_eq!(status, 400, "{out}");
            } else {
                assert_eq!(status, 200, "{out}");
                sent += 1;
            }
        }
    }
    let (_, vod) = w.vod(&room).await;
    assert_eq!(vod["playlist"].as_array().unwrap().len(), sent, "all kept");
    // The push ends; the vendor's genuine file arrives.
    w.clock.advance(Duration::seconds(10));
    let t = w.now() + 600;
    let genuine = tencent_file(&room, F1, start, start + 300, t, TENCENT_KEY);
    assert_eq!(w.send_tencent(&genuine).await, (200, json!({"code": 0})));
    let (_, vod) = w.vod(&room).await;
    let kept = vod["playlist"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["play_url"].as_str().unwrap().contains(&format!("/{F1}/")));
    assert!(
        kept,
        "the room's genuine file was dropped: {sent} files from 3 captured signatures filled it"
    );
}

mod attack2_crowded_out {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::captured_signatures_do_not_crowd_out_a_rooms_recording(super::signing(
            crate::common::embedded(),
        ))
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn dynamodb_store() {
        super::captured_signatures_do_not_crowd_out_a_rooms_recording(super::signing(
            crate::common::dynamodb().await,
        ))
        .await;
    }
}

/// Attack review 2, LOW (docs): "one file per format (of the vendor's few: flv, mp4, m3u8,
/// aac)" per signature value and room — but a `file_format` that is empty or absent is kept
/// too, as a fifth claim kind (`record:`), so one captured signature adds five files to a room.
async fn one_signature_adds_at_most_four_files_to_a_room(w: World) {
    let room = w.ended_room(json!({"title": "formats"})).await;
    let start = w.now() - 120;
    let t = w.now() + 600;
    for (i, format) in ["mp4", "flv", "aac", "hls", ""].iter().enumerate() {
        let id = format!("528589078100000010{i}");
        let mut forged = tencent_file(&room, &id, start, start + 60, t, TENCENT_KEY);
        forged["file_format"] = json!(format);
        let _ = w.send_tencent(&forged).await;
    }
    let mut absent = tencent_file(
        &room,
        "5285890781000000199",
        start,
        start + 60,
        t,
        TENCENT_KEY,
    );
    absent.as_object_mut().unwrap().remove("file_format");
    let _ = w.send_tencent(&absent).await;
    let (_, vod) = w.vod(&room).await;
    let files = vod["playlist"].as_array().unwrap().len();
    assert_eq!(
        files, 4,
        "one signature value added {files} files to one room"
    );
}

mod attack2_fifth_format {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::one_signature_adds_at_most_four_files_to_a_room(super::world(
            crate::common::embedded(),
        ))
        .await;
    }
}

/// Attack review 2, LOW (cost; docs): the docs said a made-up stream name costs no write;
/// only a name that is no room id is free. A well-formed room id that is no room costs what a
/// genuine callback's first steps cost (the claim, the signature's use count, the room's
/// read) and nothing more, each claim kept past the signature's freshness window: the docs
/// now say so. A name that is no room id still costs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_made_up_room_costs_a_claim_a_count_and_a_read_and_a_made_up_name_nothing() {
    let (store, counter) = crate::common::counted_dynamodb().await;
    let w = signing(store);
    let start = w.now() - 120;
    let t = w.now() + 600;
    counter.take();
    for _ in 0..3 {
        let made_up = uuid::Uuid::new_v4().to_string();
        let forged = tencent_file(&made_up, F1, start, start + 60, t, TENCENT_KEY);
        assert_eq!(w.send_tencent(&forged).await.0, 200);
    }
    let counts = counter.take();
    assert_eq!(total(&counts), 9, "three made-up rooms cost {counts:?}");
    for name in ["not-a-room", "x_y_z_camera", "../../etc"] {
        let forged = tencent_file(name, F1, start, start + 60, t, TENCENT_KEY);
        assert_eq!(w.send_tencent(&forged).await.0, 200);
    }
    let counts = counter.take();
    assert_eq!(total(&counts), 0, "made-up names cost {counts:?}");
}

/// Attack review 2, LOW (debug builds: `liveroom-local` as the README runs it, and the
/// suite): a recording event with no `duration` has it computed as `end_time - start_time`
/// before any check, which overflows for extreme times and panics (an unsigned-field
/// arithmetic reachable with any captured signature); in release it wraps silently. Alibaba's
/// `stop_time - start_time` is the same.
async fn extreme_times_are_refused_not_a_panic(w: World) {
    let room = w.ended_room(json!({"title": "overflow"})).await;
    let t = w.now() + 600;
    let mut forged = tencent_file(&room, F1, 0, 0, t, TENCENT_KEY);
    forged["start_time"] = json!(i64::MIN);
    forged["end_time"] = json!(i64::MAX);
    forged.as_object_mut().unwrap().remove("duration");
    let app = Arc::clone(&w.app);
    let outcome = tokio::spawn(async move {
        let req = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/api/v1/live/callback/tencent")
            .header("content-type", "application/json")
            .body(lambda_http::Body::Text(forged.to_string()))
            .unwrap();
        liveroom::http::handle(&app, callbacks::TencentCallback::ENDPOINT, req)
            .await
            .status()
            .as_u16()
    })
    .await;
    assert!(outcome.is_ok(), "the handler panicked: {outcome:?}");
}

/// The same for Alibaba's `stop_time - start_time` (no `duration`).
async fn extreme_alibaba_times_are_refused_not_a_panic(w: World) {
    let room = w.ended_room(json!({"title": "overflow"})).await;
    let mut body = alibaba_file(&room, "x", 0, 0);
    body["start_time"] = json!(i64::MIN);
    body["stop_time"] = json!(i64::MAX);
    body.as_object_mut().unwrap().remove("duration");
    let status = w
        .send_alibaba_to(RECORDING_PATH, &body, RECORD_DOMAIN, w.now())
        .await;
    assert_eq!(
        status, 200,
        "an implausible file is acknowledged and ignored"
    );
    assert_eq!(w.vod(&room).await.1["status"], 0);
}

mod attack2_overflow {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::extreme_times_are_refused_not_a_panic(super::world(crate::common::embedded())).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn alibaba_embedded_store() {
        super::extreme_alibaba_times_are_refused_not_a_panic(super::world(
            crate::common::embedded(),
        ))
        .await;
    }
}

/// Attack review 2, LOW: the byte budget's `weight` was no bound (a `"` takes two bytes in
/// the item's JSON). Now the budget is the count: `MAX_FILES` files of the longest id and
/// location a callback may give (URL-safe ASCII: nothing escaped) stay under 48 KB of the room
/// item, however the vendor's numbers are.
#[test]
fn a_full_recording_of_the_largest_files_stays_under_48_kb() {
    use liveroom::domain::recording::{MAX_FILES, RecordedFile, Recording, RecordingVendor};
    let file = |i: usize| RecordedFile {
        vendor: RecordingVendor::Livekit,
        id: format!("{i:0128}"),
        location: format!("https://{}", "p".repeat(512 - "https://".len())),
        format: "m3u8".to_owned(),
        started_at: i64::MIN,
        ended_at: i64::MAX,
        duration_ms: u64::MAX,
        size: u64::MAX,
        width: u32::MAX,
        height: u32::MAX,
    };
    let mut recording = Recording::awaited();
    for i in 0..MAX_FILES + 5 {
        if let Some(next) = recording.with_file(file(i)) {
            recording = next;
        }
    }
    assert_eq!(recording.files.len(), MAX_FILES);
    let bytes = serde_json::to_string(&recording).unwrap().len();
    assert!(bytes < 48 * 1024, "{bytes} bytes");
}

/// Attack review 2, MEDIUM (availability of `list`): each `(t, room, format)` adds a file, so
/// 40 captured signature values (5 files each) fill every started room to `MAX_FILES` (200),
/// within the byte budget (200 files of a 124-`"` path weigh 65 400 bytes). A room's entry in
/// `list` then carries 200 `PlayInfo`s of ~640 bytes (the `"`s escaped, so doubled), ~128 KB:
/// a page of `page_size` 100 (the most `list` takes) of such rooms is ~13 MB, past Lambda's
/// 6 MB response limit, so `list` fails for everyone (502 at API Gateway) while those rooms
/// are listed; 49 such rooms on a page already pass it. Measured here on one room's entry
/// (128 416 bytes).
async fn a_full_page_of_rooms_fits_lambdas_response(w: World) {
    const LAMBDA_RESPONSE_LIMIT: usize = 6 * 1024 * 1024;
    let room = w.ended_room(json!({"title": "heavy"})).await;
    let start = w.now() - 120;
    // Fixed: at most 48 files a room, of paths of at most 256 URL-safe bytes: 40 captured
    // signatures (4 formats each) reach the cap, and a page of 100 such rooms still fits.
    for sig in 0..40i64 {
        let t = w.now() + 600 + sig;
        for (k, format) in ["mp4", "flv", "aac", "hls"].iter().enumerate() {
            let id = format!("{:032}", sig * 5 + k as i64);
            let mut forged = tencent_file(&room, &id, start, start + 60, t, TENCENT_KEY);
            let dir = format!("0123456789abcdef{id}");
            let name = "p".repeat(256 - dir.len() - 1);
            forged["file_format"] = json!(format);
            forged["video_url"] = json!(format!("https://{VOD_DOMAIN}/{dir}/{name}"));
            assert_eq!(w.send_tencent(&forged).await.0, 200);
        }
    }
    let (status, listed) = call(
        &w.app,
        rooms::List::ENDPOINT,
        &w.anchor,
        json!({"page_num": 1, "page_size": 100}),
    )
    .await;
    assert_eq!(status, 200);
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room)
        .unwrap()
        .to_string();
    let kept = serde_json::from_str::<Value>(&entry).unwrap()["vod_info"]["playlist"]
        .as_array()
        .unwrap()
        .len();
    assert!(
        entry.len() * 100 <= LAMBDA_RESPONSE_LIMIT,
        "one room's list entry is {} bytes ({kept} files): a page of 100 is {} bytes",
        entry.len(),
        entry.len() * 100
    );
}

mod attack2_list_size {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::a_full_page_of_rooms_fits_lambdas_response(
            super::signing(crate::common::embedded()),
        )
        .await;
    }
}

// ---- attack review 3 (issue 26, after the fixes of 4d284e3): each failed on the code as reviewed ----

/// Attack review 3, MEDIUM (compatibility; docs): a genuine LiveKit `egress_ended` whose
/// file went to the egress's local storage (no upload configured, LiveKit's self-hosted
/// default) carries `location` = the storage path the local uploader wrote
/// (`livekit/egress` `pkg/pipeline/sink/uploader/local.go` returns `storageFilepath`), not an
/// https URL. 4d284e3 refuses the whole webhook with 400 ("location is not an https URL"), so
/// the room's recording is lost and the sweeper later fails it (and reports `room_recorded`
/// status 2), though the file exists. Before 4d284e3 it was kept without a playback URL, and
/// the docs still say so ("LiveKit's: the egress's `location` when it is an `https` URL …,
/// else none"). One such file in an egress of several loses them all.
async fn a_livekit_egress_to_local_storage_keeps_its_file(w: World) {
    let room = w.ended_room(json!({"title": "livekit local"})).await;
    let now = w.now();
    let mut local = egress_ended(
        "EV_local",
        &room,
        "EG_local0001",
        "EGRESS_COMPLETE",
        &[("a.mp4", now - 100, now - 10)],
    );
    // What LiveKit's local uploader reports: the path it wrote (`{prefix}/{filepath}`).
    local["egressInfo"]["fileResults"][0]["filename"] =
        json!(format!("{room}-2026-11-24T010000.mp4"));
    local["egressInfo"]["fileResults"][0]["location"] =
        json!(format!("recordings/{room}-2026-11-24T010000.mp4"));
    let answers = w.send_livekit(&[local], LIVEKIT_SECRET).await;
    let (vod_id, vod) = w.vod(&room).await;
    assert_eq!(
        (answers[0].0, vod["status"].clone(), vod_id),
        (200, json!(1), json!("EG_local0001")),
        "a genuine egress to local storage: {answers:?}, vod_info {vod}"
    );
    assert_eq!(
        vod["playlist"][0]["play_url"], "",
        "no playback URL for a local file"
    );
}

mod attack3_livekit_local_storage {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::a_livekit_egress_to_local_storage_keeps_its_file(super::world(
            crate::common::embedded(),
        ))
        .await;
    }
}

/// The table of the test DynamoDB server that holds room `room`'s item (each test store has
/// its own table, which the suite's `TestStore` does not name), and the item's key.
async fn raw_room_item(
    room: &str,
) -> (
    aws_sdk_dynamodb::Client,
    String,
    HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let client = crate::common::dynamodb_client();
    let key: HashMap<String, AttributeValue> = [
        ("pk".to_owned(), AttributeValue::S(format!("ROOM#{room}"))),
        ("sk".to_owned(), AttributeValue::S("ROOM".to_owned())),
    ]
    .into_iter()
    .collect();
    let mut start = None;
    loop {
        let out = client
            .list_tables()
            .set_exclusive_start_table_name(start)
            .send()
            .await
            .unwrap();
        for table in out.table_names() {
            let found = client
                .get_item()
                .table_name(table)
                .set_key(Some(key.clone()))
                .send()
                .await
                .ok()
                .and_then(|o| o.item);
            if found.is_some() {
                return (client, table.clone(), key);
            }
        }
        start = out.last_evaluated_table_name;
        if start.is_none() {
            panic!("no table holds room {room}");
        }
    }
}

/// Attack review 3, LOW (upgrade; shown on DynamoDB, the embedded store's padded records
/// read the same): `vod_id` is now a stored field
/// (`Recording.vod_id`, `serde(default)`), no longer derived from the files, and nothing
/// derives it for a recording stored before it existed: a ready recording written by 1180213
/// (JSON without `vod_id`; simulated by removing it) reads back `vod_id: ""` with its files
/// listed, and the next file to arrive (a later segment, or a captured signature's copy)
/// names it. 1180213 showed the first file's id.
async fn a_recording_stored_before_vod_id_keeps_its_vod_id(w: World) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let room = w
        .ended_room(json!({"title": "recorded before the upgrade"}))
        .await;
    let start = w.now() - 120;
    let t = w.now() + 600;
    let genuine = tencent_file(&room, F1, start, start + 60, t, TENCENT_KEY);
    assert_eq!(w.send_tencent(&genuine).await, (200, json!({"code": 0})));
    assert_eq!(w.vod(&room).await.0, F1);
    let (client, table, key) = raw_room_item(&room).await;
    let item = client
        .get_item()
        .table_name(&table)
        .set_key(Some(key.clone()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let Some(AttributeValue::S(json)) = item.get("recording") else {
        panic!("no recording attribute: {item:?}");
    };
    let mut old: Value = serde_json::from_str(json).unwrap();
    old.as_object_mut().unwrap().remove("vod_id");
    client
        .update_item()
        .table_name(&table)
        .set_key(Some(key))
        .update_expression("SET recording = :old")
        .expression_attribute_values(":old", AttributeValue::S(old.to_string()))
        .send()
        .await
        .unwrap();
    let (vod_id, vod) = w.vod(&room).await;
    assert_eq!(vod["status"], 1);
    assert_eq!(
        vod_id, F1,
        "a recording kept before the upgrade lost its vod_id: {vod}"
    );
}

mod attack3_upgrade {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn vod_id_dynamodb_store() {
        super::a_recording_stored_before_vod_id_keeps_its_vod_id(super::world(
            crate::common::dynamodb().await,
        ))
        .await;
    }
}

/// Attack review 3, LOW (compatibility; since 1180213, unchanged by 4d284e3): an HLS egress
/// (LiveKit's `segments` output, the usual way to record for replay) reports its playlist in
/// `segmentResults` (`playlistName`, `playlistLocation`, …), with no `fileResults`. The
/// webhook reads only `fileResults` (and the deprecated `file`), so a completed HLS egress is
/// acknowledged and dropped: the room stays "preparing" and the sweeper then fails it (and
/// reports `room_recorded` status 2) though the recording exists.
async fn a_livekit_hls_egress_brings_its_playlist(w: World) {
    let room = w.ended_room(json!({"title": "livekit hls"})).await;
    let now = w.now();
    let ns = |s: i64| (s * 1_000_000_000).to_string();
    let hls = json!({
        "event": "egress_ended", "id": "EV_hls", "createdAt": now.to_string(),
        "egressInfo": {
            "egressId": "EG_hls000001", "roomId": "RM_x", "roomName": room,
            "status": "EGRESS_COMPLETE",
            "roomComposite": {"roomName": room, "layout": "speaker"},
            "segmentResults": [{
                "playlistName": format!("{room}/playlist.m3u8"),
                "playlistLocation": format!("https://recordings.example.com/{room}/playlist.m3u8"),
                "duration": ns(90), "size": "3000000", "segmentCount": "15",
                "startedAt": ns(now - 100), "endedAt": ns(now - 10),
            }],
        },
    });
    let answers = w.send_livekit(&[hls], LIVEKIT_SECRET).await;
    assert_eq!(answers[0].0, 200, "{answers:?}");
    w.clock.advance(Duration::seconds(TIMEOUT_SECS + 60));
    liveroom::reclaim::sweep(&*w.app).await.unwrap();
    let (vod_id, vod) = w.vod(&room).await;
    assert_eq!(
        (vod["status"].clone(), vod_id),
        (json!(1), json!("EG_hls000001")),
        "a completed HLS egress: vod_info {vod}"
    );
}

mod attack3_livekit_hls {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn embedded_store() {
        super::a_livekit_hls_egress_brings_its_playlist(super::world(crate::common::embedded()))
            .await;
    }
}

/// Attack review 3, LOW (cost; docs, DynamoDB): a room's place on `RECORDINGS#DUE` is written
/// by every room write from the room as that write read it, and a room write is conditional
/// on the room's `version`, which a recording write does not change. So a stop that read the
/// room while its recording was awaited and lands after a file made it ready (a paused push's
/// segment, an egress of the first session: the recording callbacks and the stop race) puts
/// the ready room back on the partition, where it stays until purged (retention) and is read
/// by every sweep. The docs say a room "leaves [the partition] with the write that makes its
/// recording ready or failed".
async fn a_room_ready_as_it_ended_is_not_left_on_the_due_partition(w: World) {
    use liveroom::domain::room::{Action, Expected, Transition};
    let room = w.room(json!({"title": "race"})).await;
    w.anchor_does(rooms::Start::ENDPOINT, &room).await;
    let start = w.now();
    w.clock.advance(Duration::seconds(120));
    // The stop reads the room: its recording awaited.
    let id = liveroom::domain::RoomId::parse("id", &room).unwrap();
    let read = w.app.store.room(&id).await.unwrap().unwrap();
    // A file arrives meanwhile: the recording is ready.
    let t = w.now() + 600;
    let file = tencent_file(&room, F1, start, start + 60, t, TENCENT_KEY);
    assert_eq!(w.send_tencent(&file).await, (200, json!({"code": 0})));
    // The stop lands (the room's version is still the one it read): fixed, it loses the
    // race (the recording it read changed), and its retry reads the room again.
    let now = liveroom::Clock::now(&*w.clock);
    let Transition::To(next) = read.apply(Action::Stop, now, w.app.config.retention) else {
        panic!("the stop applies");
    };
    assert!(matches!(
        w.app
            .store
            .update_room(&next, Expected::from(&read), &[])
            .await,
        Err(liveroom::store::StoreError::Conflict)
    ));
    let read = w.app.store.room(&id).await.unwrap().unwrap();
    let Transition::To(next) = read.apply(Action::Stop, now, w.app.config.retention) else {
        panic!("the stop applies");
    };
    w.app
        .store
        .update_room(&next, Expected::from(&read), &[])
        .await
        .unwrap();
    assert_eq!(w.vod(&room).await.1["status"], 1);
    assert_eq!(w.get(&room).await["status"], 2);
    let (client, table, key) = raw_room_item(&room).await;
    let item = client
        .get_item()
        .table_name(&table)
        .set_key(Some(key))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(
        !item.contains_key("gsi4pk"),
        "a ready room is on the awaited recordings' partition: {:?} {:?}",
        item.get("gsi4pk"),
        item.get("gsi4sk")
    );
}

mod attack3_due_race {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn dynamodb_store() {
        super::a_room_ready_as_it_ended_is_not_left_on_the_due_partition(super::world(
            crate::common::dynamodb().await,
        ))
        .await;
    }
}
