//! The `stop` function: set up once, then serve `ops::Stop` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Stop>().await?;
    liveroom::lambda::serve::<ops::Stop>(app).await
}
