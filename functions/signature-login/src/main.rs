//! The `signature-login` function: set up once, then serve [`liveroom::accounts::SignatureLogin`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::accounts::SignatureLogin;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<SignatureLogin>().await?;
    liveroom::lambda::serve::<SignatureLogin>(app).await
}
