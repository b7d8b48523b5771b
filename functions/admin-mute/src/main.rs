//! The `admin-mute` function: set up once, then serve [`liveroom::admin::AdminMute`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminMute;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminMute>().await?;
    liveroom::lambda::serve::<AdminMute>(app).await
}
