//! The Lambda side: build the production [`App`] from the environment and serve one endpoint.
//!
//! Each function's `main` is: [`crate::telemetry::init`], [`app_from_env`], [`serve`] with the
//! function's operation type (or [`serve_static`] for `health` and `openapi`, which need no
//! state, or [`serve_sweeper`] for the scheduled sweeper). Everything but [`serve_static`]
//! needs the `dynamodb` feature; `health` and `openapi` are built without it (no SDK linked).

#[cfg(feature = "dynamodb")]
use std::sync::Arc;

#[cfg(feature = "dynamodb")]
use crate::config::{self, ConfigError};
#[cfg(feature = "dynamodb")]
use crate::http::Operation;
use crate::http::{self, Endpoint};
#[cfg(feature = "dynamodb")]
use crate::store::dynamo::DynamoStore;
#[cfg(feature = "dynamodb")]
use crate::{App, Config, SystemClock};

#[cfg(feature = "dynamodb")]
/// Reads and validates the configuration (`JWT_SECRET`, `TABLE_NAME`, ...) and builds the
/// DynamoDB client once. Fails with the name of the missing or bad variable.
pub async fn app_from_env() -> Result<App<DynamoStore>, ConfigError> {
    let config = Config::from_env()?;
    let table = config::required("TABLE_NAME")?;
    let store = DynamoStore::from_env(table)?;
    Ok(App::new(config, Arc::new(store), Arc::new(SystemClock)))
}

#[cfg(feature = "dynamodb")]
/// Serves operation `O` until the runtime stops the process.
pub async fn serve<O: Operation>(app: App<DynamoStore>) -> Result<(), lambda_http::Error> {
    let app = &app;
    lambda_http::run(lambda_http::service_fn(move |req| {
        http::handle_one_infallible::<O, DynamoStore>(app, req)
    }))
    .await
}

/// Serves an endpoint that needs no state (no configuration, no client).
pub async fn serve_static(endpoint: Endpoint) -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(move |req| async move {
        Ok::<_, std::convert::Infallible>(http::handle_static(endpoint, req).await)
    }))
    .await
}

#[cfg(feature = "dynamodb")]
/// Runs the sweeper for every scheduled event (EventBridge), logging what each sweep did.
pub async fn serve_sweeper(app: App<DynamoStore>) -> Result<(), lambda_http::Error> {
    let app = &app;
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |_event: lambda_http::LambdaEvent<serde_json::Value>| async move {
            let report = crate::reclaim::sweep(app).await.map_err(|e| {
                tracing::error!(error = %e, cause = e.cause.as_deref().unwrap_or(""), "sweep failed");
                lambda_http::Error::from(e.to_string())
            })?;
            report.log();
            Ok::<_, lambda_http::Error>(serde_json::to_value(report).unwrap_or_default())
        },
    ))
    .await
}
