//! The Lambda side: build the production [`App`] from the environment and serve one endpoint.
//!
//! Each function's `main` is: [`crate::telemetry::init`], [`app_from_env`], [`serve`].

use std::sync::Arc;

use crate::config::{self, ConfigError};
use crate::http::{self, Endpoint};
use crate::store::dynamo::DynamoStore;
use crate::{App, Config, SystemClock};

/// Reads and validates the configuration (`JWT_SECRET`, `TABLE_NAME`, ...) and builds the
/// DynamoDB client once. Fails with the name of the missing or bad variable.
pub async fn app_from_env() -> Result<App, ConfigError> {
    let config = Config::from_env()?;
    let table = config::required("TABLE_NAME")?;
    let store = DynamoStore::from_env(table).await;
    Ok(App::new(config, Arc::new(store), Arc::new(SystemClock)))
}

/// Serves `endpoint` until the runtime stops the process.
pub async fn serve(app: App, endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    let app = &app;
    lambda_http::run(lambda_http::service_fn(move |req| {
        http::handle_infallible(app, endpoint, req)
    }))
    .await
}
