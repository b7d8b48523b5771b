//! The local server: every handler of the API on one port, on the embedded store.
//!
//! Requests are converted to the same `lambda_http` types the Lambda runtime produces and passed
//! to the same [`liveroom::http::serve`], so the local API is the deployed API. What differs is
//! only the store (a redb file in the data dir) and where the token signing key comes from:
//! `JWT_PRIVATE_KEY` if set, else an Ed25519 key pair generated on first start and kept in the
//! data dir — never a constant.

use std::convert::Infallible;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use liveroom::store::embedded::EmbeddedStore;
use liveroom::{ApiError, App, Config, ErrorCode, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The local server's app: the embedded store, statically dispatched.
pub type LocalApp = App<EmbeddedStore>;

/// Where the token signing key came from, for the start-up message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Environment,
    Generated(PathBuf),
    DataDir(PathBuf),
}

/// Opens the data dir (creating it, owner-only), the store in it, and the configuration.
pub fn open_app(
    data_dir: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(LocalApp, SecretSource), String> {
    create_private_dir(data_dir)?;
    tighten(data_dir)?;
    let (key, source) = match env("JWT_PRIVATE_KEY") {
        Some(key) => (key, SecretSource::Environment),
        None => data_dir_key(data_dir)?,
    };
    let config = Config::from_lookup(|name| match name {
        "JWT_PRIVATE_KEY" => Some(key.clone()),
        other => env(other),
    })
    .map_err(|e| e.to_string())?;
    let db = data_dir.join("liveroom.redb");
    create_private_file(&db)?;
    let store = EmbeddedStore::open(&db)
        .map_err(|e| format!("cannot open the store {}: {e}", db.display()))?;
    Ok((
        App::new(config, Arc::new(store), Arc::new(SystemClock)),
        source,
    ))
}

/// The data dir's mode: the owner only (it holds password hashes, signature salts and the
/// token signing key).
#[cfg(unix)]
const PRIVATE_DIR_MODE: u32 = 0o700;
/// The mode of every file in the data dir.
#[cfg(unix)]
const PRIVATE_FILE_MODE: u32 = 0o600;

/// Creates `dir` (and its missing parents) with the owner-only mode from the start, so there
/// is no moment at which another user can open it.
fn create_private_dir(dir: &Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR_MODE);
    builder
        .create(dir)
        .map_err(|e| format!("cannot create data dir {}: {e}", dir.display()))
}

/// Creates `path` empty and owner-only if it is not there (redb initialises an empty file), so
/// that the store is never made with the process's umask.
fn create_private_file(path: &Path) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE_MODE);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!("cannot create {}: {e}", path.display())),
    }
}

/// Makes `dir` 0700 and everything in it (recursively) 0700 for directories and 0600 for
/// files, where it was looser, logging each change: a data dir made by an older version (or
/// copied with a loose umask) is private from this start on. Symbolic links are left alone
/// (a mode change would follow them out of the data dir).
fn tighten(dir: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        tighten_one(dir, PRIVATE_DIR_MODE)?;
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read data dir {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("cannot read data dir {}: {e}", dir.display()))?
                .path();
            let meta = std::fs::symlink_metadata(&path)
                .map_err(|e| format!("cannot inspect {}: {e}", path.display()))?;
            if meta.is_dir() {
                tighten(&path)?;
            } else if meta.is_file() {
                tighten_one(&path, PRIVATE_FILE_MODE)?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Clears the permission bits of `path` beyond `mode` (never widens), logging a change.
#[cfg(unix)]
fn tighten_one(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| format!("cannot inspect {}: {e}", path.display()))?;
    let was = meta.permissions().mode() & 0o7777;
    let tight = was & mode;
    if tight != was {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(tight))
            .map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
        tracing::warn!(
            path = %path.display(),
            was = %format!("{was:04o}"),
            now = %format!("{tight:04o}"),
            "data dir entry was readable by others: restricted to its owner"
        );
    }
    Ok(())
}

