//! The `admin-set-roles` function: set up once, then serve [`liveroom::admin::AdminSetRoles`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminSetRoles;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminSetRoles>().await?;
    liveroom::lambda::serve::<AdminSetRoles>(app).await
}
