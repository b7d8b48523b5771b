//! Account state beyond the user item's creation: profile updates, closing an account,
//! sessions ended by a logout, throttle counters (failed logins, registrations) and
//! signature-login nonces.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};

use super::change::Change;
use super::codec::{Reader, time, user_from_item};
use super::operator::audit_item;
use super::schema::{
    GSI_ALL, Item, PK, SESSION_SK_PREFIX, SIGNATURE_USES, SK, TTL_ATTRIBUTE, USER_SK, event_key, n,
    nonce_key, s, session_key, signature_uses_key, throttle_key, user_key, user_pk,
};
use super::{DynamoStore, conditional};
use crate::domain::audit::AuditEntry;
use crate::domain::user::User;
use crate::domain::{ImageUrl, Nick, UserId};
use crate::store::{
    Counter, EventClaim, LoginThrottle, NonceClaim, SessionFound, SessionGuard, SessionRead,
    SessionWrite, StoreError, UserDelete, UserUpdate,
};

/// The condition of every change to a user: it exists and is not closed.
pub(super) const LIVE_USER: &str = "attribute_exists(pk) AND attribute_not_exists(deleted_at)";

/// The condition a [`SessionGuard`] adds to [`LIVE_USER`] (`:gen`: its generation): not
/// disabled, and no session ended by generation since.
const STANDING: &str = "attribute_not_exists(disabled_at) AND sessions = :gen";

/// A write's condition on the user item: [`LIVE_USER`], and `guard`'s when given (its value
/// `:gen` is set by [`guarded`]).
fn live_user(guard: Option<SessionGuard<'_>>) -> String {
    match guard {
        Some(_) => format!("{LIVE_USER} AND {STANDING}"),
        None => LIVE_USER.to_owned(),
    }
}

/// `change` of the user item, held to `guard` (if any) as well.
fn guarded(change: Change, guard: Option<SessionGuard<'_>>) -> Change {
    let change = change.condition(live_user(guard));
    match guard {
        Some(g) => change.value(":gen", n(g.generation)),
        None => change,
    }
}

/// The `ConditionCheck` of `guard` on its user item, for a transaction that writes other
/// items: the caller's standing, held to by the write (one call, as the write alone).
pub(super) fn guard_check(guard: SessionGuard<'_>) -> Change {
    guarded(Change::check(user_key(guard.user), ""), Some(guard))
}

