//! The `user` function: set up once, then serve [`liveroom::accounts::User`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::accounts::User;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<User>().await?;
    liveroom::lambda::serve::<User>(app).await
}
