//! The `live-jump` function: set up once, then serve [`liveroom::accounts::LiveJump`], where the
//! endpoint's routes (`getLiveJumpUrl`, `verifyAuthToken`), store capabilities, secrets and
//! handler are.

use liveroom::accounts::LiveJump;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<LiveJump>().await?;
    liveroom::lambda::serve::<LiveJump>(app).await
}
