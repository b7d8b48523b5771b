//! The Lambda side: build the production [`App`] from the environment and serve one endpoint.
//!
//! Each function's `main` is: [`crate::telemetry::init`], [`app_for`] and [`serve`] with the
//! function's endpoint type (or [`serve_static`] for `health` and `openapi`, which need no
//! state, or [`serve_sweeper`] for the scheduled sweeper). Everything but [`serve_static`]
//! needs the `dynamodb` feature; `health` and `openapi` are built without it (no SDK linked).

#[cfg(feature = "dynamodb")]
use std::sync::Arc;

#[cfg(feature = "dynamodb")]
use crate::endpoint::Handler;
use crate::endpoint::Stateless;
#[cfg(feature = "dynamodb")]
use crate::env::{self, ConfigError};
use crate::http;
#[cfg(feature = "dynamodb")]
use crate::store::dynamo::DynamoStore;
#[cfg(feature = "dynamodb")]
use crate::{App, Config, SystemClock};

#[cfg(feature = "dynamodb")]
/// Reads and validates the configuration of endpoint `H`'s function (the secrets of its
/// [`crate::endpoint::Endpoint::secrets`] and no other, `TABLE_NAME`, ...) and builds the
/// DynamoDB client once. Fails with the name of the missing or bad variable.
pub async fn app_for<H: Handler>() -> Result<App<DynamoStore>, ConfigError> {
    app_from_env(H::ENDPOINT.secrets()).await
}

#[cfg(feature = "dynamodb")]
/// [`app_for`] for a function that serves no endpoint (the sweeper, the outbox): it reads
/// `reads`.
pub async fn app_from_env(
    reads: crate::env::SecretGroups,
) -> Result<App<DynamoStore>, ConfigError> {
    let config = Config::from_env(reads)?;
    let table = env::required("TABLE_NAME")?;
    let store = DynamoStore::from_env(table)?;
    Ok(App::new(config, Arc::new(store), Arc::new(SystemClock)))
}

#[cfg(feature = "dynamodb")]
/// Serves endpoint `H` until the runtime stops the process.
pub async fn serve<H: Handler>(app: App<DynamoStore>) -> Result<(), lambda_http::Error> {
    let app = &app;
    lambda_http::run(lambda_http::service_fn(move |req| {
        http::handle_one_infallible::<H, DynamoStore>(app, req)
    }))
    .await
}

/// Serves an endpoint that needs no state (no configuration, no client).
pub async fn serve_static<H: Stateless>() -> Result<(), lambda_http::Error> {
    lambda_http::run(lambda_http::service_fn(move |req| async move {
        Ok::<_, std::convert::Infallible>(http::handle_static::<H>(req).await)
    }))
    .await
}

#[cfg(all(feature = "dynamodb", feature = "delivery"))]
/// Runs the sweeper for every scheduled event (EventBridge), logging what each sweep did, then
/// delivers the outbox entries that are due (those whose first delivery failed).
pub async fn serve_sweeper(
    app: App<DynamoStore>,
    delivery: crate::delivery::Delivery,
) -> Result<(), lambda_http::Error> {
    let (app, delivery) = (&app, &delivery);
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |_event: lambda_http::LambdaEvent<serde_json::Value>| async move {
            let report = crate::reclaim::sweep(app).await.map_err(|e| {
                tracing::error!(error = %e, cause = e.cause.as_deref().unwrap_or(""), "sweep failed");
                lambda_http::Error::from(e.to_string())
            })?;
            report.log();
            let delivered = if delivery.is_off() {
                crate::delivery::DeliveryReport::default()
            } else {
                crate::delivery::deliver_pending(app, delivery).await.map_err(|e| {
                    tracing::error!(error = %e, cause = e.cause.as_deref().unwrap_or(""), "outbox delivery failed");
                    lambda_http::Error::from(e.to_string())
                })?
            };
            delivered.log();
            Ok::<_, lambda_http::Error>(
                serde_json::json!({"sweep": report, "outbox": delivered}),
            )
        },
    ))
    .await
}

#[cfg(all(feature = "dynamodb", feature = "delivery"))]
/// The rooms whose outbox entries a DynamoDB stream batch reports (keys `OUTBOX#{room}`).
pub fn outbox_rooms_of_stream(event: &serde_json::Value) -> Vec<crate::domain::RoomId> {
    let mut rooms: Vec<crate::domain::RoomId> = Vec::new();
    let records = event["Records"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for record in records {
        let Some(pk) = record["dynamodb"]["Keys"]["pk"]["S"].as_str() else {
            continue;
        };
        let Some(room) = pk
            .strip_prefix("OUTBOX#")
            .and_then(|id| crate::domain::RoomId::parse("pk", id).ok())
        else {
            continue;
        };
        if !rooms.contains(&room) {
            rooms.push(room);
        }
    }
    rooms
}

#[cfg(all(feature = "dynamodb", feature = "delivery"))]
/// Delivers the outbox of every room a stream batch names (the table's stream, filtered to
/// new outbox entries). Never fails the batch: what could not be delivered stays in the
/// outbox for the sweeper, so the stream never stalls on a receiver that is down.
pub async fn serve_outbox(
    app: App<DynamoStore>,
    delivery: crate::delivery::Delivery,
) -> Result<(), lambda_http::Error> {
    let (app, delivery) = (&app, &delivery);
    lambda_http::lambda_runtime::run(lambda_http::service_fn(
        move |event: lambda_http::LambdaEvent<serde_json::Value>| async move {
            let mut total = crate::delivery::DeliveryReport::default();
            for room in outbox_rooms_of_stream(&event.payload) {
                match crate::delivery::deliver_room(app, delivery, &room).await {
                    Ok(report) => total.add(report),
                    Err(e) => {
                        tracing::warn!(room = %room, error = %e, cause = e.cause.as_deref().unwrap_or(""), "outbox left for the sweeper");
                    }
                }
            }
            total.log();
            Ok::<_, lambda_http::Error>(serde_json::to_value(total).unwrap_or_default())
        },
    ))
    .await
}
