//! The store contract: one set of tests, run unchanged on both stores.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use liveroom::domain::{
    Category, Extends, ImageUrl, Nick, Notice, Page, RoomId, RoomMode, RoomStatus, Title, UserId,
    Username,
};
use liveroom::meeting::{Meeting, Member};
use liveroom::store::{Expected, Guard, Mark, Room, RoomQuery, Store, StoreError, User};

use crate::common::TestStore;

/// Instantiates each contract test once per store.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod embedded_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let store = crate::common::embedded();
                    super::$name(&store).await;
                }
            )*
        }
        mod dynamodb_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let store = crate::common::dynamodb().await;
                    super::$name(&store).await;
                }
            )*
        }
    };
}

contract!(
    a_user_is_found_by_id_and_by_username,
    usernames_are_unique_without_regard_to_case,
    a_room_round_trips_exactly,
    a_room_id_cannot_be_inserted_twice,
    an_update_applies_only_at_the_expected_status_and_version,
    an_update_keeps_identity_and_clears_absent_times,
    concurrent_updates_from_one_version_have_exactly_one_winner,
    a_listing_is_newest_first_and_pages_are_disjoint,
    a_listing_filters_by_status_anchor_and_category,
    a_page_past_the_end_is_empty,
    delete_requires_the_anchor_and_removes_the_room,
    a_meeting_write_applies_only_at_its_version_and_never_to_an_ended_room,
    a_room_write_never_clobbers_the_meeting_list,
    presence_is_listed_newest_first_and_filtered_by_time,
    a_stale_presence_sweep_spares_a_fresh_keepalive,
    visits_count_every_join_and_each_user_once,
    marks_leave_the_version_alone_and_a_channel_starts_once,
    a_guarded_write_fails_once_its_guard_no_longer_holds,
    the_sweep_list_is_oldest_first_and_bounded_by_creation,
);

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn user(name: &str) -> User {
    User {
        id: UserId::generate(),
        username: Username::parse(name).unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        nick: Nick::parse("nick", name).unwrap(),
        avatar: ImageUrl::empty(),
        created_at: t0(),
    }
}

fn room(anchor: &UserId, created_at: DateTime<Utc>) -> Room {
    Room {
        id: RoomId::generate(),
        anchor_id: anchor.clone(),
        anchor_nick: Nick::parse("anchor_nick", "主播").unwrap(),
        title: Title::parse("a room").unwrap(),
        notice: Notice::parse("notice ✓").unwrap(),
        cover_url: ImageUrl::parse("cover_url", "https://cdn.example.com/c.png").unwrap(),
        extends: Extends::parse(r#"{"k":"v"}"#).unwrap(),
        category: Category::empty(),
        mode: RoomMode::CoHost,
        status: RoomStatus::Prepare,
        version: 0,
        created_at,
        updated_at: created_at,
        started_at: None,
        stopped_at: None,
        meeting: Meeting::default(),
        anchor_seen_at: None,
        channel_started_at: None,
        expires_at: None,
    }
}

fn query(page_num: i64, page_size: i64) -> RoomQuery {
    RoomQuery {
        status: None,
        anchor: None,
        category: None,
        page: Page::parse(page_num, page_size).unwrap(),
    }
}

fn next(room: &Room, status: RoomStatus) -> Room {
    let mut next = room.clone();
    next.status = status;
    next.version = room.version + 1;
    next.updated_at = room.updated_at + Duration::seconds(1);
    next
}

async fn a_user_is_found_by_id_and_by_username(s: &TestStore) {
    let alice = user("alice");
    s.store.insert_user(&alice).await.unwrap();
    assert_eq!(s.store.user(&alice.id).await.unwrap(), Some(alice.clone()));
    let by_name = s
        .store
        .user_by_username(&Username::parse("ALICE").unwrap())
        .await
        .unwrap();
    assert_eq!(by_name, Some(alice));
    assert_eq!(s.store.user(&UserId::generate()).await.unwrap(), None);
    let nobody = Username::parse("nobody").unwrap();
    assert_eq!(s.store.user_by_username(&nobody).await.unwrap(), None);
}

async fn usernames_are_unique_without_regard_to_case(s: &TestStore) {
    s.store.insert_user(&user("Bob")).await.unwrap();
    let second = user("bob");
    assert!(matches!(
        s.store.insert_user(&second).await,
        Err(StoreError::Conflict)
    ));
    // The loser left nothing behind.
    assert_eq!(s.store.user(&second.id).await.unwrap(), None);
}

async fn a_room_round_trips_exactly(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r).await.unwrap();
    assert_eq!(s.store.room(&r.id).await.unwrap(), Some(r));
    assert_eq!(s.store.room(&RoomId::generate()).await.unwrap(), None);
}

