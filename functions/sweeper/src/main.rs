//! The `sweeper` function: set up once, then run one sweep per EventBridge schedule event and
//! deliver what the outbox still holds (logic is in `liveroom::reclaim` and
//! `liveroom::delivery`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_from_env(liveroom::env::SecretGroups::DELIVERY).await?;
    let delivery = liveroom::delivery::Delivery::from_env(&app.config)?;
    liveroom::lambda::serve_sweeper(app, delivery).await
}
