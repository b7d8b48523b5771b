//! The `mute` function: set up once, then serve [`liveroom::moderation::Mute`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::moderation::Mute;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Mute>().await?;
    liveroom::lambda::serve::<Mute>(app).await
}
