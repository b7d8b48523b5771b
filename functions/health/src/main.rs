//! The `health` function: no state, no client; serve `Endpoint::Health` (logic is in `liveroom`).

use liveroom::http::Endpoint;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    liveroom::lambda::serve_static(Endpoint::Health).await
}
