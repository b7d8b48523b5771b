//! The outbox end to end, on both stores, with a manual clock: the room's IM group (against
//! the IM API stand-in of `im.rs`) and signed webhooks (against a receiver that verifies them
//! the way LiveKit's receivers do), including far ends that fail and the retries that finish
//! the work; and the audit log sent as `audit` webhook events (issue 24).

use liveroom::endpoint::Handler;
use liveroom::{meeting, moderation, presence, rooms};
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use chrono::Duration;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use liveroom::clock::ManualClock;
use liveroom::delivery::{Delivery, DeliveryReport, deliver_pending};
use liveroom::domain::{RoomId, UserId};
use liveroom::endpoint::Endpoint;
use liveroom::{App, Config};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{EVENTS_SECRET, TestStore, call, token_for};
use crate::im::{Api, KEY, SDKAPPID, stand_in};

pub(crate) const HOOK_SECRET: &str = "webhook-secret-for-the-tests-only-0123456789";

/// What the webhook receiver saw.
#[derive(Default)]
pub(crate) struct Receiver {
    /// Requests to refuse (HTTP 500) before accepting any.
    fail_next: u32,
    refused: u32,
    /// Accepted bodies, in arrival order.
    pub(crate) events: Vec<Value>,
    /// What failed verification (the test fails on any).
    pub(crate) faults: Vec<String>,
}

/// A receiver's check, as in docs/callbacks-and-webhooks.md: the token is an HS256 JWT from `liveroom`, not
/// expired, whose `sha256` claim is the body's hash.
fn verify(authorization: &str, body: &[u8], secret: &str) -> Result<(), String> {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&["liveroom"]);
    validation.set_required_spec_claims(&["exp", "iss"]);
    let claims = jsonwebtoken::decode::<Value>(
        authorization,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| e.to_string())?
    .claims;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
    if claims["sha256"] == hash {
        Ok(())
    } else {
        Err(format!(
            "sha256 {} for a body hashing to {hash}",
            claims["sha256"]
        ))
    }
}

pub(crate) async fn receiver() -> (String, Arc<Mutex<Receiver>>) {
    let state = Arc::new(Mutex::new(Receiver::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/liveroom", listener.local_addr().unwrap());
    let shared = Arc::clone(&state);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let state = Arc::clone(&shared);
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<Incoming>| {
                    let state = Arc::clone(&state);
                    async move {
                        let header = |name: &str| {
                            req.headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned()
                        };
                        let (auth, kind) = (header("authorization"), header("content-type"));
                        let post = req.method() == hyper::Method::POST;
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let status = {
                            let mut r = state.lock().unwrap();
                            if !post || kind != "application/webhook+json" {
                                r.faults.push(format!("method/content-type {post} {kind}"));
                            }
                            if let Err(e) = verify(&auth, &body, HOOK_SECRET) {
                                r.faults.push(e);
                            }
                            if r.fail_next > 0 {
                                r.fail_next -= 1;
                                r.refused += 1;
                                500
                            } else {
                                r.events.push(serde_json::from_slice(&body).unwrap());
                                204
                            }
                        };
                        let mut response = hyper::Response::new(Full::new(Bytes::new()));
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
    (url, state)
}

struct World {
    app: Arc<App>,
    clock: Arc<ManualClock>,
    delivery: Delivery,
    im: Arc<Mutex<Api>>,
    hooks: Arc<Mutex<Receiver>>,
    _store: TestStore,
}

fn world(store: TestStore) -> World {
    // `both_stores!` calls this outside an async context: the servers get their own runtime
    // thread, which outlives the test's.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let im = stand_in().await;
            let hooks = receiver().await;
            tx.send((im, hooks)).unwrap();
            std::future::pending::<()>().await;
        });
    });
    let ((im_base, im), (hook_url, hooks)) = rx.recv().unwrap();
    let env: HashMap<&str, String> = HashMap::from([
        ("JWT_PRIVATE_KEY", EVENTS_SECRET.to_owned()),
        ("IM_PROVIDER", "tencent".to_owned()),
        ("TENCENT_SDKAPPID", SDKAPPID.to_string()),
        ("TENCENT_SECRET_KEY", KEY.to_owned()),
        ("TENCENT_IM_API_BASE", im_base),
        ("WEBHOOK_URL", hook_url),
        ("WEBHOOK_SECRET", HOOK_SECRET.to_owned()),
    ]);
    let lookup = |k: &str| env.get(k).cloned();
    let config = Config::from_lookup(lookup).unwrap();
    let clock = Arc::new(ManualClock::new(
        chrono::DateTime::from_timestamp(1_900_000_000, 0).unwrap(),
    ));
    let app = App::new(config, Arc::clone(&store.store), clock.clone());
    let delivery = Delivery::from_lookup(lookup, &app.config).unwrap();
    World {
        app: Arc::new(app),
        clock,
        delivery,
        im,
        hooks,
        _store: store,
    }
}

