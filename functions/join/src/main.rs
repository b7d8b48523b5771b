//! The `join` function: set up once, then serve [`liveroom::presence::Join`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::presence::Join;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Join>().await?;
    liveroom::lambda::serve::<Join>(app).await
}
