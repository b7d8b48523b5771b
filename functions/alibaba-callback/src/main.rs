//! The `alibaba-callback` function: set up once, then serve `ops::AlibabaCallback` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::AlibabaCallback>().await?;
    liveroom::lambda::serve::<ops::AlibabaCallback>(app).await
}
