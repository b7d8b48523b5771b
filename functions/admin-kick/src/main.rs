//! The `admin-kick` function: set up once, then serve [`liveroom::admin::AdminKick`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminKick;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminKick>().await?;
    liveroom::lambda::serve::<AdminKick>(app).await
}
