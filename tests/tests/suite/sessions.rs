//! Issue 21, items 4 and 6, through the handlers on both stores: a session that ended
//! (`logout`, `logout {all}`, `deleteUser`) gets no vendor credential or signed URL from any
//! endpoint (401 `UserTokenInvalid`), nothing signed outlives the access token that asked for
//! it, and a member banned from a room gets no URL or credential from any answer.

use liveroom::endpoint::Handler;
use liveroom::{accounts, dialects, meeting, moderation, presence, rooms, vendor_tokens};
use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use liveroom::domain::UserId;
use liveroom::endpoint::Endpoint;
use liveroom::{App, Config, SystemClock};
use serde_json::{Value, json};

use crate::common::{TestStore, all_empty, call, ensure_user, token_for};

/// The app of the AUI endpoints (Alibaba CDN URLs, LiveKit room credentials, which audiences
/// get too) and the app of seed 000's `/app/token` (Alibaba RTC), on one store.
pub(crate) struct World {
    app: App,
    calls: App,
    _store: TestStore,
}

fn app_with(store: &TestStore, vars: &[(&str, &str)]) -> App {
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.insert(
        "JWT_PRIVATE_KEY".into(),
        crate::common::EVENTS_SECRET.into(),
    );
    let config = Config::from_lookup(|k| map.get(k).cloned()).expect("provider config");
    App::new(config, Arc::clone(&store.store), Arc::new(SystemClock))
}

pub(crate) fn world(store: TestStore) -> World {
    let mut vars: Vec<(&str, &str)> = crate::credentials::aliyun_vars()
        .into_iter()
        .filter(|(k, _)| k.starts_with("ALIYUN_LIVE") || *k == "LIVE_PROVIDER")
        .collect();
    vars.extend(crate::credentials::livekit_vars());
    World {
        app: app_with(&store, &vars),
        calls: app_with(&store, &crate::credentials::aliyun_vars()),
        _store: store,
    }
}

impl World {
    /// A user that exists, and a token of theirs valid for `ttl` seconds.
    async fn user(&self, ttl: u64) -> (UserId, String) {
        let id = UserId::generate();
        ensure_user(&*self.app.store, &id).await;
        let token = token_for(&self.app, &id, ttl);
        (id, token)
    }

    async fn call(&self, endpoint: Endpoint, token: &str, body: Value) -> (u16, Value) {
        call(&self.app, endpoint, token, body).await
    }

    async fn ok(&self, endpoint: Endpoint, token: &str, body: Value) -> Value {
        let (status, out) = self.call(endpoint, token, body).await;
        assert_eq!(status, 200, "{endpoint:?}: {out}");
        out
    }

    /// A live co-host room of `anchor` whose meeting list is `members` (the anchor first).
    async fn live_room(&self, anchor: &str, members: &[&UserId]) -> String {
        let room = self
            .ok(
                rooms::Create::ENDPOINT,
                anchor,
                json!({"title": "signed", "mode": 1}),
            )
            .await;
        let id = room["id"].as_str().unwrap().to_owned();
        self.ok(rooms::Start::ENDPOINT, anchor, json!({"id": id}))
            .await;
        let members: Vec<Value> = members.iter().map(|m| json!({"user_id": m})).collect();
        self.ok(
            meeting::UpdateMeetingInfo::ENDPOINT,
            anchor,
            json!({"id": id, "members": members}),
        )
        .await;
        id
    }

    /// `GET /app/token?channelId=…` (seed 000).
    async fn call_token(&self, token: &str, channel: &str) -> (u16, Value) {
        let req = lambda_http::http::Request::builder()
            .method("GET")
            .uri(format!("/app/token?channelId={channel}"))
            .header("authorization", format!("Bearer {token}"))
            .body(lambda_http::Body::Empty)
            .unwrap();
        let req = lambda_http::RequestExt::with_query_string_parameters(
            req,
            HashMap::from([("channelId".to_owned(), channel.to_owned())]),
        );
        let response =
            liveroom::http::handle(&self.calls, dialects::aliyun::AliyunCall::ENDPOINT, req).await;
        (
            response.status().as_u16(),
            serde_json::from_slice(response.body().as_ref()).unwrap(),
        )
    }

