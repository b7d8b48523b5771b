//! The `livekit-callback` function: set up once, then serve [`liveroom::callbacks::LivekitCallback`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::callbacks::LivekitCallback;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<LivekitCallback>().await?;
    liveroom::lambda::serve::<LivekitCallback>(app).await
}
