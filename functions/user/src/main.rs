//! The `user` function: set up once, then serve `ops::User` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::User>().await?;
    liveroom::lambda::serve::<ops::User>(app).await
}
