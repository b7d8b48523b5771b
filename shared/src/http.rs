//! The HTTP edge, shared by every Lambda function and the local server.
//!
//! [`handle`] takes a `lambda_http` request for one [`Endpoint`] and always returns a response:
//! the endpoint's JSON on success, the error body of SPEC §2 otherwise. It is the only place
//! where errors become statuses, where request bodies are read and where the per-request log
//! line is written. [`serve`] adds path routing for the local server, from [`ROUTES`], the one
//! route table (the OpenAPI test checks the document against it).
//!
//! Never here: business rules (those live in `accounts` and `rooms`), internal error text in a
//! response, tokens or passwords in a log.

use std::convert::Infallible;
use std::time::Instant;

use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::App;
use crate::accounts;
use crate::auth::{Caller, TokenKind, bearer};
use crate::credentials;
use crate::error::{ApiError, ErrorCode};
use crate::meeting::{self, MeetingInfo};
use crate::presence;
use crate::rooms::{self, Action, RoomInfo};

/// One API operation; each is one Lambda function (named by [`Endpoint::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Health,
    OpenApi,
    Register,
    Login,
    Refresh,
    Create,
    Get,
    List,
    Update,
    Start,
    Pause,
    Stop,
    Delete,
    Token,
    RtcToken,
    GetMeetingInfo,
    UpdateMeetingInfo,
    Join,
    Leave,
    Keepalive,
    Members,
    Like,
}

/// A path and method that reach an endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub endpoint: Endpoint,
}

const fn post(path: &'static str, endpoint: Endpoint) -> Route {
    Route {
        method: "POST",
        path,
        endpoint,
    }
}

const fn get(path: &'static str, endpoint: Endpoint) -> Route {
    Route {
        method: "GET",
        path,
        endpoint,
    }
}

/// Every route the API serves. `template.yaml` and `openapi.json` list the same ones.
pub const ROUTES: &[Route] = &[
    get("/", Endpoint::Health),
    get("/api/v1/live/health", Endpoint::Health),
    get("/openapi.json", Endpoint::OpenApi),
    post("/login", Endpoint::Login),
    post("/api/v1/live/login", Endpoint::Login),
    post("/api/v1/live/register", Endpoint::Register),
    post("/api/v1/live/refresh", Endpoint::Refresh),
    post("/api/v1/live/create", Endpoint::Create),
    post("/api/v1/live/get", Endpoint::Get),
    post("/api/v1/live/list", Endpoint::List),
    post("/api/v1/live/update", Endpoint::Update),
    post("/api/v1/live/start", Endpoint::Start),
    post("/api/v1/live/pause", Endpoint::Pause),
    post("/api/v1/live/stop", Endpoint::Stop),
    post("/api/v1/live/delete", Endpoint::Delete),
    post("/api/v1/live/token", Endpoint::Token),
    post("/api/v1/live/rtcToken", Endpoint::RtcToken),
    post("/api/v1/live/getMeetingInfo", Endpoint::GetMeetingInfo),
    post(
        "/api/v1/live/updateMeetingInfo",
        Endpoint::UpdateMeetingInfo,
    ),
    post("/api/v1/live/join", Endpoint::Join),
    post("/api/v1/live/leave", Endpoint::Leave),
    post("/api/v1/live/keepalive", Endpoint::Keepalive),
    post("/api/v1/live/members", Endpoint::Members),
    post("/api/v1/live/like", Endpoint::Like),
];

impl Endpoint {
    /// Every endpoint, one Lambda function each.
    pub const ALL: [Endpoint; 22] = [
        Self::Health,
        Self::OpenApi,
        Self::Register,
        Self::Login,
        Self::Refresh,
        Self::Create,
        Self::Get,
        Self::List,
        Self::Update,
        Self::Start,
        Self::Pause,
        Self::Stop,
        Self::Delete,
        Self::Token,
        Self::RtcToken,
        Self::GetMeetingInfo,
        Self::UpdateMeetingInfo,
        Self::Join,
        Self::Leave,
        Self::Keepalive,
        Self::Members,
        Self::Like,
    ];

