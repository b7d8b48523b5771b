//! Moderation through the handlers, on both stores, with a manual clock: kick (with its ban,
//! which ends by itself, and the race with the member's own keepalives) and mute.

use liveroom::endpoint::Handler;
use liveroom::{meeting, moderation, presence, rooms, vendor_tokens};
use std::sync::Arc;

use liveroom::domain::UserId;
use serde_json::{Value, json};

use crate::common::call;

use crate::presence::{World, world};

impl World {
    async fn member(&self, name: &str) -> (String, String) {
        let (id, token) = self.named(UserId::parse("user", name).unwrap()).await;
        (id.to_string(), token)
    }

    /// The anchor sets the room's co-host list to `members`.
    async fn co_hosts(&self, anchor: &str, room: &str, members: &[&str]) {
        let members: Vec<Value> = members.iter().map(|m| json!({"user_id": m})).collect();
        let (status, out) = self
            .call(
                meeting::UpdateMeetingInfo::ENDPOINT,
                anchor,
                json!({"id": room, "members": members}),
            )
            .await;
        assert_eq!(status, 200, "{out}");
    }

    async fn mute(&self, token: &str, room: &str, user: &str, mute: bool) -> (u16, Value) {
        self.call(
            moderation::Mute::ENDPOINT,
            token,
            json!({"id": room, "user_id": user, "mute": mute}),
        )
        .await
    }

    async fn online(&self, token: &str, room: &str) -> Vec<String> {
        let mut all = Vec::new();
        let mut next = Value::Null;
        for _ in 0..64 {
            let (status, page) = self
                .call(
                    presence::Members::ENDPOINT,
                    token,
                    json!({"id": room, "limit": 100, "next_token": next}),
                )
                .await;
            assert_eq!(status, 200, "{page}");
            all.extend(
                page["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["user_id"].as_str().unwrap().to_owned()),
            );
            next = page["next_token"].clone();
            if next.is_null() {
                break;
            }
        }
        all.sort();
        all
    }
}

both_stores!(a_kicked_member_is_out_at_once_and_banned_until_the_ban_ends);
both_stores!(a_kicked_members_racing_keepalives_never_bring_them_back);
both_stores!(a_muted_co_host_reads_its_status_and_gets_only_subscribe_rights);

async fn a_kicked_member_is_out_at_once_and_banned_until_the_ban_ends(w: World) {
    let (_, anchor) = w.member("anchor").await;
    let (bob, bt) = w.member("bob").await;
    let (_, ct) = w.member("carol").await;
    let room = w.room(&anchor, 1).await;
    for token in [&anchor, &bt, &ct] {
        assert_eq!(
            w.call(presence::Join::ENDPOINT, token, json!({"id": room}))
                .await
                .0,
            200
        );
    }
    // Bob co-hosts.
    w.co_hosts(&anchor, &room, &["anchor", "bob"]).await;
    assert_eq!(w.online(&anchor, &room).await, ["anchor", "bob", "carol"]);

    // Only the anchor kicks; not themself; within the ban limits.
    let (status, err) = w
        .call(
            moderation::Kick::ENDPOINT,
            &ct,
            json!({"id": room, "user_id": "bob"}),
        )
        .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (403, Some("RoomNotOwner"))
    );
    let (status, err) = w
        .call(
            moderation::Kick::ENDPOINT,
            &anchor,
            json!({"id": room, "user_id": "anchor"}),
        )
        .await;
    assert_eq!((status, err["reason"].as_str()), (403, Some("Forbidden")));
    for body in [
        json!({"id": room, "user_id": "bob", "ban_seconds": 86_401}),
        json!({"id": room, "user_id": "bob", "ban_seconds": -1}),
        json!({"id": room, "user_id": "b o b"}),
    ] {
        assert_eq!(
            w.call(moderation::Kick::ENDPOINT, &anchor, body).await.0,
            400
        );
    }

