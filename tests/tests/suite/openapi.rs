//! The OpenAPI document, the router, the error table and `docs/errors.md` agree.

use std::collections::BTreeSet;

use liveroom::ErrorCode;
use serde_json::Value;

use crate::common::{app, embedded};

fn document() -> Value {
    serde_json::from_str(liveroom::OPENAPI).expect("openapi.json is JSON")
}

#[test]
fn every_route_is_documented_and_every_documented_operation_is_routed() {
    let doc = document();
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    // A route for any method (the dialects') is documented with the methods its clients use.
    let routed = crate::common::routed();
    for (method, path) in &routed {
        assert!(
            documented
                .iter()
                .any(|(m, p)| p == path && (m == method || method == liveroom::endpoint::ANY)),
            "{method} {path} is routed but not documented"
        );
    }
    for (method, path) in &documented {
        assert!(
            routed.contains(&(method.clone(), path.clone()))
                || routed.contains(&(liveroom::endpoint::ANY.to_owned(), path.clone())),
            "{method} {path} is documented but not routed"
        );
    }
}

#[test]
fn the_documented_error_codes_are_the_error_table() {
    let doc = document();
    let error = &doc["components"]["schemas"]["Error"]["properties"];
    let codes: Vec<u64> = error["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect();
    let reasons: Vec<&str> = error["reason"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ErrorCode::ALL
            .iter()
            .map(|c| u64::from(c.code()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        reasons,
        ErrorCode::ALL
            .iter()
            .map(|c| c.reason())
            .collect::<Vec<_>>()
    );
}

#[test]
fn the_readme_error_table_is_the_error_table() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/errors.md")).unwrap();
    for code in ErrorCode::ALL {
        let row = format!(
            "| {} | {} | {} |",
            code.code(),
            code.reason(),
            code.http_status()
        );
        assert!(
            readme.contains(&row),
            "docs/errors.md lacks the row `{row}`"
        );
    }
}

#[tokio::test]
async fn a_room_info_has_exactly_the_documented_fields() {
    use lambda_http::Body;
    use lambda_http::http::Request;
    use liveroom::auth::TokenKind;
    use liveroom::domain::UserId;
    use liveroom::endpoint::Handler;
    use liveroom::http::handle;
    use liveroom::rooms;

    let store = embedded();
    let app = app(&store);
    let user = UserId::generate();
    crate::common::ensure_user(&*app.store, &user).await;
    let token = app
        .tokens
        .issue(
            &user,
            TokenKind::Access,
            app.clock.now(),
            std::time::Duration::from_secs(60),
        )
        .unwrap()
        .token;
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/live/create")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::Text(r#"{"title":"documented"}"#.to_owned()))
        .unwrap();
    let response = handle(&app, rooms::Create::ENDPOINT, req).await;
    let room: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    let keys: BTreeSet<&str> = room
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();

    let doc = document();
    let schema = &doc["components"]["schemas"]["RoomInfo"];
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let documented: BTreeSet<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        required.is_subset(&keys),
        "missing: {:?}",
        required.difference(&keys).collect::<Vec<_>>()
    );
    assert!(
        keys.is_subset(&documented),
        "undocumented: {:?}",
        keys.difference(&documented).collect::<Vec<_>>()
    );
}

#[test]
fn the_served_document_is_the_repositorys_compacted() {
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/openapi.json"
    ))
    .unwrap();
    let source: Value = serde_json::from_str(&source).unwrap();
    assert_eq!(document(), source);
    assert!(
        !liveroom::OPENAPI.contains("\n  "),
        "served without indentation"
    );
}
