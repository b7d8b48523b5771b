//! Unit tests of `rooms` (kept apart from the request-path code).

use super::*;
use RoomStatus::*;

#[test]
fn start_moves_prepare_to_live_and_repeats_as_a_no_op() {
    assert_eq!(Prepare.apply(Action::Start), Step::To(Live));
    assert_eq!(Live.apply(Action::Start), Step::Stay);
}

#[test]
fn pause_moves_live_back_to_prepare() {
    assert_eq!(Live.apply(Action::Pause), Step::To(Prepare));
    assert_eq!(Prepare.apply(Action::Pause), Step::Stay);
}

#[test]
fn stop_ends_from_prepare_or_live_and_ended_is_final() {
    assert_eq!(Prepare.apply(Action::Stop), Step::To(Ended));
    assert_eq!(Live.apply(Action::Stop), Step::To(Ended));
    assert_eq!(Ended.apply(Action::Stop), Step::Stay);
    assert_eq!(Ended.apply(Action::Start), Step::Refuse);
    assert_eq!(Ended.apply(Action::Pause), Step::Refuse);
}

#[test]
fn no_action_leaves_ended() {
    for action in [Action::Start, Action::Pause, Action::Stop] {
        assert!(!matches!(Ended.apply(action), Step::To(s) if s != Ended));
    }
}
