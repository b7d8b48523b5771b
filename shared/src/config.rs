//! Configuration, read from the environment once at cold start and validated there.
//!
//! A missing or bad variable stops the process with a message naming it. Secrets have no
//! defaults and their `Debug` output is redacted, so a config can be logged safely.

use std::fmt;
use std::time::Duration;

/// A configuration error names the variable and says what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

/// Key material that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Shortest accepted HS256 key: 32 bytes, the size of the hash (RFC 7518 §3.2).
    pub const MIN_LEN: usize = 32;

    pub fn parse(variable: &'static str, value: &str) -> Result<Self, ConfigError> {
        if value.len() < Self::MIN_LEN {
            return Err(ConfigError::new(
                variable,
                format!(
                    "must be at least {} bytes (got {}); generate one with `openssl rand -hex 32`",
                    Self::MIN_LEN,
                    value.len()
                ),
            ));
        }
        Ok(Self(value.as_bytes().to_vec()))
    }

    /// A vendor key: at least `min` bytes, no surrounding whitespace.
    pub fn parse_min(variable: &'static str, value: &str, min: usize) -> Result<Self, ConfigError> {
        if value.len() < min || value.trim() != value {
            return Err(ConfigError::new(
                variable,
                format!("must be at least {min} bytes without surrounding spaces"),
            ));
        }
        Ok(Self(value.as_bytes().to_vec()))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The variables that hold secrets. A function is given (template.yaml) and reads only those of
/// the groups its endpoint uses ([`Reads`]); a test holds the template to that.
pub const SECRET_VARIABLES: &[&str] = &[
    "JWT_SECRET",
    "ALIYUN_RTC_APP_KEY",
    "ALIYUN_IM_APP_KEY",
    "ALIYUN_LIVE_PUSH_AUTH_KEY",
    "ALIYUN_LIVE_PULL_AUTH_KEY",
    "TENCENT_SECRET_KEY",
    "TENCENT_LIVE_PUSH_KEY",
    "TENCENT_LIVE_PULL_KEY",
    "LIVEKIT_API_SECRET",
    "ALIYUN_LIVE_CALLBACK_KEY",
    "TENCENT_LIVE_CALLBACK_KEY",
    "WEBHOOK_SECRET",
];

/// The groups of secret settings a function reads, beyond what every function reads (the
/// tunables, the providers' names and public ids, whether webhooks are on, the IM
/// administrator's name). Each endpoint declares its own ([`crate::http::Endpoint::reads`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reads {
    /// `JWT_SECRET` (and the token lifetimes): the function verifies or issues our tokens.
    pub tokens: bool,
    /// The providers' keys: the function signs URLs or credentials (or, the sweeper and the
    /// outbox, the IM administrator's UserSig).
    pub providers: bool,
    /// `ALIYUN_LIVE_CALLBACK_KEY`: the Alibaba stream callback.
    pub aliyun_callback: bool,
    /// `TENCENT_LIVE_CALLBACK_KEY`: the Tencent stream callback.
    pub tencent_callback: bool,
    /// `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET` as the webhooks' key: LiveKit's webhooks.
    pub livekit_callback: bool,
}

impl Reads {
    /// No secret at all (`register`).
    pub const NOTHING: Reads = Reads {
        tokens: false,
        providers: false,
        aliyun_callback: false,
        tencent_callback: false,
        livekit_callback: false,
    };
    /// Our tokens only.
    pub const TOKENS: Reads = Reads {
        tokens: true,
        ..Self::NOTHING
    };
    /// Our tokens and the providers' keys.
    pub const SIGNING: Reads = Reads {
        tokens: true,
        providers: true,
        ..Self::NOTHING
    };
    /// The providers' keys only (the sweeper and the outbox, whose delivery settings are
    /// `crate::delivery`'s).
    pub const PROVIDERS: Reads = Reads {
        providers: true,
        ..Self::NOTHING
    };
    pub const ALIYUN_CALLBACK: Reads = Reads {
        aliyun_callback: true,
        ..Self::NOTHING
    };
    pub const TENCENT_CALLBACK: Reads = Reads {
        tencent_callback: true,
        ..Self::NOTHING
    };
    pub const LIVEKIT_CALLBACK: Reads = Reads {
        livekit_callback: true,
        ..Self::NOTHING
    };
    /// Everything: the local server and the tests, which serve every endpoint.
    pub const ALL: Reads = Reads {
        tokens: true,
        providers: true,
        aliyun_callback: true,
        tencent_callback: true,
        livekit_callback: true,
    };
}

