//! The `admin-keys` function: set up once, then serve [`liveroom::admin::AdminKeys`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminKeys;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminKeys>().await?;
    liveroom::lambda::serve::<AdminKeys>(app).await
}
