//! The table's stream delivered as Lambda's event source mapping delivers it: for each function
//! with a `DynamoDB` event, the stream's shards are polled (four times a second, as Lambda
//! does), records that pass the mapping's `FilterCriteria` are batched (`BatchSize`,
//! `MaximumBatchingWindowInSeconds`), and each batch is one invocation with Lambda's
//! `{"Records": [...]}` event, in order, one batch in flight per shard. A failed batch is retried
//! `MaximumRetryAttempts` times (forever when -1 or absent, as Lambda retries until the records
//! expire), then discarded — there is no on-failure destination in the template, so what the
//! function did not finish must be finished by someone else (for liveroom: the sweeper).
//!
//! Filters: EventBridge-style patterns as Lambda applies them to a record: nested objects,
//! lists of allowed values, `prefix`, `exists`, `anything-but`. Anything else is refused when
//! the template is read, never guessed.
//!
//! Never here: the DynamoDB calls (`crate::dynamodb`), invoking (`crate::gateway`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::dynamodb::Dynamo;
use crate::gateway::Host;
use crate::template::StreamSource;

/// How often a shard is polled (Lambda: four times a second).
const POLL: Duration = Duration::from_millis(250);

/// Refuses a filter pattern with anything the matcher does not implement.
pub(crate) fn check_pattern(pattern: &Value) -> Result<(), String> {
    let Some(map) = pattern.as_object() else {
        return Err(format!("filter pattern `{pattern}`: not an object"));
    };
    for (k, v) in map {
        match v {
            Value::Object(_) => check_pattern(v)?,
            Value::Array(rules) => {
                for rule in rules {
                    if let Value::Object(op) = rule {
                        for (name, arg) in op {
                            let ok = match name.as_str() {
                                "prefix" => arg.is_string(),
                                "exists" => arg.is_boolean(),
                                "anything-but" => !arg.is_object(),
                                _ => false,
                            };
                            if !ok {
                                return Err(format!(
                                    "filter pattern: `{name}: {arg}` under `{k}` is not understood by the host"
                                ));
                            }
                        }
                    }
                }
            }
            _ => return Err(format!("filter pattern: `{k}` must be an object or a list")),
        }
    }
    Ok(())
}

/// Whether `event` matches `pattern` (Lambda event filtering).
pub fn matches(pattern: &Value, event: &Value) -> bool {
    let Some(map) = pattern.as_object() else {
        return false;
    };
    map.iter().all(|(k, want)| {
        let have = event.get(k);
        match want {
            Value::Object(_) => have.is_some_and(|h| h.is_object() && matches(want, h)),
            Value::Array(rules) => rules.iter().any(|rule| allows(rule, have)),
            _ => false,
        }
    })
}

fn allows(rule: &Value, have: Option<&Value>) -> bool {
    let leaves: Vec<&Value> = match have {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    };
    match rule {
        Value::Object(op) => op.iter().all(|(name, arg)| match name.as_str() {
            "prefix" => leaves.iter().any(|l| {
                l.as_str()
                    .zip(arg.as_str())
                    .is_some_and(|(l, p)| l.starts_with(p))
            }),
            "exists" => arg.as_bool() == Some(have.is_some()),
            "anything-but" => {
                let banned: Vec<&Value> = match arg {
                    Value::Array(a) => a.iter().collect(),
                    v => vec![v],
                };
                !leaves.is_empty() && leaves.iter().all(|l| !banned.contains(l))
            }
            _ => false,
        }),
        literal => leaves.contains(&literal),
    }
}

/// Whether a record passes the mapping's filters (all pass when there are none).
pub fn passes(source: &StreamSource, record: &Value) -> bool {
    source.filters.is_empty() || source.filters.iter().any(|p| matches(p, record))
}

/// Feeds every `DynamoDB` event of the template's functions from `table`'s stream, until the
/// process ends.
pub async fn run(host: Arc<Host>, dynamo: Dynamo, table: String) {
    let sources: Vec<(String, StreamSource)> = host
        .template()
        .functions
        .iter()
        .flat_map(|f| f.streams.iter().map(|s| (f.logical_id.clone(), s.clone())))
        .collect();
    for (function, source) in sources {
        let mapping = Mapping {
            host: Arc::clone(&host),
            dynamo: dynamo.clone(),
            table: table.clone(),
            function,
            source,
        };
        tokio::spawn(async move {
            let host = Arc::clone(&mapping.host);
            tokio::select! {
                () = mapping.run() => {}
                () = host.stopped() => {}
            }
        });
    }
}

struct Mapping {
    host: Arc<Host>,
    dynamo: Dynamo,
    table: String,
    function: String,
    source: StreamSource,
}

impl Mapping {
    fn log(&self, line: &str) {
        if self.host.logs() {
            eprintln!("stream {} → {}: {line}", self.source.name, self.function);
        }
    }

