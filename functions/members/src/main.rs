//! The `members` function: set up once, then serve `Endpoint::Members` (logic is in `liveroom`).

use liveroom::http::Endpoint;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_from_env().await?;
    liveroom::lambda::serve(app, Endpoint::Members).await
}
