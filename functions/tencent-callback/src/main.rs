//! The `tencent-callback` function: set up once, then serve `ops::TencentCallback` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::TencentCallback>().await?;
    liveroom::lambda::serve::<ops::TencentCallback>(app).await
}
