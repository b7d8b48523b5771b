//! The `admin-room-series` function: set up once, then serve [`liveroom::admin::AdminRoomSeries`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminRoomSeries;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminRoomSeries>().await?;
    liveroom::lambda::serve::<AdminRoomSeries>(app).await
}
