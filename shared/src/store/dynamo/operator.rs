//! The operator plane's items: API keys, audit entries, and an admin's changes of accounts.
//!
//! | item        | `pk`          | `sk`      | index keys                                              |
//! |-------------|---------------|-----------|---------------------------------------------------------|
//! | API key     | `KEY#{id}`    | `KEY`     | `gsi1` partition `KEYS`, sort `{created µs}#{id}`        |
//! | audit entry | `AUDIT`       | `{id}`    | `gsi1` `AUDIT#ROOM#{room}` / `{id}`; `gsi3` `AUDIT#ACTOR#{kind}#{id}` / `{id}` |
//! | user        | (`users.rs`)  |           | `gsi1` partition `USERS`, sort `{username key}#{id}` (live users) |
//!
//! Ids of audit entries sort by time, so each of the three reads of the log (by time on the
//! table, by room and by actor on an index) is one `Query`, newest first. One partition holds
//! every entry by time: operator actions are rare next to DynamoDB's 1,000 writes per second
//! per partition.
//!
//! Never here: who may operate, or what an entry says (that is the `admin` feature).

use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::accounts::LIVE_USER;
use super::change::Change;
use super::codec::{Reader, time, user_from_item};
use super::schema::{GSI_ALL, GSI_ANCHOR, Item, PK, SK, TTL_ATTRIBUTE, n, s, user_key};
use super::{DynamoStore, conditional, unavailable};
use crate::domain::audit::{AuditEntry, AuditQuery, AuditScope};
use crate::domain::operator::{ApiKey, KeyId, KeyName, Role, Scope, SecretHash};
use crate::domain::user::User;
use crate::domain::{UserId, Username};
use crate::store::{
    AccountChange, AuditRead, KeyList, KeyRead, KeyTouch, KeyWrite, StoreError, UserAdmin, UserList,
};

const AUDIT_PK: &str = "AUDIT";
const KEY_SK: &str = "KEY";
const KEYS_PARTITION: &str = "KEYS";
/// The users' listing partition on `gsi1`.
pub(super) const USERS_PARTITION: &str = "USERS";
/// The index of the log by actor (`gsi3`, rooms by anchor otherwise).
const BY_ACTOR: super::schema::Index = GSI_ANCHOR;
/// The index of the log by room (`gsi1`, every room otherwise).
const BY_ROOM: super::schema::Index = GSI_ALL;

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn key_key(id: &KeyId) -> Item {
    Item::from([
        (PK.to_owned(), s(format!("KEY#{id}"))),
        (SK.to_owned(), s(KEY_SK)),
    ])
}

/// The users' listing keys of a live user.
pub(super) fn user_listing(username: &Username, id: &UserId) -> [(String, AttributeValue); 2] {
    [
        (GSI_ALL.pk.to_owned(), s(USERS_PARTITION)),
        (GSI_ALL.sk.to_owned(), s(format!("{}#{id}", username.key()))),
    ]
}

fn actor_partition(kind: &str, id: &str) -> String {
    format!("AUDIT#ACTOR#{kind}#{id}")
}

fn room_partition(room: &str) -> String {
    format!("AUDIT#ROOM#{room}")
}

/// The item of an audit entry (put in the transaction of the change it records).
pub(super) fn audit_item(entry: &AuditEntry) -> Result<Item, StoreError> {
    let json = serde_json::to_string(entry).map_err(corrupt)?;
    let mut item = Item::from([
        (PK.to_owned(), s(AUDIT_PK)),
        (SK.to_owned(), s(&entry.id)),
        ("entry".to_owned(), s(json)),
        ("action".to_owned(), s(entry.action.as_str())),
        (TTL_ATTRIBUTE.to_owned(), n(entry.expires_at)),
        (
            BY_ACTOR.pk.to_owned(),
            s(actor_partition(entry.actor.kind.as_str(), &entry.actor.id)),
        ),
        (BY_ACTOR.sk.to_owned(), s(&entry.id)),
    ]);
    if let Some(room) = &entry.room_id {
        item.insert(BY_ROOM.pk.to_owned(), s(room_partition(room)));
        item.insert(BY_ROOM.sk.to_owned(), s(&entry.id));
    }
    Ok(item)
}

fn audit_from_item(item: &Item) -> Result<AuditEntry, StoreError> {
    let r = Reader(item);
    let mut entry: AuditEntry = serde_json::from_str(r.str("entry")?).map_err(corrupt)?;
    entry.expires_at = r.opt_num(TTL_ATTRIBUTE)?.unwrap_or_default();
    Ok(entry)
}

