//! Moderation that reaches the vendors through the outbox (issue 24), on both stores: an
//! operator's `stopRoom` (and a `disableUser`'s stops) cuts the room's stream, every kick (the
//! anchor's and an operator's) removes the member from the RTC channel, at the signature-checking
//! stand-ins of Alibaba, Tencent and LiveKit; the calls are written with the change by functions
//! that hold no vendor credential, and made by the delivery (the `outbox` function's, the
//! sweeper's and `liveroom-local`'s); each outcome is one audit entry, retried calls included;
//! a wrong secret is permanent, a vendor without credentials is not called (`not_enforced`), and
//! `VENDOR_ENFORCEMENT=off` writes nothing.
//!
//! The clock is a manual one started at the real time: the stand-ins check each signature's
//! time against theirs, and a retry is due only once the clock passes its backoff.
//!
//! Never here: the signatures and answers of each vendor call on its own (the parent module's
//! tests), the store's guarantees for entries and audit entries (the `contract` suite), or the
//! deployed path (the `functions` suite's kick through the `outbox` binary).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Duration;
use liveroom::admin::{AdminAudit, AdminDisableUser, AdminKick, AdminStopRoom};
use liveroom::clock::ManualClock;
use liveroom::delivery::{Delivery, DeliveryReport, deliver_pending};
use liveroom::domain::outbox::Sink;
use liveroom::domain::{RoomId, UserId};
use liveroom::endpoint::{Endpoint, Handler};
use liveroom::{App, Config, moderation, presence, rooms};
use serde_json::{Value, json};

use super::stand_ins::*;
use crate::common::{EVENTS_SECRET, TestStore, call, user_token};

pub struct World {
    store: TestStore,
}

fn world(store: TestStore) -> World {
    World { store }
}

/// One deployment on the test's store: its app (every function's settings: the handlers are
/// called with their own secret groups only), its clock and its deliverer.
struct Deployment {
    app: Arc<App>,
    clock: Arc<ManualClock>,
    delivery: Delivery,
}

impl World {
    /// A deployment with the vendor settings `vars` (over the providers' other settings, as
    /// the credentials suite has them; no IM provider: no IM group to keep).
    fn deploy(&self, vars: &[(&str, &str)]) -> Deployment {
        let others = crate::credentials::aliyun_vars()
            .into_iter()
            .chain(crate::credentials::tencent_vars())
            .filter(|(k, _)| !k.ends_with("_PROVIDER") && !k.starts_with("ALIYUN_IM_"));
        let env: HashMap<String, String> = others
            .chain(vars.iter().copied())
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .chain([
                ("JWT_PRIVATE_KEY".to_owned(), EVENTS_SECRET.to_owned()),
                ("ADMIN_USERS".to_owned(), "chief".to_owned()),
                ("MAX_OPEN_ROOMS_PER_USER".to_owned(), "100".to_owned()),
            ])
            .collect();
        let lookup = |k: &str| env.get(k).cloned();
        let config = Config::from_lookup(lookup).unwrap();
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let app = App::new(config, Arc::clone(&self.store.store), clock.clone());
        let delivery = Delivery::from_lookup(lookup, &app.config).unwrap();
        Deployment {
            app: Arc::new(app),
            clock,
            delivery,
        }
    }
}

impl Deployment {
    async fn token(&self, name: &str) -> String {
        user_token(&self.app, &UserId::parse("user", name).unwrap(), 86_400).await
    }

    async fn ok(&self, endpoint: Endpoint, token: &str, body: Value) -> Value {
        let (status, out) = call(&self.app, endpoint, token, body).await;
        assert_eq!(status, 200, "{endpoint:?}: {out}");
        out
    }

