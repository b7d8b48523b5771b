//! The `pause` function: set up once, then serve [`liveroom::rooms::Pause`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::rooms::Pause;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Pause>().await?;
    liveroom::lambda::serve::<Pause>(app).await
}
