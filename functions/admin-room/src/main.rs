//! The `admin-room` function: set up once, then serve [`liveroom::admin::AdminRoom`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminRoom;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminRoom>().await?;
    liveroom::lambda::serve::<AdminRoom>(app).await
}
