//! The `signature-login` function: set up once, then serve `ops::Signature` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Signature>().await?;
    liveroom::lambda::serve::<ops::Signature>(app).await
}
