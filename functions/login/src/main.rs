//! The `login` function: set up once, then serve [`liveroom::accounts::Login`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::accounts::Login;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Login>().await?;
    liveroom::lambda::serve::<Login>(app).await
}
