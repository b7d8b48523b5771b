//! The `admin-stats` function: set up once, then serve [`liveroom::admin::AdminStats`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminStats;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminStats>().await?;
    liveroom::lambda::serve::<AdminStats>(app).await
}
