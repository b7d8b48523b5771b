//! Co-hosting through the handlers, on both stores: the rules, and the two races of the issue.

use liveroom::endpoint::Handler;
use liveroom::{meeting, rooms, vendor_tokens};
use std::collections::BTreeMap;
use std::sync::Arc;

use liveroom::App;
use liveroom::domain::UserId;
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::common::{TestStore, app, call, dynamodb, embedded};

async fn token(app: &App, user: &UserId) -> String {
    crate::common::user_token(app, user, 600).await
}

fn member(user: &UserId, camera: bool) -> Value {
    json!({"user_id": user, "user_nick": "n", "camera_opened": camera, "mic_opened": true})
}

async fn co_host_room(app: &App, anchor: &str) -> String {
    let (status, room) = call(
        app,
        rooms::Create::ENDPOINT,
        anchor,
        json!({"title": "co-host", "mode": 1}),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    room["id"].as_str().unwrap().to_owned()
}

async fn the_meeting_rules_hold(store: TestStore) {
    let app = app(&store);
    let (anchor, guest, outsider) = (UserId::generate(), UserId::generate(), UserId::generate());
    let (ta, tg, to) = (
        token(&app, &anchor).await,
        token(&app, &guest).await,
        token(&app, &outsider).await,
    );
    let room = co_host_room(&app, &ta).await;

    let (status, info) = call(
        &app,
        meeting::GetMeetingInfo::ENDPOINT,
        &to,
        json!({"id": room}),
    )
    .await;
    assert_eq!(
        (
            status,
            info["version"].as_u64(),
            info["members"].as_array().map(Vec::len)
        ),
        (200, Some(0), Some(0))
    );

    // The guest is no co-host yet: subscribe only.
    let (_, grant) = call(
        &app,
        vendor_tokens::RtcToken::ENDPOINT,
        &tg,
        json!({"id": room}),
    )
    .await;
    assert_eq!(grant["grant"], "subscribe");

    let list = json!([member(&anchor, true), member(&guest, false)]);
    let (status, info) = call(
        &app,
        meeting::UpdateMeetingInfo::ENDPOINT,
        &ta,
        json!({"id": room, "members": list, "version": 0}),
    )
    .await;
    assert_eq!((status, info["version"].as_u64()), (200, Some(1)), "{info}");
    let (_, grant) = call(
        &app,
        vendor_tokens::RtcToken::ENDPOINT,
        &tg,
        json!({"id": room}),
    )
    .await;
    assert_eq!(grant["grant"], "publish", "a co-host gets a publish grant");
    let (_, room_info) = call(&app, rooms::Get::ENDPOINT, &tg, json!({"id": room})).await;
    let listed: Value = serde_json::from_str(room_info["meeting_info"].as_str().unwrap()).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // A stale version loses.
    let (status, err) = call(
        &app,
        meeting::UpdateMeetingInfo::ENDPOINT,
        &ta,
        json!({"id": room, "members": [], "version": 0}),
    )
    .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (409, Some("RoomVersionConflict"))
    );

    // The co-host may flip its own camera, nothing else.
    let own = json!([member(&anchor, true), member(&guest, true)]);
    let (status, info) = call(
        &app,
        meeting::UpdateMeetingInfo::ENDPOINT,
        &tg,
        json!({"id": room, "members": own, "version": 1}),
    )
    .await;
    assert_eq!(
        (status, info["members"][1]["camera_opened"].as_bool()),
        (200, Some(true)),
        "{info}"
    );
    let others = json!([member(&anchor, false), member(&guest, true)]);
    let (status, err) = call(
        &app,
        meeting::UpdateMeetingInfo::ENDPOINT,
        &tg,
        json!({"id": room, "members": others, "version": 2}),
    )
    .await;
    assert_eq!((status, err["reason"].as_str()), (403, Some("Forbidden")));
    let (status, _) = call(
        &app,
        meeting::UpdateMeetingInfo::ENDPOINT,
        &tg,
        json!({"id": room, "members": [member(&guest, true)], "version": 2}),
    )
    .await;
    assert_eq!(status, 403, "a co-host may not remove the anchor");
    let (status, _) = call(
        &app,
        meeting::UpdateMeetingInfo::ENDPOINT,
        &to,
        json!({"id": room, "members": [member(&outsider, true)]}),
    )
    .await;
    assert_eq!(status, 403, "an outsider may not add itself");

    // Capacity (4, anchor included) and duplicates.
    let five: Vec<Value> = (0..5).map(|_| member(&UserId::generate(), true)).collect();
    let (status, err) = call(
        &app,
        meeting::UpdateMeetingInfo::ENDPOINT,
        &ta,
        json!({"id": room, "members": five}),
    )
    .await;
    assert_eq!((status, err["reason"].as_str()), (409, Some("RoomFull")));
    let twice = json!([member(&guest, true), member(&guest, false)]);
    let (status, _) = call(
        &app,
        meeting::UpdateMeetingInfo::ENDPOINT,
        &ta,
        json!({"id": room, "members": twice}),
    )
    .await;
    assert_eq!(status, 400);

    // Without a version (seed 002 clients) the anchor's write applies to the current list.
    let (status, info) = call(
        &app,
        meeting::UpdateMeetingInfo::ENDPOINT,
        &ta,
        json!({"id": room, "members": [member(&anchor, true)]}),
    )
    .await;
    assert_eq!((status, info["version"].as_u64()), (200, Some(3)));
    let (_, grant) = call(
        &app,
        vendor_tokens::RtcToken::ENDPOINT,
        &tg,
        json!({"id": room}),
    )
    .await;
    assert_eq!(
        grant["grant"], "subscribe",
        "a removed co-host is audience again"
    );

    // Normal rooms have no meeting list; ended rooms take no writes.
    let (_, normal) = call(&app, rooms::Create::ENDPOINT, &ta, json!({"title": "solo"})).await;
    for endpoint in [
        meeting::GetMeetingInfo::ENDPOINT,
        meeting::UpdateMeetingInfo::ENDPOINT,
    ] {
        let (status, err) = call(
            &app,
            endpoint,
            &ta,
            json!({"id": normal["id"], "members": []}),
        )
        .await;
        assert_eq!(
            (status, err["reason"].as_str()),
            (409, Some("RoomModeConflict"))
        );
    }
    call(&app, rooms::Stop::ENDPOINT, &ta, json!({"id": room})).await;
    let (status, err) = call(
        &app,
        meeting::UpdateMeetingInfo::ENDPOINT,
        &ta,
        json!({"id": room, "members": []}),
    )
    .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (409, Some("RoomStateConflict"))
    );
}

