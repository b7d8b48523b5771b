//! The admin API (issue 24) through the handlers, on both stores: who may operate (no token,
//! a plain user, a key without the scope, a revoked key), API keys, a stop and a kick with their
//! audit entries, and a disabled account (its tokens, its logins, its rooms).

use std::sync::Arc;

use liveroom::admin::*;
use liveroom::clock::SystemClock;
use liveroom::config::Config;
use liveroom::domain::UserId;
use liveroom::endpoint::{Endpoint, Handler};
use liveroom::{App, accounts, moderation, presence, rooms, vendor_tokens};
use serde_json::{Value, json};

use crate::common::{EVENTS_SECRET, TestStore, call, user_token};

/// The admin routes, and a body each accepts.
fn routes() -> Vec<(Endpoint, Value)> {
    let room = "3f2c1e9a-7b6d-4c5e-9f80-1a2b3c4d5e6f";
    vec![
        (AdminWhoami::ENDPOINT, json!({})),
        (
            AdminRooms::ENDPOINT,
            json!({"page_num": 1, "page_size": 10}),
        ),
        (AdminStopRoom::ENDPOINT, json!({"id": room, "reason": "r"})),
        (
            AdminKick::ENDPOINT,
            json!({"id": room, "user_id": "x", "reason": "r"}),
        ),
        (
            AdminMute::ENDPOINT,
            json!({"id": room, "user_id": "x", "mute": true}),
        ),
        (
            AdminUsers::ENDPOINT,
            json!({"page_num": 1, "page_size": 10}),
        ),
        (
            AdminDisableUser::ENDPOINT,
            json!({"user_id": "x", "reason": "r"}),
        ),
        (AdminEnableUser::ENDPOINT, json!({"user_id": "x"})),
        (
            AdminSetRoles::ENDPOINT,
            json!({"user_id": "x", "roles": []}),
        ),
        (
            AdminCreateKey::ENDPOINT,
            json!({"name": "n", "scopes": ["rooms:read"]}),
        ),
        (AdminKeys::ENDPOINT, json!({})),
        (
            AdminRevokeKey::ENDPOINT,
            json!({"key_id": "0123456789abcdef"}),
        ),
        (AdminAudit::ENDPOINT, json!({})),
        (AdminRoom::ENDPOINT, json!({"id": room})),
        (AdminRoomSeries::ENDPOINT, json!({"id": room})),
        (AdminStats::ENDPOINT, json!({})),
    ]
}

pub struct World {
    app: App,
    _store: TestStore,
}

fn world(store: TestStore) -> World {
    let config = Config::from_lookup(|k| match k {
        "JWT_PRIVATE_KEY" => Some(EVENTS_SECRET.to_owned()),
        "ADMIN_USERS" => Some("chief, boss".to_owned()),
        "REGISTRATIONS_PER_ADDRESS_PER_MINUTE" | "REGISTRATIONS_PER_MINUTE" => {
            Some("1000000".to_owned())
        }
        "MAX_OPEN_ROOMS_PER_USER" => Some("100".to_owned()),
        _ => None,
    })
    .expect("config");
    World {
        app: App::new(config, Arc::clone(&store.store), Arc::new(SystemClock)),
        _store: store,
    }
}

impl World {
    async fn token(&self, name: &str) -> String {
        user_token(&self.app, &UserId::parse("u", name).unwrap(), 3600).await
    }

    async fn call(&self, endpoint: Endpoint, token: &str, body: Value) -> (u16, Value) {
        call(&self.app, endpoint, token, body).await
    }

    async fn ok(&self, endpoint: Endpoint, token: &str, body: Value) -> Value {
        let (status, out) = self.call(endpoint, token, body).await;
        assert_eq!(status, 200, "{} answered {out}", endpoint.name());
        out
    }

    async fn room(&self, anchor: &str) -> String {
        let out = self
            .ok(
                rooms::Create::ENDPOINT,
                anchor,
                json!({"title": "t", "mode": 0}),
            )
            .await;
        let id = out["id"].as_str().unwrap().to_owned();
        self.ok(rooms::Start::ENDPOINT, anchor, json!({"id": id}))
            .await;
        id
    }

    async fn key(&self, admin: &str, scopes: &[&str]) -> (String, String) {
        let out = self
            .ok(
                AdminCreateKey::ENDPOINT,
                admin,
                json!({"name": "robot", "scopes": scopes}),
            )
            .await;
        (
            out["key_id"].as_str().unwrap().to_owned(),
            out["secret"].as_str().unwrap().to_owned(),
        )
    }

