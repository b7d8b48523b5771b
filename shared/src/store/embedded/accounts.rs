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
    SessionFound, SessionRead, SessionWrite, StoreError, UserDelete, UserRead, UserUpdate,
};

impl EmbeddedStore {
    /// Applies `change` to the stored user (if any, and not deleted) and writes it back.
    async fn change_user<T, F>(&self, id: &UserId, change: F) -> Result<Option<T>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut User) -> T + Send + 'static,
    {
        self.change_user_audited(id, change, None).await
    }

    /// [`Self::change_user`], with `audit` put in the same transaction if it applies.
    pub(super) async fn change_user_audited<T, F>(
        &self,
        id: &UserId,
        change: F,
        audit: Option<&AuditEntry>,
    ) -> Result<Option<T>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut User) -> T + Send + 'static,
    {
        let id = id.clone();
        let audit = audit.cloned();
        self.write(move |txn| {
            let mut users = txn.open_table(USERS)?;
            let Some(mut user) = record::<User>(&users, id.as_str())? else {
                return Ok(None);
            };
            if user.is_deleted() {
                return Ok(None);
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
    ) -> Result<Option<User>, StoreError> {
        let (nick, avatar) = (nick.cloned(), avatar.cloned());
        self.change_user(id, move |user| {
            if let Some(nick) = nick {
                user.nick = nick;
            }
            if let Some(avatar) = avatar {
                user.avatar = avatar;
            }
            user.clone()
        })
        .await
    }
}

#[async_trait]
impl UserDelete for EmbeddedStore {
    async fn delete_user(
        &self,
        id: &UserId,
        now: DateTime<Utc>,
        audit: Option<&AuditEntry>,
    ) -> Result<bool, StoreError> {
        let closed = self
            .change_user_audited(
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
    ) -> Result<(), StoreError> {
        let key = pair_key(user.as_str(), session);
        self.write(move |txn| {
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
    ) -> Result<bool, StoreError> {
        let done = self
            .change_user_audited(user, |user| user.sessions += 1, audit)
            .await?;
        Ok(done.is_some())
    }
}
