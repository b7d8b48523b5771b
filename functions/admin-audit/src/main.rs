//! The `admin-audit` function: set up once, then serve [`liveroom::admin::AdminAudit`], where the endpoint's
//! routes, store capabilities, secrets and handler are.

use liveroom::admin::AdminAudit;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<AdminAudit>().await?;
    liveroom::lambda::serve::<AdminAudit>(app).await
}
