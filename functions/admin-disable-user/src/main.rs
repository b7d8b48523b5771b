//! The `admin-disable-user` function: set up once, then serve [`liveroom::admin::AdminDisableUser`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminDisableUser;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminDisableUser>().await?;
    liveroom::lambda::serve::<AdminDisableUser>(app).await
}
