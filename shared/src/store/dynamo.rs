//! The production store: one DynamoDB table, single-table design.
//!
//! | item            | `pk`                 | `sk`       | index keys                                   |
//! |-----------------|----------------------|------------|----------------------------------------------|
//! | user            | `USER#{id}`          | `USER`     |                                              |
//! | username claim  | `USERNAME#{lower}`   | `USERNAME` |                                              |
//! | room            | `ROOM#{id}`          | `ROOM`     | `gsi1` all rooms, `gsi2` by status, `gsi3` by anchor; sort key `{created}#{id}` |
//! | room children   | `ROOM#{id}`          | other      | (members, likes... — later issues)            |
//!
//! Listing is always a `Query` on one of the three GSIs, newest first (`ScanIndexForward =
//! false`), never a `Scan`. Every room write is one conditional write with the status and
//! version the caller read in the condition; registration is one transaction of two
//! conditional puts, so a username can never be claimed twice. This module never decides who
//! may do what; it only keeps the conditions it is given.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, DeleteRequest, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, Put, ScalarAttributeType,
    TimeToLiveSpecification, TransactWriteItem, WriteRequest,
};
use chrono::{DateTime, Utc};

use super::{Expected, Room, RoomQuery, Store, StoreError, User};
use crate::domain::{RoomId, RoomMode, RoomStatus, UserId, Username};
use crate::meeting::Meeting;

type Item = HashMap<String, AttributeValue>;

/// The attribute DynamoDB's TTL reads (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// DynamoDB's limit on one `BatchWriteItem`; moto does not enforce it, so we do.
const BATCH_WRITE_LIMIT: usize = 25;
/// Items read per `Query` page while listing.
const QUERY_PAGE: i32 = 100;

/// The three listing indexes: (index name, partition attribute, sort attribute).
const GSI_ALL: (&str, &str, &str) = ("gsi1", "gsi1pk", "gsi1sk");
const GSI_STATUS: (&str, &str, &str) = ("gsi2", "gsi2pk", "gsi2sk");
const GSI_ANCHOR: (&str, &str, &str) = ("gsi3", "gsi3pk", "gsi3sk");

/// The DynamoDB store. Holds one SDK client, built once per cold start.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn unavailable<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(err).to_string())
}

/// A failed conditional write becomes [`StoreError::Conflict`]; anything else is unavailability.
fn conditional<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match err.as_service_error().and_then(|e| e.code()) {
        Some("ConditionalCheckFailedException") => StoreError::Conflict,
        _ => unavailable(err),
    }
}

fn user_key(id: &UserId) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(format!("USER#{id}"))),
        ("sk".to_owned(), s("USER")),
    ])
}

fn username_key(username: &Username) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(format!("USERNAME#{}", username.key()))),
        ("sk".to_owned(), s("USERNAME")),
    ])
}

fn room_pk(id: &RoomId) -> String {
    format!("ROOM#{id}")
}

fn room_key(id: &RoomId) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(room_pk(id))),
        ("sk".to_owned(), s("ROOM")),
    ])
}

fn time(t: &DateTime<Utc>) -> AttributeValue {
    s(crate::clock::rfc3339(t))
}

fn status_partition(status: RoomStatus) -> String {
    format!("ROOMS#{}", status.as_i64())
}

/// Reads attributes out of an item, naming the attribute when one is missing or malformed.
struct Reader<'a>(&'a Item);

impl Reader<'_> {
    fn str(&self, name: &str) -> Result<&str, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::S(v)) => Ok(v),
            _ => Err(StoreError::Corrupt(format!(
                "attribute {name} is not a string"
            ))),
        }
    }

    fn num(&self, name: &str) -> Result<i64, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::N(v)) => v
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("attribute {name} is not an integer"))),
            _ => Err(StoreError::Corrupt(format!(
                "attribute {name} is not a number"
            ))),
        }
    }

    fn time(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        DateTime::parse_from_rfc3339(self.str(name)?)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| StoreError::Corrupt(format!("attribute {name} is not a time")))
    }

    fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(_) => self.time(name).map(Some),
        }
    }

    /// Strings are stored already validated; re-parsing through serde keeps the newtypes
    /// closed (no public constructor that skips validation).
    fn parsed<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, StoreError> {
        serde_json::from_value(serde_json::Value::String(self.str(name)?.to_owned()))
            .map_err(|e| StoreError::Corrupt(format!("attribute {name}: {e}")))
    }
}

