//! Sessions: EdDSA (Ed25519) JWTs and the caller they prove.
//!
//! The caller's identity comes from here and nowhere else: a handler that needs one asks for a
//! [`Caller`], which only [`TokenKeys::verify`] can make. Only EdDSA is accepted (so `alg:
//! none`, HS256 and every other algorithm fail), expiry is checked against the injected clock,
//! and access and refresh tokens are not interchangeable. Tokens are never logged.
//!
//! Tokens are signed with a private key ([`JwtPrivateKey`], `JWT_PRIVATE_KEY`; both keys are
//! parsed with the rest of the environment, in [`crate::env`]) that only the
//! functions that issue tokens hold; every other function holds the public key
//! ([`JwtPublicKey`], `JWT_PUBLIC_KEY`), which verifies and cannot sign: a [`TokenKeys`] built
//! from it has no signer, so a leak of any of those functions mints nothing.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use lambda_http::http;

use crate::domain::UserId;
use crate::env::{JwtPrivateKey, JwtPublicKey};
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
    /// The desktop-pusher link key ([`JUMP_KEY_LABEL`] derived from the private key): only
    /// where tokens are issued.
    jump: Option<[u8; 32]>,
    validation: Validation,
}

/// The label the desktop-pusher link key is derived with ([`JwtPrivateKey::derive`]).
pub const JUMP_KEY_LABEL: &str = "liveroom/v1/desktop-pusher-jump-token";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

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
        Self {
            jump: Some(key.derive(JUMP_KEY_LABEL)),
            ..Self::build(Some(key.public_key()), Some(signer))
        }
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
            verifier: public.map(|key| DecodingKey::from_ed_der(key.as_bytes())),
            signer,
            jump: None,
            validation,
        }
    }

    /// The MAC of a desktop-pusher link token's `payload`, with the key derived for that
    /// alone (never the token key): 500 where no private key is held.
    pub fn sign_jump(&self, payload: &[u8]) -> Result<[u8; 32], ApiError> {
        use hmac::Mac;
        let key = self.jump.as_ref().ok_or_else(|| {
            ApiError::internal("this function holds no JWT_PRIVATE_KEY: it signs no links")
        })?;
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key).map_err(ApiError::internal)?;
        mac.update(payload);
        Ok(mac.finalize().into_bytes().into())
    }

    /// Whether `tag` is the link key's MAC of `payload` (compared in constant time).
    pub fn verify_jump(&self, payload: &[u8], tag: &[u8]) -> bool {
        use hmac::Mac;
        let Some(key) = self.jump.as_ref() else {
            return false;
        };
        let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(key) else {
            return false;
        };
        mac.update(payload);
        mac.verify_slice(tag).is_ok()
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
