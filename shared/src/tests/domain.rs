//! Unit tests of `domain` (kept apart from the request-path code).

use super::*;

#[test]
fn a_generated_user_id_parses_back() {
    let id = UserId::generate();
    assert_eq!(UserId::parse("user_id", id.as_str()).unwrap(), id);
}

#[test]
fn a_user_id_is_what_every_vendor_accepts() {
    for ok in ["Alice", "a", "user_01-x", &"x".repeat(32)] {
        assert!(UserId::parse("user_id", ok).is_ok(), "{ok}");
    }
    for bad in [
        "",
        "al ice",
        "a.b",
        "a@b",
        "直播",
        &"x".repeat(33),
        "a\u{0}",
    ] {
        assert!(UserId::parse("user_id", bad).is_err(), "{bad:?}");
    }
}

#[test]
fn a_users_id_is_its_username_as_registered() {
    let name = Username::parse("Alice_01").unwrap();
    assert_eq!(UserId::from(&name).as_str(), "Alice_01");
    assert!(UserId::parse("user_id", UserId::from(&name).as_str()).is_ok());
}

#[test]
fn a_room_id_must_be_a_lowercase_hyphenated_uuid() {
    let id = RoomId::generate();
    assert!(RoomId::parse("id", id.as_str()).is_ok());
    assert!(RoomId::parse("id", &id.as_str().to_uppercase()).is_err());
    assert!(RoomId::parse("id", &id.as_str().replace('-', "")).is_err());
    assert!(RoomId::parse("id", "../../etc/passwd").is_err());
}

#[test]
fn usernames_are_unique_without_regard_to_case() {
    let a = Username::parse("Alice").unwrap();
    let b = Username::parse("alice").unwrap();
    assert_eq!(a.key(), b.key());
    assert_eq!(a.as_str(), "Alice");
}

#[test]
fn a_username_outside_the_vendor_id_rules_or_reserved_is_rejected() {
    assert!(Username::parse("al ice").is_err());
    assert!(Username::parse("").is_err());
    assert!(Username::parse("alice@example.com").is_err());
    assert!(Username::parse("+8615800001111").is_err());
    assert!(Username::parse("8615800001111").is_ok());
    assert!(Username::parse(&"x".repeat(33)).is_err());
    assert!(Username::parse("Administrator").is_err());
    assert!(Username::parse("admin").is_err());
}

#[test]
fn a_short_password_is_rejected_and_debug_hides_it() {
    assert!(Password::parse("short".into()).is_err());
    let p = Password::parse("long enough secret".into()).unwrap();
    assert!(!format!("{p:?}").contains("secret"));
}

#[test]
fn a_title_is_trimmed_and_counted_in_characters() {
    assert_eq!(Title::parse("  Hi  ").unwrap().as_str(), "Hi");
    assert!(Title::parse("   ").is_err());
    assert!(Title::parse(&"直".repeat(128)).is_ok());
    assert!(Title::parse(&"直".repeat(129)).is_err());
    assert!(Title::parse(&"x".repeat(10_000)).is_err());
    assert!(Title::parse("a\u{0}b").is_err());
}

#[test]
fn an_image_url_must_be_http_or_empty() {
    assert!(ImageUrl::parse("cover_url", "").is_ok());
    assert!(ImageUrl::parse("cover_url", "https://cdn.example.com/a.png").is_ok());
    assert!(ImageUrl::parse("cover_url", "javascript:alert(1)").is_err());
    assert!(ImageUrl::parse("cover_url", "https://").is_err());
    assert!(ImageUrl::parse("cover_url", "https://a b").is_err());
}

#[test]
fn modes_and_statuses_reject_unknown_values() {
    assert_eq!(RoomMode::try_from(1).unwrap(), RoomMode::CoHost);
    assert!(RoomMode::try_from(3).is_err());
    assert!(RoomStatus::try_from(-1).is_err());
    assert_eq!(parse_status_filter(Some(-1)).unwrap(), None);
    assert_eq!(parse_status_filter(None).unwrap(), None);
    assert_eq!(
        parse_status_filter(Some(2)).unwrap(),
        Some(RoomStatus::Ended)
    );
    assert!(parse_status_filter(Some(7)).is_err());
}

#[test]
fn page_size_must_be_between_1_and_100() {
    assert!(Page::parse(1, 0).is_err());
    assert!(Page::parse(1, 1000).is_err());
    assert!(Page::parse(0, 10).is_err());
    assert_eq!(
        Page::parse(3, 10).unwrap(),
        Page {
            offset: 20,
            size: 10
        }
    );
}

#[test]
fn a_page_too_deep_is_rejected_without_overflow() {
    assert!(Page::parse(i64::MAX, 100).is_err());
    assert!(Page::parse(101, 100).is_ok());
    assert!(Page::parse(102, 100).is_err());
}

#[test]
fn a_category_is_a_short_slug() {
    assert!(Category::parse("liveRoom").is_ok());
    assert!(Category::parse("a b").is_err());
    assert!(Category::parse(&"x".repeat(33)).is_err());
}

#[test]
fn a_channel_names_one_room_id_and_only_its_own() {
    let a = ChannelId::parse("channelId", "call-42").unwrap();
    let b = ChannelId::parse("channelId", "call-43").unwrap();
    let id = RoomId::for_channel(&a);
    assert_eq!(id, RoomId::for_channel(&a), "the same on every instance");
    assert_ne!(id, RoomId::for_channel(&b));
    // A room id like any other (so every path that takes one takes it).
    assert_eq!(RoomId::parse("id", id.as_str()).unwrap(), id);
    for bad in ["", "a b", "x/y", &"c".repeat(65), "直播"] {
        assert!(ChannelId::parse("channelId", bad).is_err(), "{bad:?}");
    }
    assert!(ChannelId::parse("channelId", &"c".repeat(64)).is_ok());
}
