//! The `like` function: set up once, then serve [`liveroom::presence::Like`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::presence::Like;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Like>().await?;
    liveroom::lambda::serve::<Like>(app).await
}