    /// The function (and binary) name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Health => "health",
            Self::OpenApi => "openapi",
            Self::Register => "register",
            Self::Login => "login",
            Self::Refresh => "refresh",
            Self::Create => "create",
            Self::Get => "get",
            Self::List => "list",
            Self::Update => "update",
            Self::Start => "start",
            Self::Pause => "pause",
            Self::Stop => "stop",
            Self::Delete => "delete",
            Self::Token => "token",
            Self::RtcToken => "rtc-token",
            Self::GetMeetingInfo => "get-meeting-info",
            Self::UpdateMeetingInfo => "update-meeting-info",
            Self::Join => "join",
            Self::Leave => "leave",
            Self::Keepalive => "keepalive",
            Self::Members => "members",
            Self::Like => "like",
        }
    }

    fn method(self) -> &'static str {
        match self {
            Self::Health | Self::OpenApi => "GET",
            _ => "POST",
        }
    }

    /// The code for bad parameters to this endpoint (seed 004 has per-area codes).
    fn param_error(self) -> ErrorCode {
        match self {
            Self::Create => ErrorCode::RoomCreateParams,
            Self::Get | Self::List | Self::RtcToken | Self::GetMeetingInfo | Self::Members => {
                ErrorCode::RoomQueryParams
            }
            _ => ErrorCode::SystemVerifyError,
        }
    }
}

/// Finds the endpoint for a method and path: 404 for an unknown path, 405 for a known path
/// with the wrong method. One trailing slash is ignored.
pub fn resolve(method: &Method, path: &str) -> Result<Endpoint, ApiError> {
    let path = match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    };
    let mut allowed = None;
    for route in ROUTES.iter().filter(|r| r.path == path) {
        if route.method == method.as_str() {
            return Ok(route.endpoint);
        }
        allowed = Some(route.method);
    }
    Err(match allowed {
        Some(m) => method_not_allowed(m),
        None => ApiError::new(ErrorCode::RouteNotFound, "no such path").with_detail("path", path),
    })
}

fn method_not_allowed(allowed: &str) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("this path accepts only {allowed}"),
    )
    .with_detail("allow", allowed)
}

/// The Lambda entry: every request to this function is for `endpoint`.
pub async fn handle(app: &App, endpoint: Endpoint, req: Request) -> Response<Body> {
    let route = if req.method().as_str() == endpoint.method() {
        Ok(endpoint)
    } else {
        Err(method_not_allowed(endpoint.method()))
    };
    respond(app, route, endpoint.name(), req).await
}

/// [`handle`] in the shape `lambda_http::run` wants.
pub async fn handle_infallible(
    app: &App,
    endpoint: Endpoint,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    Ok(handle(app, endpoint, req).await)
}

/// The local server's entry: routes by path, then handles.
pub async fn serve(app: &App, req: Request) -> Response<Body> {
    let route = resolve(req.method(), req.uri().path());
    let name = route.as_ref().map(|e| e.name()).unwrap_or("unrouted");
    respond(app, route, name, req).await
}

/// Answers a request that failed before it could be handled (e.g. its body could not be read).
pub async fn reject(app: &App, req: Request, err: ApiError) -> Response<Body> {
    let name = resolve(req.method(), req.uri().path()).map_or("unrouted", |e| e.name());
    respond(app, Err(err), name, req).await
}

async fn respond(
    app: &App,
    route: Result<Endpoint, ApiError>,
    name: &'static str,
    req: Request,
) -> Response<Body> {
    let started = Instant::now();
    let request_id = request_id(&req);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let result = match route {
        Ok(endpoint) => dispatch(app, endpoint, req).await,
        Err(e) => Err(e),
    };
    let (status, body, allow) = match result {
        Ok(body) => (StatusCode::OK, body, None),
        Err(err) => {
            let status = StatusCode::from_u16(err.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::to_vec(&err.body(&request_id)).unwrap_or_default();
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
                .and_then(|v| HeaderValue::from_str(v).ok());
            (status, body, allow)
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
    // serde_json writes UTF-8, so the body is text (API Gateway then passes it through as is).
    let body = String::from_utf8(body).map_or_else(|e| Body::Binary(e.into_bytes()), Body::Text);
    let mut response = Response::new(body);
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
    if let Some(allow) = allow {
        headers.insert(header::ALLOW, allow);
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

fn json(value: &impl Serialize) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(ApiError::internal)
}

fn authenticate(app: &App, req: &Request) -> Result<Caller, ApiError> {
    app.tokens
        .verify(bearer(req.headers())?, TokenKind::Access, app.clock.now())
}

/// The caller, then the body: an unauthenticated request learns nothing about its body.
fn authenticated<T: DeserializeOwned>(
    app: &App,
    endpoint: Endpoint,
    req: &Request,
) -> Result<(Caller, T), ApiError> {
    let caller = authenticate(app, req)?;
    Ok((caller, parse_body(app, endpoint, req)?))
}

/// Reads the JSON body: 413 if too large, 400 if absent, 415 if not JSON, 400 if malformed or
/// of the wrong shape (with serde's description of what is wrong, which names no internals).
fn parse_body<T: DeserializeOwned>(
    app: &App,
    endpoint: Endpoint,
    req: &Request,
) -> Result<T, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > app.config.max_body_bytes {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the body must be at most {} bytes",
                app.config.max_body_bytes
            ),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            endpoint.param_error(),
            "a JSON body is required",
        ));
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "the body must be JSON with Content-Type: application/json",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let message = match e.classify() {
            serde_json::error::Category::Data => format!("wrong shape: {e}"),
            _ => format!("malformed JSON: {e}"),
        };
        ApiError::new(endpoint.param_error(), message)
    })
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    service: &'static str,
    version: &'static str,
    time: String,
}

