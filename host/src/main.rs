//! `liveroom-functions`: serves `template.yaml` through the function binaries (what
//! `scripts/serve-functions` runs once it has built them, started DynamoDB and made the table).
//!
//! ```text
//! liveroom-functions --bin-dir DIR --dynamodb URL [--addr HOST:PORT] [--template FILE]
//!                    [--parameters FILE] [--table NAME] [--idle-seconds N]
//!                    [--schedule-seconds N] [--quiet]
//! ```
//!
//! Creates the table from the template's definition (keys, indexes, TTL, stream) unless it
//! exists, then serves the HTTP API, feeds the stream mapping and runs the schedules (every
//! `--schedule-seconds` instead of their rates, if given).
//!
//! Never here: building, the DynamoDB server (the script's).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use liveroom_host::dynamodb::Dynamo;
use liveroom_host::gateway::{Host, Settings};
use liveroom_host::template::{Template, parameters};

struct Options {
    addr: String,
    template: PathBuf,
    parameters: Option<PathBuf>,
    bin_dir: PathBuf,
    dynamodb: String,
    table: String,
    idle: u64,
    schedule_every: Option<u64>,
    quiet: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        addr: "127.0.0.1:3001".to_owned(),
        template: PathBuf::from("template.yaml"),
        parameters: None,
        bin_dir: PathBuf::from("target/debug"),
        dynamodb: String::new(),
        table: "liveroom".to_owned(),
        idle: 300,
        schedule_every: None,
        quiet: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--quiet" {
            o.quiet = true;
            continue;
        }
        let v = args.next().ok_or(format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--addr" => o.addr = v,
            "--template" => o.template = v.into(),
            "--parameters" => o.parameters = Some(v.into()),
            "--bin-dir" => o.bin_dir = v.into(),
            "--dynamodb" => o.dynamodb = v,
            "--table" => o.table = v,
            "--idle-seconds" => o.idle = v.parse().map_err(|_| "--idle-seconds: a number")?,
            "--schedule-seconds" => {
                let n: u64 = v.parse().map_err(|_| "--schedule-seconds: a number")?;
                o.schedule_every = Some(n.max(1));
            }
            _ => return Err(format!("unknown option {arg}")),
        }
    }
    if o.dynamodb.is_empty() {
        return Err("--dynamodb URL is required".to_owned());
    }
    Ok(o)
}

async fn run() -> Result<(), String> {
    let o = options()?;
    let params = match &o.parameters {
        Some(p) => {
            parameters(&std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?)?
        }
        None => BTreeMap::new(),
    };
    let text = std::fs::read_to_string(&o.template)
        .map_err(|e| format!("{}: {e}", o.template.display()))?;
    let template = Template::parse(&text, &params, &o.table)?;
    if let Some(table) = &template.table {
        let created = Dynamo::new(&o.dynamodb)
            .create_table(table, &o.table)
            .await
            .map_err(|e| format!("creating table {}: {e}", o.table))?;
        eprintln!(
            "liveroom-functions: table {} {}",
            o.table,
            if created {
                "created from the template's definition"
            } else {
                "exists: kept as it is"
            }
        );
    }
    let host = Host::new(
        template,
        Settings {
            idle: Duration::from_secs(o.idle),
            show_function_output: !o.quiet,
            schedule_every: o.schedule_every.map(Duration::from_secs),
            ..Settings::new(o.bin_dir, &o.dynamodb)
        },
    )?;
    let listener = tokio::net::TcpListener::bind(&o.addr)
        .await
        .map_err(|e| format!("{}: {e}", o.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("liveroom-functions listening on http://{addr}");
    Arc::new(host).serve(listener).await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let result = tokio::select! {
        r = run() => r,
        _ = shutdown() => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("liveroom-functions: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C or SIGTERM (the instances stop with the pools, each process killed on drop).
async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