/// What a function needs. Store-specific settings (the table name) are read by the entry point
/// that builds that store.
#[derive(Debug, Clone)]
pub struct Config {
    /// `JWT_SECRET`: HS256 key for access and refresh tokens. Required, no default, where
    /// tokens are read ([`Reads::tokens`]); `None` elsewhere.
    pub jwt_secret: Option<Secret>,
    /// `ACCESS_TOKEN_TTL_SECONDS` (default 7200).
    pub access_token_ttl: Duration,
    /// `REFRESH_TOKEN_TTL_SECONDS` (default 2592000, 30 days).
    pub refresh_token_ttl: Duration,
    /// `MAX_BODY_BYTES` (default 65536): larger request bodies get 413.
    pub max_body_bytes: usize,
    /// `MAX_CO_HOSTS` (default 4, seed 001): meeting-list capacity, anchor included.
    pub max_co_hosts: usize,
    /// `HEARTBEAT_TIMEOUT_SECONDS` (default 20, seed 001): a member is online while its last
    /// keepalive is younger than this.
    pub heartbeat_timeout: Duration,
    /// `ANCHOR_TIMEOUT_SECONDS` (default 60): a live room whose anchor is silent this long is paused.
    pub anchor_timeout: Duration,
    /// `IDLE_ROOM_TIMEOUT_SECONDS` (default 30, seed 001): a room nobody entered this long is ended.
    pub idle_room_timeout: Duration,
    /// `RETENTION_DAYS` (default 30): how long an ended room is kept.
    pub retention: Duration,
    /// `METRICS_MAX_AGE_SECONDS` (default 5): `get` never shows an `online_count` counted
    /// longer ago than this.
    pub metrics_max_age: Duration,
    /// `MAX_OPEN_ROOMS_PER_USER` (default 10, at most 100): a user's rooms that have not
    /// ended, at most; `create` past it is 429.
    pub max_open_rooms: u32,
    /// `ROOM_CREATIONS_PER_USER_PER_MINUTE` (default 30): a user's `create`s in one minute,
    /// at most; past it 429 until the next minute.
    pub room_creations_per_minute: u32,
    /// `LIVE_PROVIDER`, `RTC_PROVIDER`, `IM_PROVIDER`, their settings, `CREDENTIAL_TTL_SECONDS`
    /// (where [`Reads::providers`]; no provider elsewhere).
    pub providers: crate::credentials::Providers,
    /// The user name a configured vendor keeps (`TENCENT_IM_ADMIN`, when Tencent serves RTC or
    /// IM): nobody may register it.
    pub reserved_name: Option<crate::domain::UserId>,
    /// Which outbox sinks are on: the room's IM group (`IM_PROVIDER=tencent`) and the webhook
    /// receiver (`WEBHOOK_URL`). Their delivery settings are read by the functions that
    /// deliver (`crate::delivery`).
    pub outbox: crate::domain::outbox::Outbox,
    /// The inbound callbacks' keys: `ALIYUN_LIVE_CALLBACK_KEY`, `TENCENT_LIVE_CALLBACK_KEY`,
    /// `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET` (each callback is on when its key is set, in
    /// the function that reads it: [`Reads::aliyun_callback`] and the like).
    pub callbacks: crate::callbacks::CallbackKeys,
}

impl Config {
    /// What a function of `reads` reads, from the process environment.
    pub fn from_env(reads: Reads) -> Result<Self, ConfigError> {
        Self::reading(reads, |name| std::env::var(name).ok())
    }

