//! The `register` function: set up once, then serve `ops::Register` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::Register>().await?;
    liveroom::lambda::serve::<ops::Register>(app).await
}
