//! The `login` function: set up once, then serve `ops::Login` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Login>().await?;
    liveroom::lambda::serve::<ops::Login>(app).await
}
