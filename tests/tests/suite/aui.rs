//! An unmodified AUI Kits client (seed 002) against the server over HTTP, in both shapes
//! (`crate::shapes`: the local server and the template's functions): it logs in
//! with a name, uses that name as its user id everywhere, and decodes every answer strictly
//! (Swift `Codable`, Kotlin non-null fields): every field of the seed's response model present,
//! with its declared type. The structs below are seed 002's `definitions`, field for field,
//! with no `Option` and no defaults — serde refuses a missing field or a `null` as they do.

use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::api::Server;
use crate::credentials::{oracle, tencent_check, tencent_vars};
use crate::shapes::Shape;

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct AuthResponse {
    expire: String,
    token: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct TokenResponse {
    access_token: String,
    refresh_token: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct PullLiveInfo {
    flv_url: String,
    hls_url: String,
    rtmp_url: String,
    rts_url: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct PushLiveInfo {
    rtmp_url: String,
    rts_url: String,
    srt_url: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct LinkInfo {
    cdn_pull_info: PullLiveInfo,
    rtc_pull_url: String,
    rtc_push_url: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct MeetingMember {
    camera_opened: bool,
    mic_opened: bool,
    rtc_pull_url: String,
    user_avatar: String,
    user_id: String,
    user_nick: String,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct MeetingInfo {
    members: Vec<MeetingMember>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Metrics {
    like_count: i64,
    online_count: i64,
    pv: i64,
    uv: i64,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct PlayInfo {
    bit_depth: i64,
    bit_rate: String,
    creation_time: String,
    definition: String,
    duration: String,
    encrypt: i64,
    encrypt_type: String,
    format: String,
    fps: String,
    hdr_type: String,
    height: i64,
    play_url: String,
    size: i64,
    status: String,
    stream_type: String,
    watermark_id: String,
    width: i64,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct UserStatus {
    mute: bool,
    mute_source: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct VodInfo {
    playlist: Vec<PlayInfo>,
    status: i64,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct RoomInfo {
    anchor_id: String,
    anchor_nick: String,
    chat_id: String,
    cover_url: String,
    created_at: String,
    extends: String,
    id: String,
    link_info: LinkInfo,
    meeting_id: String,
    meeting_info: String,
    metrics: Metrics,
    mode: i64,
    notice: String,
    pull_url_info: PullLiveInfo,
    push_url_info: PushLiveInfo,
    started_at: String,
    status: i64,
    stopped_at: String,
    title: String,
    updated_at: String,
    user_status: UserStatus,
    vod_id: String,
    vod_info: VodInfo,
}

/// Seed 002 `models.Status`, the error model (`details` is declared `{}`: anything).
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Status {
    code: i64,
    details: Value,
    message: String,
}

/// Decodes `body` strictly as `T`, naming the call when it cannot.
pub(crate) fn strict<T: DeserializeOwned>(call: &str, body: &Value) -> T {
    serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{call}: a strict decoder rejects the answer ({e}): {body}"))
}

/// A RoomInfo strictly, and its `meeting_info` string as the seed's members.
fn room(call: &str, body: &Value) -> RoomInfo {
    let info: RoomInfo = strict(call, body);
    let _: Vec<MeetingMember> = serde_json::from_str(&info.meeting_info)
        .unwrap_or_else(|e| panic!("{call}: meeting_info is not [MeetingMember] ({e})"));
    info
}

const NAME: &str = "aui_Alice-01";
const PASSWORD: &str = "correct horse battery";

/// The whole AUI flow; returns the credentials the IM and RTC SDKs would log in with.
async fn aui_flow(server: &Server) -> Vec<Value> {
    // The operator registers the name; the client logs in at seed 002's root path.
    let (status, _) = server
        .post(
            "/api/v1/live/register",
            None,
            json!({"username": NAME, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, auth) = server
        .post(
            "/login",
            None,
            json!({"username": NAME, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{auth}");
    let auth: AuthResponse = strict("login", &auth);
    let t = Some(auth.token.as_str());
    let post = |path: &'static str, body: Value| async move {
        let (status, out) = server.post(&format!("/api/v1/live/{path}"), t, body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {out}");
        out
    };

    // Seed 002's requests, as its client sends them: its login name in user_id and anchor.
    let token = post(
        "token",
        json!({"device_id": "DEVICE-ID", "device_type": "android", "user_id": NAME}),
    )
    .await;
    let _: TokenResponse = strict("token", &token);
    let created = post(
        "create",
        json!({"anchor": NAME, "anchor_nick": "Alice", "title": "直播标题", "notice": "公告",
               "cover_url": "https://example.com/c.png", "extends": "{}", "mode": 1}),
    )
    .await;
    let info = room("create", &created);
    assert_eq!(info.anchor_id, NAME);
    let id = info.id.clone();
    room(
        "get",
        &post("get", json!({"id": id, "user_id": NAME})).await,
    );
    room(
        "start",
        &post("start", json!({"id": id, "user_id": NAME})).await,
    );
    let list = post(
        "list",
        json!({"page_num": 1, "page_size": 10, "user_id": NAME}),
    )
    .await;
    for item in list.as_array().unwrap() {
        room("list", item);
    }
    room(
        "update",
        &post(
            "update",
            json!({"id": id, "title": "新标题", "notice": "n", "extends": "{}"}),
        )
        .await,
    );
    let meeting = post(
        "updateMeetingInfo",
        json!({"id": id, "members": [{"user_id": NAME, "user_nick": "Alice",
               "user_avatar": "", "camera_opened": true, "mic_opened": true}]}),
    )
    .await;
    let meeting: MeetingInfo = strict("updateMeetingInfo", &meeting);
    assert_eq!(meeting.members[0].user_id, NAME);
    let _: MeetingInfo = strict(
        "getMeetingInfo",
        &post("getMeetingInfo", json!({"id": id})).await,
    );
    let live = room(
        "get",
        &post("get", json!({"id": id, "user_id": NAME})).await,
    );
    let members: Vec<MeetingMember> = serde_json::from_str(&live.meeting_info).unwrap();
    assert_eq!(members.len(), 1);
    let rtc = post("rtcToken", json!({"id": id})).await;
    assert_eq!(rtc["user_id"], NAME);
    room(
        "pause",
        &post("pause", json!({"id": id, "user_id": NAME})).await,
    );
    let ended = room(
        "stop",
        &post("stop", json!({"id": id, "user_id": NAME})).await,
    );
    assert!(!ended.stopped_at.is_empty() && !ended.started_at.is_empty());
    assert!(ended.push_url_info.rtmp_url.is_empty() && ended.pull_url_info.flv_url.is_empty());
    room(
        "delete",
        &post("delete", json!({"id": id, "user_id": NAME})).await,
    );

    // An error answer decodes as seed 002's models.Status.
    let (status, err) = server
        .post("/api/v1/live/get", t, json!({"id": id, "user_id": NAME}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let _: Status = strict("get (404)", &err);

    let mut creds = Vec::new();
    for v in [&token["im"]["user_sig"], &token["rtc"]["user_sig"]] {
        creds.push(v.clone());
    }
    creds.push(rtc["credentials"]["user_sig"].clone());
    creds.push(rtc["credentials"]["private_map_key"].clone());
    creds
}

both_shapes!(an_unmodified_aui_client_works_and_its_credentials_name_its_login_name);
async fn an_unmodified_aui_client_works_and_its_credentials_name_its_login_name(shape: Shape) {
    // With the Tencent providers: what the IM and RTC SDKs get verifies for the login name.
    let dir = tempfile::tempdir().unwrap();
    let mut vars: Vec<(String, String)> = tencent_vars()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    vars.push((
        "JWT_PRIVATE_KEY".into(),
        crate::common::EVENTS_SECRET.into(),
    ));
    let server = Server::start_with(shape, dir.path(), vars).await;
    let creds = aui_flow(&server).await;
    server.stop().await;
    let checks: Vec<Value> = creds.iter().map(tencent_check).collect();
    for (i, r) in oracle(&checks).iter().enumerate() {
        assert_eq!(r["valid"], true, "credential {i}: {r}");
        assert_eq!(r["identifier"], NAME, "credential {i} names the login name");
    }

    // Without any provider: the same client, the same strict decoding.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        shape,
        dir.path(),
        vec![(
            "JWT_PRIVATE_KEY".into(),
            crate::common::EVENTS_SECRET.into(),
        )],
    )
    .await;
    aui_flow(&server).await;
    server.stop().await;
}
