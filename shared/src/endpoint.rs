//! What an endpoint is. Each endpoint is a type in its feature's module (`presence::Join`,
//! `rooms::Create`, …) that implements [`Handler`]: its [`Endpoint`] (function name, routes,
//! store capabilities, secret groups, envelope) stands next to its `call`, which reads the
//! request with the helpers here and calls the feature's logic. `functions/<name>/` serves that
//! type, so its handler is one hop away; the edge (`http`) resolves routes over the features'
//! lists of them ([`Visitor`]).
//!
//! Never here: one endpoint's facts (they live with its handler), statuses, response bodies and
//! the request log (the edge), business rules.

use std::future::Future;

use chrono::{DateTime, Utc};
use lambda_http::http::header;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::App;
use crate::auth::{Caller, TokenKind, bearer};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::store::{Capability, Store};

/// A method and path that reach an endpoint (an HTTP API route of `template.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

/// The method of a route that answers any of the request methods a client library sends
/// ([`ANY_METHODS`]; API Gateway's `ANY` route), as seed 004's `router.all`: not `TRACE`,
/// `CONNECT` or extension methods, which are never API calls.
pub const ANY: &str = "ANY";

/// The methods an `ANY` route answers.
pub const ANY_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

impl Route {
    pub const fn get(path: &'static str) -> Self {
        Self {
            method: "GET",
            path,
        }
    }

    pub const fn post(path: &'static str) -> Self {
        Self {
            method: "POST",
            path,
        }
    }

    /// A dialect route that answers any method (seed 004 routes with `router.all`).
    pub const fn any(path: &'static str) -> Self {
        Self { method: ANY, path }
    }

    /// Whether this route's method admits `method`.
    pub fn admits(&self, method: &str) -> bool {
        self.method == method || (self.method == ANY && ANY_METHODS.contains(&method))
    }
}

/// The shape of an endpoint's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Envelope {
    /// SPEC §2: the object itself; errors `{code, reason, message, details, request_id}`.
    Aui,
    /// Seed 004: `{errorCode, errorMessage, data}`.
    Tencent,
    /// Seed 000: `{result, requestId, message, code, data}`.
    Aliyun,
}

impl Envelope {
    /// The envelope of a path no route matched: a dialect client's mistyped path still gets
    /// its own envelope.
    pub fn of_path(path: &str) -> Self {
        if path.starts_with("/base/v1/") {
            Self::Tencent
        } else if path.starts_with("/app/") {
            Self::Aliyun
        } else {
            Self::Aui
        }
    }
}

/// Which of an endpoint's routes take our access token (a Bearer header, or seed 004's `token`
/// parameter): every one, unless the endpoint says otherwise ([`Endpoint::without_token`],
/// [`Endpoint::without_token_at`]). A route that takes one refuses, with 401, a token whose
/// session no longer stands (logged out of everywhere, disabled, closed), in its first store
/// call: the `disabled` suite sends every such route a dead token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tokens {
    Every,
    None,
    /// Every route but those of these paths.
    NoneAt(&'static [&'static str]),
}

/// One endpoint's facts: one Lambda function each (named by [`Endpoint::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    name: &'static str,
    routes: &'static [Route],
    needs: &'static [Capability],
    secrets: SecretGroups,
    envelope: Envelope,
    param_error: ErrorCode,
    tokens: Tokens,
}

impl Endpoint {
    /// The endpoint of function `name` at `routes`: no store, no secret, SPEC §2's envelope,
    /// bad parameters answered with `SystemVerifyError`, until said otherwise.
    pub const fn new(name: &'static str, routes: &'static [Route]) -> Self {
        Self {
            name,
            routes,
            needs: &[],
            secrets: SecretGroups::NOTHING,
            envelope: Envelope::Aui,
            param_error: ErrorCode::SystemVerifyError,
            tokens: Tokens::Every,
        }
    }

    /// None of its routes takes an access token (a login, a vendor's callback, the service's
    /// own).
    pub const fn without_token(self) -> Self {
        Self {
            tokens: Tokens::None,
            ..self
        }
    }

