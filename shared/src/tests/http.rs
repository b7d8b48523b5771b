//! Unit tests of `http` (kept apart from the request-path code).

use super::*;

#[test]
fn every_endpoint_has_a_route_and_every_route_resolves_to_its_endpoint() {
    for endpoint in endpoints() {
        assert!(!endpoint.routes().is_empty(), "{}", endpoint.name());
        for route in endpoint.routes() {
            let method: Method = route.method.parse().unwrap();
            assert_eq!(resolve(&method, route.path).unwrap(), endpoint);
            assert!(
                endpoint.methods().contains(&route.method),
                "{} {}",
                route.method,
                route.path
            );
        }
        // Every method an endpoint answers has a route.
        for method in endpoint.methods() {
            assert!(
                endpoint.routes().iter().any(|r| r.method == method),
                "{endpoint:?} {method}"
            );
        }
    }
}

#[test]
fn every_route_and_every_function_name_is_one_endpoint_s() {
    let all = endpoints();
    let mut names: Vec<&str> = all.iter().map(|e| e.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len(), "a function name used twice");
    let mut paths: Vec<&str> = all
        .iter()
        .flat_map(|e| e.routes().iter().map(|r| r.path))
        .collect();
    paths.sort_unstable();
    let routes = paths.len();
    paths.dedup();
    // A path is one endpoint's (its methods may be several routes of it).
    for path in paths {
        let owners = all
            .iter()
            .filter(|e| e.routes().iter().any(|r| r.path == path))
            .count();
        assert_eq!(owners, 1, "{path} is routed to {owners} endpoints");
    }
    assert!(routes >= all.len());
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
    assert_eq!(ANY_ALLOWS, crate::endpoint::ANY_METHODS.join(", "));
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        assert_eq!(
            resolve(&method, "/base/v1/rooms/query_room").unwrap(),
            crate::dialects::tencent::TencentRooms::ENDPOINT
        );
        assert_eq!(
            resolve(&method, "/app/token").unwrap(),
            crate::dialects::aliyun::AliyunCall::ENDPOINT
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
    let err = method_of(crate::dialects::aliyun::AliyunCall::ENDPOINT, &req).unwrap_err();
    assert_eq!(err.http_status(), 405);
}

#[test]
fn one_trailing_slash_is_ignored() {
    assert_eq!(
        resolve(&Method::POST, "/api/v1/live/create/").unwrap(),
        crate::rooms::Create::ENDPOINT
    );
    assert_eq!(
        resolve(&Method::GET, "/").unwrap(),
        crate::service::Health::ENDPOINT
    );
}
