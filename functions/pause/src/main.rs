//! The `pause` function: set up once, then serve `ops::Pause` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Pause>().await?;
    liveroom::lambda::serve::<ops::Pause>(app).await
}
