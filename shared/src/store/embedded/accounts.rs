//! Account state beyond the user record's creation: profile updates, closing an account, and
//! sessions ended by a logout (`ended_sessions`).
//!
//! Never here: who may do it (that is `accounts` and `auth`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::operator::put_audit;
use super::{ENDED_SESSIONS, EmbeddedStore, USERS, encode, pair_key, record};
use crate::domain::audit::AuditEntry;
use crate::domain::user::User;
use crate::domain::{ImageUrl, Nick, UserId};
use crate::store::{
    SessionFound, SessionGuard, SessionRead, SessionWrite, StoreError, UserDelete, UserRead,
    UserUpdate,
};

/// A [`SessionGuard`] the write's closure owns.
#[derive(Debug, Clone)]
pub(super) struct Held {
    user: UserId,
    generation: u64,
}

impl Held {
    pub(super) fn of(guard: Option<SessionGuard<'_>>) -> Option<Self> {
        guard.map(|g| Self {
            user: g.user.clone(),
            generation: g.generation,
        })
    }

    fn holds(&self, user: &User) -> bool {
        SessionGuard {
            user: &self.user,
            generation: self.generation,
        }
        .holds(user)
    }
}

/// Whether `guard` (if any) holds in the write transaction `txn` (which has not opened the
/// users' table).
pub(super) fn stands(
    txn: &redb::WriteTransaction,
    guard: Option<&Held>,
) -> Result<bool, StoreError> {
    let Some(guard) = guard else {
        return Ok(true);
    };
    let users = txn.open_table(USERS)?;
    Ok(record::<User>(&users, guard.user.as_str())?.is_some_and(|u| guard.holds(&u)))
}

impl EmbeddedStore {
    /// Applies `change` to the stored user (if any, and not deleted) and writes it back, with
    /// `audit` put in the same transaction if it applies, held to `guard` (if any):
    /// [`StoreError::Conflict`] when the user is open and the guard refuses it.
    pub(super) async fn change_user_guarded<T, F>(
        &self,
        id: &UserId,
        change: F,
        audit: Option<&AuditEntry>,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<Option<T>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut User) -> T + Send + 'static,
    {
        let id = id.clone();
        let audit = audit.cloned();
        let guard = Held::of(guard);
        self.write(move |txn| {
            let mut users = txn.open_table(USERS)?;
            let Some(mut user) = record::<User>(&users, id.as_str())? else {
                return Ok(None);
            };
            if user.is_deleted() {
                return Ok(None);
            }
            if guard.as_ref().is_some_and(|g| !g.holds(&user)) {
                return Err(StoreError::Conflict);
            }
            let out = change(&mut user);
            users.insert(id.as_str(), encode(&user)?.as_slice())?;
            put_audit(txn, audit.as_ref())?;
            Ok(Some(out))
        })
        .await
    }
}

#[async_trait]
impl UserUpdate for EmbeddedStore {
    async fn update_profile(
        &self,
        id: &UserId,
        nick: Option<&Nick>,
        avatar: Option<&ImageUrl>,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<Option<User>, StoreError> {
        let (nick, avatar) = (nick.cloned(), avatar.cloned());
        let change = move |user: &mut User| {
            if let Some(nick) = nick {
                user.nick = nick;
            }
            if let Some(avatar) = avatar {
                user.avatar = avatar;
            }
            user.clone()
        };
        match self.change_user_guarded(id, change, None, guard).await? {
            // Held to a guard: no such (live) user is the guard's refusal too.
            None if guard.is_some() => Err(StoreError::Conflict),
            user => Ok(user),
        }
    }
}

#[async_trait]
impl UserDelete for EmbeddedStore {
    async fn delete_user(
        &self,
        id: &UserId,
        now: DateTime<Utc>,
        audit: Option<&AuditEntry>,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<bool, StoreError> {
        let closed = self
            .change_user_guarded(
                id,
                move |user| {
                    user.deleted_at = Some(now);
                    user.password_hash.clear();
                    user.salt = None;
                    user.nick = Nick::empty();
                    user.avatar = ImageUrl::empty();
                    user.sessions += 1;
                },
                audit,
                guard,
            )
            .await?;
        match closed {
            Some(()) => Ok(true),
            None => Ok(self.user(id).await?.is_some()),
        }
    }
}

#[async_trait]
impl SessionRead for EmbeddedStore {
    async fn session(
        &self,
        user: &UserId,
        session: &str,
    ) -> Result<(Option<User>, bool), StoreError> {
        let (user, session) = (user.clone(), session.to_owned());
        self.read(move |txn| {
            let found = read_session(txn, &user, &session)?;
            Ok((found.user, found.ended))
        })
        .await
    }

    async fn user_in_session(
        &self,
        other: &UserId,
        user: &UserId,
        session: &str,
    ) -> Result<(Option<User>, SessionFound), StoreError> {
        let (other, user, session) = (other.clone(), user.clone(), session.to_owned());
        self.read(move |txn| {
            let found = read_session(txn, &user, &session)?;
            let other = record(&txn.open_table(USERS)?, other.as_str())?;
            Ok((other, found))
        })
        .await
    }
}

/// `user`'s session `session` as the read transaction `txn` sees it.
pub(super) fn read_session(
    txn: &redb::ReadTransaction,
    user: &UserId,
    session: &str,
) -> Result<SessionFound, StoreError> {
    let users = txn.open_table(USERS)?;
    let user_item = record(&users, user.as_str())?;
    let ended = txn
        .open_table(ENDED_SESSIONS)?
        .get(pair_key(user.as_str(), session).as_str())?
        .is_some();
    Ok(SessionFound {
        user: user_item,
        ended,
    })
}

#[async_trait]
impl SessionWrite for EmbeddedStore {
    async fn end_session(
        &self,
        user: &UserId,
        session: &str,
        expires_at: i64,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<(), StoreError> {
        let key = pair_key(user.as_str(), session);
        let guard = Held::of(guard);
        self.write(move |txn| {
            if !stands(txn, guard.as_ref())? {
                return Err(StoreError::Conflict);
            }
            txn.open_table(ENDED_SESSIONS)?
                .insert(key.as_str(), expires_at)?;
            Ok(())
        })
        .await
    }

    async fn end_all_sessions(
        &self,
        user: &UserId,
        audit: Option<&AuditEntry>,
        guard: Option<SessionGuard<'_>>,
    ) -> Result<bool, StoreError> {
        let done = self
            .change_user_guarded(user, |user| user.sessions += 1, audit, guard)
            .await?;
        if done.is_none() && guard.is_some() {
            // Held to a guard: no such (live) user is the guard's refusal too.
            return Err(StoreError::Conflict);
        }
        Ok(done.is_some())
    }
}