async fn a_room_id_cannot_be_inserted_twice(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r).await.unwrap();
    let mut again = r.clone();
    again.title = Title::parse("overwritten?").unwrap();
    assert!(matches!(
        s.store.insert_room(&again).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(s.store.room(&r.id).await.unwrap().unwrap().title, r.title);
}

async fn an_update_applies_only_at_the_expected_status_and_version(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r).await.unwrap();
    let live = next(&r, RoomStatus::Live);
    s.store
        .update_room(&live, Expected::from(&r))
        .await
        .unwrap();
    assert_eq!(s.store.room(&r.id).await.unwrap(), Some(live.clone()));

    // The same expectation again is stale now.
    let stale = next(&r, RoomStatus::Ended);
    assert!(matches!(
        s.store.update_room(&stale, Expected::from(&r)).await,
        Err(StoreError::Conflict)
    ));
    // Right version, wrong status.
    let wrong_status = Expected {
        status: RoomStatus::Prepare,
        version: live.version,
        guard: Guard::None,
    };
    assert!(matches!(
        s.store
            .update_room(&next(&live, RoomStatus::Ended), wrong_status)
            .await,
        Err(StoreError::Conflict)
    ));
    // A room that does not exist.
    let ghost = room(&UserId::generate(), t0());
    assert!(matches!(
        s.store
            .update_room(&next(&ghost, RoomStatus::Live), Expected::from(&ghost))
            .await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(s.store.room(&r.id).await.unwrap(), Some(live));
}

async fn an_update_keeps_identity_and_clears_absent_times(s: &TestStore) {
    let mut r = room(&UserId::generate(), t0());
    r.started_at = Some(t0());
    s.store.insert_room(&r).await.unwrap();
    let mut changed = next(&r, RoomStatus::Live);
    changed.started_at = None;
    changed.stopped_at = Some(t0() + Duration::seconds(5));
    changed.title = Title::parse("renamed").unwrap();
    // Identity fields in the update are ignored.
    changed.anchor_id = UserId::generate();
    s.store
        .update_room(&changed, Expected::from(&r))
        .await
        .unwrap();
    let stored = s.store.room(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.anchor_id, r.anchor_id);
    assert_eq!(stored.created_at, r.created_at);
    assert_eq!(stored.started_at, None);
    assert_eq!(stored.stopped_at, changed.stopped_at);
    assert_eq!(stored.title.as_str(), "renamed");
}

async fn concurrent_updates_from_one_version_have_exactly_one_winner(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store: Arc<dyn Store> = Arc::clone(&s.store);
        let r = r.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = next(&r, RoomStatus::Live);
            n.title = Title::parse(&format!("writer {i}")).unwrap();
            store.update_room(&n, Expected::from(&r)).await.map(|()| n)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(room) => winners.push(room),
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("unexpected store error: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer may win version 1");
    assert_eq!(s.store.room(&r.id).await.unwrap(), Some(winners.remove(0)));
}

async fn insert_rooms(s: &TestStore, anchor: &UserId, n: i64) -> Vec<Room> {
    let mut rooms = Vec::new();
    for i in 0..n {
        let r = room(anchor, t0() + Duration::seconds(i));
        s.store.insert_room(&r).await.unwrap();
        rooms.push(r);
    }
    rooms.reverse(); // newest first
    rooms
}

async fn a_listing_is_newest_first_and_pages_are_disjoint(s: &TestStore) {
    let rooms = insert_rooms(s, &UserId::generate(), 23).await;
    let mut seen = Vec::new();
    for page_num in 1..=3 {
        let page = s.store.list_rooms(&query(page_num, 10)).await.unwrap();
        assert_eq!(page.len(), if page_num < 3 { 10 } else { 3 });
        seen.extend(page);
    }
    let ids = |v: &[Room]| v.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&seen), ids(&rooms));
}

