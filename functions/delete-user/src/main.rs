//! The `delete-user` function: set up once, then serve [`liveroom::accounts::DeleteUser`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::accounts::DeleteUser;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<DeleteUser>().await?;
    liveroom::lambda::serve::<DeleteUser>(app).await
}
