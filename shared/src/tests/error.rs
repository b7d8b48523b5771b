//! Unit tests of `error` (kept apart from the request-path code).

use super::*;

#[test]
fn codes_and_reasons_are_unique() {
    let mut codes: Vec<u32> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
    let mut reasons: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.reason()).collect();
    codes.sort_unstable();
    codes.dedup();
    reasons.sort_unstable();
    reasons.dedup();
    assert_eq!(codes.len(), ErrorCode::ALL.len());
    assert_eq!(reasons.len(), ErrorCode::ALL.len());
}

#[test]
fn seed_004_codes_keep_their_numbers() {
    assert_eq!(
        ErrorCode::SystemVerifyError.entry(),
        (98, "SystemVerifyError", 400)
    );
    assert_eq!(ErrorCode::SystemError.entry(), (99, "SystemError", 500));
    assert_eq!(
        ErrorCode::ServiceDbFailed.entry(),
        (103, "ServiceDBFailed", 503)
    );
    assert_eq!(
        ErrorCode::UserTokenExpired.entry(),
        (203, "UserTokenExpired", 401)
    );
    assert_eq!(
        ErrorCode::UserTokenInvalid.entry(),
        (204, "UserTokenInvalid", 401)
    );
    assert_eq!(
        ErrorCode::RoomNotExists.entry(),
        (2004, "RoomNotExists", 404)
    );
}

#[test]
fn an_internal_error_hides_its_cause_from_the_body() {
    let err = ApiError::internal("connection reset by peer at 10.0.0.7");
    let body = serde_json::to_string(&err.body("req-1")).unwrap();
    assert!(!body.contains("10.0.0.7"), "{body}");
    assert!(body.contains("req-1"));
    assert_eq!(err.http_status(), 500);
}
