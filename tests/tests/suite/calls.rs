//! Seed 000's 1v1 calls (issue 16, 2 and 3) through the handlers, with a manual clock, on both
//! stores: a channel id can never name another room's RTC channel; a muted or banned user gets
//! no publish credential; a call is in no listing, nobody but its two participants enters it
//! (through any API), its meeting list never seats a third, and a seat whose holder went
//! silent is free again.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Duration;
use liveroom::clock::ManualClock;
use liveroom::domain::{ChannelId, RoomId, UserId};
use liveroom::http::Endpoint;
use liveroom::{App, Config};
use serde_json::{Value, json};

use crate::common::{EVENTS_SECRET, TestStore, call, token_for};
use crate::credentials::aliyun_vars;

struct World {
    app: Arc<App>,
    clock: Arc<ManualClock>,
    _store: TestStore,
}

fn world(store: TestStore) -> World {
    let mut vars: HashMap<String, String> = aliyun_vars()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    vars.insert("JWT_SECRET".into(), EVENTS_SECRET.into());
    vars.insert("HEARTBEAT_TIMEOUT_SECONDS".into(), "20".into());
    let config = Config::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let clock = Arc::new(ManualClock::new(
        chrono::DateTime::from_timestamp(1_900_000_000, 0).unwrap(),
    ));
    let app = App::new(config, Arc::clone(&store.store), clock.clone());
    World {
        app: Arc::new(app),
        clock,
        _store: store,
    }
}

impl World {
    fn token(&self, user: &str) -> String {
        let user = UserId::parse("user", user).unwrap();
        crate::common::ensure_user_now(&*self.app.store, &user);
        token_for(&self.app, &user, 86_400)
    }

    /// `GET /app/{op}?channelId=…` as seed 000's client sends it.
    async fn app_call(&self, user: &str, op: &str, channel: &str) -> (u16, Value) {
        let req = lambda_http::http::Request::builder()
            .method("GET")
            .uri(format!("/app/{op}?channelId={channel}"))
            .header("authorization", format!("Bearer {}", self.token(user)))
            .body(lambda_http::Body::Empty)
            .unwrap();
        let req = lambda_http::RequestExt::with_query_string_parameters(
            req,
            HashMap::from([("channelId".to_owned(), channel.to_owned())]),
        );
        let response = liveroom::http::handle(&self.app, Endpoint::AliyunCall, req).await;
        let status = response.status().as_u16();
        (
            status,
            serde_json::from_slice(response.body().as_ref()).unwrap(),
        )
    }

    async fn aui(&self, endpoint: Endpoint, user: &str, body: Value) -> (u16, Value) {
        call(&self.app, endpoint, &self.token(user), body).await
    }