    /// A room of `anchor`'s, live, with `viewer` in it.
    async fn live_room(&self, anchor: &str, viewer: &str) -> String {
        let id = self
            .ok(
                rooms::Create::ENDPOINT,
                anchor,
                json!({"title": "enforced", "mode": 1}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.ok(rooms::Start::ENDPOINT, anchor, json!({"id": id}))
            .await;
        self.ok(presence::Join::ENDPOINT, viewer, json!({"id": id}))
            .await;
        id
    }

    async fn deliver(&self) -> DeliveryReport {
        deliver_pending(&self.app, &self.delivery).await.unwrap()
    }

    /// The room's undelivered vendor calls.
    async fn pending_calls(&self, room: &str) -> usize {
        let room = RoomId::parse("id", room).unwrap();
        let entries = self.app.store.outbox(&room).await.unwrap();
        entries.iter().filter(|e| e.sink == Sink::Vendor).count()
    }

    /// What the audit entries of vendor calls in `room` say, sorted (one delivery run's share
    /// its manual clock's millisecond, so their ids do not order them).
    async fn said(&self, admin: &str, room: &str) -> Vec<Said> {
        let mut out: Vec<Said> = self.outcomes(admin, room).await.iter().map(said).collect();
        out.sort();
        out
    }

    /// The audit entries of vendor calls in `room`.
    async fn outcomes(&self, admin: &str, room: &str) -> Vec<Value> {
        let out = self
            .ok(
                AdminAudit::ENDPOINT,
                admin,
                json!({"room_id": room, "limit": 100}),
            )
            .await;
        out["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"].as_str().unwrap().starts_with("vendor."))
            .cloned()
            .collect()
    }
}

/// What an outcome's entry says: (action, target, vendor, api, outcome, attempts).
type Said = (String, String, String, String, String, i64);

fn said(entry: &Value) -> Said {
    let d = &entry["details"];
    (
        entry["action"].as_str().unwrap().to_owned(),
        format!("{}:{}", entry["target"]["kind"], entry["target"]["id"]).replace('"', ""),
        d["vendor"].as_str().unwrap().to_owned(),
        d["api"].as_str().unwrap().to_owned(),
        d["outcome"].as_str().unwrap().to_owned(),
        d["attempts"].as_i64().unwrap(),
    )
}

fn outcome(
    action: &str,
    target: &str,
    vendor: &str,
    api: &str,
    outcome: &str,
    attempts: i64,
) -> Said {
    (
        action.to_owned(),
        target.to_owned(),
        vendor.to_owned(),
        api.to_owned(),
        outcome.to_owned(),
        attempts,
    )
}

both_stores!(stops_and_kicks_reach_alibaba_and_livekit);
both_stores!(stops_and_kicks_reach_tencent_and_a_disabled_anchors_rooms_are_cut);
both_stores!(a_failing_vendor_is_retried_until_done_with_one_audited_outcome);
both_stores!(a_wrong_secret_is_permanent_and_audited_not_retried);
both_stores!(without_credentials_nothing_is_called_and_off_writes_nothing);

/// Alibaba serves the CDN stream and the ARTC channel's kicks are LiveKit's: a stop cuts both
/// the Alibaba ingest (`ForbidLiveStream`) and the LiveKit room (`DeleteRoom`); an operator's
/// and an anchor's kick each remove the member at LiveKit (`RemoveParticipant`). Then Alibaba
/// RTC: `RemoveTerminals` of the member's vendor id.
async fn stops_and_kicks_reach_alibaba_and_livekit(w: World) {
    let ali = aliyun(ALIYUN_ID, ALIYUN_SECRET).await;
    let lk = livekit(LK_KEY, LK_SECRET).await;
    let mut vars: Vec<(&str, &str)> = aliyun_vars(&ali.base, ALIYUN_SECRET)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("ALIYUN_RTC") && *k != "RTC_PROVIDER")
        .collect();
    vars.extend(livekit_vars(&lk.base, LK_SECRET));
    let d = w.deploy(&vars);
    // The writers hold no vendor credential; the deliverer does.
    for writer in [
        AdminStopRoom::ENDPOINT,
        AdminKick::ENDPOINT,
        AdminDisableUser::ENDPOINT,
        moderation::Kick::ENDPOINT,
    ] {
        let scoped = d.app.scoped(writer.secrets());
        assert!(!scoped.config.enforcement.has_keys(), "{writer:?}");
        assert!(!scoped.config.enforcement.is_off(), "{writer:?}");
    }
    assert!(d.app.config.enforcement.has_keys());

