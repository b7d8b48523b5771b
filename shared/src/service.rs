//! The endpoints about the service itself: `health` and `openapi`. Neither needs state: their
//! functions are built without the store (no SDK linked).
//!
//! Never here: anything that reads the store or a secret.

use chrono::{DateTime, Utc};
use lambda_http::Request;
use serde::Serialize;

use crate::App;
use crate::endpoint::{Endpoint, Handler, Route, Stateless, Visitor, json};
use crate::error::ApiError;
use crate::store::Store;

/// The OpenAPI 3 document of the API as built (served at `/openapi.json`).
pub const OPENAPI: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

/// This module's endpoints, for the edge's route table.
pub fn endpoints(v: &mut impl Visitor) {
    v.visit::<Health>();
    v.visit::<OpenApi>();
}

/// `GET /` and `GET /api/v1/live/health`: the service is up, and its version.
pub struct Health;

impl Handler for Health {
    const ENDPOINT: Endpoint = Endpoint::new(
        "health",
        &[Route::get("/"), Route::get("/api/v1/live/health")],
    )
    .without_token();

    async fn call<S: Store + ?Sized>(app: &App<S>, _req: Request) -> Result<String, ApiError> {
        Self::answer(app.clock.now())
    }
}

impl Stateless for Health {
    fn answer(now: DateTime<Utc>) -> Result<String, ApiError> {
        json(&HealthAnswer {
            status: "ok",
            service: "liveroom",
            version: env!("CARGO_PKG_VERSION"),
            time: crate::clock::rfc3339(&now),
        })
    }
}

#[derive(Serialize)]
struct HealthAnswer {
    status: &'static str,
    service: &'static str,
    version: &'static str,
    time: String,
}

/// `GET /openapi.json`: the API's OpenAPI document ([`OPENAPI`]).
pub struct OpenApi;

impl Handler for OpenApi {
    const ENDPOINT: Endpoint =
        Endpoint::new("openapi", &[Route::get("/openapi.json")]).without_token();

    async fn call<S: Store + ?Sized>(_app: &App<S>, _req: Request) -> Result<String, ApiError> {
        Ok(OPENAPI.to_owned())
    }
}

impl Stateless for OpenApi {
    fn answer(_now: DateTime<Utc>) -> Result<String, ApiError> {
        Ok(OPENAPI.to_owned())
    }
}
