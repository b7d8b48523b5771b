//! The operator plane's items: API keys, audit entries, and an admin's changes of accounts
//! (their keys: `schema.rs`).
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
use super::schema::{
    AUDIT_BY_ACTOR, AUDIT_BY_ROOM, AUDIT_PK, GSI_ALL, Item, KEYS_PARTITION, PK, SK, TTL_ATTRIBUTE,
    USERS_PARTITION, audit_actor_partition, audit_room_partition, key_key, n, s, user_key,
};
use super::{DynamoStore, conditional, unavailable};
use crate::domain::UserId;
use crate::domain::audit::{AuditEntry, AuditQuery, AuditScope};
use crate::domain::operator::{AccountChange, ApiKey, KeyId, KeyName, Role, Scope, SecretHash};
use crate::domain::user::User;
use crate::store::{
    AuditRead, KeyList, KeyRead, KeyTouch, KeyWrite, MAX_KEYS_REVOKED, StoreError, UserAdmin,
    UserList,
};

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
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
            AUDIT_BY_ACTOR.pk.to_owned(),
            s(audit_actor_partition(
                entry.actor.kind.as_str(),
                &entry.actor.id,
            )),
        ),
        (AUDIT_BY_ACTOR.sk.to_owned(), s(&entry.id)),
    ]);
    if let Some(room) = &entry.room_id {
        item.insert(AUDIT_BY_ROOM.pk.to_owned(), s(audit_room_partition(room)));
        item.insert(AUDIT_BY_ROOM.sk.to_owned(), s(&entry.id));
    }
    Ok(item)
}

pub(super) fn audit_from_item(item: &Item) -> Result<AuditEntry, StoreError> {
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
        let (index, partition) = match &query.scope {
            AuditScope::All => (None, AUDIT_PK.to_owned()),
            AuditScope::Room(room) => (Some(AUDIT_BY_ROOM), audit_room_partition(room)),
            AuditScope::Actor(kind, id) => (
                Some(AUDIT_BY_ACTOR),
                audit_actor_partition(kind.as_str(), id),
            ),
        };
        let (pk_name, sk_name) = index.map_or((PK, SK), |i| (i.pk, i.sk));
        // A page goes on from the last id of the one before: the table's key of that entry,
        // and its key on the index read.
        let start = query.after.as_ref().map(|after| {
            let mut key = Item::from([(PK.to_owned(), s(AUDIT_PK)), (SK.to_owned(), s(after))]);
            if let Some(index) = index {
                key.insert(index.pk.to_owned(), s(&partition));
                key.insert(index.sk.to_owned(), s(after));
            }
            key
        });
        let mut filters = vec!["#ttl > :now"];
        let mut req = self
            .client()
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(|i| i.name.to_owned()))
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :until")
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_names("#sk", sk_name)
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":pk", s(partition.clone()))
            .expression_attribute_values(":from", s(&query.from))
            .expression_attribute_values(":until", s(&query.until))
            // DynamoDB's TTL deletes within days, not at once: an expired entry is not read.
            .expression_attribute_values(":now", n(query.now))
            .set_exclusive_start_key(start)
            .scan_index_forward(false)
            .limit(i32::try_from(query.limit).unwrap_or(100));
        if let Some((kind, id)) = &query.actor {
            filters.push("#actor = :actor");
            req = req
                .expression_attribute_names("#actor", AUDIT_BY_ACTOR.pk)
                .expression_attribute_values(":actor", s(audit_actor_partition(kind.as_str(), id)));
        }
        if let Some(action) = query.action {
            filters.push("#action = :action");
            req = req
                .expression_attribute_names("#action", "action")
                .expression_attribute_values(":action", s(action.as_str()));
        }
        let req = req.filter_expression(filters.join(" AND "));
        let out = req.send().await.map_err(unavailable)?;
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
        revoke: &[KeyId],
    ) -> Result<bool, StoreError> {
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
        let mut changes = vec![update];
        changes.extend(revoke.iter().take(MAX_KEYS_REVOKED).map(|key| {
            Change::new(
                key_key(key),
                "SET revoked_at = if_not_exists(revoked_at, :at)",
            )
            .condition("attribute_exists(pk)")
            .value(":at", time(&audit.at))
        }));
        match self.write(changes, vec![audit_item(audit)?]).await {
            Ok(()) => Ok(true),
            // Which condition failed: no live user, or (only then) the admin role.
            Err(StoreError::Conflict) => match self.get(user_key(id)).await? {
                Some(item) if !item.contains_key("deleted_at") => Err(StoreError::Conflict),
                _ => Ok(false),
            },
            Err(e) => Err(e),
        }
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