    /// `POST /base/v1/{path}` (seed 004), its parameters in a JSON body.
    async fn seed_004(&self, endpoint: Endpoint, path: &str, body: Value) -> (u16, Value) {
        let req = lambda_http::http::Request::builder()
            .method("POST")
            .uri(format!("/base/v1/{path}"))
            .header("content-type", "application/json")
            .body(lambda_http::Body::Text(body.to_string()))
            .unwrap();
        let response = liveroom::http::handle(&self.app, endpoint, req).await;
        (
            response.status().as_u16(),
            serde_json::from_slice(response.body().as_ref()).unwrap(),
        )
    }
}

/// How a session ends.
#[derive(Debug, Clone, Copy)]
enum End {
    Logout,
    LogoutAll,
    DeleteUser,
}

impl End {
    async fn end(self, w: &World, token: &str) {
        match self {
            End::Logout => w.ok(accounts::Logout::ENDPOINT, token, json!({})).await,
            End::LogoutAll => {
                w.ok(accounts::Logout::ENDPOINT, token, json!({"all": true}))
                    .await
            }
            End::DeleteUser => w.ok(accounts::DeleteUser::ENDPOINT, token, json!({})).await,
        };
    }
}

/// The `exp` of one of our access tokens.
fn token_exp(token: &str) -> i64 {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["exp"].as_i64().unwrap()
}

/// Every expiry an answer's Alibaba CDN URLs carry (`auth_key={exp}-…`).
fn url_expiries(answer: &Value) -> Vec<i64> {
    answer
        .to_string()
        .split("auth_key=")
        .skip(1)
        .map(|rest| rest.split('-').next().unwrap().parse().unwrap())
        .collect()
}

/// Whether a room answer carries no stream URL and no RTC credential anywhere.
fn unsigned(room: &Value) -> bool {
    all_empty(&room["link_info"])
        && all_empty(&room["pull_url_info"])
        && all_empty(&room["push_url_info"])
        && !room["meeting_info"].as_str().unwrap().contains("://")
}

both_stores!(a_logged_out_session_gets_no_credentials);
both_stores!(a_session_ended_by_logout_all_gets_no_credentials);
both_stores!(a_deleted_users_session_gets_no_credentials);

async fn a_logged_out_session_gets_no_credentials(w: World) {
    ended_sessions_get_no_credentials(w, End::Logout).await;
}

async fn a_session_ended_by_logout_all_gets_no_credentials(w: World) {
    ended_sessions_get_no_credentials(w, End::LogoutAll).await;
}

async fn a_deleted_users_session_gets_no_credentials(w: World) {
    ended_sessions_get_no_credentials(w, End::DeleteUser).await;
}

