//! The `start` function: set up once, then serve [`liveroom::rooms::Start`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::rooms::Start;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Start>().await?;
    liveroom::lambda::serve::<Start>(app).await
}
