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
use std::future::Future;
use std::time::Instant;

use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::accounts;
use crate::auth::{Caller, TokenKind, bearer};
use crate::callbacks::{self, Inbound};
use crate::dialects::{self, Envelope, Params};
use crate::domain::room::Action;
use crate::error::{ApiError, ErrorCode};
use crate::meeting;
use crate::moderation;
use crate::presence;
use crate::rooms;
use crate::store::{Capability, Store};
use crate::tokens;
use crate::{App, Reads};

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
    Logout,
    Signature,
    User,
    UpdateUser,
    DeleteUser,
    Kick,
    Mute,
    AlibabaCallback,
    TencentCallback,
    LivekitCallback,
    TencentUsers,
    TencentRooms,
    AliyunCall,
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

/// A dialect route that answers any method (seed 004 routes with `router.all`).
const fn any(path: &'static str, endpoint: Endpoint) -> Route {
    Route {
        method: ANY,
        path,
        endpoint,
    }
}

/// The method of a route that answers any of the request methods a client library sends
/// ([`ANY_METHODS`]; API Gateway's `ANY` route), as seed 004's `router.all`: not `TRACE`,
/// `CONNECT` or extension methods, which are never API calls.
pub const ANY: &str = "ANY";

/// The methods an `ANY` route answers.
pub const ANY_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// What an `ANY` route's 405 lists in `Allow`.
const ANY_ALLOWS: &str = "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS";

/// Whether a route's or an endpoint's `allowed` method admits `method`.
fn admits(allowed: &str, method: &str) -> bool {
    allowed == method || (allowed == ANY && ANY_METHODS.contains(&method))
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
    post("/api/v1/live/logout", Endpoint::Logout),
    post("/api/v1/live/signature", Endpoint::Signature),
    post("/api/v1/live/user", Endpoint::User),
    post("/api/v1/live/updateUser", Endpoint::UpdateUser),
    post("/api/v1/live/deleteUser", Endpoint::DeleteUser),
    post("/api/v1/live/kick", Endpoint::Kick),
    post("/api/v1/live/mute", Endpoint::Mute),
    // AUI Kits' path (the Java server's, any method; the Go server's at the root, GET).
    get(
        "/api/v1/live/handlePushStreamEventCallback",
        Endpoint::AlibabaCallback,
    ),
    post(
        "/api/v1/live/handlePushStreamEventCallback",
        Endpoint::AlibabaCallback,
    ),
    get("/handlePushStreamEventCallback", Endpoint::AlibabaCallback),
    post("/api/v1/live/callback/tencent", Endpoint::TencentCallback),
    post("/api/v1/live/callback/livekit", Endpoint::LivekitCallback),
    // Seed 004's dialect (the Tencent live-room service's aPaaS clients).
    any("/base/v1/oauth/register", Endpoint::TencentUsers),
    any("/base/v1/oauth/signature", Endpoint::TencentUsers),
    any(
        "/base/v1/auth_users/user_login_token",
        Endpoint::TencentUsers,
    ),
    any("/base/v1/auth_users/user_logout", Endpoint::TencentUsers),
    any("/base/v1/auth_users/user_delete", Endpoint::TencentUsers),
    any("/base/v1/auth_users/user_update", Endpoint::TencentUsers),
    any("/base/v1/auth_users/user_query", Endpoint::TencentUsers),
    any("/base/v1/auth_users/user_keepalive", Endpoint::TencentUsers),
    any("/base/v1/rooms/query_room", Endpoint::TencentRooms),
    any("/base/v1/rooms/generate_roomid", Endpoint::TencentRooms),
    any("/base/v1/rooms/enter_room", Endpoint::TencentRooms),
    any("/base/v1/rooms/leave_room", Endpoint::TencentRooms),
    any("/base/v1/rooms/destroy_room", Endpoint::TencentRooms),
    any("/base/v1/rooms/update_room", Endpoint::TencentRooms),
    any("/base/v1/rooms/room_detail", Endpoint::TencentRooms),
    any("/base/v1/rooms/list_users", Endpoint::TencentRooms),
    // Seed 000's dialect (the Alibaba 1v1 call clients).
    any("/app/token", Endpoint::AliyunCall),
    any("/app/descChannelUsers", Endpoint::AliyunCall),
    any("/app/descChannelStartTime", Endpoint::AliyunCall),
];

