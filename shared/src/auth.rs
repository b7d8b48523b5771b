//! Sessions: EdDSA (Ed25519) JWTs and the caller they prove.
//!
//! The caller's identity comes from here and nowhere else: a handler that needs one asks for a
//! [`Caller`], which only [`TokenKeys::verify`] can make. Only EdDSA is accepted (so `alg:
//! none`, HS256 and every other algorithm fail), expiry is checked against the injected clock,
//! and access and refresh tokens are not interchangeable. Tokens are never logged.
//!
//! Tokens are signed with a private key ([`JwtPrivateKey`], `JWT_PRIVATE_KEY`) that only the
//! functions that issue tokens hold; every other function holds the public key
//! ([`JwtPublicKey`], `JWT_PUBLIC_KEY`), which verifies and cannot sign: a [`TokenKeys`] built
//! from it has no signer, so a leak of any of those functions mints nothing.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use lambda_http::http;

use crate::config::ConfigError;
use crate::domain::UserId;
use crate::error::{ApiError, ErrorCode};

/// What a token is for. A refresh token cannot call the API, an access token cannot refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    iat: i64,
    jti: String,
    typ: TokenKind,
    /// The session: one login, kept across refreshes, ended by `logout`.
    sid: String,
    /// The user's session generation when the session began (`logout {all}` bumps it).
    #[serde(default, rename = "gen")]
    generation: u64,
}

/// A login session: what a refresh renews and a logout ends. Every token of a session (access
/// and refresh, before and after refreshes) carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    /// The user's session generation it belongs to ([`crate::domain::user::User::sessions`]).
    pub generation: u64,
}

impl Session {
    /// A new session in the user's current generation.
    pub fn begin(generation: u64) -> Self {
        Self {
            id: uuid::Uuid::new_v4().simple().to_string(),
            generation,
        }
    }
}

/// The verified caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub session: Session,
    /// Until when what proved the caller holds (unix seconds): its access token's `exp`.
    /// Nothing signed for the caller outlives it. `None` for a caller a vendor's signed
    /// callback named ([`Caller::vouched`]): no session to check, and no answer reaches it.
    pub expires_at: Option<i64>,
}

impl Caller {
    /// A user a vendor's signed callback names (LiveKit's participant events): acted for, never
    /// answered, so nothing is signed for it and it has no session of ours to check.
    pub fn vouched(user_id: UserId) -> Self {
        Self {
            user_id,
            session: Session::begin(0),
            expires_at: None,
        }
    }
}

/// A freshly signed token and when it expires.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
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
                "must be an Ed25519 {what}: PEM, or the base64 of its 32 bytes (see the README: \
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

    fn pkcs8_der(&self) -> Vec<u8> {
        [PKCS8_ED25519_PREFIX.as_slice(), self.seed.as_slice()].concat()
    }
}

impl std::fmt::Debug for JwtPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtPrivateKey(***)")
    }
}

/// What signs tokens: made only from a [`JwtPrivateKey`].
struct TokenSigner(EncodingKey);

/// Verification and (in a function that issues tokens) signing keys, built once at start.
pub struct TokenKeys {
    /// `None` in a function that reads no token key (it handles no tokens): every token is
    /// refused there.
    verifier: Option<DecodingKey>,
    /// `None` in every function but those that issue tokens (they alone read
    /// `JWT_PRIVATE_KEY`): nothing is issued there.
    signer: Option<TokenSigner>,
    validation: Validation,
}

fn invalid() -> ApiError {
    ApiError::new(
        ErrorCode::UserTokenInvalid,
        "the token is missing or invalid; log in again",
    )
}

fn expired() -> ApiError {
    ApiError::new(
        ErrorCode::UserTokenExpired,
        "the token has expired; log in again",
    )
}

impl TokenKeys {
    /// The keys of a function: it signs with `private` (which also verifies), else verifies
    /// with `public`, else handles no tokens.
    pub fn new(private: Option<&JwtPrivateKey>, public: Option<&JwtPublicKey>) -> Self {
        match private {
            Some(key) => Self::issuing(key),
            None => Self::build(public, None),
        }
    }

    /// Keys that issue and verify tokens.
    pub fn issuing(key: &JwtPrivateKey) -> Self {
        let signer = TokenSigner(EncodingKey::from_ed_der(&key.pkcs8_der()));
        Self::build(Some(key.public_key()), Some(signer))
    }

    /// Keys that only verify: nothing can be issued with them.
    pub fn verifying(key: &JwtPublicKey) -> Self {
        Self::build(Some(key), None)
    }

    fn build(public: Option<&JwtPublicKey>, signer: Option<TokenSigner>) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        // Expiry is checked below against the injected clock, with no leeway.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Self {
            verifier: public.map(|key| DecodingKey::from_ed_der(&key.0)),
            signer,
            validation,
        }
    }

    /// Whether these keys can issue tokens (only a function holding `JWT_PRIVATE_KEY`).
    pub fn can_issue(&self) -> bool {
        self.signer.is_some()
    }

    /// A token of a new session (generation 0): for fixtures and tests.
    pub fn issue(
        &self,
        user: &UserId,
        kind: TokenKind,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> Result<IssuedToken, ApiError> {
        self.issue_in(user, &Session::begin(0), kind, now, ttl)
    }

    /// A token of `session`.
    pub fn issue_in(
        &self,
        user: &UserId,
        session: &Session,
        kind: TokenKind,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> Result<IssuedToken, ApiError> {
        let ttl = chrono::Duration::from_std(ttl).map_err(ApiError::internal)?;
        let expires_at = now + ttl;
        let claims = Claims {
            sub: user.to_string(),
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
            jti: uuid::Uuid::new_v4().simple().to_string(),
            typ: kind,
            sid: session.id.clone(),
            generation: session.generation,
        };
        let TokenSigner(encoding) = self.signer.as_ref().ok_or_else(|| {
            ApiError::internal("this function holds no JWT_PRIVATE_KEY: it issues no tokens")
        })?;
        let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, encoding)
            .map_err(ApiError::internal)?;
        Ok(IssuedToken { token, expires_at })
    }

    /// Verifies signature, algorithm, kind and expiry; 401 with 203 (expired) or 204 (other).
    pub fn verify(
        &self,
        token: &str,
        kind: TokenKind,
        now: DateTime<Utc>,
    ) -> Result<Caller, ApiError> {
        let decoding = self.verifier.as_ref().ok_or_else(invalid)?;
        let data = jsonwebtoken::decode::<Claims>(token, decoding, &self.validation).map_err(
            |e| match e.kind() {
                ErrorKind::ExpiredSignature => expired(),
                _ => invalid(),
            },
        )?;
        let claims = data.claims;
        if claims.typ != kind {
            return Err(invalid());
        }
        if now.timestamp() >= claims.exp {
            return Err(expired());
        }
        let user_id = UserId::parse("sub", &claims.sub).map_err(|_| invalid())?;
        if claims.sid.is_empty() || claims.sid.len() > 64 {
            return Err(invalid());
        }
        Ok(Caller {
            user_id,
            session: Session {
                id: claims.sid,
                generation: claims.generation,
            },
            expires_at: Some(claims.exp),
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &http::HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .ok_or_else(invalid)?
        .to_str()
        .map_err(|_| invalid())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(invalid());
    }
    Ok(token.trim())
}

#[cfg(test)]
#[path = "tests/auth.rs"]
mod tests;
