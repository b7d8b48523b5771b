//! Unit tests of `presence` (kept apart from the request-path code).

use super::*;

#[test]
fn a_cursor_round_trips_and_garbage_is_refused() {
    let key = format!(
        "{:013}#{}",
        1_700_000_000_000i64,
        crate::domain::UserId::generate()
    );
    assert_eq!(decode_cursor(&encode_cursor(&key)).unwrap(), key);
    assert!(decode_cursor("!!").is_err());
    assert!(decode_cursor(&encode_cursor("12#x")).is_err());
}
