//! A Lambda Runtime API emulator: the HTTP API a function's runtime client polls
//! (`/2018-06-01/runtime/invocation/next`, `.../{id}/response`, `.../{id}/error`,
//! `/runtime/init/error`), with the times that matter for a cold start: when the process asked
//! for its first event (the end of init) and when each response arrived.
//!
//! Shared by the benchmarks (`bench/`, which feed single functions) and the host
//! (`crate::gateway`, which runs a pool of instances per function behind API Gateway).
//!
//! Never here: routing, events' shapes, the template (the gateway and `crate::template`).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};

/// What a function answered to one event.
#[derive(Debug)]
pub struct Outcome {
    pub at: Instant,
    pub ok: bool,
    pub body: serde_json::Value,
}

struct Pending {
    id: String,
    event: Vec<u8>,
    timeout_ms: i64,
    reply: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct State {
    queue: Mutex<VecDeque<Pending>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    ready: Notify,
    first_next: Mutex<Option<Instant>>,
    init_error: Mutex<Option<String>>,
    arn: Mutex<String>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One emulator serves one function process at a time.
pub struct Emulator {
    pub addr: SocketAddr,
    state: Arc<State>,
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_owned())));
    *r.status_mut() = status;
    r
}

async fn route(state: Arc<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let at = Instant::now();
    if path == "/2018-06-01/runtime/invocation/next" {
        lock(&state.first_next).get_or_insert(at);
        loop {
            let next = lock(&state.queue).pop_front();
            if let Some(p) = next {
                lock(&state.waiting).insert(p.id.clone(), p.reply);
                let deadline = chrono::Utc::now().timestamp_millis() + p.timeout_ms;
                let arn = lock(&state.arn).clone();
                return Response::builder()
                    .header("lambda-runtime-aws-request-id", &p.id)
                    .header("lambda-runtime-deadline-ms", deadline.to_string())
                    .header("lambda-runtime-invoked-function-arn", arn)
                    .header(
                        "lambda-runtime-trace-id",
                        "Root=1-00000000-000000000000000000000000",
                    )
                    .body(Full::new(Bytes::from(p.event)))
                    .unwrap_or_else(|_| text(StatusCode::INTERNAL_SERVER_ERROR, "bad event"));
            }
            state.ready.notified().await;
        }
    }
    if path == "/2018-06-01/runtime/init/error" {
        let body = req.into_body().collect().await.map(|b| b.to_bytes());
        *lock(&state.init_error) = Some(
            body.map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default(),
        );
        return text(StatusCode::ACCEPTED, "{}");
    }
    let rest = path.strip_prefix("/2018-06-01/runtime/invocation/");
    if let Some((id, kind)) = rest.and_then(|r| r.split_once('/')) {
        let (id, ok) = (id.to_owned(), kind == "response");
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        if let Some(reply) = lock(&state.waiting).remove(&id) {
            let _ = reply.send(Outcome { at, ok, body });
        }
        return text(StatusCode::ACCEPTED, "{}");
    }
    text(StatusCode::NOT_FOUND, "{}")
}

impl Emulator {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        *lock(&state.arn) = "arn:aws:lambda:us-east-1:123456789012:function:bench".to_owned();
        crate::serve::spawn(listener, Arc::clone(&state), route);
        Ok(Self { addr, state })
    }

    /// The function ARN the runtime is told it was invoked as.
    pub fn set_function_arn(&self, arn: &str) {
        *lock(&self.state.arn) = arn.to_owned();
    }

    /// Queues `event` and waits for the function's answer (at most `timeout`).
    pub async fn invoke(
        &self,
        event: &serde_json::Value,
        timeout: Duration,
    ) -> Result<Outcome, String> {
        self.invoke_while(event, &uuid::Uuid::new_v4().to_string(), timeout, || true)
            .await
    }

    /// [`Emulator::invoke`] with the request id given, giving up early when `alive` says the
    /// process is gone (an init error exits the process: no answer will come).
    pub async fn invoke_while(
        &self,
        event: &serde_json::Value,
        id: &str,
        timeout: Duration,
        mut alive: impl FnMut() -> bool,
    ) -> Result<Outcome, String> {
        let (reply, mut answer) = oneshot::channel();
        lock(&self.state.queue).push_back(Pending {
            id: id.to_owned(),
            event: event.to_string().into_bytes(),
            timeout_ms: i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX),
            reply,
        });
        self.state.ready.notify_one();
        let deadline = tokio::time::Instant::now() + timeout;
        let failed = |why: &str| match lock(&self.state.init_error).clone() {
            Some(e) => format!("init error: {e}"),
            None => why.to_owned(),
        };
        loop {
            tokio::select! {
                out = &mut answer => {
                    return out.map_err(|_| failed("the emulator dropped the invocation"));
                }
                () = tokio::time::sleep(Duration::from_millis(20)) => {
                    if !alive() {
                        // The process may have answered just before it exited.
                        return answer.try_recv().map_err(|_| failed("the process exited"));
                    }
                    if tokio::time::Instant::now() >= deadline {
                        return Err(failed("no answer in time"));
                    }
                }
            }
        }
    }

    /// When the process first asked for an event (and forgets it, for the next process).
    pub fn take_first_next(&self) -> Option<Instant> {
        lock(&self.state.first_next).take()
    }
}

/// A function process under the emulator.
pub struct Function {
    child: Child,
    pub spawned: Instant,
}

/// Where a function process's stdout and stderr go.
pub enum Output<'a> {
    /// Appended to this file.
    File(&'a std::path::Path),
    /// This process's own (as CloudWatch gets a function's lines).
    Inherit,
    /// Nowhere.
    Discard,
}

impl Function {
    /// Starts `binary` as the Lambda service would: the runtime API address and the function's
    /// settings in the environment, nothing else from this process's.
    pub fn spawn(
        binary: &std::path::Path,
        emulator: &Emulator,
        env: &[(String, String)],
        log: Option<&std::path::Path>,
    ) -> std::io::Result<Self> {
        let name = binary
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("function")
            .to_owned();
        let output = match log {
            Some(path) => Output::File(path),
            None => Output::Discard,
        };
        Self::spawn_as(binary, &name, 256, emulator, env, output)
    }

    /// [`Function::spawn`] as function `name` with `memory_mb` of memory.
    pub fn spawn_as(
        binary: &std::path::Path,
        name: &str,
        memory_mb: u32,
        emulator: &Emulator,
        env: &[(String, String)],
        output: Output<'_>,
    ) -> std::io::Result<Self> {
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", emulator.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        match output {
            Output::File(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?;
                cmd.stdout(file.try_clone()?).stderr(file);
            }
            Output::Inherit => {
                cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit());
            }
            Output::Discard => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        let spawned = Instant::now();
        let child = cmd.spawn()?;
        Ok(Self { child, spawned })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process still runs (false once it exited; its status is then `exit`).
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The process's peak resident memory (VmHWM, what Lambda reports as Max Memory Used), in MB.
    pub fn max_memory_mb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb.div_ceil(1024))
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
