//! The `rtc-token` function: set up once, then serve `ops::RtcToken` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::RtcToken>().await?;
    liveroom::lambda::serve::<ops::RtcToken>(app).await
}
