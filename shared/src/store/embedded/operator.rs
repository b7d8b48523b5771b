//! The operator plane's records: API keys, the audit log (by time, and indexed by room and by
//! actor, as the DynamoDB store's indexes), and an admin's changes of accounts. The users'
//! listing is the `usernames` table, in username order.
//!
//! | table            | key                         | value             |
//! |------------------|-----------------------------|-------------------|
//! | `api_keys`       | key id                      | `ApiKey` JSON     |
//! | `audit`          | entry id (sorts by time)    | `AuditEntry` JSON |
//! | `audit_by_room`  | `{room}|{id}`               | entry id          |
//! | `audit_by_actor` | `{kind}#{actor}|{id}`       | entry id          |
//!
//! An entry past its retention (`expires_at`, as DynamoDB's TTL) is not read.
//!
//! Never here: who may operate, or what an entry says (that is the `admin` feature).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::{EmbeddedStore, USERNAMES, USERS, end_of, pair_key, record};
use crate::domain::UserId;
use crate::domain::audit::{AuditEntry, AuditQuery, AuditScope};
use crate::domain::operator::{AccountChange, ApiKey, KeyId, Role};
use crate::domain::user::User;
use crate::store::{
    AuditRead, KeyList, KeyRead, KeyTouch, KeyWrite, MAX_KEYS_REVOKED, StoreError, UserAdmin,
    UserList,
};

pub(super) const API_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("api_keys");
pub(super) const AUDIT: TableDefinition<&str, &[u8]> = TableDefinition::new("audit");
pub(super) const AUDIT_BY_ROOM: TableDefinition<&str, &str> = TableDefinition::new("audit_by_room");
pub(super) const AUDIT_BY_ACTOR: TableDefinition<&str, &str> =
    TableDefinition::new("audit_by_actor");

/// JSON (entries hold free-form details, which a binary record cannot).
fn json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn actor_key(kind: &str, id: &str) -> String {
    format!("{kind}#{id}")
}

/// Puts `audit` (if any) in the write transaction `txn`: the change's own transaction.
pub(super) fn put_audit(
    txn: &WriteTransaction,
    audit: Option<&AuditEntry>,
) -> Result<(), StoreError> {
    let Some(entry) = audit else {
        return Ok(());
    };
    // Retention is a field of the stored form here (DynamoDB keeps it as the TTL attribute).
    let stored = Stored {
        entry: entry.clone(),
        expires_at: entry.expires_at,
    };
    txn.open_table(AUDIT)?
        .insert(entry.id.as_str(), json(&stored)?.as_slice())?;
    if let Some(room) = &entry.room_id {
        txn.open_table(AUDIT_BY_ROOM)?
            .insert(pair_key(room, &entry.id).as_str(), entry.id.as_str())?;
    }
    txn.open_table(AUDIT_BY_ACTOR)?.insert(
        pair_key(
            &actor_key(entry.actor.kind.as_str(), &entry.actor.id),
            &entry.id,
        )
        .as_str(),
        entry.id.as_str(),
    )?;
    Ok(())
}

/// The key under `id` in `keys`, decoded.
fn read_key(
    keys: &impl ReadableTable<&'static str, &'static [u8]>,
    id: &KeyId,
) -> Result<Option<ApiKey>, StoreError> {
    keys.get(id.as_str())?
        .map(|v| from_json(v.value()))
        .transpose()
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    entry: AuditEntry,
    expires_at: i64,
}

/// Up to `limit` audit entries with ids after `after`, oldest first (the `audit` webhook's
/// feed, `outbox`).
pub(super) fn audit_after(
    txn: &redb::ReadTransaction,
    after: &str,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let audit = txn.open_table(AUDIT)?;
    let low = format!("{after}\u{0}");
    let mut entries = Vec::new();
    for row in audit.range(low.as_str()..)? {
        if entries.len() == limit {
            break;
        }
        let stored: Stored = from_json(row?.1.value())?;
        let mut entry = stored.entry;
        entry.expires_at = stored.expires_at;
        entries.push(entry);
    }
    Ok(entries)
}

#[async_trait]
impl KeyRead for EmbeddedStore {
    async fn key(&self, id: &KeyId) -> Result<Option<ApiKey>, StoreError> {
        let id = id.clone();
        self.read(move |txn| read_key(&txn.open_table(API_KEYS)?, &id))
            .await
    }
}

#[async_trait]
impl KeyList for EmbeddedStore {
    async fn keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        self.read(move |txn| {
            let keys = txn.open_table(API_KEYS)?;
            let mut all = keys
                .iter()?
                .map(|row| from_json::<ApiKey>(row?.1.value()))
                .collect::<Result<Vec<_>, _>>()?;
            all.sort_by(|a, b| (b.created_at, &b.key_id).cmp(&(a.created_at, &a.key_id)));
            Ok(all)
        })
        .await
    }
}

#[async_trait]
impl KeyWrite for EmbeddedStore {
    async fn insert_key(&self, key: &ApiKey, audit: &AuditEntry) -> Result<(), StoreError> {
        let (key, audit) = (key.clone(), audit.clone());
        self.write(move |txn| {
            let mut keys = txn.open_table(API_KEYS)?;
            if keys.get(key.key_id.as_str())?.is_some() {
                return Err(StoreError::Conflict);
            }
            keys.insert(key.key_id.as_str(), json(&key)?.as_slice())?;
            put_audit(txn, Some(&audit))
        })
        .await
    }