    /// The table's stream, once it has one.
    async fn stream_arn(&self) -> String {
        let mut told = false;
        loop {
            match self.dynamo.describe_table(&self.table).await {
                Ok(t) => {
                    if let Some(arn) = t["LatestStreamArn"].as_str() {
                        return arn.to_owned();
                    }
                    if !told {
                        self.log(&format!("table {} has no stream (yet)", self.table));
                    }
                }
                Err(e) if !told => self.log(&format!("table {}: {e}", self.table)),
                Err(_) => {}
            }
            told = true;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn run(self) {
        let arn = self.stream_arn().await;
        // Open shards and where each is read from; new shards are found every ten seconds.
        let mut shards: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut described: Option<Instant> = None;
        let mut pending: Vec<Value> = Vec::new();
        let mut first_pending: Option<Instant> = None;
        let mut first_description = true;
        loop {
            if described.is_none_or(|d| d.elapsed() >= Duration::from_secs(10)) {
                described = Some(Instant::now());
                if let Ok(d) = self
                    .dynamo
                    .streams("DescribeStream", json!({ "StreamArn": arn }))
                    .await
                {
                    for shard in d["StreamDescription"]["Shards"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        let Some(id) = shard["ShardId"].as_str() else {
                            continue;
                        };
                        if shards.contains_key(id) {
                            continue;
                        }
                        // Shards open at start begin where the mapping says; later ones whole.
                        let position = if first_description {
                            self.source.starting_position.as_str()
                        } else {
                            "TRIM_HORIZON"
                        };
                        let iterator = self
                            .dynamo
                            .streams(
                                "GetShardIterator",
                                json!({ "StreamArn": arn, "ShardId": id, "ShardIteratorType": position }),
                            )
                            .await
                            .ok()
                            .and_then(|i| i["ShardIterator"].as_str().map(str::to_owned));
                        shards.insert(id.to_owned(), iterator);
                    }
                    first_description = false;
                }
            }
            let mut read_any = false;
            for iterator in shards.values_mut() {
                let Some(it) = iterator.clone() else {
                    continue;
                };
                match self
                    .dynamo
                    .streams("GetRecords", json!({ "ShardIterator": it, "Limit": 1000 }))
                    .await
                {
                    Ok(r) => {
                        *iterator = r["NextShardIterator"].as_str().map(str::to_owned);
                        for record in r["Records"].as_array().into_iter().flatten() {
                            read_any = true;
                            let record = lambda_record(record, &arn);
                            if passes(&self.source, &record) {
                                first_pending.get_or_insert_with(Instant::now);
                                pending.push(record);
                            }
                        }
                    }
                    Err(e) if e.kind == "ExpiredIteratorException" => *iterator = None,
                    Err(e) => self.log(&format!("GetRecords: {e}")),
                }
            }
            let window = Duration::from_secs(self.source.batching_window_secs);
            while !pending.is_empty()
                && (pending.len() >= self.source.batch_size
                    || first_pending.is_some_and(|t| t.elapsed() >= window))
            {
                let n = pending.len().min(self.source.batch_size);
                let batch: Vec<Value> = pending.drain(..n).collect();
                self.deliver(batch).await;
                first_pending = (!pending.is_empty()).then(Instant::now);
            }
            if !read_any {
                tokio::time::sleep(POLL).await;
            }
        }
    }

    /// One batch: invoked, retried as the mapping says, then discarded.
    async fn deliver(&self, records: Vec<Value>) {
        let count = records.len();
        let event = json!({ "Records": records });
        let mut attempt: u64 = 0;
        loop {
            match self.host.invoke(&self.function, &event).await {
                Ok(_) => return,
                Err(f) => {
                    let retry = self.source.max_retries.is_none_or(|max| attempt < max);
                    if !retry {
                        self.log(&format!(
                            "a batch of {count} records failed ({}) and is discarded (MaximumRetryAttempts {attempt})",
                            f.why
                        ));
                        return;
                    }
                    attempt += 1;
                    self.log(&format!(
                        "a batch of {count} records failed ({}): retry {attempt}",
                        f.why
                    ));
                    tokio::time::sleep(Duration::from_millis(500 * attempt.min(20))).await;
                }
            }
        }
    }
}

/// A stream record as Lambda hands it to a function: the record, with `eventSourceARN`, and
/// `ApproximateCreationDateTime` in epoch seconds.
fn lambda_record(record: &Value, stream_arn: &str) -> Value {
    let mut r = record.clone();
    r["eventSourceARN"] = json!(stream_arn);
    r["eventVersion"] = json!("1.1");
    let at = &r["dynamodb"]["ApproximateCreationDateTime"];
    if let Some(s) = at.as_str() {
        let seconds = chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp())
            .unwrap_or_else(|_| chrono::Utc::now().timestamp());
        r["dynamodb"]["ApproximateCreationDateTime"] = json!(seconds);
    }
    r
}
