//! The production store: one DynamoDB table, single-table design.
//!
//! | item            | `pk`                 | `sk`       | index keys                                   |
//! |-----------------|----------------------|------------|----------------------------------------------|
//! | user            | `USER#{id}`          | `USER`     |                                              |
//! | username claim  | `USERNAME#{lower}`   | `USERNAME` |                                              |
//! | room            | `ROOM#{id}`          | `ROOM`     | `gsi1` all rooms, `gsi2` by status, `gsi3` by anchor; sort key `{created}#{id}` |
//! | presence        | `ROOM#{id}#P{00..31}`| `USER#{id}`| `gsi4`: same key, sort `{last_seen ms}#{user}` |
//! | visitor         | `ROOM#{id}#V{00..31}`| `USER#{id}`|                                              |
//! | counters        | `ROOM#{id}#C{0..7}`  | `COUNTERS` | (`pv`, `uv`, `likes`, atomic `ADD`)          |
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
    KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType, Put,
    ScalarAttributeType, Select, TimeToLiveSpecification, TransactWriteItem, Update, WriteRequest,
};
use chrono::{DateTime, Utc};

use super::{
    COUNTER_SHARDS, Counters, Expected, Guard, Mark, PRESENCE_SHARDS, Presence, Room, RoomQuery,
    Store, StoreError, User, activity_key, shard,
};
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
/// Presence by last activity, per shard.
const GSI_PRESENCE: (&str, &str, &str) = ("gsi4", "gsi4pk", "gsi4sk");

fn presence_pk(room: &RoomId, shard: u32) -> String {
    format!("ROOM#{room}#P{shard:02}")
}

fn visitor_pk(room: &RoomId, shard: u32) -> String {
    format!("ROOM#{room}#V{shard:02}")
}

fn counter_key(room: &RoomId, shard: u32) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(format!("ROOM#{room}#C{shard}"))),
        ("sk".to_owned(), s("COUNTERS")),
    ])
}

fn ms(t: &DateTime<Utc>) -> String {
    format!("{:013}", t.timestamp_millis().max(0))
}

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

