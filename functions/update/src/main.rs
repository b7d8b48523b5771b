//! The `update` function: set up once, then serve [`liveroom::rooms::Update`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::rooms::Update;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Update>().await?;
    liveroom::lambda::serve::<Update>(app).await
}
