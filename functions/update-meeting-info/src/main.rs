//! The `update-meeting-info` function: set up once, then serve [`liveroom::meeting::UpdateMeetingInfo`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::meeting::UpdateMeetingInfo;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<UpdateMeetingInfo>().await?;
    liveroom::lambda::serve::<UpdateMeetingInfo>(app).await
}
