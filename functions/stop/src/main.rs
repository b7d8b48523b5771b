//! The `stop` function: set up once, then serve [`liveroom::rooms::Stop`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::rooms::Stop;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Stop>().await?;
    liveroom::lambda::serve::<Stop>(app).await
}