impl Endpoint {
    /// Every endpoint, one Lambda function each.
    pub const ALL: [Endpoint; 35] = [
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
        Self::Logout,
        Self::Signature,
        Self::User,
        Self::UpdateUser,
        Self::DeleteUser,
        Self::Kick,
        Self::Mute,
        Self::AlibabaCallback,
        Self::TencentCallback,
        Self::LivekitCallback,
        Self::TencentUsers,
        Self::TencentRooms,
        Self::AliyunCall,
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
            Self::Logout => "logout",
            Self::Signature => "signature-login",
            Self::User => "user",
            Self::UpdateUser => "update-user",
            Self::DeleteUser => "delete-user",
            Self::Kick => "kick",
            Self::Mute => "mute",
            Self::AlibabaCallback => "alibaba-callback",
            Self::TencentCallback => "tencent-callback",
            Self::LivekitCallback => "livekit-callback",
            Self::TencentUsers => "tencent-users",
            Self::TencentRooms => "tencent-rooms",
            Self::AliyunCall => "aliyun-call",
        }
    }

    /// What this endpoint's handler may ask of the store (its function's IAM policy).
    pub fn needs(self) -> &'static [Capability] {
        match self {
            Self::Health | Self::OpenApi => &[],
            Self::Register => accounts::REGISTER_NEEDS,
            Self::Login => accounts::LOGIN_NEEDS,
            Self::Refresh => accounts::REFRESH_NEEDS,
            Self::Signature => accounts::SIGNATURE_NEEDS,
            Self::Logout => accounts::LOGOUT_NEEDS,
            Self::User => accounts::USER_QUERY_NEEDS,
            Self::UpdateUser => accounts::UPDATE_USER_NEEDS,
            Self::DeleteUser => accounts::DELETE_USER_NEEDS,
            Self::Kick => moderation::KICK_NEEDS,
            Self::Mute => moderation::MUTE_NEEDS,
            Self::Create => rooms::CREATE_NEEDS,
            Self::Get => rooms::GET_NEEDS,
            Self::List => rooms::LIST_NEEDS,
            Self::Update | Self::Start | Self::Pause | Self::Stop => rooms::CHANGE_NEEDS,
            Self::Delete => rooms::DELETE_NEEDS,
            Self::Token => tokens::TOKEN_NEEDS,
            Self::RtcToken => tokens::RTC_TOKEN_NEEDS,
            Self::GetMeetingInfo => meeting::GET_MEETING_NEEDS,
            Self::UpdateMeetingInfo => meeting::UPDATE_MEETING_NEEDS,
            Self::Join => presence::JOIN_NEEDS,
            Self::Leave => presence::LEAVE_NEEDS,
            Self::Keepalive => presence::KEEPALIVE_NEEDS,
            Self::Members => presence::MEMBERS_NEEDS,
            Self::Like => presence::LIKE_NEEDS,
            Self::AlibabaCallback | Self::TencentCallback => callbacks::STREAM_CALLBACK_NEEDS,
            Self::LivekitCallback => callbacks::LIVEKIT_CALLBACK_NEEDS,
            Self::TencentUsers => dialects::tencent::USERS_NEEDS,
            Self::TencentRooms => dialects::tencent::ROOMS_NEEDS,
            Self::AliyunCall => dialects::aliyun::CALL_NEEDS,
        }
    }

    /// The keys its function reads (and is given), by purpose: the private token key where
    /// tokens are issued (logins, `refresh`, `token`, seed 004's users), the public one where
    /// they are only verified; the CDN and RTC keys where an answer carries a `RoomInfo` that
    /// can be signed (not `stop`'s: an ended room has none), the pull key alone for a
    /// `MeetingInfo`, the RTC key alone for `rtcToken` (Alibaba's alone for seed 000); a user's
    /// UserSig and IM token for `token`, the UserSig alone for seed 004's logins; a callback's
    /// own key for each callback. The tests serve each endpoint with exactly these
    /// ([`crate::App::scoped`]), so a purpose missing here fails them, and the `keys` suite
    /// fails on a purpose an endpoint's answers never need.
    pub fn reads(self) -> Reads {
        use crate::config::Tokens;
        match self {
            Self::Health | Self::OpenApi | Self::Register => Reads::NOTHING,
            Self::Login | Self::Refresh | Self::Signature => Reads::ISSUING,
            Self::Logout
            | Self::User
            | Self::UpdateUser
            | Self::DeleteUser
            | Self::Keepalive
            | Self::Members
            | Self::Like
            | Self::Kick
            | Self::Mute
            // A stopped room's answer signs nothing (an ended room has no URLs), nor does a
            // deleted one's (the room is gone).
            | Self::Stop
            | Self::Delete
            | Self::TencentRooms => Reads::TOKENS,
            Self::Create
            | Self::Get
            | Self::List
            | Self::Update
            | Self::Start
            | Self::Pause
            | Self::Join
            | Self::Leave => Reads::ROOM_INFO,
            Self::Token => Reads {
                tokens: Tokens::Issue,
                user_sig: true,
                im_token: true,
                ..Reads::NOTHING
            },
            Self::RtcToken => Reads {
                rtc_room: true,
                ..Reads::TOKENS
            },
            Self::GetMeetingInfo | Self::UpdateMeetingInfo => Reads {
                live_pull: true,
                ..Reads::TOKENS
            },
            Self::TencentUsers => Reads {
                user_sig: true,
                ..Reads::ISSUING
            },
            Self::AliyunCall => Reads {
                rtc_room_aliyun: true,
                ..Reads::TOKENS
            },
            Self::AlibabaCallback => Reads::ALIYUN_CALLBACK,
            Self::TencentCallback => Reads::TENCENT_CALLBACK,
            Self::LivekitCallback => Reads::LIVEKIT_CALLBACK,
        }
    }

    /// The methods it answers.
    fn methods(self) -> &'static [&'static str] {
        match self {
            Self::Health | Self::OpenApi => &["GET"],
            Self::AlibabaCallback => &["GET", "POST"],
            Self::TencentUsers | Self::TencentRooms | Self::AliyunCall => &[ANY],
            _ => &["POST"],
        }
    }

    /// The shape of its answers (the dialects' own envelopes).
    pub fn envelope(self) -> Envelope {
        match self {
            Self::TencentUsers | Self::TencentRooms => Envelope::Tencent,
            Self::AliyunCall => Envelope::Aliyun,
            _ => Envelope::Aui,
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
    let mut allowed: Vec<&str> = Vec::new();
    for route in ROUTES.iter().filter(|r| r.path == path) {
        if admits(route.method, method.as_str()) {
            return Ok(route.endpoint);
        }
        allowed.push(if route.method == ANY {
            ANY_ALLOWS
        } else {
            route.method
        });
    }
    // `Allow` lists what this path is routed for (AUI's root callback path is GET only).
    Err(match allowed.is_empty() {
        false => method_not_allowed(&allowed.join(", ")),
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

/// One endpoint's handler, fixed at compile time: a Lambda function serves exactly one, so
/// its binary links that handler and nothing reachable only from the others.
pub trait Operation {
    const ENDPOINT: Endpoint;

    /// Handles a request routed to this endpoint: the JSON answer, or the error.
    fn call<S: Store + ?Sized>(
        app: &App<S>,
        req: Request,
    ) -> impl Future<Output = Result<String, ApiError>> + Send;
}

/// The method check a Lambda function makes itself (API Gateway routes by method too, but a
/// direct invoke may not).
fn method_of(endpoint: Endpoint, req: &Request) -> Result<(), ApiError> {
    let methods = endpoint.methods();
    if methods.iter().any(|m| admits(m, req.method().as_str())) {
        Ok(())
    } else if methods == [ANY] {
        Err(method_not_allowed(ANY_ALLOWS))
    } else {
        Err(method_not_allowed(&methods.join(", ")))
    }
}

/// The Lambda entry of one operation: every request to this function is for `O`.
pub async fn handle_one<O: Operation, S: Store + ?Sized>(
    app: &App<S>,
    req: Request,
) -> Response<Body> {
    let checked = method_of(O::ENDPOINT, &req);
    respond(checked, O::ENDPOINT, req, |req| O::call(app, req)).await
}

/// The Lambda entry of an endpoint that needs no state (`health`, `openapi`).
pub async fn handle_static(endpoint: Endpoint, req: Request) -> Response<Body> {
    let checked = method_of(endpoint, &req).and_then(|()| match endpoint {
        Endpoint::Health | Endpoint::OpenApi => Ok(()),
        _ => Err(ApiError::internal("not a static endpoint")),
    });
    respond(checked, endpoint, req, |_| async move {
        match endpoint {
            Endpoint::OpenApi => Ok(crate::OPENAPI.to_owned()),
            _ => health(chrono::Utc::now()),
        }
    })
    .await
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

/// [`handle_one`] in the shape `lambda_http::run` wants.
pub async fn handle_one_infallible<O: Operation, S: Store + ?Sized>(
    app: &App<S>,
    req: Request,
) -> Result<Response<Body>, Infallible> {
    Ok(handle_one::<O, S>(app, req).await)
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
    let name = endpoint.map_or("unrouted", Endpoint::name);
    let envelope = endpoint.map_or_else(|| Envelope::of_path(req.uri().path()), Endpoint::envelope);
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

/// The id of the request being handled (in the request's extensions while it is).
#[derive(Debug, Clone)]
struct RequestId(String);

/// API Gateway's request id when there is one (it is in API Gateway's own logs too).
fn request_id(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
    .filter(|id| !id.is_empty() && id.len() <= 128)
    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The address a request came from, as the server's peer saw it (the local server puts it
/// in the request's extensions).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::IpAddr);

/// The client's address: API Gateway's `sourceIp`, else the local server's TCP peer.
fn source_ip(req: &Request) -> Option<String> {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref()
        && let Some(ip) = ctx.http.source_ip.as_ref().filter(|ip| !ip.is_empty())
    {
        return Some(ip.clone());
    }
    req.extensions()
        .get::<PeerAddr>()
        .map(|PeerAddr(ip)| ip.to_string())
}

/// [`parse_body`] for endpoints whose every field is optional: no body at all is `{}`.
fn parse_optional_body<T: DeserializeOwned + Default, S: ?Sized>(
    app: &App<S>,
    endpoint: Endpoint,
    req: &Request,
) -> Result<T, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_body(app, endpoint, req)
}

fn json(value: &impl Serialize) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

fn authenticate<S: ?Sized>(app: &App<S>, req: &Request) -> Result<Caller, ApiError> {
    app.tokens
        .verify(bearer(req.headers())?, TokenKind::Access, app.clock.now())
}

/// The caller, then the body: an unauthenticated request learns nothing about its body.
fn authenticated<T: DeserializeOwned, S: ?Sized>(
    app: &App<S>,
    endpoint: Endpoint,
    req: &Request,
) -> Result<(Caller, T), ApiError> {
    let caller = authenticate(app, req)?;
    Ok((caller, parse_body(app, endpoint, req)?))
}

/// Reads the JSON body: 413 if too large, 400 if absent, 415 if not JSON, 400 if malformed or
/// of the wrong shape (with serde's description of what is wrong, which names no internals).
fn parse_body<T: DeserializeOwned, S: ?Sized>(
    app: &App<S>,
    endpoint: Endpoint,
    req: &Request,
) -> Result<T, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    within_size(app, bytes)?;
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
    // Every body is a JSON object (serde would also take a struct from an array).
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::new(
            endpoint.param_error(),
            "the body must be a JSON object",
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

/// 413 for a body larger than `MAX_BODY_BYTES`.
fn within_size<S: ?Sized>(app: &App<S>, body: &[u8]) -> Result<(), ApiError> {
    if body.len() > app.config.max_body_bytes {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the body must be at most {} bytes",
                app.config.max_body_bytes
            ),
        ));
    }
    Ok(())
}

/// A dialect request's parameters (body and query string) and operation (its path's last
/// segment).
fn dialect<S: ?Sized>(app: &App<S>, req: &Request) -> Result<(String, Params), ApiError> {
    let body: &[u8] = req.body().as_ref();
    within_size(app, body)?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let params = Params::parse(req.uri().query().unwrap_or_default(), body, content_type)?;
    Ok((dialects::operation(req.uri().path()).to_owned(), params))
}

/// A vendor callback's request as [`callbacks`] reads it (headers, query string, raw body).
fn inbound<S: ?Sized>(app: &App<S>, req: &Request) -> Result<Inbound, ApiError> {
    let body: &[u8] = req.body().as_ref();
    within_size(app, body)?;
    let headers = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    Ok(Inbound {
        headers,
        // API Gateway's `rawQueryString` is in the URI (lambda_http puts it there), as is the
        // local server's.
        query: callbacks::form_fields(req.uri().query().unwrap_or_default())?,
        body: body.to_vec(),
    })
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    service: &'static str,
    version: &'static str,
    time: String,
}

fn health(now: chrono::DateTime<chrono::Utc>) -> Result<String, ApiError> {
    json(&Health {
        status: "ok",
        service: "liveroom",
        version: env!("CARGO_PKG_VERSION"),
        time: crate::clock::rfc3339(&now),
    })
}

/// Declares each operation: a marker type, its endpoint and its body, and the dispatch over
/// all of them (which only the local server and the tests link).
macro_rules! operations {
    ($($op:ident => $endpoint:ident, |$app:ident, $req:ident| $body:expr;)*) => {
        /// The operations, one marker type per endpoint (see [`Operation`]).
        pub mod ops {
            $(
                #[doc = concat!("The `", stringify!($endpoint), "` operation.")]
                pub struct $op;
            )*
        }

        $(
            impl Operation for ops::$op {
                const ENDPOINT: Endpoint = Endpoint::$endpoint;

                #[allow(clippy::manual_async_fn)]
                fn call<S: Store + ?Sized>(
                    $app: &App<S>,
                    $req: Request,
                ) -> impl Future<Output = Result<String, ApiError>> + Send {
                    async move { $body }
                }
            }
        )*

        async fn dispatch<S: Store + ?Sized>(
            app: &App<S>,
            endpoint: Endpoint,
            req: Request,
        ) -> Result<String, ApiError> {
            match endpoint {
                $(Endpoint::$endpoint => <ops::$op as Operation>::call(app, req).await,)*
            }
        }
    };
}

operations! {
    Health => Health, |app, _req| health(app.clock.now());
    OpenApi => OpenApi, |_app, _req| Ok(crate::OPENAPI.to_owned());
    Register => Register, |app, req| {
        let body = parse_body(app, Endpoint::Register, &req)?;
        json(&accounts::register(app, body, source_ip(&req).as_deref()).await?)
    };
    Login => Login, |app, req| {
        let body = parse_body(app, Endpoint::Login, &req)?;
        json(&accounts::login(app, body, source_ip(&req).as_deref()).await?)
    };
    Signature => Signature, |app, req| {
        let body = parse_body(app, Endpoint::Signature, &req)?;
        json(&accounts::signature(app, body, source_ip(&req).as_deref()).await?)
    };
    Refresh => Refresh, |app, req| {
        let body = parse_body(app, Endpoint::Refresh, &req)?;
        json(&accounts::refresh(app, body).await?)
    };
    Logout => Logout, |app, req| {
        let caller = authenticate(app, &req)?;
        let body = parse_optional_body(app, Endpoint::Logout, &req)?;
        json(&accounts::logout(app, &caller, body).await?)
    };
    User => User, |app, req| {
        let caller = authenticate(app, &req)?;
        let body = parse_optional_body(app, Endpoint::User, &req)?;
        json(&accounts::user(app, &caller, body).await?)
    };
    UpdateUser => UpdateUser, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::UpdateUser, &req)?;
        json(&accounts::update_user(app, &caller, body).await?)
    };
    DeleteUser => DeleteUser, |app, req| {
        let caller = authenticate(app, &req)?;
        let _: serde::de::IgnoredAny = parse_optional_body(app, Endpoint::DeleteUser, &req)?;
        json(&accounts::delete_user(app, &caller).await?)
    };
    Kick => Kick, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Kick, &req)?;
        json(&moderation::kick(app, &caller, body).await?)
    };
    Mute => Mute, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Mute, &req)?;
        json(&moderation::mute(app, &caller, body).await?)
    };
    Create => Create, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Create, &req)?;
        json(&rooms::create(app, &caller, body).await?)
    };
    Get => Get, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Get, &req)?;
        json(&rooms::get(app, &caller, body).await?)
    };
    List => List, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::List, &req)?;
        json(&rooms::list(app, &caller, body).await?)
    };
    Update => Update, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Update, &req)?;
        json(&rooms::update(app, &caller, body).await?)
    };
    Start => Start, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Start, &req)?;
        json(&rooms::transition(app, &caller, body, Action::Start).await?)
    };
    Pause => Pause, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Pause, &req)?;
        json(&rooms::transition(app, &caller, body, Action::Pause).await?)
    };
    Stop => Stop, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Stop, &req)?;
        json(&rooms::transition(app, &caller, body, Action::Stop).await?)
    };
    Delete => Delete, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Delete, &req)?;
        json(&rooms::delete(app, &caller, body).await?)
    };
    Token => Token, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Token, &req)?;
        json(&tokens::token(app, &caller, body).await?)
    };
    RtcToken => RtcToken, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::RtcToken, &req)?;
        json(&tokens::rtc_token(app, &caller, body).await?)
    };
    GetMeetingInfo => GetMeetingInfo, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::GetMeetingInfo, &req)?;
        json(&meeting::get(app, &caller, body).await?)
    };
    UpdateMeetingInfo => UpdateMeetingInfo, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::UpdateMeetingInfo, &req)?;
        json(&meeting::update(app, &caller, body).await?)
    };
    Join => Join, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Join, &req)?;
        json(&presence::join(app, &caller, body).await?)
    };
    Leave => Leave, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Leave, &req)?;
        json(&presence::leave(app, &caller, body).await?)
    };
    Keepalive => Keepalive, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Keepalive, &req)?;
        json(&presence::keepalive(app, &caller, body).await?)
    };
    Members => Members, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Members, &req)?;
        json(&presence::members(app, &caller, body).await?)
    };
    Like => Like, |app, req| {
        let (caller, body) = authenticated(app, Endpoint::Like, &req)?;
        json(&presence::like(app, &caller, body).await?)
    };
    AlibabaCallback => AlibabaCallback, |app, req| {
        json(&callbacks::alibaba(app, &inbound(app, &req)?).await?)
    };
    TencentCallback => TencentCallback, |app, req| {
        json(&callbacks::tencent(app, &inbound(app, &req)?).await?)
    };
    LivekitCallback => LivekitCallback, |app, req| {
        json(&callbacks::livekit(app, &inbound(app, &req)?).await?)
    };
    TencentUsers => TencentUsers, |app, req| {
        let (operation, params) = dialect(app, &req)?;
        dialects::tencent::users(app, &operation, &params, source_ip(&req).as_deref()).await
    };
    TencentRooms => TencentRooms, |app, req| {
        let (operation, params) = dialect(app, &req)?;
        dialects::tencent::rooms(app, &operation, &params).await
    };
    AliyunCall => AliyunCall, |app, req| {
        let caller = authenticate(app, &req)?;
        let (operation, params) = dialect(app, &req)?;
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
        dialects::aliyun::call(app, &caller, &operation, &params, &request_id).await
    };
}

#[cfg(test)]
#[path = "tests/http.rs"]
mod tests;