    let (chief, anchor) = (d.token("chief").await, d.token("ali_anchor").await);
    let (v1, v2) = (d.token("ali_v1").await, d.token("ali_v2").await);
    let id = d.live_room(&anchor, &v1).await;
    d.ok(presence::Join::ENDPOINT, &v2, json!({"id": id})).await;
    ali.add_stream(&format!("push.example.com/live/{id}"));
    lk.add_member(&id, "ali_v1");
    lk.add_member(&id, "ali_v2");
    lk.add_member(&id, "ali_anchor");

    d.ok(
        AdminKick::ENDPOINT,
        &chief,
        json!({"id": id, "user_id": "ali_v1", "reason": "spam"}),
    )
    .await;
    d.ok(
        moderation::Kick::ENDPOINT,
        &anchor,
        json!({"id": id, "user_id": "ali_v2"}),
    )
    .await;
    assert_eq!(d.pending_calls(&id).await, 2, "written with the kicks");
    assert!(lk.calls().is_empty(), "nothing called by the writers");
    let report = d.deliver().await;
    assert_eq!(report.failed, 0, "{report:?}");
    assert_eq!(
        lk.members(&id),
        Some(std::collections::BTreeSet::from(["ali_anchor".to_owned()]))
    );

    let stopped = d
        .ok(
            AdminStopRoom::ENDPOINT,
            &chief,
            json!({"id": id, "reason": "violation"}),
        )
        .await;
    assert_eq!(stopped["status"], 2);
    assert_eq!(d.pending_calls(&id).await, 2, "the cut at each vendor");
    d.deliver().await;
    assert_eq!(d.pending_calls(&id).await, 0);
    assert!(!ali.has_stream(&format!("push.example.com/live/{id}")));
    assert_eq!(lk.members(&id), None, "the LiveKit room is gone");
    let ali_calls = ali.calls();
    assert_eq!(ali_calls.len(), 1);
    assert_eq!(ali_calls[0].action, "ForbidLiveStream");
    assert_eq!(ali_calls[0].params["StreamName"], id.as_str());
    let lk_calls: Vec<String> = lk.calls().into_iter().map(|c| c.action).collect();
    assert_eq!(
        lk_calls,
        ["RemoveParticipant", "RemoveParticipant", "DeleteRoom"]
    );
    assert!(ali.rejections().is_empty() && lk.rejections().is_empty());

    let outcomes = d.said(&chief, &id).await;
    let removed = |user: &str| {
        outcome(
            "vendor.member_removed",
            &format!("user:{user}"),
            "livekit",
            "RemoveParticipant",
            "done",
            1,
        )
    };
    assert_eq!(
        outcomes,
        [
            removed("ali_v1"),
            removed("ali_v2"),
            outcome(
                "vendor.stream_cut",
                &format!("room:{id}"),
                "aliyun",
                "ForbidLiveStream",
                "done",
                1
            ),
            outcome(
                "vendor.stream_cut",
                &format!("room:{id}"),
                "livekit",
                "DeleteRoom",
                "done",
                1
            ),
        ]
    );
    for entry in d.outcomes(&chief, &id).await {
        assert_eq!(entry["actor"], json!({"kind": "system", "id": "outbox"}));
        assert_eq!(entry["source"], "outbox");
        assert_eq!(entry["room_id"], id.as_str());
    }

    // Alibaba RTC: the terminal our tokens name (`_` + the id's length + the id).
    let ali_rtc = aliyun(ALIYUN_ID, ALIYUN_SECRET).await;
    let d = w.deploy(&aliyun_vars(&ali_rtc.base, ALIYUN_SECRET));
    let (anchor, viewer) = (d.token("ali_anchor").await, d.token("ali_v3").await);
    let id = d.live_room(&anchor, &viewer).await;
    ali_rtc.add_member(&id, "_06ali_v3");
    d.ok(
        moderation::Kick::ENDPOINT,
        &anchor,
        json!({"id": id, "user_id": "ali_v3", "ban_seconds": 0}),
    )
    .await;
    d.deliver().await;
    assert_eq!(
        ali_rtc.members(&id),
        Some(std::collections::BTreeSet::new())
    );
    let calls = ali_rtc.calls();
    assert_eq!(calls[0].action, "RemoveTerminals");
    assert_eq!(calls[0].params["TerminalIds.1"], "_06ali_v3");
    let chief = d.token("chief").await;
    assert_eq!(
        d.said(&chief, &id).await,
        [outcome(
            "vendor.member_removed",
            "user:ali_v3",
            "aliyun",
            "RemoveTerminals",
            "done",
            1
        )]
    );
}

