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

// ---- the LiveKit egress (issue 26) ----------------------------------------------------------------

both_stores!(a_recorded_livekit_room_is_recorded_while_it_is_live);
both_stores!(a_start_whose_answer_was_lost_is_retried_and_records_once);
both_stores!(an_unrecorded_room_starts_no_egress_and_a_wrong_secret_is_permanent);
both_stores!(a_start_nobody_can_record_holds_no_kick_and_a_later_stop_supersedes_it);

impl Deployment {
    /// A room of `anchor`'s (`extra` merged into the create body), not started.
    async fn room(&self, anchor: &str, extra: Value) -> String {
        let mut body = json!({"title": "recorded", "mode": 1});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        self.ok(rooms::Create::ENDPOINT, anchor, body).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// LiveKit serving RTC, `RECORDING=on`, every other setting as deployed.
fn recording_vars<'a>(base: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut vars = livekit_vars(base, secret);
    vars.push(("RECORDING", "on"));
    vars
}

fn egress_calls(s: &StandIn) -> Vec<String> {
    s.calls()
        .into_iter()
        .filter(|c| !c.action.starts_with("Remove") && c.action != "DeleteRoom")
        .map(|c| format!("{}:{}", c.action, c.answer))
        .collect()
}

/// A recorded room on LiveKit: going live starts one room-composite egress of it (once the
/// LiveKit room exists: a start before anyone joined is retried), pausing stops it, starting
/// again starts a second, an operator's stop stops that one before the room is deleted at
/// LiveKit; the sweeper's pause, a `delete` and the anchor's `stop` of a live room stop it too;
/// every request carries the `roomRecord` grant (the stand-in refuses without), and
/// each call is one audit entry.
async fn a_recorded_livekit_room_is_recorded_while_it_is_live(w: World) {
    let s = livekit(LK_KEY, LK_SECRET).await;
    let mut vars = recording_vars(&s.base, LK_SECRET);
    vars.push(("ANCHOR_TIMEOUT_SECONDS", "10"));
    let d = w.deploy(&vars);
    for writer in [
        rooms::Start::ENDPOINT,
        rooms::Pause::ENDPOINT,
        AdminStopRoom::ENDPOINT,
    ] {
        let scoped = d.app.scoped(writer.secrets());
        assert!(!scoped.config.enforcement.has_keys(), "{writer:?}");
        assert!(scoped.config.enforcement.records(), "{writer:?}");
    }
    let (chief, anchor) = (d.token("chief").await, d.token("rec_anchor").await);
    let id = d.room(&anchor, json!({})).await;
    assert_eq!(d.pending_calls(&id).await, 0, "nothing to record yet");

    // Live before the anchor joined the LiveKit room: LiveKit has no such room yet.
    d.ok(rooms::Start::ENDPOINT, &anchor, json!({"id": id}))
        .await;
    assert_eq!(d.pending_calls(&id).await, 1, "written with the start");
    assert!(s.calls().is_empty(), "nothing called by the writer");
    let report = d.deliver().await;
    assert_eq!(report.failed, 1, "{report:?}");
    assert!(s.egresses(&id).is_empty());
    s.add_member(&id, "rec_anchor");
    d.clock.advance(Duration::seconds(6));
    let report = d.deliver().await;
    assert_eq!((report.delivered, report.failed), (1, 0), "{report:?}");
    let egresses = s.egresses(&id);
    assert_eq!(egresses.len(), 1);
    assert!(egresses[0].is_active());
    assert_eq!(
        egresses[0].request,
        json!({
            "room_name": id,
            "layout": "speaker",
            "file_outputs": [{"file_type": "MP4", "filepath": "liveroom/{room_name}/{time}.mp4"}]
        })
    );
    assert_eq!(
        egress_calls(&s),
        [
            "ListEgress:ok",
            "StartRoomCompositeEgress:404",
            "ListEgress:ok",
            "StartRoomCompositeEgress:ok"
        ]
    );

    // Pause: stopped.
    d.ok(rooms::Pause::ENDPOINT, &anchor, json!({"id": id}))
        .await;
    assert_eq!(d.pending_calls(&id).await, 1);
    d.deliver().await;
    assert_eq!(s.egresses(&id)[0].status, "EGRESS_COMPLETE");

    // Live again: a second egress (the first one has ended).
    d.ok(rooms::Start::ENDPOINT, &anchor, json!({"id": id}))
        .await;
    d.deliver().await;
    let egresses = s.egresses(&id);
    assert_eq!(egresses.len(), 2);
    assert_eq!(
        (egresses[0].status, egresses[1].is_active()),
        ("EGRESS_COMPLETE", true)
    );

    // An operator's stop: the recording stops, then the room is deleted at LiveKit.
    d.ok(
        AdminStopRoom::ENDPOINT,
        &chief,
        json!({"id": id, "reason": "violation"}),
    )
    .await;
    assert_eq!(d.pending_calls(&id).await, 2, "the stop and the cut");
    d.deliver().await;
    assert_eq!(d.pending_calls(&id).await, 0);
    assert!(
        s.egresses(&id)
            .iter()
            .all(|e| e.status == "EGRESS_COMPLETE")
    );
    assert_eq!(s.members(&id), None);
    let all: Vec<String> = s.calls().into_iter().map(|c| c.action).collect();
    assert_eq!(
        all[4..],
        [
            "ListEgress",
            "StopEgress",
            "ListEgress",
            "StartRoomCompositeEgress",
            "ListEgress",
            "StopEgress",
            "DeleteRoom"
        ]
    );
    assert!(s.rejections().is_empty(), "{:?}", s.rejections());
    let room = format!("room:{id}");
    let started = |attempts| {
        outcome(
            "vendor.recording_started",
            &room,
            "livekit",
            "StartRoomCompositeEgress",
            "done",
            attempts,
        )
    };
    let stopped = outcome(
        "vendor.recording_stopped",
        &room,
        "livekit",
        "StopEgress",
        "done",
        1,
    );
    let cut = outcome(
        "vendor.stream_cut",
        &room,
        "livekit",
        "DeleteRoom",
        "done",
        1,
    );
    assert_eq!(
        d.said(&chief, &id).await,
        [started(1), started(2), stopped.clone(), stopped, cut]
    );
    // Ended: nothing more to stop, and a stop again writes nothing.
    d.ok(rooms::Stop::ENDPOINT, &anchor, json!({"id": id}))
        .await;
    assert_eq!(d.pending_calls(&id).await, 0);

    // The sweeper's pause of a live room whose anchor went silent stops it too (the clock
    // moved less than the stand-in's minute of leeway for a token's `nbf`).
    let id = d.room(&anchor, json!({})).await;
    s.add_member(&id, "rec_anchor");
    d.ok(rooms::Start::ENDPOINT, &anchor, json!({"id": id}))
        .await;
    d.deliver().await;
    assert!(s.egresses(&id)[0].is_active());
    d.clock.advance(Duration::seconds(15));
    liveroom::reclaim::sweep(&*d.app).await.unwrap();
    assert_eq!(d.pending_calls(&id).await, 1, "paused by the sweeper");
    d.deliver().await;
    assert_eq!(s.egresses(&id)[0].status, "EGRESS_COMPLETE");

    // A live recorded room deleted by its anchor stops its recording; the anchor's own stop
    // of a live room too.
    for end in [rooms::Delete::ENDPOINT, rooms::Stop::ENDPOINT] {
        let id = d.room(&anchor, json!({})).await;
        s.add_member(&id, "rec_anchor");
        d.ok(rooms::Start::ENDPOINT, &anchor, json!({"id": id}))
            .await;
        d.deliver().await;
        assert!(s.egresses(&id)[0].is_active());
        d.ok(end, &anchor, json!({"id": id})).await;
        d.deliver().await;
        assert_eq!(s.egresses(&id)[0].status, "EGRESS_COMPLETE", "{end:?}");
    }
    assert!(s.rejections().is_empty(), "{:?}", s.rejections());
}

/// The start is made but its answer is lost (503): the call is retried after its backoff, finds
/// the room's egress active and starts no second one; one audit entry, two attempts. A stop
/// whose answer is lost is retried too, and finds nothing left to stop.
async fn a_start_whose_answer_was_lost_is_retried_and_records_once(w: World) {
    let s = livekit(LK_KEY, LK_SECRET).await;
    let d = w.deploy(&recording_vars(&s.base, LK_SECRET));
    let (chief, anchor) = (d.token("chief").await, d.token("lost_anchor").await);
    let id = d.room(&anchor, json!({})).await;
    s.add_member(&id, "lost_anchor");
    d.ok(rooms::Start::ENDPOINT, &anchor, json!({"id": id}))
        .await;
    // The list goes through; the start is made, its answer lost.
    s.lose_after(1);
    let report = d.deliver().await;
    assert_eq!((report.delivered, report.failed), (0, 1), "{report:?}");
    assert_eq!(s.egresses(&id).len(), 1, "made");
    assert!(d.outcomes(&chief, &id).await.is_empty(), "no outcome yet");
    d.clock.advance(Duration::seconds(6));
    let report = d.deliver().await;
    assert_eq!((report.delivered, report.failed), (1, 0), "{report:?}");
    assert_eq!(s.egresses(&id).len(), 1, "not started twice");
    assert_eq!(
        egress_calls(&s),
        [
            "ListEgress:ok",
            "StartRoomCompositeEgress:lost",
            "ListEgress:ok"
        ]
    );

    // The stop's answer lost: retried, nothing left to stop, done.
    d.ok(rooms::Pause::ENDPOINT, &anchor, json!({"id": id}))
        .await;
    s.lose_after(1);
    assert_eq!(d.deliver().await.failed, 1);
    d.clock.advance(Duration::seconds(6));
    assert_eq!(d.deliver().await.delivered, 1);
    assert_eq!(s.egresses(&id)[0].status, "EGRESS_COMPLETE");
    let room = format!("room:{id}");
    assert_eq!(
        d.said(&chief, &id).await,
        [
            outcome(
                "vendor.recording_started",
                &room,
                "livekit",
                "StartRoomCompositeEgress",
                "done",
                2
            ),
            outcome(
                "vendor.recording_stopped",
                &room,
                "livekit",
                "StopEgress",
                "done",
                2
            ),
        ]
    );
    assert!(s.rejections().is_empty());
}

/// No egress where the room is not recorded (`RECORDING=off`, or `record: false` at create),
/// nor where RTC is not LiveKit's; `VENDOR_ENFORCEMENT=off` (moderation) leaves the recording
/// on. The deliverer with a wrong secret: the stand-in refuses the token, the start is
/// permanent, audited, not retried.
async fn an_unrecorded_room_starts_no_egress_and_a_wrong_secret_is_permanent(w: World) {
    let s = livekit(LK_KEY, LK_SECRET).await;
    let unrecorded = [
        (livekit_vars(&s.base, LK_SECRET), json!({})),
        (recording_vars(&s.base, LK_SECRET), json!({"record": false})),
    ];
    for (i, (vars, create)) in unrecorded.iter().enumerate() {
        let d = w.deploy(vars);
        let anchor = d.token(&format!("norec_anchor{i}")).await;
        let id = d.room(&anchor, create.clone()).await;
        s.add_member(&id, &format!("norec_anchor{i}"));
        d.ok(rooms::Start::ENDPOINT, &anchor, json!({"id": id}))
            .await;
        d.ok(rooms::Pause::ENDPOINT, &anchor, json!({"id": id}))
            .await;
        d.ok(rooms::Stop::ENDPOINT, &anchor, json!({"id": id}))
            .await;
        assert_eq!(d.pending_calls(&id).await, 0, "{vars:?} {create}");
    }
    let d = w.deploy(&[("RECORDING", "on")]);
    assert!(!d.app.config.enforcement.records(), "no LiveKit: no egress");
    assert!(s.calls().is_empty());

    let mut vars = recording_vars(&s.base, LK_SECRET);
    vars.push(("VENDOR_ENFORCEMENT", "off"));
    let d = w.deploy(&vars);
    let (chief, anchor) = (d.token("chief").await, d.token("off_anchor").await);
    let id = d.room(&anchor, json!({})).await;
    s.add_member(&id, "off_anchor");
    d.ok(rooms::Start::ENDPOINT, &anchor, json!({"id": id}))
        .await;
    assert_eq!(d.pending_calls(&id).await, 1, "the start");
    d.deliver().await;
    assert!(s.egresses(&id)[0].is_active());
    d.ok(
        AdminStopRoom::ENDPOINT,
        &chief,
        json!({"id": id, "reason": "r"}),
    )
    .await;
    assert_eq!(d.pending_calls(&id).await, 1, "the stop; no cut");
    d.deliver().await;
    assert_eq!(s.egresses(&id)[0].status, "EGRESS_COMPLETE");
    assert!(s.members(&id).is_some(), "not cut: VENDOR_ENFORCEMENT=off");

    let d = w.deploy(&recording_vars(
        &s.base,
        "not-the-livekit-secret-0123456789",
    ));
    let (chief, anchor) = (d.token("chief").await, d.token("ws_rec_anchor").await);
    let id = d.room(&anchor, json!({})).await;
    s.add_member(&id, "ws_rec_anchor");
    d.ok(rooms::Start::ENDPOINT, &anchor, json!({"id": id}))
        .await;
    let report = d.deliver().await;
    assert_eq!((report.dropped, report.failed), (1, 0), "{report:?}");
    d.clock.advance(Duration::seconds(700));
    assert_eq!(d.deliver().await, DeliveryReport::default());
    assert!(s.egresses(&id).is_empty());
    assert_eq!(s.rejections(), ["401: signature or issuer"]);
    let outcomes = d.outcomes(&chief, &id).await;
    assert_eq!(
        outcomes.iter().map(said).collect::<Vec<_>>(),
        [outcome(
            "vendor.recording_started",
            &format!("room:{id}"),
            "livekit",
            "StartRoomCompositeEgress",
            "permanent",
            1
        )]
    );
    let error = outcomes[0]["details"]["error"].as_str().unwrap();
    assert_eq!(
        error,
        "livekit StartRoomCompositeEgress: ListEgress: HTTP 401"
    );
}

/// DynamoDB: a recorded room's start, pause, start again, stop and a live room's delete make
/// as many calls as an unrecorded room's (the recording calls are more items of the write each
/// makes anyway).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_recorded_rooms_changes_make_as_many_dynamodb_calls_as_an_unrecorded_rooms() {
    use std::collections::BTreeMap;
    let (store, counter) = crate::common::counted_dynamodb().await;
    let w = world(store);
    let s = livekit(LK_KEY, LK_SECRET).await;
    let d = w.deploy(&recording_vars(&s.base, LK_SECRET));
    let mut seen: Vec<BTreeMap<&str, u64>> = Vec::new();
    let mut kinds: Vec<BTreeMap<&str, BTreeMap<String, u64>>> = Vec::new();
    for (i, create) in [json!({"record": false}), json!({})].iter().enumerate() {
        let anchor = d.token(&format!("dc_anchor{i}")).await;
        let mut calls = BTreeMap::new();
        let mut types = BTreeMap::new();
        let mut count = |name, counter: &crate::common::CallCounter| {
            let taken = counter.take();
            calls.insert(name, taken.values().sum::<u64>());
            types.insert(name, taken);
        };
        let id = d.room(&anchor, create.clone()).await;
        counter.take();
        for (name, endpoint) in [
            ("start", rooms::Start::ENDPOINT),
            ("pause", rooms::Pause::ENDPOINT),
            ("start-again", rooms::Start::ENDPOINT),
            ("stop", rooms::Stop::ENDPOINT),
        ] {
            d.ok(endpoint, &anchor, json!({"id": id})).await;
            count(name, &counter);
        }
        let live = d.room(&anchor, create.clone()).await;
        d.ok(rooms::Start::ENDPOINT, &anchor, json!({"id": live}))
            .await;
        counter.take();
        d.ok(rooms::Delete::ENDPOINT, &anchor, json!({"id": live}))
            .await;
        count("delete-live", &counter);
        assert_eq!(d.pending_calls(&id).await, 4 * i, "{create}");
        seen.push(calls);
        kinds.push(types);
    }
    eprintln!("calls per writer (unrecorded, recorded): {seen:?}; by kind: {kinds:?}");
    assert_eq!(seen[0], seen[1]);
}

