//! The `kick` function: set up once, then serve `ops::Kick` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Kick>().await?;
    liveroom::lambda::serve::<ops::Kick>(app).await
}
