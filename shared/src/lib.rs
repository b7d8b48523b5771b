//! liveroom: the core of a serverless live-room app server.
//!
//! Every Lambda function and the local server are thin shells around this crate: they build an
//! [`App`] once and pass each request to the handler of their endpoint ([`lambda::serve`]) or
//! to the router ([`http::serve`]). The modules follow the spec's sections: [`accounts`] (§3),
//! [`credentials`] (§4: the providers) and [`tokens`] (§4: the endpoints), [`rooms`] (§5), [`meeting`] (§6), [`presence`], [`metrics`] and
//! [`reclaim`] (§7); [`domain`] holds the parsed values and the room's state machine,
//! [`store`] the state, [`http`] the edge, [`auth`] the sessions.
//!
//! Dependencies point one way: domain ← store ← features ← http ← lambda / the local server.

pub mod accounts;
pub mod auth;
pub mod callbacks;
pub mod clock;
pub mod config;
pub mod credentials;
#[cfg(feature = "delivery")]
pub mod delivery;
pub mod dialects;
pub mod domain;
pub mod error;
pub mod http;
#[cfg(feature = "delivery")]
pub mod https;
#[cfg(feature = "delivery")]
pub mod im;
pub mod lambda;
pub mod meeting;
pub mod metrics;
pub mod moderation;
pub mod presence;
pub mod reclaim;
pub mod room_change;
pub mod rooms;
pub mod store;
pub mod telemetry;
pub mod tokens;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

pub use clock::{Clock, SystemClock};
pub use config::{Config, Reads};
pub use error::{ApiError, ErrorCode};
pub use store::Store;

/// The OpenAPI 3 document of the API as built (served at `/openapi.json`).
pub const OPENAPI: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.min.json"));

/// Everything a request needs, built once per process (per Lambda cold start).
///
/// `S` is the store: a Lambda function holds the concrete DynamoDB store, so that its binary
/// links only the store operations its handler calls; the local server and the tests may hold
/// `dyn Store`.
pub struct App<S: ?Sized = dyn Store> {
    pub config: Config,
    pub store: Arc<S>,
    pub clock: Arc<dyn Clock>,
    pub tokens: auth::TokenKeys,
    /// What this process did that an operator (or a test) may want to count.
    pub stats: Arc<Stats>,
    /// Bounds concurrent password hashes (each takes ~19 MiB and a core for tens of ms); made
    /// on first use (counting the cores reads cgroup files: no cost for functions that never
    /// hash).
    kdf_permits: OnceLock<Semaphore>,
}

/// Counters of this process.
#[derive(Debug, Default)]
pub struct Stats {
    /// How often a room's online members were counted (a metrics refresh).
    pub online_recounts: AtomicU64,
}

impl<S: ?Sized> App<S> {
    /// The permits for password hashing: two per core.
    pub(crate) fn kdf_permits(&self) -> &Semaphore {
        self.kdf_permits.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            Semaphore::new(cores * 2)
        })
    }

    pub fn new(config: Config, store: Arc<S>, clock: Arc<dyn Clock>) -> Self {
        Self {
            tokens: auth::TokenKeys::new(
                config.jwt_private_key.as_ref(),
                config.jwt_public_key.as_ref(),
            ),
            config,
            store,
            clock,
            stats: Arc::default(),
            kdf_permits: OnceLock::new(),
        }
    }

    /// This app as a function of `reads` would be: the same store, clock and counters, the
    /// configuration [`Config::restricted`] to what such a function reads. The tests serve
    /// every endpoint through it, so that one whose declared reads miss a secret it uses
    /// fails them.
    pub fn scoped(&self, reads: Reads) -> Self {
        let mut app = Self::new(
            self.config.restricted(reads),
            Arc::clone(&self.store),
            Arc::clone(&self.clock),
        );
        app.stats = Arc::clone(&self.stats);
        app
    }
}
