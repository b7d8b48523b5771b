//! The environment, read and checked: the error that names a bad variable ([`ConfigError`]),
//! key material that is never printed ([`Secret`], and our tokens' Ed25519 keys
//! [`JwtPrivateKey`] / [`JwtPublicKey`]), and the parsers of single variables (numbers with a
//! default and a range, required values, loopback hosts).
//!
//! The bottom of the crate: everything that reads a variable parses it here, and this module
//! imports nothing of the crate. Never here: which variables a function reads or what they
//! configure (`config` composes the configuration, `credentials` the providers' settings).

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

pub(crate) fn number(
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

/// Whether the authority at the start of `rest` (what follows `http://` or `ws://`) is a loopback host:
/// `localhost`, `127.0.0.0/8` or `[::1]`, with or without a port; user info refused.
pub(crate) fn is_loopback(rest: &str) -> bool {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((host, port)) if port.is_empty() || port.starts_with(':') => host,
            _ => return false,
        },
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The DER prefix of an Ed25519 private key in PKCS#8 (RFC 8410 §7): the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// The DER prefix of an Ed25519 public key in SubjectPublicKeyInfo (RFC 8410 §4).
const SPKI_ED25519_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The 32 bytes of a key given as PEM (`-----BEGIN ...-----`, its DER after `prefix`) or as
/// the base64 (standard or URL-safe, padded or not) of the 32 raw bytes.
fn key_bytes(
    variable: &'static str,
    value: &str,
    prefix: &[u8],
    what: &str,
) -> Result<[u8; 32], ConfigError> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let value = value.trim();
    let bad = || {
        ConfigError::new(
            variable,
            format!(
                "must be an Ed25519 {what}: PEM, or the base64 of its 32 bytes (see docs/configuration.md: \
                 `scripts/jwt-keys` makes a pair)"
            ),
        )
    };
    let bytes = if value.starts_with("-----BEGIN") {
        let body: String = value
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = STANDARD.decode(body).map_err(|_| bad())?;
        der.strip_prefix(prefix).ok_or_else(bad)?.to_vec()
    } else {
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(value).ok())
            .ok_or_else(bad)?
    };
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| bad())
}

/// `JWT_PUBLIC_KEY`: the Ed25519 key our tokens are verified with. Not a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtPublicKey([u8; 32]);

impl JwtPublicKey {
    /// A PEM public key (`-----BEGIN PUBLIC KEY-----`) or the base64 of its 32 bytes.
    pub fn parse(variable: &'static str, value: &str) -> Result<Self, ConfigError> {
        let bytes = key_bytes(variable, value, &SPKI_ED25519_PREFIX, "public key")?;
        // A point that is not on the curve verifies nothing: refuse it now, not per request.
        ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| {
            ConfigError::new(variable, "is not an Ed25519 public key (not a curve point)")
        })?;
        Ok(Self(bytes))
    }

    /// The key's 32 bytes (what the verifier is built from).
    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The base64 of the key's 32 bytes (what `JWT_PUBLIC_KEY` may be set to).
    pub fn to_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }
}

impl std::fmt::Debug for JwtPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JwtPublicKey({})", self.to_base64())
    }
}

/// `JWT_PRIVATE_KEY`: the Ed25519 key our tokens are signed with, held only by the functions
/// that issue tokens. Its `Debug` output is redacted; it has no equality (compare public keys).
#[derive(Clone)]
pub struct JwtPrivateKey {
    seed: [u8; 32],
    public: JwtPublicKey,
}

impl JwtPrivateKey {
    /// A PEM private key (`-----BEGIN PRIVATE KEY-----`, PKCS#8, as `openssl genpkey
    /// -algorithm ed25519` writes it) or the base64 of its 32-byte seed.
    pub fn parse(variable: &'static str, value: &str) -> Result<Self, ConfigError> {
        let seed = key_bytes(variable, value, &PKCS8_ED25519_PREFIX, "private key")?;
        if seed.iter().all(|b| *b == seed[0]) {
            return Err(ConfigError::new(
                variable,
                "is not a random key (all its bytes are equal)",
            ));
        }
        Ok(Self::from_seed(seed))
    }

    /// The key of a 32-byte seed (a generated one: the local server, the tests).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        Self {
            seed,
            public: JwtPublicKey(public),
        }
    }

    /// The public key that verifies what this key signs.
    pub fn public_key(&self) -> &JwtPublicKey {
        &self.public
    }

    /// The base64 of the seed (what `JWT_PRIVATE_KEY` may be set to).
    pub fn to_base64(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(self.seed)
    }

    /// A key for one purpose only, derived from this one: HMAC-SHA256 of `label` keyed with the
    /// seed. It verifies nothing this key signs, and this key nothing it signs; another label
    /// gives an unrelated key.
    pub(crate) fn derive(&self, label: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.seed)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The key as PKCS#8 DER (what the signer is built from).
    pub(crate) fn pkcs8_der(&self) -> Vec<u8> {
        [PKCS8_ED25519_PREFIX.as_slice(), self.seed.as_slice()].concat()
    }
}

impl std::fmt::Debug for JwtPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtPrivateKey(***)")
    }
}

/// What a function does with our tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tokens {
    /// Nothing: it reads no token key.
    #[default]
    None,
    /// It verifies them: `JWT_PUBLIC_KEY`.
    Verify,
    /// It issues them (and verifies with the public half): `JWT_PRIVATE_KEY`.
    Issue,
}

