//! Unit tests of `http` (kept apart from the request-path code).

use super::*;

#[test]
fn every_endpoint_has_a_route_and_every_route_resolves_to_its_endpoint() {
    for route in ROUTES {
        let method: Method = route.method.parse().unwrap();
        assert_eq!(resolve(&method, route.path).unwrap(), route.endpoint);
        assert!(
            route.endpoint.methods().contains(&route.method),
            "{} {}",
            route.method,
            route.path
        );
    }
    // Every method an endpoint answers has a route.
    for endpoint in Endpoint::ALL {
        for method in endpoint.methods() {
            assert!(
                ROUTES
                    .iter()
                    .any(|r| r.endpoint == endpoint && r.method == *method),
                "{endpoint:?} {method}"
            );
        }
    }
}

#[test]
fn an_unknown_path_is_404_and_a_wrong_method_405() {
    let err = resolve(&Method::POST, "/api/v1/live/nope").unwrap_err();
    assert_eq!(err.http_status(), 404);
    let err = resolve(&Method::GET, "/api/v1/live/create").unwrap_err();
    assert_eq!(err.http_status(), 405);
    assert_eq!(err.details["allow"], "POST");
    // What the path is routed for, not what its endpoint answers elsewhere.
    let err = resolve(&Method::POST, "/handlePushStreamEventCallback").unwrap_err();
    assert_eq!(err.details["allow"], "GET");
    let err = resolve(&Method::PUT, "/api/v1/live/handlePushStreamEventCallback").unwrap_err();
    assert_eq!(err.details["allow"], "GET, POST");
}

#[test]
fn a_dialect_route_answers_the_request_methods_of_client_libraries() {
    assert_eq!(ANY_ALLOWS, ANY_METHODS.join(", "));
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        assert_eq!(
            resolve(&method, "/base/v1/rooms/query_room").unwrap(),
            Endpoint::TencentRooms
        );
        assert_eq!(
            resolve(&method, "/app/token").unwrap(),
            Endpoint::AliyunCall
        );
    }
    let query = Method::from_bytes(b"QUERY").unwrap();
    for method in [Method::TRACE, Method::CONNECT, query] {
        let err = resolve(&method, "/base/v1/oauth/signature").unwrap_err();
        assert_eq!(err.http_status(), 405);
        assert_eq!(
            err.details["allow"],
            "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
        );
    }
    // The function itself (a direct invoke) refuses them too.
    let req = lambda_http::http::Request::builder()
        .method(Method::TRACE)
        .uri("/app/token")
        .body(lambda_http::Body::Empty)
        .unwrap();
    let err = method_of(Endpoint::AliyunCall, &req).unwrap_err();
    assert_eq!(err.http_status(), 405);
}

#[test]
fn one_trailing_slash_is_ignored() {
    assert_eq!(
        resolve(&Method::POST, "/api/v1/live/create/").unwrap(),
        Endpoint::Create
    );
    assert_eq!(resolve(&Method::GET, "/").unwrap(), Endpoint::Health);
}
