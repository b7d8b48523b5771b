//! A Lambda Runtime API emulator: the HTTP API a function's runtime client polls
//! (`/2018-06-01/runtime/invocation/next`, `.../{id}/response`, `.../{id}/error`,
//! `/runtime/init/error`), with the times that matter for a cold start: when the process asked
//! for its first event (the end of init) and when each response arrived.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
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
    reply: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct State {
    queue: Mutex<VecDeque<Pending>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    ready: Notify,
    first_next: Mutex<Option<Instant>>,
    init_error: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
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
                let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
                return Response::builder()
                    .header("lambda-runtime-aws-request-id", &p.id)
                    .header("lambda-runtime-deadline-ms", deadline.to_string())
                    .header(
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:bench",
                    )
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
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, std::convert::Infallible>(route(state, req).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, state })
    }

    /// Queues `event` and waits for the function's answer (at most `timeout`).
    pub async fn invoke(
        &self,
        event: &serde_json::Value,
        timeout: Duration,
    ) -> Result<Outcome, String> {
        let (reply, answer) = oneshot::channel();
        lock(&self.state.queue).push_back(Pending {
            id: uuid::Uuid::new_v4().to_string(),
            event: event.to_string().into_bytes(),
            reply,
        });
        self.state.ready.notify_one();
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(outcome)) => Ok(outcome),
            _ => Err(match lock(&self.state.init_error).clone() {
                Some(e) => format!("init error: {e}"),
                None => "no answer in time".to_owned(),
            }),
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
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", emulator.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        match log {
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?;
                cmd.stdout(file.try_clone()?).stderr(file);
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        let spawned = Instant::now();
        let child = cmd.spawn()?;
        Ok(Self { child, spawned })
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
