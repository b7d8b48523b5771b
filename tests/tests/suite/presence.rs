//! Presence, metrics and the sweeper through the handlers, on both stores, with time injected
//! (a manual clock: timeouts are tested without sleeping).

use liveroom::endpoint::Handler;
use liveroom::{presence, rooms};
use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use liveroom::App;
use liveroom::auth::TokenKind;
use liveroom::clock::ManualClock;
use liveroom::domain::{RoomId, UserId};
use liveroom::endpoint::Endpoint;
use liveroom::reclaim::sweep;
use serde_json::{Value, json};
use tokio::sync::Barrier;

use crate::common::{TestStore, call};

/// An app with a manual clock on one store (also the world of the `moderation` suite).
pub(crate) struct World {
    pub(crate) app: Arc<App>,
    clock: Arc<ManualClock>,
    _store: TestStore,
}

pub(crate) fn world(store: TestStore) -> World {
    let (app, clock) = crate::common::manual_app(&store);
    World {
        app,
        clock,
        _store: store,
    }
}

impl World {
    async fn user(&self) -> (UserId, String) {
        self.named(UserId::generate()).await
    }

    /// A user of that id (made to exist) and a token of theirs.
    pub(crate) async fn named(&self, id: UserId) -> (UserId, String) {
        crate::common::ensure_user(&*self.app.store, &id).await;
        // Long-lived, so that moving the clock never expires the tests' tokens.
        let token = self
            .app
            .tokens
            .issue(
                &id,
                TokenKind::Access,
                self.clock.now_for_tests(),
                std::time::Duration::from_secs(86_400 * 60),
            )
            .unwrap()
            .token;
        (id, token)
    }

    pub(crate) fn advance(&self, seconds: i64) {
        self.clock.advance(Duration::seconds(seconds));
    }

    pub(crate) async fn call(&self, endpoint: Endpoint, token: &str, body: Value) -> (u16, Value) {
        call(&self.app, endpoint, token, body).await
    }

    pub(crate) async fn room(&self, token: &str, mode: i64) -> String {
        let (status, room) = self
            .call(
                rooms::Create::ENDPOINT,
                token,
                json!({"title": "presence", "mode": mode}),
            )
            .await;
        assert_eq!(status, 200, "{room}");
        room["id"].as_str().unwrap().to_owned()
    }

    async fn status(&self, room: &str) -> Option<(i64, u64)> {
        let id = RoomId::parse("id", room).unwrap();
        self.app
            .store
            .room(&id)
            .await
            .unwrap()
            .map(|r| (r.status.as_i64(), r.version))
    }
}

trait NowForTests {
    fn now_for_tests(&self) -> DateTime<Utc>;
}

impl NowForTests for ManualClock {
    fn now_for_tests(&self) -> DateTime<Utc> {
        liveroom::Clock::now(self)
    }
}

fn ids(members: &Value) -> Vec<String> {
    members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap().to_owned())
        .collect()
}

