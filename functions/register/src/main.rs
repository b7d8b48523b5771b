//! The `register` function: set up once, then serve [`liveroom::accounts::Register`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::accounts::Register;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Register>().await?;
    liveroom::lambda::serve::<Register>(app).await
}
