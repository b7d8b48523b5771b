//! The `leave` function: set up once, then serve [`liveroom::presence::Leave`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::presence::Leave;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Leave>().await?;
    liveroom::lambda::serve::<Leave>(app).await
}
