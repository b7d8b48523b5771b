//! The `tencent-callback` function: set up once, then serve [`liveroom::callbacks::TencentCallback`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::callbacks::TencentCallback;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<TencentCallback>().await?;
    liveroom::lambda::serve::<TencentCallback>(app).await
}