/// The keys a function reads, by purpose, beyond what every function reads (the tunables, the
/// providers' names, domains and public ids, whether webhooks are on, the IM administrator's
/// name). Each endpoint declares its own ([`crate::endpoint::Endpoint::secrets`]); a purpose reads
/// the key of whichever vendor serves it, and only that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SecretGroups {
    /// Our tokens (and their lifetimes).
    pub tokens: Tokens,
    /// CDN push URLs (`ALIYUN_LIVE_PUSH_AUTH_KEY`, `TENCENT_LIVE_PUSH_KEY`): an anchor's
    /// `RoomInfo`.
    pub live_push: bool,
    /// CDN pull URLs (`ALIYUN_LIVE_PULL_AUTH_KEY`, `TENCENT_LIVE_PULL_KEY`, when set: unsigned
    /// URLs otherwise): every `RoomInfo` and `MeetingInfo`.
    pub live_pull: bool,
    /// Room credentials of any RTC vendor (`ALIYUN_RTC_APP_KEY`, `TENCENT_SECRET_KEY`,
    /// `LIVEKIT_API_SECRET`): `RoomInfo.link_info`, `rtcToken`.
    pub rtc_room: bool,
    /// Room credentials of Alibaba RTC only (`ALIYUN_RTC_APP_KEY`): seed 000's `/app/token`,
    /// which serves no other vendor.
    pub rtc_room_aliyun: bool,
    /// A user's Tencent UserSig, TRTC and IM login alike (`TENCENT_SECRET_KEY`): `token`'s
    /// `rtc` and `im` with Tencent, seed 004's `sdkUserSig`.
    pub user_sig: bool,
    /// An Alibaba IM app token (`ALIYUN_IM_APP_KEY`): `token`'s `im` with Alibaba IM.
    pub im_token: bool,
    /// The Tencent IM administrator's UserSig (`TENCENT_SECRET_KEY`): the outbox's IM group
    /// calls (the sweeper and the outbox).
    pub im_admin: bool,
    /// `ALIYUN_LIVE_CALLBACK_KEY`: the Alibaba stream callback.
    pub aliyun_callback: bool,
    /// `TENCENT_LIVE_CALLBACK_KEY`: the Tencent stream callback.
    pub tencent_callback: bool,
    /// `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET` as the webhooks' key: LiveKit's webhooks.
    pub livekit_callback: bool,
    /// The vendors' API credentials for moderation that reaches them (`crate::enforce`):
    /// `ALIYUN_ACCESS_KEY_ID` + `ALIYUN_ACCESS_KEY_SECRET`, `TENCENT_API_SECRET_ID` +
    /// `TENCENT_API_SECRET_KEY`, `LIVEKIT_API_SECRET` (each pair optional), and their API
    /// bases: the function that makes the calls (the outbox).
    pub enforcement: bool,
}

impl SecretGroups {
    /// No key at all (`register`).
    pub const NOTHING: SecretGroups = SecretGroups {
        tokens: Tokens::None,
        live_push: false,
        live_pull: false,
        rtc_room: false,
        rtc_room_aliyun: false,
        user_sig: false,
        im_token: false,
        im_admin: false,
        aliyun_callback: false,
        tencent_callback: false,
        livekit_callback: false,
        enforcement: false,
    };
    /// Verifies our tokens only.
    pub const TOKENS: SecretGroups = SecretGroups {
        tokens: Tokens::Verify,
        ..Self::NOTHING
    };
    /// Issues our tokens (logins, `refresh`).
    pub const ISSUING: SecretGroups = SecretGroups {
        tokens: Tokens::Issue,
        ..Self::NOTHING
    };
    /// Verifies our tokens and answers with a `RoomInfo`: its pull URLs, the anchor's push
    /// URLs, the viewer's room credentials.
    pub const ROOM_INFO: SecretGroups = SecretGroups {
        tokens: Tokens::Verify,
        live_push: true,
        live_pull: true,
        rtc_room: true,
        ..Self::NOTHING
    };
    /// The vendors' API credentials and bases (`crate::enforce`): only where the calls are
    /// made (the outbox's deliverers), never in a function that decides them (a stop, a kick).
    pub const ENFORCEMENT: SecretGroups = SecretGroups {
        enforcement: true,
        ..Self::NOTHING
    };
    /// What the sweeper and the outbox read (their delivery settings are
    /// `crate::delivery`'s): the IM administrator's key, and [`Self::ENFORCEMENT`].
    pub const DELIVERY: SecretGroups = SecretGroups {
        im_admin: true,
        ..Self::ENFORCEMENT
    };
    pub const ALIYUN_CALLBACK: SecretGroups = SecretGroups {
        aliyun_callback: true,
        ..Self::NOTHING
    };
    pub const TENCENT_CALLBACK: SecretGroups = SecretGroups {
        tencent_callback: true,
        ..Self::NOTHING
    };
    pub const LIVEKIT_CALLBACK: SecretGroups = SecretGroups {
        livekit_callback: true,
        ..Self::NOTHING
    };
    /// Everything: the local server and the tests, which serve every endpoint.
    pub const ALL: SecretGroups = SecretGroups {
        tokens: Tokens::Issue,
        live_push: true,
        live_pull: true,
        rtc_room: true,
        rtc_room_aliyun: true,
        user_sig: true,
        im_token: true,
        im_admin: true,
        aliyun_callback: true,
        tencent_callback: true,
        livekit_callback: true,
        enforcement: true,
    };
}

#[cfg(test)]
#[path = "tests/env.rs"]
mod tests;
