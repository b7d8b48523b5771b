//! Sessions: HS256 JWTs and the caller they prove.
//!
//! The caller's identity comes from here and nowhere else: a handler that needs one asks for a
//! [`Caller`], which only [`TokenKeys::verify`] can make. Only HS256 is accepted (so `alg:
//! none` and algorithm swaps fail), expiry is checked against the injected clock, and access
//! and refresh tokens are not interchangeable. Tokens are never logged.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use lambda_http::http;

use crate::config::Secret;
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

/// Signing and verification keys, built once from the configured secret.
pub struct TokenKeys {
    /// `None` in a function that reads no `JWT_SECRET` (it handles no tokens): every token is
    /// refused there and none is issued.
    keys: Option<(EncodingKey, DecodingKey)>,
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
    pub fn new(secret: Option<&Secret>) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below against the injected clock, with no leeway.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Self {
            keys: secret.map(|secret| {
                (
                    EncodingKey::from_secret(secret.expose()),
                    DecodingKey::from_secret(secret.expose()),
                )
            }),
            validation,
        }
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
        let (encoding, _) = self
            .keys
            .as_ref()
            .ok_or_else(|| ApiError::internal("this function reads no JWT_SECRET"))?;
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, encoding)
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
        let (_, decoding) = self.keys.as_ref().ok_or_else(invalid)?;
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
