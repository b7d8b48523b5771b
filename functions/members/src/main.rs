//! The `members` function: set up once, then serve `ops::Members` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Members>().await?;
    liveroom::lambda::serve::<ops::Members>(app).await
}
