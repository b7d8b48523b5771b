//! Who is operating (issue 24): the caller of an admin call, proven by an API key
//! (`Authorization: Bearer lrk_…`) or by an account's access token, and what it may do.
//!
//! A key is found by its id (one `GetItem`) and its secret compared, as a hash, in constant
//! time; a revoked, unknown or malformed key is 401. A token is verified as everywhere, then
//! its session read (the same one read as `refresh`'s): a logged-out, ended or disabled
//! session is 401. A user's roles are read from the store on each call (so a change applies at
//! once), `ADMIN_USERS` are admins besides. Lacking the scope a call needs is 403
//! `AdminForbidden`, and so is an account with no role at all.
//!
//! Never here: what an operator does (the `admin` feature), or how keys are stored.

use std::collections::BTreeSet;

use lambda_http::Request;

use crate::App;
use crate::auth::{TokenKind, bearer};
use crate::domain::audit::{Acting, Action, Actor, ActorKind, AuditEntry, Origin, Source, Target};
use crate::domain::operator::{ApiKey, KEY_PREFIX, PresentedKey, Role, Scope, scopes_of};
use crate::domain::user::User;
use crate::error::{ApiError, ErrorCode};
use crate::room_change::standing;
use crate::store::SessionFound;

/// A key's `last_used_at` is written at most once per this many seconds.
const TOUCH_EVERY_SECS: i64 = 60;

/// The caller of an admin call.
#[derive(Debug, Clone)]
pub struct Operator {
    pub actor: Actor,
    /// The account's roles (stored, and `admin` for `ADMIN_USERS`); none for a key.
    pub roles: BTreeSet<Role>,
    pub scopes: BTreeSet<Scope>,
    /// The account, as read for this call (`None` for a key).
    pub user: Option<User>,
    /// Where the call came from (for the audit log).
    pub origin: Origin,
    /// For a key: the admin who made it (whose account the key never changes).
    pub made_by: Option<String>,
}

impl Operator {
    /// 403 `AdminForbidden` unless the operator has `scope`.
    pub fn may(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(forbidden(scope))
        }
    }

    pub fn is_admin(&self) -> bool {
        self.scopes.contains(&Scope::Admin)
    }

    /// The operator as the audit log names it: through the admin API.
    pub fn acting(&self) -> Acting {
        Acting {
            actor: self.actor.clone(),
            source: Source::Admin,
            origin: self.origin.clone(),
        }
    }

    /// The audit entry of this operator's `action` on `target`, now.
    pub fn entry<S: ?Sized>(&self, app: &App<S>, action: Action, target: Target) -> AuditEntry {
        audit_entry(app, &self.acting(), action, target)
    }
}

/// The audit entry of `by`'s `action` on `target`, now, kept `AUDIT_RETENTION_DAYS`.
pub fn audit_entry<S: ?Sized>(
    app: &App<S>,
    by: &Acting,
    action: Action,
    target: Target,
) -> AuditEntry {
    AuditEntry::new(
        app.clock.now(),
        app.config.audit_retention_days,
        by,
        action,
        target,
    )
}

/// `caller` acting through `source`, from where `req` came.
pub fn acting(caller: &crate::auth::Caller, source: Source, req: &Request) -> Acting {
    Acting::user(&caller.user_id, source, origin(req))
}

fn forbidden(scope: Scope) -> ApiError {
    ApiError::new(
        ErrorCode::AdminForbidden,
        format!("this needs the {} scope", scope.name()),
    )
    .with_detail("scope", scope.name())
}

fn key_refused() -> ApiError {
    ApiError::new(ErrorCode::UserTokenInvalid, "the API key is not valid")
}

crate::needs!(
    /// Authenticating an operator: the account's session, or the API key (and its last use).
    OperatorStore,
    OPERATOR_NEEDS: SessionRead,
    KeyRead,
    KeyTouch
);

/// Where `req` came from.
pub fn origin(req: &Request) -> Origin {
    let request_id = crate::endpoint::RequestId::of(req);
    Origin {
        ip: crate::endpoint::source_ip(req),
        request_id: (!request_id.is_empty()).then_some(request_id),
    }
}

/// The operator making `req`, if it may do anything at all (`scope`: what the call needs).
pub async fn operator<S: OperatorStore + ?Sized>(
    app: &App<S>,
    req: &Request,
    scope: Option<Scope>,
) -> Result<Operator, ApiError> {
    let token = bearer(req.headers())?;
    let now = app.clock.now();
    let operator = if token.starts_with(KEY_PREFIX) {
        let presented = PresentedKey::parse(token).ok_or_else(key_refused)?;
        let key: ApiKey = app
            .store
            .key(&presented.key_id)
            .await?
            .filter(|k| !k.is_revoked())
            .ok_or_else(key_refused)?;
        if !presented.matches(&key.hash) {
            return Err(key_refused());
        }
        let stale = now - chrono::Duration::seconds(TOUCH_EVERY_SECS);
        if key.last_used_at.is_none_or(|t| t < stale) {
            // A lost write only delays the next mark; the call itself is not refused for it.
            if let Err(e) = app.store.touch_key(&key.key_id, now, stale).await {
                tracing::warn!(error = %e, "an API key's last use was not recorded");
            }
        }
        Operator {
            actor: Actor {
                kind: ActorKind::Key,
                id: key.key_id.to_string(),
            },
            roles: BTreeSet::new(),
            scopes: key.scopes,
            user: None,
            origin: origin(req),
            made_by: Some(key.created_by),
        }
    } else {
        let caller = app.tokens.verify(token, TokenKind::Access, now)?;
        let (user, ended) = app
            .store
            .session(&caller.user_id, &caller.session.id)
            .await?;
        let user = standing(&caller, SessionFound { user, ended })?
            .ok_or_else(|| ApiError::new(ErrorCode::UserTokenInvalid, "the session has ended"))?;
        let mut roles = user.roles.clone();
        if app.config.admin_users.contains(&user.id) {
            roles.insert(Role::Admin);
        }
        if roles.is_empty() {
            return Err(ApiError::new(
                ErrorCode::AdminForbidden,
                "this account is not an operator",
            ));
        }
        Operator {
            actor: Actor::user(&user.id),
            scopes: scopes_of(&roles),
            roles,
            user: Some(user),
            origin: origin(req),
            made_by: None,
        }
    };
    if let Some(scope) = scope {
        operator.may(scope)?;
    }
    Ok(operator)
}

/// The operator making `req` (with `scope`), then the body: a caller who may not operate
/// learns nothing about its body.
pub async fn operated<T: serde::de::DeserializeOwned, S: OperatorStore + ?Sized>(
    app: &App<S>,
    endpoint: crate::endpoint::Endpoint,
    req: &Request,
    scope: Scope,
) -> Result<(Operator, T), ApiError> {
    let operator = operator(app, req, Some(scope)).await?;
    Ok((operator, crate::endpoint::parse_body(app, endpoint, req)?))
}
