//! The operator console (`GET /console`) and the API docs page (`GET /docs`): a few static
//! files, embedded in the binary at build time (`build.rs`), served with a strict
//! Content-Security-Policy, compressed when the client takes gzip, and revalidated by `ETag`.
//!
//! The pages are plain HTML, CSS and JavaScript modules with no library and no build step:
//! they call the admin API (`/api/v1/admin/…`) and read `/openapi.json` from the same origin,
//! and they put what users typed into the page as text, never as HTML. The `console` function
//! serves them in AWS; `liveroom-local` mounts [`respond`] for the paths [`serves`] claims.
//!
//! Never here: state, secrets, a store, anything fetched from the network; an API route (the
//! pages only call the API, with the operator's own token).

use std::convert::Infallible;
use std::time::Instant;

use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use liveroom::endpoint::Route;
use liveroom::{ApiError, ErrorCode};

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Its file name in `console/assets/` (and under `/console/`).
    pub name: &'static str,
    pub content_type: &'static str,
    /// A hash of its bytes (the `ETag`, unquoted).
    pub etag: &'static str,
    pub body: &'static [u8],
    /// Its gzip, when smaller.
    pub gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The routes of the `console` function (`template.yaml` deploys exactly these).
pub const ROUTES: [Route; 3] = [
    Route::get("/console"),
    Route::get("/console/{file}"),
    Route::get("/docs"),
];

/// The page at `/console`.
const CONSOLE_PAGE: &str = "index.html";
/// The page at `/docs`.
const DOCS_PAGE: &str = "docs.html";

/// The policy of every page: scripts, styles and requests from this origin only (no inline
/// script or style, no `eval`), no plugin, no `<base>`, no form posting anywhere, never framed;
/// and no string ever reaches an HTML or script sink (`innerHTML`, …): Trusted Types with no
/// policy at all, so such an assignment throws instead of parsing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; \
     trusted-types 'none'";

/// The headers every file is served with, besides its type, tag and encoding.
const SECURITY_HEADERS: [(&str, &str); 7] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    ),
];

/// Whether `path` is the console's or the docs page's (the local server sends these here).
pub fn serves(path: &str) -> bool {
    matches!(path, "/console" | "/console/" | "/docs" | "/docs/") || path.starts_with("/console/")
}

/// The file at `path`, if there is one.
pub fn asset_at(path: &str) -> Option<&'static Asset> {
    let name = match path {
        "/console" | "/console/" => CONSOLE_PAGE,
        "/docs" | "/docs/" => DOCS_PAGE,
        _ => path.strip_prefix("/console/")?,
    };
    ASSETS.iter().find(|a| a.name == name)
}

/// Whether the client takes gzip (`Accept-Encoding`): as `gzip` names it, else as `*` does
/// (`*` covers only the codings not named, RFC 9110 §12.5.3); `q=0` refuses.
fn takes_gzip(req: &Request) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let (mut gzip, mut star) = (None, None);
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        if coding.eq_ignore_ascii_case("gzip") {
            gzip = Some(!refused);
        } else if coding == "*" {
            star = Some(!refused);
        }
    }
    gzip.or(star).unwrap_or(false)
}

/// Whether `If-None-Match` names `etag`, the tag of the copy this answer would send (weak
/// tags compare too): a 304 always describes the copy the client holds.
fn not_modified(req: &Request, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// The error answer of the edge, with the files' security headers too.
async fn refuse(req: Request, err: ApiError) -> Response<Body> {
    let mut response = liveroom::http::reject(req, err).await;
    for (name, value) in SECURITY_HEADERS {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Answers a request for the console's or the docs page's files: the file (`200`, or `304` when
/// the client's copy is current), `404` for a name that is not one, `405` for a method other
/// than `GET` and `HEAD` (the spec's error bodies, through the API's edge).
pub async fn respond(req: Request) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    if method != Method::GET && method != Method::HEAD {
        let err = ApiError::new(
            ErrorCode::MethodNotAllowed,
            "this path accepts only GET, HEAD",
        )
        .with_detail("allow", "GET, HEAD");
        return liveroom::http::reject(req, err).await;
    }
    let path = req.uri().path().to_owned();
    let Some(asset) = asset_at(&path) else {
        let err = ApiError::new(ErrorCode::RouteNotFound, "no such path").with_detail("path", path);
        return refuse(req, err).await;
    };
    let gzip = asset.gzip.filter(|_| takes_gzip(&req));
    let etag = match gzip {
        Some(_) => format!("\"{}-gzip\"", asset.etag),
        None => format!("\"{}\"", asset.etag),
    };
    let fresh = not_modified(&req, &etag);
    let body = match (fresh || method == Method::HEAD, gzip) {
        (true, _) => Body::Empty,
        (false, Some(gz)) => Body::Binary(gz.to_vec()),
        (false, None) => match std::str::from_utf8(asset.body) {
            Ok(text) => Body::Text(text.to_owned()),
            Err(_) => Body::Binary(asset.body.to_vec()),
        },
    };
    let mut response = Response::new(body);
    let status = if fresh {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    if let Ok(tag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, tag);
    }
    // Kept, but checked with the server on every use: a new build is seen at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip.is_some() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    tracing::info!(
        method = %method,
        path = %path,
        route = "console",
        status = status.as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1e3,
        "request"
    );
    response
}

/// Serves the files until the Lambda runtime stops the process.
pub async fn serve() -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(|req: Request| async move {
        Ok::<_, Infallible>(respond(req).await)
    }))
    .await
}

#[cfg(test)]
mod tests;
