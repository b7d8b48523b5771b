//! The `openapi` function: no state, no client; serve [`liveroom::service::OpenApi`], where the endpoint's
//! routes and answer are.

use liveroom::service::OpenApi;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    liveroom::lambda::serve_static::<OpenApi>().await
}