impl World {
    fn user(&self, name: &str) -> String {
        let user = UserId::parse("user", name).unwrap();
        crate::common::ensure_user_now(&*self.app.store, &user);
        token_for(&self.app, &user, 86_400 * 30)
    }

    async fn ok(&self, endpoint: Endpoint, token: &str, body: Value) -> Value {
        let (status, out) = call(&self.app, endpoint, token, body).await;
        assert_eq!(status, 200, "{endpoint:?}: {out}");
        out
    }

    async fn deliver(&self) -> DeliveryReport {
        deliver_pending(&self.app, &self.delivery).await.unwrap()
    }

    fn advance(&self, seconds: i64) {
        self.clock.advance(Duration::seconds(seconds));
    }

    fn notifications(&self, room: &str) -> Vec<String> {
        self.im
            .lock()
            .unwrap()
            .notifications
            .iter()
            .filter(|(g, _)| g == room)
            .map(|(_, c)| c["event"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Each event's first arrival per room: (event, room version), in arrival order.
    fn webhooks(&self, room: &str) -> Vec<String> {
        let hooks = self.hooks.lock().unwrap();
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for e in hooks.events.iter().filter(|e| e["room"]["id"] == room) {
            let id = e["id"].as_str().unwrap().to_owned();
            if !seen.contains(&id) {
                seen.push(id);
                out.push(e["event"].as_str().unwrap().to_owned());
            }
        }
        out
    }

    async fn chat(&self, token: &str, room: &str) -> (String, bool) {
        let info = self
            .ok(rooms::Get::ENDPOINT, token, json!({"id": room}))
            .await;
        (
            info["chat_id"].as_str().unwrap().to_owned(),
            info["chat_ready"].as_bool().unwrap(),
        )
    }

    /// The `audit` events' actions, first arrivals, in arrival order.
    fn audit_events(&self) -> Vec<String> {
        let hooks = self.hooks.lock().unwrap();
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for e in hooks.events.iter().filter(|e| e["event"] == "audit") {
            let id = e["id"].as_str().unwrap().to_owned();
            if !seen.contains(&id) {
                seen.push(id);
                out.push(e["audit"]["action"].as_str().unwrap().to_owned());
            }
        }
        out
    }

    async fn pending(&self) -> usize {
        self.app.store.outbox_rooms(1000).await.unwrap().len()
    }
}

both_stores!(the_room_group_follows_the_room_and_survives_the_im_api_being_down);
both_stores!(racing_changes_of_one_room_are_reported_in_commit_order);
both_stores!(webhooks_arrive_signed_once_per_event_in_order_through_a_failing_receiver);
both_stores!(an_event_nobody_could_deliver_within_retention_is_given_up);
both_stores!(every_audit_entry_is_sent_as_a_signed_audit_event_in_order);

/// Issue 24: the audit log as a webhook feed. Each entry is sent once it is 10 s old (not
/// before), as `{id, event: "audit", created_at, audit}` signed like every event, in id order;
/// a refused send is sent again by the next run, nothing is skipped; an entry written late by
/// a writer whose clock lags (its id older than the newest sent) is still sent, the cursor
/// having waited for it; and an entry is sent again only after a failure (receivers dedupe).
async fn every_audit_entry_is_sent_as_a_signed_audit_event_in_order(w: World) {
    let anchor = w.user("auditee");
    let viewer = w.user("audit_viewer");
    let id = w
        .ok(
            rooms::Create::ENDPOINT,
            &anchor,
            json!({"title": "audited"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.ok(presence::Join::ENDPOINT, &viewer, json!({"id": id}))
        .await;
    w.ok(
        moderation::Mute::ENDPOINT,
        &anchor,
        json!({"id": id, "user_id": "audit_viewer", "mute": true}),
    )
    .await;
    w.advance(1);
    w.ok(
        moderation::Kick::ENDPOINT,
        &anchor,
        json!({"id": id, "user_id": "audit_viewer", "ban_seconds": 0}),
    )
    .await;
    let report = w.deliver().await;
    assert_eq!(report.audit, 0, "not before they are 10 s old: {report:?}");
    w.advance(8);
    assert_eq!(w.deliver().await.audit, 0);
    w.advance(1);
    assert_eq!(
        w.deliver().await.audit,
        1,
        "the mute, 10 s old; the kick is 9 s old"
    );
    w.advance(1);
    assert_eq!(w.deliver().await.audit, 1);
    assert_eq!(w.deliver().await.audit, 0, "each once");
    assert_eq!(w.audit_events(), ["room.mute", "room.kick"]);

    // The receiver refuses once: nothing moves past the refused entry; the next run sends it.
    w.ok(
        moderation::Mute::ENDPOINT,
        &anchor,
        json!({"id": id, "user_id": "audit_viewer", "mute": false}),
    )
    .await;
    w.advance(11);
    w.hooks.lock().unwrap().fail_next = 1;
    assert_eq!(w.deliver().await.audit, 0);
    assert_eq!(w.deliver().await.audit, 1);
    assert_eq!(w.audit_events(), ["room.mute", "room.kick", "room.unmute"]);

    // A writer whose clock is 8 s behind writes an entry older than now: the cursor, held
    // 10 s back, has not passed it.
    let lagging = App::new(
        w.app.config.clone(),
        Arc::clone(&w.app.store),
        Arc::new(ManualClock::new(w.app.clock.now() - Duration::seconds(8))),
    );
    let (status, out) = call(
        &lagging,
        moderation::Mute::ENDPOINT,
        &anchor,
        json!({"id": id, "user_id": "audit_viewer", "mute": true}),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    w.advance(1);
    assert_eq!(w.deliver().await.audit, 0, "not yet settled");
    w.advance(2);
    assert_eq!(w.deliver().await.audit, 1);
    assert_eq!(
        w.audit_events(),
        ["room.mute", "room.kick", "room.unmute", "room.mute"]
    );

    let hooks = w.hooks.lock().unwrap();
    assert!(hooks.faults.is_empty(), "{:?}", hooks.faults);
    let audits: Vec<&Value> = hooks
        .events
        .iter()
        .filter(|e| e["event"] == "audit")
        .collect();
    assert_eq!(
        audits.len(),
        4,
        "sent once each (the refused one is not counted)"
    );
    let ids: Vec<&str> = audits.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert!(ids.windows(2).all(|p| p[0] < p[1]), "in id order: {ids:?}");
    let kick = audits[1];
    assert_eq!(kick["audit"]["id"], kick["id"]);
    assert_eq!(
        kick["audit"]["actor"],
        json!({"kind": "user", "id": "auditee"})
    );
    assert_eq!(
        kick["audit"]["target"],
        json!({"kind": "user", "id": "audit_viewer"})
    );
    assert_eq!(kick["audit"]["room_id"], id.as_str());
    assert_eq!(kick["audit"]["source"], "anchor");
    let at = chrono::DateTime::parse_from_rfc3339(kick["audit"]["at"].as_str().unwrap()).unwrap();
    assert_eq!(kick["created_at"].as_i64(), Some(at.timestamp()));
    assert!(kick["audit"].get("expires_at").is_none());
}

async fn the_room_group_follows_the_room_and_survives_the_im_api_being_down(w: World) {
    let anchor = w.user("anchor_1");
    let viewer = w.user("viewer_1");
    let room = w
        .ok(
            rooms::Create::ENDPOINT,
            &anchor,
            json!({"title": "im", "mode": 1}),
        )
        .await;
    let id = room["id"].as_str().unwrap().to_owned();
    // The group's id is the room's from creation on; it exists once delivered.
    assert_eq!(room["chat_id"], id.as_str());
    assert_eq!(room["chat_ready"], false);
    let report = w.deliver().await;
    assert_eq!((report.delivered, report.failed), (2, 0), "{report:?}");
    assert!(w.im.lock().unwrap().groups.contains(&id));
    assert_eq!(w.chat(&viewer, &id).await, (id.clone(), true));

    w.ok(rooms::Start::ENDPOINT, &anchor, json!({"id": id}))
        .await;
    w.deliver().await;
    // A join is no IM call (nor a webhook).
    let calls = w.im.lock().unwrap().calls.len();
    let hooks = w.hooks.lock().unwrap().events.len();
    w.ok(presence::Join::ENDPOINT, &viewer, json!({"id": id}))
        .await;
    assert_eq!(w.deliver().await, DeliveryReport::default());
    assert_eq!(w.im.lock().unwrap().calls.len(), calls);
    assert_eq!(w.hooks.lock().unwrap().events.len(), hooks);
    w.ok(
        meeting::UpdateMeetingInfo::ENDPOINT,
        &anchor,
        json!({"id": id, "members": [{"user_id": "anchor_1"}, {"user_id": "viewer_1"}]}),
    )
    .await;
    w.deliver().await;
    {
        let im = w.im.lock().unwrap();
        let (_, last) = im.notifications.last().unwrap();
        assert_eq!(last["event"], "cohosts_changed");
        assert_eq!(last["cohosts"], json!(["anchor_1", "viewer_1"]));
        assert_eq!(last["cohosts_version"], 1);
        assert_eq!(last["room_id"], id.as_str());
    }
    w.ok(rooms::Stop::ENDPOINT, &anchor, json!({"id": id}))
        .await;
    w.deliver().await;
    assert_eq!(
        w.notifications(&id),
        ["room_started", "cohosts_changed", "room_ended"]
    );
    assert!(!w.im.lock().unwrap().groups.contains(&id), "destroyed");
    assert_eq!(w.chat(&viewer, &id).await, (id.clone(), false));

    // The IM API goes down: the room is made anyway; its group follows once the API is back.
    w.im.lock().unwrap().down = true;
    let second = w
        .ok(
            rooms::Create::ENDPOINT,
            &anchor,
            json!({"title": "while down"}),
        )
        .await;
    let second = second["id"].as_str().unwrap().to_owned();
    let report = w.deliver().await;
    // The webhook went out; the IM entry failed and waits.
    assert_eq!((report.delivered, report.failed), (1, 1), "{report:?}");
    assert_eq!(w.chat(&anchor, &second).await, (second.clone(), false));
    assert_eq!(
        w.deliver().await.failed,
        0,
        "not retried before its backoff"
    );
    w.advance(6);
    assert_eq!(w.deliver().await.failed, 1, "retried after 5 s, still down");
    w.im.lock().unwrap().down = false;
    w.advance(6);
    assert_eq!(w.deliver().await.failed, 0, "10 s is not yet up");
    w.advance(5);
    let report = w.deliver().await;
    assert_eq!((report.delivered, report.failed), (1, 0), "{report:?}");
    assert!(w.im.lock().unwrap().groups.contains(&second));
    assert_eq!(w.chat(&anchor, &second).await, (second.clone(), true));
    // A deleted room's group is dissolved.
    w.ok(rooms::Delete::ENDPOINT, &anchor, json!({"id": second}))
        .await;
    w.deliver().await;
    assert!(!w.im.lock().unwrap().groups.contains(&second));
    assert_eq!(w.pending().await, 0, "nothing left undelivered");

    assert_eq!(
        w.webhooks(&id),
        [
            "room_created",
            "room_started",
            "cohosts_changed",
            "room_ended"
        ]
    );
    assert_eq!(w.webhooks(&second), ["room_created", "room_deleted"]);
    assert!(w.im.lock().unwrap().faults.is_empty());
    assert!(w.hooks.lock().unwrap().faults.is_empty());
}

async fn webhooks_arrive_signed_once_per_event_in_order_through_a_failing_receiver(w: World) {
    w.hooks.lock().unwrap().fail_next = 2;
    let anchor = w.user("anchor_2");
    let member = w.user("member_2");
    let a = w
        .ok(
            rooms::Create::ENDPOINT,
            &anchor,
            json!({"title": "a", "mode": 1}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = w
        .ok(rooms::Create::ENDPOINT, &anchor, json!({"title": "b"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for endpoint in [
        rooms::Start::ENDPOINT,
        rooms::Pause::ENDPOINT,
        rooms::Start::ENDPOINT,
    ] {
        w.ok(endpoint, &anchor, json!({"id": a})).await;
    }
    w.ok(presence::Join::ENDPOINT, &member, json!({"id": a}))
        .await;
    w.ok(
        meeting::UpdateMeetingInfo::ENDPOINT,
        &anchor,
        json!({"id": a, "members": [{"user_id": "anchor_2"}, {"user_id": "member_2"}]}),
    )
    .await;
    w.ok(
        moderation::Kick::ENDPOINT,
        &anchor,
        json!({"id": a, "user_id": "member_2"}),
    )
    .await;
    w.ok(rooms::Stop::ENDPOINT, &anchor, json!({"id": a})).await;
    w.ok(rooms::Start::ENDPOINT, &anchor, json!({"id": b}))
        .await;
    w.ok(rooms::Delete::ENDPOINT, &anchor, json!({"id": b}))
        .await;

    // The receiver refuses the first two deliveries; retries with backoff finish the rest.
    for _ in 0..20 {
        w.deliver().await;
        if w.pending().await == 0 {
            break;
        }
        w.advance(601);
    }
    assert_eq!(w.pending().await, 0, "everything was delivered");
    let hooks = w.hooks.lock().unwrap();
    assert_eq!(hooks.refused, 2);
    assert!(hooks.faults.is_empty(), "{:?}", hooks.faults);
    drop(hooks);
    assert_eq!(
        w.webhooks(&a),
        [
            "room_created",
            "room_started",
            "room_paused",
            "room_started",
            "cohosts_changed",
            "member_kicked",
            "cohosts_changed",
            "room_ended",
        ]
    );
    assert_eq!(
        w.webhooks(&b),
        ["room_created", "room_started", "room_deleted"]
    );
    // One id per event, one body per id; versions grow along each room's history.
    let hooks = w.hooks.lock().unwrap();
    let mut bodies: BTreeMap<String, &Value> = BTreeMap::new();
    for e in hooks.events.iter().filter(|e| e["event"] != "audit") {
        let previous = bodies.insert(e["id"].as_str().unwrap().to_owned(), e);
        assert!(previous.is_none_or(|p| p == e), "an id with two bodies");
    }
    assert_eq!(bodies.len(), 11);
    let versions: Vec<i64> = hooks
        .events
        .iter()
        .filter(|e| e["room"]["id"] == a.as_str())
        .map(|e| e["room"]["version"].as_i64().unwrap())
        .collect();
    assert!(versions.windows(2).all(|p| p[0] <= p[1]), "{versions:?}");
    let kick = hooks
        .events
        .iter()
        .find(|e| e["event"] == "member_kicked")
        .unwrap();
    assert_eq!(kick["member"]["user_id"], "member_2");
    assert!(kick["created_at"].is_i64());
}

async fn an_event_nobody_could_deliver_within_retention_is_given_up(w: World) {
    w.hooks.lock().unwrap().fail_next = u32::MAX;
    let anchor = w.user("anchor_3");
    w.ok(
        rooms::Create::ENDPOINT,
        &anchor,
        json!({"title": "unheard"}),
    )
    .await;
    let report = w.deliver().await;
    assert_eq!(
        (report.delivered, report.failed),
        (1, 1),
        "the group yes, the webhook no"
    );
    for _ in 0..4 {
        w.advance(601);
        assert_eq!(w.deliver().await.failed, 1);
    }
    assert_eq!(w.pending().await, 1, "still waiting");
    w.advance(30 * 86_400);
    let report = w.deliver().await;
    assert_eq!((report.failed, report.dropped), (0, 1), "{report:?}");
    assert_eq!(w.pending().await, 0);
}

#[tokio::test]
async fn without_sinks_nothing_is_queued_and_a_webhook_needs_a_real_secret() {
    let store = crate::common::embedded();
    let app = crate::common::app(&store);
    let anchor =
        crate::common::user_token(&app, &UserId::parse("user", "solo").unwrap(), 3600).await;
    let (status, room) = call(
        &app,
        rooms::Create::ENDPOINT,
        &anchor,
        json!({"title": "t"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(room["chat_id"], "");
    assert_eq!(room["chat_ready"], false);
    let id = RoomId::parse("id", room["id"].as_str().unwrap()).unwrap();
    assert!(app.store.outbox(&id).await.unwrap().is_empty());

    let with = |pairs: &[(&str, &str)]| {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([("JWT_PRIVATE_KEY".to_owned(), EVENTS_SECRET.to_owned())])
            .collect();
        let config = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
        Delivery::from_lookup(|k| env.get(k).cloned(), &config).err()
    };
    let url = "https://hooks.example.com/liveroom";
    assert_eq!(
        with(&[("WEBHOOK_URL", url)]).unwrap().variable,
        "WEBHOOK_SECRET"
    );
    assert_eq!(
        with(&[("WEBHOOK_URL", url), ("WEBHOOK_SECRET", "short")])
            .unwrap()
            .variable,
        "WEBHOOK_SECRET"
    );
    assert_eq!(
        with(&[("WEBHOOK_URL", "ftp://x"), ("WEBHOOK_SECRET", HOOK_SECRET)])
            .unwrap()
            .variable,
        "WEBHOOK_URL"
    );
    assert!(with(&[("WEBHOOK_URL", url), ("WEBHOOK_SECRET", HOOK_SECRET)]).is_none());

    // The receiver's check catches a body that is not the one signed, and a wrong secret.
    let (url, _) = receiver().await;
    let hook = liveroom::delivery::Webhook::new(
        &url,
        &liveroom::env::Secret::parse("WEBHOOK_SECRET", HOOK_SECRET).unwrap(),
    );
    let now = chrono::Utc::now().timestamp();
    let token = hook.token(br#"{"a":1}"#, now).unwrap();
    assert!(verify(&token, br#"{"a":1}"#, HOOK_SECRET).is_ok());
    assert!(verify(&token, br#"{"a":2}"#, HOOK_SECRET).is_err());
    assert!(
        verify(
            &token,
            br#"{"a":1}"#,
            "another-secret-of-at-least-32-bytes!!"
        )
        .is_err()
    );
    let stale = hook.token(br#"{"a":1}"#, now - 3600).unwrap();
    assert!(
        verify(&stale, br#"{"a":1}"#, HOOK_SECRET).is_err(),
        "expired"
    );
}

/// Issue 16, 10: what the sinks send (an administrator's UserSig in the IM API's query string,
/// a signed event) never crosses a network in the clear: `http://` only to a loopback host.
#[test]
fn the_im_api_and_webhooks_are_https_unless_on_loopback() {
    let refused = |pairs: &[(&str, &str)]| {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([
                ("JWT_PRIVATE_KEY".to_owned(), EVENTS_SECRET.to_owned()),
                ("WEBHOOK_SECRET".to_owned(), HOOK_SECRET.to_owned()),
                ("IM_PROVIDER".to_owned(), "tencent".to_owned()),
                ("TENCENT_SDKAPPID".to_owned(), SDKAPPID.to_string()),
                ("TENCENT_SECRET_KEY".to_owned(), KEY.to_owned()),
            ])
            .collect();
        let config = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
        Delivery::from_lookup(|k| env.get(k).cloned(), &config)
            .err()
            .map(|e| e.variable)
    };
    for (variable, bad) in [
        ("WEBHOOK_URL", "http://hooks.example.com/liveroom"),
        ("WEBHOOK_URL", "http://localhost.example.com/"),
        ("WEBHOOK_URL", "http://127.0.0.1@hooks.example.com/"),
        ("WEBHOOK_URL", "http://10.0.0.7:8080/"),
        ("WEBHOOK_URL", "https://"),
        ("TENCENT_IM_API_BASE", "http://console.tim.qq.com"),
        ("TENCENT_IM_API_BASE", "http://[::2]:80"),
    ] {
        assert_eq!(refused(&[(variable, bad)]), Some(variable), "{bad}");
    }
    for good in [
        "https://hooks.example.com/liveroom",
        "http://127.0.0.1:9000/hook",
        "http://127.1.2.3/",
        "http://localhost:8080",
        "http://LOCALHOST/x?y",
        "http://[::1]:80/x",
    ] {
        assert_eq!(refused(&[("WEBHOOK_URL", good)]), None, "{good}");
        assert_eq!(refused(&[("TENCENT_IM_API_BASE", good)]), None, "{good}");
    }
}

/// Issue 16, 9, through the handlers: an anchor's status changes racing its co-host changes,
/// twenty times. Every call succeeds (one that finds only another reported change committed
/// goes again, after it), no two entries share an order, and in their order each reports the
/// room at least as far on as the one before: the order is the order of the commits.
async fn racing_changes_of_one_room_are_reported_in_commit_order(w: World) {
    let anchor = w.user("racer");
    let room = w
        .ok(
            rooms::Create::ENDPOINT,
            &anchor,
            json!({"title": "race", "mode": 1}),
        )
        .await;
    let id = room["id"].as_str().unwrap().to_owned();
    for round in 0..20 {
        let status = if round % 2 == 0 {
            rooms::Start::ENDPOINT
        } else {
            rooms::Pause::ENDPOINT
        };
        let members = json!([{"user_id": "racer", "camera_opened": round % 2 == 0,
                              "mic_opened": true}]);
        let (a, b) = tokio::join!(
            call(&w.app, status, &anchor, json!({"id": id})),
            call(
                &w.app,
                meeting::UpdateMeetingInfo::ENDPOINT,
                &anchor,
                json!({"id": id, "members": members})
            ),
        );
        assert_eq!((a.0, b.0), (200, 200), "{round}: {} {}", a.1, b.1);
    }
    let room_id = RoomId::parse("id", &id).unwrap();
    let entries: Vec<_> = w
        .app
        .store
        .outbox(&room_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.sink == liveroom::domain::outbox::Sink::Webhook)
        .collect();
    assert_eq!(
        entries.len(),
        41,
        "created, 20 status and 20 co-host changes"
    );
    let orders: std::collections::BTreeSet<&str> = entries.iter().map(|e| &e.seq[..16]).collect();
    assert_eq!(orders.len(), entries.len(), "one order per change");
    for pair in entries.windows(2) {
        let (before, after) = (&pair[0].event.room, &pair[1].event.room);
        assert!(
            after.version >= before.version && after.cohosts_version >= before.cohosts_version,
            "{} then {}: {before:?} then {after:?}",
            pair[0].seq,
            pair[1].seq
        );
    }
}
