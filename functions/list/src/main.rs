//! The `list` function: set up once, then serve [`liveroom::rooms::List`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::rooms::List;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<List>().await?;
    liveroom::lambda::serve::<List>(app).await
}
