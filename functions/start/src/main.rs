//! The `start` function: set up once, then serve `ops::Start` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Start>().await?;
    liveroom::lambda::serve::<ops::Start>(app).await
}
