//! The `get-meeting-info` function: set up once, then serve `ops::GetMeetingInfo` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::GetMeetingInfo>().await?;
    liveroom::lambda::serve::<ops::GetMeetingInfo>(app).await
}