/// Tencent: a stop drops the CSS stream (`DropLiveStream`), a kick removes the TRTC member
/// (`RemoveUserByStrRoomId`); disabling an anchor stops its open rooms, each stream cut.
async fn stops_and_kicks_reach_tencent_and_a_disabled_anchors_rooms_are_cut(w: World) {
    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    let d = w.deploy(&tencent_vars(&s.base, TENCENT_KEY));
    let (chief, anchor, viewer) = (
        d.token("chief").await,
        d.token("tc_anchor").await,
        d.token("tc_viewer").await,
    );
    let id = d.live_room(&anchor, &viewer).await;
    s.add_stream(&format!("push.example.com/live/{id}"));
    s.add_member(&id, "tc_viewer");
    s.add_member(&id, "tc_anchor");
    d.ok(
        AdminKick::ENDPOINT,
        &chief,
        json!({"id": id, "user_id": "tc_viewer", "reason": "abuse"}),
    )
    .await;
    d.ok(
        AdminStopRoom::ENDPOINT,
        &chief,
        json!({"id": id, "reason": "violation"}),
    )
    .await;
    d.deliver().await;
    assert_eq!(
        s.members(&id),
        Some(std::collections::BTreeSet::from(["tc_anchor".to_owned()]))
    );
    assert!(!s.has_stream(&format!("push.example.com/live/{id}")));
    let actions: Vec<String> = s.calls().into_iter().map(|c| c.action).collect();
    assert_eq!(actions, ["RemoveUserByStrRoomId", "DropLiveStream"]);
    assert_eq!(
        d.said(&chief, &id).await,
        [
            outcome(
                "vendor.member_removed",
                "user:tc_viewer",
                "tencent",
                "RemoveUserByStrRoomId",
                "done",
                1
            ),
            outcome(
                "vendor.stream_cut",
                &format!("room:{id}"),
                "tencent",
                "DropLiveStream",
                "done",
                1
            ),
        ]
    );
    // Stopping a stopped room again writes and calls nothing.
    d.ok(
        AdminStopRoom::ENDPOINT,
        &chief,
        json!({"id": id, "reason": "again"}),
    )
    .await;
    assert_eq!(d.pending_calls(&id).await, 0);

    // A disabled anchor's open rooms are stopped, each stream cut.
    let other = d.token("tc_other").await;
    let a = d.live_room(&anchor, &other).await;
    let b = d
        .ok(rooms::Create::ENDPOINT, &anchor, json!({"title": "b"}))
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for room in [&a, &b] {
        s.add_stream(&format!("push.example.com/live/{room}"));
    }
    d.ok(
        AdminDisableUser::ENDPOINT,
        &chief,
        json!({"user_id": "tc_anchor", "reason": "banned"}),
    )
    .await;
    d.deliver().await;
    for room in [&a, &b] {
        assert!(!s.has_stream(&format!("push.example.com/live/{room}")));
        assert_eq!(
            d.said(&chief, room).await,
            [outcome(
                "vendor.stream_cut",
                &format!("room:{room}"),
                "tencent",
                "DropLiveStream",
                "done",
                1
            )]
        );
    }
    assert!(s.rejections().is_empty());
}

