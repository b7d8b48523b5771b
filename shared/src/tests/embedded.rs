//! Unit tests of the embedded store's record format (kept apart from the request-path code).

use chrono::{DateTime, Utc};
use redb::ReadableTable;
use serde::Serialize;

use super::presence::Entry;
use super::*;
use crate::domain::user::User;
use crate::domain::{ImageUrl, Nick, UserId, Username};
use crate::store::{Counter, LoginThrottle};

/// A user as the previous version wrote it (before salts, sessions and deletion).
#[derive(Serialize)]
struct UserBefore {
    id: UserId,
    username: Username,
    password_hash: String,
    nick: Nick,
    avatar: ImageUrl,
    #[serde(with = "crate::clock::micros")]
    created_at: DateTime<Utc>,
}

/// A presence entry as the previous version wrote it (before bans).
#[derive(Serialize)]
struct EntryBefore {
    user_id: UserId,
    #[serde(with = "crate::clock::micros_option")]
    joined_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::clock::micros")]
    last_seen: DateTime<Utc>,
    listed: bool,
    visits: u64,
}

#[test]
fn records_written_before_a_type_gained_fields_read_back_with_the_defaults() {
    let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let before = UserBefore {
        id: UserId::parse("id", "alice").unwrap(),
        username: Username::parse("alice").unwrap(),
        password_hash: "$argon2id$v=19$...".to_owned(),
        nick: Nick::parse("nick", "Alice").unwrap(),
        avatar: ImageUrl::empty(),
        created_at: at,
    };
    let user: User = decode(&encode(&before).unwrap()).unwrap();
    assert_eq!(
        (user.id.as_str(), user.nick.as_str(), user.created_at),
        ("alice", "Alice", at)
    );
    assert_eq!(
        (user.salt.clone(), user.sessions, user.deleted_at),
        (None, 0, None)
    );
    assert!(user.roles.is_empty() && user.disabled.is_none());

    let entry: Entry = decode(
        &encode(&EntryBefore {
            user_id: UserId::parse("id", "bob").unwrap(),
            joined_at: Some(at),
            last_seen: at,
            listed: true,
            visits: 3,
        })
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (entry.visits, entry.listed, entry.banned_until),
        (3, true, None)
    );
    // A record of today's layout is read as is, not padded.
    let now = User {
        sessions: 7,
        ..user
    };
    assert_eq!(decode::<User>(&encode(&now).unwrap()).unwrap(), now);
}

/// Issue 21, 10: throttle windows are dropped only when no request can still be counting in
/// them. Counts in a window survive a count in the next one (instances whose clocks straddle
/// the boundary); a window two behind the newest is dropped, and a request that late is
/// refused rather than counted on it afresh.
#[tokio::test]
async fn throttle_windows_are_dropped_only_when_no_request_counts_in_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(&dir.path().join("t.redb")).unwrap();
    let counter = || {
        vec![Counter {
            key: "ip:192.0.2.1".to_owned(),
            counts: vec![("attempts".to_owned(), 2)],
        }]
    };
    let count = |window| {
        let store = store.clone();
        async move { store.count_attempt(&counter(), window, 0).await.unwrap() }
    };
    assert_eq!(count(100).await, [true]);
    assert_eq!(count(101).await, [true]);
    // Window 100 kept its count: its second attempt is its last.
    assert_eq!(count(100).await, [true]);
    assert_eq!(count(100).await, [false]);
    assert_eq!(count(101).await, [true]);
    assert_eq!(count(101).await, [false]);
    // Window 102 drops 100; a request still counting in 100 is refused, not counted afresh.
    assert_eq!(count(102).await, [true]);
    assert_eq!(count(100).await, [false]);
    assert_eq!(count(101).await, [false], "101 is kept");
    let keys: Vec<String> = store
        .blocking(|db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let table = txn.open_table(THROTTLE).map_err(unavailable)?;
            let keys = table
                .iter()
                .map_err(unavailable)?
                .filter_map(Result::ok)
                .map(|(k, _)| k.value().to_owned())
                .collect();
            Ok(keys)
        })
        .await
        .unwrap();
    assert!(keys.iter().all(|k| !k.ends_with("|100")), "{keys:?}");
}
