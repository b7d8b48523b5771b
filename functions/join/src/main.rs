//! The `join` function: set up once, then serve `ops::Join` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Join>().await?;
    liveroom::lambda::serve::<ops::Join>(app).await
}
