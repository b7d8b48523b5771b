//! The `update-meeting-info` function: set up once, then serve `ops::UpdateMeetingInfo` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::UpdateMeetingInfo>().await?;
    liveroom::lambda::serve::<ops::UpdateMeetingInfo>(app).await
}