#[async_trait]
impl UserUpdate for DynamoStore {
    async fn update_profile(
        &self,
        id: &UserId,
        nick: Option<&Nick>,
        avatar: Option<&ImageUrl>,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<Option<User>, StoreError> {
        let mut set = Vec::new();
        let mut req = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(user_key(id)))
            .condition_expression(live_user(guard))
            .return_values(ReturnValue::AllNew);
        if let Some(g) = guard {
            req = req.expression_attribute_values(":gen", n(g.generation));
        }
        if let Some(nick) = nick {
            set.push("nick = :nick");
            req = req.expression_attribute_values(":nick", s(nick.as_str()));
        }
        if let Some(avatar) = avatar {
            set.push("avatar = :avatar");
            req = req.expression_attribute_values(":avatar", s(avatar.as_str()));
        }
        if set.is_empty() {
            return Err(StoreError::Unavailable(
                "a profile update with no field".to_owned(),
            ));
        }
        match req
            .update_expression(format!("SET {}", set.join(", ")))
            .send()
            .await
            .map_err(conditional)
        {
            Ok(out) => out.attributes.map(|a| user_from_item(&a)).transpose(),
            // Held to a guard: no such (live) user is the guard's refusal too.
            Err(StoreError::Conflict) if guard.is_some() => Err(StoreError::Conflict),
            Err(StoreError::Conflict) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl UserDelete for DynamoStore {
    async fn delete_user(
        &self,
        id: &UserId,
        now: DateTime<Utc>,
        audit: Option<&AuditEntry>,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<bool, StoreError> {
        // Off the users' listing too (its index keys removed).
        let change = Change::new(
            user_key(id),
            "SET deleted_at = :now, password_hash = :empty, nick = :empty, avatar = :empty \
             REMOVE salt, #lpk, #lsk ADD sessions :one",
        );
        let change = guarded(change, guard)
            .name("#lpk", GSI_ALL.pk)
            .name("#lsk", GSI_ALL.sk)
            .value(":now", time(&now))
            .value(":empty", s(""))
            .value(":one", n(1));
        let puts = audit.map(audit_item).transpose()?.into_iter().collect();
        match self.write(vec![change], puts).await {
            Ok(()) => Ok(true),
            // Deleted already (idempotent), or never there; or open, and the guard refused.
            Err(StoreError::Conflict) => match self.get(user_key(id)).await? {
                Some(item) if guard.is_some() && !user_from_item(&item)?.is_deleted() => {
                    Err(StoreError::Conflict)
                }
                item => Ok(item.is_some()),
            },
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl SessionRead for DynamoStore {
    async fn session(
        &self,
        user: &UserId,
        session: &str,
    ) -> Result<(Option<User>, bool), StoreError> {
        let mut items = self.batch_get(session_keys(user, session)).await?;
        let found = take_session(&mut items, user)?;
        Ok((found.user, found.ended))
    }

    async fn user_in_session(
        &self,
        other: &UserId,
        user: &UserId,
        session: &str,
    ) -> Result<(Option<User>, SessionFound), StoreError> {
        let mut keys = session_keys(user, session);
        if other != user {
            keys.push(user_key(other));
        }
        let mut items = self.batch_get(keys).await?;
        let found = take_session(&mut items, user)?;
        let other = match items.pop() {
            Some(item) => Some(user_from_item(&item)?),
            None if other == user => found.user.clone(),
            None => None,
        };
        Ok((other, found))
    }
}

/// The keys of `user`'s session `session`: the user item and the session's end (a `logout`'s
/// mark), to read in the same BatchGetItem as whatever the session asked for.
pub(super) fn session_keys(user: &UserId, session: &str) -> Vec<Item> {
    vec![user_key(user), session_key(user, session)]
}

/// Takes the items of [`session_keys`] out of one BatchGetItem's answer and reads them.
pub(super) fn take_session(
    items: &mut Vec<Item>,
    user: &UserId,
) -> Result<SessionFound, StoreError> {
    let pk = s(user_pk(user));
    let mut found = SessionFound::default();
    let mut i = 0;
    while i < items.len() {
        // Only the user and its session's end (other items under the user, such as its room
        // tally, may come in the same answer).
        let which = match (items[i].get(PK), items[i].get(SK)) {
            (Some(p), Some(AttributeValue::S(sk))) if *p == pk && sk == USER_SK => Some(true),
            (Some(p), Some(AttributeValue::S(sk)))
                if *p == pk && sk.starts_with(SESSION_SK_PREFIX) =>
            {
                Some(false)
            }
            _ => None,
        };
        match which {
            None => i += 1,
            Some(true) => found.user = Some(user_from_item(&items.swap_remove(i))?),
            Some(false) => {
                items.swap_remove(i);
                found.ended = true;
            }
        }
    }
    Ok(found)
}

#[async_trait]
impl SessionWrite for DynamoStore {
    async fn end_session(
        &self,
        user: &UserId,
        session: &str,
        expires_at: i64,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<(), StoreError> {
        let mut item = session_key(user, session);
        item.insert(TTL_ATTRIBUTE.to_owned(), n(expires_at));
        if let Some(guard) = guard {
            // The mark and the caller's standing: one transaction, as the put alone is one call.
            return self.write(vec![guard_check(guard)], vec![item]).await;
        }
        self.client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(super::unavailable)?;
        Ok(())
    }

    async fn end_all_sessions(
        &self,
        user: &UserId,
        audit: Option<&AuditEntry>,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<bool, StoreError> {
        let change = guarded(
            Change::new(user_key(user), "ADD sessions :one").value(":one", n(1)),
            guard,
        );
        let puts = audit.map(audit_item).transpose()?.into_iter().collect();
        match self.write(vec![change], puts).await {
            // Held to a guard: no such (live) user is the guard's refusal too.
            Err(StoreError::Conflict) if guard.is_some() => Err(StoreError::Conflict),
            result => super::applied(result),
        }
    }
}

#[async_trait]
impl LoginThrottle for DynamoStore {
    async fn count_attempt(
        &self,
        counters: &[Counter],
        window: i64,
        expires_at: i64,
    ) -> Result<Vec<bool>, StoreError> {
        // One conditional UpdateItem per counter, at once (each decides its own counts).
        let adds = counters
            .iter()
            .map(|c| self.add_within(throttle_key(&c.key, window), &c.counts, expires_at));
        futures_util::future::join_all(adds)
            .await
            .into_iter()
            .collect()
    }

    async fn forgive_attempt(&self, counters: &[Counter], window: i64) -> Result<(), StoreError> {
        let takes = counters.iter().filter(|c| !c.counts.is_empty()).map(|c| {
            let mut req = self
                .client()
                .update_item()
                .table_name(&self.table)
                .set_key(Some(throttle_key(&c.key, window)))
                .expression_attribute_values(":minus", n(-1))
                .expression_attribute_values(":zero", n(0));
            let mut adds = Vec::with_capacity(c.counts.len());
            let mut held = Vec::with_capacity(c.counts.len());
            for (i, (name, _)) in c.counts.iter().enumerate() {
                req = req.expression_attribute_names(format!("#c{i}"), name);
                adds.push(format!("#c{i} :minus"));
                held.push(format!("#c{i} > :zero"));
            }
            async move {
                match req
                    .update_expression(format!("ADD {}", adds.join(", ")))
                    .condition_expression(held.join(" AND "))
                    .send()
                    .await
                    .map_err(conditional)
                {
                    Ok(_) | Err(StoreError::Conflict) => Ok(()),
                    Err(e) => Err(e),
                }
            }
        });
        futures_util::future::join_all(takes)
            .await
            .into_iter()
            .collect()
    }
}

impl DynamoStore {
    /// Adds one to each of `counts` of item `key` (kept until `expires_at`) if every one is
    /// below its limit: one conditional UpdateItem. Returns whether it was added.
    async fn add_within(
        &self,
        key: Item,
        counts: &[(String, u64)],
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        if counts.is_empty() {
            return Ok(true);
        }
        let mut req = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":ttl", n(expires_at))
            .expression_attribute_values(":one", n(1));
        let mut adds = Vec::with_capacity(counts.len());
        let mut below = Vec::with_capacity(counts.len());
        for (i, (name, limit)) in counts.iter().enumerate() {
            req = req
                .expression_attribute_names(format!("#c{i}"), name)
                .expression_attribute_values(format!(":l{i}"), n(limit));
            adds.push(format!("#c{i} :one"));
            below.push(format!("(attribute_not_exists(#c{i}) OR #c{i} < :l{i})"));
        }
        match req
            .update_expression(format!("SET #ttl = :ttl ADD {}", adds.join(", ")))
            .condition_expression(below.join(" AND "))
            .send()
            .await
            .map_err(conditional)
        {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl NonceClaim for DynamoStore {
    async fn claim_nonce(
        &self,
        user: &UserId,
        nonce: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        self.claim(nonce_key(user, nonce), now, expires_at).await
    }
}

#[async_trait]
impl EventClaim for DynamoStore {
    async fn claim_event(
        &self,
        source: &str,
        id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        self.claim(event_key(source, id), now, expires_at).await
    }

    async fn release_event(&self, source: &str, id: &str) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(event_key(source, id)))
            .send()
            .await
            .map_err(super::unavailable)?;
        Ok(())
    }

    async fn count_signature_use(
        &self,
        source: &str,
        signature: &str,
        expires_at: i64,
    ) -> Result<u64, StoreError> {
        let key = signature_uses_key(source, signature);
        self.add_one(key, SIGNATURE_USES, expires_at).await
    }
}

impl DynamoStore {
    /// Adds one to counter `attribute` of item `key` (kept until `expires_at`) and returns the
    /// new count: one atomic UpdateItem.
    async fn add_one(
        &self,
        key: Item,
        attribute: &str,
        expires_at: i64,
    ) -> Result<u64, StoreError> {
        let out = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression("SET #ttl = :ttl ADD #count :one")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_names("#count", attribute)
            .expression_attribute_values(":ttl", n(expires_at))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(super::unavailable)?;
        let attributes = out.attributes.unwrap_or_default();
        Reader(&attributes).count(attribute)
    }
}

impl DynamoStore {
    /// Puts the claim item `key` until `expires_at` unless an unexpired one exists.
    async fn claim(&self, key: Item, now: i64, expires_at: i64) -> Result<bool, StoreError> {
        let mut item = key;
        item.insert(TTL_ATTRIBUTE.to_owned(), n(expires_at));
        // DynamoDB deletes expired items only eventually: an expired claim counts as none.
        match self
            .client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #ttl < :now")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map_err(conditional)
        {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
