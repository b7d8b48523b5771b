//! The production store: one DynamoDB table, single-table design (the layout is in
//! [`schema`]).
//!
//! Listing is always a `Query` on an index, newest first, never a `Scan`. Every room write is
//! one conditional write with the status and version the caller read in the condition;
//! registration is one transaction of two conditional puts, so a username can never be claimed
//! twice. A read of a room and its counters is one `BatchGetItem`; the metrics are a snapshot
//! on the room item. This module never decides who may do what; it only keeps the conditions
//! it is given.

mod accounts;
mod change;
mod client;
mod codec;
mod counters;
mod moderation;
mod operator;
mod outbox;
mod presence;
mod quota;
mod room_writes;
mod rooms;
pub mod schema;
mod series;
mod users;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, DeleteRequest, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification, WriteRequest,
};

use schema::{INDEXES, Item, TTL_ATTRIBUTE};

use super::StoreError;
use crate::env::ConfigError;

/// DynamoDB's limit on one `BatchWriteItem`; moto does not enforce it, so we do.
const BATCH_WRITE_LIMIT: usize = 25;
/// DynamoDB's limit on one `TransactWriteItems`.
const TRANSACT_LIMIT: usize = 100;
/// How often a transaction cancelled only by a concurrent one is sent.
const TRANSACT_ATTEMPTS: u32 = 4;
/// DynamoDB's limit on one `BatchGetItem`.
const BATCH_GET_LIMIT: usize = 100;
/// How often unprocessed batch items are retried before the call fails.
const BATCH_ATTEMPTS: u32 = 5;

use client::LazyClient;
pub use client::{ClientSettings, client_from_env, http_client};

/// The DynamoDB store. Holds one SDK client, built once per process.
#[derive(Clone)]
pub struct DynamoStore {
    client: Arc<LazyClient>,
    table: String,
}

pub(crate) fn unavailable<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(err).to_string())
}

/// A failed conditional write becomes [`StoreError::Conflict`]; anything else is unavailability.
pub(crate) fn conditional<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match err.as_service_error().and_then(|e| e.code()) {
        Some("ConditionalCheckFailedException") => StoreError::Conflict,
        _ => unavailable(err),
    }
}

/// Whether a cancelled transaction only collided with another one in flight on the same item
/// (reason `TransactionConflict`, no condition failed): nothing was written, and the same
/// transaction may simply be sent again.
pub(crate) fn only_collided<'a>(reasons: impl IntoIterator<Item = Option<&'a str>>) -> bool {
    let mut collided = false;
    for code in reasons {
        match code {
            Some("TransactionConflict") => collided = true,
            None | Some("None") => {}
            Some(_) => return false,
        }
    }
    collided
}

/// A transaction cancelled by a condition becomes [`StoreError::Conflict`].
pub(crate) fn transaction_conflict(
    err: SdkError<TransactWriteItemsError, impl std::fmt::Debug + Send + Sync + 'static>,
) -> StoreError {
    if let Some(TransactWriteItemsError::TransactionCanceledException(e)) = err.as_service_error() {
        let conflict = e
            .cancellation_reasons()
            .iter()
            .any(|r| r.code() == Some("ConditionalCheckFailed"));
        if conflict {
            return StoreError::Conflict;
        }
    }
    unavailable(err)
}

