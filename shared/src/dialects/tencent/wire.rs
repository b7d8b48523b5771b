//! Seed 004's wire, shared by its operations: the answer's envelope, the caller named by the
//! `token` and `userId` parameters, and the dialect's names for the core's fields.
//!
//! Never here: an operation (`users`, `rooms`), or a rule of the core.

use serde_json::{Value, json};

use crate::App;
use crate::auth::{Caller, TokenKind};
use crate::dialects::Params;
use crate::error::{ApiError, ErrorCode};

/// `{errorCode: 0, errorMessage, data?}`.
pub(super) fn done(message: &str, data: Option<Value>) -> Result<String, ApiError> {
    let mut body = json!({"errorCode": 0, "errorMessage": message});
    if let Some(data) = data {
        body["data"] = data;
    }
    serde_json::to_string(&body).map_err(ApiError::internal)
}

pub(super) fn token_invalid(message: &str) -> ApiError {
    ApiError::new(ErrorCode::UserTokenInvalid, message)
}

/// The `userId` (or its alias `apaasUserId`) a request names.
pub(super) fn claimed_user(p: &Params) -> Result<Option<String>, ApiError> {
    const CODE: ErrorCode = ErrorCode::UserTokenInvalid;
    match (p.id(CODE, "userId")?, p.id(CODE, "apaasUserId")?) {
        (Some(user), Some(apaas)) if user != apaas => {
            Err(token_invalid("userId and apaasUserId name different users"))
        }
        (Some(user), _) => Ok(Some(user)),
        (None, apaas) => Ok(apaas),
    }
}

/// The caller: the verified `token`, whose user `userId` must name (401 203 expired, 204
/// otherwise, as seed 004's `authByUserToken`).
pub(super) fn caller<S: ?Sized>(app: &App<S>, p: &Params) -> Result<Caller, ApiError> {
    let token = p
        .text(ErrorCode::UserTokenInvalid, "token")?
        .ok_or_else(|| token_invalid("token required"))?;
    // The token first: an unauthenticated request learns nothing about its other parameters.
    let caller = app
        .tokens
        .verify(&token, TokenKind::Access, app.clock.now())?;
    let claimed = claimed_user(p)?.ok_or_else(|| token_invalid("userId required"))?;
    if claimed != caller.user_id.as_str() {
        return Err(token_invalid("userId is not the token's user"));
    }
    Ok(caller)
}

/// Parameters the seed takes that nothing here keeps: still strings, or the request is bad.
pub(super) fn accepted(p: &Params, code: ErrorCode, keys: &[&str]) -> Result<(), ApiError> {
    keys.iter().try_for_each(|k| p.text(code, k).map(drop))
}

pub(super) fn unknown(operation: &str) -> ApiError {
    ApiError::new(ErrorCode::RouteNotFound, "no such path").with_detail("operation", operation)
}

/// An error about the core's field `from` named as the dialect names it.
pub(super) fn rename_field(mut e: ApiError, from: &str, to: &str) -> ApiError {
    if e.details.get("field").and_then(Value::as_str) == Some(from) {
        e.details.insert("field".into(), json!(to));
        e.message = e.message.replace(from, to);
    }
    e
}
