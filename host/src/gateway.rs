//! API Gateway (HTTP API, payload format 2.0) in front of pools of Lambda instances: each request
//! becomes the event API Gateway would build for the matched route, is handed to an idle instance
//! of the function the template names (or a new one: a cold start), and the function's answer
//! becomes the HTTP response. One invocation at a time per instance; instances idle longer than
//! the idle timeout are stopped; a `REPORT` line per invocation on stderr, as CloudWatch has it
//! (an `INIT_REPORT … Status: error` line for an instance whose init failed).
//!
//! Answers as API Gateway's own: an unmatched route is 404 `{"message":"Not Found"}`; a body over
//! API Gateway's 10 MB, or an event over Lambda's 6 MB invocation limit, is 413
//! `{"message":"Request Entity Too Large"}` (an answer over it 502); a function
//! that fails its init (exits, e.g. a variable it needs is not given) or crashes or times out is
//! 502 `{"message":"Internal Server Error"}`; a function error or a malformed answer is 500.
//! Every answer carries `apigw-requestid`, and — the host's own, not API Gateway's —
//! `x-liveroom-function`, the function that answered (the suites check the routing with it).
//!
//! Never here: the template's parsing (`crate::template`), the runtime API (`crate::emulator`),
//! the event and answer formats (`crate::payload`).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::HeaderValue;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::cors::{preflight, with_cors};
use crate::emulator::{Emulator, Function as Process, Output, lock};
use crate::payload::{event, response};
use crate::template::{Function, Template};

/// How the host runs functions.
pub struct Settings {
    /// Where the function binaries are (`target/debug`).
    pub bin_dir: PathBuf,
    /// Added to every function's environment (the runtime's own: region, credentials, the
    /// DynamoDB endpoint) — what Lambda adds, not what the template gives.
    pub runtime_env: Vec<(String, String)>,
    /// An instance idle this long is stopped.
    pub idle: Duration,
    /// The functions' own output (their log lines) shown on stderr, or discarded.
    pub show_function_output: bool,
    /// The `REPORT` line of each invocation and the host's log lines on stderr.
    pub log: bool,
    /// The DynamoDB-compatible server (its stream feeds the `DynamoDB` events).
    pub dynamodb: String,
    /// The table's stream feeds the functions mapped to it.
    pub streams: bool,
    /// The template's schedules invoke their functions.
    pub schedules: bool,
    /// Every schedule fires at this interval instead of its rate (tests speed it up).
    pub schedule_every: Option<Duration>,
}

impl Settings {
    /// Function binaries in `bin_dir`, the table on the DynamoDB server at `dynamodb`; idle
    /// instances stop after 300 s; the functions' output and the host's lines on stderr.
    pub fn new(bin_dir: PathBuf, dynamodb: &str) -> Self {
        Self {
            bin_dir,
            runtime_env: runtime_env(dynamodb),
            idle: Duration::from_secs(300),
            show_function_output: true,
            log: true,
            dynamodb: dynamodb.to_owned(),
            streams: true,
            schedules: true,
            schedule_every: None,
        }
    }

    /// Nothing on stderr: neither the functions' output nor the host's lines (the suites).
    pub fn quiet(mut self) -> Self {
        self.show_function_output = false;
        self.log = false;
        self
    }
}

/// What the Lambda service adds to a function's environment here: its region, credentials
/// (any, for the local server) and the local DynamoDB endpoint.
pub fn runtime_env(dynamodb: &str) -> Vec<(String, String)> {
    [
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// One function's invocations so far, as its `REPORT` lines add up (what Lambda bills).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Usage {
    pub invocations: u64,
    pub cold_starts: u64,
    /// Invocations that ended in a function error, a crash or a timeout.
    pub errors: u64,
    pub duration_ms: f64,
    pub billed_ms: u64,
    /// Billed duration × configured memory, in GB-seconds.
    pub gb_seconds: f64,
    pub max_memory_mb: u64,
}

/// Why an invocation gave no answer: the status API Gateway answers with, and the cause.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub why: String,
}

struct Instance {
    emulator: Emulator,
    process: Mutex<Process>,
    /// Set at the first answer: the next invocations are warm.
    warm: Mutex<bool>,
    last_used: Mutex<Instant>,
}

struct Pool {
    function: Function,
    idle: Mutex<Vec<Arc<Instance>>>,
}

