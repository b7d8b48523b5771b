//! The `like` function: set up once, then serve `ops::Like` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Like>().await?;
    liveroom::lambda::serve::<ops::Like>(app).await
}