fn key_item(key: &ApiKey) -> Item {
    let mut item = key_key(&key.key_id);
    item.extend([
        ("key_id".to_owned(), s(key.key_id.as_str())),
        ("name".to_owned(), s(key.name.as_str())),
        (
            "scopes".to_owned(),
            AttributeValue::Ss(key.scopes.iter().map(|s| s.name().to_owned()).collect()),
        ),
        ("hash".to_owned(), s(key.hash.as_str())),
        ("created_at".to_owned(), time(&key.created_at)),
        ("created_by".to_owned(), s(&key.created_by)),
        (GSI_ALL.pk.to_owned(), s(KEYS_PARTITION)),
        (
            GSI_ALL.sk.to_owned(),
            s(format!(
                "{:020}#{}",
                key.created_at.timestamp_micros(),
                key.key_id
            )),
        ),
    ]);
    item
}

fn key_from_item(item: &Item) -> Result<ApiKey, StoreError> {
    let r = Reader(item);
    let scopes = match item.get("scopes") {
        Some(AttributeValue::Ss(names)) => names
            .iter()
            .map(|n| Scope::parse_for_key(n).map_err(corrupt))
            .collect::<Result<BTreeSet<_>, _>>()?,
        _ => return Err(corrupt("scopes: not a string set")),
    };
    Ok(ApiKey {
        key_id: KeyId::parse(r.str("key_id")?).map_err(corrupt)?,
        name: KeyName::parse(r.str("name")?).map_err(corrupt)?,
        scopes,
        hash: SecretHash::stored(r.str("hash")?).ok_or_else(|| corrupt("hash"))?,
        created_at: r.time("created_at")?,
        created_by: r.str("created_by")?.to_owned(),
        last_used_at: r.opt_time("last_used_at")?,
        revoked_at: r.opt_time("revoked_at")?,
    })
}

#[async_trait]
impl KeyRead for DynamoStore {
    async fn key(&self, id: &KeyId) -> Result<Option<ApiKey>, StoreError> {
        self.get(key_key(id))
            .await?
            .map(|item| key_from_item(&item))
            .transpose()
    }
}

#[async_trait]
impl KeyList for DynamoStore {
    async fn keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let query = self
            .client()
            .query()
            .table_name(&self.table)
            .index_name(GSI_ALL.name)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", GSI_ALL.pk)
            .expression_attribute_values(":pk", s(KEYS_PARTITION))
            .scan_index_forward(false);
        self.query_all(query)
            .await?
            .iter()
            .map(key_from_item)
            .collect()
    }
}

#[async_trait]
impl KeyWrite for DynamoStore {
    async fn insert_key(&self, key: &ApiKey, audit: &AuditEntry) -> Result<(), StoreError> {
        let items = vec![
            super::change::put(key_item(key), &self.table, Some("attribute_not_exists(pk)"))?,
            super::change::put(audit_item(audit)?, &self.table, None)?,
        ];
        self.transact(items).await
    }

    async fn revoke_key(
        &self,
        id: &KeyId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let change = Change::new(key_key(id), "SET revoked_at = :at")
            .condition("attribute_exists(pk) AND attribute_not_exists(revoked_at)")
            .value(":at", time(&at));
        self.write(vec![change], vec![audit_item(audit)?]).await
    }
}

