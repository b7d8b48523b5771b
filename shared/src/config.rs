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

/// Everything every function needs. Store-specific settings (the table name) are read by the
/// entry point that builds that store.
#[derive(Debug, Clone)]
pub struct Config {
    /// `JWT_SECRET`: HS256 key for access and refresh tokens. Required, no default.
    pub jwt_secret: Secret,
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
    /// `LIVE_PROVIDER`, `RTC_PROVIDER`, `IM_PROVIDER`, their settings, `CREDENTIAL_TTL_SECONDS`.
    pub providers: crate::credentials::Providers,
    /// Which outbox sinks are on: the room's IM group (`IM_PROVIDER=tencent`) and the webhook
    /// receiver (`WEBHOOK_URL`). Their delivery settings are read by the functions that
    /// deliver (`crate::delivery`).
    pub outbox: crate::domain::outbox::Outbox,
    /// The inbound callbacks' keys: `ALIYUN_LIVE_CALLBACK_KEY`, `TENCENT_LIVE_CALLBACK_KEY`,
    /// `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET` (each callback is on when its key is set).
    pub callbacks: crate::callbacks::CallbackKeys,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads through `lookup` instead of the process environment (tests, the local server).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret = lookup("JWT_SECRET").ok_or_else(|| {
            ConfigError::new(
                "JWT_SECRET",
                "is required (at least 32 bytes; there is no default)",
            )
        })?;
        let providers = crate::credentials::Providers::from_lookup(&lookup)?;
        let outbox = crate::domain::outbox::Outbox {
            im: providers.im.im_groups().is_some(),
            webhook: lookup("WEBHOOK_URL").is_some_and(|v| !v.trim().is_empty()),
        };
        Ok(Self {
            jwt_secret: Secret::parse("JWT_SECRET", &secret)?,
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
            providers,
            outbox,
            callbacks: crate::credentials::callback_keys(&lookup)?,
        })
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
