//! The `members` function: set up once, then serve [`liveroom::presence::Members`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::presence::Members;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Members>().await?;
    liveroom::lambda::serve::<Members>(app).await
}