/// Reads the token signing key kept in the data dir (`jwt_private_key`: the base64 of an
/// Ed25519 seed), or generates one (32 random bytes) and keeps it there, readable by the owner
/// only. Its public half is written next to it (`jwt_public_key`), for whoever verifies our
/// tokens elsewhere.
fn data_dir_key(data_dir: &Path) -> Result<(String, SecretSource), String> {
    let path = data_dir.join("jwt_private_key");
    match std::fs::read_to_string(&path) {
        Ok(key) => return Ok((key.trim().to_owned(), SecretSource::DataDir(path))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness for a key: {e}"))?;
    let key = liveroom::env::JwtPrivateKey::from_seed(seed);
    let encoded = key.to_base64();
    write_new(&path, &encoded)?;
    let public = data_dir.join("jwt_public_key");
    // The public key is no secret, but the data dir is its owner's alone (0600 like the rest);
    // an old one (of a key deleted since) is replaced.
    match std::fs::remove_file(&public) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot replace {}: {e}", public.display())),
    }
    write_new(&public, &key.public_key().to_base64())?;
    Ok((encoded, SecretSource::Generated(path)))
}

/// Creates `path` (it must not exist) readable by the owner only, holding `text`.
fn write_new(path: &Path, text: &str) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE_MODE);
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// How the server bounds its clients (`liveroom-local --max-connections`, `--header-timeout`,
/// `--body-timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once. Past it the server accepts nothing more: new connections
    /// wait in the kernel's listen backlog until a served one closes.
    pub max_connections: usize,
    /// A request's headers must arrive within this, or the answer is `408 RequestTimeout` and
    /// the connection is closed; an idle keep-alive connection whose next request does not
    /// begin within it is closed.
    pub header_timeout: Duration,
    /// A request's body must arrive in full within this from its headers, or the answer is
    /// `408 RequestTimeout` and the connection is closed; an answer the client stops taking
    /// for this long is abandoned and the connection dropped.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// Where the server takes its connections from: a [`TcpListener`], or a stand-in (the tests
/// inject accept errors through one).
pub trait Accept: Send {
    type Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static;
    fn accept(&mut self) -> impl Future<Output = std::io::Result<(Self::Io, SocketAddr)>> + Send;
}

impl Accept for TcpListener {
    type Io = tokio::net::TcpStream;
    async fn accept(&mut self) -> std::io::Result<(Self::Io, SocketAddr)> {
        TcpListener::accept(self).await
    }
}

/// The first wait after a failed accept; it doubles on each failure in a row.
const ACCEPT_BACKOFF_FIRST: Duration = Duration::from_millis(10);
/// The longest wait after a failed accept.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// At most one "accept failed" line per this long.
const ACCEPT_LOG_EVERY: Duration = Duration::from_secs(1);

