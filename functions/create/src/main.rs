//! The `create` function: set up once, then serve `ops::Create` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Create>().await?;
    liveroom::lambda::serve::<ops::Create>(app).await
}
