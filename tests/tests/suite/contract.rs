//! The store contract: one set of tests, run unchanged on both stores.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use liveroom::domain::meeting::{Meeting, Member};
use liveroom::domain::presence::{PRESENCE_SHARDS, Presence, Visit};
use liveroom::domain::recording::{RecordedFile, Recording, RecordingVendor, VodStatus};
use liveroom::domain::room::{Expected, Guard, Mark, MetricsSnapshot, Room, RoomQuery};
use liveroom::domain::user::User;
use liveroom::domain::{
    Category, Extends, ImageUrl, Nick, Notice, Page, RoomId, RoomMode, RoomStatus, Title, UserId,
    Username,
};
use liveroom::store::{RoomCaps, RoomTally, SessionGuard, Store, StoreError, Touch};

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
    a_user_s_operator_roles_and_disabled_state_round_trip,
    writes_held_to_a_session_guard_apply_only_while_it_holds,
    a_read_carries_the_caller_s_session,
    usernames_are_unique_without_regard_to_case,
    a_room_round_trips_exactly,
    a_room_id_cannot_be_inserted_twice,
    an_update_applies_only_at_the_expected_status_and_version,
    an_update_keeps_identity_and_clears_absent_times,
    concurrent_updates_from_one_version_have_exactly_one_winner,
    a_listing_is_newest_first_and_pages_are_disjoint,
    a_listing_filters_by_status_anchor_and_category,
    a_listing_keeps_a_creation_window_and_can_leave_out_ended_rooms,
    a_page_past_the_end_is_empty,
    delete_requires_the_anchor_and_hides_the_room_until_the_purge_removes_it,
    a_purge_interrupted_half_way_is_finished_by_the_next,
    a_meeting_write_applies_only_at_its_version_and_never_to_an_ended_room,
    a_room_write_never_clobbers_the_meeting_list,
    a_seat_is_replaced_only_while_its_holder_is_still_silent,
    reported_changes_of_one_room_commit_one_at_a_time,
    presence_is_listed_newest_first_and_filtered_by_time,
    a_stale_presence_sweep_spares_a_fresh_keepalive,
    visits_count_every_join_and_each_user_once,
    marks_leave_the_version_alone_and_a_channel_starts_once,
    a_guarded_write_fails_once_its_guard_no_longer_holds,
    the_sweep_list_is_oldest_first_and_bounded_by_creation,
    a_room_view_carries_the_exact_counters,
    a_metrics_refresh_is_claimed_once_per_snapshot,
    a_stored_snapshot_is_never_replaced_by_an_older_one,
    members_are_paged_by_shard,
    outbox_entries_are_written_with_their_change_or_not_at_all,
    every_filter_combination_lists_exactly_its_matches,
    rooms_are_read_by_id_in_one_batch,
    a_counted_room_keeps_its_anchor_under_the_caps,
    racing_counted_rooms_never_pass_the_caps,
    // The sweeper's runs (issue 24).
    a_room_series_reads_back_oldest_first_and_bounded,
    a_series_is_shown_only_while_its_room_exists,
    the_stats_are_the_last_run_s,
    expired_samples_are_not_returned,
    // The outbox's vendor calls and the audit webhook's feed (issue 24).
    a_vendor_call_leaves_with_its_audit_entry_once,
    the_audit_feed_reads_in_order_after_its_cursor_which_moves_once,
    // The operators' view of a room (issue 24).
    a_room_s_bans_are_listed_while_they_last_longest_first,
    // Recordings (issue 26).
    a_recording_is_written_at_its_revision_and_never_clobbered_by_a_room_write,
    only_ended_rooms_awaiting_their_recording_are_due_oldest_end_first,
);

fn recorded_file(id: &str, started_at: i64) -> RecordedFile {
    RecordedFile {
        vendor: RecordingVendor::Tencent,
        id: id.to_owned(),
        location: format!("https://vod.example.com/{id}.mp4"),
        format: "mp4".to_owned(),
        started_at,
        ended_at: started_at + 60,
        duration_ms: 60_000,
        size: 1_000_000,
        width: 1280,
        height: 720,
    }
}