impl World {
    /// Every online member, through as many `members` pages as it takes (one presence shard
    /// per page), sorted by id; the calls it took.
    async fn all_members(&self, token: &str, room: &str, limit: u64) -> (Vec<String>, usize) {
        let mut all = Vec::new();
        let mut next = Value::Null;
        for calls in 1..=200 {
            let (status, page) = self
                .call(
                    presence::Members::ENDPOINT,
                    token,
                    json!({"id": room, "limit": limit, "next_token": next}),
                )
                .await;
            assert_eq!(status, 200, "{page}");
            let members = page["members"].as_array().unwrap();
            let stamps: Vec<&str> = members
                .iter()
                .map(|m| m["last_seen"].as_str().unwrap())
                .collect();
            assert!(
                stamps.windows(2).all(|w| w[0] >= w[1]),
                "a page is newest activity first: {page}"
            );
            all.extend(ids(&page));
            next = page.get("next_token").cloned().unwrap_or(Value::Null);
            if next.is_null() {
                let unique: HashSet<&String> = all.iter().collect();
                assert_eq!(unique.len(), all.len(), "nobody twice: {all:?}");
                all.sort();
                return (all, calls);
            }
        }
        panic!("members never ended");
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

both_stores!(a_silent_member_drops_out_of_members_and_online_count);
both_stores!(members_page_newest_activity_first);
both_stores!(likes_joins_and_visitors_are_exact_under_concurrency);
both_stores!(the_channel_starts_when_the_first_member_enters_an_empty_room);
both_stores!(the_sweeper_reclaims_by_the_rules);
both_stores!(the_sweeper_never_undoes_a_racing_start);
both_stores!(get_shows_an_online_count_no_older_than_the_max_age);
both_stores!(a_hot_room_is_counted_once_per_period_however_many_read_it);
both_stores!(list_shows_metrics_no_older_than_one_sweep);
both_stores!(a_room_ended_by_stop_is_purged_after_retention);
both_stores!(a_delete_interrupted_half_way_is_finished_by_the_sweeper);

async fn a_silent_member_drops_out_of_members_and_online_count(w: World) {
    let (_, anchor) = w.user().await;
    let (a, ta) = w.user().await;
    let (b, tb) = w.user().await;
    let room = w.room(&anchor, 0).await;
    for t in [&ta, &tb] {
        let (status, info) = w
            .call(presence::Join::ENDPOINT, t, json!({"id": room}))
            .await;
        assert_eq!(status, 200, "{info}");
    }
    // The room's count is from its creation (this instant) until it is older than
    // METRICS_MAX_AGE_SECONDS (5 s): then `get` counts again.
    w.advance(6);
    let (_, info) = w
        .call(rooms::Get::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    assert_eq!(info["metrics"]["online_count"], 2);

    // A keeps alive every 10 s; B falls silent.
    w.advance(10);
    w.call(presence::Keepalive::ENDPOINT, &ta, json!({"id": room}))
        .await;
    w.advance(11);
    let (members, _) = w.all_members(&anchor, &room, 20).await;
    assert_eq!(members, vec![a.to_string()], "B is past the 20 s timeout");
    let (_, info) = w
        .call(rooms::Get::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    assert_eq!(info["metrics"]["online_count"], 1);

    // B comes back with a keepalive: online again, but no new visit.
    let (status, _) = w
        .call(presence::Keepalive::ENDPOINT, &tb, json!({"id": room}))
        .await;
    assert_eq!(status, 200);
    let (members, _) = w.all_members(&anchor, &room, 20).await;
    assert_eq!(members, sorted(vec![b.to_string(), a.to_string()]));
    let (_, info) = w
        .call(rooms::Get::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    assert_eq!(
        (
            info["metrics"]["pv"].as_u64(),
            info["metrics"]["uv"].as_u64()
        ),
        (Some(2), Some(2))
    );

    // Leaving is immediate.
    w.call(presence::Leave::ENDPOINT, &ta, json!({"id": room}))
        .await;
    let (members, _) = w.all_members(&anchor, &room, 20).await;
    assert_eq!(members, vec![b.to_string()]);
}

async fn members_page_newest_activity_first(w: World) {
    let (_, anchor) = w.user().await;
    let room = w.room(&anchor, 0).await;
    let mut joined = Vec::new();
    for _ in 0..5 {
        let (id, t) = w.user().await;
        w.call(presence::Join::ENDPOINT, &t, json!({"id": room}))
            .await;
        joined.push(id.to_string());
        w.advance(1);
    }
    // Pages of at most 2, each newest first, everyone once; only the shards the five were
    // ever in are read (at most 5 shards, so at most 3 pages each plus the end).
    let (seen, calls) = w.all_members(&anchor, &room, 2).await;
    assert_eq!(seen, sorted(joined.clone()));
    assert!(calls <= 5 * 3, "{calls} calls for 5 members");
    let (seen, calls) = w.all_members(&anchor, &room, 100).await;
    assert_eq!(seen, sorted(joined));
    assert!(calls <= 5, "{calls} calls for 5 members");
    let (status, err) = w
        .call(
            presence::Members::ENDPOINT,
            &anchor,
            json!({"id": room, "next_token": "not-a-token"}),
        )
        .await;
    assert_eq!(
        (status, err["reason"].as_str()),
        (400, Some("RoomQueryParams"))
    );
    let (status, _) = w
        .call(
            presence::Members::ENDPOINT,
            &anchor,
            json!({"id": room, "limit": 0}),
        )
        .await;
    assert_eq!(status, 400);
    // A room nobody entered has no members and no next page.
    let empty = w.room(&anchor, 0).await;
    let (status, page) = w
        .call(presence::Members::ENDPOINT, &anchor, json!({"id": empty}))
        .await;
    assert_eq!(
        (status, page["members"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    assert!(page.get("next_token").is_none(), "{page}");
}

async fn likes_joins_and_visitors_are_exact_under_concurrency(w: World) {
    let (_, anchor) = w.user().await;
    let room = w.room(&anchor, 0).await;
    let mut users: Vec<(UserId, String)> = Vec::with_capacity(100);
    for _ in 0..100 {
        users.push(w.user().await);
    }
    let barrier = Arc::new(Barrier::new(1200));
    let mut tasks = Vec::new();
    let mut expected_likes = 0u64;
    for i in 0..1200usize {
        let (app, room, barrier) = (Arc::clone(&w.app), room.clone(), Arc::clone(&barrier));
        let token = users[i % 100].1.clone();
        let (endpoint, body) = if i < 1000 {
            let count = (i % 7 + 1) as u64;
            expected_likes += count;
            (
                presence::Like::ENDPOINT,
                json!({"id": room, "count": count}),
            )
        } else {
            (presence::Join::ENDPOINT, json!({"id": room}))
        };
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            call(&app, endpoint, &token, body).await
        }));
    }
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    // 200 joins by 100 users (each joined twice, after 1000 likes from the same users). The
    // counters are exact at once; the online count once its snapshot is due (5 s).
    let (_, info) = w
        .call(rooms::Get::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    let m = &info["metrics"];
    assert_eq!(m["like_count"].as_u64(), Some(expected_likes));
    assert_eq!((m["pv"].as_u64(), m["uv"].as_u64()), (Some(200), Some(100)));
    w.advance(6);
    let (_, info) = w
        .call(rooms::Get::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    let m = &info["metrics"];
    assert_eq!(m["like_count"].as_u64(), Some(expected_likes));
    assert_eq!((m["pv"].as_u64(), m["uv"].as_u64()), (Some(200), Some(100)));
    assert_eq!(m["online_count"].as_u64(), Some(100));
    let (status, err) = w
        .call(
            presence::Like::ENDPOINT,
            &anchor,
            json!({"id": room, "count": 101}),
        )
        .await;
    assert_eq!(
        (status, err["details"]["field"].as_str()),
        (400, Some("count"))
    );
}

async fn the_channel_starts_when_the_first_member_enters_an_empty_room(w: World) {
    let (_, anchor) = w.user().await;
    let (_, ta) = w.user().await;
    let (_, tb) = w.user().await;
    let room = w.room(&anchor, 0).await;
    let (_, info) = w
        .call(rooms::Get::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    assert_eq!(info["channel_started_at"], "");

    w.advance(5);
    let (_, first) = w
        .call(presence::Join::ENDPOINT, &ta, json!({"id": room}))
        .await;
    let started = first["channel_started_at"].as_str().unwrap().to_owned();
    w.advance(5);
    let (_, second) = w
        .call(presence::Join::ENDPOINT, &tb, json!({"id": room}))
        .await;
    assert_eq!(
        second["channel_started_at"],
        started.as_str(),
        "the room was not empty"
    );

    // Everyone falls silent; once a count finds the room empty (a sweep, or a `get` whose
    // count is due), the channel has ended and the next member opens a new one.
    w.advance(60);
    let (_, info) = w
        .call(rooms::Get::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    assert!(info["channel_started_at"] == "" || info["metrics"]["online_count"] == 0);
    let (_, again) = w
        .call(presence::Join::ENDPOINT, &ta, json!({"id": room}))
        .await;
    let restarted = again["channel_started_at"].as_str().unwrap().to_owned();
    assert_ne!(restarted, started);
    // The same through the sweeper.
    w.advance(60);
    sweep(&w.app).await.unwrap();
    let (_, info) = w
        .call(rooms::Get::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    assert_eq!(info["channel_started_at"], "", "{info}");
    let (_, third) = w
        .call(presence::Join::ENDPOINT, &tb, json!({"id": room}))
        .await;
    assert_ne!(third["channel_started_at"], restarted.as_str());
    assert!(third["channel_started_at"].is_string());
}

async fn the_sweeper_reclaims_by_the_rules(w: World) {
    let (_, anchor) = w.user().await;
    let (_, viewer) = w.user().await;

    // An idle room (nobody entered) and a room someone entered.
    let idle = w.room(&anchor, 0).await;
    let entered = w.room(&anchor, 0).await;
    w.call(presence::Join::ENDPOINT, &viewer, json!({"id": entered}))
        .await;
    // A live room whose anchor keeps alive, and one whose anchor falls silent.
    let kept = w.room(&anchor, 0).await;
    let silent = w.room(&anchor, 0).await;
    for room in [&kept, &silent] {
        w.call(rooms::Start::ENDPOINT, &anchor, json!({"id": room}))
            .await;
        w.call(presence::Keepalive::ENDPOINT, &anchor, json!({"id": room}))
            .await;
    }

    w.advance(31);
    let report = sweep(&w.app).await.unwrap();
    assert_eq!(
        w.status(&idle).await,
        Some((2, 1)),
        "ended, not deleted: {report:?}"
    );
    assert_eq!(w.status(&entered).await, Some((0, 0)));
    // The viewer's presence, and the anchor's in the two rooms it kept alive at the start.
    assert_eq!(report.members_removed, 3, "{report:?}");
    assert_eq!(report.rooms_ended, 1);

    // 61 s of silence from the anchor of `silent`; `kept` got a keepalive 20 s ago.
    w.advance(10);
    w.call(presence::Keepalive::ENDPOINT, &anchor, json!({"id": kept}))
        .await;
    w.advance(20);
    let report = sweep(&w.app).await.unwrap();
    assert_eq!(w.status(&silent).await, Some((0, 2)), "paused: {report:?}");
    assert_eq!(w.status(&kept).await, Some((1, 1)));
    assert_eq!(report.rooms_paused, 1);

    // Ended rooms are kept for the retention period, then purged with everything under them.
    w.advance(29 * 86_400);
    sweep(&w.app).await.unwrap();
    assert!(w.status(&idle).await.is_some());
    w.advance(2 * 86_400);
    let report = sweep(&w.app).await.unwrap();
    assert_eq!(w.status(&idle).await, None, "{report:?}");
    assert_eq!(report.rooms_purged, 1);
}

/// An idle room is due to be ended; its anchor starts it at the same moment the sweep runs.
/// Whatever the order, a start that succeeded is never undone.
async fn the_sweeper_never_undoes_a_racing_start(w: World) {
    let (_, anchor) = w.user().await;
    let mut outcomes = HashSet::new();
    for _ in 0..10 {
        let room = w.room(&anchor, 0).await;
        w.advance(31);
        let app = Arc::clone(&w.app);
        let barrier = Arc::new(Barrier::new(2));
        let b = Arc::clone(&barrier);
        let sweeper = tokio::spawn(async move {
            b.wait().await;
            sweep(&app).await.unwrap()
        });
        let app = Arc::clone(&w.app);
        let (token, id) = (anchor.clone(), room.clone());
        let starter = tokio::spawn(async move {
            barrier.wait().await;
            call(&app, rooms::Start::ENDPOINT, &token, json!({"id": id})).await
        });
        let (_, (status, body)) = (sweeper.await.unwrap(), starter.await.unwrap());
        let (final_status, version) = w.status(&room).await.unwrap();
        match status {
            200 => assert_eq!(
                (final_status, version),
                (1, 1),
                "a successful start was undone: {body}"
            ),
            409 => assert_eq!((final_status, version), (2, 1), "{body}"),
            other => panic!("{other}: {body}"),
        }
        outcomes.insert(status);
        // Tidy: end it so the next round's sweep has only the new room to consider.
        call(&w.app, rooms::Stop::ENDPOINT, &anchor, json!({"id": room})).await;
    }
    eprintln!("racing start vs sweep outcomes seen: {outcomes:?}");
}

fn online_count(info: &Value) -> u64 {
    info["metrics"]["online_count"].as_u64().unwrap()
}

/// `get`'s online count is the count of a moment no more than METRICS_MAX_AGE_SECONDS (5 s)
/// before the call: a change shows within the period, never later.
async fn get_shows_an_online_count_no_older_than_the_max_age(w: World) {
    let (_, anchor) = w.user().await;
    let room = w.room(&anchor, 0).await;
    let get = || w.call(rooms::Get::ENDPOINT, &anchor, json!({"id": room}));
    // Counted at creation: 0. A join 1 s later may not show until the count is 5 s old...
    w.advance(1);
    let (_, t1) = w.user().await;
    w.call(presence::Join::ENDPOINT, &t1, json!({"id": room}))
        .await;
    w.advance(4);
    let (_, info) = get().await;
    assert!(online_count(&info) <= 1);
    // ...and must once it is older.
    w.advance(1);
    let (_, info) = get().await;
    assert_eq!(online_count(&info), 1, "{info}");
    // The same bound again, from this count on.
    let (_, t2) = w.user().await;
    w.call(presence::Join::ENDPOINT, &t2, json!({"id": room}))
        .await;
    w.advance(5);
    let (_, info) = get().await;
    assert!(matches!(online_count(&info), 1 | 2));
    w.advance(1);
    let (_, info) = get().await;
    assert_eq!(online_count(&info), 2, "{info}");
    // The likes, views and visitors beside it are exact at once.
    w.call(
        presence::Like::ENDPOINT,
        &t2,
        json!({"id": room, "count": 4}),
    )
    .await;
    let (_, info) = get().await;
    let m = &info["metrics"];
    assert_eq!(
        (m["like_count"].as_u64(), m["pv"].as_u64(), m["uv"].as_u64()),
        (Some(4), Some(2), Some(2))
    );
}

/// Fifty readers find a room's count due at once: it is counted once, and all fifty show
/// that count. Then, within the period, nobody counts again.
async fn a_hot_room_is_counted_once_per_period_however_many_read_it(w: World) {
    let (_, anchor) = w.user().await;
    let room = w.room(&anchor, 0).await;
    for _ in 0..3 {
        let (_, t) = w.user().await;
        w.call(presence::Join::ENDPOINT, &t, json!({"id": room}))
            .await;
    }
    w.advance(6);
    let counts = || {
        w.app
            .stats
            .online_recounts
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let before = counts();
    let barrier = Arc::new(Barrier::new(50));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (app, room, token, barrier) = (
            Arc::clone(&w.app),
            room.clone(),
            anchor.clone(),
            Arc::clone(&barrier),
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            call(&app, rooms::Get::ENDPOINT, &token, json!({"id": room})).await
        }));
    }
    for task in tasks {
        let (status, info) = task.await.unwrap();
        assert_eq!((status, online_count(&info)), (200, 3), "{info}");
    }
    assert_eq!(counts() - before, 1, "one count for fifty readers");
    w.advance(4);
    for _ in 0..5 {
        w.call(rooms::Get::ENDPOINT, &anchor, json!({"id": room}))
            .await;
    }
    assert_eq!(counts() - before, 1, "none within the period");
    w.advance(2);
    w.call(rooms::Get::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    assert_eq!(
        counts() - before,
        2,
        "the next period's first reader counts"
    );
}

/// `list` shows each room's metrics as of the last sweep (or the last count by `get`): never
/// more than one sweeper period old.
async fn list_shows_metrics_no_older_than_one_sweep(w: World) {
    let (_, anchor) = w.user().await;
    let room = w.room(&anchor, 0).await;
    let listed = || async {
        let (status, page) = w
            .call(
                rooms::List::ENDPOINT,
                &anchor,
                json!({"page_num": 1, "page_size": 100, "status": -1}),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        page.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == room.as_str())
            .cloned()
            .unwrap()
    };
    let (_, t1) = w.user().await;
    w.call(presence::Join::ENDPOINT, &t1, json!({"id": room}))
        .await;
    w.call(
        presence::Like::ENDPOINT,
        &t1,
        json!({"id": room, "count": 2}),
    )
    .await;
    sweep(&w.app).await.unwrap();
    let m = listed().await["metrics"].clone();
    assert_eq!(
        (
            m["online_count"].as_u64(),
            m["like_count"].as_u64(),
            m["pv"].as_u64()
        ),
        (Some(1), Some(2), Some(1))
    );
    // A second member: the list shows the old count until the next sweep, then the new.
    let (_, t2) = w.user().await;
    w.call(presence::Join::ENDPOINT, &t2, json!({"id": room}))
        .await;
    assert_eq!(listed().await["metrics"]["online_count"], 1);
    w.advance(5);
    sweep(&w.app).await.unwrap();
    let m = listed().await["metrics"].clone();
    assert_eq!(
        (m["online_count"].as_u64(), m["uv"].as_u64()),
        (Some(2), Some(2))
    );
}

/// A room the anchor stops is kept for the retention period, then purged like one the
/// sweeper ended.
async fn a_room_ended_by_stop_is_purged_after_retention(w: World) {
    let (_, anchor) = w.user().await;
    let (_, viewer) = w.user().await;
    let room = w.room(&anchor, 0).await;
    w.call(presence::Join::ENDPOINT, &viewer, json!({"id": room}))
        .await;
    w.call(rooms::Start::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    let (status, stopped) = w
        .call(rooms::Stop::ENDPOINT, &anchor, json!({"id": room}))
        .await;
    assert_eq!((status, stopped["status"].as_i64()), (200, Some(2)));
    let id = RoomId::parse("id", &room).unwrap();
    let expires = w.app.store.room(&id).await.unwrap().unwrap().expires_at;
    let stopped_at = liveroom::Clock::now(&*w.clock).timestamp();
    assert_eq!(
        expires,
        Some(stopped_at + 30 * 86_400),
        "purge time stamped at the stop"
    );
    w.advance(30 * 86_400 - 60);
    sweep(&w.app).await.unwrap();
    assert!(
        w.status(&room).await.is_some(),
        "kept for the retention period"
    );
    w.advance(120);
    let report = sweep(&w.app).await.unwrap();
    assert_eq!(report.rooms_purged, 1, "{report:?}");
    assert_eq!(w.status(&room).await, None);
    assert!(w.app.store.room_view(&id).await.unwrap().is_none());
}

/// A delete that marked the room and then failed (simulated: only the mark is written) has
/// deleted it for every reader; the sweeper removes the rest, and so would a retry.
async fn a_delete_interrupted_half_way_is_finished_by_the_sweeper(w: World) {
    let (anchor_id, anchor) = w.user().await;
    let (_, viewer) = w.user().await;
    let mut rooms = Vec::new();
    for _ in 0..2 {
        let room = w.room(&anchor, 0).await;
        w.call(presence::Join::ENDPOINT, &viewer, json!({"id": room}))
            .await;
        w.call(
            presence::Like::ENDPOINT,
            &viewer,
            json!({"id": room, "count": 3}),
        )
        .await;
        let id = RoomId::parse("id", &room).unwrap();
        let now = liveroom::Clock::now(&*w.clock);
        w.app
            .store
            .mark_deleted(&id, &anchor_id, now, now.timestamp() + 86_400, &[])
            .await
            .unwrap();
        rooms.push((room, id));
    }
    for (room, _) in &rooms {
        for endpoint in [
            rooms::Get::ENDPOINT,
            presence::Join::ENDPOINT,
            presence::Members::ENDPOINT,
            rooms::Start::ENDPOINT,
        ] {
            let (status, body) = w.call(endpoint, &anchor, json!({"id": room})).await;
            assert_eq!(status, 404, "{endpoint:?} on a deleted room: {body}");
        }
        let (_, page) = w
            .call(
                rooms::List::ENDPOINT,
                &anchor,
                json!({"page_num": 1, "page_size": 100, "status": -1}),
            )
            .await;
        assert!(
            page.as_array()
                .unwrap()
                .iter()
                .all(|r| r["id"] != room.as_str())
        );
    }
    // The anchor's retry finishes the first...
    let (status, body) = w
        .call(rooms::Delete::ENDPOINT, &anchor, json!({"id": rooms[0].0}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(w.app.store.room(&rooms[0].1).await.unwrap().is_none());
    // ...the sweeper the second.
    let report = sweep(&w.app).await.unwrap();
    assert_eq!(report.rooms_purged, 1, "{report:?}");
    assert!(w.app.store.room(&rooms[1].1).await.unwrap().is_none());
    assert!(w.app.store.room_view(&rooms[1].1).await.unwrap().is_none());
    let since = liveroom::Clock::now(&*w.clock) - Duration::seconds(60);
    assert_eq!(
        w.app.store.count_online(&rooms[1].1, since).await.unwrap(),
        0
    );
    // Once gone, a delete is 404.
    let (status, _) = w
        .call(rooms::Delete::ENDPOINT, &anchor, json!({"id": rooms[1].0}))
        .await;
    assert_eq!(status, 404);
}
