//! The `token` function: set up once, then serve [`liveroom::vendor_tokens::Token`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::vendor_tokens::Token;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<Token>().await?;
    liveroom::lambda::serve::<Token>(app).await
}
