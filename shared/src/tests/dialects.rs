use serde_json::json;

use super::*;

const CODE: ErrorCode = ErrorCode::SystemVerifyError;

#[test]
fn the_query_string_wins_over_the_body_and_numbers_read_as_text() {
    let p = Params::parse(
        "userId=from-query&limit=20",
        br#"{"userId": "from-body", "token": "t", "offset": 5, "roomIds": ["a", "b"]}"#,
        Some("application/json"),
    )
    .unwrap();
    assert_eq!(p.id(CODE, "userId").unwrap().as_deref(), Some("from-query"));
    assert!(p.text(CODE, "offset").is_err(), "a number is not text");
    assert_eq!(p.id(CODE, "offset").unwrap().as_deref(), Some("5"));
    assert_eq!(p.int(CODE, "limit").unwrap(), Some(20));
    assert_eq!(p.int(CODE, "offset").unwrap(), Some(5));
    assert_eq!(p.list(CODE, "roomIds").unwrap(), vec!["a", "b"]);
    assert_eq!(p.text(CODE, "absent").unwrap(), None);
}

#[test]
fn a_json_body_without_its_content_type_and_a_form_body_are_read() {
    let p = Params::parse("", br#"{"username": "alice"}"#, None).unwrap();
    assert_eq!(p.text(CODE, "username").unwrap().as_deref(), Some("alice"));
    let p = Params::parse(
        "",
        b"username=alice&tag=a%20b",
        Some("application/x-www-form-urlencoded; charset=utf-8"),
    )
    .unwrap();
    assert_eq!(p.text(CODE, "tag").unwrap().as_deref(), Some("a b"));
    // A one-element list from a query string.
    let p = Params::parse("roomIds=x", b"", None).unwrap();
    assert_eq!(p.list(CODE, "roomIds").unwrap(), vec!["x"]);
}

#[test]
fn bad_parameters_are_400s_naming_the_field() {
    for body in [&b"[1, 2]"[..], b"not json", b"\"text\""] {
        let e = Params::parse("", body, Some("application/json")).unwrap_err();
        assert_eq!(e.http_status(), 400, "{body:?}");
    }
    let p = Params::parse(
        "",
        br#"{"limit": "ten", "title": {"a": 1}, "roomIds": [1]}"#,
        None,
    )
    .unwrap();
    let e = p.int(ErrorCode::RoomQueryParams, "limit").unwrap_err();
    assert_eq!(
        (e.code, e.details["field"].clone()),
        (ErrorCode::RoomQueryParams, json!("limit"))
    );
    assert!(p.text(CODE, "title").is_err());
    assert!(p.list(CODE, "roomIds").is_err());
    assert!(Params::parse("a=%zz", b"", None).is_err());
}

#[test]
fn each_envelope_carries_the_code_and_no_internals() {
    let err = ApiError::new(ErrorCode::UserTokenExpired, "the token has expired");
    let tencent = error_body(Envelope::Tencent, &err, "req-1");
    assert_eq!(tencent["errorCode"], 203);
    assert_eq!(tencent["codeStr"], "UserTokenExpired");
    assert_eq!(
        tencent["errorMessage"],
        "UserTokenExpired(203): the token has expired"
    );
    assert_eq!(tencent["requestId"], "req-1");
    let aliyun = error_body(Envelope::Aliyun, &err, "req-1");
    assert_eq!(
        (aliyun["result"].clone(), aliyun["code"].clone()),
        (json!(false), json!("203"))
    );
    let internal = ApiError::internal("secret detail");
    for envelope in [Envelope::Aui, Envelope::Tencent, Envelope::Aliyun] {
        let body = error_body(envelope, &internal, "r").to_string();
        assert!(!body.contains("secret detail"), "{body}");
    }
}

#[test]
fn operations_and_times_read_as_the_seed_writes_them() {
    assert_eq!(operation("/base/v1/rooms/enter_room"), "enter_room");
    assert_eq!(operation("/base/v1/rooms/enter_room/"), "enter_room");
    assert_eq!(seed_time_of("2021-08-22T06:42:54Z"), "2021-08-22 06:42:54");
    assert_eq!(seed_time_of(""), "");
}

#[test]
fn an_unrouted_dialect_path_still_gets_its_dialects_envelope() {
    assert_eq!(Envelope::of_path("/base/v1/rooms/nope"), Envelope::Tencent);
    assert_eq!(Envelope::of_path("/app/nope"), Envelope::Aliyun);
    assert_eq!(Envelope::of_path("/api/v1/live/nope"), Envelope::Aui);
    assert_eq!(Envelope::of_path("/application"), Envelope::Aui);
}
