//! Configuration, read from the environment once at cold start and validated there.
//!
//! A missing or bad variable stops the process with a message naming it. Secrets have no
//! defaults and their `Debug` output is redacted, so a config can be logged safely.
//!
//! This module composes: it says which variables a function reads and builds the [`Config`]
//! from them, through the parsers of [`crate::env`] and the providers' settings of
//! [`crate::credentials`]. Never here: how one variable is parsed (`env`), a vendor's
//! variables (`credentials`), or anything done per request.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::credentials::{CallbackKeys, Providers};
use crate::domain::UserId;
use crate::domain::outbox::Outbox;
use crate::enforce::Enforcers;
use crate::env::{ConfigError, JwtPrivateKey, JwtPublicKey, SecretGroups, Tokens, number, seconds};

/// The variables that hold secrets. A function is given (template.yaml) and reads only those of
/// the purposes its code uses ([`SecretGroups`]); a test holds the template to that.
pub const SECRET_VARIABLES: &[&str] = &[
    "JWT_PRIVATE_KEY",
    "ALIYUN_RTC_APP_KEY",
    "ALIYUN_IM_APP_KEY",
    "ALIYUN_LIVE_PUSH_AUTH_KEY",
    "ALIYUN_LIVE_PULL_AUTH_KEY",
    "TENCENT_SECRET_KEY",
    "TENCENT_LIVE_PUSH_KEY",
    "TENCENT_LIVE_PULL_KEY",
    "TENCENT_VOD_PLAY_KEY",
    "LIVEKIT_API_SECRET",
    "ALIYUN_LIVE_CALLBACK_KEY",
    "TENCENT_LIVE_CALLBACK_KEY",
    "WEBHOOK_SECRET",
    "ALIYUN_ACCESS_KEY_SECRET",
    "TENCENT_API_SECRET_KEY",
];

/// The keys a function holds by purpose: [`SECRET_VARIABLES`] and `JWT_PUBLIC_KEY` (no secret,
/// but given only where tokens are verified; the template test holds it to that too).
/// The vendors' API key ids (`ALIYUN_ACCESS_KEY_ID`, `TENCENT_API_SECRET_ID`) are not secret
/// either, but go only where their secrets go.
pub const KEY_VARIABLES: &[&str] = &[
    "JWT_PUBLIC_KEY",
    "ALIYUN_ACCESS_KEY_ID",
    "TENCENT_API_SECRET_ID",
];

/// What a function needs. Store-specific settings (the table name) are read by the entry point
/// that builds that store.
#[derive(Debug, Clone)]
pub struct Config {
    /// `JWT_PRIVATE_KEY`: the Ed25519 key access and refresh tokens are signed with. Required,
    /// no default, where tokens are issued ([`Tokens::Issue`]); `None` elsewhere, so nothing
    /// else can sign one.
    pub jwt_private_key: Option<JwtPrivateKey>,
    /// `JWT_PUBLIC_KEY`: the key tokens are verified with. Required where tokens are only
    /// verified ([`Tokens::Verify`]); the private key's own half where they are issued.
    pub jwt_public_key: Option<JwtPublicKey>,
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
    /// `SERIES_RETENTION_DAYS` (default 7, 1..=90): how long the sweeper's per-room samples
    /// (`roomSeries`) are kept (their DynamoDB TTL).
    pub series_retention: Duration,
    /// `METRICS_MAX_AGE_SECONDS` (default 5): `get` never shows an `online_count` counted
    /// longer ago than this.
    pub metrics_max_age: Duration,
    /// `MAX_OPEN_ROOMS_PER_USER` (default 10, at most 100): a user's rooms that have not
    /// ended, at most; `create` past it is 429.
    pub max_open_rooms: u32,
    /// `ROOM_CREATIONS_PER_USER_PER_MINUTE` (default 30): a user's `create`s in one minute,
    /// at most; past it 429 until the next minute.
    pub room_creations_per_minute: u32,
    /// `LIVE_PROVIDER`, `RTC_PROVIDER`, `IM_PROVIDER`, their public settings (every function),
    /// the keys of the purposes the function reads (and no other), `CREDENTIAL_TTL_SECONDS`.
    pub providers: Providers,
    /// The user name a configured vendor keeps (`TENCENT_IM_ADMIN`, when Tencent serves RTC or
    /// IM): nobody may register it.
    pub reserved_name: Option<UserId>,
    /// Which outbox sinks are on: the room's IM group (`IM_PROVIDER=tencent`) and the webhook
    /// receiver (`WEBHOOK_URL`). Their delivery settings are read by the functions that
    /// deliver (`crate::delivery`).
    pub outbox: Outbox,
    /// The inbound callbacks' keys: `ALIYUN_LIVE_CALLBACK_KEY`, `TENCENT_LIVE_CALLBACK_KEY`,
    /// `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET` (each callback is on when its key is set, in
    /// the function that reads it: [`SecretGroups::aliyun_callback`] and the like).
    pub callbacks: CallbackKeys,
    /// Moderation that reaches the vendors: the names of what a room's stream and RTC channel
    /// are at each (every function), and where [`SecretGroups::enforcement`] is read the API
    /// bases and the optional API credentials (`crate::enforce`).
    pub enforcement: Enforcers,
    /// `REGISTRATIONS_PER_ADDRESS_PER_MINUTE` (default 10), `REGISTRATIONS_PER_MINUTE` (default
    /// 600), `LOGIN_FAILURES_PER_USER_PER_MINUTE` (default 100): see [`Throttle`].
    pub throttle: Throttle,
    /// `ADMIN_USERS` (comma-separated user ids; not a secret): always `admin`, whatever roles
    /// are stored on them (issue 24).
    pub admin_users: BTreeSet<UserId>,
    /// `AUDIT_RETENTION_DAYS` (default 90): how long an audit entry is kept.
    pub audit_retention_days: u32,
    /// `RECORDING` (`off`, the default, or `on`): whether rooms are recorded (a room may opt
    /// out at `create` with `record: false`; issue 26).
    pub recording: bool,
    /// `RECORDING_TIMEOUT_SECONDS` (default 3600): a recorded room with no file this long
    /// after its end has failed (the sweeper's rule).
    pub recording_timeout: Duration,
}

