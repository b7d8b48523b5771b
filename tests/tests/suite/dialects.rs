//! The other seed systems' clients, unmodified, against the server over HTTP, in both shapes
//! (`crate::shapes`: the local server and the template's functions):
//!
//! - seed 004's aPaaS client (`/base/v1/...`): its documented requests, as its Postman
//!   collection sends them (parameters in the query string) and as JSON bodies, each answer
//!   decoded strictly as the doc's examples declare it (every field, its type), and the error
//!   cases the doc lists — with a 4xx status where the seed answered 500;
//! - seed 000's 1v1 call client (`/app/...`): a token per participant, verified by the published
//!   formula over the channel it asked for, the two-seat cap enforced by the server, even for
//!   callers racing for the last seat;
//! - one account, two clients: a seed 004 login's token works on the AUI API and back.

use md5::{Digest as _, Md5};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::api::Server;
use crate::aui::strict;
use crate::credentials::{aliyun_vars, oracle, tencent_check, tencent_vars};
use crate::shapes::Shape;

/// The suite's `JWT_PRIVATE_KEY` (base64 of an Ed25519 seed).
const SECRET: &str = "ZGlhbGVjdC1zdWl0ZS1zaWduaW5nLWtleS0wMTIzNDU=";

/// Seed 004's answer, strictly: `errorCode` a number, `errorMessage` a string, `data` as `T`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Done<T> {
    error_code: i64,
    error_message: String,
    data: T,
}

/// Seed 004's error envelope (ours: no stack, the status kept).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct Failed {
    error_code: i64,
    error_message: String,
    code_str: String,
}

/// `oauth/signature`'s `data`, as the doc's example declares it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct SignatureData {
    user_id: String,
    sdk_app_id: u64,
    sdk_user_sig: String,
    token: String,
    expire: String,
    apaas_app_id: String,
    apaas_user_id: String,
}

/// `user_login_token`'s `data`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct LoginData {
    user_id: String,
    sdk_app_id: u64,
    sdk_user_sig: String,
    token: String,
    expire: String,
    phone: String,
    email: String,
    name: String,
    avatar: String,
    apaas_app_id: String,
    apaas_user_id: String,
}

/// `user_query`'s `data`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct UserData {
    user_id: String,
    name: String,
    avatar: String,
    apaas_user_id: String,
}

/// `query_room`'s rooms (the doc's example, cut short in the seed, as its code fills it).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct RoomSummary {
    room_id: String,
    category: String,
    title: String,
    own_by: String,
    create_utc: String,
    update_utc: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct RoomDetail {
    room_id: String,
    title: String,
    category: String,
    removed: i64,
    create_by: String,
    update_by: String,
    own_by: String,
    create_utc: String,
    update_utc: String,
    status: String,
    nn_users: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct RoomUser {
    user_id: String,
    name: String,
    avatar: String,
    role: String,
    apaas_user_id: String,
}

/// `YYYY-MM-DD hh:mm:ss`.
fn is_seed_time(t: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").is_ok()
}

struct Seed004<'a> {
    server: &'a Server,
}

impl Seed004<'_> {
    /// As the Postman collection sends it: POST, every parameter in the query string.
    async fn query(&self, path: &str, params: &[(&str, &str)]) -> (StatusCode, Value) {
        let url = format!("/base/v1/{path}");
        self.server
            .raw(self.server.request(Method::POST, &url).query(params))
            .await
    }

    /// A JSON body, as the kits send it.
    async fn json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let url = format!("/base/v1/{path}");
        self.server
            .raw(self.server.request(Method::POST, &url).json(&body))
            .await
    }

    /// A success: 200, errorCode 0, the doc's message.
    async fn ok(&self, path: &str, body: Value, message: &str) -> Value {
        let (status, out) = self.json(path, body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {out}");
        assert_eq!(out["errorCode"], 0, "{path}: {out}");
        assert_eq!(out["errorMessage"], message, "{path}: {out}");
        out
    }

    /// A failure: `status`, seed 004's envelope with `code`, no stack.
    async fn fails(&self, path: &str, body: Value, status: StatusCode, code: i64) -> Value {
        let (got, out) = self.json(path, body.clone()).await;
        assert_eq!(
            (got, out["errorCode"].as_i64()),
            (status, Some(code)),
            "{path} {body}: {out}"
        );
        let f: Failed = strict(path, &out);
        assert!(
            f.error_message
                .starts_with(&format!("{}({code})", f.code_str)),
            "{out}"
        );
        assert!(out.get("errorStack").is_none());
        out
    }
}

