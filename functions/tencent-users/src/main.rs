//! The `tencent-users` function: set up once, then serve `ops::TencentUsers` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::TencentUsers>().await?;
    liveroom::lambda::serve::<ops::TencentUsers>(app).await
}
