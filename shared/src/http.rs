//! The HTTP edge, shared by every Lambda function and the local server.
//!
//! [`handle_one`] takes a `lambda_http` request for one endpoint's [`Handler`] and always
//! returns a response: the endpoint's JSON on success, the error body of SPEC §2 otherwise.
//! It is the only place where errors become statuses and where the per-request log line is
//! written. [`serve`] adds path routing for the local server over every feature's endpoints
//! ([`visit_all`]; the OpenAPI and template tests check the documents against them).
//!
//! [`CORS`] is the API's cross-origin policy: `template.yaml`'s `CorsConfiguration` (API Gateway
//! applies it in AWS; a test holds the two equal) and what the local server applies.
//!
//! Never here: one endpoint's facts (its module states them, next to its handler), business
//! rules, internal error text in a response, tokens or passwords in a log.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::App;
use crate::dialects;
use crate::endpoint::{ANY, Endpoint, Envelope, Handler, RequestId, Route, Stateless, Visitor};
use crate::error::{ApiError, ErrorCode};
use crate::store::Store;

pub use crate::endpoint::PeerAddr;

/// Walks every endpoint of the API, feature by feature (what the local server mounts).
pub fn visit_all(v: &mut impl Visitor) {
    crate::service::endpoints(v);
    crate::accounts::endpoints(v);
    crate::rooms::endpoints(v);
    crate::vendor_tokens::endpoints(v);
    crate::meeting::endpoints(v);
    crate::presence::endpoints(v);
    crate::moderation::endpoints(v);
    crate::admin::endpoints(v);
    crate::callbacks::endpoints(v);
    dialects::tencent::endpoints(v);
    dialects::aliyun::endpoints(v);
}

/// Every endpoint, one Lambda function each.
pub fn endpoints() -> Vec<Endpoint> {
    struct Collect(Vec<Endpoint>);
    impl Visitor for Collect {
        fn visit<H: Handler>(&mut self) {
            self.0.push(H::ENDPOINT);
        }
    }
    let mut all = Collect(Vec::with_capacity(40));
    visit_all(&mut all);
    all.0
}

/// Every route the API serves. `template.yaml` and `openapi.json` list the same ones.
pub fn routes() -> Vec<Route> {
    endpoints()
        .iter()
        .flat_map(|e| e.routes().iter().copied())
        .collect()
}

/// What an `ANY` route's 405 lists in `Allow`.
const ANY_ALLOWS: &str = "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS";

/// Finds the endpoint for a method and path: 404 for an unknown path, 405 for a known path
/// with the wrong method. One trailing slash is ignored.
pub fn resolve(method: &Method, path: &str) -> Result<Endpoint, ApiError> {
    struct Resolve<'a> {
        method: &'a str,
        path: &'a str,
        found: Option<Endpoint>,
        allowed: Vec<&'static str>,
    }
    impl Visitor for Resolve<'_> {
        fn visit<H: Handler>(&mut self) {
            if self.found.is_some() {
                return;
            }
            for route in H::ENDPOINT.routes().iter().filter(|r| r.path == self.path) {
                if route.admits(self.method) {
                    self.found = Some(H::ENDPOINT);
                    return;
                }
                self.allowed.push(if route.method == ANY {
                    ANY_ALLOWS
                } else {
                    route.method
                });
            }
        }
    }
    let path = crate::endpoint::routed_path(path);
    let mut resolve = Resolve {
        method: method.as_str(),
        path,
        found: None,
        allowed: Vec::new(),
    };
    visit_all(&mut resolve);
    if let Some(endpoint) = resolve.found {
        return Ok(endpoint);
    }
    // `Allow` lists what this path is routed for (AUI's root callback path is GET only).
    Err(match resolve.allowed.is_empty() {
        false => method_not_allowed(&resolve.allowed.join(", ")),
        true => ApiError::new(ErrorCode::RouteNotFound, "no such path").with_detail("path", path),
    })
}

fn method_not_allowed(allowed: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("this path accepts only {allowed}"),
    )
    .with_detail("allow", allowed)
}

/// The method check a Lambda function makes itself (API Gateway routes by method too, but a
/// direct invoke may not).
fn method_of(endpoint: Endpoint, req: &Request) -> Result<(), ApiError> {
    let method = req.method().as_str();
    if endpoint.routes().iter().any(|r| r.admits(method)) {
        return Ok(());
    }
    let methods = endpoint.methods();
    if methods == [ANY] {
        Err(method_not_allowed(ANY_ALLOWS))
    } else {
        Err(method_not_allowed(&methods.join(", ")))
    }
}

/// The Lambda entry of one endpoint: every request to this function is for `H`.
pub async fn handle_one<H: Handler, S: Store + ?Sized>(
    app: &App<S>,
    req: Request,
) -> Response<Body> {
    let checked = method_of(H::ENDPOINT, &req);
    respond(checked, H::ENDPOINT, req, |req| H::call(app, req)).await
}

/// [`handle_one`] in the shape `lambda_http::run` wants.
pub async fn handle_one_infallible<H: Handler, S: Store + ?Sized>(
    app: &App<S>,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    Ok(handle_one::<H, S>(app, req).await)
}

/// The Lambda entry of an endpoint that needs no state (`health`, `openapi`).
pub async fn handle_static<H: Stateless>(req: Request) -> Response<Body> {
    let checked = method_of(H::ENDPOINT, &req);
    respond(checked, H::ENDPOINT, req, |_| async move {
        H::answer(chrono::Utc::now())
    })
    .await
}

