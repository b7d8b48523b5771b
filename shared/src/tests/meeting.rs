//! Unit tests of `meeting` (kept apart from the request-path code).

use super::*;

fn member(id: &UserId, camera: bool) -> Member {
    Member {
        user_id: id.clone(),
        user_nick: Nick::empty(),
        user_avatar: ImageUrl::empty(),
        camera_opened: camera,
        mic_opened: false,
    }
}

#[test]
fn a_member_may_flip_its_own_devices_only() {
    let (me, other) = (UserId::generate(), UserId::generate());
    let current = vec![member(&me, false), member(&other, false)];
    assert!(only_own_devices_changed(
        &current,
        &[member(&me, true), member(&other, false)],
        &me
    ));
    assert!(!only_own_devices_changed(
        &current,
        &[member(&me, false), member(&other, true)],
        &me
    ));
    assert!(!only_own_devices_changed(
        &current,
        &[member(&me, true)],
        &me
    ));
    let mut renamed = member(&me, false);
    renamed.user_nick = Nick::parse("n", "new name").unwrap();
    assert!(!only_own_devices_changed(
        &current,
        &[renamed, member(&other, false)],
        &me
    ));
}
