//! The `keepalive` function: set up once, then serve [`liveroom::presence::Keepalive`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::presence::Keepalive;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Keepalive>().await?;
    liveroom::lambda::serve::<Keepalive>(app).await
}