/// A request that could not be built (a bug, never the client's input).
pub(crate) fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Treats a failed condition as "not applied".
pub(crate) fn applied(result: Result<(), StoreError>) -> Result<bool, StoreError> {
    match result {
        Ok(()) => Ok(true),
        Err(StoreError::Conflict) => Ok(false),
        Err(e) => Err(e),
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client: Arc::new(LazyClient::ready(client)),
            table: table.into(),
        }
    }

    /// A store on `table` with a client configured from the environment the way Lambda
    /// provides it (see [`ClientSettings::from_env`]). The settings are read and validated
    /// here; the client is built by the first request, so a cold start asks for its first
    /// event without waiting for it.
    pub fn from_env(table: impl Into<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            client: Arc::new(LazyClient::new(ClientSettings::from_env(None)?)),
            table: table.into(),
        })
    }

    pub fn client(&self) -> &Client {
        self.client.get()
    }

    /// Creates the table with the layout of [`schema`] (the same as `template.yaml`: keys,
    /// indexes, TTL, and the stream of new keys the outbox function is fed), for tests and for
    /// local development against a DynamoDB-compatible server.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build_error)
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(build_error)
        };
        let mut request = self
            .client()
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(schema::PK)?)
            .attribute_definitions(attr(schema::SK)?)
            .key_schema(key(schema::PK, KeyType::Hash)?)
            .key_schema(key(schema::SK, KeyType::Range)?)
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::KeysOnly)
                    .build()
                    .map_err(build_error)?,
            );
        for index in INDEXES {
            request = request
                .attribute_definitions(attr(index.pk)?)
                .attribute_definitions(attr(index.sk)?)
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(index.name)
                        .key_schema(key(index.pk, KeyType::Hash)?)
                        .key_schema(key(index.sk, KeyType::Range)?)
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .map_err(build_error)?,
                );
        }
        request.send().await.map_err(unavailable)?;
        self.client()
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(TTL_ATTRIBUTE)
                    .build()
                    .map_err(build_error)?,
            )
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// A strongly consistent `GetItem`.
    async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client()
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    /// Strongly consistent reads of up to 100 keys in one `BatchGetItem` (unprocessed keys
    /// are retried a bounded number of times). Items come back in no particular order.
    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        debug_assert!(keys.len() <= BATCH_GET_LIMIT);
        let mut pending = keys;
        let mut items = Vec::with_capacity(pending.len());
        for attempt in 0..BATCH_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            let request = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(build_error)?;
            let out = self
                .client()
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(
                out.responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default(),
            );
            pending = out
                .unprocessed_keys
                .and_then(|mut m| m.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if !pending.is_empty() {
                tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
            }
        }
        if pending.is_empty() {
            Ok(items)
        } else {
            Err(StoreError::Unavailable(
                "batch read left unprocessed keys".to_owned(),
            ))
        }
    }

    /// Every item `query` finds, through all its pages.
    pub(super) async fn query_all(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = query
                .clone()
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// One `TransactWriteItems` of `items` (none: nothing to do); a failed condition is
    /// [`StoreError::Conflict`].
    pub(super) async fn transact(
        &self,
        items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    ) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        // DynamoDB's limit on one transaction (moto does not enforce it).
        if items.len() > TRANSACT_LIMIT {
            return Err(StoreError::Unavailable(format!(
                "a transaction of {} items (at most {TRANSACT_LIMIT})",
                items.len()
            )));
        }
        // Two transactions on one item at once: DynamoDB cancels one with
        // `TransactionConflict` (the SDK does not retry it). It wrote nothing; send it again
        // after a short, growing wait, a few times, before calling the store unavailable.
        for attempt in 0..TRANSACT_ATTEMPTS {
            match self
                .client()
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await
            {
                Ok(_) => return Ok(()),
                Err(err) => {
                    let collided = matches!(
                        err.as_service_error(),
                        Some(TransactWriteItemsError::TransactionCanceledException(e))
                            if only_collided(e.cancellation_reasons().iter().map(|r| r.code()))
                    );
                    if !collided || attempt + 1 == TRANSACT_ATTEMPTS {
                        return Err(transaction_conflict(err));
                    }
                    tokio::time::sleep(Duration::from_millis(10 << attempt)).await;
                }
            }
        }
        Err(StoreError::Unavailable("transaction not sent".to_owned()))
    }

    /// Deletes every item under `pk` (pages through a `Query` of its keys, batches of 25).
    async fn delete_partition(&self, pk: &str) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", schema::PK)
                .expression_attribute_names("#sk", schema::SK)
                .expression_attribute_values(":pk", schema::s(pk))
                .projection_expression("#pk, #sk")
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            self.batch_delete(out.items.unwrap_or_default()).await?;
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(());
            }
        }
    }

    /// Deletes `keys`, 25 per `BatchWriteItem` ([`Self::batch_write`]).
    async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        let requests = keys
            .into_iter()
            .map(|key| {
                DeleteRequest::builder()
                    .set_key(Some(key))
                    .build()
                    .map(|d| WriteRequest::builder().delete_request(d).build())
                    .map_err(build_error)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_write(requests).await
    }

    /// Sends `requests`, 25 per `BatchWriteItem` (unprocessed items are retried a bounded
    /// number of times with a short backoff).
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(BATCH_WRITE_LIMIT) {
            let mut requests = chunk.to_vec();
            for attempt in 0..BATCH_ATTEMPTS {
                if requests.is_empty() {
                    break;
                }
                let out = self
                    .client()
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(unavailable)?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
                if !requests.is_empty() {
                    tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
                }
            }
            if !requests.is_empty() {
                return Err(StoreError::Unavailable(
                    "batch write left unprocessed items".to_owned(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "../../tests/dynamo.rs"]
mod tests;
