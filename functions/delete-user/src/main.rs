//! The `delete-user` function: set up once, then serve `ops::DeleteUser` (logic is in `liveroom`).

use liveroom::http::ops;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    liveroom::telemetry::init();
    let app = liveroom::lambda::app_for::<ops::DeleteUser>().await?;
    liveroom::lambda::serve::<ops::DeleteUser>(app).await
}
