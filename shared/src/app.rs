//! The application value every request is served with: the [`Config`], the store, the clock,
//! our token keys and the process's counters ([`App`]), built once per process (per Lambda
//! cold start) by `lambda`, the local server or a test.
//!
//! Never here: how the configuration is read (`config`), what a request does (the features),
//! or how it arrives (`http`, `lambda`).

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use crate::auth::TokenKeys;
use crate::clock::Clock;
use crate::config::Config;
use crate::env::SecretGroups;
use crate::store::Store;

/// Everything a request needs, built once per process (per Lambda cold start).
///
/// `S` is the store: a Lambda function holds the concrete DynamoDB store, so that its binary
/// links only the store operations its handler calls; the local server and the tests may hold
/// `dyn Store`.
pub struct App<S: ?Sized = dyn Store> {
    pub config: Config,
    pub store: Arc<S>,
    pub clock: Arc<dyn Clock>,
    pub tokens: TokenKeys,
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
            tokens: TokenKeys::new(
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
    pub fn scoped(&self, reads: SecretGroups) -> Self {
        let mut app = Self::new(
            self.config.restricted(reads),
            Arc::clone(&self.store),
            Arc::clone(&self.clock),
        );
        app.stats = Arc::clone(&self.stats);
        app
    }
}