fn presence_from_item(item: &Item) -> Result<Presence, StoreError> {
    let r = Reader(item);
    Ok(Presence {
        user_id: r.parsed("user_id")?,
        joined_at: r.time("joined_at")?,
        last_seen: r.time("last_seen")?,
    })
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
    for (name, t) in [
        ("anchor_seen_at", &room.anchor_seen_at),
        ("channel_started_at", &room.channel_started_at),
    ] {
        if let Some(t) = t {
            item.insert(name.to_owned(), time(t));
        }
    }
    if let Some(t) = room.expires_at {
        item.insert(TTL_ATTRIBUTE.to_owned(), n(t));
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
        anchor_seen_at: r.opt_time("anchor_seen_at")?,
        channel_started_at: r.opt_time("channel_started_at")?,
        expires_at: match item.get(TTL_ATTRIBUTE) {
            Some(_) => Some(r.num(TTL_ATTRIBUTE)?),
            None => None,
        },
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
        for (index, pk, sk) in [GSI_ALL, GSI_STATUS, GSI_ANCHOR, GSI_PRESENCE] {
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

    /// A `Query` on one presence shard of `gsi4` with `condition` on its sort key (`#sk`, with
    /// the placeholders the caller binds).
    fn presence_query(
        &self,
        room: &RoomId,
        shard: u32,
        condition: &str,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(GSI_PRESENCE.0)
            .key_condition_expression(format!("#pk = :pk AND {condition}"))
            .expression_attribute_names("#pk", GSI_PRESENCE.1)
            .expression_attribute_names("#sk", GSI_PRESENCE.2)
            .expression_attribute_values(":pk", s(presence_pk(room, shard)))
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
        names.insert("#expires_at".to_owned(), TTL_ATTRIBUTE.to_owned());
        match room.expires_at {
            Some(t) => {
                values.insert(":expires_at".to_owned(), n(t));
                set.push("#expires_at = :expires_at".to_owned());
            }
            None => remove.push("#expires_at".to_owned()),
        }
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
        let mut condition =
            "attribute_exists(pk) AND #status = :expected_status AND #version = :expected_version"
                .to_owned();
        match expected.guard {
            Guard::None => {}
            Guard::AnchorSilentSince(t) => {
                names.insert("#anchor_seen_at".to_owned(), "anchor_seen_at".to_owned());
                values.insert(":silent_since".to_owned(), time(&t));
                condition.push_str(
                    " AND (attribute_not_exists(#anchor_seen_at) OR #anchor_seen_at < :silent_since)",
                );
            }
            Guard::NeverEntered => {
                names.insert("#anchor_seen_at".to_owned(), "anchor_seen_at".to_owned());
                names.insert(
                    "#channel_started_at".to_owned(),
                    "channel_started_at".to_owned(),
                );
                condition.push_str(
                    " AND attribute_not_exists(#anchor_seen_at) AND attribute_not_exists(#channel_started_at) AND attribute_not_exists(#started_at)",
                );
            }
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(room_key(&room.id)))
            .update_expression(update)
            .condition_expression(condition)
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

    async fn mark_room(&self, id: &RoomId, mark: Mark) -> Result<bool, StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(room_key(id)));
        let request = match mark {
            Mark::AnchorSeen(at) => request
                .update_expression("SET anchor_seen_at = :at")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":at", time(&at)),
            Mark::ChannelStarted { at, unless_after } => request
                .update_expression("SET channel_started_at = :at")
                .condition_expression(
                    "attribute_exists(pk) AND (attribute_not_exists(channel_started_at) OR channel_started_at < :unless)",
                )
                .expression_attribute_values(":at", time(&at))
                .expression_attribute_values(":unless", time(&unless_after)),
        };
        match request.send().await.map_err(conditional) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn touch_presence(
        &self,
        room: &RoomId,
        user: &UserId,
        now: DateTime<Utc>,
        count_visit: bool,
    ) -> Result<(), StoreError> {
        let pk = presence_pk(room, shard(user, PRESENCE_SHARDS));
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .key("sk", s(format!("USER#{user}")))
            .update_expression(
                "SET user_id = :user, last_seen = :now, joined_at = if_not_exists(joined_at, :now), #gpk = :pk, #gsk = :activity, #ttl = :ttl",
            )
            .expression_attribute_names("#gpk", GSI_PRESENCE.1)
            .expression_attribute_names("#gsk", GSI_PRESENCE.2)
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":user", s(user.as_str()))
            .expression_attribute_values(":now", time(&now))
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":activity", s(activity_key(now, user)))
            // A backstop only: reads filter on last_seen, the sweeper removes stale presence.
            .expression_attribute_values(":ttl", n(now.timestamp() + 86_400))
            .send()
            .await
            .map_err(unavailable)?;
        if !count_visit {
            return Ok(());
        }
        let counter = counter_key(room, shard(user, COUNTER_SHARDS));
        let first_visit = Put::builder()
            .table_name(&self.table)
            .item("pk", s(visitor_pk(room, shard(user, PRESENCE_SHARDS))))
            .item("sk", s(format!("USER#{user}")))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let count_both = Update::builder()
            .table_name(&self.table)
            .set_key(Some(counter.clone()))
            .update_expression("ADD pv :one, uv :one")
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let outcome = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(first_visit).build())
            .transact_items(TransactWriteItem::builder().update(count_both).build())
            .send()
            .await
            .map_err(transaction_conflict);
        match outcome {
            Ok(_) => Ok(()),
            // Visited before: a page view only.
            Err(StoreError::Conflict) => {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(counter))
                    .update_expression("ADD pv :one")
                    .expression_attribute_values(":one", n(1))
                    .send()
                    .await
                    .map_err(unavailable)?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn remove_presence(&self, room: &RoomId, user: &UserId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(presence_pk(room, shard(user, PRESENCE_SHARDS))))
            .key("sk", s(format!("USER#{user}")))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn online_members(
        &self,
        room: &RoomId,
        since: DateTime<Utc>,
        limit: u32,
        before: Option<&str>,
    ) -> Result<Vec<Presence>, StoreError> {
        let low = format!("{:013}", since.timestamp_millis() + 1);
        let high = before.unwrap_or("~").to_owned();
        let queries = (0..PRESENCE_SHARDS).map(|k| {
            let (low, high) = (low.clone(), high.clone());
            async move {
                let out = self
                    .presence_query(room, k, "#sk BETWEEN :low AND :high")
                    .expression_attribute_values(":low", s(low))
                    .expression_attribute_values(":high", s(&high))
                    .scan_index_forward(false)
                    // One more than a page, since the cursor item itself may be included.
                    .limit(limit as i32 + 1)
                    .send()
                    .await
                    .map_err(unavailable)?;
                out.items
                    .unwrap_or_default()
                    .iter()
                    .map(presence_from_item)
                    .collect::<Result<Vec<_>, _>>()
            }
        });
        let mut all = Vec::new();
        for shard_result in futures_util::future::join_all(queries).await {
            all.extend(shard_result?);
        }
        all.retain(|p| before.is_none_or(|b| p.activity_key().as_str() < b));
        all.sort_by_key(|p| std::cmp::Reverse(p.activity_key()));
        all.truncate(limit as usize);
        Ok(all)
    }

    async fn online_count(&self, room: &RoomId, since: DateTime<Utc>) -> Result<u64, StoreError> {
        let low = format!("{:013}", since.timestamp_millis() + 1);
        let counts = (0..PRESENCE_SHARDS).map(|k| {
            let low = low.clone();
            async move {
                let mut total = 0u64;
                let mut start = None;
                loop {
                    let out = self
                        .presence_query(room, k, "#sk >= :low")
                        .expression_attribute_values(":low", s(&low))
                        .select(Select::Count)
                        .set_exclusive_start_key(start)
                        .send()
                        .await
                        .map_err(unavailable)?;
                    total += u64::try_from(out.count).unwrap_or(0);
                    start = out.last_evaluated_key;
                    if start.is_none() {
                        return Ok::<u64, StoreError>(total);
                    }
                }
            }
        });
        let mut total = 0;
        for count in futures_util::future::join_all(counts).await {
            total += count?;
        }
        Ok(total)
    }

    async fn remove_stale_presence(
        &self,
        room: &RoomId,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut removed = 0;
        for k in 0..PRESENCE_SHARDS {
            let pk = presence_pk(room, k);
            let mut start = None;
            loop {
                let out = self
                    .presence_query(room, k, "#sk < :before")
                    .expression_attribute_values(":before", s(ms(&before)))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(unavailable)?;
                for item in out.items.unwrap_or_default() {
                    let p = presence_from_item(&item)?;
                    // Only if still stale: a keepalive since the query wins.
                    let deleted = self
                        .client
                        .delete_item()
                        .table_name(&self.table)
                        .key("pk", s(&pk))
                        .key("sk", s(format!("USER#{}", p.user_id)))
                        .condition_expression("last_seen < :before")
                        .expression_attribute_values(":before", time(&before))
                        .send()
                        .await
                        .map_err(conditional);
                    match deleted {
                        Ok(_) => removed += 1,
                        Err(StoreError::Conflict) => {}
                        Err(e) => return Err(e),
                    }
                }
                start = out.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
        }
        Ok(removed)
    }

    async fn counters(&self, room: &RoomId) -> Result<Counters, StoreError> {
        let keys = KeysAndAttributes::builder()
            .set_keys(Some(
                (0..COUNTER_SHARDS).map(|k| counter_key(room, k)).collect(),
            ))
            .consistent_read(true)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut pending = Some(HashMap::from([(self.table.clone(), keys)]));
        let mut total = Counters::default();
        // Unprocessed keys are retried a bounded number of times.
        for attempt in 0..5u32 {
            let Some(request) = pending.take().filter(|m| !m.is_empty()) else {
                return Ok(total);
            };
            let out = self
                .client
                .batch_get_item()
                .set_request_items(Some(request))
                .send()
                .await
                .map_err(unavailable)?;
            for item in out
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default()
            {
                let r = Reader(&item);
                let get = |name: &str| match item.get(name) {
                    Some(_) => r.num(name).map(|v| u64::try_from(v).unwrap_or(0)),
                    None => Ok(0),
                };
                total.pv += get("pv")?;
                total.uv += get("uv")?;
                total.likes += get("likes")?;
            }
            pending = out.unprocessed_keys;
            if pending.as_ref().is_some_and(|m| !m.is_empty()) {
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
        }
        match pending {
            Some(m) if !m.is_empty() => Err(StoreError::Unavailable(
                "counters left unprocessed".to_owned(),
            )),
            _ => Ok(total),
        }
    }

    async fn add_likes(&self, room: &RoomId, user: &UserId, count: u64) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(room, shard(user, COUNTER_SHARDS))))
            .update_expression("ADD likes :n")
            .expression_attribute_values(":n", n(count))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn rooms_with_status(
        &self,
        status: RoomStatus,
        created_before: Option<DateTime<Utc>>,
    ) -> Result<Vec<Room>, StoreError> {
        let mut rooms = Vec::new();
        let mut start = None;
        let before = created_before.map_or_else(|| "~".to_owned(), |t| super::created_prefix(&t));
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI_STATUS.0)
                .key_condition_expression("#pk = :pk AND #sk < :before")
                .expression_attribute_names("#pk", GSI_STATUS.1)
                .expression_attribute_names("#sk", GSI_STATUS.2)
                .expression_attribute_values(":pk", s(status_partition(status)))
                .expression_attribute_values(":before", s(&before))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.items.unwrap_or_default() {
                rooms.push(room_from_item(&item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(rooms);
            }
        }
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
        let mut partitions = vec![room_pk(id)];
        partitions.extend((0..PRESENCE_SHARDS).map(|k| presence_pk(id, k)));
        partitions.extend((0..PRESENCE_SHARDS).map(|k| visitor_pk(id, k)));
        partitions.extend((0..COUNTER_SHARDS).map(|k| format!("ROOM#{id}#C{k}")));
        for pk in partitions {
            self.delete_partition(&pk).await?;
        }
        Ok(())
    }
}
