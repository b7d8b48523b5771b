//! Seed 000's 1v1 calls (issue 16, 2 and 3) through the handlers, with a manual clock, on both
//! stores: a channel id can never name another room's RTC channel; a muted or banned user gets
//! no publish credential; a call is in no listing, nobody but its two participants enters it
//! (through any API), its meeting list never seats a third, and a seat whose holder went
//! silent is free again.

use liveroom::endpoint::Handler;
use liveroom::{dialects, meeting, moderation, presence, rooms, vendor_tokens};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::Duration;
use liveroom::Clock as _;
use liveroom::clock::ManualClock;
use liveroom::domain::{ChannelId, RoomId, UserId};
use liveroom::endpoint::Endpoint;
use liveroom::{App, Config};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

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
    vars.insert("JWT_PRIVATE_KEY".into(), EVENTS_SECRET.into());
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
        // As its function holds it: only the keys `aliyun-call` reads.
        let app = self
            .app
            .scoped(dialects::aliyun::AliyunCall::ENDPOINT.secrets());
        let response =
            liveroom::http::handle(&app, dialects::aliyun::AliyunCall::ENDPOINT, req).await;
        let status = response.status().as_u16();
        (
            status,
            serde_json::from_slice(response.body().as_ref()).unwrap(),
        )
    }

    async fn aui(&self, endpoint: Endpoint, user: &str, body: Value) -> (u16, Value) {
        call(&self.app, endpoint, &self.token(user), body).await
    }

    /// Seed 004's `/base/v1/rooms/{op}` for `roomId`, as its client sends it.
    async fn seed004(&self, op: &str, user: &str, room: &str) -> (u16, Value) {
        let body = json!({"userId": user, "token": self.token(user), "roomId": room});
        let req = lambda_http::http::Request::builder()
            .method("POST")
            .uri(format!("/base/v1/rooms/{op}"))
            .header("content-type", "application/json")
            .body(lambda_http::Body::Text(body.to_string()))
            .unwrap();
        let response =
            liveroom::http::handle(&self.app, dialects::tencent::TencentRooms::ENDPOINT, req).await;
        let status = response.status().as_u16();
        (
            status,
            serde_json::from_slice(response.body().as_ref()).unwrap(),
        )
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
both_stores!(an_alibaba_token_names_one_channel_and_one_user);
both_stores!(no_seat_is_given_while_a_credential_for_it_is_valid);
both_stores!(only_a_calls_participants_read_it);
both_stores!(a_calls_anchor_acts_on_it_only_while_seated_and_seats_change_only_by_lease);

/// Issue 16, 2: `/app/token` signs a publish token over the channel id the client names; were
/// that another room's id, the caller could publish into that room's RTC channel.
async fn a_channel_id_never_names_another_rooms_channel(w: World) {
    let (status, room) = w
        .aui(rooms::Create::ENDPOINT, "victim", json!({"title": "mine"}))
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
            moderation::Mute::ENDPOINT,
            "alice",
            json!({"id": room, "user_id": "bob", "mute": true}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    let (status, out) = w.app_call("bob", "token", "call-m").await;
    assert_eq!(status, 403, "{out}");
    assert!(out.get("data").is_none(), "{out}");
    let (_, meeting) = w
        .aui(
            meeting::GetMeetingInfo::ENDPOINT,
            "alice",
            json!({"id": room}),
        )
        .await;
    assert_eq!(meeting["members"].as_array().unwrap().len(), 1, "{meeting}");
    // Seated, then kicked: refused while banned.
    assert_eq!(w.app_call("carol", "token", "call-m").await.0, 200);
    let (status, out) = w
        .aui(
            moderation::Kick::ENDPOINT,
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
        .aui(rooms::Create::ENDPOINT, "alice", json!({"title": "a show"}))
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
        let (status, page) = w.aui(rooms::List::ENDPOINT, "mallory", body).await;
        assert_eq!(status, 200, "{page}");
        assert!(
            !page.to_string().contains(&room) && !page.to_string().contains("call-l"),
            "{filter}: {page}"
        );
    }
    // A third person: no join, no keepalive into it, no like — to them it does not exist
    // (issue 21, 7).
    for endpoint in [presence::Join::ENDPOINT, presence::Keepalive::ENDPOINT] {
        let (status, out) = w.aui(endpoint, "mallory", json!({"id": room})).await;
        assert_eq!(status, 404, "{endpoint:?}: {out}");
    }
    let (status, out) = w
        .aui(
            presence::Like::ENDPOINT,
            "mallory",
            json!({"id": room, "count": 1}),
        )
        .await;
    assert_eq!(status, 404, "{out}");
    assert_eq!(w.users("call-l").await, ["alice", "bob"]);
    // Its participants may: a keepalive keeps them.
    assert_eq!(
        w.aui(presence::Keepalive::ENDPOINT, "bob", json!({"id": room}))
            .await
            .0,
        200
    );
    // The meeting list seats two, whoever writes it.
    let member = |id: &str| json!({"user_id": id, "camera_opened": true, "mic_opened": true});
    let (status, out) = w
        .aui(
            meeting::UpdateMeetingInfo::ENDPOINT,
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
        w.aui(presence::Keepalive::ENDPOINT, "alice", json!({"id": room}))
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
    let (status, out) = w
        .aui(
            vendor_tokens::RtcToken::ENDPOINT,
            "bob",
            json!({"id": room}),
        )
        .await;
    assert!(out.get("credentials").is_none(), "{status} {out}");
}

/// The RTC application of `aliyun_vars`.
const RTC_APP: (&str, &str) = ("rtc-app-1", "rtc-app-key-123456");
const IM_APP: (&str, &str) = ("im-app-1", "im-app-key-123456");

/// Every other (channel, user) that Alibaba would accept `signed` for — the string its
/// token hashes after the app id and key, split at any point it allows (a channel and a
/// user of its id alphabet, then any nonce, then a timestamp not yet past) — among the
/// channels and the vendor user ids in play.
fn rtc_alternatives(
    signed: &str,
    channels: &HashSet<String>,
    users: &HashSet<String>,
    now: i64,
) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for i in 1..signed.len() {
        let (channel, rest) = signed.split_at(i);
        if !channels.contains(channel) {
            continue;
        }
        for j in 1..=rest.len() {
            let (user, tail) = rest.split_at(j);
            if users.contains(user) && still_valid(tail, now) {
                found.push((channel.to_owned(), user.to_owned()));
            }
        }
    }
    found
}

/// [`rtc_alternatives`] for the IM token: `userId + nonce + timestamp + role`.
fn im_alternatives(signed: &str, users: &HashSet<String>, now: i64) -> Vec<String> {
    (1..=signed.len())
        .map(|j| signed.split_at(j))
        .filter(|(user, tail)| {
            users.contains(*user)
                // Some split of the tail leaves a timestamp (a run of digits) not yet past.
                && tail
                    .split(|c: char| !c.is_ascii_digit())
                    .flat_map(|run| (0..run.len()).map(move |k| &run[k..]))
                    .any(|t| t.parse::<i64>().is_ok_and(|t| t > now))
        })
        .map(|(user, _)| user.to_owned())
        .collect()
}

/// Whether a nonce and a timestamp after `now` can make up `tail`: its longest run of
/// trailing digits read as a timestamp.
fn still_valid(tail: &str, now: i64) -> bool {
    let digits = tail.len() - tail.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    (1..=digits).any(|k| tail[tail.len() - k..].parse::<i64>().is_ok_and(|t| t > now))
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Issue 21, 1: Alibaba's RTC token hashes `channelId + userId + nonce + timestamp` with no
/// separator, and its IM token `userId + nonce + timestamp + role`. Whatever channel ids and
/// user names an attacker picks — a room id with a suffix, a room id's prefix with a crafted
/// name, a name that completes the anchor's — no token signed for one (channel, user) may
/// verify for another channel or user in play: the rooms, the calls, and every user's id.
async fn an_alibaba_token_names_one_channel_and_one_user(w: World) {
    let (status, room) = w
        .aui(
            rooms::Create::ENDPOINT,
            "anchor7",
            json!({"title": "on air", "mode": 1}),
        )
        .await;
    assert_eq!(status, 200, "{room}");
    let room = room["id"].as_str().unwrap().to_owned();
    let mut channels: HashSet<String> = HashSet::from([room.clone()]);
    // (channel, vendor user id, nonce, timestamp, token) of every RTC token issued.
    let mut issued: Vec<(String, String, String, i64, String)> = Vec::new();
    let mut vendor_ids: HashMap<String, String> = HashMap::new();
    let keep = |issued: &mut Vec<_>,
                vendor_ids: &mut HashMap<String, String>,
                user: &str,
                c: &Value,
                channel: &str| {
        let vendor = c["user_id"]
            .as_str()
            .or(c["userid"].as_str())
            .unwrap()
            .to_owned();
        vendor_ids.insert(user.to_owned(), vendor.clone());
        issued.push((
            channel.to_owned(),
            vendor,
            c["nonce"].as_str().unwrap().to_owned(),
            c["timestamp"].as_i64().unwrap(),
            c["token"].as_str().unwrap().to_owned(),
        ));
    };
    let (status, anchor) = w
        .aui(
            vendor_tokens::RtcToken::ENDPOINT,
            "anchor7",
            json!({"id": room}),
        )
        .await;
    assert_eq!(status, 200, "{anchor}");
    keep(
        &mut issued,
        &mut vendor_ids,
        "anchor7",
        &anchor["credentials"],
        &room,
    );

    // The attacks: (caller, channel id asked for).
    let prefix = &room[..30];
    let attacks: Vec<(String, String)> = vec![
        // A room id and a suffix: the rest would be the start of a user's id.
        ("mallory".into(), format!("{room}x")),
        // A registered tail of the anchor's id completes it.
        ("or7".into(), format!("{room}anch")),
        // A room id's prefix and a name that starts with the rest of it.
        (format!("{}x", &room[30..]), prefix.to_owned()),
        // Calls: one call's id and a name beginning with a participant's...
        ("alice".into(), "call9".into()),
        ("9alice".into(), "call".into()),
        ("ce".into(), "call9ali".into()),
    ];
    for (user, channel) in &attacks {
        let (status, out) = w.app_call(user, "token", channel).await;
        assert_eq!(status, 200, "{user} {channel}: {out}");
        keep(&mut issued, &mut vendor_ids, user, &out["data"], channel);
        channels.insert(channel.clone());
    }
    // Users whose ids the splits above would land on, each with its own vendor id.
    for user in ["x", "xmallory", "ali"] {
        let (status, out) = w.app_call(user, "token", &format!("own-{user}")).await;
        assert_eq!(status, 200, "{out}");
        keep(
            &mut issued,
            &mut vendor_ids,
            user,
            &out["data"],
            &format!("own-{user}"),
        );
        channels.insert(format!("own-{user}"));
    }
    let users: HashSet<String> = vendor_ids.values().cloned().collect();
    let now = w.clock.now().timestamp();
    for (channel, user, nonce, timestamp, token) in &issued {
        let signed = format!("{channel}{user}{nonce}{timestamp}");
        // The fields are what was signed.
        assert_eq!(
            &sha256_hex(&format!("{}{}{signed}", RTC_APP.0, RTC_APP.1)),
            token
        );
        assert_eq!(
            rtc_alternatives(&signed, &channels, &users, now),
            [(channel.clone(), user.clone())],
            "the token for ({channel}, {user}) verifies for another pair"
        );
    }

    // IM: `LIS` and `LISA`, `ali` and `alice`: each one's IM credential names only them.
    let names = ["LIS", "LISA", "ali", "alice"];
    let mut im: Vec<(String, Value)> = Vec::new();
    for name in names {
        let (status, out) = w
            .aui(
                vendor_tokens::Token::ENDPOINT,
                name,
                json!({"device_id": "d1", "device_type": "web"}),
            )
            .await;
        assert_eq!(status, 200, "{out}");
        im.push((name.to_owned(), out["im"].clone()));
    }
    let im_users: HashSet<String> = im
        .iter()
        .map(|(_, c)| c["auth"]["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(im_users.len(), names.len());
    for (name, c) in &im {
        let auth = &c["auth"];
        let user = auth["user_id"].as_str().unwrap();
        let signed = format!(
            "{user}{}{}{}",
            auth["nonce"].as_str().unwrap(),
            auth["timestamp"],
            auth["role"].as_str().unwrap()
        );
        assert_eq!(
            c["app_token"].as_str().unwrap(),
            sha256_hex(&format!("{}{}{signed}", IM_APP.0, IM_APP.1))
        );
        assert_eq!(
            im_alternatives(&signed, &im_users, now),
            [user.to_owned()],
            "{name}'s IM token verifies for another user"
        );
    }
}

/// Issue 21, 5: seed 000's clients call nothing during a call, so a seat lapses when its
/// holder is silent; a seat is never given to anyone while a credential issued for it is
/// still valid. Each `/app/token` renews the caller's seat and its credential ends with the
/// seat's lease.
async fn no_seat_is_given_while_a_credential_for_it_is_valid(w: World) {
    // The latest expiry of each user's call credential.
    let mut expiry: HashMap<&str, i64> = HashMap::new();
    let steps: [(i64, &str); 7] = [
        (0, "alice"),
        (0, "bob"),
        (5, "carol"),
        (15, "alice"),
        (21, "carol"),
        (30, "dave"),
        (40, "erin"),
    ];
    let mut clock_at = 0;
    for (at, user) in steps {
        w.clock.advance(Duration::seconds(at - clock_at));
        clock_at = at;
        let (status, out) = w.app_call(user, "token", "call-lease").await;
        let now = w.clock.now().timestamp();
        if status != 200 {
            assert_eq!(status, 409, "{out}");
            continue;
        }
        let t = out["data"]["timestamp"].as_i64().unwrap();
        assert!(t > now, "{out}");
        expiry.insert(user, t);
        // Whoever holds no seat now holds no credential that is still valid.
        let (_, meeting) = w
            .aui(
                meeting::GetMeetingInfo::ENDPOINT,
                user,
                json!({"id": room_of("call-lease")}),
            )
            .await;
        let seated: Vec<&str> = meeting["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["user_id"].as_str().unwrap())
            .collect();
        assert!(seated.contains(&user), "{meeting}");
        for (other, until) in &expiry {
            if !seated.contains(other) {
                assert!(
                    *until <= now,
                    "at +{at}s {user} took a seat while {other}'s credential is valid until {until} (now {now})"
                );
            }
        }
    }
    // Carol was refused at +5 (both seats held) and seated at +21 (Bob silent since 0, his
    // credential over at +20); Alice, renewed at +15, kept hers until +35.
    assert!(expiry.contains_key("carol") && expiry.contains_key("erin"));
}

/// Issue 21, 7: a call's participants, their nicks, its start time and its URLs are read
/// only by its participants; to anyone else the call does not exist, through every API.
async fn only_a_calls_participants_read_it(w: World) {
    assert_eq!(w.app_call("alice", "token", "call-r").await.0, 200);
    assert_eq!(w.app_call("bob", "token", "call-r").await.0, 200);
    let room = room_of("call-r");
    for endpoint in [
        rooms::Get::ENDPOINT,
        presence::Members::ENDPOINT,
        meeting::GetMeetingInfo::ENDPOINT,
        presence::Leave::ENDPOINT,
        vendor_tokens::RtcToken::ENDPOINT,
    ] {
        let (status, out) = w.aui(endpoint, "mallory", json!({"id": room})).await;
        assert_eq!(
            (status, out["reason"].as_str()),
            (404, Some("RoomNotExists")),
            "{endpoint:?}: {out}"
        );
        assert!(!out.to_string().contains("alice"), "{out}");
        // A participant reads it.
        let (status, out) = w.aui(endpoint, "bob", json!({"id": room})).await;
        assert_ne!(status, 404, "{endpoint:?}: {out}");
    }
    for op in ["list_users", "room_detail"] {
        let (status, out) = w.seed004(op, "mallory", &room).await;
        assert_eq!(
            (status, out["errorCode"].as_i64()),
            (404, Some(2004)),
            "{op}: {out}"
        );
        let (status, out) = w.seed004(op, "alice", &room).await;
        assert_eq!(status, 200, "{op}: {out}");
    }
    // Seed 000: the same answers as for a channel that never was.
    let (status, out) = w.app_call("mallory", "descChannelUsers", "call-r").await;
    let (_, never) = w
        .app_call("mallory", "descChannelUsers", "call-nowhere")
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["data"], never["data"], "{out}");
    assert_eq!(out["data"]["isChannelExist"], false, "{out}");
    let (status, out) = w
        .app_call("mallory", "descChannelStartTime", "call-r")
        .await;
    let (never_status, _) = w
        .app_call("mallory", "descChannelStartTime", "call-nowhere")
        .await;
    assert_eq!((status, never_status), (404, 404), "{out}");
    assert!(out.get("data").is_none(), "{out}");
    let (status, out) = w.app_call("bob", "descChannelStartTime", "call-r").await;
    assert_eq!(status, 200, "{out}");
}

/// Issue 21, 5 and 7 (review): whoever opened a call first is its anchor, but acts on it only
/// while seated — a lapsed first caller cannot start, stop, update, kick, mute or read it —
/// and no seat changes hands but by its lease: the meeting list of a call changes devices
/// only, and a call is never deleted (a new one on its channel would seat others under its
/// participants' running credentials).
async fn a_calls_anchor_acts_on_it_only_while_seated_and_seats_change_only_by_lease(w: World) {
    assert_eq!(w.app_call("mallory", "token", "call-o").await.0, 200);
    w.clock.advance(Duration::seconds(21));
    assert_eq!(w.app_call("alice", "token", "call-o").await.0, 200);
    assert_eq!(w.app_call("bob", "token", "call-o").await.0, 200);
    let room = room_of("call-o");
    let (_, meeting) = w
        .aui(
            meeting::GetMeetingInfo::ENDPOINT,
            "alice",
            json!({"id": room}),
        )
        .await;
    let seated: Vec<&str> = meeting["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(seated, ["alice", "bob"], "{meeting}");
    for (endpoint, body) in [
        (rooms::Start::ENDPOINT, json!({"id": room})),
        (rooms::Pause::ENDPOINT, json!({"id": room})),
        (
            rooms::Update::ENDPOINT,
            json!({"id": room, "notice": "mine"}),
        ),
        (rooms::Stop::ENDPOINT, json!({"id": room})),
        (rooms::Delete::ENDPOINT, json!({"id": room})),
        (
            moderation::Kick::ENDPOINT,
            json!({"id": room, "user_id": "bob", "ban_seconds": 0}),
        ),
        (
            moderation::Mute::ENDPOINT,
            json!({"id": room, "user_id": "bob", "mute": true}),
        ),
        (meeting::GetMeetingInfo::ENDPOINT, json!({"id": room})),
    ] {
        let (status, out) = w.aui(endpoint, "mallory", body).await;
        assert_eq!(
            (status, out["reason"].as_str()),
            (404, Some("RoomNotExists")),
            "{endpoint:?}: {out}"
        );
        assert!(!out.to_string().contains("alice"), "{out}");
    }
    let member =
        |id: &str, mic: bool| json!({"user_id": id, "camera_opened": true, "mic_opened": mic});
    // Seats do not change hands through the meeting list...
    let (status, out) = w
        .aui(
            meeting::UpdateMeetingInfo::ENDPOINT,
            "alice",
            json!({"id": room, "members": [member("alice", true), member("carol", true)]}),
        )
        .await;
    assert_eq!(
        (status, out["reason"].as_str()),
        (409, Some("RoomModeConflict")),
        "{out}"
    );
    // ...which still changes devices.
    let (status, out) = w
        .aui(
            meeting::UpdateMeetingInfo::ENDPOINT,
            "alice",
            json!({"id": room, "members": [member("alice", false), member("bob", true)]}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    // A participant cannot delete the call.
    let (status, out) = w
        .aui(rooms::Delete::ENDPOINT, "alice", json!({"id": room}))
        .await;
    assert_eq!(
        (status, out["reason"].as_str()),
        (409, Some("RoomModeConflict")),
        "{out}"
    );
    assert_eq!(w.app_call("carol", "token", "call-o").await.0, 409);
}