fn user_to_item(user: &User) -> Item {
    let mut item = user_key(&user.id);
    item.extend([
        ("id".to_owned(), s(user.id.as_str())),
        ("username".to_owned(), s(user.username.as_str())),
        ("password_hash".to_owned(), s(&user.password_hash)),
        ("nick".to_owned(), s(user.nick.as_str())),
        ("avatar".to_owned(), s(user.avatar.as_str())),
        ("created_at".to_owned(), time(&user.created_at)),
    ]);
    item
}

fn user_from_item(item: &Item) -> Result<User, StoreError> {
    let r = Reader(item);
    Ok(User {
        id: r.parsed("id")?,
        username: r.parsed("username")?,
        password_hash: r.str("password_hash")?.to_owned(),
        nick: r.parsed("nick")?,
        avatar: r.parsed("avatar")?,
        created_at: r.time("created_at")?,
    })
}

/// The room's mutable attributes (everything but its keys, anchor and creation time).
fn room_mutable_attributes(room: &Room) -> Vec<(&'static str, AttributeValue)> {
    vec![
        ("anchor_nick", s(room.anchor_nick.as_str())),
        ("title", s(room.title.as_str())),
        ("notice", s(room.notice.as_str())),
        ("cover_url", s(room.cover_url.as_str())),
        ("extends", s(room.extends.as_str())),
        ("category", s(room.category.as_str())),
        ("mode", n(i64::from(room.mode))),
        ("status", n(room.status.as_i64())),
        ("version", n(room.version)),
        ("updated_at", time(&room.updated_at)),
        (GSI_STATUS.1, s(status_partition(room.status))),
    ]
}

fn room_to_item(room: &Room) -> Item {
    let created_key = room.created_key();
    let mut item = room_key(&room.id);
    item.extend([
        ("id".to_owned(), s(room.id.as_str())),
        ("anchor_id".to_owned(), s(room.anchor_id.as_str())),
        ("created_at".to_owned(), time(&room.created_at)),
        (GSI_ALL.1.to_owned(), s("ROOMS")),
        (GSI_ALL.2.to_owned(), s(&created_key)),
        (GSI_STATUS.2.to_owned(), s(&created_key)),
        (
            GSI_ANCHOR.1.to_owned(),
            s(format!("ANCHOR#{}", room.anchor_id)),
        ),
        (GSI_ANCHOR.2.to_owned(), s(&created_key)),
    ]);
    for (name, value) in room_mutable_attributes(room) {
        item.insert(name.to_owned(), value);
    }
    item.insert("meeting".to_owned(), s(meeting_json(&room.meeting)));
    item.insert("meeting_version".to_owned(), n(room.meeting.version));
    if let Some(t) = &room.started_at {
        item.insert("started_at".to_owned(), time(t));
    }
    if let Some(t) = &room.stopped_at {
        item.insert("stopped_at".to_owned(), time(t));
    }
    item
}

/// The meeting list is stored as one JSON string: it is read and written whole.
fn meeting_json(meeting: &Meeting) -> String {
    serde_json::to_string(&meeting.members).unwrap_or_else(|_| "[]".to_owned())
}

