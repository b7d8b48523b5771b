//! The `refresh` function: set up once, then serve [`liveroom::accounts::Refresh`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::accounts::Refresh;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Refresh>().await?;
    liveroom::lambda::serve::<Refresh>(app).await
}