#[tokio::test]
async fn the_meeting_rules_hold_on_the_embedded_store() {
    the_meeting_rules_hold(embedded()).await;
}

#[tokio::test]
async fn the_meeting_rules_hold_on_dynamodb() {
    the_meeting_rules_hold(dynamodb().await).await;
}

/// 50 writers race from version 0: exactly one wins. Then 50 writers each read-modify-write
/// until they succeed: every version 2..=51 is won by exactly one of them, none is lost.
async fn fifty_versioned_writers(store: TestStore) {
    let app = Arc::new(app(&store));
    let anchor = UserId::generate();
    let ta = token(&app, &anchor).await;
    let room = co_host_room(&app, &ta).await;

    let barrier = Arc::new(Barrier::new(50));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (app, ta, room, barrier, anchor) = (
            Arc::clone(&app),
            ta.clone(),
            room.clone(),
            Arc::clone(&barrier),
            anchor.clone(),
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let list = json!([{"user_id": anchor, "user_nick": format!("w{i}")}]);
            call(
                &app,
                meeting::UpdateMeetingInfo::ENDPOINT,
                &ta,
                json!({"id": room, "members": list, "version": 0}),
            )
            .await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            200 => wins += 1,
            409 => assert_eq!(body["reason"], "RoomVersionConflict"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(wins, 1, "exactly one writer wins version 1");

    let barrier = Arc::new(Barrier::new(50));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (app, ta, room, barrier, anchor) = (
            Arc::clone(&app),
            ta.clone(),
            room.clone(),
            Arc::clone(&barrier),
            anchor.clone(),
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            loop {
                let (_, current) = call(
                    &app,
                    meeting::GetMeetingInfo::ENDPOINT,
                    &ta,
                    json!({"id": room}),
                )
                .await;
                let list = json!([{"user_id": anchor, "user_nick": format!("rmw{i}")}]);
                let body = json!({"id": room, "members": list, "version": current["version"]});
                let (status, info) =
                    call(&app, meeting::UpdateMeetingInfo::ENDPOINT, &ta, body).await;
                match status {
                    200 => return (i, info["version"].as_u64().unwrap()),
                    409 => continue,
                    other => panic!("{other}: {info}"),
                }
            }
        }));
    }
    let mut by_version = BTreeMap::new();
    for task in tasks {
        let (i, version) = task.await.unwrap();
        assert!(
            by_version.insert(version, i).is_none(),
            "version {version} won twice"
        );
    }
    assert_eq!(
        by_version.keys().copied().collect::<Vec<_>>(),
        (2..=51).collect::<Vec<u64>>()
    );
    let (_, last) = call(
        &app,
        meeting::GetMeetingInfo::ENDPOINT,
        &ta,
        json!({"id": room}),
    )
    .await;
    assert_eq!(last["version"], 51);
    assert_eq!(
        last["members"][0]["user_nick"],
        format!("rmw{}", by_version[&51]),
        "the last winner's list stands"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_versioned_meeting_writers_on_the_embedded_store() {
    fifty_versioned_writers(embedded()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn fifty_versioned_meeting_writers_on_dynamodb() {
    fifty_versioned_writers(dynamodb().await).await;
}

/// 20 users race to be added to a list of capacity 4: exactly 4 make it.
async fn twenty_users_race_for_four_seats(store: TestStore) {
    let app = Arc::new(app(&store));
    let anchor = UserId::generate();
    let ta = token(&app, &anchor).await;
    let room = co_host_room(&app, &ta).await;
    let barrier = Arc::new(Barrier::new(20));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, ta, room, barrier) = (
            Arc::clone(&app),
            ta.clone(),
            room.clone(),
            Arc::clone(&barrier),
        );
        tasks.push(tokio::spawn(async move {
            let me = UserId::generate();
            barrier.wait().await;
            loop {
                let (_, current) = call(
                    &app,
                    meeting::GetMeetingInfo::ENDPOINT,
                    &ta,
                    json!({"id": room}),
                )
                .await;
                let mut members = current["members"].as_array().unwrap().clone();
                members.push(member(&me, true));
                let body = json!({"id": room, "members": members, "version": current["version"]});
                let (status, info) =
                    call(&app, meeting::UpdateMeetingInfo::ENDPOINT, &ta, body).await;
                match (status, info["reason"].as_str()) {
                    (200, _) => return Some(me),
                    (409, Some("RoomFull")) => return None,
                    (409, Some("RoomVersionConflict")) => continue,
                    other => panic!("{other:?}: {info}"),
                }
            }
        }));
    }
    let mut seated = Vec::new();
    for task in tasks {
        seated.extend(task.await.unwrap());
    }
    assert_eq!(seated.len(), 4, "exactly 4 of 20 get a seat");
    let (_, last) = call(
        &app,
        meeting::GetMeetingInfo::ENDPOINT,
        &ta,
        json!({"id": room}),
    )
    .await;
    let mut listed: Vec<String> = last["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap().to_owned())
        .collect();
    let mut winners: Vec<String> = seated.iter().map(|u| u.to_string()).collect();
    listed.sort();
    winners.sort();
    assert_eq!(
        listed, winners,
        "the list holds exactly the 4 who succeeded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn twenty_users_race_for_four_seats_on_the_embedded_store() {
    twenty_users_race_for_four_seats(embedded()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn twenty_users_race_for_four_seats_on_dynamodb() {
    twenty_users_race_for_four_seats(dynamodb().await).await;
}
