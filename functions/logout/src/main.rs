//! The `logout` function: set up once, then serve `ops::Logout` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Logout>().await?;
    liveroom::lambda::serve::<ops::Logout>(app).await
}
