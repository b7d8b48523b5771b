//! Users: the user item and its username claim, written together in one transaction.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::codec::{Reader, user_from_item, user_to_item};
use super::schema::{Item, s, user_key, username_key};
use super::{DynamoStore, build_error};
use crate::domain::user::User;
use crate::domain::{UserId, Username};
use crate::store::{StoreError, UserRead, UserWrite};

#[async_trait]
impl UserWrite for DynamoStore {
    async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        let mut claim = username_key(&user.username);
        claim.insert("user_id".to_owned(), s(user.id.as_str()));
        let put = |item: Item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map(|p| TransactWriteItem::builder().put(p).build())
                .map_err(build_error)
        };
        self.transact(vec![put(claim)?, put(user_to_item(user))?])
            .await
    }
}

#[async_trait]
impl UserRead for DynamoStore {
    async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let Some(claim) = self.get(username_key(username)).await? else {
            return Ok(None);
        };
        let id: UserId = Reader(&claim).parsed("user_id")?;
        self.user(&id).await
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        self.get(user_key(id))
            .await?
            .map(|item| user_from_item(&item))
            .transpose()
    }
}
