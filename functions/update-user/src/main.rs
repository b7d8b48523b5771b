//! The `update-user` function: set up once, then serve [`liveroom::accounts::UpdateUser`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::accounts::UpdateUser;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<UpdateUser>().await?;
    liveroom::lambda::serve::<UpdateUser>(app).await
}
