//! The `get` function: set up once, then serve `ops::Get` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Get>().await?;
    liveroom::lambda::serve::<ops::Get>(app).await
}
