//! The `keepalive` function: set up once, then serve `ops::Keepalive` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Keepalive>().await?;
    liveroom::lambda::serve::<ops::Keepalive>(app).await
}
