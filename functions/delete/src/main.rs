//! The `delete` function: set up once, then serve `ops::Delete` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Delete>().await?;
    liveroom::lambda::serve::<ops::Delete>(app).await
}