/// A member and an anchor whose sessions end: every endpoint that signs a credential or URL
/// refuses their old access tokens (AUI, seed 000, seed 004), though the tokens have not
/// expired.
async fn ended_sessions_get_no_credentials(w: World, how: End) {
    let (anchor, ta) = w.user(86_400).await;
    let (member, tm) = w.user(86_400).await;
    let room = w.live_room(&ta, &[&anchor, &member]).await;
    w.ok(presence::Join::ENDPOINT, &tm, json!({"id": room}))
        .await;
    // Signed while the sessions stand.
    let got = w.ok(rooms::Get::ENDPOINT, &tm, json!({"id": room})).await;
    assert!(!unsigned(&got), "{got}");
    let creds = w
        .ok(vendor_tokens::RtcToken::ENDPOINT, &tm, json!({"id": room}))
        .await;
    assert!(creds["credentials"]["token"].is_string(), "{creds}");
    let (status, call_token) = w.call_token(&tm, "session-check").await;
    assert_eq!(status, 200, "{call_token}");
    assert!(call_token["data"]["token"].is_string(), "{call_token}");

    how.end(&w, &tm).await;
    how.end(&w, &ta).await;

    let me = json!({"user_id": member, "camera_opened": false, "mic_opened": true});
    let members = json!([{"user_id": anchor}, me]);
    let member_calls = [
        (rooms::Create::ENDPOINT, json!({"title": "after"})),
        (rooms::Get::ENDPOINT, json!({"id": room})),
        (
            rooms::List::ENDPOINT,
            json!({"page_num": 1, "page_size": 10}),
        ),
        (presence::Join::ENDPOINT, json!({"id": room})),
        (presence::Leave::ENDPOINT, json!({"id": room})),
        (vendor_tokens::RtcToken::ENDPOINT, json!({"id": room})),
        (meeting::GetMeetingInfo::ENDPOINT, json!({"id": room})),
        (
            meeting::UpdateMeetingInfo::ENDPOINT,
            json!({"id": room, "members": members}),
        ),
        (
            vendor_tokens::Token::ENDPOINT,
            json!({"device_id": "D1", "device_type": "web"}),
        ),
    ];
    let anchor_calls = [
        (
            rooms::Update::ENDPOINT,
            json!({"id": room, "title": "renamed"}),
        ),
        (rooms::Start::ENDPOINT, json!({"id": room})),
        (rooms::Pause::ENDPOINT, json!({"id": room})),
        (rooms::Stop::ENDPOINT, json!({"id": room})),
        (rooms::Get::ENDPOINT, json!({"id": room})),
        (
            meeting::UpdateMeetingInfo::ENDPOINT,
            json!({"id": room, "members": [{"user_id": anchor}]}),
        ),
    ];
    let calls = member_calls
        .iter()
        .map(|c| (&tm, c))
        .chain(anchor_calls.iter().map(|c| (&ta, c)));
    for (token, (endpoint, body)) in calls {
        let (status, out) = w.call(*endpoint, token, body.clone()).await;
        assert_eq!(
            (status, out["reason"].as_str()),
            (401, Some("UserTokenInvalid")),
            "{how:?} {endpoint:?}: {out}"
        );
    }
    // Seed 000: no call token, in the call they hold or in a new one (which is not made).
    for channel in ["session-check", "never-made"] {
        let (status, out) = w.call_token(&tm, channel).await;
        assert_eq!(
            (status, out["reason"].as_str()),
            (401, Some("UserTokenInvalid")),
            "{channel}: {out}"
        );
    }
    let never = liveroom::domain::ChannelId::parse("channelId", "never-made").unwrap();
    let never = liveroom::domain::RoomId::for_channel(&never);
    assert!(w.app.store.room(&never).await.unwrap().is_none());
    // Seed 004: no login renewal (and its UserSig), no room made, read or entered.
    let user = member.as_str();
    for (endpoint, path, body) in [
        (
            dialects::tencent::TencentUsers::ENDPOINT,
            "auth_users/user_login_token",
            json!({"userId": user, "token": tm}),
        ),
        (
            dialects::tencent::TencentRooms::ENDPOINT,
            "rooms/generate_roomid",
            json!({"userId": user, "token": tm}),
        ),
        (
            dialects::tencent::TencentRooms::ENDPOINT,
            "rooms/room_detail",
            json!({"userId": user, "token": tm, "roomId": room}),
        ),
        (
            dialects::tencent::TencentRooms::ENDPOINT,
            "rooms/enter_room",
            json!({"userId": user, "token": tm, "roomId": room}),
        ),
    ] {
        let (status, out) = w.seed_004(endpoint, path, body).await;
        assert_eq!(
            (status, out["codeStr"].as_str()),
            (401, Some("UserTokenInvalid")),
            "{how:?} {path}: {out}"
        );
    }
}

both_stores!(nothing_signed_outlives_the_access_token_that_asked);

