//! The `livekit-callback` function: set up once, then serve `ops::LivekitCallback` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::LivekitCallback>().await?;
    liveroom::lambda::serve::<ops::LivekitCallback>(app).await
}