/// The configurable throttle limits, each per one-minute window (`crate::accounts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    /// Registrations from one source address (IPv6: one /64).
    pub registrations_per_address: u64,
    /// Registrations from everywhere together.
    pub registrations: u64,
    /// Failed logins of one username from every address together.
    pub login_failures_per_user: u64,
}

impl Throttle {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        const MAX: u64 = 1_000_000;
        Ok(Self {
            registrations_per_address: number(
                lookup,
                "REGISTRATIONS_PER_ADDRESS_PER_MINUTE",
                10,
                1..=MAX,
            )?,
            registrations: number(lookup, "REGISTRATIONS_PER_MINUTE", 600, 1..=MAX)?,
            login_failures_per_user: number(
                lookup,
                "LOGIN_FAILURES_PER_USER_PER_MINUTE",
                100,
                1..=MAX,
            )?,
        })
    }
}

impl Config {
    /// What a function of `reads` reads, from the process environment.
    pub fn from_env(reads: SecretGroups) -> Result<Self, ConfigError> {
        Self::reading(reads, |name| std::env::var(name).ok())
    }

    /// Everything, through `lookup` instead of the process environment (tests, the local
    /// server).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::reading(SecretGroups::ALL, lookup)
    }

    /// What a function of `reads` reads, through `lookup`: the secrets of the groups it reads,
    /// and no other.
    pub fn reading(
        reads: SecretGroups,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let (jwt_private_key, jwt_public_key) = match reads.tokens {
            Tokens::None => (None, None),
            Tokens::Verify => {
                let key = lookup("JWT_PUBLIC_KEY").ok_or_else(|| {
                    ConfigError::new(
                        "JWT_PUBLIC_KEY",
                        "is required (the Ed25519 public key of JWT_PRIVATE_KEY)",
                    )
                })?;
                (None, Some(JwtPublicKey::parse("JWT_PUBLIC_KEY", &key)?))
            }
            Tokens::Issue => {
                let key = lookup("JWT_PRIVATE_KEY").ok_or_else(|| {
                    ConfigError::new(
                        "JWT_PRIVATE_KEY",
                        "is required (an Ed25519 private key; there is no default)",
                    )
                })?;
                let key = JwtPrivateKey::parse("JWT_PRIVATE_KEY", &key)?;
                let public = key.public_key().clone();
                (Some(key), Some(public))
            }
        };
        // Every function knows which vendor serves each role (a stopped room's answer still
        // names its IM group); only the keys are per purpose.
        let providers = Providers::from_lookup(&lookup, &reads)?;
        let outbox = Outbox {
            im: crate::credentials::im_keeps_groups(&lookup)?,
            webhook: lookup("WEBHOOK_URL").is_some_and(|v| !v.trim().is_empty()),
        };
        let access_token_ttl = seconds(&lookup, "ACCESS_TOKEN_TTL_SECONDS", 7200, 60..=86_400 * 7)?;
        let refresh_token_ttl = seconds(
            &lookup,
            "REFRESH_TOKEN_TTL_SECONDS",
            30 * 86_400,
            3600..=365 * 86_400,
        )?;
        // A logout is remembered as long as its refresh tokens live: an access token that
        // outlived them would pass the session check again once the mark expires.
        if access_token_ttl > refresh_token_ttl {
            return Err(ConfigError::new(
                "ACCESS_TOKEN_TTL_SECONDS",
                "must not exceed REFRESH_TOKEN_TTL_SECONDS (a logout is remembered that long)",
            ));
        }
        Ok(Self {
            jwt_private_key,
            jwt_public_key,
            access_token_ttl,
            refresh_token_ttl,
            max_body_bytes: number(&lookup, "MAX_BODY_BYTES", 65_536, 1024..=6 * 1024 * 1024)?
                as usize,
            max_co_hosts: number(&lookup, "MAX_CO_HOSTS", 4, 1..=16)? as usize,
            heartbeat_timeout: seconds(&lookup, "HEARTBEAT_TIMEOUT_SECONDS", 20, 5..=3600)?,
            anchor_timeout: seconds(&lookup, "ANCHOR_TIMEOUT_SECONDS", 60, 10..=86_400)?,
            idle_room_timeout: seconds(&lookup, "IDLE_ROOM_TIMEOUT_SECONDS", 30, 10..=86_400)?,
            retention: Duration::from_secs(
                number(&lookup, "RETENTION_DAYS", 30, 1..=3650)? * 86_400,
            ),
            series_retention: Duration::from_secs(
                number(&lookup, "SERIES_RETENTION_DAYS", 7, 1..=90)? * 86_400,
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
            enforcement: Enforcers::from_lookup(&lookup, &reads)?,
            throttle: Throttle::from_lookup(&lookup)?,
            admin_users: admin_users(&lookup)?,
            audit_retention_days: number(&lookup, "AUDIT_RETENTION_DAYS", 90, 1..=3650)? as u32,
            recording: recording(&lookup)?,
            recording_timeout: seconds(
                &lookup,
                "RECORDING_TIMEOUT_SECONDS",
                3600,
                60..=7 * 86_400,
            )?,
        })
    }

    /// This configuration as a function of `reads` holds it: the keys of other purposes
    /// dropped, the providers holding only the keys of its purposes (what the tests and
    /// [`crate::App::scoped`] serve each endpoint with).
    pub fn restricted(&self, reads: SecretGroups) -> Self {
        let mut config = self.clone();
        match reads.tokens {
            Tokens::None => (config.jwt_private_key, config.jwt_public_key) = (None, None),
            Tokens::Verify => config.jwt_private_key = None,
            Tokens::Issue => {}
        }
        config.providers = config.providers.restricted(&reads);
        if !reads.aliyun_callback {
            config.callbacks.aliyun = None;
            config.callbacks.aliyun_record_domain = None;
        }
        if !reads.tencent_callback {
            config.callbacks.tencent = None;
            config.callbacks.tencent_vod_domain = None;
        }
        if !reads.livekit_callback {
            config.callbacks.livekit = None;
        }
        if !reads.enforcement {
            config.enforcement = config.enforcement.without_keys();
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

/// `RECORDING`: `on` or `off` (the default); anything else is refused.
fn recording(lookup: &impl Fn(&str) -> Option<String>) -> Result<bool, ConfigError> {
    match lookup("RECORDING").as_deref().map(str::trim) {
        None | Some("") | Some("off") => Ok(false),
        Some("on") => Ok(true),
        Some(_) => Err(ConfigError::new("RECORDING", "must be on or off")),
    }
}

/// `ADMIN_USERS`: user ids, comma-separated (blanks ignored); a malformed id is refused.
fn admin_users(lookup: &impl Fn(&str) -> Option<String>) -> Result<BTreeSet<UserId>, ConfigError> {
    let Some(list) = lookup("ADMIN_USERS") else {
        return Ok(BTreeSet::new());
    };
    list.split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| {
            UserId::parse("ADMIN_USERS", id)
                .map_err(|e| ConfigError::new("ADMIN_USERS", format!("{id:?}: {}", e.message)))
        })
        .collect()
}

#[cfg(test)]
#[path = "tests/config.rs"]
mod tests;
