//! The `tencent-rooms` function: set up once, then serve [`liveroom::dialects::tencent::TencentRooms`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::dialects::tencent::TencentRooms;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<TencentRooms>().await?;
    liveroom::lambda::serve::<TencentRooms>(app).await
}
