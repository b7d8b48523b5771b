//! The `admin-stop-room` function: set up once, then serve [`liveroom::admin::AdminStopRoom`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminStopRoom;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminStopRoom>().await?;
    liveroom::lambda::serve::<AdminStopRoom>(app).await
}
