//! The `admin-rooms` function: set up once, then serve [`liveroom::admin::AdminRooms`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminRooms;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminRooms>().await?;
    liveroom::lambda::serve::<AdminRooms>(app).await
}
