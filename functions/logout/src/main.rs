//! The `logout` function: set up once, then serve [`liveroom::accounts::Logout`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::accounts::Logout;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Logout>().await?;
    liveroom::lambda::serve::<Logout>(app).await
}
