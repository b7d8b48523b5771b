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
}

/// The verified caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
}

/// A freshly signed token and when it expires.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Signing and verification keys, built once from the configured secret.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
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
    pub fn new(secret: &Secret) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below against the injected clock, with no leeway.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.expose()),
            decoding: DecodingKey::from_secret(secret.expose()),
            validation,
        }
    }

    pub fn issue(
        &self,
        user: &UserId,
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
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
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
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => expired(),
                _ => invalid(),
            })?;
        let claims = data.claims;
        if claims.typ != kind {
            return Err(invalid());
        }
        if now.timestamp() >= claims.exp {
            return Err(expired());
        }
        let user_id = UserId::parse("sub", &claims.sub).map_err(|_| invalid())?;
        Ok(Caller { user_id })
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
