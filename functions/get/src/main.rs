//! The `get` function: set up once, then serve [`liveroom::rooms::Get`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::rooms::Get;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Get>().await?;
    liveroom::lambda::serve::<Get>(app).await
}
