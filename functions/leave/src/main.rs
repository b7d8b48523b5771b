//! The `leave` function: set up once, then serve `ops::Leave` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Leave>().await?;
    liveroom::lambda::serve::<ops::Leave>(app).await
}
