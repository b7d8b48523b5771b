//! Throttle counters (`throttle`: failed logins, registrations), one-time claims (`nonces`:
//! signature-login nonces and vendor events) and the uses of a vendor signature
//! (`signature_uses`).
//!
//! Never here: the limits or the freshness windows (that is `accounts` and `callbacks`).

use async_trait::async_trait;
use redb::ReadableTable;

use super::{EmbeddedStore, NONCES, SIGNATURE_USES, THROTTLE, pair_key};
use crate::domain::UserId;
use crate::store::{Counter, EventClaim, LoginThrottle, NonceClaim, StoreError};

/// The record of count `name` of throttle counter `key` in `window`.
fn count_key(key: &str, name: &str, window: i64) -> String {
    format!("{key}|{name}|{window}")
}

/// Drops the throttle windows no request can still be counting in: those older than the one
/// before the newest any request has counted in (or `window`). A request's window is read from
/// its clock just before it counts; requests counting at once straddle at most one window
/// boundary, so the window before the newest must stay (dropping every window older than the
/// caller's restarted its neighbours' counts from zero whenever two windows interleaved).
/// Returns whether `window` itself is still kept: a request later than that (a minute behind
/// the others) is refused rather than counted on a window already dropped.
fn drop_old_windows(table: &mut redb::Table<&str, u64>, window: i64) -> Result<bool, StoreError> {
    let windows: Vec<(String, i64)> = table
        .iter()?
        .filter_map(Result::ok)
        .filter_map(|(k, _)| {
            let key = k.value().to_owned();
            let w = key.rsplit_once('|')?.1.parse::<i64>().ok()?;
            Some((key, w))
        })
        .collect();
    let newest = windows.iter().map(|(_, w)| *w).fold(window, i64::max);
    let oldest_kept = newest - 1;
    for (key, w) in &windows {
        if *w < oldest_kept {
            table.remove(key.as_str())?;
        }
    }
    Ok(window >= oldest_kept)
}

#[async_trait]
impl LoginThrottle for EmbeddedStore {
    async fn count_attempt(
        &self,
        counters: &[Counter],
        window: i64,
        _expires_at: i64,
    ) -> Result<Vec<bool>, StoreError> {
        let counts: Vec<(String, u64)> = counters
            .iter()
            .flat_map(|c| {
                c.counts
                    .iter()
                    .map(|(name, limit)| (count_key(&c.key, name, window), *limit))
            })
            .collect();
        let n = counters.len();
        // One transaction decides every counter together: counted on all, or on none.
        self.write(move |txn| {
            let mut table = txn.open_table(THROTTLE)?;
            if !drop_old_windows(&mut table, window)? {
                return Ok(vec![false; n]);
            }
            let mut now = Vec::with_capacity(counts.len());
            for (k, limit) in &counts {
                let count = table.get(k.as_str())?.map_or(0, |v| v.value());
                if count >= *limit {
                    return Ok(vec![false; n]);
                }
                now.push(count);
            }
            for ((k, _), count) in counts.iter().zip(now) {
                table.insert(k.as_str(), count + 1)?;
            }
            Ok(vec![true; n])
        })
        .await
    }

    async fn forgive_attempt(&self, counters: &[Counter], window: i64) -> Result<(), StoreError> {
        let keys: Vec<String> = counters
            .iter()
            .flat_map(|c| {
                c.counts
                    .iter()
                    .map(|(name, _)| count_key(&c.key, name, window))
            })
            .collect();
        self.write(move |txn| {
            let mut table = txn.open_table(THROTTLE)?;
            for k in &keys {
                let count = table.get(k.as_str())?.map_or(0, |v| v.value());
                if count > 0 {
                    table.insert(k.as_str(), count - 1)?;
                }
            }
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl NonceClaim for EmbeddedStore {
    async fn claim_nonce(
        &self,
        user: &UserId,
        nonce: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        self.claim(pair_key(user.as_str(), nonce), now, expires_at)
            .await
    }
}

#[async_trait]
impl EventClaim for EmbeddedStore {
    async fn claim_event(
        &self,
        source: &str,
        id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        self.claim(event_claim_key(source, id), now, expires_at)
            .await
    }

    async fn count_signature_use(
        &self,
        source: &str,
        signature: &str,
        _expires_at: i64,
    ) -> Result<u64, StoreError> {
        let key = event_claim_key(source, signature);
        self.write(move |txn| {
            let mut table = txn.open_table(SIGNATURE_USES)?;
            let uses = table.get(key.as_str())?.map_or(0, |v| v.value()) + 1;
            table.insert(key.as_str(), uses)?;
            Ok(uses)
        })
        .await
    }

    async fn release_event(&self, source: &str, id: &str) -> Result<(), StoreError> {
        let key = event_claim_key(source, id);
        self.write(move |txn| {
            txn.open_table(NONCES)?.remove(key.as_str())?;
            Ok(())
        })
        .await
    }
}

/// `~` is in no user id: event claims and users' nonces never meet.
fn event_claim_key(source: &str, id: &str) -> String {
    pair_key(&format!("~event~{source}"), id)
}

impl EmbeddedStore {
    /// Records the claim `key` until `expires_at` unless an unexpired one exists.
    async fn claim(&self, key: String, now: i64, expires_at: i64) -> Result<bool, StoreError> {
        self.write(move |txn| {
            let mut table = txn.open_table(NONCES)?;
            if table
                .get(key.as_str())?
                .is_some_and(|until| until.value() >= now)
            {
                return Ok(false);
            }
            table.insert(key.as_str(), expires_at)?;
            Ok(true)
        })
        .await
    }
}
