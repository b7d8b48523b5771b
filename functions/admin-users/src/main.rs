//! The `admin-users` function: set up once, then serve [`liveroom::admin::AdminUsers`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminUsers;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminUsers>().await?;
    liveroom::lambda::serve::<AdminUsers>(app).await
}
