//! The `aliyun-call` function: set up once, then serve [`liveroom::dialects::aliyun::AliyunCall`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::dialects::aliyun::AliyunCall;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AliyunCall>().await?;
    liveroom::lambda::serve::<AliyunCall>(app).await
}
