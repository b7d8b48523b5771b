//! The `tencent-rooms` function: set up once, then serve `ops::TencentRooms` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::TencentRooms>().await?;
    liveroom::lambda::serve::<ops::TencentRooms>(app).await
}