    /// Its routes at `paths` take no access token (seed 004's register and login).
    pub const fn without_token_at(self, paths: &'static [&'static str]) -> Self {
        Self {
            tokens: Tokens::NoneAt(paths),
            ..self
        }
    }

    /// Whether `route` (one of its routes) takes an access token.
    pub fn takes_token(&self, route: &Route) -> bool {
        match self.tokens {
            Tokens::Every => true,
            Tokens::None => false,
            Tokens::NoneAt(paths) => !paths.contains(&route.path),
        }
    }

    /// What its handler may ask of the store (its function's IAM policy).
    pub const fn with_needs(self, needs: &'static [Capability]) -> Self {
        Self { needs, ..self }
    }

    /// The secret groups its function reads (and is given).
    pub const fn with_secrets(self, secrets: SecretGroups) -> Self {
        Self { secrets, ..self }
    }

    /// The shape of its answers (the dialects' own envelopes).
    pub const fn with_envelope(self, envelope: Envelope) -> Self {
        Self { envelope, ..self }
    }

    /// The code for bad parameters (seed 004 has per-area codes).
    pub const fn with_param_error(self, param_error: ErrorCode) -> Self {
        Self {
            param_error,
            ..self
        }
    }

    /// The function (and binary) name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The routes that reach it.
    pub const fn routes(&self) -> &'static [Route] {
        self.routes
    }

    /// What its handler may ask of the store (its function's IAM policy).
    pub const fn needs(&self) -> &'static [Capability] {
        self.needs
    }

    /// The keys its function reads (and is given), by purpose: the private token key where
    /// tokens are issued (logins, `refresh`, `token`, seed 004's users), the public one where
    /// they are only verified; the CDN and RTC keys where an answer carries a `RoomInfo` that
    /// can be signed, the pull key alone for a `MeetingInfo`, the RTC key alone for
    /// `rtcToken` (Alibaba's alone for seed 000); a user's UserSig and IM token for `token`,
    /// the UserSig alone for seed 004's logins; a callback's own key for each callback. The
    /// tests serve each endpoint with exactly these ([`crate::App::scoped`]), so a purpose
    /// missing here fails them, and the `keys` suite fails on a purpose an endpoint's answers
    /// never need.
    pub const fn secrets(&self) -> SecretGroups {
        self.secrets
    }

    /// The shape of its answers.
    pub const fn envelope(&self) -> Envelope {
        self.envelope
    }

    /// The code for bad parameters to it.
    pub const fn param_error(&self) -> ErrorCode {
        self.param_error
    }

    /// The methods it answers, each once, in the order of its routes.
    pub fn methods(&self) -> Vec<&'static str> {
        let mut methods: Vec<&'static str> = Vec::with_capacity(2);
        for route in self.routes {
            if !methods.contains(&route.method) {
                methods.push(route.method);
            }
        }
        methods
    }
}

/// One endpoint's handler, fixed at compile time: a Lambda function serves exactly one, so
/// its binary links that handler and nothing reachable only from the others.
pub trait Handler: 'static {
    const ENDPOINT: Endpoint;

    /// Handles a request routed to this endpoint: the JSON answer, or the error.
    fn call<S: Store + ?Sized>(
        app: &App<S>,
        req: Request,
    ) -> impl Future<Output = Result<String, ApiError>> + Send;
}

/// An endpoint that needs no state (`health`, `openapi`): its function is built without the
/// store and serves [`Stateless::answer`].
pub trait Stateless: Handler {
    fn answer(now: DateTime<Utc>) -> Result<String, ApiError>;
}

/// What walks a feature's endpoints (the edge's route table, the tests' list of them): each
/// feature module has `fn endpoints(v: &mut impl Visitor)`, calling [`Visitor::visit`] once
/// per endpoint type it defines.
pub trait Visitor {
    fn visit<H: Handler>(&mut self);
}

/// `path` as the routes name it: one trailing slash is ignored (`/a/b/` is `/a/b`), as the
/// edge's router ignores it. An endpoint with several routes picks its route with this, so it
/// runs the code of the route the router chose.
pub fn routed_path(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(p) if !p.is_empty() => p,
        _ => path,
    }
}

/// The id of the request being handled (the edge puts it in the request's extensions).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id the edge gave `req` (empty outside the edge).
    pub fn of(req: &Request) -> String {
        req.extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default()
    }
}

/// The address a request came from, as the server's peer saw it (the local server puts it
/// in the request's extensions).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::IpAddr);

/// The client's address: API Gateway's `sourceIp`, else the local server's TCP peer.
pub fn source_ip(req: &Request) -> Option<String> {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref()
        && let Some(ip) = ctx.http.source_ip.as_ref().filter(|ip| !ip.is_empty())
    {
        return Some(ip.clone());
    }
    req.extensions()
        .get::<PeerAddr>()
        .map(|PeerAddr(ip)| ip.to_string())
}

/// An answer as JSON text.
pub fn json(value: &impl Serialize) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

/// The caller named by the request's access token.
pub fn authenticate<S: ?Sized>(app: &App<S>, req: &Request) -> Result<Caller, ApiError> {
    app.tokens
        .verify(bearer(req.headers())?, TokenKind::Access, app.clock.now())
}

/// The caller, then the body: an unauthenticated request learns nothing about its body.
pub fn authenticated<T: DeserializeOwned, S: ?Sized>(
    app: &App<S>,
    endpoint: Endpoint,
    req: &Request,
) -> Result<(Caller, T), ApiError> {
    let caller = authenticate(app, req)?;
    Ok((caller, parse_body(app, endpoint, req)?))
}

/// [`parse_body`] for endpoints whose every field is optional: no body at all is `{}`.
pub fn parse_optional_body<T: DeserializeOwned + Default, S: ?Sized>(
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

/// Reads the JSON body: 413 if too large, 400 if absent, 415 if not JSON, 400 if malformed or
/// of the wrong shape (with serde's description of what is wrong, which names no internals).
pub fn parse_body<T: DeserializeOwned, S: ?Sized>(
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
pub fn within_size<S: ?Sized>(app: &App<S>, body: &[u8]) -> Result<(), ApiError> {
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
