//! The `kick` function: set up once, then serve [`liveroom::moderation::Kick`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::moderation::Kick;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Kick>().await?;
    liveroom::lambda::serve::<Kick>(app).await
}
