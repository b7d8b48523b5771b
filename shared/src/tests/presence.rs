//! Unit tests of `presence` (kept apart from the request-path code).

use super::*;

#[test]
fn a_cursor_round_trips_and_garbage_is_refused() {
    let key = format!(
        "{:013}#{}",
        1_700_000_000_000i64,
        crate::domain::UserId::generate()
    );
    for cursor in [
        Cursor {
            shard: 7,
            before: Some(key),
        },
        Cursor {
            shard: 31,
            before: None,
        },
    ] {
        assert_eq!(decode_cursor(&encode_cursor(&cursor)).unwrap(), cursor);
    }
    assert!(decode_cursor("!!").is_err());
    assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("07:12#x")).is_err());
    assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("32:")).is_err());
    assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("7:")).is_err());
}
