//! The `list` function: set up once, then serve `ops::List` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::List>().await?;
    liveroom::lambda::serve::<ops::List>(app).await
}