async fn a_listing_filters_by_status_anchor_and_category(s: &TestStore) {
    let (a, b) = (UserId::generate(), UserId::generate());
    let a_rooms = insert_rooms(s, &a, 6).await;
    let b_rooms = insert_rooms(s, &b, 4).await;
    // Two of a's rooms go live, one of b's.
    for r in [&a_rooms[0], &a_rooms[3], &b_rooms[1]] {
        s.store
            .update_room(&next(r, RoomStatus::Live), Expected::from(r))
            .await
            .unwrap();
    }
    let live = s
        .store
        .list_rooms(&RoomQuery {
            status: Some(RoomStatus::Live),
            ..query(1, 100)
        })
        .await
        .unwrap();
    assert_eq!(live.len(), 3);
    assert!(live.iter().all(|r| r.status == RoomStatus::Live));
    assert!(live.windows(2).all(|w| w[0].created_at >= w[1].created_at));

    let by_a = s
        .store
        .list_rooms(&RoomQuery {
            anchor: Some(a.clone()),
            ..query(1, 100)
        })
        .await
        .unwrap();
    assert_eq!(by_a.len(), 6);
    assert!(by_a.iter().all(|r| r.anchor_id == a));

    let a_live = s
        .store
        .list_rooms(&RoomQuery {
            anchor: Some(a.clone()),
            status: Some(RoomStatus::Live),
            ..query(1, 100)
        })
        .await
        .unwrap();
    let expected = vec![a_rooms[0].id.clone(), a_rooms[3].id.clone()];
    assert_eq!(
        a_live.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        expected
    );

    let mut games = room(&b, t0() + Duration::seconds(100));
    games.category = Category::parse("games").unwrap();
    s.store.insert_room(&games).await.unwrap();
    let only_games = s
        .store
        .list_rooms(&RoomQuery {
            category: Some(Category::parse("games").unwrap()),
            ..query(1, 100)
        })
        .await
        .unwrap();
    assert_eq!(only_games, vec![games]);
}

async fn a_page_past_the_end_is_empty(s: &TestStore) {
    insert_rooms(s, &UserId::generate(), 3).await;
    assert!(s.store.list_rooms(&query(2, 5)).await.unwrap().is_empty());
    assert_eq!(s.store.list_rooms(&query(1, 5)).await.unwrap().len(), 3);
}

async fn delete_requires_the_anchor_and_removes_the_room(s: &TestStore) {
    let anchor = UserId::generate();
    let rooms = insert_rooms(s, &anchor, 2).await;
    let target = &rooms[0];
    assert!(matches!(
        s.store.delete_room(&target.id, &UserId::generate()).await,
        Err(StoreError::Conflict)
    ));
    assert!(s.store.room(&target.id).await.unwrap().is_some());
    s.store.delete_room(&target.id, &anchor).await.unwrap();
    assert_eq!(s.store.room(&target.id).await.unwrap(), None);
    let left = s.store.list_rooms(&query(1, 10)).await.unwrap();
    assert_eq!(left, vec![rooms[1].clone()]);
    assert!(matches!(
        s.store.delete_room(&target.id, &anchor).await,
        Err(StoreError::Conflict)
    ));
}

fn meeting(version: u64, users: &[&UserId]) -> Meeting {
    Meeting {
        members: users
            .iter()
            .map(|u| Member {
                user_id: (*u).clone(),
                user_nick: Nick::parse("n", "co-host").unwrap(),
                user_avatar: ImageUrl::empty(),
                camera_opened: true,
                mic_opened: false,
            })
            .collect(),
        version,
    }
}

async fn a_meeting_write_applies_only_at_its_version_and_never_to_an_ended_room(s: &TestStore) {
    let anchor = UserId::generate();
    let r = room(&anchor, t0());
    s.store.insert_room(&r).await.unwrap();
    let guest = UserId::generate();
    let first = meeting(1, &[&anchor, &guest]);
    s.store.update_meeting(&r.id, &first, 0).await.unwrap();
    assert!(matches!(
        s.store
            .update_meeting(&r.id, &meeting(1, &[&anchor]), 0)
            .await,
        Err(StoreError::Conflict)
    ));
    let stored = s.store.room(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.meeting, first);
    assert!(stored.is_publisher(&guest), "a co-host may publish");
    assert!(!stored.is_publisher(&UserId::generate()));

    let ended = next(&stored, RoomStatus::Ended);
    s.store
        .update_room(&ended, Expected::from(&stored))
        .await
        .unwrap();
    assert!(matches!(
        s.store
            .update_meeting(&r.id, &meeting(2, &[&anchor]), 1)
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        s.store
            .update_meeting(&RoomId::generate(), &meeting(1, &[]), 0)
            .await,
        Err(StoreError::Conflict)
    ));
}