/// Failed accepts in a row (out of file descriptors, say): how long to wait before the next
/// one, and whether to log this one. A failing accept fails again at once, so without a wait
/// the loop would spin and log as fast as it can.
#[derive(Debug, Default)]
pub struct AcceptErrors {
    next_wait: Option<Duration>,
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl AcceptErrors {
    /// A failure at `now`: logs it unless one was logged less than a second ago (then counts
    /// it for the next line) and returns how long to wait before accepting again.
    pub fn failed(&mut self, error: &std::io::Error, now: Instant) -> Duration {
        let wait = self.next_wait.unwrap_or(ACCEPT_BACKOFF_FIRST);
        self.next_wait = Some((wait * 2).min(ACCEPT_BACKOFF_MAX));
        if self
            .last_logged
            .is_none_or(|at| now.duration_since(at) >= ACCEPT_LOG_EVERY)
        {
            tracing::warn!(
                error = %error,
                also_failed = self.unlogged,
                retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "accept failed"
            );
            self.last_logged = Some(now);
            self.unlogged = 0;
        } else {
            self.unlogged += 1;
        }
        wait
    }

    /// An accept succeeded: the next failure waits the shortest time again.
    pub fn succeeded(&mut self) {
        self.next_wait = None;
    }
}

/// Serves `app` on `listener` with the default [`Limits`] until `shutdown` completes.
pub async fn run(listener: TcpListener, app: Arc<LocalApp>, shutdown: impl Future<Output = ()>) {
    run_with(listener, app, Limits::default(), shutdown).await
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes.
pub async fn run_with<L: Accept>(
    mut listener: L,
    app: Arc<LocalApp>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let slots = Arc::new(Semaphore::new(
        limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let mut errors = AcceptErrors::default();
    loop {
        // A free slot before an accept: past the cap, connections wait in the backlog.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut shutdown => return,
        };
        let Ok(slot) = slot else { return };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return,
        };
        let (io, peer) = match accepted {
            Ok(accepted) => {
                errors.succeeded();
                accepted
            }
            Err(e) => {
                let wait = errors.failed(&e, Instant::now());
                tokio::select! {
                    () = tokio::time::sleep(wait) => continue,
                    () = &mut shutdown => return,
                }
            }
        };
        tokio::spawn(serve_connection(io, peer, Arc::clone(&app), limits, slot));
    }
}

/// One connection, holding its `slot` until it closes.
async fn serve_connection<I>(
    io: I,
    peer: SocketAddr,
    app: Arc<LocalApp>,
    limits: Limits,
    slot: OwnedSemaphorePermit,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |mut req: hyper::Request<Incoming>| {
        let app = Arc::clone(&app);
        // The client's address, as API Gateway's `sourceIp` gives it in the cloud.
        req.extensions_mut()
            .insert(liveroom::http::PeerAddr(peer.ip()));
        async move { Ok::<_, Infallible>(handle(&app, req, limits.body_timeout).await) }
    });
    // A client that never finishes its headers is answered 408 and dropped; one that never
    // begins its next request is dropped: neither holds a slot.
    let io = Watched::new(io, limits.body_timeout);
    let watch = io.clone();
    if let Err(e) = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(TokioIo::new(io), service)
        .await
    {
        if e.is_timeout() && watch.request_begun() {
            header_timeout(watch, limits.header_timeout).await;
        } else {
            tracing::debug!(error = %e, "connection closed with an error");
        }
    }
    drop(slot);
}

/// A connection's I/O, shared with the task serving it (so it can still answer once hyper
/// gives up on a request), watched for whether a request has begun since the last answer, and
/// bounding how long an answer may wait for the client to take it.
struct Watched<I>(Arc<std::sync::Mutex<WatchedIo<I>>>);

struct WatchedIo<I> {
    io: I,
    /// Bytes came in since the last answer went out: a request has begun.
    begun: bool,
    /// How long an answer may take to go out once the client stops taking it.
    drain_within: Duration,
    /// Armed when a write first has to wait for the client; disarmed when the answer is all
    /// out (flushed). A client that does not read is dropped when it fires.
    stalled: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl<I> Clone for Watched<I> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<I> Watched<I> {
    fn new(io: I, drain_within: Duration) -> Self {
        Self(Arc::new(std::sync::Mutex::new(WatchedIo {
            io,
            begun: false,
            drain_within,
            stalled: None,
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WatchedIo<I>> {
        // Only the connection's own task ever holds it, one poll at a time.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn request_begun(&self) -> bool {
        self.lock().begun
    }
}

impl<I: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Watched<I> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let mut inner = self.lock();
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut inner.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            inner.begun = true;
        }
        polled
    }
}

impl<I: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Watched<I> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let mut inner = self.lock();
        let polled = std::pin::Pin::new(&mut inner.io).poll_write(cx, buf);
        match polled {
            std::task::Poll::Ready(Ok(n)) if n > 0 => inner.begun = false,
            std::task::Poll::Pending => {
                let within = inner.drain_within;
                let stalled = inner
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(within)));
                if stalled.as_mut().poll(cx).is_ready() {
                    return std::task::Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client did not take its answer in time",
                    )));
                }
            }
            _ => {}
        }
        polled
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let mut inner = self.lock();
        let polled = std::pin::Pin::new(&mut inner.io).poll_flush(cx);
        if matches!(polled, std::task::Poll::Ready(Ok(()))) {
            inner.stalled = None;
        }
        polled
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.lock().io).poll_shutdown(cx)
    }
}

