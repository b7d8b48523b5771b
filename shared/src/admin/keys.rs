//! API keys: an admin creates one (its secret shown once, only its hash kept), lists them and
//! revokes one (refused at once from then on).
//!
//! Never here: checking a presented key (that is `operator`).

use std::collections::BTreeSet;

use lambda_http::Request;
use serde::{Deserialize, Serialize};

use super::invalid;
use crate::App;
use crate::domain::FieldError;
use crate::domain::audit::{Action, Target, TargetKind};
use crate::domain::operator::{ApiKey, KeyId, KeyName, NewKey, Scope};
use crate::endpoint::{Endpoint, Handler, Route, json, parse_optional_body};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::operator::{operated, operator};
use crate::store::{Store, StoreError};

/// A key as listed: never its secret or hash.
#[derive(Debug, Serialize)]
pub struct KeyView {
    pub key_id: String,
    pub name: String,
    pub scopes: Vec<&'static str>,
    pub created_at: String,
    pub created_by: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<&ApiKey> for KeyView {
    fn from(key: &ApiKey) -> Self {
        Self {
            key_id: key.key_id.to_string(),
            name: key.name.as_str().to_owned(),
            scopes: key.scopes.iter().map(|s| s.name()).collect(),
            created_at: crate::clock::rfc3339(&key.created_at),
            created_by: key.created_by.clone(),
            last_used_at: key.last_used_at.as_ref().map(crate::clock::rfc3339),
            revoked_at: key.revoked_at.as_ref().map(crate::clock::rfc3339),
        }
    }
}

fn key_target(id: &KeyId) -> Target {
    Target {
        kind: TargetKind::Key,
        id: id.to_string(),
    }
}

/// `createKey {name, scopes}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    pub name: String,
    pub scopes: Vec<String>,
}

/// The new key: its secret, shown this once.
#[derive(Debug, Serialize)]
pub struct CreatedKey {
    pub key_id: String,
    pub secret: String,
    pub name: String,
    pub scopes: Vec<&'static str>,
    pub created_at: String,
}

crate::needs!(
    /// `createKey`, `revokeKey`: the admin, one write with its audit entry.
    KeyWriteStore,
    KEY_WRITE_NEEDS: SessionRead,
    KeyRead,
    KeyTouch,
    KeyWrite
);

/// `POST /api/v1/admin/createKey`: a key for a machine, with the scopes given.
pub struct AdminCreateKey;

impl Handler for AdminCreateKey {
    const ENDPOINT: Endpoint = Endpoint::new(
        "admin-create-key",
        &[Route::post("/api/v1/admin/createKey")],
    )
    .with_needs(KEY_WRITE_NEEDS)
    .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (op, body): (_, CreateKeyRequest) =
            operated(app, Self::ENDPOINT, &req, Scope::Admin).await?;
        let name = KeyName::parse(&body.name).map_err(invalid)?;
        if body.scopes.is_empty() || body.scopes.len() > Scope::ALL.len() {
            return Err(invalid(FieldError::new(
                "scopes",
                "must name 1 to 5 scopes",
            )));
        }
        let scopes = body
            .scopes
            .iter()
            .map(|s| Scope::parse_for_key(s))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(invalid)?;
        if scopes.len() != body.scopes.len() {
            return Err(invalid(FieldError::new(
                "scopes",
                "must name each scope once",
            )));
        }
        let new = NewKey::generate().map_err(ApiError::internal)?;
        let key = ApiKey {
            key_id: new.key_id.clone(),
            name,
            scopes,
            hash: new.hash,
            created_at: app.clock.now(),
            created_by: op.actor.id.clone(),
            last_used_at: None,
            revoked_at: None,
        };
        let audit = op
            .entry(app, Action::KeyCreate, key_target(&key.key_id))
            .detail("name", key.name.as_str())
            .detail(
                "scopes",
                key.scopes.iter().map(|s| s.name()).collect::<Vec<_>>(),
            );
        app.store.insert_key(&key, &audit).await?;
        json(&CreatedKey {
            key_id: key.key_id.to_string(),
            secret: new.secret,
            name: key.name.as_str().to_owned(),
            scopes: key.scopes.iter().map(|s| s.name()).collect(),
            created_at: crate::clock::rfc3339(&key.created_at),
        })
    }
}

#[derive(Debug, Serialize)]
pub struct KeysResponse {
    pub keys: Vec<KeyView>,
}

crate::needs!(
    /// `keys`: the admin, then one listing read.
    KeysStore,
    KEYS_NEEDS: SessionRead,
    KeyRead,
    KeyTouch,
    KeyList
);

/// `POST /api/v1/admin/keys`: every key, newest first (revoked ones included).
pub struct AdminKeys;

impl Handler for AdminKeys {
    const ENDPOINT: Endpoint = Endpoint::new("admin-keys", &[Route::post("/api/v1/admin/keys")])
        .with_needs(KEYS_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        operator(app, &req, Some(Scope::Admin)).await?;
        let _: serde::de::IgnoredAny = parse_optional_body(app, Self::ENDPOINT, &req)?;
        let keys = app.store.keys().await?;
        json(&KeysResponse {
            keys: keys.iter().map(KeyView::from).collect(),
        })
    }
}

/// `revokeKey {key_id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeKeyRequest {
    pub key_id: String,
}

/// `POST /api/v1/admin/revokeKey`: the key is refused from now on. Revoking a revoked key
/// answers it as it is.
pub struct AdminRevokeKey;

impl Handler for AdminRevokeKey {
    const ENDPOINT: Endpoint = Endpoint::new(
        "admin-revoke-key",
        &[Route::post("/api/v1/admin/revokeKey")],
    )
    .with_needs(KEY_WRITE_NEEDS)
    .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (op, body): (_, RevokeKeyRequest) =
            operated(app, Self::ENDPOINT, &req, Scope::Admin).await?;
        let id = KeyId::parse(&body.key_id).map_err(invalid)?;
        let no_key = || ApiError::new(ErrorCode::UserNotExists, "no such key");
        let key = app.store.key(&id).await?.ok_or_else(no_key)?;
        if key.is_revoked() {
            return json(&KeyView::from(&key));
        }
        let now = app.clock.now();
        let audit = op.entry(app, Action::KeyRevoke, key_target(&id));
        match app.store.revoke_key(&id, now, &audit).await {
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
        let key = app.store.key(&id).await?.ok_or_else(no_key)?;
        json(&KeyView::from(&key))
    }
}
