//! `liveroom-create-table`: creates the liveroom table (the layout of `template.yaml`) on a
//! DynamoDB-compatible server, for running the Lambda functions locally with `cargo lambda`.
//!
//! ```text
//! liveroom-create-table [--endpoint URL] [--table NAME]
//! ```
//! Defaults: `http://127.0.0.1:8000` and `liveroom`. Region and credentials come from the usual
//! AWS environment variables (any values work against moto).

use std::process::ExitCode;

use liveroom::store::dynamo::DynamoStore;

#[tokio::main]
async fn main() -> ExitCode {
    let mut endpoint = "http://127.0.0.1:8000".to_owned();
    let mut table = "liveroom".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--endpoint", Some(v)) => endpoint = v,
            ("--table", Some(v)) => table = v,
            _ => {
                eprintln!("usage: liveroom-create-table [--endpoint URL] [--table NAME]");
                return ExitCode::from(2);
            }
        }
    }
    let client = match liveroom::store::dynamo::client_from_env(Some(&endpoint)) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("liveroom-create-table: {e}");
            return ExitCode::FAILURE;
        }
    };
    let store = DynamoStore::new(client, table.clone());
    match store.create_table().await {
        Ok(()) => {
            println!("created table {table} on {endpoint}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("liveroom-create-table: {e}");
            ExitCode::FAILURE
        }
    }
}
