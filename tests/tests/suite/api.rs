//! The API over real HTTP, against both shapes (`crate::shapes`: the local server, and
//! `template.yaml` served through the real function binaries): the issue's walkthrough with two
//! users, bad input of every kind, and a restart.

use std::path::Path;
use std::time::Duration;

use liveroom::auth::{TokenKeys, TokenKind};
use liveroom::domain::UserId;
use liveroom::env::JwtPrivateKey;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::shapes::{Backend, Shape};

/// The suite's `JWT_PRIVATE_KEY` (base64 of an Ed25519 seed).
const SECRET: &str = "YXBpLXN1aXRlLXNpZ25pbmcta2V5LTAxMjM0NTY3ODk=";

/// A running server of either shape on a free port (or by [`Server::stop`]).
pub(crate) struct Server {
    base: String,
    backend: Backend,
    http: reqwest::Client,
}

impl Server {
    async fn start(shape: Shape, data_dir: &Path, secret: Option<&str>) -> Self {
        let vars = secret
            .map(|s| vec![("JWT_PRIVATE_KEY".to_owned(), s.to_owned())])
            .unwrap_or_default();
        Self::start_with(shape, data_dir, vars).await
    }

    /// A server of `shape` configured by `vars` (as its environment; for the functions, as the
    /// template parameters they ref: `crate::shapes`).
    pub(crate) async fn start_with(
        shape: Shape,
        data_dir: &Path,
        vars: Vec<(String, String)>,
    ) -> Self {
        let backend = Backend::start(shape, data_dir, vars).await;
        Self {
            base: backend.base.clone(),
            backend,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    /// Stops accepting and waits for the server task, so the store file is released.
    pub(crate) async fn stop(self) {
        self.backend.stop().await;
        // Connections in flight hold the app; give them a moment to close.
        drop(self.http);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    /// The server's URL of `path_and_query`, and its client (for requests of any shape).
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path_and_query}", self.base))
    }

    pub(crate) async fn raw(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
        (status, body)
    }

    async fn register(&self, username: &str) {
        let (status, body) = self
            .post(
                "/api/v1/live/register",
                None,
                json!({"username": username, "password": "correct horse battery"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    async fn login(&self, username: &str) -> (String, String) {
        let (status, body) = self
            .post(
                "/login",
                None,
                json!({"username": username, "password": "correct horse battery"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        (
            body["token"].as_str().unwrap().to_owned(),
            body["user_id"].as_str().unwrap().to_owned(),
        )
    }

    async fn room_call(&self, op: &str, token: &str, id: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/api/v1/live/{op}"),
            Some(token),
            json!({ "id": id }),
        )
        .await
    }
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts the SPEC §2 error body and returns its reason.
fn error_reason(status: StatusCode, body: &Value) -> String {
    assert!(
        status.is_client_error(),
        "expected a 4xx, got {status}: {body}"
    );
    for field in ["code", "reason", "message", "details", "request_id"] {
        assert!(
            body.get(field).is_some(),
            "error body lacks {field}: {body}"
        );
    }
    assert!(
        body["code"].is_u64() && body["details"].is_object(),
        "{body}"
    );
    body["reason"].as_str().unwrap().to_owned()
}

both_shapes!(two_users_walk_through_the_whole_room_api_and_a_restart_loses_nothing);
async fn two_users_walk_through_the_whole_room_api_and_a_restart_loses_nothing(shape: Shape) {
    let dir = tempfile::tempdir().unwrap();
    // No JWT_PRIVATE_KEY: the local server generates a key pair and keeps it in the data dir.
    // The functions have no data dir: they take the key parameters of
    // `host/local-parameters.json`, the same on every start, as a deployed stack keeps its own.
    let server = Server::start(shape, dir.path(), None).await;
    if shape == Shape::Local {
        assert!(dir.path().join("jwt_private_key").exists());
    }

    server.register("alice").await;
    server.register("bob").await;
    let (status, body) = server
        .post(
            "/api/v1/live/register",
            None,
            json!({"username": "ALICE", "password": "another password"}),
        )
        .await;
    assert_eq!(error_reason(status, &body), "UserAlreadyExists");
    let (status, body) = server
        .post(
            "/api/v1/live/login",
            None,
            json!({"username": "alice", "password": "wrong password"}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), error_reason(status, &body)),
        (401, "UserLoginFailed".into())
    );
    let (status, body) = server
        .post(
            "/api/v1/live/login",
            None,
            json!({"username": "mallory", "password": "wrong password"}),
        )
        .await;
    assert_eq!(error_reason(status, &body), "UserLoginFailed");

    let (alice, alice_id) = server.login("alice").await;
    let (bob, bob_id) = server.login("bob").await;

    // Alice creates three rooms, Bob one; creation order is listing order, reversed.
    let mut created = Vec::new();
    for (token, title, mode) in [
        (&alice, "a1", 0),
        (&alice, "a2", 1),
        (&bob, "b1", 0),
        (&alice, "a3", 2),
    ] {
        let (status, room) = server
            .post(
                "/api/v1/live/create",
                Some(token),
                json!({"title": title, "mode": mode, "notice": "hi"}),
            )
            .await;
        assert_eq!(status, 200, "{room}");
        assert_eq!(
            (room["status"].as_i64(), room["version"].as_u64()),
            (Some(0), Some(0))
        );
        created.push(room["id"].as_str().unwrap().to_owned());
    }
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    let (status, got) = server.room_call("get", &bob, &created[1]).await;
    assert_eq!((status.as_u16(), got["title"].as_str()), (200, Some("a2")));
    assert_eq!(got["anchor_id"], alice_id.as_str());
    assert_eq!(got["anchor_nick"], "alice");

    let list = |body: Value| async { server.post("/api/v1/live/list", Some(&bob), body).await };
    let (status, all) = list(json!({"page_num": 1, "page_size": 100})).await;
    assert_eq!((status.as_u16(), ids(&all)), (200, newest_first.clone()));
    let (_, p1) = list(json!({"page_num": 1, "page_size": 3, "status": -1})).await;
    let (_, p2) = list(json!({"page_num": 2, "page_size": 3})).await;
    assert_eq!([ids(&p1), ids(&p2)].concat(), newest_first);
    assert_eq!(ids(&p2).len(), 1);
    let (_, by_alice) = list(json!({"page_num": 1, "page_size": 10, "anchor_id": alice_id})).await;
    assert_eq!(
        ids(&by_alice),
        vec![created[3].clone(), created[1].clone(), created[0].clone()]
    );
    let (_, by_bob) = list(json!({"page_num": 1, "page_size": 10, "anchor_id": bob_id})).await;
    assert_eq!(ids(&by_bob), vec![created[2].clone()]);

    // Update: the anchor only; the version moves.
    let (status, updated) = server
        .post(
            "/api/v1/live/update",
            Some(&alice),
            json!({"id": created[0], "title": "a1 renamed"}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), updated["version"].as_u64()),
        (200, Some(1))
    );
    assert_eq!(updated["title"], "a1 renamed");

    // start → pause → start → stop.
    let room = &created[0];
    for (op, expected_status) in [
        ("start", 1),
        ("start", 1),
        ("pause", 0),
        ("start", 1),
        ("stop", 2),
        ("stop", 2),
    ] {
        let (status, r) = server.room_call(op, &alice, room).await;
        assert_eq!(
            (status.as_u16(), r["status"].as_i64()),
            (200, Some(expected_status)),
            "{op}: {r}"
        );
    }
    let (_, r) = server.room_call("get", &alice, room).await;
    // update + start + pause + start + stop; the repeats wrote nothing.
    assert_eq!(r["version"], 5);
    assert!(r["started_at"].is_string() && r["stopped_at"].is_string());
    let (status, body) = server.room_call("start", &alice, room).await;
    assert_eq!(
        (status.as_u16(), error_reason(status, &body)),
        (409, "RoomStateConflict".into())
    );
    let (status, body) = server.room_call("pause", &alice, room).await;
    assert_eq!(status, 409, "{body}");

    let (_, live) = list(json!({"page_num": 1, "page_size": 10, "status": 2})).await;
    assert_eq!(ids(&live), vec![room.clone()]);
    let (_, prepare) = list(json!({"page_num": 1, "page_size": 10, "status": 0})).await;
    assert_eq!(ids(&prepare).len(), 3);

    // Every write by the other user is 403, and changes nothing.
    for op in ["start", "pause", "stop", "delete"] {
        let (status, body) = server.room_call(op, &bob, &created[1]).await;
        assert_eq!(
            (status.as_u16(), error_reason(status, &body)),
            (403, "RoomNotOwner".into()),
            "{op}"
        );
    }
    let (status, body) = server
        .post(
            "/api/v1/live/update",
            Some(&bob),
            json!({"id": created[1], "title": "mine now"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // Claiming to be someone else in the body is 403 too.
    let (status, body) = server
        .post(
            "/api/v1/live/create",
            Some(&bob),
            json!({"title": "x", "anchor": alice_id}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), error_reason(status, &body)),
        (403, "Forbidden".into())
    );
    let (status, _) = server
        .post(
            "/api/v1/live/get",
            Some(&bob),
            json!({"id": created[1], "user_id": alice_id}),
        )
        .await;
    assert_eq!(status, 403);
    let (_, untouched) = server.room_call("get", &alice, &created[1]).await;
    assert_eq!(
        (untouched["version"].as_u64(), untouched["title"].as_str()),
        (Some(0), Some("a2"))
    );

    // Delete, then it is gone.
    let (status, _) = server.room_call("delete", &alice, &created[3]).await;
    assert_eq!(status, 200);
    for op in ["get", "delete", "start"] {
        let (status, body) = server.room_call(op, &alice, &created[3]).await;
        assert_eq!(
            (status.as_u16(), error_reason(status, &body)),
            (404, "RoomNotExists".into()),
            "{op}"
        );
    }

    // Restart on the same data dir: users, rooms, the generated secret (so old tokens) survive.
    // For the functions: a new host over the same table, every instance cold.
    server.stop().await;
    let server = Server::start(shape, dir.path(), None).await;
    let (status, again) = server.room_call("get", &alice, &created[0]).await;
    assert_eq!(
        (
            status.as_u16(),
            again["status"].as_i64(),
            again["version"].as_u64()
        ),
        (200, Some(2), Some(5))
    );
    let (_, all) = server
        .post(
            "/api/v1/live/list",
            Some(&bob),
            json!({"page_num": 1, "page_size": 100}),
        )
        .await;
    assert_eq!(ids(&all), newest_first[1..].to_vec());
    let (fresh, fresh_id) = server.login("bob").await;
    assert_eq!(fresh_id, bob_id);
    assert!(!fresh.is_empty());
    server.stop().await;
}

fn sign(
    secret: &str,
    user: &UserId,
    issued: chrono::DateTime<chrono::Utc>,
    ttl_secs: u64,
) -> String {
    TokenKeys::issuing(&JwtPrivateKey::parse("JWT_PRIVATE_KEY", secret).unwrap())
        .issue(
            user,
            TokenKind::Access,
            issued,
            Duration::from_secs(ttl_secs),
        )
        .unwrap()
        .token
}

both_shapes!(bad_input_of_every_kind_is_a_4xx_with_the_error_body);
async fn bad_input_of_every_kind_is_a_4xx_with_the_error_body(shape: Shape) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(shape, dir.path(), Some(SECRET)).await;
    server.register("carol").await;
    let (token, user_id) = server.login("carol").await;
    let (_, room) = server
        .post("/api/v1/live/create", Some(&token), json!({"title": "t"}))
        .await;
    let room_id = room["id"].as_str().unwrap().to_owned();

    let url = |path: &str| format!("{}{path}", server.base);
    let create = url("/api/v1/live/create");
    let list = url("/api/v1/live/list");
    let http = &server.http;
    let user = UserId::parse("sub", &user_id).unwrap();
    let now = chrono::Utc::now();
    let expired = sign(SECRET, &user, now - chrono::Duration::hours(3), 3600);
    // Issue 21, 8: another Ed25519 key's token, and HS256 tokens (tokens were HS256 before;
    // the public key's bytes as an HMAC key is the algorithm-confusion forgery).
    let foreign = sign(
        "YW5vdGhlci1rZXktZW50aXJlbHktMDEyMzQ1Njc4OWE=",
        &user,
        now,
        3600,
    );
    let hs256 = |secret: &[u8]| {
        let claims = json!({
            "sub": user_id, "exp": now.timestamp() + 3600, "iat": now.timestamp(),
            "jti": "x", "typ": "access", "sid": "s", "gen": 0,
        });
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    let public = JwtPrivateKey::parse("k", SECRET)
        .unwrap()
        .public_key()
        .to_base64();
    let hs256_old_secret = hs256(b"api-suite-secret-0123456789abcdef0123456789");
    let hs256_public_key = hs256(public.as_bytes());
    let tampered = {
        let mut t = token.clone();
        let last = t.pop().unwrap();
        t.push(if last == 'A' { 'B' } else { 'A' });
        t
    };
    let alg_none = {
        let parts: Vec<&str> = token.split('.').collect();
        // {"alg":"none","typ":"JWT"}
        format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1])
    };
    let big = "a".repeat(10 * 1024 * 1024);
    // Over MAX_BODY_BYTES (64 KiB) but within every gateway limit: the function's own 413.
    let over_limit = format!("{{\"title\": \"{}\"}}", "t".repeat(100 * 1024));
    let long_title = json!({"title": "t".repeat(10_000)}).to_string();

    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        (
            "no body",
            http.post(&create).bearer_auth(&token),
            400,
            "RoomCreateParams",
        ),
        (
            "no body, json type",
            http.post(&create)
                .bearer_auth(&token)
                .header("content-type", "application/json"),
            400,
            "RoomCreateParams",
        ),
        (
            "wrong content type",
            http.post(&create)
                .bearer_auth(&token)
                .header("content-type", "text/plain")
                .body(r#"{"title":"t"}"#),
            415,
            "UnsupportedMediaType",
        ),
        (
            "form content type",
            http.post(&create)
                .bearer_auth(&token)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("title=t"),
            415,
            "UnsupportedMediaType",
        ),
        (
            "malformed JSON",
            http.post(&create)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(r#"{"title": "#),
            400,
            "RoomCreateParams",
        ),
        (
            "not UTF-8",
            http.post(&create)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(vec![b'{', 0xff, 0xfe, b'}']),
            400,
            "RoomCreateParams",
        ),
        (
            "JSON array",
            http.post(&create).bearer_auth(&token).json(&json!([1, 2])),
            400,
            "RoomCreateParams",
        ),
        (
            "JSON null",
            http.post(&create).bearer_auth(&token).json(&Value::Null),
            400,
            "RoomCreateParams",
        ),
        (
            "wrong field type",
            http.post(&create)
                .bearer_auth(&token)
                .json(&json!({"title": 5})),
            400,
            "RoomCreateParams",
        ),
        (
            "missing title",
            http.post(&create)
                .bearer_auth(&token)
                .json(&json!({"notice": "n"})),
            400,
            "RoomCreateParams",
        ),
        (
            "unknown mode",
            http.post(&create)
                .bearer_auth(&token)
                .json(&json!({"title": "t", "mode": 9})),
            400,
            "RoomCreateParams",
        ),
        (
            "title of 10k characters",
            http.post(&create)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(long_title),
            400,
            "RoomCreateParams",
        ),
        (
            "javascript cover",
            http.post(&create)
                .bearer_auth(&token)
                .json(&json!({"title": "t", "cover_url": "javascript:alert(1)"})),
            400,
            "RoomCreateParams",
        ),
        (
            "10 MB body",
            http.post(&create)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(big),
            413,
            "PayloadTooLarge",
        ),
        (
            "100 KB body",
            http.post(&create)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(over_limit),
            413,
            "PayloadTooLarge",
        ),
        (
            "unknown status",
            http.post(&list)
                .bearer_auth(&token)
                .json(&json!({"page_num": 1, "page_size": 10, "status": 7})),
            400,
            "RoomQueryParams",
        ),
        (
            "status as string",
            http.post(&list)
                .bearer_auth(&token)
                .json(&json!({"page_num": 1, "page_size": 10, "status": "1"})),
            400,
            "RoomQueryParams",
        ),
        (
            "page_size 0",
            http.post(&list)
                .bearer_auth(&token)
                .json(&json!({"page_num": 1, "page_size": 0})),
            400,
            "RoomQueryParams",
        ),
        (
            "page_size 1000",
            http.post(&list)
                .bearer_auth(&token)
                .json(&json!({"page_num": 1, "page_size": 1000})),
            400,
            "RoomQueryParams",
        ),
        (
            "page_num 0",
            http.post(&list)
                .bearer_auth(&token)
                .json(&json!({"page_num": 0, "page_size": 10})),
            400,
            "RoomQueryParams",
        ),
        (
            "page_num huge",
            http.post(&list)
                .bearer_auth(&token)
                .json(&json!({"page_num": 9_007_199_254_740_991i64, "page_size": 100})),
            400,
            "RoomQueryParams",
        ),
        (
            "page_size float",
            http.post(&list)
                .bearer_auth(&token)
                .json(&json!({"page_num": 1, "page_size": 1.5})),
            400,
            "RoomQueryParams",
        ),
        (
            "bad anchor_id",
            http.post(&list)
                .bearer_auth(&token)
                .json(&json!({"page_num": 1, "page_size": 10, "anchor_id": "../x"})),
            400,
            "RoomQueryParams",
        ),
        (
            "bad room id",
            http.post(url("/api/v1/live/get"))
                .bearer_auth(&token)
                .json(&json!({"id": "not-a-room"})),
            400,
            "RoomQueryParams",
        ),
        (
            "unknown room",
            http.post(url("/api/v1/live/get"))
                .bearer_auth(&token)
                .json(&json!({"id": uuid::Uuid::new_v4().to_string()})),
            404,
            "RoomNotExists",
        ),
        (
            "unknown path",
            http.post(url("/api/v1/live/nope"))
                .bearer_auth(&token)
                .json(&json!({})),
            404,
            "RouteNotFound",
        ),
        (
            "unknown root path",
            http.get(url("/wp-admin")),
            404,
            "RouteNotFound",
        ),
        (
            "wrong method",
            http.get(&create).bearer_auth(&token),
            405,
            "MethodNotAllowed",
        ),
        (
            "wrong method on health",
            http.post(url("/api/v1/live/health")).json(&json!({})),
            405,
            "MethodNotAllowed",
        ),
        (
            "no token",
            http.post(&create).json(&json!({"title": "t"})),
            401,
            "UserTokenInvalid",
        ),
        (
            "not bearer",
            http.post(&create)
                .basic_auth("carol", Some("x"))
                .json(&json!({"title": "t"})),
            401,
            "UserTokenInvalid",
        ),
        (
            "garbage token",
            http.post(&create)
                .bearer_auth("garbage")
                .json(&json!({"title": "t"})),
            401,
            "UserTokenInvalid",
        ),
        (
            "tampered token",
            http.post(&create)
                .bearer_auth(&tampered)
                .json(&json!({"title": "t"})),
            401,
            "UserTokenInvalid",
        ),
        (
            "alg none token",
            http.post(&create)
                .bearer_auth(&alg_none)
                .json(&json!({"title": "t"})),
            401,
            "UserTokenInvalid",
        ),
        (
            "token of another secret",
            http.post(&create)
                .bearer_auth(&foreign)
                .json(&json!({"title": "t"})),
            401,
            "UserTokenInvalid",
        ),
        (
            "HS256 token of the old secret",
            http.post(&create)
                .bearer_auth(&hs256_old_secret)
                .json(&json!({"title": "t"})),
            401,
            "UserTokenInvalid",
        ),
        (
            "HS256 token keyed with the public key",
            http.post(&create)
                .bearer_auth(&hs256_public_key)
                .json(&json!({"title": "t"})),
            401,
            "UserTokenInvalid",
        ),
        (
            "expired token",
            http.post(&create)
                .bearer_auth(&expired)
                .json(&json!({"title": "t"})),
            401,
            "UserTokenExpired",
        ),
        (
            "someone else's user_id",
            http.post(url("/api/v1/live/start"))
                .bearer_auth(&token)
                .json(&json!({"id": room_id, "user_id": UserId::generate().to_string()})),
            403,
            "Forbidden",
        ),
        (
            "register: short password",
            http.post(url("/api/v1/live/register"))
                .json(&json!({"username": "dave", "password": "short"})),
            400,
            "SystemVerifyError",
        ),
        (
            "register: bad username",
            http.post(url("/api/v1/live/register"))
                .json(&json!({"username": "da ve", "password": "long enough pw"})),
            400,
            "SystemVerifyError",
        ),
        (
            "refresh with an access token",
            http.post(url("/api/v1/live/refresh"))
                .json(&json!({"refresh_token": token})),
            401,
            "UserTokenInvalid",
        ),
    ];
    // A request no route of the template matches never reaches a function: behind API Gateway
    // (the functions' shape) it is API Gateway's own 404, as docs/deploying.md says; the local
    // server routes every path itself (105 RouteNotFound, 106 MethodNotAllowed).
    let no_route = [
        "unknown path",
        "unknown root path",
        "wrong method",
        "wrong method on health",
    ];
    let mut failures = Vec::new();
    for (name, req, want_status, want_reason) in cases {
        // Deployed, a body over Lambda's 6 MB invocation limit never reaches a function.
        if shape == Shape::Functions && name == "10 MB body" {
            let (status, body) = server.raw(req).await;
            if (status.as_u16(), &body) != (413, &json!({"message": "Request Entity Too Large"})) {
                failures.push(format!("{name}: got {status} {body}"));
            }
            continue;
        }
        if shape == Shape::Functions && no_route.contains(&name) {
            let (status, body) = server.raw(req).await;
            if (status.as_u16(), &body) != (404, &json!({"message": "Not Found"})) {
                failures.push(format!("{name}: got {status} {body}"));
            }
            continue;
        }
        let (status, body) = server.raw(req).await;
        let reason = if status.is_client_error() {
            error_reason(status, &body)
        } else {
            String::new()
        };
        if status.as_u16() != want_status || reason != want_reason {
            failures.push(format!("{name}: got {status} {body}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Nothing above changed the room.
    let (_, r) = server.room_call("get", &token, &room_id).await;
    assert_eq!(
        (r["status"].as_i64(), r["version"].as_u64()),
        (Some(0), Some(0))
    );
    server.stop().await;
}

#[tokio::test]
async fn the_server_refuses_a_bad_key_and_never_uses_a_constant_one() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        "short",
        "api-suite-secret-0123456789abcdef0123456789",
        &"A".repeat(43),
    ] {
        let err = liveroom_local::open_app(dir.path(), |k| {
            (k == "JWT_PRIVATE_KEY").then(|| bad.to_owned())
        })
        .err()
        .expect("a key that is no Ed25519 key must be refused");
        assert!(err.contains("JWT_PRIVATE_KEY"), "{err}");
    }

    // Issue 21, 8: a generated Ed25519 key pair, the private half readable by the owner only,
    // used again on the next start.
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, _) = liveroom_local::open_app(a.path(), |_| None).unwrap();
    liveroom_local::open_app(b.path(), |_| None).unwrap();
    let read =
        |d: &tempfile::TempDir, name: &str| std::fs::read_to_string(d.path().join(name)).unwrap();
    assert_ne!(
        read(&a, "jwt_private_key"),
        read(&b, "jwt_private_key"),
        "two data dirs must get two random keys"
    );
    let key = JwtPrivateKey::parse("k", &read(&a, "jwt_private_key")).unwrap();
    assert_eq!(key.public_key().to_base64(), read(&a, "jwt_public_key"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(a.path().join("jwt_private_key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let user = UserId::generate();
    let token = first
        .tokens
        .issue(
            &user,
            TokenKind::Access,
            chrono::Utc::now(),
            Duration::from_secs(60),
        )
        .unwrap();
    drop(first);
    let (again, _) = liveroom_local::open_app(a.path(), |_| None).unwrap();
    assert_eq!(
        again
            .tokens
            .verify(&token.token, TokenKind::Access, chrono::Utc::now())
            .unwrap()
            .user_id,
        user,
        "a restart keeps the key"
    );
}

/// The functions' side of the test above: a key that is no Ed25519 key, given as the template's
/// `JwtPrivateKey` parameter, stops the functions that issue tokens at their init — API
/// Gateway's 502, and never a token signed with a constant key.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_functions_refuse_a_bad_key() {
    for bad in [
        "short",
        "api-suite-secret-0123456789abcdef0123456789",
        &"A".repeat(43),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(Shape::Functions, dir.path(), Some(bad)).await;
        server.register("erin").await;
        let (status, body) = server
            .post(
                "/login",
                None,
                json!({"username": "erin", "password": "correct horse battery"}),
            )
            .await;
        assert_eq!(
            (status.as_u16(), body),
            (502, json!({"message": "Internal Server Error"})),
            "{bad}"
        );
        server.stop().await;
    }
}
