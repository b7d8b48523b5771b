//! Room listings and the caps on creating rooms (issue 21, item 2), through the handlers on
//! both stores, and what they cost on DynamoDB, counted call by call: every listing, whatever
//! its filters and whatever else the table holds (500 ended rooms here), is at most two
//! calls; `find` by ids is one; `deleteUser` reads no listing.

use liveroom::endpoint::Handler;
use liveroom::{accounts, rooms};
use std::sync::Arc;

use chrono::Duration;
use liveroom::clock::ManualClock;
use liveroom::domain::room::{MetricsSnapshot, Room, RoomQuery};
use liveroom::domain::{
    Category, Extends, ImageUrl, Nick, Notice, Page, RoomId, RoomMode, RoomStatus, Title, UserId,
};
use liveroom::endpoint::Endpoint;
use liveroom::{App, Config};
use serde_json::{Value, json};

use crate::common::{EVENTS_SECRET, TestStore, call, call_from, token_for};

struct World {
    app: Arc<App>,
    clock: Arc<ManualClock>,
    store: TestStore,
}

fn world(store: TestStore) -> World {
    world_with(store, &[])
}

/// A world whose configuration also has `vars`.
fn world_with(store: TestStore, vars: &[(&str, &str)]) -> World {
    let (_, clock) = crate::common::manual_app(&store);
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .chain([("JWT_PRIVATE_KEY".to_owned(), EVENTS_SECRET.to_owned())])
        .collect();
    let config = Config::from_lookup(|k| {
        vars.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
    })
    .expect("config");
    let app = Arc::new(App::new(config, Arc::clone(&store.store), clock.clone()));
    World { app, clock, store }
}

impl World {
    fn token(&self, user: &UserId) -> String {
        // Creating signs push URLs, so the caller's session must stand: the user exists.
        crate::common::ensure_user_now(&*self.app.store, user);
        token_for(&self.app, user, 3600)
    }

    async fn create(&self, user: &UserId, title: &str) -> (u16, Value, Option<String>) {
        call_from(
            &self.app,
            rooms::Create::ENDPOINT,
            &self.token(user),
            json!({"title": title}),
            "192.0.2.1",
        )
        .await
    }

    async fn created(&self, user: &UserId, title: &str) -> String {
        let (status, room, _) = self.create(user, title).await;
        assert_eq!(status, 200, "{room}");
        room["id"].as_str().unwrap().to_owned()
    }

    async fn call(&self, endpoint: Endpoint, user: &UserId, body: Value) -> (u16, Value) {
        call(&self.app, endpoint, &self.token(user), body).await
    }

    async fn open_rooms_of(&self, user: &UserId) -> usize {
        let (status, page) = self
            .call(
                rooms::List::ENDPOINT,
                user,
                json!({"page_num": 1, "page_size": 100, "anchor_id": user.as_str()}),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        page.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] != 2)
            .count()
    }
}

fn assert_room_limit(status: u16, body: &Value, limit: &str) {
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], 2017, "{body}");
    assert_eq!(body["reason"], "RoomLimit", "{body}");
    assert_eq!(body["details"]["limit"], limit, "{body}");
}

both_stores!(the_eleventh_open_room_is_refused_until_one_ends);
both_stores!(the_thirty_first_creation_in_a_minute_is_refused_until_the_next);
both_stores!(racing_creations_never_pass_the_open_room_cap);
both_stores!(delete_user_ends_the_rooms_it_made);

