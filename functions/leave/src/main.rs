//! The `leave` function: set up once, then serve `Endpoint::Leave` (logic is in `liveroom`).

use liveroom::http::Endpoint;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_from_env().await?;
    liveroom::lambda::serve(app, Endpoint::Leave).await
}