    async fn revoke_key(
        &self,
        id: &KeyId,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(), StoreError> {
        let (id, audit) = (id.clone(), audit.clone());
        self.write(move |txn| {
            let mut keys = txn.open_table(API_KEYS)?;
            let Some(mut key) = read_key(&keys, &id)?.filter(|k| !k.is_revoked()) else {
                return Err(StoreError::Conflict);
            };
            key.revoked_at = Some(at);
            keys.insert(id.as_str(), json(&key)?.as_slice())?;
            put_audit(txn, Some(&audit))
        })
        .await
    }
}

#[async_trait]
impl KeyTouch for EmbeddedStore {
    async fn touch_key(
        &self,
        id: &KeyId,
        at: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |txn| {
            let mut keys = txn.open_table(API_KEYS)?;
            if let Some(mut key) = read_key(&keys, &id)?
                && key.last_used_at.is_none_or(|t| t < stale_before)
            {
                key.last_used_at = Some(at);
                keys.insert(id.as_str(), json(&key)?.as_slice())?;
            }
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl AuditRead for EmbeddedStore {
    async fn audit(
        &self,
        query: &AuditQuery,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError> {
        let query = query.clone();
        self.read(move |txn| {
            let audit = txn.open_table(AUDIT)?;
            let (prefix, index) = match &query.scope {
                AuditScope::All => (String::new(), None),
                AuditScope::Room(room) => (format!("{room}|"), Some(AUDIT_BY_ROOM)),
                AuditScope::Actor(kind, id) => (
                    format!("{}|", actor_key(kind.as_str(), id)),
                    Some(AUDIT_BY_ACTOR),
                ),
            };
            // Ids in [from, until], newest first, strictly below `after`.
            let low = format!("{prefix}{}", query.from);
            let mut high = format!("{prefix}{}~", query.until);
            if let Some(after) = &query.after {
                high = high.min(format!("{prefix}{after}"));
            }
            let by_index = index.map(|table| txn.open_table(table)).transpose()?;
            let range = low.as_str()..high.as_str();
            let ids: Box<dyn Iterator<Item = Result<String, StoreError>>> = match &by_index {
                None => Box::new(
                    audit
                        .range(range)?
                        .rev()
                        .map(|row| Ok(row?.0.value().to_owned())),
                ),
                Some(table) => Box::new(
                    table
                        .range(range)?
                        .rev()
                        .map(|row| Ok(row?.1.value().to_owned())),
                ),
            };
            let mut entries = Vec::new();
            let mut last = None;
            for id in ids {
                let id = id?;
                if entries.len() == query.limit {
                    return Ok((entries, last));
                }
                last = Some(id.clone());
                let Some(stored) = audit
                    .get(id.as_str())?
                    .map(|v| from_json::<Stored>(v.value()))
                    .transpose()?
                else {
                    continue;
                };
                let actor = &stored.entry.actor;
                if stored.expires_at <= query.now
                    || query.action.is_some_and(|a| a != stored.entry.action)
                    || query
                        .actor
                        .as_ref()
                        .is_some_and(|(kind, id)| *kind != actor.kind || *id != actor.id)
                {
                    continue;
                }
                let mut entry = stored.entry;
                entry.expires_at = stored.expires_at;
                entries.push(entry);
            }
            Ok((entries, None))
        })
        .await
    }
}

#[async_trait]
impl UserAdmin for EmbeddedStore {
    async fn change_account(
        &self,
        id: &UserId,
        change: &AccountChange,
        unless_admin: bool,
        audit: &AuditEntry,
        revoke: &[KeyId],
    ) -> Result<bool, StoreError> {
        let (id, change, audit) = (id.clone(), change.clone(), audit.clone());
        let revoke: Vec<KeyId> = revoke.iter().take(MAX_KEYS_REVOKED).cloned().collect();
        self.write(move |txn| {
            let mut users = txn.open_table(USERS)?;
            let Some(mut user) = record::<User>(&users, id.as_str())?.filter(|u| !u.is_deleted())
            else {
                return Ok(false);
            };
            if unless_admin && user.roles.contains(&Role::Admin) {
                return Err(StoreError::Conflict);
            }
            change.apply(&mut user);
            users.insert(id.as_str(), super::encode(&user)?.as_slice())?;
            let mut keys = txn.open_table(API_KEYS)?;
            for key_id in &revoke {
                let Some(mut key) = read_key(&keys, key_id)? else {
                    return Err(StoreError::Conflict);
                };
                if key.revoked_at.is_none() {
                    key.revoked_at = Some(audit.at);
                    keys.insert(key_id.as_str(), json(&key)?.as_slice())?;
                }
            }
            drop(keys);
            put_audit(txn, Some(&audit))?;
            Ok(true)
        })
        .await
    }
}

#[async_trait]
impl UserList for EmbeddedStore {
    async fn users(
        &self,
        prefix: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<User>, StoreError> {
        let prefix = prefix.to_ascii_lowercase();
        self.read(move |txn| {
            let names = txn.open_table(USERNAMES)?;
            let users = txn.open_table(USERS)?;
            let mut out = Vec::new();
            let mut skipped = 0;
            for row in names.range(prefix.as_str()..end_of(&prefix).as_str())? {
                let (_, id) = row?;
                let Some(user) = record::<User>(&users, id.value())? else {
                    continue;
                };
                if user.is_deleted() {
                    continue;
                }
                if skipped < offset {
                    skipped += 1;
                    continue;
                }
                out.push(user);
                if out.len() == limit {
                    break;
                }
            }
            Ok(out)
        })
        .await
    }
}