fn signature(username: &str, tag: &str, ts: &str, nonce: &str, salt: &str) -> String {
    hex::encode(Md5::digest(
        format!("{username}-{tag}-{ts}-{nonce}-{salt}").as_bytes(),
    ))
}

both_shapes!(an_unmodified_seed_004_client_works_and_gets_what_the_doc_shows);
async fn an_unmodified_seed_004_client_works_and_gets_what_the_doc_shows(shape: Shape) {
    let dir = tempfile::tempdir().unwrap();
    let mut vars: Vec<(String, String)> = tencent_vars()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    vars.push(("JWT_PRIVATE_KEY".into(), SECRET.into()));
    vars.push(("METRICS_MAX_AGE_SECONDS".into(), "1".into()));
    let server = Server::start_with(shape, dir.path(), vars).await;
    let c = Seed004 { server: &server };

    // oauth/register, then oauth/signature as the doc's nodejs example signs it.
    let username = "alice";
    let salt = hex::encode(Md5::digest(b"alice-her password"));
    c.ok(
        "oauth/register",
        json!({"username": username, "salt": salt}),
        "register ok",
    )
    .await;
    c.fails(
        "oauth/register",
        json!({"username": username, "salt": salt}),
        StatusCode::CONFLICT,
        212,
    )
    .await;
    c.fails(
        "oauth/register",
        json!({"username": "bob"}),
        StatusCode::BAD_REQUEST,
        98,
    )
    .await;
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let body = json!({"username": username, "tag": "player", "ts": ts, "nonce": "o29dmek",
        "hash": "md5", "nickname": "Guest", "avatar": "http://tencent.com/xxx.png",
        "signature": signature(username, "player", &ts, "o29dmek", &salt)});
    let out = c.ok("oauth/signature", body.clone(), "signature ok").await;
    let login: Done<SignatureData> = strict("signature", &out);
    assert_eq!(
        (login.error_code, login.error_message.as_str()),
        (0, "signature ok")
    );
    assert_eq!(login.data.user_id, username);
    assert_eq!(login.data.apaas_user_id, username);
    assert_eq!(login.data.sdk_app_id, 1_400_000_001);
    assert!(is_seed_time(&login.data.expire), "{}", login.data.expire);
    // A replayed signature, a stale one, a wrong one: refused.
    c.fails("oauth/signature", body, StatusCode::UNAUTHORIZED, 202)
        .await;
    let old = (chrono::Utc::now().timestamp_millis() - 3_600_000).to_string();
    c.fails(
        "oauth/signature",
        json!({"username": username, "ts": old, "nonce": "n2",
        "signature": signature(username, "", &old, "n2", &salt)}),
        StatusCode::UNAUTHORIZED,
        210,
    )
    .await;
    c.fails(
        "oauth/signature",
        json!({"username": username, "ts": ts, "nonce": "n3",
        "signature": signature(username, "", &ts, "n3", "not the salt")}),
        StatusCode::UNAUTHORIZED,
        210,
    )
    .await;
    let token = login.data.token.clone();
    let me = [("userId", username), ("token", token.as_str())];

    // user_login_token, as the Postman collection sends it: a new token, the SDK's UserSig,
    // the caller's own profile.
    let (status, out) = c.query("auth_users/user_login_token", &me).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let renewed: Done<LoginData> = strict("user_login_token", &out);
    assert_eq!(renewed.error_message, "login done");
    assert_eq!(
        (renewed.data.phone.as_str(), renewed.data.email.as_str()),
        ("", "")
    );
    assert!(is_seed_time(&renewed.data.expire));
    // Both UserSigs are real ones for the user (the vendor's library verifies them).
    let sigs =
        [&login.data.sdk_user_sig, &renewed.data.sdk_user_sig].map(|s| tencent_check(&json!(s)));
    for (i, r) in oracle(&sigs).iter().enumerate() {
        assert_eq!(
            (r["valid"].as_bool(), r["identifier"].as_str()),
            (Some(true), Some(username)),
            "sig {i}: {r}"
        );
    }
    // The doc's errors: 204 for a token of someone else or none, 203 for an expired one.
    c.fails(
        "auth_users/user_login_token",
        json!({"userId": "mallory", "token": token}),
        StatusCode::UNAUTHORIZED,
        204,
    )
    .await;
    c.fails(
        "auth_users/user_login_token",
        json!({"userId": username}),
        StatusCode::UNAUTHORIZED,
        204,
    )
    .await;
    c.fails(
        "auth_users/user_login_token",
        json!({"userId": username, "token": "dd243f4.c32742af3bf6cb"}),
        StatusCode::UNAUTHORIZED,
        204,
    )
    .await;
    let keys = liveroom::auth::TokenKeys::issuing(
        &liveroom::env::JwtPrivateKey::parse("JWT_PRIVATE_KEY", SECRET).unwrap(),
    );
    let uid = liveroom::domain::UserId::parse("u", username).unwrap();
    let expired = keys
        .issue(
            &uid,
            liveroom::auth::TokenKind::Access,
            chrono::Utc::now() - chrono::Duration::hours(3),
            std::time::Duration::from_secs(60),
        )
        .unwrap()
        .token;
    c.fails(
        "auth_users/user_keepalive",
        json!({"userId": username, "token": expired}),
        StatusCode::UNAUTHORIZED,
        203,
    )
    .await;

    // user_update (name and avatar), user_query (no phone, no email), the doc's 205 and 206.
    c.ok(
        "auth_users/user_update",
        json!({"userId": username, "token": token, "name": "Alice",
        "tag": "im", "tag2": "mlvb", "avatar": "https://example.com/alice.png"}),
        "update ok",
    )
    .await;
    c.fails(
        "auth_users/user_update",
        json!({"userId": username, "token": token}),
        StatusCode::BAD_REQUEST,
        205,
    )
    .await;
    let (status, out) = c.query("auth_users/user_query", &me).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let mine: Done<UserData> = strict("user_query", &out);
    assert_eq!(
        (mine.data.name.as_str(), mine.data.avatar.as_str()),
        ("Alice", "https://example.com/alice.png")
    );
    assert!(
        out["data"].get("phone").is_none() && out["data"].get("email").is_none(),
        "{out}"
    );
    c.fails(
        "auth_users/user_query",
        json!({"userId": username, "token": token, "searchUserId": "nobody"}),
        StatusCode::NOT_FOUND,
        206,
    )
    .await;
    c.fails(
        "auth_users/user_query",
        json!({"userId": username, "token": token, "searchPhone": "+8618500002222"}),
        StatusCode::NOT_FOUND,
        206,
    )
    .await;
    // A path the seed does not have: 404, still in its envelope. Behind API Gateway (the
    // functions' shape) no route of the template matches it, so it never reaches a function:
    // API Gateway's own 404 (docs/deploying.md).
    if shape == Shape::Local {
        c.fails("rooms/no_such_api", json!({}), StatusCode::NOT_FOUND, 105)
            .await;
    } else {
        assert_eq!(
            c.json("rooms/no_such_api", json!({})).await,
            (StatusCode::NOT_FOUND, json!({"message": "Not Found"}))
        );
    }
    // Any method: the same query as a GET.
    let (status, out) = server
        .raw(
            server
                .request(Method::GET, "/base/v1/auth_users/user_query")
                .query(&me),
        )
        .await;
    assert_eq!(
        (status, out["data"]["name"].as_str()),
        (StatusCode::OK, Some("Alice"))
    );
    let out = c
        .ok(
            "auth_users/user_keepalive",
            json!({"userId": username, "token": token, "apaasUserId": username}),
            "keep alive done",
        )
        .await;
    assert!(
        is_seed_time(out["data"]["updateUtc"].as_str().unwrap()),
        "{out}"
    );

    // One account, two clients: the seed 004 login's token on the AUI API, and back.
    let (status, profile) = server
        .post("/api/v1/live/user", Some(&token), json!({}))
        .await;
    assert_eq!(
        (status, profile["nick"].as_str()),
        (StatusCode::OK, Some("Alice")),
        "{profile}"
    );
    server
        .post(
            "/api/v1/live/register",
            None,
            json!({"username": "bob", "password": "bob's password"}),
        )
        .await;
    let (_, bob_login) = server
        .post(
            "/login",
            None,
            json!({"username": "bob", "password": "bob's password"}),
        )
        .await;
    let bob_token = bob_login["token"].as_str().unwrap().to_owned();
    let bob = [("userId", "bob"), ("token", bob_token.as_str())];
    let out = c
        .ok(
            "auth_users/user_query",
            json!({"userId": "bob", "token": bob_token, "searchUserId": username}),
            "query done",
        )
        .await;
    assert_eq!(out["data"]["userId"], username);

    // Rooms: generate_roomid, then the anchor enters it (naming it and putting it on air).
    let out = c
        .ok(
            "rooms/generate_roomid",
            json!({"userId": username, "token": token, "appId": "1400000001"}),
            "generate_roomid ok",
        )
        .await;
    let room = out["data"]["roomId"].as_str().unwrap().to_owned();
    let out = c
        .ok(
            "rooms/enter_room",
            json!({"userId": username, "token": token, "appId": 1400000001,
        "roomId": room, "title": "A live room", "category": "liveRoom", "role": "anchor"}),
            "enter_room ok",
        )
        .await;
    assert_eq!(
        (out["data"]["roomId"].as_str(), out["data"]["role"].as_str()),
        (Some(room.as_str()), Some("anchor"))
    );
    let (_, aui) = server
        .post("/api/v1/live/get", Some(&bob_token), json!({"id": room}))
        .await;
    assert_eq!(
        (
            aui["status"].as_i64(),
            aui["title"].as_str(),
            aui["category"].as_str()
        ),
        (Some(1), Some("A live room"), Some("liveRoom")),
        "{aui}"
    );
    // bob enters as a guest (the anchor's role is not his to take).
    c.fails(
        "rooms/enter_room",
        json!({"userId": "bob", "token": bob_token, "roomId": room, "role": "anchor"}),
        StatusCode::FORBIDDEN,
        109,
    )
    .await;
    let (status, out) = c
        .query(
            "rooms/enter_room",
            &[bob[0], bob[1], ("roomId", &room), ("appId", "1400000001")],
        )
        .await;
    assert_eq!(
        (status, out["data"]["role"].as_str()),
        (StatusCode::OK, Some("guest")),
        "{out}"
    );
    c.fails(
        "rooms/enter_room",
        json!({"userId": "bob", "token": bob_token, "roomId": "xxx-905449688"}),
        StatusCode::NOT_FOUND,
        2004,
    )
    .await;

    // query_room: the doc's request, its filters and paging.
    let (status, out) = c
        .query(
            "rooms/query_room",
            &[
                me[0],
                me[1],
                ("appId", "1400000001"),
                ("category", "liveRoom"),
                ("limit", "10"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let rooms: Done<Vec<RoomSummary>> = strict("query_room", &out);
    assert_eq!(rooms.data.len(), 1);
    assert_eq!(
        (
            rooms.data[0].room_id.as_str(),
            rooms.data[0].own_by.as_str()
        ),
        (room.as_str(), username)
    );
    assert!(is_seed_time(&rooms.data[0].create_utc) && is_seed_time(&rooms.data[0].update_utc));
    let now = chrono::Utc::now();
    let window = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
        json!({"userId": username, "token": token, "appId": "1400000001", "roomIds": [room, "xxx-905449688"],
            "startUtc": from.format("%Y-%m-%d %H:%M:%S").to_string(), "endUtc": to.format("%Y-%m-%d %H:%M:%S").to_string()})
    };
    let hit = c
        .ok(
            "rooms/query_room",
            window(
                now - chrono::Duration::hours(1),
                now + chrono::Duration::hours(1),
            ),
            "query_room ok",
        )
        .await;
    assert_eq!(hit["data"].as_array().unwrap().len(), 1, "{hit}");
    let miss = c
        .ok(
            "rooms/query_room",
            window(
                now - chrono::Duration::hours(2),
                now - chrono::Duration::hours(1),
            ),
            "query_room ok",
        )
        .await;
    assert_eq!(miss["data"], json!([]));
    let other = c
        .ok(
            "rooms/query_room",
            json!({"userId": username, "token": token, "category": "ktv"}),
            "query_room ok",
        )
        .await;
    assert_eq!(other["data"], json!([]));
    c.fails(
        "rooms/query_room",
        json!({"userId": username, "token": token, "limit": 101}),
        StatusCode::BAD_REQUEST,
        2002,
    )
    .await;
    c.fails(
        "rooms/query_room",
        json!({"userId": username, "token": token, "startUtc": "yesterday"}),
        StatusCode::BAD_REQUEST,
        2002,
    )
    .await;

    // list_users and room_detail: both members, their roles and profiles.
    let out = c
        .ok(
            "rooms/list_users",
            json!({"userId": username, "token": token, "roomId": room, "limit": 10}),
            "query_Users ok",
        )
        .await;
    let mut users: Done<Vec<RoomUser>> = strict("list_users", &out);
    users.data.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    let roles: Vec<(&str, &str, &str)> = users
        .data
        .iter()
        .map(|u| (u.user_id.as_str(), u.role.as_str(), u.name.as_str()))
        .collect();
    assert_eq!(
        roles,
        [("alice", "anchor", "Alice"), ("bob", "guest", "bob")]
    );
    // nnUsers is the room's online count, at most METRICS_MAX_AGE_SECONDS old.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let out = c
        .ok(
            "rooms/room_detail",
            json!({"userId": "bob", "token": bob_token, "roomId": room}),
            "room_detail ok",
        )
        .await;
    let detail: Done<RoomDetail> = strict("room_detail", &out);
    assert_eq!(
        (
            detail.data.own_by.as_str(),
            detail.data.status.as_str(),
            detail.data.nn_users,
            detail.data.removed
        ),
        (username, "live", 2, 0)
    );

    // update_room and destroy_room are the anchor's alone.
    c.fails(
        "rooms/update_room",
        json!({"userId": "bob", "token": bob_token, "roomId": room, "title": "mine"}),
        StatusCode::FORBIDDEN,
        2010,
    )
    .await;
    let out = c
        .ok(
            "rooms/update_room",
            json!({"userId": username, "token": token, "roomId": room, "title": "Renamed",
        "cover": "https://example.com/c.png", "description": "about", "subject": "s"}),
            "update_room ok",
        )
        .await;
    assert_eq!(
        (
            out["data"]["title"].as_str(),
            out["data"]["cover"].as_str(),
            out["data"]["description"].as_str()
        ),
        (
            Some("Renamed"),
            Some("https://example.com/c.png"),
            Some("about")
        )
    );
    c.ok(
        "rooms/leave_room",
        json!({"userId": "bob", "token": bob_token, "roomId": room}),
        "leave_room ok",
    )
    .await;
    let out = c
        .ok(
            "rooms/list_users",
            json!({"userId": username, "token": token, "roomId": room}),
            "query_Users ok",
        )
        .await;
    assert_eq!(out["data"].as_array().unwrap().len(), 1, "{out}");
    c.fails(
        "rooms/destroy_room",
        json!({"userId": "bob", "token": bob_token, "roomId": room}),
        StatusCode::FORBIDDEN,
        2010,
    )
    .await;
    c.ok(
        "rooms/destroy_room",
        json!({"userId": username, "token": token, "roomId": room}),
        "destroy ok",
    )
    .await;
    c.fails(
        "rooms/room_detail",
        json!({"userId": username, "token": token, "roomId": room}),
        StatusCode::NOT_FOUND,
        2004,
    )
    .await;
    c.fails(
        "rooms/leave_room",
        json!({"userId": username, "token": token}),
        StatusCode::BAD_REQUEST,
        2002,
    )
    .await;

    // user_logout ends the session: the token cannot log in again; a second logout, with the
    // token expired or missing, is "logged out" as the doc says.
    c.ok(
        "auth_users/user_logout",
        json!({"userId": username, "token": renewed.data.token}),
        "user logout ok",
    )
    .await;
    c.fails(
        "auth_users/user_login_token",
        json!({"userId": username, "token": renewed.data.token}),
        StatusCode::UNAUTHORIZED,
        204,
    )
    .await;
    c.ok(
        "auth_users/user_logout",
        json!({"userId": username, "token": expired}),
        "user logout ok",
    )
    .await;
    c.ok(
        "auth_users/user_logout",
        json!({"userId": username}),
        "user logout ok",
    )
    .await;
    // user_delete; a user already gone counts as deleted.
    c.ok(
        "auth_users/user_delete",
        json!({"userId": "bob", "token": bob_token}),
        "user delete ok",
    )
    .await;
    c.ok(
        "auth_users/user_delete",
        json!({"userId": "bob", "token": bob_token}),
        "user delete ok",
    )
    .await;
    // Closed through seed 004, closed for the AUI client too.
    let (status, err) = server
        .post(
            "/api/v1/live/refresh",
            None,
            json!({"refresh_token": bob_login["refresh_token"]}),
        )
        .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("UserTokenInvalid"))
    );
    server.stop().await;
}

