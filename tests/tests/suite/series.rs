//! The sweeper's runs as the operators read them (issue 24): one sample per open room per run
//! and the run's stats, through the handlers and the sweeper with a manual clock, read back
//! through the store, on both stores; and what a run costs in DynamoDB calls.
//!
//! Never here: the store's own guarantees for samples and stats (the `contract` suite), or the
//! admin endpoints that answer with them.

use chrono::{DateTime, Utc};
use liveroom::domain::series::{SeriesWindow, Stats, series_time};
use liveroom::domain::{RoomId, UserId};
use liveroom::endpoint::Handler;
use liveroom::reclaim::sweep;
use liveroom::{presence, rooms};
use serde_json::json;

use crate::presence::{World, world};

both_stores!(each_run_samples_every_open_room_and_counts_them_by_state);

impl World {
    async fn series(&self, room: &str) -> Vec<liveroom::domain::series::Sample> {
        let id = RoomId::parse("id", room).unwrap();
        self.app
            .store
            .room_series(&id, SeriesWindow::default(), self.app.clock.now())
            .await
            .unwrap()
            .expect("the room exists")
    }
}

/// Rooms in each state, with members and likes: a run samples each open room (not the ended
/// one) as it read it and counts them by state; the next run (which pauses the live room whose
/// anchor fell silent) adds a second point to each and replaces the stats.
async fn each_run_samples_every_open_room_and_counts_them_by_state(w: World) {
    let (_, anchor) = w.named(UserId::generate()).await;
    let (_, alice) = w.named(UserId::generate()).await;
    let (_, bob) = w.named(UserId::generate()).await;

    // Prepared (never started), with Alice in it.
    let prepared = w.room(&anchor, 0).await;
    // Live, the anchor keeping alive, Bob in it liking it 5 times.
    let live = w.room(&anchor, 0).await;
    // Started, then paused by its anchor, with Alice in it.
    let paused = w.room(&anchor, 0).await;
    // Ended: no longer open.
    let ended = w.room(&anchor, 0).await;
    for room in [&live, &paused, &ended] {
        let (status, body) = w
            .call(rooms::Start::ENDPOINT, &anchor, json!({"id": room}))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = w
        .call(rooms::Pause::ENDPOINT, &anchor, json!({"id": paused}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = w
        .call(rooms::Stop::ENDPOINT, &anchor, json!({"id": ended}))
        .await;
    assert_eq!(status, 200, "{body}");
    for (token, room) in [(&alice, &prepared), (&alice, &paused), (&bob, &live)] {
        let (status, body) = w
            .call(presence::Join::ENDPOINT, token, json!({"id": room}))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = w
        .call(presence::Keepalive::ENDPOINT, &anchor, json!({"id": live}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = w
        .call(
            presence::Like::ENDPOINT,
            &bob,
            json!({"id": live, "count": 5}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    assert_eq!(w.app.store.stats().await.unwrap(), None, "no run yet");
    w.advance(5);
    let first: DateTime<Utc> = series_time(w.app.clock.now());
    let report = sweep(&w.app).await.unwrap();
    assert_eq!(report.samples_written, 3, "{report:?}");
    let online_live = w.series(&live).await[0].online_count;
    assert_eq!(
        w.app.store.stats().await.unwrap(),
        Some(Stats {
            rooms_prepared: 1,
            rooms_live: 1,
            rooms_paused: 1,
            // Alice twice (two rooms), Bob and the anchor in the live room.
            online_total: 2 + online_live,
            at: first,
        })
    );
    assert_eq!(online_live, 2, "Bob and the anchor");
    let point = w.series(&live).await;
    assert_eq!(point.len(), 1);
    assert_eq!(
        (point[0].at, point[0].like_count, point[0].pv, point[0].uv),
        // Bob's visit (the anchor's keepalive is no visit).
        (first, 5, 1, 1),
        "{point:?}"
    );
    for room in [&prepared, &paused] {
        let point = w.series(room).await;
        assert_eq!(point.len(), 1, "{point:?}");
        assert_eq!((point[0].at, point[0].online_count), (first, 1));
    }
    assert!(
        w.series(&ended).await.is_empty(),
        "an ended room is not sampled"
    );

    // 65 s on: Alice kept alive in the prepared room only; the live room's anchor is silent
    // past ANCHOR_TIMEOUT_SECONDS, so this run pauses it (and counts it paused).
    w.advance(50);
    let (status, body) = w
        .call(
            presence::Keepalive::ENDPOINT,
            &alice,
            json!({"id": prepared}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    w.advance(15);
    let second = series_time(w.app.clock.now());
    let report = sweep(&w.app).await.unwrap();
    assert_eq!(
        (report.rooms_paused, report.samples_written),
        (1, 3),
        "{report:?}"
    );
    assert_eq!(
        w.app.store.stats().await.unwrap(),
        Some(Stats {
            rooms_prepared: 1,
            rooms_live: 0,
            rooms_paused: 2,
            online_total: 1,
            at: second,
        })
    );
    let ats = |points: &[liveroom::domain::series::Sample]| {
        points
            .iter()
            .map(|p| (p.at, p.online_count))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ats(&w.series(&prepared).await),
        vec![(first, 1), (second, 1)]
    );
    assert_eq!(ats(&w.series(&paused).await), vec![(first, 1), (second, 0)]);
    let live_points = w.series(&live).await;
    assert_eq!(ats(&live_points), vec![(first, 2), (second, 0)]);
    assert_eq!(live_points[1].like_count, 5);

    // Each point is kept SERIES_RETENTION_DAYS (7) from its run, then no longer shown.
    let id = RoomId::parse("id", &prepared).unwrap();
    let shown_at = |t: DateTime<Utc>| {
        let (store, id) = (&w.app.store, &id);
        async move {
            let points = store
                .room_series(id, SeriesWindow::default(), t)
                .await
                .unwrap()
                .unwrap();
            points.iter().map(|p| p.at).collect::<Vec<_>>()
        }
    };
    let week = chrono::Duration::days(7);
    assert_eq!(
        shown_at(first + week - chrono::Duration::seconds(1)).await,
        vec![first, second]
    );
    assert_eq!(shown_at(first + week).await, vec![second]);
    assert_eq!(shown_at(second + week).await, Vec::<DateTime<Utc>>::new());
}

/// DynamoDB: a run's samples and stats are its only new kind of call, a `BatchWriteItem` per
/// 25 items (30 open rooms and the stats: 2), and it reads nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_writes_its_samples_25_to_a_batch_and_reads_nothing_more() {
    let (store, counter) = crate::common::counted_dynamodb().await;
    let w = world(store);
    let (_, anchor) = w.named(UserId::generate()).await;
    let (_, viewer) = w.named(UserId::generate()).await;
    for _ in 0..30 {
        let room = w.room(&anchor, 0).await;
        // Entered, so that the run does not end it as idle.
        let (status, body) = w
            .call(presence::Join::ENDPOINT, &viewer, json!({"id": room}))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    w.advance(5);
    counter.take();
    let report = sweep(&w.app).await.unwrap();
    assert_eq!(report.samples_written, 30, "{report:?}");
    let calls = counter.take();
    assert_eq!(calls.get("BatchWriteItem"), Some(&2), "{calls:?}");
    // What the run did before the samples: the status index, presence and counters, the
    // metrics snapshot. Nothing else.
    let kinds: Vec<&str> = calls.keys().map(String::as_str).collect();
    assert_eq!(
        kinds,
        ["BatchGetItem", "BatchWriteItem", "Query", "UpdateItem"],
        "{calls:?}"
    );
    assert_eq!(calls.get("BatchGetItem"), Some(&30), "{calls:?}");
}