async fn dispatch(app: &App, endpoint: Endpoint, req: Request) -> Result<Vec<u8>, ApiError> {
    let providers = &app.config.providers;
    let room = |room: crate::store::Room, caller: Caller| async move {
        let metrics = presence::metrics(app, &room.id).await?;
        json(&RoomInfo::view(
            &room,
            &caller,
            providers,
            app.clock.now(),
            metrics,
        ))
    };
    match endpoint {
        Endpoint::Health => json(&Health {
            status: "ok",
            service: "liveroom",
            version: env!("CARGO_PKG_VERSION"),
            time: crate::clock::rfc3339(&app.clock.now()),
        }),
        Endpoint::OpenApi => Ok(crate::OPENAPI.as_bytes().to_vec()),
        Endpoint::Register => {
            let body = parse_body(app, endpoint, &req)?;
            json(&accounts::register(app, body).await?)
        }
        Endpoint::Login => {
            let body = parse_body(app, endpoint, &req)?;
            json(&accounts::login(app, body).await?)
        }
        Endpoint::Refresh => {
            let body = parse_body(app, endpoint, &req)?;
            json(&accounts::refresh(app, body).await?)
        }
        Endpoint::Create => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            room(rooms::create(app, &caller, body).await?, caller).await
        }
        Endpoint::Get => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            room(rooms::get(app, &caller, body).await?, caller).await
        }
        Endpoint::List => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            let rooms = rooms::list(app, &caller, body).await?;
            let now = app.clock.now();
            // Each room's metrics are read from its shards; a few rooms at a time.
            let mut metrics = Vec::with_capacity(rooms.len());
            for chunk in rooms.chunks(8) {
                let ids: Vec<&crate::domain::RoomId> = chunk.iter().map(|r| &r.id).collect();
                let reads = ids.into_iter().map(|id| presence::metrics(app, id));
                metrics.extend(futures_util::future::join_all(reads).await);
            }
            let mut views = Vec::with_capacity(rooms.len());
            for (r, m) in rooms.iter().zip(metrics) {
                views.push(RoomInfo::view(r, &caller, providers, now, m?));
            }
            json(&views)
        }
        Endpoint::Update => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            room(rooms::update(app, &caller, body).await?, caller).await
        }
        Endpoint::Start | Endpoint::Pause | Endpoint::Stop => {
            let action = match endpoint {
                Endpoint::Start => Action::Start,
                Endpoint::Pause => Action::Pause,
                _ => Action::Stop,
            };
            let (caller, body) = authenticated(app, endpoint, &req)?;
            room(rooms::transition(app, &caller, body, action).await?, caller).await
        }
        Endpoint::Delete => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            room(rooms::delete(app, &caller, body).await?, caller).await
        }
        Endpoint::Token => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            json(&credentials::api::token(app, &caller, body).await?)
        }
        Endpoint::RtcToken => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            json(&credentials::api::rtc_token(app, &caller, body).await?)
        }
        Endpoint::Join => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            room(presence::join(app, &caller, body).await?, caller).await
        }
        Endpoint::Leave => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            room(presence::leave(app, &caller, body).await?, caller).await
        }
        Endpoint::Keepalive => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            json(&presence::keepalive(app, &caller, body).await?)
        }
        Endpoint::Members => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            json(&presence::members(app, &caller, body).await?)
        }
        Endpoint::Like => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            json(&presence::like(app, &caller, body).await?)
        }
        Endpoint::GetMeetingInfo => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            json(&MeetingInfo::view(
                &meeting::get(app, &caller, body).await?,
                app,
            ))
        }
        Endpoint::UpdateMeetingInfo => {
            let (caller, body) = authenticated(app, endpoint, &req)?;
            json(&MeetingInfo::view(
                &meeting::update(app, &caller, body).await?,
                app,
            ))
        }
    }
}

#[cfg(test)]
#[path = "tests/http.rs"]
mod tests;