async fn a_room_write_never_clobbers_the_meeting_list(s: &TestStore) {
    let anchor = UserId::generate();
    let r = room(&anchor, t0());
    s.store.insert_room(&r).await.unwrap();
    // A life-cycle write based on a read from before the meeting changed.
    let stale_copy = r.clone();
    s.store
        .update_meeting(&r.id, &meeting(1, &[&anchor]), 0)
        .await
        .unwrap();
    s.store
        .update_room(
            &next(&stale_copy, RoomStatus::Live),
            Expected::from(&stale_copy),
        )
        .await
        .unwrap();
    let stored = s.store.room(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.status, RoomStatus::Live);
    assert_eq!(stored.meeting, meeting(1, &[&anchor]));
}

async fn presence_is_listed_newest_first_and_filtered_by_time(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r).await.unwrap();
    let users: Vec<UserId> = (0..4).map(|_| UserId::generate()).collect();
    for (i, u) in users.iter().enumerate() {
        s.store
            .touch_presence(&r.id, u, t0() + Duration::seconds(i as i64), true)
            .await
            .unwrap();
    }
    // Everyone seen after t0 + 1 s: users 2 and 3, newest first.
    let online = s
        .store
        .online_members(&r.id, t0() + Duration::seconds(1), 10, None)
        .await
        .unwrap();
    let ids: Vec<&UserId> = online.iter().map(|p| &p.user_id).collect();
    assert_eq!(ids, vec![&users[3], &users[2]]);
    assert_eq!(
        s.store
            .online_count(&r.id, t0() + Duration::seconds(1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.store
            .online_count(&r.id, t0() - Duration::seconds(1))
            .await
            .unwrap(),
        4
    );
    // A page after the first member of the listing.
    let rest = s
        .store
        .online_members(
            &r.id,
            t0() - Duration::seconds(1),
            10,
            Some(&online[0].activity_key()),
        )
        .await
        .unwrap();
    assert_eq!(rest.len(), 3);
    assert_eq!(rest[0].user_id, users[2]);
    // A keepalive moves a member to the front and keeps its join time.
    s.store
        .touch_presence(&r.id, &users[0], t0() + Duration::seconds(9), false)
        .await
        .unwrap();
    let first = &s.store.online_members(&r.id, t0(), 1, None).await.unwrap()[0];
    assert_eq!((&first.user_id, first.joined_at), (&users[0], t0()));
    s.store.remove_presence(&r.id, &users[0]).await.unwrap();
    assert_eq!(
        s.store
            .online_count(&r.id, t0() - Duration::seconds(1))
            .await
            .unwrap(),
        3
    );
}

async fn a_stale_presence_sweep_spares_a_fresh_keepalive(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r).await.unwrap();
    let (old, fresh) = (UserId::generate(), UserId::generate());
    s.store
        .touch_presence(&r.id, &old, t0(), true)
        .await
        .unwrap();
    s.store
        .touch_presence(&r.id, &fresh, t0(), true)
        .await
        .unwrap();
    s.store
        .touch_presence(&r.id, &fresh, t0() + Duration::seconds(30), false)
        .await
        .unwrap();
    let removed = s
        .store
        .remove_stale_presence(&r.id, t0() + Duration::seconds(20))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let left = s
        .store
        .online_members(&r.id, t0() - Duration::seconds(1), 10, None)
        .await
        .unwrap();
    assert_eq!(
        left.iter().map(|p| &p.user_id).collect::<Vec<_>>(),
        vec![&fresh]
    );
}

async fn visits_count_every_join_and_each_user_once(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r).await.unwrap();
    let (a, b) = (UserId::generate(), UserId::generate());
    for (u, visit) in [(&a, true), (&a, true), (&b, true), (&b, false)] {
        s.store.touch_presence(&r.id, u, t0(), visit).await.unwrap();
    }
    s.store.add_likes(&r.id, &a, 7).await.unwrap();
    s.store.add_likes(&r.id, &b, 5).await.unwrap();
    let c = s.store.counters(&r.id).await.unwrap();
    assert_eq!((c.pv, c.uv, c.likes), (3, 2, 12));
    assert_eq!(s.store.counters(&RoomId::generate()).await.unwrap().pv, 0);
}

