//! The `delete` function: set up once, then serve [`liveroom::rooms::Delete`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::rooms::Delete;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Delete>().await?;
    liveroom::lambda::serve::<Delete>(app).await
}