/// A vendor that fails (its internal error), then throttles: the call waits its backoff each
/// time (not retried before it), then is done; one audit entry, counting the three attempts.
async fn a_failing_vendor_is_retried_until_done_with_one_audited_outcome(w: World) {
    let s = livekit(LK_KEY, LK_SECRET).await;
    let d = w.deploy(&livekit_vars(&s.base, LK_SECRET));
    let (chief, anchor, viewer) = (
        d.token("chief").await,
        d.token("lk_anchor").await,
        d.token("lk_viewer").await,
    );
    let id = d.live_room(&anchor, &viewer).await;
    s.add_member(&id, "lk_viewer");
    s.fail_next(1);
    s.throttle_next(1);
    d.ok(
        AdminKick::ENDPOINT,
        &chief,
        json!({"id": id, "user_id": "lk_viewer", "reason": "r"}),
    )
    .await;
    let report = d.deliver().await;
    assert_eq!((report.delivered, report.failed), (0, 1), "{report:?}");
    assert_eq!(d.deliver().await.failed, 0, "not before its backoff");
    assert!(d.outcomes(&chief, &id).await.is_empty(), "no outcome yet");
    d.clock.advance(Duration::seconds(6));
    assert_eq!(d.deliver().await.failed, 1, "throttled: again later");
    d.clock.advance(Duration::seconds(6));
    assert_eq!(d.deliver().await.failed, 0, "10 s is not yet up");
    d.clock.advance(Duration::seconds(5));
    let report = d.deliver().await;
    assert_eq!((report.delivered, report.failed), (1, 0), "{report:?}");
    assert_eq!(s.members(&id), Some(std::collections::BTreeSet::new()));
    assert_eq!(d.pending_calls(&id).await, 0);
    assert_eq!(d.deliver().await, DeliveryReport::default());
    let answers: Vec<String> = s.calls().into_iter().map(|c| c.answer).collect();
    assert_eq!(answers, ["500", "429", "ok"]);
    assert_eq!(
        d.said(&chief, &id).await,
        [outcome(
            "vendor.member_removed",
            "user:lk_viewer",
            "livekit",
            "RemoveParticipant",
            "done",
            3
        )]
    );
}

/// The deliverer configured with a wrong secret: the stand-in refuses the signature, the call
/// is permanent (removed, not retried) and its audit entry says why.
async fn a_wrong_secret_is_permanent_and_audited_not_retried(w: World) {
    let s = aliyun(ALIYUN_ID, ALIYUN_SECRET).await;
    let d = w.deploy(&aliyun_vars(&s.base, "not-the-aliyun-secret-0123456789"));
    let (chief, anchor, viewer) = (
        d.token("chief").await,
        d.token("ws_anchor").await,
        d.token("ws_viewer").await,
    );
    let id = d.live_room(&anchor, &viewer).await;
    s.add_stream(&format!("push.example.com/live/{id}"));
    d.ok(
        AdminStopRoom::ENDPOINT,
        &chief,
        json!({"id": id, "reason": "r"}),
    )
    .await;
    let report = d.deliver().await;
    assert_eq!((report.dropped, report.failed), (1, 0), "{report:?}");
    assert_eq!(d.pending_calls(&id).await, 0, "not retried");
    d.clock.advance(Duration::seconds(700));
    assert_eq!(d.deliver().await, DeliveryReport::default());
    assert!(s.has_stream(&format!("push.example.com/live/{id}")));
    assert!(s.calls().is_empty());
    assert_eq!(s.rejections().len(), 1);
    let outcomes = d.outcomes(&chief, &id).await;
    assert_eq!(
        outcomes.iter().map(said).collect::<Vec<_>>(),
        [outcome(
            "vendor.stream_cut",
            &format!("room:{id}"),
            "aliyun",
            "ForbidLiveStream",
            "permanent",
            1
        )]
    );
    let error = outcomes[0]["details"]["error"].as_str().unwrap();
    assert!(error.contains("SignatureDoesNotMatch"), "{error}");
    assert!(!error.contains("not-the-aliyun-secret"), "{error}");
}

