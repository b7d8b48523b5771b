//! The `admin-enable-user` function: set up once, then serve [`liveroom::admin::AdminEnableUser`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminEnableUser;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminEnableUser>().await?;
    liveroom::lambda::serve::<AdminEnableUser>(app).await
}