async fn marks_leave_the_version_alone_and_a_channel_starts_once(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r).await.unwrap();
    assert!(
        s.store
            .mark_room(&r.id, Mark::AnchorSeen(t0() + Duration::seconds(3)))
            .await
            .unwrap()
    );
    let start = Mark::ChannelStarted {
        at: t0() + Duration::seconds(5),
        unless_after: t0(),
    };
    assert!(s.store.mark_room(&r.id, start).await.unwrap());
    let again = Mark::ChannelStarted {
        at: t0() + Duration::seconds(6),
        unless_after: t0() + Duration::seconds(1),
    };
    assert!(
        !s.store.mark_room(&r.id, again).await.unwrap(),
        "a racing first joiner loses"
    );
    let stored = s.store.room(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 0);
    assert_eq!(stored.anchor_seen_at, Some(t0() + Duration::seconds(3)));
    assert_eq!(stored.channel_started_at, Some(t0() + Duration::seconds(5)));
    assert!(
        !s.store
            .mark_room(&RoomId::generate(), Mark::AnchorSeen(t0()))
            .await
            .unwrap()
    );
}

async fn a_guarded_write_fails_once_its_guard_no_longer_holds(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r).await.unwrap();
    // The sweeper read "nobody entered"; a member joined before its write landed.
    let idle = Expected {
        guard: Guard::NeverEntered,
        ..Expected::from(&r)
    };
    let mark = Mark::ChannelStarted {
        at: t0() + Duration::seconds(1),
        unless_after: t0(),
    };
    s.store.mark_room(&r.id, mark).await.unwrap();
    assert!(matches!(
        s.store
            .update_room(&next(&r, RoomStatus::Ended), idle)
            .await,
        Err(StoreError::Conflict)
    ));
    // The sweeper read "anchor silent since t0 + 10 s"; a keepalive at t0 + 20 s came first.
    s.store
        .mark_room(&r.id, Mark::AnchorSeen(t0() + Duration::seconds(20)))
        .await
        .unwrap();
    let silent = Expected {
        guard: Guard::AnchorSilentSince(t0() + Duration::seconds(10)),
        ..Expected::from(&r)
    };
    assert!(matches!(
        s.store
            .update_room(&next(&r, RoomStatus::Live), silent)
            .await,
        Err(StoreError::Conflict)
    ));
    let still = Expected {
        guard: Guard::AnchorSilentSince(t0() + Duration::seconds(30)),
        ..Expected::from(&r)
    };
    s.store
        .update_room(&next(&r, RoomStatus::Live), still)
        .await
        .unwrap();
    assert_eq!(
        s.store.room(&r.id).await.unwrap().unwrap().status,
        RoomStatus::Live
    );
}

async fn the_sweep_list_is_oldest_first_and_bounded_by_creation(s: &TestStore) {
    let anchor = UserId::generate();
    let mut rooms = insert_rooms(s, &anchor, 3).await; // created t0, t0+1, t0+2
    rooms.reverse(); // oldest first
    let ended = next(&rooms[2], RoomStatus::Ended);
    s.store
        .update_room(&ended, Expected::from(&rooms[2]))
        .await
        .unwrap();
    let ids = |v: Vec<Room>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let prepare = s
        .store
        .rooms_with_status(RoomStatus::Prepare, None)
        .await
        .unwrap();
    assert_eq!(ids(prepare), vec![rooms[0].id.clone(), rooms[1].id.clone()]);
    let before = t0() + Duration::milliseconds(500);
    let early = s
        .store
        .rooms_with_status(RoomStatus::Prepare, Some(before))
        .await
        .unwrap();
    assert_eq!(ids(early), vec![rooms[0].id.clone()]);
    let none = s
        .store
        .rooms_with_status(RoomStatus::Ended, Some(before))
        .await
        .unwrap();
    assert!(
        none.is_empty(),
        "the ended room was created after the bound"
    );
    assert_eq!(
        s.store
            .rooms_with_status(RoomStatus::Ended, None)
            .await
            .unwrap()
            .len(),
        1
    );
}
