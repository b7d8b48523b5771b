//! The `refresh` function: set up once, then serve `ops::Refresh` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Refresh>().await?;
    liveroom::lambda::serve::<ops::Refresh>(app).await
}
