//! The `health` function: no state, no client; serve [`liveroom::service::Health`], where the endpoint's
//! routes and answer are.

use liveroom::service::Health;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    liveroom::lambda::serve_static::<Health>().await
}
