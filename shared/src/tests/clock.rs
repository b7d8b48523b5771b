//! Unit tests of the stored time format.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Stamped {
    #[serde(with = "super::micros")]
    at: DateTime<Utc>,
    #[serde(default, with = "super::micros_option")]
    maybe: Option<DateTime<Utc>>,
}

fn t(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap()
}

#[test]
fn times_are_stored_as_microseconds_and_read_back_exactly() {
    let value = Stamped {
        at: t(1_800_000_000_123_456),
        maybe: Some(t(1_800_000_001_000_001)),
    };
    let json = serde_json::to_string(&value).unwrap();
    assert_eq!(json, r#"{"at":1800000000123456,"maybe":1800000001000001}"#);
    assert_eq!(serde_json::from_str::<Stamped>(&json).unwrap(), value);
    let none = Stamped {
        at: t(0),
        maybe: None,
    };
    let json = serde_json::to_string(&none).unwrap();
    assert_eq!(serde_json::from_str::<Stamped>(&json).unwrap(), none);
}

#[test]
fn times_stored_by_earlier_versions_as_rfc_3339_still_read() {
    let old = r#"{"at":"2027-01-15T08:00:00.123456Z","maybe":"2027-01-15T08:00:01Z"}"#;
    let value: Stamped = serde_json::from_str(old).unwrap();
    assert_eq!(
        value.at,
        "2027-01-15T08:00:00.123456Z"
            .parse::<DateTime<Utc>>()
            .unwrap()
    );
    assert!(value.maybe.is_some());
    let absent: Stamped = serde_json::from_str(r#"{"at":5}"#).unwrap();
    assert_eq!(absent.maybe, None);
    assert!(serde_json::from_str::<Stamped>(r#"{"at":"yesterday"}"#).is_err());
}

#[test]
fn a_binary_format_stores_the_number_and_reads_it_back() {
    let value = Stamped {
        at: t(1_800_000_000_123_456),
        maybe: None,
    };
    let bytes = postcard::to_allocvec(&value).unwrap();
    assert_eq!(postcard::from_bytes::<Stamped>(&bytes).unwrap(), value);
    let some = Stamped {
        at: t(-5),
        maybe: Some(t(7)),
    };
    let bytes = postcard::to_allocvec(&some).unwrap();
    assert_eq!(postcard::from_bytes::<Stamped>(&bytes).unwrap(), some);
}
