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
        chat_ready: false,
        changes: 0,
        stopped: None,
        recording: None,
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

#[test]
fn a_change_reports_its_status_event_and_the_outbox_orders_after_the_previous_change() {
    use crate::domain::outbox::{Entry, Event, EventKind, Outbox, Sink, status_event};
    let now = DateTime::<Utc>::from_timestamp(1_800_000_100, 0).unwrap();
    let retention = std::time::Duration::from_secs(86_400);
    let prepare = room(Prepare);
    let Transition::To(live) = prepare.apply(Action::Start, now, retention) else {
        panic!("start must go live");
    };
    assert_eq!(status_event(&prepare, &live), Some(EventKind::RoomStarted));
    assert_eq!(status_event(&live, &live), None);
    let Transition::To(paused) = live.apply(Action::Pause, now, retention) else {
        panic!("pause");
    };
    assert_eq!(status_event(&live, &paused), Some(EventKind::RoomPaused));
    let Transition::To(ended) = live.apply(Action::Stop, now, retention) else {
        panic!("stop");
    };
    assert_eq!(status_event(&live, &ended), Some(EventKind::RoomEnded));

    // Nothing when no sink is on; one entry per sink that is on; a kick never reaches IM.
    let event = |kind| Event::new(kind, &live, now);
    let off = Outbox::default();
    assert!(
        off.entries(&live.id, 1, now, 9, vec![event(EventKind::RoomStarted)])
            .is_empty()
    );
    let both = Outbox {
        im: true,
        webhook: true,
    };
    let entries = both.entries(&live.id, 1, now, 9, vec![event(EventKind::RoomStarted)]);
    assert_eq!(
        entries.iter().map(|e| e.sink).collect::<Vec<_>>(),
        vec![Sink::Im, Sink::Webhook]
    );
    assert_eq!(entries[0].event.id, entries[1].event.id);
    let kicked = both.entries(&live.id, 1, now, 9, vec![event(EventKind::MemberKicked)]);
    assert_eq!(kicked.len(), 1);
    assert_eq!(kicked[0].sink, Sink::Webhook);

    // The change count orders, whatever the clocks say; a later change count of 10 sorts
    // after 9 (the key is zero-padded).
    let later = now + chrono::Duration::seconds(5);
    let first = both.entries(&live.id, 9, later, 9, vec![event(EventKind::RoomPaused)]);
    let second = both.entries(&live.id, 10, now, 9, vec![event(EventKind::RoomStarted)]);
    assert!(
        second[0].seq > first[0].seq,
        "{} > {}",
        second[0].seq,
        first[0].seq
    );
    // One change count: the rank breaks the tie (a kick after the co-host change it follows,
    // a deletion last).
    let a = both.entries(&live.id, 4, later, 9, vec![event(EventKind::MemberKicked)]);
    let b = both.entries(&live.id, 4, now, 9, vec![event(EventKind::RoomDeleted)]);
    let c = both.entries(
        &live.id,
        4,
        later,
        9,
        vec![event(EventKind::CohostsChanged)],
    );
    assert!(c[0].seq < a[0].seq && a[0].seq < b[0].seq);
    // A write reports the count after the one it read; the store moves the room to it.
    assert_eq!(crate::domain::outbox::order(&live), live.changes + 1);
    let mut moved = live.clone();
    crate::domain::outbox::counted(&mut moved, &c);
    assert_eq!(moved.changes, 4);
    crate::domain::outbox::counted(&mut moved, &[]);
    assert_eq!(moved.changes, 4, "nothing reported, nothing counted");

    // Backoff: 5 s doubling, at most 10 minutes.
    let waits: Vec<i64> = (1..=10).map(|n| Entry::backoff(n).num_seconds()).collect();
    assert_eq!(waits, vec![5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
}