    async fn audit(&self, token: &str, filter: Value) -> Vec<Value> {
        let out = self.ok(AdminAudit::ENDPOINT, token, filter).await;
        out["entries"].as_array().unwrap().clone()
    }
}

both_stores!(every_admin_route_refuses_whoever_may_not_call_it);
both_stores!(a_key_stops_a_room_and_the_stop_and_its_entry_are_there_together);
both_stores!(an_operator_kick_and_mute_act_in_any_room_and_are_audited);
both_stores!(a_disabled_account_loses_its_sessions_logins_and_rooms);
both_stores!(roles_decide_what_an_account_may_do_and_change_at_once);
both_stores!(an_operator_sees_a_room_in_full_its_series_and_the_stats);
both_stores!(a_key_is_worth_no_more_than_its_maker_and_the_break_glass_admins_stay);
both_stores!(crafted_filters_tokens_and_text_are_refused_or_read_as_empty);

async fn every_admin_route_refuses_whoever_may_not_call_it(w: World) {
    let chief = w.token("chief").await;
    let plain = w.token("plain").await;
    let (key_id, read_only) = w.key(&chief, &["audit:read"]).await;
    let (revoked_id, revoked) = w
        .key(
            &chief,
            &[
                "rooms:read",
                "rooms:write",
                "users:read",
                "users:write",
                "audit:read",
            ],
        )
        .await;
    w.ok(
        AdminRevokeKey::ENDPOINT,
        &chief,
        json!({"key_id": revoked_id}),
    )
    .await;
    let forged = format!("lrk_{key_id}_{}", "A".repeat(43));
    for (endpoint, body) in routes() {
        let name = endpoint.name();
        for (who, token, status) in [
            ("no token", "", 401),
            ("a plain user", plain.as_str(), 403),
            ("a revoked key", revoked.as_str(), 401),
            ("a forged secret", forged.as_str(), 401),
            ("a malformed key", "lrk_zz_zz", 401),
        ] {
            let (got, out) = w.call(endpoint, token, body.clone()).await;
            assert_eq!(got, status, "{name} for {who}: {out}");
            if status == 403 {
                assert_eq!(out["reason"], "AdminForbidden", "{name}: {out}");
            }
        }
        // A key with only audit:read may read the log and say who it is, nothing else.
        let (got, out) = w.call(endpoint, &read_only, body.clone()).await;
        let allowed = [AdminWhoami::ENDPOINT.name(), AdminAudit::ENDPOINT.name()];
        if allowed.contains(&name) {
            assert_eq!(got, 200, "{name}: {out}");
        } else {
            assert_eq!(got, 403, "{name} for a key without the scope: {out}");
            assert_eq!(out["reason"], "AdminForbidden");
        }
    }
    // A key never gets `admin`, and never more than the scopes named.
    let (status, out) = w
        .call(
            AdminCreateKey::ENDPOINT,
            &chief,
            json!({"name": "n", "scopes": ["admin"]}),
        )
        .await;
    assert_eq!(status, 400, "{out}");
    let who = w.ok(AdminWhoami::ENDPOINT, &read_only, json!({})).await;
    assert_eq!(who["actor"], json!({"kind": "key", "id": key_id}));
    assert_eq!(who["scopes"], json!(["audit:read"]));
    // The key list never shows a secret or a hash.
    let keys = w.ok(AdminKeys::ENDPOINT, &chief, json!({})).await;
    let text = keys.to_string();
    assert!(!text.contains(&read_only[20..]), "{text}");
    assert!(
        keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("hash").is_none())
    );
    let revoked_row = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key_id"] == revoked_id)
        .unwrap();
    assert!(revoked_row["revoked_at"].is_string());
    // A key that was used says so.
    let used = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key_id"] == key_id)
        .unwrap();
    assert!(used["last_used_at"].is_string(), "{used}");
}

