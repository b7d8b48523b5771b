//! The `console` function: no state, no client, no secret; serve the files of
//! [`liveroom_console`] (the operator console at `/console`, the API docs at `/docs`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    liveroom_console::serve().await
}
