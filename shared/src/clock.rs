//! Time, injectable: every rule that depends on "now" asks a [`Clock`], so tests move time
//! instead of sleeping.

use chrono::{DateTime, SubsecRound, Utc};
use std::sync::Mutex;

/// RFC 3339, UTC, microseconds: the one time format of the API and the stores.
pub fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub trait Clock: Send + Sync + 'static {
    /// The current time, truncated to microseconds (what the stores keep).
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that moves only when told to (tests, simulations).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start.trunc_subsecs(6)))
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Times as stored by the embedded store: integer microseconds since the epoch (cheap to read
/// back, where an RFC 3339 string must be parsed). In JSON it reads RFC 3339 strings too, which
/// is how earlier versions stored them, so an existing data file keeps working.
pub mod micros {
    use chrono::{DateTime, Utc};
    use serde::{Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(t.timestamp_micros())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        // A self-describing format (JSON) may hold either form; a binary one holds the number.
        if d.is_human_readable() {
            d.deserialize_any(Visitor)
        } else {
            d.deserialize_i64(Visitor)
        }
    }

    pub(super) struct Visitor;

    impl de::Visitor<'_> for Visitor {
        type Value = DateTime<Utc>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("microseconds since the epoch, or an RFC 3339 time")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            DateTime::from_timestamp_micros(v).ok_or_else(|| E::custom("time out of range"))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v)
                .map_err(|_| E::custom("time out of range"))
                .and_then(|v| self.visit_i64(v))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(E::custom)
        }
    }
}

/// [`micros`] for optional times (`null` or absent is `None`).
pub mod micros_option {
    use chrono::{DateTime, Utc};
    use serde::{Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&t.timestamp_micros()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        d.deserialize_option(OptionVisitor)
    }

    struct OptionVisitor;

    impl<'de> de::Visitor<'de> for OptionVisitor {
        type Value = Option<DateTime<Utc>>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an optional time")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            super::micros::deserialize(d).map(Some)
        }
    }
}

#[cfg(test)]
#[path = "tests/clock.rs"]
mod tests;
