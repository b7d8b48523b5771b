//! The `rtc-token` function: set up once, then serve [`liveroom::vendor_tokens::RtcToken`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::vendor_tokens::RtcToken;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<RtcToken>().await?;
    liveroom::lambda::serve::<RtcToken>(app).await
}
