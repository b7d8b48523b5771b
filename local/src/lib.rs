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
use std::path::{Path, PathBuf};
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use liveroom::store::embedded::EmbeddedStore;
use liveroom::{ApiError, App, Config, ErrorCode, SystemClock};
use tokio::net::TcpListener;

/// The local server's app: the embedded store, statically dispatched.
pub type LocalApp = App<EmbeddedStore>;

/// Where the token signing key came from, for the start-up message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Environment,
    Generated(PathBuf),
    DataDir(PathBuf),
}

/// Opens the data dir (creating it), the store in it, and the configuration.
pub fn open_app(
    data_dir: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(LocalApp, SecretSource), String> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create data dir {}: {e}", data_dir.display()))?;
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
    let store = EmbeddedStore::open(&db)
        .map_err(|e| format!("cannot open the store {}: {e}", db.display()))?;
    Ok((
        App::new(config, Arc::new(store), Arc::new(SystemClock)),
        source,
    ))
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
    let key = liveroom::auth::JwtPrivateKey::from_seed(seed);
    let encoded = key.to_base64();
    write_new(&path, &encoded)?;
    let public = data_dir.join("jwt_public_key");
    // The public key is no secret; an old one (of a key deleted since) is replaced.
    std::fs::write(&public, key.public_key().to_base64())
        .map_err(|e| format!("cannot write {}: {e}", public.display()))?;
    Ok((encoded, SecretSource::Generated(path)))
}

/// Creates `path` (it must not exist) readable by the owner only, holding `text`.
fn write_new(path: &Path, text: &str) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn run(listener: TcpListener, app: Arc<LocalApp>, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            let service = service_fn(move |mut req: hyper::Request<Incoming>| {
                let app = Arc::clone(&app);
                // The client's address, as API Gateway's `sourceIp` gives it in the cloud.
                req.extensions_mut()
                    .insert(liveroom::http::PeerAddr(peer.ip()));
                async move { Ok::<_, Infallible>(handle(&app, req).await) }
            });
            // A client that never finishes its headers is dropped instead of holding a task.
            if let Err(e) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
}

/// Bodies larger than the limit are still read (and dropped) up to this size, so that a client
/// still sending gets its 413 instead of a reset connection.
const DRAIN_LIMIT: usize = 32 * 1024 * 1024;

enum ReadBody {
    Complete(Bytes),
    TooLarge,
    Failed,
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
async fn handle(app: &LocalApp, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let response = match read_body(body, app.config.max_body_bytes).await {
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
                _ => ApiError::new(
                    ErrorCode::SystemVerifyError,
                    "the request body could not be read",
                ),
            };
            let req = lambda_http::Request::from_parts(parts, lambda_http::Body::Empty);
            liveroom::http::reject(req, err).await
        }
    };
    let (parts, body) = response.into_parts();
    let bytes = match body {
        lambda_http::Body::Text(text) => Bytes::from(text),
        lambda_http::Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
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