    let (status, kicked) = w
        .call(
            moderation::Kick::ENDPOINT,
            &anchor,
            json!({"id": room, "user_id": "bob", "ban_seconds": 120}),
        )
        .await;
    assert_eq!(status, 200, "{kicked}");
    assert_eq!(kicked["removed_from_meeting"], true);
    // Out of presence and the co-host list at once.
    assert_eq!(w.online(&anchor, &room).await, ["anchor", "carol"]);
    let (_, meeting) = w
        .call(
            meeting::GetMeetingInfo::ENDPOINT,
            &anchor,
            json!({"id": room}),
        )
        .await;
    assert_eq!(meeting["members"].as_array().unwrap().len(), 1, "{meeting}");
    // (`get` counts online members when its snapshot is older than 5 s.)
    w.advance(6);
    let (_, info) = w
        .call(rooms::Get::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    assert_eq!(info["metrics"]["online_count"], 2, "{info}");

    // Banned: join, keepalive and rtcToken for this room are 403.
    w.advance(60);
    for endpoint in [
        presence::Join::ENDPOINT,
        presence::Keepalive::ENDPOINT,
        vendor_tokens::RtcToken::ENDPOINT,
    ] {
        let (status, err) = w.call(endpoint, &bt, json!({"id": room})).await;
        assert_eq!(
            (status, err["reason"].as_str()),
            (403, Some("RoomMemberBanned")),
            "{endpoint:?}: {err}"
        );
        assert!(err["details"]["banned_until"].is_string());
    }
    // Other rooms are not affected.
    let other = w.room(&anchor, 0).await;
    assert_eq!(
        w.call(presence::Join::ENDPOINT, &bt, json!({"id": other}))
            .await
            .0,
        200
    );

    // The ban ends by itself; the visit is a return, not a new visitor.
    w.advance(61);
    let (status, joined) = w
        .call(presence::Join::ENDPOINT, &bt, json!({"id": room}))
        .await;
    assert_eq!(status, 200, "{joined}");
    assert_eq!(joined["metrics"]["uv"], 3);
    assert!(w.online(&anchor, &room).await.contains(&bob));

    // A pre-emptive ban of someone never there, and a kick without a ban.
    let (dave, dt) = w.member("dave").await;
    assert_eq!(
        w.call(
            moderation::Kick::ENDPOINT,
            &anchor,
            json!({"id": room, "user_id": dave})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        w.call(presence::Join::ENDPOINT, &dt, json!({"id": room}))
            .await
            .0,
        403
    );
    w.advance(600);
    let (status, joined) = w
        .call(presence::Join::ENDPOINT, &dt, json!({"id": room}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        joined["metrics"]["uv"], 4,
        "the banned never-visitor counts once, on entry"
    );
    let (status, kicked) = w
        .call(
            moderation::Kick::ENDPOINT,
            &anchor,
            json!({"id": room, "user_id": bob, "ban_seconds": 0}),
        )
        .await;
    assert_eq!(
        (status, kicked["removed_from_meeting"].as_bool()),
        (200, Some(false))
    );
    let online = w.online(&anchor, &room).await;
    assert!(
        !online.contains(&bob) && online.contains(&dave),
        "{online:?}"
    );
    w.advance(1);
    assert_eq!(
        w.call(presence::Join::ENDPOINT, &bt, json!({"id": room}))
            .await
            .0,
        200
    );
    // Unknown rooms are 404.
    let (status, _) = w
        .call(
            moderation::Kick::ENDPOINT,
            &anchor,
            json!({"id": uuid::Uuid::new_v4().to_string(), "user_id": "bob"}),
        )
        .await;
    assert_eq!(status, 404);
}

async fn a_kicked_members_racing_keepalives_never_bring_them_back(w: World) {
    let (_, anchor) = w.member("anchor").await;
    let room = w.room(&anchor, 0).await;
    for round in 0..10 {
        let (name, token) = w.member(&format!("viewer{round}")).await;
        assert_eq!(
            w.call(presence::Join::ENDPOINT, &token, json!({"id": room}))
                .await
                .0,
            200
        );
        let keepalives: Vec<_> = (0..6)
            .map(|_| {
                let (app, token, room) = (Arc::clone(&w.app), token.clone(), room.clone());
                tokio::spawn(async move {
                    call(
                        &app,
                        presence::Keepalive::ENDPOINT,
                        &token,
                        json!({"id": room}),
                    )
                    .await
                    .0
                })
            })
            .collect();
        let kick = {
            let (app, anchor, room, name) = (
                Arc::clone(&w.app),
                anchor.clone(),
                room.clone(),
                name.clone(),
            );
            tokio::spawn(async move {
                call(
                    &app,
                    moderation::Kick::ENDPOINT,
                    &anchor,
                    json!({"id": room, "user_id": name}),
                )
                .await
                .0
            })
        };
        for k in keepalives {
            let status = k.await.unwrap();
            assert!(status == 200 || status == 403, "{status}");
        }
        assert_eq!(kick.await.unwrap(), 200);
        // Whatever the order, once the kick answered the member is out, and stays out.
        assert!(
            !w.online(&anchor, &room).await.contains(&name),
            "round {round}"
        );
        assert_eq!(
            w.call(presence::Keepalive::ENDPOINT, &token, json!({"id": room}))
                .await
                .0,
            403
        );
        assert!(
            !w.online(&anchor, &room).await.contains(&name),
            "round {round}"
        );
    }
    // Every viewer was kicked (the anchor never joined).
    w.advance(6);
    let (_, info) = w
        .call(rooms::Get::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    assert_eq!(info["metrics"]["online_count"], 0, "{info}");
}

async fn a_muted_co_host_reads_its_status_and_gets_only_subscribe_rights(w: World) {
    let (_, anchor) = w.member("anchor").await;
    let (_, bt) = w.member("bob").await;
    let (_, ct) = w.member("carol").await;
    let room = w.room(&anchor, 1).await;
    w.co_hosts(&anchor, &room, &["anchor", "bob"]).await;
    let grant = |token: String| {
        let (app, room) = (Arc::clone(&w.app), room.clone());
        async move {
            let (status, creds) = call(
                &app,
                vendor_tokens::RtcToken::ENDPOINT,
                &token,
                json!({"id": room}),
            )
            .await;
            assert_eq!(status, 200, "{creds}");
            creds["grant"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(grant(bt.clone()).await, "publish");

    // Only the anchor mutes, never themself.
    let (status, _) = w.mute(&ct, &room, "bob", true).await;
    assert_eq!(status, 403);
    let (status, _) = w.mute(&anchor, &room, "anchor", true).await;
    assert_eq!(status, 403);

    let (status, out) = w.mute(&anchor, &room, "bob", true).await;
    assert_eq!((status, out["mute"].as_bool()), (200, Some(true)));
    // Bob reads his status (seed 002: mute_source is an array of strings); others are unmuted.
    let (_, seen) = w.call(rooms::Get::ENDPOINT, &bt, json!({"id": room})).await;
    assert_eq!(
        seen["user_status"],
        json!({"mute": true, "mute_source": ["anchor"]})
    );
    let (_, seen) = w.call(rooms::Get::ENDPOINT, &ct, json!({"id": room})).await;
    assert_eq!(
        seen["user_status"],
        json!({"mute": false, "mute_source": []})
    );
    // New credentials: subscribe only, while still a co-host.
    assert_eq!(grant(bt.clone()).await, "subscribe");
    assert_eq!(grant(anchor.clone()).await, "publish");
    // A room update does not lose the mute (the update writes only the room's own fields).
    assert_eq!(
        w.call(
            rooms::Update::ENDPOINT,
            &anchor,
            json!({"id": room, "title": "renamed"})
        )
        .await
        .0,
        200
    );
    let (_, seen) = w.call(rooms::Get::ENDPOINT, &bt, json!({"id": room})).await;
    assert_eq!(seen["user_status"]["mute"], true);

    // Unmute: publish again. Repeating either is a no-op success.
    for _ in 0..2 {
        let (status, _) = w.mute(&anchor, &room, "bob", false).await;
        assert_eq!(status, 200);
    }
    assert_eq!(grant(bt.clone()).await, "publish");
    let (_, seen) = w.call(rooms::Get::ENDPOINT, &bt, json!({"id": room})).await;
    assert_eq!(seen["user_status"]["mute"], false);
    let (status, _) = w
        .call(
            moderation::Mute::ENDPOINT,
            &anchor,
            json!({"id": uuid::Uuid::new_v4().to_string(), "user_id": "bob", "mute": true}),
        )
        .await;
    assert_eq!(status, 404);
    w.advance(1);
}
