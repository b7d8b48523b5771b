//! Throttle counters (failed logins, registrations) and one-time claims (signature-login
//! nonces, vendor events and the uses of a vendor signature).
//!
//! Never here: the limits themselves or what a refused attempt answers (that is `accounts` and
//! the callbacks' features).

use async_trait::async_trait;

use crate::domain::UserId;
use crate::store::StoreError;

/// A throttle counter: one record per time window, keeping one or more counts, each with the
/// most it may reach in a window (e.g. an address's failed logins, and among them those for one
/// username).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// What is counted: `ip:…`, `user:…`, `reg:…` (no `|`).
    pub key: String,
    /// The counts the record keeps: a name (no `|`) and its limit.
    pub counts: Vec<(String, u64)>,
}

#[async_trait]
pub trait LoginThrottle: Send + Sync {
    /// Counts one attempt (a login, a registration) on each of `counters` in the time window
    /// `window` (kept until `expires_at`). A counter counts it — one atomic conditional add to
    /// each of its counts — only if every one of its counts is below its limit, and is left as
    /// it is otherwise (a refused attempt is never counted). Returns, for each counter, whether
    /// it counted the attempt. Of attempts at once each is decided on the counts the others
    /// left, so no count ever passes its limit. A store may decide all counters together
    /// (counting on none when one refuses); the caller takes back those that counted when any
    /// did not.
    async fn count_attempt(
        &self,
        counters: &[Counter],
        window: i64,
        expires_at: i64,
    ) -> Result<Vec<bool>, StoreError>;

    /// Takes one counted attempt back from each count of each of `counters` in `window` (the
    /// login succeeded, or another counter refused it). A no-op on a count that is gone or 0.
    async fn forgive_attempt(&self, counters: &[Counter], window: i64) -> Result<(), StoreError>;
}

#[async_trait]
pub trait NonceClaim: Send + Sync {
    /// Claims `nonce` for `user` until `expires_at`. Returns false if it is claimed already
    /// (by a claim that has not expired at `now`).
    async fn claim_nonce(
        &self,
        user: &UserId,
        nonce: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait EventClaim: Send + Sync {
    /// Claims the vendor event `id` of `source` (a stream callback, a webhook) until
    /// `expires_at`. Returns false if it is claimed already (by a claim that has not expired at
    /// `now`): a replay.
    async fn claim_event(
        &self,
        source: &str,
        id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError>;

    /// Gives the claim up (the event's work failed: the vendor's retry must not be a replay).
    async fn release_event(&self, source: &str, id: &str) -> Result<(), StoreError>;

    /// Counts one use of the signature value `signature` of `source` (kept until
    /// `expires_at`) by one atomic add, and returns the count with it: uses at once each see
    /// their own count.
    async fn count_signature_use(
        &self,
        source: &str,
        signature: &str,
        expires_at: i64,
    ) -> Result<u64, StoreError>;
}
