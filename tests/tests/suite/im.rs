//! The Tencent IM REST client against a local stand-in of the API that speaks its wire format
//! and checks what it receives: the path, the query string (sdkappid, identifier, a UserSig —
//! verified afterwards by Tencent's own library —, a numeric random, contenttype=json), a JSON
//! body; it answers HTTP 200 with `{ActionStatus, ErrorCode, ErrorInfo}` like the real API.

use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use liveroom::env::Secret;
use liveroom::im::{ImError, TencentIm};
use serde_json::{Value, json};

use crate::credentials::{oracle, tencent_check};

pub(crate) const SDKAPPID: u32 = 1_400_000_001;
pub(crate) const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";

/// What the stand-in holds and saw.
#[derive(Default)]
pub(crate) struct Api {
    pub(crate) groups: BTreeSet<String>,
    /// Every UserSig received, to verify with the vendor's library.
    pub(crate) sigs: Vec<String>,
    /// Commands in the order received.
    pub(crate) calls: Vec<String>,
    /// Notifications delivered: the group and the content (parsed).
    pub(crate) notifications: Vec<(String, Value)>,
    /// Answers to give before the normal one (e.g. an expired UserSig, an HTTP 502).
    pub(crate) scripted: Vec<(u16, Value)>,
    /// Down: every request gets HTTP 503 (and is not served).
    pub(crate) down: bool,
    /// What was wrong with a request (the test fails on any).
    pub(crate) faults: Vec<String>,
}

fn envelope(code: i64, info: &str) -> Value {
    json!({
        "ActionStatus": if code == 0 { "OK" } else { "FAIL" },
        "ErrorCode": code,
        "ErrorInfo": info,
    })
}

fn answer(api: &mut Api, path: &str, query: &str, body: &[u8]) -> (u16, Value) {
    let q: HashMap<String, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace("%2A", "*")))
        .collect();
    let mut fault = |what: String| api.faults.push(format!("{path}: {what}"));
    if q.get("sdkappid").map(String::as_str) != Some(&SDKAPPID.to_string()) {
        fault(format!("sdkappid {:?}", q.get("sdkappid")));
    }
    if q.get("identifier").map(String::as_str) != Some("administrator") {
        fault(format!("identifier {:?}", q.get("identifier")));
    }
    if q.get("contenttype").map(String::as_str) != Some("json") {
        fault("contenttype".to_owned());
    }
    if q.get("random")
        .and_then(|r| r.parse::<u32>().ok())
        .is_none()
    {
        fault(format!("random {:?}", q.get("random")));
    }
    match q.get("usersig") {
        Some(sig) => api.sigs.push(sig.clone()),
        None => fault("no usersig".to_owned()),
    }
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        fault("the body is not JSON".to_owned());
        return (200, envelope(90001, "json format error"));
    };
    let command = path.rsplit('/').next().unwrap_or_default().to_owned();
    if api.down {
        return (503, json!({}));
    }
    api.calls.push(command.clone());
    if !api.scripted.is_empty() {
        return api.scripted.remove(0);
    }
    let group = body["GroupId"].as_str().unwrap_or_default().to_owned();
    if !path.starts_with("/v4/group_open_http_svc/") || group.is_empty() {
        api.faults.push(format!("{path}: {body}"));
        return (200, envelope(10004, "invalid parameters"));
    }
    match command.as_str() {
        "create_group" => {
            if body["Type"] != "AVChatRoom" || !body["Name"].is_string() {
                api.faults.push(format!("create_group {body}"));
            }
            if api.groups.insert(group.clone()) {
                (
                    200,
                    json!({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "GroupId": group}),
                )
            } else {
                (200, envelope(10021, "group id has been used"))
            }
        }
        "destroy_group" if api.groups.remove(&group) => (200, envelope(0, "")),
        "destroy_group" => (200, envelope(10010, "group not found")),
        "send_group_system_notification" if api.groups.contains(&group) => {
            match body["Content"].as_str().map(serde_json::from_str::<Value>) {
                Some(Ok(content)) => api.notifications.push((group, content)),
                _ => api.faults.push(format!("notification {body}")),
            }
            (200, envelope(0, ""))
        }
        "send_group_system_notification" => (200, envelope(10010, "group not found")),
        other => {
            api.faults.push(format!("unknown command {other}"));
            (200, envelope(60020, "unknown command"))
        }
    }
}