/// `MAX_OPEN_ROOMS_PER_USER` (default 10): the 11th room not ended is 429; a room that ends
/// (stopped) or goes (deleted) frees its slot; another user is not affected.
async fn the_eleventh_open_room_is_refused_until_one_ends(w: World) {
    let alice = UserId::generate();
    let mut rooms = Vec::new();
    for i in 0..10 {
        rooms.push(w.created(&alice, &format!("room {i}")).await);
        w.clock.advance(Duration::seconds(1));
    }
    let (status, body, _) = w.create(&alice, "one too many").await;
    assert_room_limit(status, &body, "MAX_OPEN_ROOMS_PER_USER");
    assert_eq!(w.open_rooms_of(&alice).await, 10);
    // Someone else creates as usual.
    w.created(&UserId::generate(), "bob's").await;
    // A stopped room frees a slot, once.
    let (status, out) = w
        .call(rooms::Stop::ENDPOINT, &alice, json!({"id": rooms[3]}))
        .await;
    assert_eq!(status, 200, "{out}");
    w.created(&alice, "after a stop").await;
    let (status, body, _) = w.create(&alice, "again too many").await;
    assert_room_limit(status, &body, "MAX_OPEN_ROOMS_PER_USER");
    // So does a deleted one.
    let (status, out) = w
        .call(rooms::Delete::ENDPOINT, &alice, json!({"id": rooms[5]}))
        .await;
    assert_eq!(status, 200, "{out}");
    w.created(&alice, "after a delete").await;
    let (status, body, _) = w.create(&alice, "still too many").await;
    assert_room_limit(status, &body, "MAX_OPEN_ROOMS_PER_USER");
    assert_eq!(w.open_rooms_of(&alice).await, 10);
}

/// `ROOM_CREATIONS_PER_USER_PER_MINUTE` (default 30): the 31st creation in a minute is 429
/// with `Retry-After` (even when its rooms ended at once); the next minute starts over.
async fn the_thirty_first_creation_in_a_minute_is_refused_until_the_next(w: World) {
    let alice = UserId::generate();
    // Minute-aligned, so that all 31 fall in one minute.
    let now = liveroom::Clock::now(&*w.clock).timestamp();
    w.clock.advance(Duration::seconds(60 - now.rem_euclid(60)));
    for i in 0..30 {
        let id = w.created(&alice, &format!("room {i}")).await;
        let (status, out) = w
            .call(rooms::Stop::ENDPOINT, &alice, json!({"id": id}))
            .await;
        assert_eq!(status, 200, "{out}");
    }
    w.clock.advance(Duration::seconds(50));
    let (status, body, retry_after) = w.create(&alice, "one too many").await;
    assert_room_limit(status, &body, "ROOM_CREATIONS_PER_USER_PER_MINUTE");
    assert_eq!(retry_after.as_deref(), Some("10"), "{body}");
    w.created(&UserId::generate(), "bob's").await;
    w.clock.advance(Duration::seconds(10));
    w.created(&alice, "next minute").await;
}

/// Thirty creations at once by one user: exactly `MAX_OPEN_ROOMS_PER_USER` of them make a
/// room, every other one is 429, and the user has that many rooms.
async fn racing_creations_never_pass_the_open_room_cap(w: World) {
    let w = Arc::new(w);
    let alice = UserId::generate();
    let racers: Vec<_> = (0..30)
        .map(|i| {
            let w = Arc::clone(&w);
            let alice = alice.clone();
            tokio::spawn(async move { w.create(&alice, &format!("racer {i}")).await })
        })
        .collect();
    let mut made = 0;
    for racer in racers {
        let (status, body, _) = racer.await.unwrap();
        match status {
            200 => made += 1,
            _ => assert_room_limit(status, &body, "MAX_OPEN_ROOMS_PER_USER"),
        }
    }
    assert_eq!(made, 10);
    assert_eq!(w.open_rooms_of(&alice).await, 10);
}

