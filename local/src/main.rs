//! `liveroom-local`: the whole API on one port, on the embedded store.
//!
//! ```text
//! liveroom-local [--addr HOST:PORT] [--data-dir DIR] [--max-connections N]
//!                [--header-timeout SECS] [--body-timeout SECS]
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use liveroom_local::{Limits, SecretSource};

const USAGE: &str =
    "usage: liveroom-local [--addr HOST:PORT] [--data-dir DIR] [--max-connections N]
                      [--header-timeout SECS] [--body-timeout SECS]
  --addr HOST:PORT       where to listen (default 127.0.0.1:3000)
  --data-dir DIR         where the store and the generated token key pair live (default ./.liveroom;
                         made owner-only: the directory 0700, its files 0600)
  --max-connections N    connections served at once; more wait until one closes (default 256)
  --header-timeout SECS  a request's headers must arrive within this, else 408 (default 10);
                         an idle connection whose next request does not begin is closed
  --body-timeout SECS    a request's body must arrive within this, else 408; a client that
                         stops taking its answer this long is dropped (default 30)
Environment: JWT_PRIVATE_KEY (else an Ed25519 key pair is generated and kept in the data dir),
RUST_LOG, and the settings of docs/configuration.md. The sweeper runs every 5 seconds; with an
IM group per room (IM_PROVIDER=tencent), WEBHOOK_URL set, or vendor moderation calls written (a
LIVE_PROVIDER or RTC_PROVIDER, VENDOR_ENFORCEMENT not off), the outbox is delivered every 250 ms.";

struct Options {
    addr: SocketAddr,
    data_dir: PathBuf,
    limits: Limits,
}

/// A whole number of `flag` within `range`.
fn number(flag: &str, v: &str, range: std::ops::RangeInclusive<u64>) -> Result<u64, String> {
    v.parse::<u64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or(format!(
            "{flag}: not a whole number from {} to {}: {v}",
            range.start(),
            range.end()
        ))
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
        data_dir: PathBuf::from(".liveroom"),
        limits: Limits::default(),
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--addr" => {
                let v = value()?;
                options.addr = v
                    .parse()
                    .map_err(|_| format!("--addr: not HOST:PORT: {v}"))?;
            }
            "--data-dir" => options.data_dir = PathBuf::from(value()?),
            "--max-connections" => {
                let n = number(&flag, &value()?, 1..=1_000_000)?;
                options.limits.max_connections = usize::try_from(n).unwrap_or(usize::MAX);
            }
            "--header-timeout" => {
                options.limits.header_timeout =
                    Duration::from_secs(number(&flag, &value()?, 1..=3_600)?);
            }
            "--body-timeout" => {
                options.limits.body_timeout =
                    Duration::from_secs(number(&flag, &value()?, 1..=3_600)?);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    liveroom::telemetry::init();
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("liveroom-local: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (app, source) = match liveroom_local::open_app(&options.data_dir, |k| std::env::var(k).ok())
    {
        Ok(opened) => opened,
        Err(message) => {
            eprintln!("liveroom-local: {message}");
            return ExitCode::FAILURE;
        }
    };
    match &source {
        SecretSource::Environment => tracing::info!("token signing key from JWT_PRIVATE_KEY"),
        SecretSource::Generated(path) => tracing::warn!(
            path = %path.display(),
            "no JWT_PRIVATE_KEY set: generated an Ed25519 key pair and stored it in the data dir"
        ),
        SecretSource::DataDir(path) => {
            tracing::info!(path = %path.display(), "token signing key from the data dir")
        }
    }
    let delivery =
        match liveroom::delivery::Delivery::from_lookup(|k| std::env::var(k).ok(), &app.config) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("liveroom-local: {e}");
                return ExitCode::FAILURE;
            }
        };
    let listener = match tokio::net::TcpListener::bind(options.addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("liveroom-local: cannot listen on {}: {e}", options.addr);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().unwrap_or(options.addr);
    tracing::info!(
        url = %format!("http://{addr}"),
        data_dir = %options.data_dir.display(),
        max_connections = options.limits.max_connections,
        "liveroom-local listening"
    );
    let app = Arc::new(app);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let sweeper = tokio::spawn(liveroom_local::run_sweeper(
        Arc::clone(&app),
        std::time::Duration::from_secs(5),
        async move {
            let mut rx = stop_rx;
            let _ = rx.wait_for(|stop| *stop).await;
        },
    ));
    let outbox = (!delivery.is_off()).then(|| {
        let mut rx = stop_tx.subscribe();
        tokio::spawn(liveroom_local::run_outbox(
            Arc::clone(&app),
            delivery,
            std::time::Duration::from_millis(250),
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            },
        ))
    });
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    liveroom_local::run_with(listener, app, options.limits, shutdown).await;
    let _ = stop_tx.send(true);
    let _ = sweeper.await;
    if let Some(outbox) = outbox {
        let _ = outbox.await;
    }
    tracing::info!("liveroom-local stopped");
    ExitCode::SUCCESS
}