/// No Tencent API credentials where the calls are made: the kick's call is written, not made,
/// and dropped with an audit entry saying it was not enforced. `VENDOR_ENFORCEMENT=off`: no
/// call is written at all.
async fn without_credentials_nothing_is_called_and_off_writes_nothing(w: World) {
    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    let mut vars = tencent_vars(&s.base, TENCENT_KEY);
    vars.retain(|(k, _)| !k.starts_with("TENCENT_API_SECRET"));
    let d = w.deploy(&vars);
    let (chief, anchor, viewer) = (
        d.token("chief").await,
        d.token("nc_anchor").await,
        d.token("nc_viewer").await,
    );
    let id = d.live_room(&anchor, &viewer).await;
    d.ok(
        AdminKick::ENDPOINT,
        &chief,
        json!({"id": id, "user_id": "nc_viewer", "reason": "r"}),
    )
    .await;
    let report = d.deliver().await;
    assert_eq!(report.dropped, 1, "{report:?}");
    assert_eq!(d.pending_calls(&id).await, 0);
    assert!(s.calls().is_empty() && s.rejections().is_empty());
    let outcomes = d.outcomes(&chief, &id).await;
    assert_eq!(
        outcomes.iter().map(said).collect::<Vec<_>>(),
        [outcome(
            "vendor.member_removed",
            "user:nc_viewer",
            "tencent",
            "RemoveUserByStrRoomId",
            "not_enforced",
            0
        )]
    );

    vars.push(("VENDOR_ENFORCEMENT", "off"));
    let d = w.deploy(&vars);
    assert!(d.app.config.enforcement.is_off());
    let (chief, anchor) = (d.token("chief").await, d.token("nc_anchor2").await);
    let viewer = d.token("nc_viewer2").await;
    let id = d.live_room(&anchor, &viewer).await;
    d.ok(
        AdminKick::ENDPOINT,
        &chief,
        json!({"id": id, "user_id": "nc_viewer2", "reason": "r"}),
    )
    .await;
    d.ok(
        AdminStopRoom::ENDPOINT,
        &chief,
        json!({"id": id, "reason": "r"}),
    )
    .await;
    let room = RoomId::parse("id", &id).unwrap();
    assert!(d.app.store.outbox(&room).await.unwrap().is_empty());
    assert!(d.delivery.is_off());
    assert!(d.outcomes(&chief, &id).await.is_empty());
}

/// DynamoDB: the writers make the same calls with enforcement on as off (the calls are more
/// items of the transaction a stop or a kick writes anyway), and the deliverer removes a call
/// with its outcome's audit entry in one `TransactWriteItems`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_writers_make_the_same_dynamodb_calls_with_enforcement_on_as_off() {
    use std::collections::BTreeMap;
    let (store, counter) = crate::common::counted_dynamodb().await;
    let w = world(store);
    let s = livekit(LK_KEY, LK_SECRET).await;
    let on = livekit_vars(&s.base, LK_SECRET);
    let mut off = on.clone();
    off.push(("VENDOR_ENFORCEMENT", "off"));
    let mut seen: Vec<BTreeMap<&str, BTreeMap<String, u64>>> = Vec::new();
    for (i, vars) in [off, on].iter().enumerate() {
        let d = w.deploy(vars);
        let chief = d.token("chief").await;
        let anchor = d.token(&format!("wc_anchor{i}")).await;
        let (v1, v2) = (
            d.token(&format!("wc_one{i}")).await,
            d.token(&format!("wc_two{i}")).await,
        );
        let id = d.live_room(&anchor, &v1).await;
        d.ok(presence::Join::ENDPOINT, &v2, json!({"id": id})).await;
        let mut calls = BTreeMap::new();
        counter.take();
        d.ok(
            moderation::Kick::ENDPOINT,
            &anchor,
            json!({"id": id, "user_id": format!("wc_one{i}")}),
        )
        .await;
        calls.insert("kick", counter.take());
        d.ok(
            AdminKick::ENDPOINT,
            &chief,
            json!({"id": id, "user_id": format!("wc_two{i}"), "reason": "r"}),
        )
        .await;
        calls.insert("admin-kick", counter.take());
        d.ok(
            AdminStopRoom::ENDPOINT,
            &chief,
            json!({"id": id, "reason": "r"}),
        )
        .await;
        calls.insert("admin-stop-room", counter.take());
        assert_eq!(d.pending_calls(&id).await, 3 * i, "{vars:?}");
        counter.take();
        let report = d.deliver().await;
        let delivered = counter.take();
        if i == 1 {
            assert_eq!(report.delivered, 3, "{report:?}");
            // Each call's removal and audit entry: one transaction each.
            assert_eq!(
                delivered.get("TransactWriteItems"),
                Some(&3),
                "{delivered:?}"
            );
            assert_eq!(delivered.get("DeleteItem"), None, "{delivered:?}");
        }
        seen.push(calls);
    }
    eprintln!("calls per writer (off, on): {seen:?}");
    assert_eq!(seen[0], seen[1]);
    for calls in seen[1].values() {
        assert!(calls.contains_key("TransactWriteItems"), "{calls:?}");
    }
}
