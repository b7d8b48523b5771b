//! The `update-user` function: set up once, then serve `ops::UpdateUser` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::UpdateUser>().await?;
    liveroom::lambda::serve::<ops::UpdateUser>(app).await
}
