//! The `mute` function: set up once, then serve `ops::Mute` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Mute>().await?;
    liveroom::lambda::serve::<ops::Mute>(app).await
}