/// Starts the stand-in on a free port; returns its base URL and state.
pub(crate) async fn stand_in() -> (String, Arc<Mutex<Api>>) {
    let api = Arc::new(Mutex::new(Api::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::clone(&api);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<Incoming>| {
                    let state = Arc::clone(&state);
                    async move {
                        let path = req.uri().path().to_owned();
                        let query = req.uri().query().unwrap_or_default().to_owned();
                        let post = req.method() == hyper::Method::POST;
                        let body = req.into_body().collect().await.map(|b| b.to_bytes());
                        let (status, answer) = {
                            let mut api = state.lock().unwrap();
                            if !post {
                                api.faults.push(format!("{path}: not a POST"));
                            }
                            answer(&mut api, &path, &query, &body.unwrap_or_default())
                        };
                        let mut response =
                            hyper::Response::new(Full::new(Bytes::from(answer.to_string())));
                        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (base, api)
}

fn client(base: &str) -> TencentIm {
    TencentIm::new(
        base,
        SDKAPPID,
        "administrator",
        Secret::parse("TENCENT_SECRET_KEY", KEY).unwrap(),
    )
}

#[tokio::test]
async fn the_im_client_speaks_the_wire_format_and_its_operations_are_idempotent() {
    let (base, api) = stand_in().await;
    let im = client(&base);
    let now = chrono::Utc::now().timestamp();
    // The first calls an hour ago: their (cached) UserSig was issued then.
    let earlier = now - 3600;
    let room = "3f2c1e9a-7b6d-4c5e-9f80-1a2b3c4d5e6f";

    // Create twice: the second "already exists" (10021) is success.
    im.create_group(room, "a room", earlier).await.unwrap();
    im.create_group(room, "a room", earlier).await.unwrap();
    im.notify(
        room,
        &json!({"event": "cohosts_changed", "version": 3}),
        earlier,
    )
    .await
    .unwrap();
    // Destroy twice: "already gone" (10010) is success; so is a notification to it (there
    // is nobody to tell), though it was sent.
    im.destroy_group(room, earlier).await.unwrap();
    im.destroy_group(room, earlier).await.unwrap();
    let sent = api.lock().unwrap().calls.len();
    im.notify(room, &json!({"event": "x"}), earlier)
        .await
        .unwrap();
    assert_eq!(api.lock().unwrap().calls.len(), sent + 1);

    // An expired UserSig (70001) is made again and the call retried once.
    api.lock()
        .unwrap()
        .scripted
        .push((200, envelope(70001, "usersig expired")));
    im.create_group("room-2", "b", now).await.unwrap();
    // A server failure is "unavailable" (retry later), not a refusal.
    api.lock()
        .unwrap()
        .scripted
        .push((502, json!({"error": "bad gateway"})));
    assert!(matches!(
        im.destroy_group("room-2", now).await,
        Err(ImError::Unavailable(_))
    ));
    // Two 70001 in a row: one retry only, then the refusal.
    {
        let mut api = api.lock().unwrap();
        api.scripted.push((200, envelope(70001, "usersig expired")));
        api.scripted.push((200, envelope(70001, "usersig expired")));
    }
    assert!(matches!(
        im.destroy_group("room-2", now).await,
        Err(ImError::Refused { code: 70001, .. })
    ));

    let api = api.lock().unwrap();
    assert!(api.faults.is_empty(), "{:?}", api.faults);
    assert_eq!(
        api.calls,
        [
            "create_group",
            "create_group",
            "send_group_system_notification",
            "destroy_group",
            "destroy_group",
            "send_group_system_notification",
            "create_group",
            "create_group",
            "destroy_group",
            "destroy_group",
            "destroy_group",
        ]
    );
    // One UserSig (cached) until the API said it expired, then a fresh one; every one verifies
    // for the admin.
    assert!(api.sigs[..7].iter().all(|s| *s == api.sigs[0]), "cached");
    let distinct: BTreeSet<&String> = api.sigs.iter().collect();
    assert_eq!(distinct.len(), 2, "a 70001 makes a new UserSig");
    let checks: Vec<Value> = distinct.iter().map(|s| tencent_check(&json!(s))).collect();
    for r in oracle(&checks) {
        assert_eq!(r["valid"], true, "{r}");
        assert_eq!(r["identifier"], "administrator");
        assert!(
            r["expire"].as_i64().unwrap() >= 86_400,
            "at least 24 h: {r}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_im_api_is_unavailable_not_refused() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let im = client(&base);
    match im
        .create_group("r", "n", chrono::Utc::now().timestamp())
        .await
    {
        // What is logged of it names no URL: the query string carries the admin's UserSig.
        Err(ImError::Unavailable(why)) => {
            assert!(why.starts_with("unreachable: connect"), "{why}");
            assert!(!why.contains("usersig") && !why.contains(&base), "{why}");
        }
        other => panic!("{other:?}"),
    }
}