fn room_from_item(item: &Item) -> Result<Room, StoreError> {
    let r = Reader(item);
    let meeting = Meeting {
        members: match item.get("meeting") {
            Some(AttributeValue::S(json)) => serde_json::from_str(json)
                .map_err(|e| StoreError::Corrupt(format!("attribute meeting: {e}")))?,
            _ => Vec::new(),
        },
        version: match item.get("meeting_version") {
            Some(_) => u64::try_from(r.num("meeting_version")?)
                .map_err(|_| StoreError::Corrupt("negative meeting version".to_owned()))?,
            None => 0,
        },
    };
    let status =
        RoomStatus::try_from(r.num("status")?).map_err(|e| StoreError::Corrupt(e.message))?;
    let mode = RoomMode::try_from(r.num("mode")?).map_err(|e| StoreError::Corrupt(e.message))?;
    let version = u64::try_from(r.num("version")?)
        .map_err(|_| StoreError::Corrupt("negative version".to_owned()))?;
    Ok(Room {
        id: r.parsed("id")?,
        anchor_id: r.parsed("anchor_id")?,
        anchor_nick: r.parsed("anchor_nick")?,
        title: r.parsed("title")?,
        notice: r.parsed("notice")?,
        cover_url: r.parsed("cover_url")?,
        extends: r.parsed("extends")?,
        category: r.parsed("category")?,
        mode,
        status,
        version,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        started_at: r.opt_time("started_at")?,
        stopped_at: r.opt_time("stopped_at")?,
        meeting,
    })
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// A store on `table` with the SDK's standard configuration from the environment
    /// (region, credentials, and `AWS_ENDPOINT_URL_DYNAMODB` for a local server).
    pub async fn from_env(table: impl Into<String>) -> Self {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(Client::new(&config), table)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates the table with the layout above (the same as `template.yaml`), for tests and
    /// for local development against a DynamoDB-compatible server.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        };
        let mut request = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?);
        for (index, pk, sk) in [GSI_ALL, GSI_STATUS, GSI_ANCHOR] {
            request = request
                .attribute_definitions(attr(pk)?)
                .attribute_definitions(attr(sk)?)
                .global_secondary_indexes(
                    GlobalSecondaryIndex::builder()
                        .index_name(index)
                        .key_schema(key(pk, KeyType::Hash)?)
                        .key_schema(key(sk, KeyType::Range)?)
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?,
                );
        }
        request.send().await.map_err(unavailable)?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(TTL_ATTRIBUTE)
                    .build()
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            )
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item)
    }

    /// Deletes every item under `pk` (pages through a `Query`, batches of 25).
    async fn delete_partition(&self, pk: &str) -> Result<(), StoreError> {
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", "pk")
                .expression_attribute_names("#sk", "sk")
                .expression_attribute_values(":pk", s(pk))
                .projection_expression("#pk, #sk")
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            let keys: Vec<Item> = out.items.unwrap_or_default();
            for chunk in keys.chunks(BATCH_WRITE_LIMIT) {
                self.batch_delete(chunk.to_vec()).await?;
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(());
            }
        }
    }

    async fn batch_delete(&self, keys: Vec<Item>) -> Result<(), StoreError> {
        let mut requests = keys
            .into_iter()
            .map(|key| {
                DeleteRequest::builder()
                    .set_key(Some(key))
                    .build()
                    .map(|d| WriteRequest::builder().delete_request(d).build())
                    .map_err(|e| StoreError::Unavailable(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Unprocessed items are retried a bounded number of times with a short backoff.
        for attempt in 0..5u32 {
            if requests.is_empty() {
                return Ok(());
            }
            let out = self
                .client
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
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
        }
        if requests.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Unavailable(
                "batch delete left unprocessed items".to_owned(),
            ))
        }
    }
}

fn transaction_conflict(
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

#[async_trait]
impl Store for DynamoStore {
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
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        };
        self.client
            .transact_write_items()
            .transact_items(put(claim)?)
            .transact_items(put(user_to_item(user))?)
            .send()
            .await
            .map_err(transaction_conflict)?;
        Ok(())
    }

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

    async fn insert_room(&self, room: &Room) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(room_to_item(room)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(conditional)?;
        Ok(())
    }

    async fn room(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        self.get(room_key(id))
            .await?
            .map(|item| room_from_item(&item))
            .transpose()
    }

    async fn list_rooms(&self, query: &RoomQuery) -> Result<Vec<Room>, StoreError> {
        let ((index, pk_attr, _), partition) = match (&query.anchor, query.status) {
            (Some(anchor), _) => (GSI_ANCHOR, format!("ANCHOR#{anchor}")),
            (None, Some(status)) => (GSI_STATUS, status_partition(status)),
            (None, None) => (GSI_ALL, "ROOMS".to_owned()),
        };
        let wanted = (query.page.offset + query.page.size) as usize;
        let mut matched: Vec<Room> = Vec::with_capacity(wanted);
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", pk_attr)
                .expression_attribute_values(":pk", s(&partition))
                .scan_index_forward(false)
                .limit(QUERY_PAGE)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.items.unwrap_or_default() {
                let room = room_from_item(&item)?;
                if query.matches(&room) {
                    matched.push(room);
                    if matched.len() == wanted {
                        return Ok(matched.split_off(query.page.offset as usize));
                    }
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                let offset = (query.page.offset as usize).min(matched.len());
                return Ok(matched.split_off(offset));
            }
        }
    }

    async fn update_room(&self, room: &Room, expected: Expected) -> Result<(), StoreError> {
        debug_assert_eq!(room.version, expected.version + 1);
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut set = Vec::new();
        for (i, (name, value)) in room_mutable_attributes(room).into_iter().enumerate() {
            names.insert(format!("#a{i}"), name.to_owned());
            values.insert(format!(":a{i}"), value);
            set.push(format!("#a{i} = :a{i}"));
        }
        let mut remove = Vec::new();
        for (name, value) in [
            ("started_at", &room.started_at),
            ("stopped_at", &room.stopped_at),
        ] {
            names.insert(format!("#{name}"), name.to_owned());
            match value {
                Some(t) => {
                    values.insert(format!(":{name}"), time(t));
                    set.push(format!("#{name} = :{name}"));
                }
                None => remove.push(format!("#{name}")),
            }
        }
        names.insert("#status".to_owned(), "status".to_owned());
        names.insert("#version".to_owned(), "version".to_owned());
        values.insert(":expected_status".to_owned(), n(expected.status.as_i64()));
        values.insert(":expected_version".to_owned(), n(expected.version));
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(room_key(&room.id)))
            .update_expression(update)
            .condition_expression(
                "attribute_exists(pk) AND #status = :expected_status AND #version = :expected_version",
            )
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .map_err(conditional)?;
        Ok(())
    }

    async fn update_meeting(
        &self,
        id: &RoomId,
        meeting: &Meeting,
        expected: u64,
    ) -> Result<(), StoreError> {
        debug_assert_eq!(meeting.version, expected + 1);
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(room_key(id)))
            .update_expression("SET #meeting = :meeting, #mv = :next")
            .condition_expression("attribute_exists(pk) AND #status <> :ended AND #mv = :expected")
            .expression_attribute_names("#meeting", "meeting")
            .expression_attribute_names("#mv", "meeting_version")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":meeting", s(meeting_json(meeting)))
            .expression_attribute_values(":next", n(meeting.version))
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":ended", n(RoomStatus::Ended.as_i64()))
            .send()
            .await
            .map_err(conditional)?;
        Ok(())
    }

    async fn delete_room(&self, id: &RoomId, anchor: &UserId) -> Result<(), StoreError> {
        // The room item goes first, under the owner condition: once it is gone the room is
        // gone for every reader, and what is left under its key is unreachable until the
        // sweep below (or a retry of this call) removes it.
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(room_key(id)))
            .condition_expression("attribute_exists(pk) AND anchor_id = :anchor")
            .expression_attribute_values(":anchor", s(anchor.as_str()))
            .send()
            .await
            .map_err(conditional)?;
        self.delete_partition(&room_pk(id)).await
    }
}