#[async_trait]
impl KeyTouch for DynamoStore {
    async fn touch_key(
        &self,
        id: &KeyId,
        at: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let result = self
            .client()
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_key(id)))
            .update_expression("SET last_used_at = :at")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(last_used_at) \
                 OR last_used_at < :stale)",
            )
            .expression_attribute_values(":at", time(&at))
            .expression_attribute_values(":stale", time(&stale_before))
            .send()
            .await
            .map_err(conditional);
        match result {
            Ok(_) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl AuditRead for DynamoStore {
    async fn audit(
        &self,
        query: &AuditQuery,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError> {
        let (index, pk_name, sk_name, partition) = match &query.scope {
            AuditScope::All => (None, PK, SK, AUDIT_PK.to_owned()),
            AuditScope::Room(room) => (
                Some(BY_ROOM.name),
                BY_ROOM.pk,
                BY_ROOM.sk,
                room_partition(room),
            ),
            AuditScope::Actor(kind, id) => (
                Some(BY_ACTOR.name),
                BY_ACTOR.pk,
                BY_ACTOR.sk,
                actor_partition(kind.as_str(), id),
            ),
        };
        // Newest first: the upper bound is the page's start (just below the last id shown).
        let upper = match (&query.after, &query.until) {
            (Some(a), Some(u)) => Some(a.min(u).clone()),
            (Some(a), None) => Some(a.clone()),
            (None, u) => u.clone(),
        };
        let below_after = query.after.is_some() && upper == query.after;
        let mut condition = "#pk = :pk".to_owned();
        let mut filters: Vec<&str> = Vec::new();
        let mut req = self
            .client()
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_owned))
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", s(partition))
            .scan_index_forward(false)
            .limit(i32::try_from(query.limit).unwrap_or(100));
        match (&query.from, &upper) {
            (Some(from), Some(upper)) if !below_after => {
                condition.push_str(" AND #sk BETWEEN :from AND :upper");
                req = req
                    .expression_attribute_values(":from", s(from))
                    .expression_attribute_values(":upper", s(upper));
            }
            (from, Some(upper)) => {
                // `after` is exclusive (ids strictly below it): one bound of the key; a `from`
                // is then a filter (a key condition has one range).
                condition.push_str(if below_after {
                    " AND #sk < :upper"
                } else {
                    " AND #sk <= :upper"
                });
                req = req.expression_attribute_values(":upper", s(upper));
                if let Some(from) = from {
                    filters.push("#sk >= :from");
                    req = req.expression_attribute_values(":from", s(from));
                }
            }
            (Some(from), None) => {
                condition.push_str(" AND #sk >= :from");
                req = req.expression_attribute_values(":from", s(from));
            }
            (None, None) => {}
        }
        if let Some((kind, id)) = &query.actor {
            filters.push("#actor = :actor");
            req = req
                .expression_attribute_names("#actor", BY_ACTOR.pk)
                .expression_attribute_values(":actor", s(actor_partition(kind.as_str(), id)));
        }
        if let Some(action) = query.action {
            filters.push("#action = :action");
            req = req
                .expression_attribute_names("#action", "action")
                .expression_attribute_values(":action", s(action.as_str()));
        }
        if !filters.is_empty() {
            req = req.filter_expression(filters.join(" AND "));
        }
        // DynamoDB refuses a name the expressions do not use.
        if condition.contains("#sk") || filters.iter().any(|f| f.contains("#sk")) {
            req = req.expression_attribute_names("#sk", sk_name);
        }
        let out = req
            .key_condition_expression(condition)
            .send()
            .await
            .map_err(unavailable)?;
        let entries = out
            .items
            .unwrap_or_default()
            .iter()
            .map(audit_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        // More may follow where the read stopped (a filter can make a page short).
        let next = out
            .last_evaluated_key
            .and_then(|key| match key.get(sk_name) {
                Some(AttributeValue::S(id)) => Some(id.clone()),
                _ => None,
            });
        Ok((entries, next))
    }
}

#[async_trait]
impl UserAdmin for DynamoStore {
    async fn change_account(
        &self,
        id: &UserId,
        change: &AccountChange,
        unless_admin: bool,
        audit: &AuditEntry,
    ) -> Result<Option<User>, StoreError> {
        let mut condition = LIVE_USER.to_owned();
        let update = match change {
            AccountChange::Disable(d) => Change::new(
                user_key(id),
                "SET disabled_at = :at, disabled_reason = :reason ADD sessions :one",
            )
            .value(":at", time(&d.at))
            .value(":reason", s(d.reason.as_str()))
            .value(":one", n(1)),
            AccountChange::Enable => {
                Change::new(user_key(id), "REMOVE disabled_at, disabled_reason")
            }
            AccountChange::Roles(roles) if roles.is_empty() => {
                Change::new(user_key(id), "REMOVE #roles").name("#roles", "roles")
            }
            AccountChange::Roles(roles) => Change::new(user_key(id), "SET #roles = :roles")
                .name("#roles", "roles")
                .value(
                    ":roles",
                    AttributeValue::Ss(roles.iter().map(|r| r.name().to_owned()).collect()),
                ),
        };
        let mut update = update;
        if unless_admin {
            condition.push_str(" AND NOT contains(#roles, :admin)");
            update = update
                .name("#roles", "roles")
                .value(":admin", s(Role::Admin.name()));
        }
        let update = update.condition(condition);
        // A transaction returns no item: the user is read back (strongly consistent).
        match self.write(vec![update], vec![audit_item(audit)?]).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return match self.get(user_key(id)).await? {
                    Some(item) if !item.contains_key("deleted_at") => Err(StoreError::Conflict),
                    _ => Ok(None),
                };
            }
            Err(e) => return Err(e),
        }
        self.get(user_key(id))
            .await?
            .map(|item| user_from_item(&item))
            .transpose()
    }
}

#[async_trait]
impl UserList for DynamoStore {
    async fn users(
        &self,
        prefix: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<User>, StoreError> {
        let wanted = offset + limit;
        let mut req = self
            .client()
            .query()
            .table_name(&self.table)
            .index_name(GSI_ALL.name)
            .expression_attribute_names("#pk", GSI_ALL.pk)
            .expression_attribute_values(":pk", s(USERS_PARTITION))
            .limit(i32::try_from(wanted.min(1000)).unwrap_or(1000));
        req = if prefix.is_empty() {
            req.key_condition_expression("#pk = :pk")
        } else {
            req.key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", GSI_ALL.sk)
                .expression_attribute_values(":prefix", s(prefix.to_ascii_lowercase()))
        };
        let mut users = Vec::new();
        let mut start = None;
        while users.len() < wanted {
            let out = req
                .clone()
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.items.unwrap_or_default() {
                users.push(user_from_item(&item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(users
            .into_iter()
            .filter(|u| !u.is_deleted())
            .skip(offset)
            .take(limit)
            .collect())
    }
}
