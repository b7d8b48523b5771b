//! The `token` function: set up once, then serve `ops::Token` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Token>().await?;
    liveroom::lambda::serve::<ops::Token>(app).await
}
