//! API Gateway's CORS (an HTTP API's `CorsConfiguration`): its answer to a preflight, and the
//! headers it puts on an answer to a cross-origin request.
//!
//! Never here: when a request is a preflight (`crate::gateway`), the configuration's parsing
//! (`crate::template`).

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::HeaderValue;
use hyper::{Response, StatusCode};

use crate::template::Cors;

/// API Gateway's answer to a CORS preflight: 204, with the configuration's headers when the
/// origin is allowed (the function is not invoked).
pub fn preflight(cors: &Cors, origin: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    let Some(allowed) = cors.allowed_origin(origin) else {
        return r;
    };
    let h = r.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    set("access-control-allow-origin", allowed);
    set("access-control-allow-methods", cors.allow_methods.join(","));
    set("access-control-allow-headers", cors.allow_headers.join(","));
    if let Some(age) = cors.max_age {
        set("access-control-max-age", age.to_string());
    }
    if cors.allow_credentials {
        set("access-control-allow-credentials", "true".to_owned());
    }
    r
}

/// The CORS headers API Gateway puts on an answer to an allowed origin (a function's own CORS
/// headers are replaced, as API Gateway ignores them when CORS is configured).
pub fn with_cors(mut r: Response<Full<Bytes>>, cors: &Cors, origin: &str) -> Response<Full<Bytes>> {
    let h = r.headers_mut();
    for name in [
        "access-control-allow-origin",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-expose-headers",
        "access-control-max-age",
        "access-control-allow-credentials",
    ] {
        h.remove(name);
    }
    let Some(allowed) = cors.allowed_origin(origin) else {
        return r;
    };
    if let Ok(v) = HeaderValue::from_str(&allowed) {
        h.insert("access-control-allow-origin", v);
    }
    if !cors.expose_headers.is_empty()
        && let Ok(v) = HeaderValue::from_str(&cors.expose_headers.join(","))
    {
        h.insert("access-control-expose-headers", v);
    }
    if cors.allow_credentials {
        h.insert(
            "access-control-allow-credentials",
            HeaderValue::from_static("true"),
        );
    }
    r
}