async fn a_key_stops_a_room_and_the_stop_and_its_entry_are_there_together(w: World) {
    let chief = w.token("chief").await;
    let anchor = w.token("anna").await;
    let room = w.room(&anchor).await;
    let (key_id, robot) = w
        .key(&chief, &["rooms:read", "rooms:write", "audit:read"])
        .await;
    let listed = w
        .ok(
            AdminRooms::ENDPOINT,
            &robot,
            json!({"page_num": 1, "page_size": 100, "status": 1}),
        )
        .await;
    assert!(
        listed["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == room.as_str())
    );
    // Reasons are required and bounded.
    for reason in [
        json!(""),
        json!("   "),
        json!("x".repeat(501)),
        json!("a\u{0007}b"),
    ] {
        let (status, out) = w
            .call(
                AdminStopRoom::ENDPOINT,
                &robot,
                json!({"id": room, "reason": reason}),
            )
            .await;
        assert_eq!(status, 400, "{reason}: {out}");
    }
    let stopped = w
        .ok(
            AdminStopRoom::ENDPOINT,
            &robot,
            json!({"id": room, "reason": "prohibited <b>content</b>"}),
        )
        .await;
    assert_eq!(stopped["status"], 2);
    assert_eq!(stopped["stop_reason"], "prohibited <b>content</b>");
    assert_eq!(stopped["stopped_by"], json!({"kind": "key", "id": key_id}));
    // The anchor's own view says the same.
    let got = w
        .ok(rooms::Get::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    assert_eq!(got["stop_reason"], "prohibited <b>content</b>");
    // One entry, by the key, for the room; a second stop changes nothing and adds none.
    w.ok(
        AdminStopRoom::ENDPOINT,
        &robot,
        json!({"id": room, "reason": "again"}),
    )
    .await;
    let entries = w.audit(&robot, json!({"room_id": room})).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e["action"], "room.stop");
    assert_eq!(e["actor"], json!({"kind": "key", "id": key_id}));
    assert_eq!(e["source"], "admin");
    assert_eq!(e["target"], json!({"kind": "room", "id": room}));
    assert_eq!(e["reason"], "prohibited <b>content</b>");
    let by_actor = w
        .audit(&robot, json!({"actor_id": format!("key:{key_id}")}))
        .await;
    assert!(by_actor.iter().any(|x| x["id"] == e["id"]));
    let filtered = w
        .audit(&robot, json!({"action": "room.kick", "room_id": room}))
        .await;
    assert!(filtered.is_empty(), "{filtered:?}");
    // An anchor's own stop keeps no operator reason.
    let other = w.room(&anchor).await;
    let own = w
        .ok(rooms::Stop::ENDPOINT, &anchor, json!({"id": other}))
        .await;
    assert!(
        own["stop_reason"].is_null() && own["stopped_by"].is_null(),
        "{own}"
    );
}

async fn an_operator_kick_and_mute_act_in_any_room_and_are_audited(w: World) {
    let chief = w.token("chief").await;
    let anchor = w.token("anna").await;
    let bob = w.token("bob").await;
    let room = w.room(&anchor).await;
    w.ok(presence::Join::ENDPOINT, &bob, json!({"id": room}))
        .await;
    let kicked = w
        .ok(
            AdminKick::ENDPOINT,
            &chief,
            json!({"id": room, "user_id": "bob", "ban_seconds": 2_592_000, "reason": "abuse"}),
        )
        .await;
    assert_eq!(kicked["user_id"], "bob");
    let (status, out) = w
        .call(presence::Join::ENDPOINT, &bob, json!({"id": room}))
        .await;
    assert_eq!(status, 403, "{out}");
    // Over 30 days, or the room's anchor, is refused.
    let (status, _) = w
        .call(
            AdminKick::ENDPOINT,
            &chief,
            json!({"id": room, "user_id": "bob", "ban_seconds": 2_592_001, "reason": "r"}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = w
        .call(
            AdminKick::ENDPOINT,
            &chief,
            json!({"id": room, "user_id": "anna", "reason": "r"}),
        )
        .await;
    assert_eq!(status, 403);
    w.ok(
        AdminMute::ENDPOINT,
        &chief,
        json!({"id": room, "user_id": "carl", "mute": true}),
    )
    .await;
    // The anchor's own kick and mute are audited too.
    w.ok(
        moderation::Mute::ENDPOINT,
        &anchor,
        json!({"id": room, "user_id": "carl", "mute": false}),
    )
    .await;
    let entries = w.audit(&chief, json!({"room_id": room})).await;
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("room.unmute", "anchor"),
            ("room.mute", "admin"),
            ("room.kick", "admin")
        ]
    );
    assert_eq!(entries[2]["reason"], "abuse");
    assert!(entries[2]["details"]["banned_until"].is_string());
    // Paging: one at a time, newest first, the same entries.
    let mut paged = Vec::new();
    let mut next = Value::Null;
    loop {
        let mut body = json!({"room_id": room, "limit": 1});
        if !next.is_null() {
            body["next_token"] = next.clone();
        }
        let out = w.ok(AdminAudit::ENDPOINT, &chief, body).await;
        paged.extend(
            out["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].clone()),
        );
        next = out["next_token"].clone();
        if next.is_null() {
            break;
        }
    }
    let ids: Vec<Value> = entries.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(paged, ids);
}

async fn a_disabled_account_loses_its_sessions_logins_and_rooms(w: World) {
    let chief = w.token("chief").await;
    // A real account (login works), with a room on air.
    w.ok(
        accounts::Register::ENDPOINT,
        "",
        json!({"username": "dave", "password": "correct horse", "nick": "d"}),
    )
    .await;
    let login = w
        .ok(
            accounts::Login::ENDPOINT,
            "",
            json!({"username": "dave", "password": "correct horse"}),
        )
        .await;
    let dave = login["token"].as_str().unwrap().to_owned();
    let room = w.room(&dave).await;
    let user = w
        .ok(
            AdminDisableUser::ENDPOINT,
            &chief,
            json!({"user_id": "dave", "reason": "spam"}),
        )
        .await;
    assert_eq!(user["disabled"], true);
    assert_eq!(user["disabled_reason"], "spam");
    // Its tokens: 401 wherever a session is checked.
    let (status, out) = w
        .call(
            vendor_tokens::Token::ENDPOINT,
            &dave,
            json!({"device_id": "d1", "device_type": "ios"}),
        )
        .await;
    assert_eq!(status, 401, "{out}");
    let (status, out) = w
        .call(
            accounts::Refresh::ENDPOINT,
            "",
            json!({"refresh_token": login["refresh_token"]}),
        )
        .await;
    assert_eq!(status, 401, "{out}");
    // Its logins: 403 UserDisabled with the right password, 401 as ever with a wrong one.
    let (status, out) = w
        .call(
            accounts::Login::ENDPOINT,
            "",
            json!({"username": "dave", "password": "correct horse"}),
        )
        .await;
    assert_eq!(
        (status, out["reason"].as_str()),
        (403, Some("UserDisabled")),
        "{out}"
    );
    let (status, _) = w
        .call(
            accounts::Login::ENDPOINT,
            "",
            json!({"username": "dave", "password": "wrong horse"}),
        )
        .await;
    assert_eq!(status, 401);
    // Its room ended, with the reason.
    let got = w
        .ok(
            AdminRooms::ENDPOINT,
            &chief,
            json!({"page_num": 1, "page_size": 100, "anchor_id": "dave"}),
        )
        .await;
    let r = got["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == room.as_str())
        .unwrap();
    assert_eq!(r["status"], 2);
    assert_eq!(r["stop_reason"], "spam");
    // Nobody disables themself; enabling lets the account log in again.
    let (status, _) = w
        .call(
            AdminDisableUser::ENDPOINT,
            &chief,
            json!({"user_id": "chief", "reason": "x"}),
        )
        .await;
    assert_eq!(status, 403);
    w.ok(
        AdminEnableUser::ENDPOINT,
        &chief,
        json!({"user_id": "dave"}),
    )
    .await;
    w.ok(
        accounts::Login::ENDPOINT,
        "",
        json!({"username": "dave", "password": "correct horse"}),
    )
    .await;
    // The old token stays dead.
    let (status, _) = w
        .call(
            vendor_tokens::Token::ENDPOINT,
            &dave,
            json!({"device_id": "d1", "device_type": "ios"}),
        )
        .await;
    assert_eq!(status, 401);
    let actions: Vec<String> = w
        .audit(&chief, json!({"actor_id": "chief"}))
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["user.enable", "room.stop", "user.disable"]);
}

async fn roles_decide_what_an_account_may_do_and_change_at_once(w: World) {
    let chief = w.token("chief").await;
    let mia = w.token("mia").await;
    let boss = w.token("boss").await;
    let (status, _) = w
        .call(
            AdminUsers::ENDPOINT,
            &mia,
            json!({"page_num": 1, "page_size": 10}),
        )
        .await;
    assert_eq!(status, 403);
    w.ok(
        AdminSetRoles::ENDPOINT,
        &chief,
        json!({"user_id": "mia", "roles": ["moderator"]}),
    )
    .await;
    // At once, with the same token.
    let who = w.ok(AdminWhoami::ENDPOINT, &mia, json!({})).await;
    assert_eq!(who["roles"], json!(["moderator"]));
    let users = w
        .ok(
            AdminUsers::ENDPOINT,
            &mia,
            json!({"page_num": 1, "page_size": 100, "prefix": "MI"}),
        )
        .await;
    let names: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mia"]);
    // A moderator does not manage keys or roles, nor disable an admin.
    let (status, _) = w.call(AdminKeys::ENDPOINT, &mia, json!({})).await;
    assert_eq!(status, 403);
    let (status, out) = w
        .call(
            AdminDisableUser::ENDPOINT,
            &mia,
            json!({"user_id": "boss", "reason": "x"}),
        )
        .await;
    assert_eq!(
        (status, out["reason"].as_str()),
        (403, Some("AdminForbidden")),
        "{out}"
    );
    // An ADMIN_USERS admin stays admin whatever is stored.
    w.ok(
        AdminSetRoles::ENDPOINT,
        &chief,
        json!({"user_id": "boss", "roles": []}),
    )
    .await;
    let who = w.ok(AdminWhoami::ENDPOINT, &boss, json!({})).await;
    assert_eq!(who["roles"], json!(["admin"]));
    // Roles taken away apply at once.
    w.ok(
        AdminSetRoles::ENDPOINT,
        &chief,
        json!({"user_id": "mia", "roles": []}),
    )
    .await;
    let (status, _) = w.call(AdminWhoami::ENDPOINT, &mia, json!({})).await;
    assert_eq!(status, 403);
    let (status, _) = w
        .call(
            AdminSetRoles::ENDPOINT,
            &chief,
            json!({"user_id": "mia", "roles": ["owner"]}),
        )
        .await;
    assert_eq!(status, 400);
}

/// `room` shows the room, its online members (not the kicked), its bans (not a kick without
/// one, not one that has ended), its co-hosts and its latest audit entries (only to a caller
/// with `audit:read`); `stats` and `roomSeries` show what the sweeper's run counted.
async fn an_operator_sees_a_room_in_full_its_series_and_the_stats(w: World) {
    let chief = w.token("chief").await;
    let anchor = w.token("anna").await;
    let room = w.room(&anchor).await;
    for who in ["bob", "carl", "dave"] {
        let token = w.token(who).await;
        w.ok(presence::Join::ENDPOINT, &token, json!({"id": room}))
            .await;
    }
    w.ok(
        AdminKick::ENDPOINT,
        &chief,
        json!({"id": room, "user_id": "bob", "ban_seconds": 86_400, "reason": "abuse"}),
    )
    .await;
    w.ok(
        moderation::Kick::ENDPOINT,
        &anchor,
        json!({"id": room, "user_id": "carl", "ban_seconds": 0}),
    )
    .await;

    let out = w.ok(AdminRoom::ENDPOINT, &chief, json!({"id": room})).await;
    assert_eq!(out["room"]["id"], room.as_str(), "{out}");
    assert_eq!(out["room"]["status"], 1);
    let members: Vec<&str> = out["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(members, ["dave"], "{out}");
    assert!(out.get("members_next_token").is_none(), "{out}");
    let bans = out["bans"].as_array().unwrap();
    assert_eq!(bans.len(), 1, "{out}");
    assert_eq!(bans[0]["user_id"], "bob");
    let until =
        chrono::DateTime::parse_from_rfc3339(bans[0]["banned_until"].as_str().unwrap()).unwrap();
    let left = until.timestamp() - chrono::Utc::now().timestamp();
    assert!((86_000..=86_400).contains(&left), "{left}");
    assert!(out["meeting_info"]["members"].is_array(), "{out}");
    assert!(out["meeting_info"]["version"].is_u64(), "{out}");
    let actions: Vec<&str> = out["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["room.kick", "room.kick"], "{out}");
    // Nothing signed in an operator's view.
    assert!(!out.to_string().contains("auth_key"), "{out}");

    // A key that may read rooms but not the log sees the room without its audit entries.
    let (_, reader) = w.key(&chief, &["rooms:read"]).await;
    let out = w
        .ok(AdminRoom::ENDPOINT, &reader, json!({"id": room}))
        .await;
    assert_eq!(out["audit"], json!([]), "{out}");
    assert_eq!(out["bans"].as_array().unwrap().len(), 1);

    // No such room, a malformed id, an unknown field, a bad series window.
    let unknown = "00000000-0000-4000-8000-000000000000";
    for (endpoint, body, status) in [
        (AdminRoom::ENDPOINT, json!({"id": unknown}), 404),
        (AdminRoom::ENDPOINT, json!({"id": "nope"}), 400),
        (AdminRoom::ENDPOINT, json!({"id": room, "x": 1}), 400),
        (
            AdminRoom::ENDPOINT,
            json!({"id": room, "members_next_token": "%%"}),
            400,
        ),
        (AdminRoomSeries::ENDPOINT, json!({"id": unknown}), 404),
        (
            AdminRoomSeries::ENDPOINT,
            json!({"id": room, "limit": 0}),
            400,
        ),
        (
            AdminRoomSeries::ENDPOINT,
            json!({"id": room, "limit": 1441}),
            400,
        ),
        (
            AdminRoomSeries::ENDPOINT,
            json!({"id": room, "since": "yesterday"}),
            400,
        ),
    ] {
        let (got, out) = w.call(endpoint, &chief, body.clone()).await;
        assert_eq!(got, status, "{} {body}: {out}", endpoint.name());
        assert!(out["code"].is_i64(), "{out}");
    }

    // Before the sweeper's first run: nothing counted, no points.
    let stats = w.ok(AdminStats::ENDPOINT, &reader, json!({})).await;
    assert_eq!(
        stats,
        json!({"rooms_prepared": 0, "rooms_live": 0, "rooms_paused": 0, "online_total": 0, "at": null})
    );
    let series = w
        .ok(AdminRoomSeries::ENDPOINT, &reader, json!({"id": room}))
        .await;
    assert_eq!(series, json!({"points": []}));

    // A prepared room too; then one run.
    let prepared = w
        .ok(
            rooms::Create::ENDPOINT,
            &anchor,
            json!({"title": "later", "mode": 0}),
        )
        .await;
    liveroom::reclaim::sweep(&w.app).await.expect("sweep");
    let stats = w.ok(AdminStats::ENDPOINT, &reader, json!({})).await;
    assert_eq!(stats["rooms_live"], 1, "{stats}");
    assert_eq!(stats["rooms_prepared"], 1, "{stats}");
    assert_eq!(stats["rooms_paused"], 0, "{stats}");
    assert_eq!(stats["online_total"], 1, "{stats}");
    assert!(stats["at"].is_string(), "{stats}");
    let series = w
        .ok(AdminRoomSeries::ENDPOINT, &reader, json!({"id": room}))
        .await;
    let points = series["points"].as_array().unwrap();
    assert_eq!(points.len(), 1, "{series}");
    assert_eq!(points[0]["online_count"], 1);
    assert_eq!(points[0]["at"], stats["at"]);
    for field in ["like_count", "pv", "uv"] {
        assert!(points[0][field].is_u64(), "{series}");
    }
    assert_eq!(points[0]["pv"], 3, "{series}");
    // A window after the run has none.
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let series = w
        .ok(
            AdminRoomSeries::ENDPOINT,
            &reader,
            json!({"id": room, "since": later}),
        )
        .await;
    assert_eq!(series, json!({"points": []}));
    let other = w
        .ok(
            AdminRoomSeries::ENDPOINT,
            &reader,
            json!({"id": prepared["id"], "limit": 1}),
        )
        .await;
    assert_eq!(other["points"].as_array().unwrap().len(), 1, "{other}");
}

/// A stop or a kick and its audit entry are one write: with the write failing before it is
/// sent, neither is there; with its answer lost after the server committed it, both are (and
/// a retried stop adds no second entry). Faults injected into the DynamoDB client's
/// `TransactWriteItems`; the embedded store writes both in one redb transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stop_or_a_kick_and_its_audit_entry_are_written_together_or_not_at_all() {
    use crate::common::Fault;
    let (store, faults) = crate::common::faulty_dynamodb().await;
    let w = world(store);
    let chief = w.token("chief").await;
    let anchor = w.token("anna").await;
    let stopped = w.room(&anchor).await;
    let kicked_in = w.room(&anchor).await;
    for who in ["bob", "carl"] {
        let token = w.token(who).await;
        w.ok(presence::Join::ENDPOINT, &token, json!({"id": kicked_in}))
            .await;
    }
    let view = |room: String| {
        let w = &w;
        let chief = chief.clone();
        async move { w.ok(AdminRoom::ENDPOINT, &chief, json!({"id": room})).await }
    };
    let actions = |out: &Value| -> Vec<String> {
        out["audit"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    };
    let stop = json!({"id": stopped, "reason": "prohibited content"});

    // Not sent: the room is live, and no entry.
    faults.arm(Fault::Unsent);
    let (status, out) = w.call(AdminStopRoom::ENDPOINT, &chief, stop.clone()).await;
    assert!(status >= 500, "{status} {out}");
    assert!(
        !out.to_string().contains("injected"),
        "no internal text: {out}"
    );
    assert_eq!(faults.injected(), 1);
    let out = view(stopped.clone()).await;
    assert_eq!(out["room"]["status"], 1, "{out}");
    assert!(out["room"]["stop_reason"].is_null(), "{out}");
    assert!(actions(&out).is_empty(), "{out}");

    // Committed, the answer lost: the room ended, with its one entry.
    faults.arm(Fault::Unanswered);
    let (status, out) = w.call(AdminStopRoom::ENDPOINT, &chief, stop.clone()).await;
    assert_eq!(faults.injected(), 2, "{status} {out}");
    let out = view(stopped.clone()).await;
    assert_eq!(out["room"]["status"], 2, "{out}");
    assert_eq!(out["room"]["stop_reason"], "prohibited content");
    assert_eq!(actions(&out), ["room.stop"]);
    // The caller's retry finds it ended: answered as it is, no second entry.
    let again = w.ok(AdminStopRoom::ENDPOINT, &chief, stop).await;
    assert_eq!(again["status"], 2);
    assert_eq!(actions(&view(stopped).await), ["room.stop"]);

    // The operator's kick and the anchor's, each way.
    let operator_kick = |user: &str| json!({"id": kicked_in, "user_id": user, "ban_seconds": 3600, "reason": "abuse"});
    faults.arm(Fault::Unsent);
    let (status, _) = w
        .call(AdminKick::ENDPOINT, &chief, operator_kick("bob"))
        .await;
    assert!(status >= 500);
    faults.arm(Fault::Unsent);
    let (status, _) = w
        .call(
            moderation::Kick::ENDPOINT,
            &anchor,
            json!({"id": kicked_in, "user_id": "carl", "ban_seconds": 60}),
        )
        .await;
    assert!(status >= 500);
    assert_eq!(faults.injected(), 4);
    let out = view(kicked_in.clone()).await;
    assert_eq!(out["bans"], json!([]), "{out}");
    assert!(actions(&out).is_empty(), "{out}");
    assert_eq!(out["members"].as_array().unwrap().len(), 2, "{out}");

    faults.arm(Fault::Unanswered);
    w.call(AdminKick::ENDPOINT, &chief, operator_kick("bob"))
        .await;
    faults.arm(Fault::Unanswered);
    w.call(
        moderation::Kick::ENDPOINT,
        &anchor,
        json!({"id": kicked_in, "user_id": "carl", "ban_seconds": 60}),
    )
    .await;
    assert_eq!(faults.injected(), 6);
    let out = view(kicked_in).await;
    let banned: Vec<&str> = out["bans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(banned, ["bob", "carl"], "{out}");
    assert_eq!(actions(&out), ["room.kick", "room.kick"], "{out}");
    assert_eq!(out["members"], json!([]), "{out}");
}

/// A key dies with its maker's standing: an admin demoted or disabled loses the keys it made
/// (at once, in the same write); a key never changes its maker's account; no stored admin
/// disables an account of `ADMIN_USERS` (the way back in).
async fn a_key_is_worth_no_more_than_its_maker_and_the_break_glass_admins_stay(w: World) {
    let chief = w.token("chief").await;
    let (erin, hank, ivy) = (
        w.token("erin").await,
        w.token("hank").await,
        w.token("ivy").await,
    );
    for who in ["erin", "hank", "ivy"] {
        w.ok(
            AdminSetRoles::ENDPOINT,
            &chief,
            json!({"user_id": who, "roles": ["admin"]}),
        )
        .await;
    }
    let all = [
        "rooms:read",
        "rooms:write",
        "users:read",
        "users:write",
        "audit:read",
    ];
    let (erin_key_id, erin_key) = w.key(&erin, &all).await;
    let (_, hank_key) = w.key(&hank, &all).await;
    let (_, ivy_key) = w.key(&ivy, &all).await;
    // A key does not change its maker's account, whatever its scopes.
    for (endpoint, body) in [
        (
            AdminDisableUser::ENDPOINT,
            json!({"user_id": "erin", "reason": "r"}),
        ),
        (AdminEnableUser::ENDPOINT, json!({"user_id": "erin"})),
    ] {
        let (status, out) = w.call(endpoint, &erin_key, body).await;
        assert_eq!(status, 403, "{out}");
    }
    // No stored admin disables an account of ADMIN_USERS, nor does a key.
    for token in [&hank, &hank_key] {
        let (status, out) = w
            .call(
                AdminDisableUser::ENDPOINT,
                token,
                json!({"user_id": "chief", "reason": "coup"}),
            )
            .await;
        assert_eq!(status, 403, "{out}");
    }
    w.ok(AdminWhoami::ENDPOINT, &chief, json!({})).await;

    // Demoted: erin's key is revoked with the change, and says so in its entry.
    w.ok(
        AdminSetRoles::ENDPOINT,
        &chief,
        json!({"user_id": "erin", "roles": []}),
    )
    .await;
    let (status, out) = w.call(AdminWhoami::ENDPOINT, &erin_key, json!({})).await;
    assert_eq!(status, 401, "{out}");
    let entries = w
        .audit(&chief, json!({"action": "user.roles", "limit": 1}))
        .await;
    assert_eq!(entries[0]["details"]["keys_revoked"], json!([erin_key_id]));
    // Disabled: hank's key too; enabled again, the key stays revoked.
    w.ok(
        AdminDisableUser::ENDPOINT,
        &chief,
        json!({"user_id": "hank", "reason": "rogue"}),
    )
    .await;
    let (status, _) = w
        .call(
            AdminEnableUser::ENDPOINT,
            &hank_key,
            json!({"user_id": "hank"}),
        )
        .await;
    assert_eq!(status, 401);
    w.ok(
        AdminEnableUser::ENDPOINT,
        &chief,
        json!({"user_id": "hank"}),
    )
    .await;
    let (status, _) = w.call(AdminWhoami::ENDPOINT, &hank_key, json!({})).await;
    assert_eq!(status, 401);
    // Another admin's key is untouched.
    w.ok(AdminWhoami::ENDPOINT, &ivy_key, json!({})).await;
    let keys = w.ok(AdminKeys::ENDPOINT, &chief, json!({})).await;
    let revoked = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["revoked_at"].is_string())
        .count();
    assert_eq!(revoked, 2, "{keys}");
}

/// What a reviewer tried: a page token with a multi-byte character where digits go, a window
/// that ends before it starts, a token below the window; text that hides itself (bidi
/// overrides, zero-width, line separators); a scope named twice.
async fn crafted_filters_tokens_and_text_are_refused_or_read_as_empty(w: World) {
    let chief = w.token("chief").await;
    let anchor = w.token("anna").await;
    let room = w.room(&anchor).await;
    w.ok(
        AdminStopRoom::ENDPOINT,
        &chief,
        json!({"id": room, "reason": "r"}),
    )
    .await;
    for token in ["000000000000\u{e9}1234567", "0000000000000abcdefgé", "１２"] {
        let (status, out) = w
            .call(AdminAudit::ENDPOINT, &chief, json!({"next_token": token}))
            .await;
        assert_eq!(status, 400, "{token}: {out}");
    }
    for body in [
        json!({"since": "2030-01-01T00:00:00Z", "until": "2020-01-01T00:00:00Z"}),
        json!({"since": "2030-01-01T00:00:00Z", "next_token": "000000000000100000000"}),
        json!({"until": "2020-01-01T00:00:00Z", "next_token": "999999999999900000000"}),
    ] {
        let out = w.ok(AdminAudit::ENDPOINT, &chief, body.clone()).await;
        assert_eq!(out["entries"], json!([]), "{body}: {out}");
    }
    // A token above the window reads the window from its top.
    let out = w
        .ok(
            AdminAudit::ENDPOINT,
            &chief,
            json!({"until": "2100-01-01T00:00:00Z", "next_token": "999999999999900000000"}),
        )
        .await;
    assert_eq!(out["entries"].as_array().unwrap().len(), 1, "{out}");
    for hidden in [
        "a\u{202e}b",
        "a\u{200b}b",
        "a\u{2028}b",
        "\u{feff}x",
        "a\u{2066}b",
    ] {
        let (status, out) = w
            .call(
                AdminKick::ENDPOINT,
                &chief,
                json!({"id": room, "user_id": "bob", "reason": hidden}),
            )
            .await;
        assert_eq!(status, 400, "{hidden:?}: {out}");
        let (status, out) = w
            .call(
                AdminCreateKey::ENDPOINT,
                &chief,
                json!({"name": hidden, "scopes": ["rooms:read"]}),
            )
            .await;
        assert_eq!(status, 400, "{hidden:?}: {out}");
    }
    // Text in other scripts is fine.
    w.ok(
        AdminCreateKey::ENDPOINT,
        &chief,
        json!({"name": "内容审核 robot é", "scopes": ["rooms:read"]}),
    )
    .await;
    let (status, out) = w
        .call(
            AdminCreateKey::ENDPOINT,
            &chief,
            json!({"name": "n", "scopes": ["rooms:read", "rooms:read"]}),
        )
        .await;
    assert_eq!(status, 400, "{out}");
}