    /// Everything, through `lookup` instead of the process environment (tests, the local
    /// server).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::reading(Reads::ALL, lookup)
    }

    /// What a function of `reads` reads, through `lookup`: the secrets of the groups it reads,
    /// and no other.
    pub fn reading(
        reads: Reads,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let jwt_secret = if reads.tokens {
            let secret = lookup("JWT_SECRET").ok_or_else(|| {
                ConfigError::new(
                    "JWT_SECRET",
                    "is required (at least 32 bytes; there is no default)",
                )
            })?;
            Some(Secret::parse("JWT_SECRET", &secret)?)
        } else {
            None
        };
        let providers = if reads.providers {
            crate::credentials::Providers::from_lookup(&lookup)?
        } else {
            crate::credentials::Providers::default()
        };
        let outbox = crate::domain::outbox::Outbox {
            im: crate::credentials::im_keeps_groups(&lookup)?,
            webhook: lookup("WEBHOOK_URL").is_some_and(|v| !v.trim().is_empty()),
        };
        Ok(Self {
            jwt_secret,
            access_token_ttl: seconds(&lookup, "ACCESS_TOKEN_TTL_SECONDS", 7200, 60..=86_400 * 7)?,
            refresh_token_ttl: seconds(
                &lookup,
                "REFRESH_TOKEN_TTL_SECONDS",
                30 * 86_400,
                3600..=365 * 86_400,
            )?,
            max_body_bytes: number(&lookup, "MAX_BODY_BYTES", 65_536, 1024..=6 * 1024 * 1024)?
                as usize,
            max_co_hosts: number(&lookup, "MAX_CO_HOSTS", 4, 1..=16)? as usize,
            heartbeat_timeout: seconds(&lookup, "HEARTBEAT_TIMEOUT_SECONDS", 20, 5..=3600)?,
            anchor_timeout: seconds(&lookup, "ANCHOR_TIMEOUT_SECONDS", 60, 10..=86_400)?,
            idle_room_timeout: seconds(&lookup, "IDLE_ROOM_TIMEOUT_SECONDS", 30, 10..=86_400)?,
            retention: Duration::from_secs(
                number(&lookup, "RETENTION_DAYS", 30, 1..=3650)? * 86_400,
            ),
            metrics_max_age: seconds(&lookup, "METRICS_MAX_AGE_SECONDS", 5, 1..=300)?,
            // At most 100: one read checks them all when the set is full.
            max_open_rooms: number(&lookup, "MAX_OPEN_ROOMS_PER_USER", 10, 1..=100)? as u32,
            room_creations_per_minute: number(
                &lookup,
                "ROOM_CREATIONS_PER_USER_PER_MINUTE",
                30,
                1..=100_000,
            )? as u32,
            providers,
            reserved_name: crate::credentials::reserved_name(&lookup)?,
            outbox,
            callbacks: crate::credentials::callback_keys(&lookup, reads)?,
        })
    }

    /// This configuration as a function of `reads` holds it: the secrets of the other groups
    /// dropped (what the tests and [`crate::App::scoped`] serve each endpoint with).
    pub fn restricted(&self, reads: Reads) -> Self {
        let mut config = self.clone();
        if !reads.tokens {
            config.jwt_secret = None;
        }
        if !reads.providers {
            config.providers = crate::credentials::Providers {
                ttl: config.providers.ttl,
                ..crate::credentials::Providers::default()
            };
        }
        if !reads.aliyun_callback {
            config.callbacks.aliyun = None;
        }
        if !reads.tencent_callback {
            config.callbacks.tencent = None;
        }
        if !reads.livekit_callback {
            config.callbacks.livekit = None;
        }
        config
    }

    /// Whether `name` is a user name a configured vendor keeps for itself (compared without
    /// regard to case, as user names are unique).
    pub fn reserves(&self, name: &str) -> bool {
        self.reserved_name
            .as_ref()
            .is_some_and(|r| r.as_str().eq_ignore_ascii_case(name))
    }
}

fn number(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Some(raw) = lookup(variable) else {
        return Ok(default);
    };
    let value: u64 = raw
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(variable, format!("must be a whole number (got {raw:?})")))?;
    if !range.contains(&value) {
        return Err(ConfigError::new(
            variable,
            format!("must be {} to {} (got {value})", range.start(), range.end()),
        ));
    }
    Ok(value)
}

pub(crate) fn seconds(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Duration, ConfigError> {
    number(lookup, variable, default, range).map(Duration::from_secs)
}

/// A required variable, for entry points (e.g. `TABLE_NAME`).
pub fn required(variable: &'static str) -> Result<String, ConfigError> {
    match std::env::var(variable) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::new(variable, "is required")),
    }
}

#[cfg(test)]
#[path = "tests/config.rs"]
mod tests;