/// The gateway and its pools.
pub struct Host {
    template: Template,
    pools: BTreeMap<String, Pool>,
    settings: Settings,
    usage: Mutex<BTreeMap<String, Usage>>,
    /// Set by [`Host::shutdown`]: everything the host runs ends.
    stop: tokio::sync::watch::Sender<bool>,
}

/// API Gateway's HTTP API request payload limit (10 MB): a larger body is 413.
const MAX_REQUEST_BODY: usize = 10 * 1024 * 1024;
/// Lambda's synchronous invocation limits: an event over 6,291,456 bytes is refused (413
/// through API Gateway), an answer over 6,291,556 bytes fails the invocation (502).
const MAX_INVOKE_REQUEST: usize = 6_291_456;
const MAX_INVOKE_RESPONSE: usize = 6_291_556;

fn message(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(
        json!({ "message": text }).to_string(),
    )));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

impl Host {
    pub fn new(template: Template, settings: Settings) -> Result<Self, String> {
        let mut pools = BTreeMap::new();
        for f in &template.functions {
            let binary = settings.bin_dir.join(&f.binary);
            if !binary.is_file() {
                return Err(format!(
                    "{}: no binary at {} (build it: cargo build -p {})",
                    f.logical_id,
                    binary.display(),
                    f.binary
                ));
            }
            pools.insert(
                f.logical_id.clone(),
                Pool {
                    function: f.clone(),
                    idle: Mutex::new(Vec::new()),
                },
            );
        }
        Ok(Self {
            template,
            pools,
            settings,
            usage: Mutex::new(BTreeMap::new()),
            stop: tokio::sync::watch::channel(false).0,
        })
    }

