//! The `sweeper` function: set up once, then run one sweep per EventBridge schedule event
//! (logic is in `liveroom::reclaim`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_from_env().await?;
    liveroom::lambda::serve_sweeper(app).await
}
