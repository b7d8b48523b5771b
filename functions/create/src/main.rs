//! The `create` function: set up once, then serve [`liveroom::rooms::Create`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::rooms::Create;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Create>().await?;
    liveroom::lambda::serve::<Create>(app).await
}