/// A start retried because nobody joined the LiveKit room yet holds the room's recording calls
/// only: a kick behind it is made at once. Once the room pauses, the start is not made (the
/// stop behind it supersedes it: audited `superseded`), and the stop finds nothing to stop.
async fn a_start_nobody_can_record_holds_no_kick_and_a_later_stop_supersedes_it(w: World) {
    let s = livekit(LK_KEY, LK_SECRET).await;
    let d = w.deploy(&recording_vars(&s.base, LK_SECRET));
    let (chief, anchor, viewer) = (
        d.token("chief").await,
        d.token("sup_anchor").await,
        d.token("sup_viewer").await,
    );
    let id = d.live_room(&anchor, &viewer).await;
    assert_eq!(
        d.deliver().await.failed,
        1,
        "nobody in the LiveKit room yet"
    );
    s.add_member(&id, "sup_viewer");
    d.ok(
        moderation::Kick::ENDPOINT,
        &anchor,
        json!({"id": id, "user_id": "sup_viewer"}),
    )
    .await;
    let report = d.deliver().await;
    assert_eq!((report.delivered, report.failed), (1, 0), "{report:?}");
    assert_eq!(s.members(&id), Some(std::collections::BTreeSet::new()));
    d.ok(rooms::Pause::ENDPOINT, &anchor, json!({"id": id}))
        .await;
    d.clock.advance(Duration::seconds(6));
    let report = d.deliver().await;
    assert_eq!((report.delivered, report.dropped), (1, 1), "{report:?}");
    assert_eq!(d.pending_calls(&id).await, 0);
    assert!(s.egresses(&id).is_empty());
    assert_eq!(
        egress_calls(&s),
        [
            "ListEgress:ok",
            "StartRoomCompositeEgress:404",
            "ListEgress:ok"
        ]
    );
    let room = format!("room:{id}");
    assert_eq!(
        d.said(&chief, &id).await,
        [
            outcome(
                "vendor.member_removed",
                "user:sup_viewer",
                "livekit",
                "RemoveParticipant",
                "done",
                1
            ),
            outcome(
                "vendor.recording_started",
                &room,
                "livekit",
                "StartRoomCompositeEgress",
                "superseded",
                1
            ),
            outcome(
                "vendor.recording_stopped",
                &room,
                "livekit",
                "StopEgress",
                "done",
                1
            ),
        ]
    );
}
