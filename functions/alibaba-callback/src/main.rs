//! The `alibaba-callback` function: set up once, then serve [`liveroom::callbacks::AlibabaCallback`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::callbacks::AlibabaCallback;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AlibabaCallback>().await?;
    liveroom::lambda::serve::<AlibabaCallback>(app).await
}