/// The published formula: `hex(sha256(appId + appKey + channelId + userId + nonce + timestamp))`.
fn aliyun_token(channel: &str, user: &str, nonce: &str, timestamp: i64) -> String {
    hex::encode(Sha256::digest(
        format!("rtc-app-1rtc-app-key-123456{channel}{user}{nonce}{timestamp}").as_bytes(),
    ))
}

async fn app_call(server: &Server, token: &str, path: &str, channel: &str) -> (StatusCode, Value) {
    server
        .raw(
            server
                .request(Method::GET, &format!("/app/{path}"))
                .query(&[("channelId", channel)])
                .bearer_auth(token),
        )
        .await
}

both_shapes!(seed_000_calls_have_two_seats_and_tokens_for_the_channel_the_client_named);
async fn seed_000_calls_have_two_seats_and_tokens_for_the_channel_the_client_named(shape: Shape) {
    let dir = tempfile::tempdir().unwrap();
    let mut vars: Vec<(String, String)> = aliyun_vars()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    vars.push(("JWT_PRIVATE_KEY".into(), SECRET.into()));
    let server = Server::start_with(shape, dir.path(), vars).await;
    let mut tokens = std::collections::HashMap::new();
    for name in ["alice", "bob", "carol", "dave", "erin"] {
        server
            .post(
                "/api/v1/live/register",
                None,
                json!({"username": name, "password": "a good password"}),
            )
            .await;
        let (_, login) = server
            .post(
                "/login",
                None,
                json!({"username": name, "password": "a good password"}),
            )
            .await;
        tokens.insert(name, login["token"].as_str().unwrap().to_owned());
    }

    // The first caller makes the call; its token is Alibaba's formula over the channel id.
    let (status, out) = app_call(&server, &tokens["alice"], "token", "call-42").await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(
        (out["result"].as_bool(), out["code"].as_str()),
        (Some(true), Some("200"))
    );
    let d = &out["data"];
    assert_eq!(
        (d["appid"].as_str(), d["userid"].as_str()),
        (Some("rtc-app-1"), Some("_05alice"))
    );
    assert!(
        d["gslb"]
            .as_array()
            .is_some_and(|g| !g.is_empty() && g.iter().all(Value::is_string)),
        "{d}"
    );
    let (nonce, ts) = (
        d["nonce"].as_str().unwrap(),
        d["timestamp"].as_i64().unwrap(),
    );
    assert_eq!(d["token"], aliyun_token("call-42", "_05alice", nonce, ts));
    assert!(ts > chrono::Utc::now().timestamp());
    let (status, start) =
        app_call(&server, &tokens["alice"], "descChannelStartTime", "call-42").await;
    assert_eq!(status, StatusCode::OK, "{start}");
    let started = start["data"]["channelStartTimeUtc"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(started, "%Y-%m-%dT%H:%M:%SZ").is_ok(),
        "{started}"
    );

    // The second takes the other seat; both are in the channel and both may publish.
    let (status, out) = app_call(&server, &tokens["bob"], "token", "call-42").await;
    assert_eq!(
        (status, out["data"]["userid"].as_str()),
        (StatusCode::OK, Some("_03bob")),
        "{out}"
    );
    // Its participants read it (issue 21, 7: nobody else does).
    let (status, users) = app_call(&server, &tokens["bob"], "descChannelUsers", "call-42").await;
    assert_eq!(status, StatusCode::OK);
    let mut list: Vec<&str> = users["data"]["userList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    list.sort();
    assert_eq!(list, ["alice", "bob"]);
    assert_eq!(users["data"]["isChannelExist"], true);
    assert_eq!(users["data"]["commTotalNum"], 2);
    // A third is refused by the server; a participant asking again gets a fresh token.
    let (status, full) = app_call(&server, &tokens["carol"], "token", "call-42").await;
    assert_eq!(
        (status, full["result"].as_bool(), full["code"].as_str()),
        (StatusCode::CONFLICT, Some(false), Some("2015")),
        "{full}"
    );
    let (status, again) = app_call(&server, &tokens["alice"], "token", "call-42").await;
    assert_eq!(status, StatusCode::OK);
    let a = &again["data"];
    assert!(a["timestamp"].as_i64() >= Some(ts), "{a}");
    assert_eq!(
        a["token"],
        aliyun_token(
            "call-42",
            "_05alice",
            a["nonce"].as_str().unwrap(),
            a["timestamp"].as_i64().unwrap()
        )
    );

    // Two callers racing for the last seat of another call: exactly one gets it.
    let (status, _) = app_call(&server, &tokens["carol"], "token", "call-43").await;
    assert_eq!(status, StatusCode::OK);
    let (d1, d2) = tokio::join!(
        app_call(&server, &tokens["dave"], "token", "call-43"),
        app_call(&server, &tokens["erin"], "token", "call-43"),
    );
    let mut statuses = [d1.0, d2.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} {}",
        d1.1,
        d2.1
    );

    // The same call is a room on the AUI API (its id derived from the channel), in no listing
    // (issue 16, 3: whoever reads a call's id could take its free seat).
    let (status, rooms) = server
        .post(
            "/api/v1/live/list",
            Some(&tokens["alice"]),
            json!({"page_num": 1, "page_size": 10, "category": "rtc-channel"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rooms.as_array().unwrap().len(), 0, "{rooms}");
    let call_42 = liveroom::domain::RoomId::for_channel(
        &liveroom::domain::ChannelId::parse("channelId", "call-42").unwrap(),
    )
    .to_string();
    let (status, room) = server
        .post(
            "/api/v1/live/get",
            Some(&tokens["alice"]),
            json!({"id": call_42}),
        )
        .await;
    assert_eq!(
        (status, room["title"].as_str()),
        (StatusCode::OK, Some("call-42")),
        "{room}"
    );
    // The anchor kicks bob (AUI): his seat is free, he cannot take it back while banned, and
    // carol can.
    let (status, kicked) = server
        .post(
            "/api/v1/live/kick",
            Some(&tokens["alice"]),
            json!({"id": call_42, "user_id": "bob"}),
        )
        .await;
    assert_eq!(
        (status, kicked["removed_from_meeting"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{kicked}"
    );
    let (status, err) = app_call(&server, &tokens["bob"], "token", "call-42").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("2016")),
        "{err}"
    );
    let (status, out) = app_call(&server, &tokens["carol"], "token", "call-42").await;
    assert_eq!(
        (status, out["data"]["userid"].as_str()),
        (StatusCode::OK, Some("_05carol")),
        "{out}"
    );

    // Errors in seed 000's envelope: an unknown channel, a bad id, no token.
    let (status, none) =
        app_call(&server, &tokens["alice"], "descChannelUsers", "nobody-here").await;
    assert_eq!(
        (
            status,
            none["data"]["isChannelExist"].as_bool(),
            none["data"]["userList"].clone()
        ),
        (StatusCode::OK, Some(false), json!([]))
    );
    let (status, err) = app_call(
        &server,
        &tokens["alice"],
        "descChannelStartTime",
        "nobody-here",
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("2004"))
    );
    let (status, err) = app_call(&server, &tokens["alice"], "token", "not a channel").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("2002")),
        "{err}"
    );
    let (status, err) = app_call(&server, &tokens["alice"], "noSuchApi", "call-42").await;
    if shape == Shape::Local {
        assert_eq!(
            (status, err["result"].as_bool(), err["code"].as_str()),
            (StatusCode::NOT_FOUND, Some(false), Some("105"))
        );
    } else {
        // No route of the template matches: API Gateway's own 404 (docs/deploying.md).
        assert_eq!(
            (status, err),
            (StatusCode::NOT_FOUND, json!({"message": "Not Found"}))
        );
    }
    let (status, err) = server
        .raw(server.request(Method::GET, "/app/token?channelId=call-42"))
        .await;
    assert_eq!(
        (status, err["result"].as_bool(), err["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some(false), Some("204"))
    );
    server.stop().await;
}
