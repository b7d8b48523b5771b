//! The one error type of the API and its mapping to HTTP.
//!
//! Every failure a handler can meet ends up as an [`ApiError`]; [`ErrorCode`] is the single
//! table of numeric codes, stable reason names and HTTP statuses (docs/errors.md copies it). Codes
//! follow seed 004 where one fits; the rest are ours. A 5xx never carries internal text: its
//! cause is logged with the request id, and the body says only what kind of failure it was.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::FieldError;

/// The error-code table: numeric code, reason name, HTTP status.
///
/// Order and numbers are part of the public API; add, never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 98: the request is malformed (body, JSON, types, field values).
    SystemVerifyError,
    /// 99: an unexpected failure on our side.
    SystemError,
    /// 100: a service we depend on is unavailable.
    ServiceUnavailable,
    /// 103: the database failed or timed out.
    ServiceDbFailed,
    /// 105: no such path.
    RouteNotFound,
    /// 106: the path exists but not with this method.
    MethodNotAllowed,
    /// 107: the body is not `application/json`.
    UnsupportedMediaType,
    /// 108: the body is larger than the server accepts.
    PayloadTooLarge,
    /// 109: the token is valid but names someone other than the body claims.
    Forbidden,
    /// 110: a vendor callback without a valid signature, or a stale one.
    CallbackSignatureInvalid,
    /// 111: this vendor callback is not configured (its key is not set).
    CallbackNotConfigured,
    /// 112: this server does not serve that dialect's endpoint as configured (seed 000's
    /// `/app/token` needs the Alibaba RTC provider).
    DialectNotConfigured,
    /// 113: the request did not arrive within the server's time (the local server).
    RequestTimeout,
    /// 114: an operator call by a user without the role, or a key without the scope (issue 24).
    AdminForbidden,
    /// 202: a signature login's nonce was used already.
    UserNonceConsumed,
    /// 203: the token has expired.
    UserTokenExpired,
    /// 204: no token, or a token that does not verify.
    UserTokenInvalid,
    /// 205: an update that changes nothing (no field given).
    UserInfoEmpty,
    /// 206: the user does not exist.
    UserNotExists,
    /// 209: too many failed logins (for this username from this address, from this address, or
    /// for this username from everywhere) or registrations; retry after `Retry-After`.
    UserLoginThrottled,
    /// 210: a signature login that does not verify (unknown user, wrong signature, stale `ts`).
    UserSignatureInvalid,
    /// 212: the username is taken.
    UserAlreadyExists,
    /// 213: wrong username or password (never says which).
    UserLoginFailed,
    /// 214: the account was disabled by an operator (login refused).
    UserDisabled,
    /// 2000: bad parameters to `create`.
    RoomCreateParams,
    /// 2002: bad parameters to a room query (`get`, `list`, ...).
    RoomQueryParams,
    /// 2004: the room does not exist.
    RoomNotExists,
    /// 2010: only the room's anchor may do this.
    RoomNotOwner,
    /// 2011: the room's state does not allow this transition.
    RoomStateConflict,
    /// 2012: the room changed under the request; retry.
    RoomVersionConflict,
    /// 2013: the RTC provider cannot issue credentials limited to the caller's grant.
    RtcGrantUnavailable,
    /// 2014: the room's mode does not have this (e.g. a meeting list outside mode 1).
    RoomModeConflict,
    /// 2015: the co-host list is full.
    RoomFull,
    /// 2016: the anchor removed the caller from this room for a while.
    RoomMemberBanned,
    /// 2017: the caller has as many rooms not ended as a user may (`MAX_OPEN_ROOMS_PER_USER`),
    /// or created as many this minute as a user may (`ROOM_CREATIONS_PER_USER_PER_MINUTE`;
    /// retry after `Retry-After`).
    RoomLimit,
}

impl ErrorCode {
    /// Every code, in table order (docs/errors.md and the tests walk it).
    pub const ALL: [ErrorCode; 35] = [
        Self::SystemVerifyError,
        Self::SystemError,
        Self::ServiceUnavailable,
        Self::ServiceDbFailed,
        Self::RouteNotFound,
        Self::MethodNotAllowed,
        Self::UnsupportedMediaType,
        Self::PayloadTooLarge,
        Self::Forbidden,
        Self::CallbackSignatureInvalid,
        Self::CallbackNotConfigured,
        Self::DialectNotConfigured,
        Self::RequestTimeout,
        Self::AdminForbidden,
        Self::UserNonceConsumed,
        Self::UserTokenExpired,
        Self::UserTokenInvalid,
        Self::UserInfoEmpty,
        Self::UserNotExists,
        Self::UserLoginThrottled,
        Self::UserSignatureInvalid,
        Self::UserAlreadyExists,
        Self::UserLoginFailed,
        Self::UserDisabled,
        Self::RoomCreateParams,
        Self::RoomQueryParams,
        Self::RoomNotExists,
        Self::RoomNotOwner,
        Self::RoomStateConflict,
        Self::RoomVersionConflict,
        Self::RtcGrantUnavailable,
        Self::RoomModeConflict,
        Self::RoomFull,
        Self::RoomMemberBanned,
        Self::RoomLimit,
    ];

