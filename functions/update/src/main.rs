//! The `update` function: set up once, then serve `ops::Update` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Update>().await?;
    liveroom::lambda::serve::<ops::Update>(app).await
}