    async fn users(&self, channel: &str) -> Vec<String> {
        let (status, out) = self.app_call("alice", "descChannelUsers", channel).await;
        assert_eq!(status, 200, "{out}");
        let mut ids: Vec<String> = out["data"]["userList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    }
}

fn room_of(channel: &str) -> String {
    RoomId::for_channel(&ChannelId::parse("channelId", channel).unwrap()).to_string()
}

both_stores!(a_channel_id_never_names_another_rooms_channel);
both_stores!(muted_or_banned_users_get_no_call_token);
both_stores!(a_call_is_in_no_listing_and_nobody_else_enters_it);
both_stores!(a_silent_participants_seat_is_free_again);

/// Issue 16, 2: `/app/token` signs a publish token over the channel id the client names; were
/// that another room's id, the caller could publish into that room's RTC channel.
async fn a_channel_id_never_names_another_rooms_channel(w: World) {
    let (status, room) = w
        .aui(Endpoint::Create, "victim", json!({"title": "mine"}))
        .await;
    assert_eq!(status, 200, "{room}");
    let id = room["id"].as_str().unwrap().to_owned();
    for channel in [id.clone(), id.to_ascii_uppercase()] {
        let (status, out) = w.app_call("mallory", "token", &channel).await;
        assert_eq!(status, 400, "{channel}: {out}");
        assert_eq!(out["result"], false, "{out}");
        assert!(out.get("data").is_none(), "no token: {out}");
    }
    // Any other channel id is the client's to name.
    let (status, out) = w.app_call("mallory", "token", "call-7").await;
    assert_eq!(status, 200, "{out}");
}

/// Issue 16, 2: no seat and no token for a user the call's first caller muted or kicked.
async fn muted_or_banned_users_get_no_call_token(w: World) {
    assert_eq!(w.app_call("alice", "token", "call-m").await.0, 200);
    let room = room_of("call-m");
    // Muted before ever coming: refused, and not seated.
    let (status, out) = w
        .aui(
            Endpoint::Mute,
            "alice",
            json!({"id": room, "user_id": "bob", "mute": true}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let (status, out) = w.app_call("bob", "token", "call-m").await;
    assert_eq!(status, 403, "{out}");
    assert!(out.get("data").is_none(), "{out}");
    let (_, meeting) = w
        .aui(Endpoint::GetMeetingInfo, "alice", json!({"id": room}))
        .await;
    assert_eq!(meeting["members"].as_array().unwrap().len(), 1, "{meeting}");
    // Seated, then kicked: refused while banned.
    assert_eq!(w.app_call("carol", "token", "call-m").await.0, 200);
    let (status, out) = w
        .aui(
            Endpoint::Kick,
            "alice",
            json!({"id": room, "user_id": "carol"}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let (status, out) = w.app_call("carol", "token", "call-m").await;
    assert_eq!(status, 403, "{out}");
    assert!(out.get("data").is_none(), "{out}");
}

/// Issue 16, 3: a call is in no listing (AUI `list`, any filter), and nobody but its two
/// participants enters it: not by `join`, not by `keepalive`; its meeting list seats two.
async fn a_call_is_in_no_listing_and_nobody_else_enters_it(w: World) {
    assert_eq!(w.app_call("alice", "token", "call-l").await.0, 200);
    assert_eq!(w.app_call("bob", "token", "call-l").await.0, 200);
    let (status, _) = w
        .aui(Endpoint::Create, "alice", json!({"title": "a show"}))
        .await;
    assert_eq!(status, 200);
    let room = room_of("call-l");
    for filter in [
        json!({}),
        json!({"status": 0}),
        json!({"anchor_id": "alice"}),
        json!({"category": "rtc-channel"}),
    ] {
        let mut body = json!({"page_num": 1, "page_size": 100});
        body.as_object_mut()
            .unwrap()
            .extend(filter.as_object().unwrap().clone());
        let (status, page) = w.aui(Endpoint::List, "mallory", body).await;
        assert_eq!(status, 200, "{page}");
        assert!(
            !page.to_string().contains(&room) && !page.to_string().contains("call-l"),
            "{filter}: {page}"
        );
    }
    // A third person: no join, no keepalive into it, no like.
    let (status, out) = w.aui(Endpoint::Join, "mallory", json!({"id": room})).await;
    assert_eq!(status, 403, "{out}");
    let (status, out) = w
        .aui(Endpoint::Keepalive, "mallory", json!({"id": room}))
        .await;
    assert_eq!(status, 403, "{out}");
    assert_eq!(w.users("call-l").await, ["alice", "bob"]);
    // Its participants may: a keepalive keeps them.
    assert_eq!(
        w.aui(Endpoint::Keepalive, "bob", json!({"id": room}))
            .await
            .0,
        200
    );
    // The meeting list seats two, whoever writes it.
    let member = |id: &str| json!({"user_id": id, "camera_opened": true, "mic_opened": true});
    let (status, out) = w
        .aui(
            Endpoint::UpdateMeetingInfo,
            "alice",
            json!({"id": room, "members": [member("alice"), member("bob"), member("mallory")]}),
        )
        .await;
    assert_eq!(status, 409, "{out}");
    assert_eq!(out["reason"], "RoomFull", "{out}");
}

/// Issue 16, 3: a seat whose holder has been silent past `HEARTBEAT_TIMEOUT_SECONDS` goes to
/// the next caller; one who keeps alive keeps it.
async fn a_silent_participants_seat_is_free_again(w: World) {
    assert_eq!(w.app_call("alice", "token", "call-s").await.0, 200);
    assert_eq!(w.app_call("bob", "token", "call-s").await.0, 200);
    let room = room_of("call-s");
    let (status, out) = w.app_call("carol", "token", "call-s").await;
    assert_eq!((status, out["code"].as_str()), (409, Some("2015")), "{out}");
    // Alice keeps alive, Bob goes silent.
    w.clock.advance(Duration::seconds(15));
    assert_eq!(
        w.aui(Endpoint::Keepalive, "alice", json!({"id": room}))
            .await
            .0,
        200
    );
    w.clock.advance(Duration::seconds(10));
    let (status, out) = w.app_call("carol", "token", "call-s").await;
    assert_eq!(status, 200, "Bob's seat is free: {out}");
    assert_eq!(w.users("call-s").await, ["alice", "carol"]);
    // Bob is not seated any more: his return finds the call full.
    let (status, out) = w.app_call("bob", "token", "call-s").await;
    assert_eq!(status, 409, "{out}");
    // And he publishes nothing through the AUI API either.
    let (status, out) = w.aui(Endpoint::RtcToken, "bob", json!({"id": room})).await;
    assert!(out.get("credentials").is_none(), "{status} {out}");
}