/// How long the 408 for late headers may take to go out (the client may not be reading).
const TIMEOUT_ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// Answers a request whose headers did not arrive within `within`: `408 RequestTimeout` (the
/// spec's error body, logged like every answer), then closes the connection.
async fn header_timeout<I>(mut io: Watched<I>, within: Duration)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::AsyncWriteExt;
    let err = ApiError::new(
        ErrorCode::RequestTimeout,
        format!(
            "the request headers must arrive within {} seconds",
            within.as_secs()
        ),
    );
    // Nothing of the request is known: answered as an unrouted one.
    let req = lambda_http::Request::new(lambda_http::Body::Empty);
    let (parts, body) = liveroom::http::reject(req, err).await.into_parts();
    let body = body_bytes(body);
    let mut raw = format!(
        "HTTP/1.1 {} {}\r\n",
        parts.status.as_u16(),
        parts.status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in &parts.headers {
        if name != hyper::header::CONNECTION && name != hyper::header::CONTENT_LENGTH {
            raw.extend_from_slice(name.as_str().as_bytes());
            raw.extend_from_slice(b": ");
            raw.extend_from_slice(value.as_bytes());
            raw.extend_from_slice(b"\r\n");
        }
    }
    raw.extend_from_slice(
        format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    raw.extend_from_slice(&body);
    let sent = tokio::time::timeout(TIMEOUT_ANSWER_WITHIN, async {
        io.write_all(&raw).await?;
        io.shutdown().await
    })
    .await;
    if !matches!(sent, Ok(Ok(()))) {
        tracing::debug!("the 408 for late headers could not be sent");
    }
}

/// Bodies larger than the limit are still read (and dropped) up to this size, so that a client
/// still sending gets its 413 instead of a reset connection.
const DRAIN_LIMIT: usize = 32 * 1024 * 1024;

enum ReadBody {
    Complete(Bytes),
    TooLarge,
    Failed,
    TimedOut,
}

/// Reads at most `limit` bytes of body; past that, drains up to [`DRAIN_LIMIT`] and reports
/// `TooLarge`.
async fn read_body(mut body: Incoming, limit: usize) -> ReadBody {
    let mut buf = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return ReadBody::Failed;
        };
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen <= limit {
                buf.extend_from_slice(&data);
            } else if seen > DRAIN_LIMIT {
                return ReadBody::TooLarge;
            }
        }
    }
    if seen > limit {
        ReadBody::TooLarge
    } else {
        ReadBody::Complete(Bytes::from(buf))
    }
}

/// One request: read the body (within the limit), hand it to the shared handler, send its
/// answer back.
async fn handle(
    app: &LocalApp,
    req: hyper::Request<Incoming>,
    body_timeout: Duration,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    // The console and the docs page: files, as the `console` function serves them.
    if liveroom_console::serves(parts.uri.path()) {
        drop(body);
        let req = lambda_http::Request::from_parts(parts, lambda_http::Body::Empty);
        return to_hyper(liveroom_console::respond(req).await);
    }
    // CORS as API Gateway applies the template's policy: a preflight is answered here, and
    // every answer to a cross-origin request names the allowed origin.
    let cross_origin = parts.headers.contains_key(hyper::header::ORIGIN);
    if cross_origin
        && parts.method == hyper::Method::OPTIONS
        && parts
            .headers
            .contains_key(hyper::header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return preflight();
    }
    let read = tokio::time::timeout(body_timeout, read_body(body, app.config.max_body_bytes));
    let read = read.await.unwrap_or(ReadBody::TimedOut);
    let mut close = false;
    let response = match read {
        ReadBody::Complete(bytes) => {
            let body = if bytes.is_empty() {
                lambda_http::Body::Empty
            } else {
                lambda_http::Body::Binary(bytes.to_vec())
            };
            liveroom::http::serve(app, lambda_http::Request::from_parts(parts, body)).await
        }
        outcome => {
            let err = match outcome {
                ReadBody::TooLarge => ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!(
                        "the body must be at most {} bytes",
                        app.config.max_body_bytes
                    ),
                ),
                ReadBody::TimedOut => {
                    // The rest of a trickled body is not waited for: the connection closes.
                    close = true;
                    ApiError::new(
                        ErrorCode::RequestTimeout,
                        format!(
                            "the body must arrive within {} seconds",
                            body_timeout.as_secs()
                        ),
                    )
                }
                _ => ApiError::new(
                    ErrorCode::SystemVerifyError,
                    "the request body could not be read",
                ),
            };
            let req = lambda_http::Request::from_parts(parts, lambda_http::Body::Empty);
            liveroom::http::reject(req, err).await
        }
    };
    let mut response = to_hyper(response);
    if cross_origin {
        response.headers_mut().insert(
            hyper::header::ACCESS_CONTROL_ALLOW_ORIGIN,
            hyper::header::HeaderValue::from_static(liveroom::http::CORS.allow_origins[0]),
        );
    }
    if close {
        response.headers_mut().insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
    }
    response
}