async fn a_recording_is_written_at_its_revision_and_never_clobbered_by_a_room_write(s: &TestStore) {
    let anchor = UserId::generate();
    let unrecorded = room(&anchor, t0());
    s.store.insert_room(&unrecorded, &[]).await.unwrap();
    let one = Recording::awaited()
        .with_file(recorded_file("f1", 100))
        .unwrap();
    // A room not recorded takes no recording.
    assert!(matches!(
        s.store.update_recording(&unrecorded.id, &one, 0, &[]).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        s.store
            .room(&unrecorded.id)
            .await
            .unwrap()
            .unwrap()
            .recording,
        None
    );

    let r = Room {
        recording: Some(Recording::awaited()),
        ..room(&anchor, t0())
    };
    s.store.insert_room(&r, &[]).await.unwrap();
    assert_eq!(s.store.room(&r.id).await.unwrap().unwrap(), r);
    s.store.update_recording(&r.id, &one, 0, &[]).await.unwrap();
    // A second writer from the same revision loses.
    assert!(matches!(
        s.store
            .update_recording(&r.id, &Recording::awaited().failed().unwrap(), 0, &[])
            .await,
        Err(StoreError::Conflict)
    ));
    // A room write from a read before the recording changed leaves it alone.
    s.store
        .update_room(&next(&r, RoomStatus::Live), Expected::from(&r), &[])
        .await
        .unwrap();
    let stored = s.store.room(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.status, RoomStatus::Live);
    assert_eq!(stored.recording.as_ref(), Some(&one));
    // An earlier file arriving later goes first.
    let two = one.with_file(recorded_file("f0", 50)).unwrap();
    s.store.update_recording(&r.id, &two, 1, &[]).await.unwrap();
    let stored = s.store.room(&r.id).await.unwrap().unwrap();
    let recording = stored.recording.unwrap();
    assert_eq!(recording.status, VodStatus::Ready);
    // The first file to arrive names the recording.
    assert_eq!(recording.vod_id(), "f1");
    assert_eq!(recording.files[0].id, "f0");
    assert_eq!(recording.revision, 2);
    // A listing shows it as stored.
    let listed = s.store.list_rooms(&query(1, 100)).await.unwrap();
    let found = listed.iter().find(|x| x.id == r.id).unwrap();
    assert_eq!(found.recording.as_ref(), Some(&recording));
    // A room that does not exist takes none.
    assert!(matches!(
        s.store
            .update_recording(&RoomId::generate(), &one, 0, &[])
            .await,
        Err(StoreError::Conflict)
    ));
}

/// The sweeper's read of awaited recordings (issue 26): the ended rooms whose recording is
/// still awaited and that ended before the bound, oldest end first; a room leaves with the
/// write that ends its wait, or never enters (not ended, not recorded, ready already).
async fn only_ended_rooms_awaiting_their_recording_are_due_oldest_end_first(s: &TestStore) {
    let anchor = UserId::generate();
    let ended = |stopped: i64, recording: Option<Recording>| Room {
        status: RoomStatus::Ended,
        started_at: Some(t0()),
        stopped_at: Some(t0() + Duration::seconds(stopped)),
        recording,
        ..room(&anchor, t0())
    };
    let awaited = || Some(Recording::awaited());
    let (a, b, late) = (
        ended(20, awaited()),
        ended(10, awaited()),
        ended(500, awaited()),
    );
    let not_recorded = ended(5, None);
    let ready = ended(6, Recording::awaited().with_file(recorded_file("f", 1)));
    let live = Room {
        status: RoomStatus::Live,
        started_at: Some(t0()),
        recording: awaited(),
        ..room(&anchor, t0())
    };
    for r in [&a, &b, &late, &not_recorded, &ready, &live] {
        s.store.insert_room(r, &[]).await.unwrap();
    }
    let ours = |rooms: Vec<Room>| -> Vec<RoomId> {
        let mine = [&a, &b, &late, &not_recorded, &ready, &live].map(|r| r.id.clone());
        rooms
            .into_iter()
            .map(|r| r.id)
            .filter(|id| mine.contains(id))
            .collect()
    };
    let bound = t0() + Duration::seconds(100);
    let due = ours(s.store.rooms_awaiting_recording(bound).await.unwrap());
    assert_eq!(due, vec![b.id.clone(), a.id.clone()]);
    // The live room ends (a room write): due from then on.
    let mut stopped = next(&live, RoomStatus::Ended);
    stopped.stopped_at = Some(t0() + Duration::seconds(15));
    s.store
        .update_room(&stopped, Expected::from(&live), &[])
        .await
        .unwrap();
    let due = ours(s.store.rooms_awaiting_recording(bound).await.unwrap());
    assert_eq!(due, vec![b.id.clone(), live.id.clone(), a.id.clone()]);
    // Its recording fails, and b's file arrives: neither is due any more.
    let failed = Recording::awaited().failed().unwrap();
    s.store
        .update_recording(&live.id, &failed, 0, &[])
        .await
        .unwrap();
    let file = Recording::awaited()
        .with_file(recorded_file("g", 1))
        .unwrap();
    s.store
        .update_recording(&b.id, &file, 0, &[])
        .await
        .unwrap();
    let due = ours(s.store.rooms_awaiting_recording(bound).await.unwrap());
    assert_eq!(due, vec![a.id.clone()]);
    // A later bound takes the late one too.
    let later = t0() + Duration::seconds(1000);
    let due = ours(s.store.rooms_awaiting_recording(later).await.unwrap());
    assert_eq!(due, vec![a.id.clone(), late.id.clone()]);
}

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
        salt: None,
        sessions: 0,
        deleted_at: None,
        roles: Default::default(),
        disabled: None,
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

fn touch<'a>(room: &'a RoomId, user: &'a UserId, now: DateTime<Utc>) -> Touch<'a> {
    Touch {
        room,
        user,
        now,
        expires_at: now.timestamp() + 86_400,
        anchor: false,
        record_shard: false,
    }
}

/// Every member seen after `since`, over all shards, newest activity first.
async fn online(s: &TestStore, room: &RoomId, since: DateTime<Utc>) -> Vec<Presence> {
    let mut all = Vec::new();
    for shard in 0..PRESENCE_SHARDS {
        let mut before: Option<String> = None;
        loop {
            let page = s
                .store
                .members_page(room, shard, since, 2, before.as_deref())
                .await
                .unwrap();
            assert!(page.members.len() <= 2);
            before = page.members.last().map(|p| p.activity_key());
            all.extend(page.members);
            if !page.more_in_shard {
                break;
            }
        }
    }
    all.sort_by_key(|p| std::cmp::Reverse(p.activity_key()));
    all
}

fn query(page_num: i64, page_size: i64) -> RoomQuery {
    RoomQuery {
        page: Page::parse(page_num, page_size).unwrap(),
        ..RoomQuery::default()
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

/// Issue 24: roles and a disabled state are kept exactly, on both stores (none: as before).
async fn a_user_s_operator_roles_and_disabled_state_round_trip(s: &TestStore) {
    use liveroom::domain::operator::{Disabled, Reason, Role};
    let operator = User {
        roles: [Role::Moderator, Role::Auditor].into_iter().collect(),
        disabled: Some(Disabled {
            at: t0() + chrono::Duration::microseconds(1_234_567),
            reason: Reason::parse("reason", "spam, «again» — 3rd time").unwrap(),
        }),
        ..user("operator")
    };
    s.store.insert_user(&operator).await.unwrap();
    assert_eq!(
        s.store.user(&operator.id).await.unwrap(),
        Some(operator.clone())
    );
    let plain = user("plain");
    s.store.insert_user(&plain).await.unwrap();
    let found = s.store.user(&plain.id).await.unwrap().unwrap();
    assert!(found.roles.is_empty() && found.disabled.is_none());
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
    s.store.insert_room(&r, &[]).await.unwrap();
    assert_eq!(s.store.room(&r.id).await.unwrap(), Some(r));
    assert_eq!(s.store.room(&RoomId::generate()).await.unwrap(), None);
}

async fn a_room_id_cannot_be_inserted_twice(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let mut again = r.clone();
    again.title = Title::parse("overwritten?").unwrap();
    assert!(matches!(
        s.store.insert_room(&again, &[]).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(s.store.room(&r.id).await.unwrap().unwrap().title, r.title);
}

async fn an_update_applies_only_at_the_expected_status_and_version(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let live = next(&r, RoomStatus::Live);
    s.store
        .update_room(&live, Expected::from(&r), &[])
        .await
        .unwrap();
    assert_eq!(s.store.room(&r.id).await.unwrap(), Some(live.clone()));

    // The same expectation again is stale now.
    let stale = next(&r, RoomStatus::Ended);
    assert!(matches!(
        s.store.update_room(&stale, Expected::from(&r), &[]).await,
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
            .update_room(&next(&live, RoomStatus::Ended), wrong_status, &[])
            .await,
        Err(StoreError::Conflict)
    ));
    // A room that does not exist.
    let ghost = room(&UserId::generate(), t0());
    assert!(matches!(
        s.store
            .update_room(&next(&ghost, RoomStatus::Live), Expected::from(&ghost), &[])
            .await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(s.store.room(&r.id).await.unwrap(), Some(live));
}

async fn an_update_keeps_identity_and_clears_absent_times(s: &TestStore) {
    let mut r = room(&UserId::generate(), t0());
    r.started_at = Some(t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let mut changed = next(&r, RoomStatus::Live);
    changed.started_at = None;
    changed.stopped_at = Some(t0() + Duration::seconds(5));
    changed.title = Title::parse("renamed").unwrap();
    // Identity fields in the update are ignored.
    changed.anchor_id = UserId::generate();
    s.store
        .update_room(&changed, Expected::from(&r), &[])
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
    s.store.insert_room(&r, &[]).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store: Arc<dyn Store> = Arc::clone(&s.store);
        let r = r.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = next(&r, RoomStatus::Live);
            n.title = Title::parse(&format!("writer {i}")).unwrap();
            store
                .update_room(&n, Expected::from(&r), &[])
                .await
                .map(|()| n)
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
        s.store.insert_room(&r, &[]).await.unwrap();
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

async fn a_listing_keeps_a_creation_window_and_can_leave_out_ended_rooms(s: &TestStore) {
    // Rooms created at t0 + 0..10 s (newest first); the window [t0+3, t0+7) holds 4 of them.
    let rooms = insert_rooms(s, &UserId::generate(), 10).await;
    let windowed = RoomQuery {
        created_from: Some(t0() + Duration::seconds(3)),
        created_before: Some(t0() + Duration::seconds(7)),
        ..query(1, 100)
    };
    let ids = |v: &[Room]| v.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    let got = s.store.list_rooms(&windowed).await.unwrap();
    assert_eq!(ids(&got), ids(&rooms[3..7]));
    let from = RoomQuery {
        created_from: Some(t0() + Duration::seconds(8)),
        ..query(1, 100)
    };
    assert_eq!(
        ids(&s.store.list_rooms(&from).await.unwrap()),
        ids(&rooms[..2])
    );
    let before = RoomQuery {
        created_before: Some(t0() + Duration::seconds(2)),
        ..query(1, 100)
    };
    assert_eq!(
        ids(&s.store.list_rooms(&before).await.unwrap()),
        ids(&rooms[8..])
    );
    // Paging inside the window.
    let second = RoomQuery {
        page: liveroom::domain::Page::parse(2, 3).unwrap(),
        ..windowed.clone()
    };
    assert_eq!(
        ids(&s.store.list_rooms(&second).await.unwrap()),
        ids(&rooms[6..7])
    );
    // Two rooms end: `not_ended` leaves them out.
    for r in [&rooms[0], &rooms[4]] {
        s.store
            .update_room(&next(r, RoomStatus::Ended), Expected::from(r), &[])
            .await
            .unwrap();
    }
    let open = RoomQuery {
        not_ended: true,
        ..windowed
    };
    let expected: Vec<_> = [&rooms[3], &rooms[5], &rooms[6]]
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(ids(&s.store.list_rooms(&open).await.unwrap()), expected);
}

async fn a_listing_filters_by_status_anchor_and_category(s: &TestStore) {
    let (a, b) = (UserId::generate(), UserId::generate());
    let a_rooms = insert_rooms(s, &a, 6).await;
    let b_rooms = insert_rooms(s, &b, 4).await;
    // Two of a's rooms go live, one of b's.
    for r in [&a_rooms[0], &a_rooms[3], &b_rooms[1]] {
        s.store
            .update_room(&next(r, RoomStatus::Live), Expected::from(r), &[])
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
    s.store.insert_room(&games, &[]).await.unwrap();
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

async fn delete_requires_the_anchor_and_hides_the_room_until_the_purge_removes_it(s: &TestStore) {
    let anchor = UserId::generate();
    let rooms = insert_rooms(s, &anchor, 2).await;
    let target = &rooms[0];
    let later = t0() + Duration::seconds(60);
    assert!(matches!(
        s.store
            .mark_deleted(&target.id, &UserId::generate(), later, 1, &[])
            .await,
        Err(StoreError::Conflict)
    ));
    s.store
        .mark_deleted(&target.id, &anchor, later, 1_900_000_000, &[])
        .await
        .unwrap();
    // Marked: off every list, still readable (the handlers treat it as gone), on the
    // sweeper's list of deletions, and closed to every other write.
    let marked = s.store.room(&target.id).await.unwrap().unwrap();
    assert_eq!(marked.deleted_at, Some(later));
    assert_eq!(marked.expires_at, Some(1_900_000_000));
    let left = s.store.list_rooms(&query(1, 10)).await.unwrap();
    assert_eq!(left, vec![rooms[1].clone()]);
    let by_anchor = RoomQuery {
        anchor: Some(anchor.clone()),
        ..query(1, 10)
    };
    assert_eq!(s.store.list_rooms(&by_anchor).await.unwrap().len(), 1);
    let prepare = s
        .store
        .rooms_with_status(RoomStatus::Prepare, None)
        .await
        .unwrap();
    assert_eq!(prepare.len(), 1);
    let deleted = s.store.deleted_rooms().await.unwrap();
    assert_eq!(
        deleted.iter().map(|r| &r.id).collect::<Vec<_>>(),
        vec![&target.id]
    );
    assert!(matches!(
        s.store
            .update_room(&next(target, RoomStatus::Live), Expected::from(target), &[])
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        s.store
            .mark_deleted(&target.id, &anchor, later, 1, &[])
            .await,
        Err(StoreError::Conflict)
    ));
    s.store.purge_room(&target.id).await.unwrap();
    assert_eq!(s.store.room(&target.id).await.unwrap(), None);
    assert!(s.store.deleted_rooms().await.unwrap().is_empty());
    // A purge of what is gone is a no-op.
    s.store.purge_room(&target.id).await.unwrap();
}

async fn a_purge_interrupted_half_way_is_finished_by_the_next(s: &TestStore) {
    let anchor = UserId::generate();
    let r = room(&anchor, t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let users: Vec<UserId> = (0..40).map(|_| UserId::generate()).collect();
    for u in &users {
        s.store.join(touch(&r.id, u, t0())).await.unwrap();
        s.store.add_likes(&r.id, u, 1, 1).await.unwrap();
    }
    s.store
        .mark_deleted(&r.id, &anchor, t0(), 1, &[])
        .await
        .unwrap();
    // Two purges racing (a retried delete and a sweep) both finish without error.
    let (a, b) = tokio::join!(s.store.purge_room(&r.id), s.store.purge_room(&r.id));
    a.unwrap();
    b.unwrap();
    assert_eq!(s.store.room(&r.id).await.unwrap(), None);
    assert_eq!(s.store.room_view(&r.id).await.unwrap(), None);
    assert!(
        online(s, &r.id, t0() - Duration::seconds(1))
            .await
            .is_empty()
    );
    assert_eq!(
        s.store
            .count_online(&r.id, t0() - Duration::seconds(1))
            .await
            .unwrap(),
        0
    );
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
    s.store.insert_room(&r, &[]).await.unwrap();
    let guest = UserId::generate();
    let first = meeting(1, &[&anchor, &guest]);
    s.store.update_meeting(&r.id, &first, 0, &[]).await.unwrap();
    assert!(matches!(
        s.store
            .update_meeting(&r.id, &meeting(1, &[&anchor]), 0, &[])
            .await,
        Err(StoreError::Conflict)
    ));
    let stored = s.store.room(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.meeting, first);
    assert!(stored.is_publisher(&guest), "a co-host may publish");
    assert!(!stored.is_publisher(&UserId::generate()));

    let ended = next(&stored, RoomStatus::Ended);
    s.store
        .update_room(&ended, Expected::from(&stored), &[])
        .await
        .unwrap();
    assert!(matches!(
        s.store
            .update_meeting(&r.id, &meeting(2, &[&anchor]), 1, &[])
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        s.store
            .update_meeting(&RoomId::generate(), &meeting(1, &[]), 0, &[])
            .await,
        Err(StoreError::Conflict)
    ));
}

async fn a_room_write_never_clobbers_the_meeting_list(s: &TestStore) {
    let anchor = UserId::generate();
    let r = room(&anchor, t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    // A life-cycle write based on a read from before the meeting changed.
    let stale_copy = r.clone();
    s.store
        .update_meeting(&r.id, &meeting(1, &[&anchor]), 0, &[])
        .await
        .unwrap();
    s.store
        .update_room(
            &next(&stale_copy, RoomStatus::Live),
            Expected::from(&stale_copy),
            &[],
        )
        .await
        .unwrap();
    let stored = s.store.room(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.status, RoomStatus::Live);
    assert_eq!(stored.meeting, meeting(1, &[&anchor]));
}

async fn presence_is_listed_newest_first_and_filtered_by_time(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let users: Vec<UserId> = (0..4).map(|_| UserId::generate()).collect();
    for (i, u) in users.iter().enumerate() {
        s.store
            .join(touch(&r.id, u, t0() + Duration::seconds(i as i64)))
            .await
            .unwrap();
    }
    // Everyone seen after t0 + 1 s: users 2 and 3, newest first.
    let seen = online(s, &r.id, t0() + Duration::seconds(1)).await;
    let ids: Vec<&UserId> = seen.iter().map(|p| &p.user_id).collect();
    assert_eq!(ids, vec![&users[3], &users[2]]);
    assert_eq!(
        s.store
            .count_online(&r.id, t0() + Duration::seconds(1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.store
            .count_online(&r.id, t0() - Duration::seconds(1))
            .await
            .unwrap(),
        4
    );
    // A keepalive moves a member to the front and keeps its join time.
    s.store
        .keepalive(touch(&r.id, &users[0], t0() + Duration::seconds(9)))
        .await
        .unwrap();
    let first = &online(s, &r.id, t0()).await[0];
    assert_eq!((&first.user_id, first.joined_at), (&users[0], t0()));
    s.store.leave(&r.id, &users[0]).await.unwrap();
    assert_eq!(
        s.store
            .count_online(&r.id, t0() - Duration::seconds(1))
            .await
            .unwrap(),
        3
    );
    // Leaving twice, or a room one never entered, is a no-op.
    s.store.leave(&r.id, &users[0]).await.unwrap();
    s.store.leave(&r.id, &UserId::generate()).await.unwrap();
    // Back after leaving: joined anew.
    s.store
        .keepalive(touch(&r.id, &users[0], t0() + Duration::seconds(12)))
        .await
        .unwrap();
    let first = &online(s, &r.id, t0()).await[0];
    assert_eq!(
        (&first.user_id, first.joined_at),
        (&users[0], t0() + Duration::seconds(12))
    );
}

async fn members_are_paged_by_shard(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let users: Vec<UserId> = (0..100).map(|_| UserId::generate()).collect();
    let mut shards = 0u32;
    for (i, u) in users.iter().enumerate() {
        let mut t = touch(&r.id, u, t0() + Duration::milliseconds(i as i64));
        // The first 10 record their shard (a keepalive does it the same way as a join).
        t.record_shard = i < 10;
        if i < 10 {
            shards |= 1 << liveroom::domain::presence::shard(u, PRESENCE_SHARDS);
        }
        if i % 2 == 0 {
            s.store.join(t).await.unwrap();
        } else {
            s.store.keepalive(t).await.unwrap();
        }
    }
    assert_eq!(
        s.store.room(&r.id).await.unwrap().unwrap().shards_used,
        shards
    );
    // Each shard's page holds only that shard's members, newest first; all pages together
    // hold everyone once.
    let mut everyone = Vec::new();
    for shard in 0..PRESENCE_SHARDS {
        let page = s
            .store
            .members_page(&r.id, shard, t0() - Duration::seconds(1), 100, None)
            .await
            .unwrap();
        assert!(!page.more_in_shard);
        assert!(
            page.members
                .iter()
                .all(|p| liveroom::domain::presence::shard(&p.user_id, PRESENCE_SHARDS) == shard)
        );
        assert!(
            page.members
                .windows(2)
                .all(|w| w[0].activity_key() > w[1].activity_key())
        );
        everyone.extend(page.members.into_iter().map(|p| p.user_id));
    }
    everyone.sort();
    let mut expected = users.clone();
    expected.sort();
    assert_eq!(everyone, expected);
    assert_eq!(
        online(s, &r.id, t0() - Duration::seconds(1)).await.len(),
        100
    );
}

async fn a_stale_presence_sweep_spares_a_fresh_keepalive(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let (old, fresh) = (UserId::generate(), UserId::generate());
    s.store.join(touch(&r.id, &old, t0())).await.unwrap();
    s.store.join(touch(&r.id, &fresh, t0())).await.unwrap();
    s.store
        .keepalive(touch(&r.id, &fresh, t0() + Duration::seconds(30)))
        .await
        .unwrap();
    let swept = s
        .store
        .sweep_presence(
            &r.id,
            t0() + Duration::seconds(20),
            t0() + Duration::seconds(10),
        )
        .await
        .unwrap();
    assert_eq!((swept.removed, swept.online), (1, 1));
    let left = online(s, &r.id, t0() - Duration::seconds(1)).await;
    assert_eq!(
        left.iter().map(|p| &p.user_id).collect::<Vec<_>>(),
        vec![&fresh]
    );
    // The swept member's visit still counts: coming back is not a first visit.
    assert_eq!(
        s.store
            .join(touch(&r.id, &old, t0() + Duration::seconds(40)))
            .await
            .unwrap(),
        Visit::Again
    );
}

async fn visits_count_every_join_and_each_user_once(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let (a, b) = (UserId::generate(), UserId::generate());
    assert_eq!(
        s.store.join(touch(&r.id, &a, t0())).await.unwrap(),
        Visit::First
    );
    assert_eq!(
        s.store.join(touch(&r.id, &a, t0())).await.unwrap(),
        Visit::Again
    );
    s.store.leave(&r.id, &a).await.unwrap();
    assert_eq!(
        s.store.join(touch(&r.id, &a, t0())).await.unwrap(),
        Visit::Again
    );
    // A keepalive before any join is no visit: the later join is the first.
    s.store.keepalive(touch(&r.id, &b, t0())).await.unwrap();
    assert_eq!(
        s.store.join(touch(&r.id, &b, t0())).await.unwrap(),
        Visit::First
    );
    s.store.add_likes(&r.id, &a, 7, 1).await.unwrap();
    s.store.add_likes(&r.id, &b, 5, 1).await.unwrap();
    let (_, c) = s.store.room_view(&r.id).await.unwrap().unwrap();
    assert_eq!((c.pv, c.uv, c.likes), (4, 2, 12));
    assert_eq!(s.store.room_view(&RoomId::generate()).await.unwrap(), None);
}

async fn marks_leave_the_version_alone_and_a_channel_starts_once(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let mut anchor_touch = touch(&r.id, &r.anchor_id, t0() + Duration::seconds(3));
    anchor_touch.anchor = true;
    s.store.keepalive(anchor_touch).await.unwrap();
    let start = Mark::ChannelStarted {
        at: t0() + Duration::seconds(5),
    };
    assert!(s.store.mark_room(&r.id, start).await.unwrap());
    let again = Mark::ChannelStarted {
        at: t0() + Duration::seconds(6),
    };
    assert!(
        !s.store.mark_room(&r.id, again).await.unwrap(),
        "a racing first joiner loses"
    );
    let stored = s.store.room(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 0);
    assert_eq!(stored.anchor_seen_at, Some(t0() + Duration::seconds(3)));
    assert_eq!(stored.channel_started_at, Some(t0() + Duration::seconds(5)));
    // Emptiness found before the channel started does not end it; found after, it does.
    let early = Mark::ChannelEmpty {
        at: t0() + Duration::seconds(4),
    };
    assert!(!s.store.mark_room(&r.id, early).await.unwrap());
    let late = Mark::ChannelEmpty {
        at: t0() + Duration::seconds(7),
    };
    assert!(s.store.mark_room(&r.id, late).await.unwrap());
    assert_eq!(
        s.store
            .room(&r.id)
            .await
            .unwrap()
            .unwrap()
            .channel_started_at,
        None
    );
    assert!(!s.store.mark_room(&RoomId::generate(), start).await.unwrap());
    // An anchor's keepalive for a room that is gone fails as a conflict.
    let ghost = RoomId::generate();
    let mut ghost_touch = touch(&ghost, &r.anchor_id, t0());
    ghost_touch.anchor = true;
    assert!(matches!(
        s.store.keepalive(ghost_touch).await,
        Err(StoreError::Conflict)
    ));
}

async fn a_guarded_write_fails_once_its_guard_no_longer_holds(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    // The sweeper read "nobody entered"; a member joined before its write landed.
    let idle = Expected {
        guard: Guard::NeverEntered,
        ..Expected::from(&r)
    };
    let viewer = UserId::generate();
    let mut joined = touch(&r.id, &viewer, t0() + Duration::seconds(1));
    joined.record_shard = true;
    s.store.join(joined).await.unwrap();
    // ...and left again, and the channel ended: still, someone entered.
    s.store.leave(&r.id, &viewer).await.unwrap();
    s.store
        .mark_room(
            &r.id,
            Mark::ChannelEmpty {
                at: t0() + Duration::seconds(2),
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        s.store
            .update_room(&next(&r, RoomStatus::Ended), idle, &[])
            .await,
        Err(StoreError::Conflict)
    ));
    // The sweeper read "anchor silent since t0 + 10 s"; a keepalive at t0 + 20 s came first.
    let mut anchor_touch = touch(&r.id, &r.anchor_id, t0() + Duration::seconds(20));
    anchor_touch.anchor = true;
    s.store.keepalive(anchor_touch).await.unwrap();
    let silent = Expected {
        guard: Guard::AnchorSilentSince(t0() + Duration::seconds(10)),
        ..Expected::from(&r)
    };
    assert!(matches!(
        s.store
            .update_room(&next(&r, RoomStatus::Live), silent, &[])
            .await,
        Err(StoreError::Conflict)
    ));
    let still = Expected {
        guard: Guard::AnchorSilentSince(t0() + Duration::seconds(30)),
        ..Expected::from(&r)
    };
    s.store
        .update_room(&next(&r, RoomStatus::Live), still, &[])
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
        .update_room(&ended, Expected::from(&rooms[2]), &[])
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

async fn a_room_view_carries_the_exact_counters(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let (room, counters) = s.store.room_view(&r.id).await.unwrap().unwrap();
    assert_eq!(room, r);
    assert_eq!((counters.pv, counters.uv, counters.likes), (0, 0, 0));
    let users: Vec<UserId> = (0..30).map(|_| UserId::generate()).collect();
    for u in &users {
        s.store.join(touch(&r.id, u, t0())).await.unwrap();
        s.store.add_likes(&r.id, u, 3, 1).await.unwrap();
    }
    let (_, counters) = s.store.room_view(&r.id).await.unwrap().unwrap();
    assert_eq!((counters.pv, counters.uv, counters.likes), (30, 30, 90));
    let swept = s
        .store
        .sweep_counters(&r.id, i64::MAX, i64::MAX)
        .await
        .unwrap();
    assert_eq!(swept, counters);
}

async fn a_metrics_refresh_is_claimed_once_per_snapshot(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let t1 = t0() + Duration::seconds(10);
    let lease = t1 + Duration::seconds(3);
    // Twenty readers find the same old snapshot: one gets the claim.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store: Arc<dyn Store> = Arc::clone(&s.store);
        let id = r.id.clone();
        tasks.push(tokio::spawn(async move {
            store.claim_metrics(&id, None, t1, lease).await.unwrap()
        }));
    }
    let mut claimed = 0;
    for task in tasks {
        claimed += u32::from(task.await.unwrap());
    }
    assert_eq!(claimed, 1);
    // While the claim holds nobody else gets it; once it lapses, someone may.
    assert!(
        !s.store
            .claim_metrics(&r.id, None, lease, lease)
            .await
            .unwrap()
    );
    let after = lease + Duration::seconds(1);
    assert!(
        s.store
            .claim_metrics(&r.id, None, after, after + Duration::seconds(3))
            .await
            .unwrap()
    );
    // A stored snapshot ends the claim; a claim on what is no longer the snapshot fails.
    let snapshot = MetricsSnapshot {
        online: 7,
        likes: 1,
        pv: 2,
        uv: 3,
        at: Some(after),
        refreshing_until: None,
    };
    assert!(s.store.save_metrics(&r.id, &snapshot).await.unwrap());
    let stored = s.store.room(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.metrics, snapshot);
    assert_eq!(stored.version, 0, "a snapshot is not a change of the room");
    assert!(
        !s.store
            .claim_metrics(&r.id, None, after, after)
            .await
            .unwrap()
    );
    assert!(
        s.store
            .claim_metrics(&r.id, Some(after), after, after)
            .await
            .unwrap()
    );
}

async fn a_stored_snapshot_is_never_replaced_by_an_older_one(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let at = |secs| MetricsSnapshot {
        online: secs as u64,
        at: Some(t0() + Duration::seconds(secs)),
        ..MetricsSnapshot::default()
    };
    assert!(s.store.save_metrics(&r.id, &at(20)).await.unwrap());
    assert!(!s.store.save_metrics(&r.id, &at(10)).await.unwrap());
    // One counted at the same instant may replace it (both are true of that instant).
    assert!(s.store.save_metrics(&r.id, &at(20)).await.unwrap());
    assert!(s.store.save_metrics(&r.id, &at(30)).await.unwrap());
    assert_eq!(
        s.store.room(&r.id).await.unwrap().unwrap().metrics.online,
        30
    );
    assert!(
        !s.store
            .save_metrics(&RoomId::generate(), &at(40))
            .await
            .unwrap()
    );
}

/// DynamoDB only (the embedded store has no TTL; its purge is the expiry): every item a room
/// has under it carries an `expires_at`, so that nothing can outlive retention even if a purge
/// never runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_item_under_a_room_expires_on_dynamodb() {
    use liveroom::store::dynamo::DynamoStore;
    use liveroom::store::dynamo::schema::{counter_key, presence_partitions};
    use liveroom::store::{CounterWrite, PresenceWrite, RoomCreate};
    let client = crate::common::dynamodb_client();
    let table = format!("liveroom-test-{}", uuid::Uuid::new_v4().simple());
    let store = DynamoStore::new(client.clone(), &table);
    store.create_table().await.unwrap();
    let anchor = UserId::generate();
    let r = room(&anchor, t0());
    store.insert_room(&r, &[]).await.unwrap();
    let users: Vec<UserId> = (0..20).map(|_| UserId::generate()).collect();
    for u in &users {
        let mut t = touch(&r.id, u, t0());
        t.record_shard = true;
        store.join(t).await.unwrap();
        store.keepalive(touch(&r.id, u, t0())).await.unwrap();
        store.add_likes(&r.id, u, 1, 1_900_000_000).await.unwrap();
    }
    store.leave(&r.id, &users[0]).await.unwrap();
    let mut items = Vec::new();
    for pk in presence_partitions(&r.id) {
        let out = client
            .query()
            .table_name(&table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(pk))
            .send()
            .await
            .unwrap();
        items.extend(out.items.unwrap_or_default());
    }
    assert_eq!(items.len(), 20, "one presence item per member, left or not");
    for k in 0..liveroom::domain::presence::COUNTER_SHARDS {
        let out = client
            .get_item()
            .table_name(&table)
            .set_key(Some(counter_key(&r.id, k)))
            .send()
            .await
            .unwrap();
        items.extend(out.item);
    }
    assert!(items.len() > 20, "counter shards were written");
    for item in &items {
        assert!(
            matches!(
                item.get("expires_at"),
                Some(aws_sdk_dynamodb::types::AttributeValue::N(_))
            ),
            "an item without expiry: {item:?}"
        );
    }
}

/// Outbox entries land in the same write as the change they report (and not when the change's
/// condition fails); they come back in order per room and sink, postponed, and removed; the
/// room's `chat_ready` is kept by its own writer only.
async fn outbox_entries_are_written_with_their_change_or_not_at_all(s: &TestStore) {
    use liveroom::domain::outbox::{Event, EventKind, Outbox, Sink};
    let on = Outbox {
        im: true,
        webhook: true,
    };
    let anchor = UserId::generate();
    let r = room(&anchor, t0());
    let entries = |room: &Room, kind, order, at| {
        on.entries(
            &room.id,
            order,
            at,
            2_000_000_000,
            vec![Event::new(kind, room, at)],
        )
    };
    let created = entries(&r, EventKind::RoomCreated, 0, t0());
    s.store.insert_room(&r, &created).await.unwrap();
    // A failed insert writes none of its entries.
    let lost = entries(&r, EventKind::RoomCreated, 0, t0());
    assert!(matches!(
        s.store.insert_room(&r, &lost).await,
        Err(StoreError::Conflict)
    ));
    let live = next(&r, RoomStatus::Live);
    let later = t0() + Duration::seconds(1);
    let started = entries(&live, EventKind::RoomStarted, 1, later);
    s.store
        .update_room(&live, Expected::from(&r), &started)
        .await
        .unwrap();
    // A stale update writes none of its entries.
    let stale = entries(&live, EventKind::RoomPaused, 1, later);
    assert!(matches!(
        s.store
            .update_room(&next(&r, RoomStatus::Prepare), Expected::from(&r), &stale)
            .await,
        Err(StoreError::Conflict)
    ));
    let meeting = Meeting {
        members: vec![],
        version: 1,
    };
    let cohosts = entries(&live, EventKind::CohostsChanged, 2, later);
    s.store
        .update_meeting(&r.id, &meeting, 0, &cohosts)
        .await
        .unwrap();
    // Each reported change moves the room's change count by one (issue 16, 9).
    let kicked = entries(&live, EventKind::MemberKicked, 3, later);
    s.store
        .ban_member(
            &r.id,
            &UserId::generate(),
            later,
            2_000_000_000,
            &kicked,
            None,
        )
        .await
        .unwrap();
    let deleted = entries(&live, EventKind::RoomDeleted, 4, t0());
    s.store
        .mark_deleted(&r.id, &anchor, later, 2_000_000_000, &deleted)
        .await
        .unwrap();

    let stored = s.store.outbox(&r.id).await.unwrap();
    let of = |sink: Sink| -> Vec<EventKind> {
        stored
            .iter()
            .filter(|e| e.sink == sink)
            .map(|e| e.event.event)
            .collect()
    };
    use EventKind::*;
    assert_eq!(
        of(Sink::Im),
        vec![RoomCreated, RoomStarted, CohostsChanged, RoomDeleted]
    );
    assert_eq!(
        of(Sink::Webhook),
        vec![
            RoomCreated,
            RoomStarted,
            CohostsChanged,
            MemberKicked,
            RoomDeleted
        ]
    );
    assert_eq!(stored[0], created[0], "an entry round-trips exactly");
    assert_eq!(s.store.outbox_rooms(10).await.unwrap(), vec![r.id.clone()]);

    // Postponed, then removed; both are no-ops once it is gone.
    let first = stored[0].clone();
    s.store.outbox_later(&first, 2, 1234).await.unwrap();
    let again = s.store.outbox(&r.id).await.unwrap();
    assert_eq!((again[0].attempts, again[0].next_at_ms), (2, 1234));
    s.store.outbox_done(&first).await.unwrap();
    s.store.outbox_done(&first).await.unwrap();
    s.store.outbox_later(&first, 3, 99).await.unwrap();
    assert_eq!(s.store.outbox(&r.id).await.unwrap().len(), stored.len() - 1);
    for e in &stored {
        s.store.outbox_done(e).await.unwrap();
    }
    assert!(s.store.outbox(&r.id).await.unwrap().is_empty());
    assert!(s.store.outbox_rooms(10).await.unwrap().is_empty());

    // chat_ready: set by its writer, never undone by a room update that read it unset.
    let other = room(&anchor, t0());
    s.store.insert_room(&other, &[]).await.unwrap();
    s.store.set_chat_ready(&other.id, true).await.unwrap();
    s.store
        .update_room(&next(&other, RoomStatus::Live), Expected::from(&other), &[])
        .await
        .unwrap();
    assert!(s.store.room(&other.id).await.unwrap().unwrap().chat_ready);
    s.store.set_chat_ready(&other.id, false).await.unwrap();
    assert!(!s.store.room(&other.id).await.unwrap().unwrap().chat_ready);
    // A room that is gone: nothing to record, no error.
    let ghost = RoomId::generate();
    s.store.set_chat_ready(&ghost, true).await.unwrap();
    assert_eq!(s.store.room(&ghost).await.unwrap(), None);
}

/// Issue 16, 9: every change that puts outbox entries — a status change, a co-host change, a
/// kick, a deletion — moves one counter of the room, conditionally on the value it read: two
/// writers that read the same room cannot both commit (before, a status change and a co-host
/// change from one read both did, their entries with one order value), and the entries' order
/// is the order their writes committed.
async fn reported_changes_of_one_room_commit_one_at_a_time(s: &TestStore) {
    use liveroom::domain::outbox::{Entry, Event, EventKind, Outbox, order};
    let anchor = UserId::generate();
    let guest = UserId::generate();
    let r = room(&anchor, t0());
    let outbox = Outbox {
        im: false,
        webhook: true,
    };
    let report = |kind: EventKind, read: &Room, after: &Room| -> Vec<Entry> {
        let expires_at = t0().timestamp() + 86_400;
        outbox.entries(
            &r.id,
            order(read),
            t0(),
            expires_at,
            vec![Event::new(kind, after, t0())],
        )
    };
    s.store
        .insert_room(&r, &report(EventKind::RoomCreated, &r, &r))
        .await
        .unwrap();
    let read = s.store.room(&r.id).await.unwrap().unwrap();
    // Two writers from one read: the status change commits...
    let live = next(&read, RoomStatus::Live);
    s.store
        .update_room(
            &live,
            Expected::from(&read),
            &report(EventKind::RoomStarted, &read, &live),
        )
        .await
        .unwrap();
    // ...and the co-host change from the same read does not: it would report the same order.
    let cohosts = Room {
        meeting: meeting(1, &[&anchor, &guest]),
        ..read.clone()
    };
    assert!(matches!(
        s.store
            .update_meeting(
                &r.id,
                &cohosts.meeting,
                0,
                &report(EventKind::CohostsChanged, &read, &cohosts)
            )
            .await,
        Err(StoreError::Conflict)
    ));
    // Read again, it commits after.
    let read = s.store.room(&r.id).await.unwrap().unwrap();
    let cohosts = Room {
        meeting: meeting(1, &[&anchor, &guest]),
        ..read.clone()
    };
    s.store
        .update_meeting(
            &r.id,
            &cohosts.meeting,
            0,
            &report(EventKind::CohostsChanged, &read, &cohosts),
        )
        .await
        .unwrap();
    // A kick and a deletion take part too: from a stale read, neither commits.
    let until = t0() + Duration::minutes(10);
    let expires_at = t0().timestamp() + 86_400;
    let stale = read.clone();
    assert!(matches!(
        s.store
            .ban_member(
                &r.id,
                &guest,
                until,
                expires_at,
                &report(EventKind::MemberKicked, &stale, &stale),
                None,
            )
            .await,
        Err(StoreError::Conflict)
    ));
    let read = s.store.room(&r.id).await.unwrap().unwrap();
    s.store
        .ban_member(
            &r.id,
            &guest,
            until,
            expires_at,
            &report(EventKind::MemberKicked, &read, &read),
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        s.store
            .mark_deleted(
                &r.id,
                &anchor,
                t0(),
                expires_at,
                &report(EventKind::RoomDeleted, &read, &read)
            )
            .await,
        Err(StoreError::Conflict)
    ));
    let read = s.store.room(&r.id).await.unwrap().unwrap();
    // A write that reports nothing is not counted, and does not wait for the counter.
    let titled = Room {
        version: read.version + 1,
        title: Title::parse("renamed").unwrap(),
        ..read.clone()
    };
    s.store
        .update_room(&titled, Expected::from(&read), &[])
        .await
        .unwrap();
    s.store
        .mark_deleted(
            &r.id,
            &anchor,
            t0(),
            expires_at,
            &report(EventKind::RoomDeleted, &read, &read),
        )
        .await
        .unwrap();

    // The entries, in their order: one per write, distinct orders, in commit order.
    let entries = s.store.outbox(&r.id).await.unwrap();
    let orders: Vec<&str> = entries.iter().map(|e| &e.seq[..16]).collect();
    let kinds: Vec<EventKind> = entries.iter().map(|e| e.event.event).collect();
    assert_eq!(
        kinds,
        [
            EventKind::RoomCreated,
            EventKind::RoomStarted,
            EventKind::CohostsChanged,
            EventKind::MemberKicked,
            EventKind::RoomDeleted,
        ],
        "{orders:?}"
    );
    let distinct: std::collections::BTreeSet<&&str> = orders.iter().collect();
    assert_eq!(distinct.len(), orders.len(), "{orders:?}");
}

/// Issue 21, 5: a call's seat is given away only on the condition, in the same write, that its
/// holder is still silent: a holder who renewed its lease meanwhile (a join or keepalive, left
/// since or not) keeps it, whatever the writer read before.
async fn a_seat_is_replaced_only_while_its_holder_is_still_silent(s: &TestStore) {
    use liveroom::store::Lapsed;
    let (anchor, holder, newcomer) = (UserId::generate(), UserId::generate(), UserId::generate());
    let r = room(&anchor, t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    s.store
        .update_meeting(&r.id, &meeting(1, &[&anchor, &holder]), 0, &[])
        .await
        .unwrap();
    let seen = t0() + chrono::Duration::seconds(30);
    s.store.join(touch(&r.id, &holder, seen)).await.unwrap();
    s.store.leave(&r.id, &holder).await.unwrap();
    let replaced = meeting(2, &[&anchor, &newcomer]);
    // The writer's read said silent before `seen`; the holder was seen at `seen`.
    for before in [seen, seen - chrono::Duration::seconds(1)] {
        let lapsed = [Lapsed {
            user: holder.clone(),
            before,
        }];
        assert!(
            matches!(
                s.store
                    .replace_seats(&r.id, &replaced, 1, &lapsed, &[])
                    .await,
                Err(StoreError::Conflict)
            ),
            "{before}"
        );
    }
    assert_eq!(
        s.store.room(&r.id).await.unwrap().unwrap().meeting,
        meeting(1, &[&anchor, &holder])
    );
    // Silent since before the cut-off, and a holder never seen: the seats go.
    let lapsed = [
        Lapsed {
            user: holder.clone(),
            before: seen + chrono::Duration::milliseconds(1),
        },
        Lapsed {
            user: UserId::generate(),
            before: seen,
        },
    ];
    s.store
        .replace_seats(&r.id, &replaced, 1, &lapsed, &[])
        .await
        .unwrap();
    assert_eq!(
        s.store.room(&r.id).await.unwrap().unwrap().meeting,
        replaced
    );
}

/// Rooms of two anchors, three categories (none among them) and every status, a room whose
/// category and status change, a deleted room and a call: every combination of filters
/// (status, not ended, anchor, category, creation window) lists exactly the rooms
/// `RoomQuery::matches`, newest first, page by page.
async fn every_filter_combination_lists_exactly_its_matches(s: &TestStore) {
    let (a, b) = (UserId::generate(), UserId::generate());
    let categories = ["", "games", "music"];
    let statuses = [RoomStatus::Prepare, RoomStatus::Live, RoomStatus::Ended];
    let mut rooms = Vec::new();
    let mut at = 0;
    for anchor in [&a, &b] {
        for category in categories {
            for status in statuses {
                for _ in 0..2 {
                    let mut r = room(anchor, t0() + Duration::seconds(at));
                    at += 1;
                    r.category = Category::parse(category).unwrap();
                    r.status = status;
                    s.store.insert_room(&r, &[]).await.unwrap();
                    rooms.push(r);
                }
            }
        }
    }
    // A room moves from games/prepare to music/live, another from live to ended.
    let moved = rooms[2].clone();
    let mut to = next(&moved, RoomStatus::Live);
    to.category = Category::parse("music").unwrap();
    s.store
        .update_room(&to, Expected::from(&moved), &[])
        .await
        .unwrap();
    rooms[2] = to;
    let ending = rooms
        .iter()
        .position(|r| r.status == RoomStatus::Live)
        .unwrap();
    let ended = next(&rooms[ending], RoomStatus::Ended);
    s.store
        .update_room(&ended, Expected::from(&rooms[ending]), &[])
        .await
        .unwrap();
    rooms[ending] = ended;
    // A deleted room and a call are in no listing.
    let mut deleted = room(&a, t0() + Duration::seconds(at));
    deleted.category = Category::parse("games").unwrap();
    s.store.insert_room(&deleted, &[]).await.unwrap();
    s.store
        .mark_deleted(&deleted.id, &a, t0(), 0, &[])
        .await
        .unwrap();
    let mut call = room(&a, t0() + Duration::seconds(at + 1));
    call.id = RoomId::for_channel(&liveroom::domain::ChannelId::parse("channelId", "c1").unwrap());
    call.category = Category::parse("games").unwrap();
    s.store.insert_room(&call, &[]).await.unwrap();
    let listed: Vec<Room> = rooms.clone();

    let ids = |v: &[Room]| v.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    let mut checked = 0;
    for status in [
        None,
        Some(RoomStatus::Prepare),
        Some(RoomStatus::Live),
        Some(RoomStatus::Ended),
    ] {
        for not_ended in [false, true] {
            for anchor in [
                None,
                Some(a.clone()),
                Some(b.clone()),
                Some(UserId::generate()),
            ] {
                for category in [None, Some("games"), Some("music"), Some("none-such")] {
                    for window in [None, Some((5, 29))] {
                        let filters = RoomQuery {
                            status,
                            not_ended,
                            anchor: anchor.clone(),
                            category: category.map(|c| Category::parse(c).unwrap()),
                            created_from: window.map(|(f, _)| t0() + Duration::seconds(f)),
                            created_before: window.map(|(_, b)| t0() + Duration::seconds(b)),
                            ..query(1, 100)
                        };
                        let mut expected: Vec<Room> = listed
                            .iter()
                            .filter(|r| filters.matches(r))
                            .cloned()
                            .collect();
                        expected.sort_by_key(|r| std::cmp::Reverse(r.created_key()));
                        let got = s.store.list_rooms(&filters).await.unwrap();
                        assert_eq!(ids(&got), ids(&expected), "{filters:?}");
                        assert_eq!(got, expected, "{filters:?}");
                        let second = RoomQuery {
                            page: Page::parse(2, 3).unwrap(),
                            ..filters.clone()
                        };
                        let got = s.store.list_rooms(&second).await.unwrap();
                        let want: Vec<_> = expected.iter().skip(3).take(3).cloned().collect();
                        assert_eq!(ids(&got), ids(&want), "{second:?}");
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, 256);
}

async fn rooms_are_read_by_id_in_one_batch(s: &TestStore) {
    let anchor = UserId::generate();
    let rooms = insert_rooms(s, &anchor, 3).await;
    s.store
        .mark_deleted(&rooms[1].id, &anchor, t0(), 0, &[])
        .await
        .unwrap();
    let missing = RoomId::generate();
    let asked = vec![
        rooms[0].id.clone(),
        missing,
        rooms[1].id.clone(),
        rooms[0].id.clone(),
        rooms[2].id.clone(),
    ];
    let mut got = s.store.rooms_by_id(&asked).await.unwrap();
    got.sort_by_key(|r| std::cmp::Reverse(r.created_key()));
    // Each once; deleted ones come back marked (the features treat them as gone).
    assert_eq!(got.len(), 3);
    assert_eq!(got[0], rooms[0]);
    assert!(got[1].is_deleted());
    assert_eq!(got[2], rooms[2]);
    assert!(s.store.rooms_by_id(&[]).await.unwrap().is_empty());
    let hundred: Vec<RoomId> = (0..100).map(|_| RoomId::generate()).collect();
    assert!(s.store.rooms_by_id(&hundred).await.unwrap().is_empty());
}

fn caps(max_open: u32, per_minute: u32, minute: i64) -> RoomCaps {
    RoomCaps {
        max_open,
        per_minute,
        minute,
    }
}

async fn a_counted_room_keeps_its_anchor_under_the_caps(s: &TestStore) {
    let alice = user("alice");
    s.store.insert_user(&alice).await.unwrap();
    let (found, tally) = s.store.user_tally(&alice.id).await.unwrap();
    assert_eq!(found, Some(alice.clone()));
    assert_eq!(tally, RoomTally::default());
    let minute = t0().timestamp() / 60;
    let add = |i: i64, caps: RoomCaps| {
        let r = room(&alice.id, t0() + Duration::seconds(i));
        async move {
            let (_, seen) = s.store.user_tally(&r.anchor_id).await.unwrap();
            (s.store.insert_counted_room(&r, &[], caps, &seen).await, r)
        }
    };
    // Two open rooms at most.
    let (first, r1) = add(0, caps(2, 3, minute)).await;
    first.unwrap();
    let (second, r2) = add(1, caps(2, 3, minute)).await;
    second.unwrap();
    let (third, r3) = add(2, caps(2, 3, minute)).await;
    assert!(matches!(third, Err(StoreError::Conflict)), "{third:?}");
    assert_eq!(s.store.room(&r3.id).await.unwrap(), None);
    let (_, tally) = s.store.user_tally(&alice.id).await.unwrap();
    let mut open = tally.open.clone();
    open.sort();
    let mut want = vec![r1.id.clone(), r2.id.clone()];
    want.sort();
    assert_eq!(open, want);
    assert_eq!((tally.minute, tally.created), (minute, 2));
    // A room taken off the set frees its slot (a room not in it, or no tally: no-op).
    s.store
        .forget_rooms(&alice.id, &[r1.id.clone(), RoomId::generate()])
        .await
        .unwrap();
    s.store
        .forget_rooms(&UserId::generate(), std::slice::from_ref(&r1.id))
        .await
        .unwrap();
    add(3, caps(2, 3, minute)).await.0.unwrap();
    // Three creations this minute at most, whatever is open.
    s.store
        .forget_rooms(&alice.id, std::slice::from_ref(&r2.id))
        .await
        .unwrap();
    let (fourth, _) = add(4, caps(2, 3, minute)).await;
    assert!(matches!(fourth, Err(StoreError::Conflict)), "{fourth:?}");
    // The next minute starts over.
    add(5, caps(2, 3, minute + 1)).await.0.unwrap();
    let (_, tally) = s.store.user_tally(&alice.id).await.unwrap();
    assert_eq!(
        (tally.minute, tally.created, tally.open.len()),
        (minute + 1, 1, 2)
    );
    // A user with no record has an empty tally and is counted like anyone.
    let (nobody, tally) = s.store.user_tally(&UserId::generate()).await.unwrap();
    assert_eq!((nobody, tally), (None, RoomTally::default()));
}

async fn racing_counted_rooms_never_pass_the_caps(s: &TestStore) {
    let anchor = UserId::generate();
    let minute = t0().timestamp() / 60;
    let store = Arc::clone(&s.store);
    let racers: Vec<_> = (0..16)
        .map(|i| {
            let store = Arc::clone(&store);
            let anchor = anchor.clone();
            tokio::spawn(async move {
                let r = room(&anchor, t0() + Duration::seconds(i));
                // Everyone read the empty tally before anyone wrote.
                store
                    .insert_counted_room(&r, &[], caps(5, 100, minute), &RoomTally::default())
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("{e}"),
        }
    }
    let (_, tally) = s.store.user_tally(&anchor).await.unwrap();
    assert!((1..=5).contains(&won), "{won}");
    assert_eq!(tally.open.len(), won);
    assert_eq!(tally.created as usize, won);
    let listed = s
        .store
        .list_rooms(&RoomQuery {
            anchor: Some(anchor),
            ..query(1, 100)
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), won);
}

// The sweeper's runs (issue 24): samples per room, the stats of the last run.

fn sample(at: DateTime<Utc>, k: u64) -> liveroom::domain::series::Sample {
    liveroom::domain::series::Sample {
        at,
        online_count: k,
        like_count: 10 * k,
        pv: 100 * k,
        uv: 1000 * k,
    }
}

fn stats(at: DateTime<Utc>, k: u64) -> liveroom::domain::series::Stats {
    liveroom::domain::series::Stats {
        rooms_prepared: k,
        rooms_live: k + 1,
        rooms_paused: k + 2,
        online_total: k + 3,
        at,
    }
}

fn window(
    since: Option<DateTime<Utc>>,
    limit: Option<i64>,
) -> liveroom::domain::series::SeriesWindow {
    liveroom::domain::series::SeriesWindow::parse(since, limit).unwrap()
}

/// Far enough that nothing has expired at `t0()` plus a day.
const FAR: i64 = 1_900_000_000;

/// Samples of two rooms, written more than 25 at a time (DynamoDB's batch limit), come back per
/// room, oldest first, the newest `limit` at or after `since`.
async fn a_room_series_reads_back_oldest_first_and_bounded(s: &TestStore) {
    use liveroom::domain::series::{MAX_SERIES_POINTS, SeriesWindow};
    let anchor = UserId::generate();
    let (a, b) = (room(&anchor, t0()), room(&anchor, t0()));
    s.store.insert_room(&a, &[]).await.unwrap();
    s.store.insert_room(&b, &[]).await.unwrap();
    let minute = |i: i64| t0() + Duration::minutes(i);
    let mut run = Vec::new();
    for i in 0..30 {
        run.push((a.id.clone(), sample(minute(i), i as u64)));
        run.push((b.id.clone(), sample(minute(i), 7)));
    }
    s.store
        .write_series(&run, &stats(minute(29), 1), FAR)
        .await
        .unwrap();
    let now = minute(30);
    let all = s
        .store
        .room_series(&a.id, SeriesWindow::default(), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        all,
        (0..30)
            .map(|i| sample(minute(i), i as u64))
            .collect::<Vec<_>>()
    );
    let of_b = s
        .store
        .room_series(&b.id, SeriesWindow::default(), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(of_b.len(), 30);
    assert!(of_b.iter().all(|p| p.online_count == 7));
    let last5 = s
        .store
        .room_series(&a.id, window(None, Some(5)), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last5, all[25..].to_vec());
    let since = s
        .store
        .room_series(&a.id, window(Some(minute(20)), Some(100)), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(since, all[20..].to_vec());
    let since_and_limit = s
        .store
        .room_series(&a.id, window(Some(minute(20)), Some(3)), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(since_and_limit, all[27..].to_vec());
    // The next run adds a point at the end (a room twice at one time: the last one wins).
    s.store
        .write_series(
            &[
                (a.id.clone(), sample(minute(30), 98)),
                (a.id.clone(), sample(minute(30), 99)),
            ],
            &stats(minute(30), 2),
            FAR,
        )
        .await
        .unwrap();
    let more = s
        .store
        .room_series(&a.id, window(None, Some(2)), minute(31))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(more, vec![all[29], sample(minute(30), 99)]);
    // The bounds of a window.
    for bad in [0, -1, i64::from(MAX_SERIES_POINTS) + 1] {
        assert!(SeriesWindow::parse(None, Some(bad)).is_err(), "{bad}");
    }
    assert_eq!(SeriesWindow::default().limit(), MAX_SERIES_POINTS);
}

/// No room, no series: an unknown room, a room being deleted, a purged room whose samples
/// remain (until their expiry); a room without samples has an empty one, and a sample from
/// before the room's creation (a room id used again) is never shown.
async fn a_series_is_shown_only_while_its_room_exists(s: &TestStore) {
    use liveroom::domain::series::SeriesWindow;
    let anchor = UserId::generate();
    let r = room(&anchor, t0());
    let now = t0() + Duration::hours(1);
    assert_eq!(
        s.store
            .room_series(&r.id, SeriesWindow::default(), now)
            .await
            .unwrap(),
        None
    );
    s.store.insert_room(&r, &[]).await.unwrap();
    assert_eq!(
        s.store
            .room_series(&r.id, SeriesWindow::default(), now)
            .await
            .unwrap(),
        Some(Vec::new())
    );
    let before = t0() - Duration::minutes(1);
    let after = t0() + Duration::minutes(1);
    s.store
        .write_series(
            &[
                (r.id.clone(), sample(before, 1)),
                (r.id.clone(), sample(after, 2)),
            ],
            &stats(after, 0),
            FAR,
        )
        .await
        .unwrap();
    assert_eq!(
        s.store
            .room_series(&r.id, SeriesWindow::default(), now)
            .await
            .unwrap(),
        Some(vec![sample(after, 2)])
    );
    s.store
        .mark_deleted(&r.id, &anchor, now, FAR, &[])
        .await
        .unwrap();
    assert_eq!(
        s.store
            .room_series(&r.id, SeriesWindow::default(), now)
            .await
            .unwrap(),
        None
    );
    s.store.purge_room(&r.id).await.unwrap();
    assert_eq!(
        s.store
            .room_series(&r.id, SeriesWindow::default(), now)
            .await
            .unwrap(),
        None
    );
}

/// The stats are none before the first run, then the last run's.
async fn the_stats_are_the_last_run_s(s: &TestStore) {
    assert_eq!(s.store.stats().await.unwrap(), None);
    s.store
        .write_series(&[], &stats(t0(), 1), FAR)
        .await
        .unwrap();
    assert_eq!(s.store.stats().await.unwrap(), Some(stats(t0(), 1)));
    let later = t0() + Duration::minutes(1);
    s.store
        .write_series(&[], &stats(later, 5), FAR)
        .await
        .unwrap();
    assert_eq!(s.store.stats().await.unwrap(), Some(stats(later, 5)));
}

/// A sample past its expiry is not returned, whether or not the store has removed it yet
/// (DynamoDB's TTL is eventual; the embedded store removes it at a later run).
async fn expired_samples_are_not_returned(s: &TestStore) {
    use liveroom::domain::series::SeriesWindow;
    let anchor = UserId::generate();
    let r = room(&anchor, t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let minute = |i: i64| t0() + Duration::minutes(i);
    let soon = minute(60).timestamp();
    s.store
        .write_series(
            &[(r.id.clone(), sample(minute(0), 1))],
            &stats(minute(0), 0),
            soon,
        )
        .await
        .unwrap();
    s.store
        .write_series(
            &[(r.id.clone(), sample(minute(1), 2))],
            &stats(minute(1), 0),
            FAR,
        )
        .await
        .unwrap();
    let read = |now: DateTime<Utc>| {
        let id = r.id.clone();
        async move {
            s.store
                .room_series(&id, SeriesWindow::default(), now)
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(
        read(minute(59)).await,
        vec![sample(minute(0), 1), sample(minute(1), 2)]
    );
    assert_eq!(read(minute(60)).await, vec![sample(minute(1), 2)]);
    // A run after the expiry (which removes it from the embedded store) changes nothing seen.
    s.store
        .write_series(
            &[(r.id.clone(), sample(minute(61), 3))],
            &stats(minute(61), 0),
            FAR,
        )
        .await
        .unwrap();
    assert_eq!(
        read(minute(62)).await,
        vec![sample(minute(1), 2), sample(minute(61), 3)]
    );
}

/// A guard of `u`'s session generation 0 (every fixture user's tokens').
fn gen0(u: &User) -> SessionGuard<'_> {
    SessionGuard {
        user: &u.id,
        generation: 0,
    }
}

/// Issue 24: a write held to the caller's standing ([`SessionGuard`]) applies while the user is
/// open, not disabled and in the guard's session generation, and otherwise fails as a
/// condition does, writing nothing (its own change included).
async fn writes_held_to_a_session_guard_apply_only_while_it_holds(s: &TestStore) {
    use liveroom::domain::operator::{Disabled, Reason};
    let ok = user("standing");
    let moved = User {
        sessions: 1,
        ..user("moved")
    };
    let disabled = User {
        disabled: Some(Disabled {
            at: t0(),
            reason: Reason::parse("reason", "spam").unwrap(),
        }),
        ..user("disabled")
    };
    for u in [&ok, &moved, &disabled] {
        s.store.insert_user(u).await.unwrap();
    }

    let nick = Nick::parse("nick", "renamed").unwrap();
    // The profile.
    let updated = s
        .store
        .update_profile(&ok.id, Some(&nick), None, Some(gen0(&ok)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.nick, nick);
    for refused in [&moved, &disabled] {
        assert!(matches!(
            s.store
                .update_profile(&refused.id, Some(&nick), None, Some(gen0(refused)))
                .await,
            Err(StoreError::Conflict)
        ));
        assert_eq!(
            s.store.user(&refused.id).await.unwrap().unwrap().nick,
            refused.nick
        );
    }
    let nobody = UserId::generate();
    let guard = SessionGuard {
        user: &nobody,
        generation: 0,
    };
    assert!(matches!(
        s.store
            .update_profile(&nobody, Some(&nick), None, Some(guard))
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(
        s.store
            .update_profile(&nobody, Some(&nick), None, None)
            .await
            .unwrap()
            .is_none()
    );
    // A mute in the anchor's room, held to the anchor's standing.
    let member = UserId::generate();
    for anchor in [&ok, &disabled] {
        let r = room(&anchor.id, t0());
        s.store.insert_room(&r, &[]).await.unwrap();
        let result = s
            .store
            .set_muted(
                &r.id,
                Some(&anchor.id),
                &member,
                true,
                None,
                Some(gen0(anchor)),
            )
            .await;
        let muted = s
            .store
            .room(&r.id)
            .await
            .unwrap()
            .unwrap()
            .is_muted(&member);
        if anchor.id == ok.id {
            result.unwrap();
            assert!(muted);
        } else {
            assert!(matches!(result, Err(StoreError::Conflict)));
            assert!(!muted, "nothing written");
        }
    }
    // One session's end.
    assert!(matches!(
        s.store
            .end_session(&moved.id, "s1", 1_900_000_000, Some(gen0(&moved)))
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(!s.store.session(&moved.id, "s1").await.unwrap().1);
    s.store
        .end_session(&ok.id, "s1", 1_900_000_000, Some(gen0(&ok)))
        .await
        .unwrap();
    assert!(s.store.session(&ok.id, "s1").await.unwrap().1);
    // Every session's end: once, from generation 0.
    assert!(matches!(
        s.store
            .end_all_sessions(&disabled.id, None, Some(gen0(&disabled)))
            .await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        s.store.user(&disabled.id).await.unwrap().unwrap().sessions,
        0
    );
    assert!(
        s.store
            .end_all_sessions(&ok.id, None, Some(gen0(&ok)))
            .await
            .unwrap()
    );
    assert!(matches!(
        s.store
            .end_all_sessions(&ok.id, None, Some(gen0(&ok)))
            .await,
        Err(StoreError::Conflict)
    ));
    // Closing: refused to a disabled account's guard; a closed account stays closed (a retry).
    assert!(matches!(
        s.store
            .delete_user(&disabled.id, t0(), None, Some(gen0(&disabled)))
            .await,
        Err(StoreError::Conflict)
    ));
    assert!(
        !s.store
            .user(&disabled.id)
            .await
            .unwrap()
            .unwrap()
            .is_deleted()
    );
    let closing = user("closing");
    s.store.insert_user(&closing).await.unwrap();
    for _ in 0..2 {
        assert!(
            s.store
                .delete_user(&closing.id, t0(), None, Some(gen0(&closing)))
                .await
                .unwrap()
        );
    }
    assert!(
        s.store
            .user(&closing.id)
            .await
            .unwrap()
            .unwrap()
            .is_deleted()
    );
}

/// Issue 24: the reads that carry the caller's session with what the caller asked for.
async fn a_read_carries_the_caller_s_session(s: &TestStore) {
    let me = user("me");
    let other = user("other");
    s.store.insert_user(&me).await.unwrap();
    s.store.insert_user(&other).await.unwrap();
    s.store
        .end_session(&me.id, "gone", 1_900_000_000, None)
        .await
        .unwrap();
    let (found, session) = s
        .store
        .user_in_session(&other.id, &me.id, "live")
        .await
        .unwrap();
    assert_eq!(found, Some(other.clone()));
    assert_eq!(session.user, Some(me.clone()));
    assert!(!session.ended);
    let (found, session) = s
        .store
        .user_in_session(&me.id, &me.id, "gone")
        .await
        .unwrap();
    assert_eq!(found, Some(me.clone()));
    assert!(session.ended);
    let (found, session) = s
        .store
        .user_in_session(&UserId::generate(), &me.id, "live")
        .await
        .unwrap();
    assert_eq!((found, session.user), (None, Some(me.clone())));
    let rooms = insert_rooms(s, &other.id, 3).await;
    let mut ids: Vec<RoomId> = rooms.iter().map(|r| r.id.clone()).collect();
    ids.push(RoomId::generate());
    let (mut read, session) = s
        .store
        .rooms_by_id_in_session(&ids, &me.id, "gone")
        .await
        .unwrap();
    read.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let mut expected = rooms.clone();
    expected.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    assert_eq!(read, expected);
    assert_eq!(session.user, Some(me));
    assert!(session.ended);
}

/// Issue 24: a vendor call's outbox entry round-trips with its call, and leaves with the audit
/// entry of its outcome in one write that finds it there: a second removal (a racing
/// deliverer) writes no second audit entry.
async fn a_vendor_call_leaves_with_its_audit_entry_once(s: &TestStore) {
    use liveroom::domain::audit::{Acting, Action, Actor, AuditEntry, Origin, Source, Target};
    use liveroom::domain::outbox::{Enforcement, Event, EventKind, Outbox, Sink, Vendor, order};
    let anchor = UserId::generate();
    let r = room(&anchor, t0());
    let cut = Enforcement::CutStream {
        vendor: Vendor::Livekit,
        domain: String::new(),
        app: String::new(),
        stream: r.id.to_string(),
    };
    let event = Event::new(EventKind::RoomEnded, &r, t0());
    let expires_at = t0().timestamp() + 86_400;
    let calls = Outbox::enforcing(&r.id, order(&r), t0(), expires_at, &event, vec![cut]);
    s.store.insert_room(&r, &calls).await.unwrap();
    let stored = s.store.outbox(&r.id).await.unwrap();
    assert_eq!(stored, calls, "round-trips exactly, its call included");
    assert_eq!(stored[0].sink, Sink::Vendor);
    assert_eq!(s.store.outbox_rooms(10).await.unwrap(), vec![r.id.clone()]);

    let by = Acting {
        actor: Actor::system("outbox"),
        source: Source::Outbox,
        origin: Origin::default(),
    };
    let audit = |at: DateTime<Utc>| {
        AuditEntry::new(at, 90, &by, Action::VendorStreamCut, Target::room(&r.id))
            .detail("outcome", "done")
    };
    let first = audit(t0());
    assert!(
        s.store
            .outbox_done_audited(&stored[0], &first)
            .await
            .unwrap()
    );
    let second = audit(t0() + Duration::seconds(1));
    assert!(
        !s.store
            .outbox_done_audited(&stored[0], &second)
            .await
            .unwrap(),
        "gone: nothing written"
    );
    assert!(s.store.outbox(&r.id).await.unwrap().is_empty());
    assert!(s.store.outbox_rooms(10).await.unwrap().is_empty());
    let (cursor, feed) = s.store.audit_feed(100).await.unwrap();
    assert_eq!(cursor, "", "no cursor yet");
    assert_eq!(feed, vec![first], "the one audit entry, exactly");
}

/// Issue 24: the `audit` webhook's feed reads the log oldest first after its cursor, `limit`
/// at a time; the cursor moves only from the value it has (two deliverers: one moves it).
async fn the_audit_feed_reads_in_order_after_its_cursor_which_moves_once(s: &TestStore) {
    use liveroom::domain::audit::{Acting, Action, AuditEntry, Origin, Source, Target};
    let anchor = UserId::generate();
    let member = UserId::generate();
    let r = room(&anchor, t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    let by = Acting::user(&anchor, Source::Anchor, Origin::default());
    let mut written: Vec<AuditEntry> = Vec::new();
    // Written newest first: the feed's order is the ids' (their time), not the writes'.
    for i in (0..4).rev() {
        let entry = AuditEntry::new(
            t0() + Duration::seconds(i),
            90,
            &by,
            Action::RoomMute,
            Target::user(&member),
        )
        .in_room(&r.id);
        s.store
            .set_muted(
                &r.id,
                Some(&anchor),
                &member,
                i % 2 == 0,
                Some(&entry),
                None,
            )
            .await
            .unwrap();
        written.insert(0, entry);
    }
    let ids =
        |entries: &[AuditEntry]| -> Vec<String> { entries.iter().map(|e| e.id.clone()).collect() };
    let (cursor, feed) = s.store.audit_feed(2).await.unwrap();
    assert_eq!(cursor, "");
    assert_eq!(ids(&feed), ids(&written[..2]));
    assert_eq!(feed[0], written[0], "an entry reads back exactly");
    assert!(s.store.audit_feed_moved("", &written[1].id).await.unwrap());
    assert!(
        !s.store.audit_feed_moved("", &written[0].id).await.unwrap(),
        "moved already: a stale cursor moves nothing"
    );
    let (cursor, feed) = s.store.audit_feed(2).await.unwrap();
    assert_eq!(cursor, written[1].id);
    assert_eq!(ids(&feed), ids(&written[2..]));
    assert!(
        s.store
            .audit_feed_moved(&written[1].id, &written[3].id)
            .await
            .unwrap()
    );
    let (cursor, feed) = s.store.audit_feed(2).await.unwrap();
    assert_eq!(cursor, written[3].id);
    assert!(feed.is_empty());
}

/// `room_bans` lists the members still barred at `now`, longest first, bounded by `limit`: not
/// a kick without a ban, not a ban that has ended, not another room's; a kick again moves it.
async fn a_room_s_bans_are_listed_while_they_last_longest_first(s: &TestStore) {
    let r = room(&UserId::generate(), t0());
    let other = room(&UserId::generate(), t0());
    s.store.insert_room(&r, &[]).await.unwrap();
    s.store.insert_room(&other, &[]).await.unwrap();
    let expires_at = t0().timestamp() + 86_400;
    let users: Vec<UserId> = (0..5).map(|_| UserId::generate()).collect();
    // users[i] is barred for i minutes (users[0]: a kick without a ban), from t0.
    for (i, u) in users.iter().enumerate() {
        s.store.join(touch(&r.id, u, t0())).await.unwrap();
        let until = t0() + Duration::minutes(i as i64);
        s.store
            .ban_member(&r.id, u, until, expires_at, &[], None)
            .await
            .unwrap();
    }
    s.store
        .ban_member(
            &other.id,
            &users[0],
            t0() + Duration::hours(9),
            expires_at,
            &[],
            None,
        )
        .await
        .unwrap();
    let listed = |bans: Vec<liveroom::store::Ban>| -> Vec<(UserId, DateTime<Utc>)> {
        bans.into_iter().map(|b| (b.user_id, b.until)).collect()
    };
    let want = |range: std::ops::RangeInclusive<usize>| -> Vec<(UserId, DateTime<Utc>)> {
        range
            .rev()
            .map(|i| (users[i].clone(), t0() + Duration::minutes(i as i64)))
            .collect()
    };
    assert_eq!(
        listed(s.store.room_bans(&r.id, t0(), 100).await.unwrap()),
        want(1..=4)
    );
    assert_eq!(
        listed(s.store.room_bans(&r.id, t0(), 2).await.unwrap()),
        want(3..=4)
    );
    // At 2 minutes, the 2-minute ban has ended.
    let later = t0() + Duration::minutes(2);
    assert_eq!(
        listed(s.store.room_bans(&r.id, later, 100).await.unwrap()),
        want(3..=4)
    );
    // Kicked again, for longer: listed once, at its new end.
    let longer = t0() + Duration::hours(1);
    s.store
        .ban_member(&r.id, &users[1], longer, expires_at, &[], None)
        .await
        .unwrap();
    let bans = listed(s.store.room_bans(&r.id, later, 100).await.unwrap());
    assert_eq!(bans[0], (users[1].clone(), longer));
    assert_eq!(bans[1..], want(3..=4)[..]);
    // Another room's bans are its own.
    assert_eq!(
        listed(s.store.room_bans(&other.id, t0(), 100).await.unwrap()),
        vec![(users[0].clone(), t0() + Duration::hours(9))]
    );
}
