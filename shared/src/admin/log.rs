//! `whoami` (who the caller is, and may do) and `audit` (the log, newest first, by room, by
//! actor or by time: one range read).
//!
//! Never here: writing the log (every change writes its own entry).

use lambda_http::Request;
use serde::{Deserialize, Serialize};

use super::{ActorView, invalid};
use crate::App;
use crate::domain::FieldError;
use crate::domain::audit::{Action, ActorKind, AuditEntry, AuditQuery, AuditScope};
use crate::domain::operator::Scope;
use crate::endpoint::{Endpoint, Handler, Route, json, parse_optional_body};
use crate::env::SecretGroups;
use crate::error::ApiError;
use crate::operator::{OPERATOR_NEEDS, operated, operator};
use crate::store::Store;

#[derive(Debug, Serialize)]
pub struct WhoamiResponse {
    pub actor: ActorView,
    pub roles: Vec<&'static str>,
    pub scopes: Vec<&'static str>,
}

/// `POST /api/v1/admin/whoami`: the operator calling, its roles and scopes.
pub struct AdminWhoami;

impl Handler for AdminWhoami {
    const ENDPOINT: Endpoint =
        Endpoint::new("admin-whoami", &[Route::post("/api/v1/admin/whoami")])
            .with_needs(OPERATOR_NEEDS)
            .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let op = operator(app, &req, None).await?;
        let _: serde::de::IgnoredAny = parse_optional_body(app, Self::ENDPOINT, &req)?;
        json(&WhoamiResponse {
            actor: ActorView {
                kind: op.actor.kind.as_str(),
                id: op.actor.id.clone(),
            },
            roles: op.roles.iter().map(|r| r.name()).collect(),
            scopes: op.scopes.iter().map(|s| s.name()).collect(),
        })
    }
}

/// `audit {room_id?, actor_id?, action?, since?, until?, limit, next_token?}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRequest {
    pub room_id: Option<String>,
    /// `user:<id>`, `key:<id>`, `system:<what>`, or a bare user id.
    pub actor_id: Option<String>,
    pub action: Option<String>,
    /// RFC 3339: entries at or after.
    pub since: Option<String>,
    /// RFC 3339: entries at or before.
    pub until: Option<String>,
    pub limit: Option<i64>,
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AuditResponse {
    pub entries: Vec<AuditEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// An RFC 3339 time in field `field`.
pub(super) fn time(
    field: &'static str,
    value: &str,
) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| invalid(FieldError::new(field, "must be an RFC 3339 time")))
}

/// An entry id as a page token: 13 digits then 8 hex (nothing else is a token).
fn token(value: &str) -> Result<String, ApiError> {
    let bytes = value.as_bytes();
    let ok = bytes.len() == 21
        && bytes[..13].iter().all(u8::is_ascii_digit)
        && bytes[13..].iter().all(u8::is_ascii_hexdigit);
    if ok {
        Ok(value.to_owned())
    } else {
        Err(invalid(FieldError::new(
            "next_token",
            "is not a token this server gave",
        )))
    }
}

/// `user:<id>`, `key:<id>`, `system:<name>`, or anything else as a user id.
fn actor_of(actor: &str) -> Result<(ActorKind, String), ApiError> {
    let (kind, id) = match actor.split_once(':') {
        Some(("user", id)) => (ActorKind::User, id),
        Some(("key", id)) => (ActorKind::Key, id),
        Some(("system", id)) => (ActorKind::System, id),
        _ => (ActorKind::User, actor),
    };
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(FieldError::new("actor_id", "is not an actor id")));
    }
    Ok((kind, id.to_owned()))
}

/// The read's order (by room, by actor, or by time) and the actor filter of a read by room.
type Scoped = (AuditScope, Option<(ActorKind, String)>);

fn scope_of(req: &AuditRequest) -> Result<Scoped, ApiError> {
    let room = req.room_id.as_deref().filter(|v| !v.is_empty());
    let actor = match req.actor_id.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(a) => Some(actor_of(a)?),
    };
    Ok(match (room, actor) {
        (Some(room), actor) => {
            let id = crate::domain::RoomId::parse("room_id", room).map_err(invalid)?;
            (AuditScope::Room(id.to_string()), actor)
        }
        (None, Some((kind, id))) => (AuditScope::Actor(kind, id), None),
        (None, None) => (AuditScope::All, None),
    })
}

/// The log as `req` asks for it.
pub async fn audit<S: crate::store::AuditRead + ?Sized>(
    app: &App<S>,
    req: AuditRequest,
) -> Result<AuditResponse, ApiError> {
    let limit = match req.limit {
        None => 50,
        Some(l @ 1..=100) => l as usize,
        Some(_) => return Err(invalid(FieldError::new("limit", "must be 1 to 100"))),
    };
    let (scope, actor) = scope_of(&req)?;
    let query = AuditQuery {
        scope,
        actor,
        action: match req.action.as_deref().filter(|a| !a.is_empty()) {
            None => None,
            Some(a) => Some(Action::parse(a).map_err(invalid)?),
        },
        from: match req.since.as_deref() {
            None => AuditQuery::FIRST.to_owned(),
            Some(t) => AuditEntry::id_from(time("since", t)?),
        },
        until: match req.until.as_deref() {
            None => AuditQuery::LAST.to_owned(),
            Some(t) => AuditEntry::id_until(time("until", t)?),
        },
        after: match req.next_token.as_deref().filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some(token(t)?),
        },
        limit,
        now: app.clock.now().timestamp(),
    };
    // An empty window, or a page past its end: nothing to read (no read the store refuses).
    let mut query = query;
    if query.from > query.until || query.after.as_ref().is_some_and(|a| *a <= query.from) {
        return Ok(AuditResponse {
            entries: Vec::new(),
            next_token: None,
        });
    }
    if query.after.as_ref().is_some_and(|a| *a > query.until) {
        // A token from above the window: the window's first page.
        query.after = None;
    }
    let (entries, next) = app.store.audit(&query).await?;
    Ok(AuditResponse {
        entries,
        next_token: next,
    })
}

crate::needs!(
    /// `audit`: the operator, then one range read of the log.
    AuditStore,
    AUDIT_NEEDS: SessionRead,
    KeyRead,
    KeyTouch,
    AuditRead
);

/// `POST /api/v1/admin/audit`: the audit log ([`audit`]).
pub struct AdminAudit;

impl Handler for AdminAudit {
    const ENDPOINT: Endpoint = Endpoint::new("admin-audit", &[Route::post("/api/v1/admin/audit")])
        .with_needs(AUDIT_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (_, body): (_, AuditRequest) =
            operated(app, Self::ENDPOINT, &req, Scope::AuditRead).await?;
        json(&audit(app, body).await?)
    }
}