    /// A cold start: a new process of `function` behind a new runtime API.
    async fn start(&self, f: &Function) -> Result<Instance, String> {
        let emulator = Emulator::start().await.map_err(|e| e.to_string())?;
        emulator.set_function_arn(&format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            f.logical_id
        ));
        let mut env: Vec<(String, String)> =
            f.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        env.extend(self.settings.runtime_env.iter().cloned());
        let output = if self.settings.show_function_output {
            Output::Inherit
        } else {
            Output::Discard
        };
        let process = Process::spawn_as(
            &self.settings.bin_dir.join(&f.binary),
            &f.logical_id,
            f.memory_mb,
            &emulator,
            &env,
            output,
        )
        .map_err(|e| format!("cannot start {}: {e}", f.binary))?;
        Ok(Instance {
            emulator,
            process: Mutex::new(process),
            warm: Mutex::new(false),
            last_used: Mutex::new(Instant::now()),
        })
    }

    /// The template served.
    pub fn template(&self) -> &Template {
        &self.template
    }

    /// Stops the host: `serve` returns, the stream and the schedules stop, and every instance
    /// is stopped (a busy one once its invocation ends).
    pub fn shutdown(&self) {
        self.stop.send_replace(true);
        for pool in self.pools.values() {
            lock(&pool.idle).clear();
        }
    }

    /// Completes when [`Host::shutdown`] has been called.
    pub async fn stopped(&self) {
        let mut stop = self.stop.subscribe();
        let _ = stop.wait_for(|s| *s).await;
    }

    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Whether the host writes its lines on stderr.
    pub fn logs(&self) -> bool {
        self.settings.log
    }

    /// Each function's invocations so far (by logical id).
    pub fn usage(&self) -> BTreeMap<String, Usage> {
        lock(&self.usage).clone()
    }

    /// One invocation of the function `logical_id` with `event`, as Lambda's `Invoke` does it:
    /// an idle instance, or a cold start.
    pub async fn invoke(&self, logical_id: &str, event: &Value) -> Result<Value, Failure> {
        let Some(pool) = self.pools.get(logical_id) else {
            return Err(Failure {
                status: StatusCode::NOT_FOUND,
                why: format!("no function {logical_id}"),
            });
        };
        self.invoke_in(pool, event)
            .await
            .map_err(|(status, why)| Failure { status, why })
    }

    /// One invocation of `pool`'s function: an idle instance, or a cold start.
    async fn invoke_in(&self, pool: &Pool, event: &Value) -> Result<Value, (StatusCode, String)> {
        let f = &pool.function;
        // Lambda's own request id (a UUID), not API Gateway's.
        let request_id = &uuid::Uuid::new_v4().to_string();
        let idle = lock(&pool.idle).pop();
        let instance = match idle {
            Some(i) => i,
            None => Arc::new(
                self.start(f)
                    .await
                    .map_err(|e| (StatusCode::BAD_GATEWAY, e))?,
            ),
        };
        let cold = !*lock(&instance.warm);
        let dispatched = Instant::now();
        let timeout = Duration::from_secs(f.timeout_secs);
        let outcome = instance
            .emulator
            .invoke_while(event, request_id, timeout, || {
                lock(&instance.process).exit_status().is_none()
            })
            .await;
        let mut process = lock(&instance.process);
        let report = |end: Instant, process: &Process, ok: bool| {
            let duration = end.saturating_duration_since(dispatched).as_secs_f64() * 1000.0;
            let init = cold
                .then(|| instance.emulator.take_first_next())
                .flatten()
                .map(|next| {
                    next.saturating_duration_since(process.spawned)
                        .as_secs_f64()
                        * 1000.0
                });
            // provided.al2023 bills its init too.
            let billed = (duration + init.unwrap_or(0.0)).ceil().max(1.0);
            let max = process
                .max_memory_mb()
                .map(|m| m.to_string())
                .unwrap_or_else(|| "?".to_owned());
            let mut line = format!(
                "REPORT RequestId: {request_id}\tDuration: {duration:.2} ms\tBilled Duration: {billed:.0} ms\tMemory Size: {} MB\tMax Memory Used: {max} MB",
                f.memory_mb
            );
            if let Some(init) = init {
                line.push_str(&format!("\tInit Duration: {init:.2} ms"));
            }
            {
                let mut usage = lock(&self.usage);
                let u = usage.entry(f.logical_id.clone()).or_default();
                u.invocations += 1;
                u.cold_starts += u64::from(init.is_some());
                u.errors += u64::from(!ok);
                u.duration_ms += duration;
                // Whole milliseconds, at least 1, as Lambda bills.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let billed = billed as u64;
                u.billed_ms += billed;
                u.gb_seconds += billed as f64 / 1000.0 * f64::from(f.memory_mb) / 1024.0;
                u.max_memory_mb = u.max_memory_mb.max(process.max_memory_mb().unwrap_or(0));
            }
            if self.settings.log {
                eprintln!("{line}\t[{}]", f.logical_id);
            }
        };
        match outcome {
            Ok(out) => {
                report(out.at, &process, out.ok);
                *lock(&instance.warm) = true;
                *lock(&instance.last_used) = Instant::now();
                drop(process);
                if !self.stopping() {
                    lock(&pool.idle).push(Arc::clone(&instance));
                }
                if out.ok {
                    Ok(out.body)
                } else {
                    if self.settings.log {
                        eprintln!("{}: function error: {}", f.logical_id, out.body);
                    }
                    Err((
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "function error".to_owned(),
                    ))
                }
            }
            Err(why) => {
                let status = process.exit_status();
                if cold && status.is_some() && instance.emulator.take_first_next().is_none() {
                    // It never asked for an event: its init failed, which CloudWatch logs so.
                    if self.settings.log {
                        let init = process.spawned.elapsed().as_secs_f64() * 1000.0;
                        eprintln!(
                            "INIT_REPORT Init Duration: {init:.2} ms\tPhase: init\tStatus: error\t[{}]",
                            f.logical_id
                        );
                    }
                } else {
                    report(Instant::now(), &process, false);
                }
                let why = match status {
                    Some(s) if cold => format!(
                        "init failed ({s}): {why} — a variable it needs may be missing from its environment in the template"
                    ),
                    Some(s) => format!("the process exited ({s}): {why}"),
                    None => why,
                };
                if self.settings.log {
                    eprintln!("{} ({}): {why}", f.logical_id, f.binary);
                }
                // The instance is gone (dropping it stops the process).
                Err((StatusCode::BAD_GATEWAY, why))
            }
        }
    }

    /// Stops the instances idle longer than the idle timeout.
    fn reap(&self) {
        for pool in self.pools.values() {
            lock(&pool.idle).retain(|i| lock(&i.last_used).elapsed() < self.settings.idle);
        }
    }

    async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        // API Gateway's request ids look like `Ab1Cd2Ef3Gh021=`.
        let request_id = format!("{}=", &uuid::Uuid::new_v4().simple().to_string()[..14]);
        let (parts, body) = req.into_parts();
        let origin = parts
            .headers
            .get(hyper::header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .map(str::to_owned);
        if let (Some(cors), Some(origin)) = (&self.template.cors, &origin)
            && parts.method == hyper::Method::OPTIONS
            && parts
                .headers
                .contains_key(hyper::header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return with_id(preflight(cors, origin), &request_id, None);
        }
        let r = self.route_and_invoke(parts, body, peer, &request_id).await;
        match (&self.template.cors, &origin) {
            (Some(cors), Some(origin)) => with_cors(r, cors, origin),
            _ => r,
        }
    }

    async fn route_and_invoke(
        &self,
        parts: hyper::http::request::Parts,
        body: Incoming,
        peer: SocketAddr,
        request_id: &str,
    ) -> Response<Full<Bytes>> {
        let request_id = request_id.to_owned();
        let Some((f, route, params)) = self.template.route(parts.method.as_str(), parts.uri.path())
        else {
            return with_id(
                message(StatusCode::NOT_FOUND, "Not Found"),
                &request_id,
                None,
            );
        };
        let Some(pool) = self.pools.get(&f.logical_id) else {
            return with_id(
                message(StatusCode::NOT_FOUND, "Not Found"),
                &request_id,
                None,
            );
        };
        let too_large = || {
            with_id(
                message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
                &request_id,
                None,
            )
        };
        let body = match http_body_util::Limited::new(body, MAX_REQUEST_BODY)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => return too_large(),
            Err(_) => {
                return with_id(
                    message(StatusCode::BAD_REQUEST, "Bad Request"),
                    &request_id,
                    None,
                );
            }
        };
        let event = event(
            &parts,
            &body,
            route,
            &params,
            &peer.ip().to_string(),
            &request_id,
        );
        // Lambda refuses a synchronous invocation whose event is larger than its limit.
        if event.to_string().len() > MAX_INVOKE_REQUEST {
            return too_large();
        }
        let answer = match self.invoke_in(pool, &event).await {
            Ok(answer) => answer,
            Err((status, _)) => {
                return with_id(
                    message(status, "Internal Server Error"),
                    &request_id,
                    Some(&f.binary),
                );
            }
        };
        if answer.to_string().len() > MAX_INVOKE_RESPONSE {
            if self.settings.log {
                eprintln!("{}: an answer over Lambda's 6 MB limit", f.logical_id);
            }
            return with_id(
                message(StatusCode::BAD_GATEWAY, "Internal Server Error"),
                &request_id,
                Some(&f.binary),
            );
        }
        let r = response(&answer).unwrap_or_else(|e| {
            if self.settings.log {
                eprintln!("{}: a malformed answer: {e}", f.logical_id);
            }
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        });
        with_id(r, &request_id, Some(&f.binary))
    }

    /// Serves on `listener` until the process ends; reaps idle instances every second; feeds
    /// the template's stream mappings and runs its schedules (as `Settings` says).
    /// Returns after [`Host::shutdown`].
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        let reaper = Arc::clone(&self);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => reaper.reap(),
                    () = reaper.stopped() => return,
                }
            }
        });
        if self.settings.streams {
            tokio::spawn(crate::stream::run(
                Arc::clone(&self),
                crate::dynamodb::Dynamo::new(&self.settings.dynamodb),
                self.template.table_name.clone(),
            ));
        }
        if self.settings.schedules {
            tokio::spawn(crate::schedule::run(
                Arc::clone(&self),
                self.settings.schedule_every,
            ));
        }
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                () = self.stopped() => return,
            };
            let (stream, peer) = match accepted {
                Ok(x) => x,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let host = Arc::clone(&self);
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let host = Arc::clone(&host);
                    async move { Ok::<_, Infallible>(host.handle(req, peer).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }
}

fn with_id(
    mut r: Response<Full<Bytes>>,
    id: &str,
    function: Option<&str>,
) -> Response<Full<Bytes>> {
    if let Ok(v) = HeaderValue::from_str(id) {
        r.headers_mut().insert("apigw-requestid", v);
    }
    if let Some(v) = function.and_then(|f| HeaderValue::from_str(f).ok()) {
        r.headers_mut().insert("x-liveroom-function", v);
    }
    r
}