/// The answer to a CORS preflight: `204` with the API's policy.
fn preflight() -> hyper::Response<Full<Bytes>> {
    let cors = &liveroom::http::CORS;
    let mut r = hyper::Response::new(Full::new(Bytes::new()));
    *r.status_mut() = hyper::StatusCode::NO_CONTENT;
    for (name, value) in [
        (
            hyper::header::ACCESS_CONTROL_ALLOW_ORIGIN,
            cors.allow_origins.join(","),
        ),
        (
            hyper::header::ACCESS_CONTROL_ALLOW_METHODS,
            cors.allow_methods.join(","),
        ),
        (
            hyper::header::ACCESS_CONTROL_ALLOW_HEADERS,
            cors.allow_headers.join(","),
        ),
        (
            hyper::header::ACCESS_CONTROL_MAX_AGE,
            cors.max_age_seconds.to_string(),
        ),
    ] {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&value) {
            r.headers_mut().insert(name, v);
        }
    }
    r
}

/// The shared handler's answer as hyper sends it.
fn to_hyper(response: lambda_http::Response<lambda_http::Body>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    hyper::Response::from_parts(parts, Full::new(body_bytes(body)))
}

fn body_bytes(body: lambda_http::Body) -> Bytes {
    match body {
        lambda_http::Body::Text(text) => Bytes::from(text),
        lambda_http::Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    }
}

/// Runs `job` every `every` until `shutdown` completes (a late tick is not made up for).
async fn every<F, Fut>(every: std::time::Duration, shutdown: impl Future<Output = ()>, job: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = &mut shutdown => return,
        }
        job().await;
    }
}

/// Delivers the outbox every `period` until `shutdown` completes: the local stand-in for the
/// `outbox` function (fed by the table's stream in AWS), running the same
/// [`liveroom::delivery::deliver_pending`]; failed entries wait out their backoff.
pub async fn run_outbox(
    app: Arc<LocalApp>,
    delivery: liveroom::delivery::Delivery,
    period: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) {
    every(period, shutdown, || async {
        match liveroom::delivery::deliver_pending(&app, &delivery).await {
            Ok(report) => report.log(),
            Err(e) => {
                tracing::error!(error = %e, cause = e.cause.as_deref().unwrap_or(""), "outbox delivery failed")
            }
        }
    })
    .await
}

/// Runs the sweeper every `period` until `shutdown` completes: the local stand-in for the
/// EventBridge schedule, running the same [`liveroom::reclaim::sweep`].
pub async fn run_sweeper(
    app: Arc<LocalApp>,
    period: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) {
    every(period, shutdown, || async {
        match liveroom::reclaim::sweep(&app).await {
            Ok(report) if report.acted() => report.log(),
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, cause = e.cause.as_deref().unwrap_or(""), "sweep failed")
            }
        }
    })
    .await
}
