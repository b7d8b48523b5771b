//! Users: the user record and its username claim, added together in one transaction.
//!
//! Never here: password hashing (that is `accounts`).

use async_trait::async_trait;
use redb::ReadableTable;

use super::{EmbeddedStore, USERNAMES, USERS, encode, record};
use crate::domain::user::User;
use crate::domain::{UserId, Username};
use crate::store::{StoreError, UserRead, UserWrite};

#[async_trait]
impl UserWrite for EmbeddedStore {
    async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        let user = user.clone();
        self.write(move |txn| {
            let mut names = txn.open_table(USERNAMES)?;
            let key = user.username.key();
            if names.get(key.as_str())?.is_some() {
                return Err(StoreError::Conflict);
            }
            let mut users = txn.open_table(USERS)?;
            if users.get(user.id.as_str())?.is_some() {
                return Err(StoreError::Conflict);
            }
            names.insert(key.as_str(), user.id.as_str())?;
            users.insert(user.id.as_str(), encode(&user)?.as_slice())?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl UserRead for EmbeddedStore {
    async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let key = username.key();
        self.read(move |txn| {
            let names = txn.open_table(USERNAMES)?;
            let Some(id) = names.get(key.as_str())? else {
                return Ok(None);
            };
            let users = txn.open_table(USERS)?;
            record(&users, id.value())
        })
        .await
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let id = id.clone();
        self.read(move |txn| {
            let users = txn.open_table(USERS)?;
            record(&users, id.as_str())
        })
        .await
    }
}
