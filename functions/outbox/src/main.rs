//! The `outbox` function: set up once, then deliver the outbox entries each DynamoDB stream
//! batch reports (logic is in `liveroom::delivery`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_from_env(liveroom::env::SecretGroups::DELIVERY).await?;
    let delivery = liveroom::delivery::Delivery::from_env(&app.config)?;
    liveroom::lambda::serve_outbox(app, delivery).await
}
