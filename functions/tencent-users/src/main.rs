//! The `tencent-users` function: set up once, then serve [`liveroom::dialects::tencent::TencentUsers`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::dialects::tencent::TencentUsers;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<TencentUsers>().await?;
    liveroom::lambda::serve::<TencentUsers>(app).await
}
