//! One conditional item update, and how a group of them (with puts) is sent: a single change
//! alone as one `UpdateItem`, anything more as one `TransactWriteItems`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem, Update};

use super::schema::Item;
use super::{DynamoStore, build_error, conditional};
use crate::store::StoreError;

/// A conditional `UpdateItem`, sent alone or as part of a transaction.
#[derive(Debug, Default)]
pub(super) struct Change {
    pub key: Item,
    pub update: String,
    pub condition: Option<String>,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl Change {
    pub fn new(key: Item, update: impl Into<String>) -> Self {
        Self {
            key,
            update: update.into(),
            ..Self::default()
        }
    }

    /// A condition on another item that a transaction holds to, changing nothing there.
    pub fn check(key: Item, condition: impl Into<String>) -> Self {
        Self::new(key, "").condition(condition)
    }

    pub fn condition(mut self, condition: impl Into<String>) -> Self {
        self.condition = Some(condition.into());
        self
    }

    pub fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.insert(placeholder.to_owned(), name.to_owned());
        self
    }

    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    pub(super) fn into_transact_item(self, table: &str) -> Result<TransactWriteItem, StoreError> {
        if self.update.is_empty() {
            let check = ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(self.key))
                .set_condition_expression(self.condition)
                .set_expression_attribute_names(non_empty(self.names))
                .set_expression_attribute_values(non_empty(self.values))
                .build()
                .map_err(build_error)?;
            return Ok(TransactWriteItem::builder().condition_check(check).build());
        }
        let update = Update::builder()
            .table_name(table)
            .set_key(Some(self.key))
            .update_expression(self.update)
            .set_condition_expression(self.condition)
            .set_expression_attribute_names(non_empty(self.names))
            .set_expression_attribute_values(non_empty(self.values))
            .build()
            .map_err(build_error)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

/// DynamoDB refuses an empty expression map.
fn non_empty<K, V>(map: HashMap<K, V>) -> Option<HashMap<K, V>> {
    (!map.is_empty()).then_some(map)
}

/// A `Put` of `item` (if `condition` holds) as part of a transaction.
pub(super) fn put(
    item: Item,
    table: &str,
    condition: Option<&str>,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .build()
        .map_err(build_error)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

impl DynamoStore {
    /// Sends `changes` and the unconditional `puts` all or nothing: a lone change as one
    /// `UpdateItem`, anything more as one transaction. A failed condition is
    /// [`StoreError::Conflict`].
    pub(super) async fn write(
        &self,
        mut changes: Vec<Change>,
        puts: Vec<Item>,
    ) -> Result<(), StoreError> {
        if changes.len() == 1 && puts.is_empty() && !changes[0].update.is_empty() {
            let c = changes.remove(0);
            self.client()
                .update_item()
                .table_name(&self.table)
                .set_key(Some(c.key))
                .update_expression(c.update)
                .set_condition_expression(c.condition)
                .set_expression_attribute_names(non_empty(c.names))
                .set_expression_attribute_values(non_empty(c.values))
                .send()
                .await
                .map_err(conditional)?;
            return Ok(());
        }
        let mut items = changes
            .into_iter()
            .map(|c| c.into_transact_item(&self.table))
            .collect::<Result<Vec<_>, _>>()?;
        for item in puts {
            items.push(put(item, &self.table, None)?);
        }
        self.transact(items).await
    }
}
