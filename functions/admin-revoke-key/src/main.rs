//! The `admin-revoke-key` function: set up once, then serve [`liveroom::admin::AdminRevokeKey`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminRevokeKey;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminRevokeKey>().await?;
    liveroom::lambda::serve::<AdminRevokeKey>(app).await
}
