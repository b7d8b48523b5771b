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
fn one_trailing_slash_is_ignored() {
    assert_eq!(
        resolve(&Method::POST, "/api/v1/live/create/").unwrap(),
        Endpoint::Create
    );
    assert_eq!(resolve(&Method::GET, "/").unwrap(), Endpoint::Health);
}
