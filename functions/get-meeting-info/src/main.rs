//! The `get-meeting-info` function: set up once, then serve [`liveroom::meeting::GetMeetingInfo`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::meeting::GetMeetingInfo;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<GetMeetingInfo>().await?;
    liveroom::lambda::serve::<GetMeetingInfo>(app).await
}
