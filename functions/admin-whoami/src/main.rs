//! The `admin-whoami` function: set up once, then serve [`liveroom::admin::AdminWhoami`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminWhoami;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminWhoami>().await?;
    liveroom::lambda::serve::<AdminWhoami>(app).await
}
