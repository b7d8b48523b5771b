//! Unit tests of the room's state machine (kept apart from the request-path code).

use super::*;
use RoomStatus::*;
use chrono::{DateTime, Utc};

#[test]
fn start_moves_prepare_to_live_and_repeats_as_a_no_op() {
    assert_eq!(Prepare.step(Action::Start), Step::To(Live));
    assert_eq!(Live.step(Action::Start), Step::Stay);
}

#[test]
fn pause_moves_live_back_to_prepare() {
    assert_eq!(Live.step(Action::Pause), Step::To(Prepare));
    assert_eq!(Prepare.step(Action::Pause), Step::Stay);
}

#[test]
fn stop_ends_from_prepare_or_live_and_ended_is_final() {
    assert_eq!(Prepare.step(Action::Stop), Step::To(Ended));
    assert_eq!(Live.step(Action::Stop), Step::To(Ended));
    assert_eq!(Ended.step(Action::Stop), Step::Stay);
    assert_eq!(Ended.step(Action::Start), Step::Refuse);
    assert_eq!(Ended.step(Action::Pause), Step::Refuse);
}

#[test]
fn no_action_leaves_ended() {
    for action in [Action::Start, Action::Pause, Action::Stop] {
        assert!(!matches!(Ended.step(action), Step::To(s) if s != Ended));
    }
}

fn room(status: RoomStatus) -> Room {
    let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap();
    Room {
        id: RoomId::generate(),
        anchor_id: UserId::generate(),
        anchor_nick: Nick::empty(),
        title: Title::parse("t").unwrap(),
        notice: Notice::empty(),
        cover_url: ImageUrl::empty(),
        extends: Extends::empty(),
        category: Category::empty(),
        mode: RoomMode::Normal,
        status,
        version: 3,
        created_at: t0,
        updated_at: t0,
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
    }
}

#[test]
fn ending_a_room_stamps_its_purge_time_whoever_ends_it() {
    let now = DateTime::<Utc>::from_timestamp(1_800_000_100, 0).unwrap();
    let retention = std::time::Duration::from_secs(86_400);
    for from in [Prepare, Live] {
        let Transition::To(next) = room(from).apply(Action::Stop, now, retention) else {
            panic!("stop must end a {from:?} room");
        };
        assert_eq!(next.status, Ended);
        assert_eq!(next.stopped_at, Some(now));
        assert_eq!(next.expires_at, Some(now.timestamp() + 86_400));
        assert_eq!(next.version, 4);
        assert_eq!(next.updated_at, now);
    }
}

#[test]
fn the_first_start_is_stamped_once_and_a_pause_keeps_it() {
    let t1 = DateTime::<Utc>::from_timestamp(1_800_000_100, 0).unwrap();
    let t2 = DateTime::<Utc>::from_timestamp(1_800_000_200, 0).unwrap();
    let retention = std::time::Duration::from_secs(60);
    let Transition::To(live) = room(Prepare).apply(Action::Start, t1, retention) else {
        panic!("start");
    };
    let Transition::To(paused) = live.apply(Action::Pause, t2, retention) else {
        panic!("pause");
    };
    let Transition::To(again) = paused.apply(Action::Start, t2, retention) else {
        panic!("start again");
    };
    assert_eq!(again.started_at, Some(t1));
    assert_eq!(again.expires_at, None);
    assert_eq!(
        room(Ended).apply(Action::Start, t1, retention),
        Transition::Refuse
    );
    assert_eq!(
        room(Live).apply(Action::Start, t1, retention),
        Transition::Stay
    );
}