    /// `(code, reason, http status)` — the table itself.
    pub const fn entry(self) -> (u32, &'static str, u16) {
        match self {
            Self::SystemVerifyError => (98, "SystemVerifyError", 400),
            Self::SystemError => (99, "SystemError", 500),
            Self::ServiceUnavailable => (100, "ServiceUnavailable", 503),
            Self::ServiceDbFailed => (103, "ServiceDBFailed", 503),
            Self::RouteNotFound => (105, "RouteNotFound", 404),
            Self::MethodNotAllowed => (106, "MethodNotAllowed", 405),
            Self::UnsupportedMediaType => (107, "UnsupportedMediaType", 415),
            Self::PayloadTooLarge => (108, "PayloadTooLarge", 413),
            Self::Forbidden => (109, "Forbidden", 403),
            Self::CallbackSignatureInvalid => (110, "CallbackSignatureInvalid", 401),
            Self::CallbackNotConfigured => (111, "CallbackNotConfigured", 404),
            Self::DialectNotConfigured => (112, "DialectNotConfigured", 404),
            Self::RequestTimeout => (113, "RequestTimeout", 408),
            Self::AdminForbidden => (114, "AdminForbidden", 403),
            Self::UserTokenExpired => (203, "UserTokenExpired", 401),
            Self::UserTokenInvalid => (204, "UserTokenInvalid", 401),
            Self::UserInfoEmpty => (205, "UseInfoEmpty", 400),
            Self::UserNotExists => (206, "UserNotExists", 404),
            Self::UserNonceConsumed => (202, "UserCodeConsumed", 401),
            Self::UserLoginThrottled => (209, "UserQueryLimit", 429),
            Self::UserSignatureInvalid => (210, "UserOAuthParams", 401),
            Self::UserAlreadyExists => (212, "UserAlreadyExists", 409),
            Self::UserLoginFailed => (213, "UserLoginFailed", 401),
            Self::UserDisabled => (214, "UserDisabled", 403),
            Self::RoomCreateParams => (2000, "RoomCreateParams", 400),
            Self::RoomQueryParams => (2002, "RoomQueryParams", 400),
            Self::RoomNotExists => (2004, "RoomNotExists", 404),
            Self::RoomNotOwner => (2010, "RoomNotOwner", 403),
            Self::RoomStateConflict => (2011, "RoomStateConflict", 409),
            Self::RoomVersionConflict => (2012, "RoomVersionConflict", 409),
            Self::RtcGrantUnavailable => (2013, "RtcGrantUnavailable", 403),
            Self::RoomModeConflict => (2014, "RoomModeConflict", 409),
            Self::RoomFull => (2015, "RoomFull", 409),
            Self::RoomMemberBanned => (2016, "RoomMemberBanned", 403),
            Self::RoomLimit => (2017, "RoomLimit", 429),
        }
    }

    pub const fn code(self) -> u32 {
        self.entry().0
    }

    pub const fn reason(self) -> &'static str {
        self.entry().1
    }

    pub const fn http_status(self) -> u16 {
        self.entry().2
    }
}

/// An error on its way to the client: a code, a human message, optional details.
///
/// Build client errors with the constructors; build server errors with [`ApiError::internal`]
/// or [`ApiError::store`], which keep the cause for the log and show the client nothing of it.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Map<String, Value>,
    /// The internal cause of a 5xx, for the log only.
    pub cause: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Map::new(),
            cause: None,
        }
    }

    /// Adds one `details` entry.
    pub fn with_detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// A bad field in the request body: `details.field` names it.
    pub fn invalid_field(code: ErrorCode, field: &str, message: impl Into<String>) -> Self {
        Self::new(code, message).with_detail("field", field)
    }

    /// Our own failure. The client sees a generic message; `cause` goes to the log.
    /// A field that failed to parse, under the endpoint's parameter-error `code`: 400 with
    /// the field named in `details` and in the message.
    pub fn invalid(code: ErrorCode, e: FieldError) -> Self {
        let message = format!("{}: {}", e.field, e.message);
        Self::invalid_field(code, e.field, message)
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            code: ErrorCode::SystemError,
            message: "internal error; quote the request id when reporting it".to_owned(),
            details: Map::new(),
            cause: Some(cause.to_string()),
        }
    }

    /// The store failed (not a conflict, not a missing item).
    pub fn store(cause: impl std::fmt::Display) -> Self {
        Self {
            code: ErrorCode::ServiceDbFailed,
            message: "the database is unavailable; retry later".to_owned(),
            details: Map::new(),
            cause: Some(cause.to_string()),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn room_not_found() -> Self {
        Self::new(ErrorCode::RoomNotExists, "the room does not exist")
    }

    pub fn not_owner() -> Self {
        Self::new(
            ErrorCode::RoomNotOwner,
            "only the room's anchor may change it",
        )
    }

    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }

    /// The JSON body the client receives.
    pub fn body<'a>(&'a self, request_id: &'a str) -> ErrorBody<'a> {
        ErrorBody {
            code: self.code.code(),
            reason: self.code.reason(),
            message: &self.message,
            details: &self.details,
            request_id,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code.reason(),
            self.code.code(),
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

/// A store failure that a handler did not turn into something more specific: a failed
/// condition is "it changed under you, retry" (409), an unreachable store 503, a corrupt item
/// our own 500. None of them shows the client the cause.
impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match e {
            StoreError::Conflict => ApiError::new(
                ErrorCode::RoomVersionConflict,
                "the room changed under the request; retry",
            ),
            StoreError::Unavailable(_) => ApiError::store(e),
            StoreError::Corrupt(_) => ApiError::internal(e),
        }
    }
}

/// The error body of SPEC §2: `{code, reason, message, details, request_id}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub code: u32,
    pub reason: &'static str,
    pub message: &'a str,
    pub details: &'a Map<String, Value>,
    pub request_id: &'a str,
}

#[cfg(test)]
#[path = "tests/error.rs"]
mod tests;
