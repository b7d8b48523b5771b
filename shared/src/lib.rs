//! liveroom: the core of a serverless live-room app server.
//!
//! Every Lambda function and the local server are thin shells around this crate: they build an
//! [`App`] once and pass each request to [`http::handle`] or [`http::serve`]. The modules follow
//! the spec's sections: [`accounts`] (§3), [`rooms`] (§5), [`store`] (state), [`http`] (§2, the
//! edge), [`auth`] (sessions), [`domain`] (parsed values), [`config`] and [`error`].

pub mod accounts;
pub mod auth;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod domain;
pub mod error;
pub mod http;
#[cfg(feature = "dynamodb")]
pub mod lambda;
pub mod meeting;
pub mod presence;
pub mod reclaim;
pub mod rooms;
pub mod store;
pub mod telemetry;

use std::sync::Arc;

use tokio::sync::Semaphore;

pub use clock::{Clock, SystemClock};
pub use config::Config;
pub use error::{ApiError, ErrorCode};
pub use store::Store;

/// The OpenAPI 3 document of the API as built (served at `/openapi.json`).
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Everything a request needs, built once per process (per Lambda cold start).
pub struct App {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub tokens: auth::TokenKeys,
    /// Bounds concurrent password hashes (each takes ~19 MiB and a core for tens of ms).
    kdf_permits: Semaphore,
}

impl App {
    pub fn new(config: Config, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            tokens: auth::TokenKeys::new(&config.jwt_secret),
            config,
            store,
            clock,
            kdf_permits: Semaphore::new(cores * 2),
        }
    }
}
