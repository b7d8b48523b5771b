//! The `admin-create-key` function: set up once, then serve [`liveroom::admin::AdminCreateKey`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminCreateKey;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminCreateKey>().await?;
    liveroom::lambda::serve::<AdminCreateKey>(app).await
}