/// A handler's answer, boxed: what [`dispatch`] finds by name.
type Answer<'a> = Pin<Box<dyn Future<Output = Result<String, ApiError>> + Send + 'a>>;

/// Calls the handler of `endpoint` (any of them: the local server and the tests).
fn dispatch<S: Store + ?Sized>(app: &App<S>, endpoint: Endpoint, req: Request) -> Answer<'_> {
    struct Dispatch<'a, S: ?Sized> {
        app: &'a App<S>,
        name: &'static str,
        req: Option<Request>,
        answer: Option<Answer<'a>>,
    }
    impl<'a, S: Store + ?Sized> Visitor for Dispatch<'a, S> {
        fn visit<H: Handler>(&mut self) {
            if H::ENDPOINT.name() == self.name
                && let Some(req) = self.req.take()
            {
                self.answer = Some(Box::pin(H::call(self.app, req)));
            }
        }
    }
    let mut dispatch = Dispatch {
        app,
        name: endpoint.name(),
        req: Some(req),
        answer: None,
    };
    visit_all(&mut dispatch);
    dispatch
        .answer
        .unwrap_or_else(|| Box::pin(async { Err(ApiError::internal("no such endpoint")) }))
}

/// Handles a request for `endpoint` (any of them: the local server and the tests).
pub async fn handle<S: Store + ?Sized>(
    app: &App<S>,
    endpoint: Endpoint,
    req: Request,
) -> Response<Body> {
    let checked = method_of(endpoint, &req);
    respond(checked, endpoint, req, |req| dispatch(app, endpoint, req)).await
}

/// The local server's entry: routes by path, then handles.
pub async fn serve<S: Store + ?Sized>(app: &App<S>, req: Request) -> Response<Body> {
    match resolve(req.method(), req.uri().path()) {
        Ok(endpoint) => {
            respond(Ok(()), Some(endpoint), req, |req| {
                dispatch(app, endpoint, req)
            })
            .await
        }
        Err(e) => respond(Err(e), None, req, |_| async { Ok(String::new()) }).await,
    }
}

/// Answers a request that failed before it could be handled (e.g. its body could not be read).
pub async fn reject(req: Request, err: ApiError) -> Response<Body> {
    let endpoint = resolve(req.method(), req.uri().path()).ok();
    respond(Err(err), endpoint, req, |_| async { Ok(String::new()) }).await
}

/// Runs `handler` (unless `checked` failed), maps its outcome to a response, logs one line.
async fn respond<F, Fut>(
    checked: Result<(), ApiError>,
    endpoint: impl Into<Option<Endpoint>>,
    mut req: Request,
    handler: F,
) -> Response<Body>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<String, ApiError>>,
{
    let started = Instant::now();
    let endpoint: Option<Endpoint> = endpoint.into();
    let name = endpoint.as_ref().map_or("unrouted", Endpoint::name);
    let envelope = endpoint
        .as_ref()
        .map_or_else(|| Envelope::of_path(req.uri().path()), Endpoint::envelope);
    let request_id = request_id(&req);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let result = match checked {
        Ok(()) => handler(req).await,
        Err(e) => Err(e),
    };
    let (status, body, extra) = match result {
        Ok(body) => (StatusCode::OK, body, None),
        Err(err) => {
            let status = StatusCode::from_u16(err.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::to_string(&dialects::error_body(envelope, &err, &request_id))
                .unwrap_or_default();
            if let Some(cause) = &err.cause {
                tracing::error!(
                    request_id = %request_id,
                    method = %method,
                    path = %path,
                    route = name,
                    status = status.as_u16(),
                    latency_ms = started.elapsed().as_secs_f64() * 1e3,
                    cause = %cause,
                    "request failed"
                );
            }
            let allow = err
                .details
                .get("allow")
                .and_then(|v| v.as_str())
                .and_then(|v| HeaderValue::from_str(v).ok())
                .map(|v| (header::ALLOW, v));
            let retry = err
                .details
                .get("retry_after")
                .and_then(|v| v.as_i64())
                .and_then(|v| HeaderValue::from_str(&v.to_string()).ok())
                .map(|v| (header::RETRY_AFTER, v));
            (status, body, allow.or(retry))
        }
    };
    if !status.is_server_error() {
        tracing::info!(
            request_id = %request_id,
            method = %method,
            path = %path,
            route = name,
            status = status.as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1e3,
            "request"
        );
    }
    // JSON is text: API Gateway passes it through as is.
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert("x-request-id", id);
    }
    if let Some((name, value)) = extra {
        headers.insert(name, value);
    }
    response
}

/// API Gateway's request id when there is one (it is in API Gateway's own logs too).
fn request_id(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
    .filter(|id| !id.is_empty() && id.len() <= 128)
    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

#[cfg(test)]
#[path = "tests/http.rs"]
mod tests;

/// The API's CORS policy (`template.yaml`'s `CorsConfiguration`): any origin (tokens travel in
/// `Authorization`, never cookies, so no credentials are allowed), `GET` and `POST`, the two
/// request headers clients send, preflights cached ten minutes.
pub struct CorsPolicy {
    pub allow_origins: &'static [&'static str],
    pub allow_methods: &'static [&'static str],
    pub allow_headers: &'static [&'static str],
    pub max_age_seconds: u32,
}

pub const CORS: CorsPolicy = CorsPolicy {
    allow_origins: &["*"],
    allow_methods: &["GET", "POST"],
    allow_headers: &["authorization", "content-type"],
    max_age_seconds: 600,
};