/// Credentials are signed for `CREDENTIAL_TTL_SECONDS` (a day here), but never past the `exp`
/// of the access token that asked for them: URLs, LiveKit tokens, `rtcToken`'s `expire`, seed
/// 000's call token.
async fn nothing_signed_outlives_the_access_token_that_asked(w: World) {
    let (anchor, short) = w.user(600).await;
    let exp = token_exp(&short);
    let (_, long) = w.user(3 * 86_400).await;
    let room = w.live_room(&short, &[&anchor]).await;

    let mut expiries = Vec::new();
    let created = w
        .ok(rooms::Create::ENDPOINT, &short, json!({"title": "short"}))
        .await;
    expiries.extend(url_expiries(&created));
    for endpoint in [
        rooms::Get::ENDPOINT,
        rooms::Update::ENDPOINT,
        rooms::Start::ENDPOINT,
    ] {
        let out = w.ok(endpoint, &short, json!({"id": room})).await;
        expiries.extend(url_expiries(&out));
    }
    let page = w
        .ok(
            rooms::List::ENDPOINT,
            &short,
            json!({"page_num": 1, "page_size": 10}),
        )
        .await;
    expiries.extend(url_expiries(&page));
    let meeting = w
        .ok(
            meeting::GetMeetingInfo::ENDPOINT,
            &short,
            json!({"id": room}),
        )
        .await;
    expiries.extend(url_expiries(&meeting));
    let joined = w
        .ok(presence::Join::ENDPOINT, &short, json!({"id": room}))
        .await;
    expiries.extend(url_expiries(&joined));
    assert!(expiries.len() >= 20, "{expiries:?}");
    assert!(expiries.iter().all(|&e| e <= exp), "{exp}: {expiries:?}");

    let creds = w
        .ok(
            vendor_tokens::RtcToken::ENDPOINT,
            &short,
            json!({"id": room}),
        )
        .await;
    let expire = chrono::DateTime::parse_from_rfc3339(creds["expire"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert!(expire <= exp, "{creds}");
    assert!(token_exp(creds["credentials"]["token"].as_str().unwrap()) <= exp);

    let (status, call) = w.call_token(&short, "short-lived").await;
    assert_eq!(status, 200, "{call}");
    assert!(call["data"]["timestamp"].as_i64().unwrap() <= exp, "{call}");

    // The cap, not the TTL, made them short: a long-lived token's are signed for the TTL.
    let got = w.ok(rooms::Get::ENDPOINT, &long, json!({"id": room})).await;
    let day = chrono::Utc::now().timestamp() + 86_400 - 60;
    assert!(url_expiries(&got).iter().all(|&e| e >= day), "{got}");
    let creds = w
        .ok(
            vendor_tokens::RtcToken::ENDPOINT,
            &long,
            json!({"id": room}),
        )
        .await;
    assert!(token_exp(creds["credentials"]["token"].as_str().unwrap()) >= day);
}

both_stores!(a_banned_member_gets_no_url_or_credential_from_any_answer);

/// One rule for every answer that carries a URL or credential: a member the anchor banned
/// from the room gets none — even one the anchor put back on the co-host list.
async fn a_banned_member_gets_no_url_or_credential_from_any_answer(w: World) {
    let (anchor, ta) = w.user(86_400).await;
    let (member, tm) = w.user(86_400).await;
    let (_, bystander) = w.user(86_400).await;
    let room = w.live_room(&ta, &[&anchor, &member]).await;
    w.ok(presence::Join::ENDPOINT, &tm, json!({"id": room}))
        .await;
    w.ok(
        moderation::Kick::ENDPOINT,
        &ta,
        json!({"id": room, "user_id": member, "ban_seconds": 600}),
    )
    .await;
    // Back on the co-host list (the anchor's list is the anchor's), still banned.
    let members = json!([{"user_id": anchor}, {"user_id": member}]);
    let by_anchor = w
        .ok(
            meeting::UpdateMeetingInfo::ENDPOINT,
            &ta,
            json!({"id": room, "members": members}),
        )
        .await;
    assert!(by_anchor.to_string().contains("://"), "{by_anchor}");

    // RoomInfo answers: none signed.
    let got = w.ok(rooms::Get::ENDPOINT, &tm, json!({"id": room})).await;
    assert!(unsigned(&got), "get: {got}");
    let page = w
        .ok(
            rooms::List::ENDPOINT,
            &tm,
            json!({"page_num": 1, "page_size": 10}),
        )
        .await;
    let listed = page.as_array().unwrap();
    assert!(
        !listed.is_empty() && listed.iter().all(unsigned),
        "list: {page}"
    );
    let left = w
        .ok(presence::Leave::ENDPOINT, &tm, json!({"id": room}))
        .await;
    assert!(unsigned(&left), "leave: {left}");
    let left = w
        .ok(presence::Leave::ENDPOINT, &tm, json!({"id": room}))
        .await;
    assert!(unsigned(&left), "leave again: {left}");
    // Meeting answers: no co-host pull URL.
    let meeting = w
        .ok(meeting::GetMeetingInfo::ENDPOINT, &tm, json!({"id": room}))
        .await;
    assert!(
        !meeting.to_string().contains("://"),
        "getMeetingInfo: {meeting}"
    );
    let mine = json!([
        {"user_id": anchor},
        {"user_id": member, "camera_opened": true, "mic_opened": true},
    ]);
    let changed = w
        .ok(
            meeting::UpdateMeetingInfo::ENDPOINT,
            &tm,
            json!({"id": room, "members": mine}),
        )
        .await;
    assert!(
        !changed.to_string().contains("://"),
        "updateMeetingInfo: {changed}"
    );
    // Refused outright where the answer is nothing but credentials (or entry).
    for endpoint in [presence::Join::ENDPOINT, vendor_tokens::RtcToken::ENDPOINT] {
        let (status, out) = w.call(endpoint, &tm, json!({"id": room})).await;
        assert_eq!(
            (status, out["reason"].as_str()),
            (403, Some("RoomMemberBanned")),
            "{endpoint:?}: {out}"
        );
    }
    // Everyone else still gets theirs.
    let meeting = w
        .ok(
            meeting::GetMeetingInfo::ENDPOINT,
            &bystander,
            json!({"id": room}),
        )
        .await;
    assert_eq!(meeting.to_string().matches("://").count(), 2, "{meeting}");
    let got = w
        .ok(rooms::Get::ENDPOINT, &bystander, json!({"id": room}))
        .await;
    assert!(!unsigned(&got), "{got}");
}

both_stores!(a_full_page_of_rooms_checks_the_session_and_bans_too);

/// `list`'s page of 100: the caller's bans in 100 rooms and their session are more keys than
/// one `BatchGetItem` takes; every room's ban still counts, and an ended session is still 401.
async fn a_full_page_of_rooms_checks_the_session_and_bans_too(w: World) {
    let (_, viewer) = w.user(86_400).await;
    let mut banned = None;
    // Five rooms each of twenty anchors (a per-user cap on open rooms stays out of the way).
    for _ in 0..20 {
        let (_, anchor) = w.user(86_400).await;
        for _ in 0..5 {
            let room = w
                .ok(rooms::Create::ENDPOINT, &anchor, json!({"title": "page"}))
                .await;
            let id = room["id"].as_str().unwrap().to_owned();
            if banned.is_none() {
                banned = Some((id, anchor.clone()));
            }
        }
    }
    let (room, anchor) = banned.unwrap();
    let viewer_id = token_sub(&viewer);
    w.ok(
        moderation::Kick::ENDPOINT,
        &anchor,
        json!({"id": room, "user_id": viewer_id}),
    )
    .await;
    let page = w
        .ok(
            rooms::List::ENDPOINT,
            &viewer,
            json!({"page_num": 1, "page_size": 100}),
        )
        .await;
    let rooms = page.as_array().unwrap();
    assert_eq!(rooms.len(), 100);
    for r in rooms {
        assert_eq!(unsigned(r), r["id"] == room.as_str(), "{r}");
    }
    End::LogoutAll.end(&w, &viewer).await;
    let (status, out) = w
        .call(
            rooms::List::ENDPOINT,
            &viewer,
            json!({"page_num": 1, "page_size": 100}),
        )
        .await;
    assert_eq!(
        (status, out["reason"].as_str()),
        (401, Some("UserTokenInvalid")),
        "{out}"
    );
}

/// The user one of our access tokens names.
fn token_sub(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["sub"].as_str().unwrap().to_owned()
}
