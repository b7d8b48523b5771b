//! The `aliyun-call` function: set up once, then serve `ops::AliyunCall` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::AliyunCall>().await?;
    liveroom::lambda::serve::<ops::AliyunCall>(app).await
}