/// `deleteUser` ends the rooms the user made that had not ended (those it knows of without a
/// listing), and only those.
async fn delete_user_ends_the_rooms_it_made(w: World) {
    let (status, user) = call(
        &w.app,
        accounts::Register::ENDPOINT,
        "",
        json!({"username": "closing", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(status, 200, "{user}");
    let id = UserId::parse("user_id", user["id"].as_str().unwrap()).unwrap();
    let rooms = [
        w.created(&id, "one").await,
        w.created(&id, "two").await,
        w.created(&id, "three").await,
    ];
    let (status, out) = w
        .call(rooms::Stop::ENDPOINT, &id, json!({"id": rooms[0]}))
        .await;
    assert_eq!(status, 200, "{out}");
    let other = w.created(&UserId::generate(), "someone else's").await;
    let (status, out) = w.call(accounts::DeleteUser::ENDPOINT, &id, json!({})).await;
    assert_eq!(
        (status, out["rooms_ended"].as_u64()),
        (200, Some(2)),
        "{out}"
    );
    // Read by someone else (the closed account's tokens name nobody now).
    let viewer = UserId::generate();
    for room in rooms {
        let (status, got) = w
            .call(rooms::Get::ENDPOINT, &viewer, json!({"id": room}))
            .await;
        assert_eq!((status, got["status"].as_i64()), (200, Some(2)), "{got}");
    }
    let (status, got) = w
        .call(rooms::Get::ENDPOINT, &viewer, json!({"id": other}))
        .await;
    assert_eq!((status, got["status"].as_i64()), (200, Some(0)), "{got}");
}

// ---- DynamoDB calls, counted ------------------------------------------------------------

fn stored_room(anchor: &UserId, category: &str, status: RoomStatus, at: i64) -> Room {
    let created_at = chrono::DateTime::from_timestamp(1_800_000_000 + at, 0).unwrap();
    Room {
        id: RoomId::generate(),
        anchor_id: anchor.clone(),
        anchor_nick: Nick::empty(),
        title: Title::parse("seeded").unwrap(),
        notice: Notice::empty(),
        cover_url: ImageUrl::empty(),
        extends: Extends::empty(),
        category: Category::parse(category).unwrap(),
        mode: RoomMode::Normal,
        status,
        version: 0,
        created_at,
        updated_at: created_at,
        started_at: None,
        stopped_at: (status == RoomStatus::Ended).then_some(created_at),
        meeting: Default::default(),
        anchor_seen_at: None,
        channel_started_at: None,
        expires_at: None,
        metrics: MetricsSnapshot::default(),
        shards_used: 0,
        deleted_at: None,
        muted: Vec::new(),
        chat_ready: false,
        changes: 0,
        stopped: None,
        recording: None,
    }
}

/// Stores `rooms` (sixteen at a time: seeding, not measured).
async fn seed(store: &TestStore, rooms: Vec<Room>) {
    for chunk in rooms.chunks(16) {
        let puts: Vec<_> = chunk
            .iter()
            .cloned()
            .map(|r| {
                let store = Arc::clone(&store.store);
                tokio::spawn(async move { store.insert_room(&r, &[]).await })
            })
            .collect();
        for put in puts {
            put.await.unwrap().unwrap();
        }
    }
}

fn total(counts: &std::collections::BTreeMap<String, u64>) -> u64 {
    counts.values().sum()
}

/// 500 ended rooms of one anchor in one category, and three open rooms elsewhere: a listing
/// with any filters (none of which, but the unfiltered ones, matches the ended rooms) costs
/// at most two calls — the store's listing, `list` and seed 004's `query_room` (not ended).
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn every_listing_costs_at_most_two_calls_whatever_the_table_holds() {
    let (store, counter) = crate::common::counted_dynamodb().await;
    let (ended_anchor, open_anchor) = (UserId::generate(), UserId::generate());
    let mut rooms: Vec<Room> = (0..500)
        .map(|i| stored_room(&ended_anchor, "games", RoomStatus::Ended, i))
        .collect();
    rooms.push(stored_room(&open_anchor, "music", RoomStatus::Prepare, 600));
    rooms.push(stored_room(&open_anchor, "", RoomStatus::Live, 601));
    rooms.push(stored_room(&open_anchor, "music", RoomStatus::Live, 602));
    seed(&store, rooms).await;
    let w = world(store);
    counter.take();

    let mut worst = 0;
    let mut measured = 0;
    for status in [
        None,
        Some(RoomStatus::Prepare),
        Some(RoomStatus::Live),
        Some(RoomStatus::Ended),
    ] {
        for not_ended in [false, true] {
            for anchor in [None, Some(&ended_anchor), Some(&open_anchor)] {
                for category in [None, Some("games"), Some("music"), Some("nothing")] {
                    for window in [false, true] {
                        let query = RoomQuery {
                            status,
                            not_ended,
                            anchor: anchor.cloned(),
                            category: category.map(|c| Category::parse(c).unwrap()),
                            created_from: window.then(|| {
                                chrono::DateTime::from_timestamp(1_800_000_100, 0).unwrap()
                            }),
                            page: Page::parse(1, 10).unwrap(),
                            ..RoomQuery::default()
                        };
                        w.store.store.list_rooms(&query).await.unwrap();
                        let counts = counter.take();
                        assert!(
                            total(&counts) <= 2 && counts.keys().all(|op| op == "Query"),
                            "{query:?}: {counts:?}"
                        );
                        worst = worst.max(total(&counts));
                        measured += 1;
                    }
                }
            }
        }
    }
    assert_eq!(measured, 192);
    // Through the handlers: `list` by a category nothing open is in, and seed 004's
    // `query_room` (rooms not ended, by category and not).
    // The viewer's token made (and the viewer with it) before the counting.
    let viewer = w.token(&UserId::generate());
    counter.take();
    for body in [
        json!({"page_num": 1, "page_size": 10, "category": "nothing"}),
        json!({"page_num": 1, "page_size": 100, "category": "games", "status": 1}),
        json!({"page_num": 1, "page_size": 100, "anchor_id": ended_anchor.as_str(), "status": 0}),
    ] {
        let (status, page) = call(&w.app, rooms::List::ENDPOINT, &viewer, body.clone()).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page, json!([]), "{body}");
        let counts = counter.take();
        assert!(total(&counts) <= 2, "list {body}: {counts:?}");
    }
    for category in [Some("games"), Some("music"), None] {
        let query = RoomQuery {
            not_ended: true,
            category: category.map(|c| Category::parse(c).unwrap()),
            page: Page::parse(1, 10).unwrap(),
            ..RoomQuery::default()
        };
        let found = liveroom::rooms::find(&w.app, &query, &[]).await.unwrap();
        assert_eq!(
            found.len(),
            match category {
                Some("games") => 0,
                Some(_) => 2,
                None => 3,
            }
        );
        let counts = counter.take();
        assert!(total(&counts) <= 2, "query_room {category:?}: {counts:?}");
    }
    eprintln!("listings with 500 ended rooms: at most {worst} DynamoDB calls each");
}

/// Seed 004's `query_room` by `roomIds` (at most 100): one `BatchGetItem`.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn rooms_found_by_id_are_one_batch_read() {
    let (store, counter) = crate::common::counted_dynamodb().await;
    let anchor = UserId::generate();
    let rooms: Vec<Room> = (0..60)
        .map(|i| {
            let status = if i % 3 == 0 {
                RoomStatus::Ended
            } else {
                RoomStatus::Live
            };
            stored_room(&anchor, "games", status, i)
        })
        .collect();
    seed(&store, rooms.clone()).await;
    let w = world(store);
    let mut ids: Vec<RoomId> = rooms.iter().map(|r| r.id.clone()).collect();
    ids.extend((0..40).map(|_| RoomId::generate()));
    counter.take();
    let query = RoomQuery {
        not_ended: true,
        page: Page::parse(1, 100).unwrap(),
        ..RoomQuery::default()
    };
    let found = liveroom::rooms::find(&w.app, &query, &ids).await.unwrap();
    assert_eq!(found.len(), 40);
    assert!(
        found
            .windows(2)
            .all(|p| p[0].created_key() > p[1].created_key())
    );
    let counts = counter.take();
    assert_eq!(
        counts,
        [("BatchGetItem".to_owned(), 1)].into(),
        "{counts:?}"
    );
}

/// `deleteUser` of a user with 500 ended rooms and two open ones: no listing read, the two
/// ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn delete_user_reads_no_listing() {
    let (store, counter) = crate::common::counted_dynamodb().await;
    let w = world(store);
    let (status, user) = call(
        &w.app,
        accounts::Register::ENDPOINT,
        "",
        json!({"username": "closing", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(status, 200, "{user}");
    let id = UserId::parse("user_id", user["id"].as_str().unwrap()).unwrap();
    seed(
        &w.store,
        (0..500)
            .map(|i| stored_room(&id, "games", RoomStatus::Ended, i))
            .collect(),
    )
    .await;
    w.created(&id, "one").await;
    w.created(&id, "two").await;
    counter.take();
    let (status, out) = w.call(accounts::DeleteUser::ENDPOINT, &id, json!({})).await;
    assert_eq!(
        (status, out["rooms_ended"].as_u64()),
        (200, Some(2)),
        "{out}"
    );
    let counts = counter.take();
    assert!(!counts.contains_key("Query"), "{counts:?}");
    eprintln!("deleteUser with 2 open rooms and 500 ended: {counts:?}");
}
