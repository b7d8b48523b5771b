//! A metering proxy in front of the DynamoDB-compatible server: every request the functions make
//! passes through it and is billed as DynamoDB on-demand bills it — read and write request units
//! from item sizes (docs/benchmarks.md, "What it costs", has the rules and their sources), the
//! writes of each global secondary index the item is in, the bytes stored — and the keys of new
//! `OUTBOX#…` items are kept, to be delivered to the outbox function as its stream would.
//!
//! Where a request does not show what DynamoDB bills (the old item a write replaces, the whole of
//! an item read with a projection, the items a query's filter drops), the meter reads it itself
//! from the server, uncounted, and keeps the time that took (so that it can be taken off the
//! functions' billed durations). Requests are expected one at a time: what is taken after a
//! request is that request's.
//!
//! Never here: the bill (prices, the scenario: `crate::cost`), the call counts of `scripts/bench
//! calls` (`crate::proxy`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;

/// What DynamoDB bills for some requests of one operation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Units {
    pub requests: f64,
    /// Read request units.
    pub rru: f64,
    /// Write request units of the table itself.
    pub wru_table: f64,
    /// Write request units of the global secondary indexes (one write per index the item
    /// enters or leaves, two when its index key changes).
    pub wru_index: f64,
    /// Bytes stored added (negative: freed), the table's and its indexes' copies, with the
    /// 100 bytes of overhead per item and copy.
    pub stored_bytes: f64,
    /// Queries and scans, and the bytes of the items they read (what a line through two room
    /// sizes extrapolates: units are rounded per query).
    pub queries: f64,
    pub query_bytes: f64,
}

impl Units {
    pub fn add(&mut self, other: &Units) {
        self.requests += other.requests;
        self.rru += other.rru;
        self.wru_table += other.wru_table;
        self.wru_index += other.wru_index;
        self.stored_bytes += other.stored_bytes;
        self.queries += other.queries;
        self.query_bytes += other.query_bytes;
    }

    pub fn scaled(&self, by: f64) -> Units {
        Units {
            requests: self.requests * by,
            rru: self.rru * by,
            wru_table: self.wru_table * by,
            wru_index: self.wru_index * by,
            stored_bytes: self.stored_bytes * by,
            queries: self.queries * by,
            query_bytes: self.query_bytes * by,
        }
    }

    pub fn wru(&self) -> f64 {
        self.wru_table + self.wru_index
    }
}

/// What the meter saw since the last take.
#[derive(Debug, Default)]
pub struct Taken {
    /// By DynamoDB operation (`GetItem`, `Query`, …).
    pub units: BTreeMap<String, Units>,
    /// Time spent in the meter's own reads (not DynamoDB's: the functions waited for it).
    pub overhead_ms: f64,
    /// The keys (`pk`, `sk`) of the `OUTBOX#…` items put that did not exist before.
    pub outbox: Vec<(String, String)>,
}

/// A global secondary index: its key attributes.
#[derive(Clone, Debug)]
struct Index {
    hash: String,
    range: Option<String>,
}

impl Index {
    /// `item` if it is in the index (it has the index's key attributes: a sparse index).
    fn holding<'a>(&self, item: Option<&'a Item>) -> Option<&'a Item> {
        item.filter(|i| {
            i.contains_key(&self.hash) && self.range.as_ref().is_none_or(|r| i.contains_key(r))
        })
    }
}

/// A read of the meter's own, done after the invocation (so that the function does not wait for
/// it): the whole item a projection or a transaction read, or a query without its filter and
/// projection.
enum Job {
    Whole {
        op: String,
        table: String,
        key: Item,
        consistent: bool,
        factor: f64,
    },
    Rerun {
        op: String,
        request: Value,
        consistent: bool,
        fallback: usize,
    },
}

struct Shared {
    jobs: Mutex<Vec<Job>>,
    upstream: String,
    client: reqwest::Client,
    /// The table's key attributes.
    keys: Vec<String>,
    indexes: Vec<Index>,
    taken: Mutex<Taken>,
}

pub struct Meter {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

type Item = Map<String, Value>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The size of a number: 1 byte per two significant digits, plus 1.
fn number_size(n: &str) -> usize {
    let mantissa = n
        .trim_start_matches(['-', '+'])
        .split(['e', 'E'])
        .next()
        .unwrap_or("");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

/// The size of a value (without its name), as DynamoDB counts it.
fn value_size(v: &Value) -> usize {
    let Some((kind, inner)) = v.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    let strs = || {
        inner
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    };
    match kind.as_str() {
        "S" => inner.as_str().map_or(0, str::len),
        "N" => inner.as_str().map_or(1, number_size),
        "B" => inner.as_str().map_or(0, |b| b.len() / 4 * 3),
        "BOOL" | "NULL" => 1,
        "SS" => strs().map(str::len).sum(),
        "NS" => strs().map(number_size).sum(),
        "BS" => strs().map(|b| b.len() / 4 * 3).sum(),
        "L" => {
            3 + inner
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| value_size(e) + 1)
                .sum::<usize>()
        }
        "M" => {
            3 + inner
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, e)| k.len() + value_size(e) + 1)
                .sum::<usize>()
        }
        _ => 0,
    }
}

/// An item's size: its attribute names and values.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn units_of(bytes: usize, unit: usize) -> f64 {
    bytes.div_ceil(unit).max(1) as f64
}

/// Read units of `bytes` read (at least one unit), half when eventually consistent.
fn read_units(bytes: usize, consistent: bool) -> f64 {
    units_of(bytes, 4096) * if consistent { 1.0 } else { 0.5 }
}

fn write_units(bytes: usize) -> f64 {
    units_of(bytes, 1024)
}

impl Shared {
    /// One request of the meter's own to the server (uncounted).
    async fn raw(&self, op: &str, body: &Value) -> Option<Value> {
        let resp = self
            .client
            .post(&self.upstream)
            .header("x-amz-target", format!("DynamoDB_20120810.{op}"))
            .header("content-type", "application/x-amz-json-1.0")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(body.to_string())
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        resp.json().await.ok()
    }

    /// The whole item at `key` now (a strongly consistent read of the meter's own).
    async fn item(&self, table: &str, key: &Item, overhead: &mut f64) -> Option<Item> {
        let at = Instant::now();
        let found = self
            .raw(
                "GetItem",
                &json!({"TableName": table, "Key": key, "ConsistentRead": true}),
            )
            .await;
        *overhead += at.elapsed().as_secs_f64() * 1000.0;
        found?.get("Item")?.as_object().cloned()
    }

    fn key_of(&self, item: &Item) -> Item {
        self.keys
            .iter()
            .filter_map(|k| item.get(k).map(|v| (k.clone(), v.clone())))
            .collect()
    }

    /// The table's and its indexes' write units, and the bytes stored added, of a write that
    /// took the item from `old` to `new`.
    fn write(&self, old: Option<&Item>, new: Option<&Item>, units: &mut Units, factor: f64) {
        let old_size = old.map_or(0, item_size);
        let new_size = new.map_or(0, item_size);
        units.wru_table += write_units(old_size.max(new_size)) * factor;
        let stored = |size: usize| (size + 100) as f64;
        units.stored_bytes += new.map_or(0.0, |_| stored(new_size));
        units.stored_bytes -= old.map_or(0.0, |_| stored(old_size));
        for index in &self.indexes {
            let in_index = |item| index.holding(item);
            let key = |i: &Item| {
                (
                    i.get(&index.hash).cloned(),
                    index.range.as_ref().and_then(|r| i.get(r).cloned()),
                )
            };
            match (in_index(old), in_index(new)) {
                (None, None) => {}
                (None, Some(_)) => {
                    units.wru_index += write_units(new_size);
                    units.stored_bytes += stored(new_size);
                }
                (Some(_), None) => {
                    units.wru_index += write_units(old_size);
                    units.stored_bytes -= stored(old_size);
                }
                (Some(o), Some(n)) => {
                    if key(o) != key(n) {
                        units.wru_index += write_units(old_size) + write_units(new_size);
                    } else if o != n {
                        units.wru_index += write_units(old_size.max(new_size));
                    }
                    units.stored_bytes += stored(new_size) - stored(old_size);
                }
            }
        }
    }

    /// A query (or scan) as DynamoDB bills it: without its filter and projection (it bills the
    /// items it reads, not those it returns), or `None` when it has neither.
    fn plain(req: &Value) -> Option<Value> {
        let trimmed = ["FilterExpression", "ProjectionExpression", "Select"];
        if !trimmed.iter().any(|k| req.get(k).is_some()) {
            return None;
        }
        let mut plain = req.clone();
        if let Some(o) = plain.as_object_mut() {
            for k in trimmed {
                o.remove(k);
            }
            // Only the names and values the key condition still uses.
            let condition = o
                .get("KeyConditionExpression")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            for names in ["ExpressionAttributeNames", "ExpressionAttributeValues"] {
                if let Some(Value::Object(m)) = o.get_mut(names) {
                    m.retain(|k, _| mentions(&condition, k));
                    if m.is_empty() {
                        o.remove(names);
                    }
                }
            }
        }
        Some(plain)
    }

    fn defer(&self, job: Job) {
        lock(&self.jobs).push(job);
    }

    /// Runs the deferred reads, billing what they find.
    async fn run_jobs(&self) {
        let jobs = std::mem::take(&mut *lock(&self.jobs));
        for job in jobs {
            let mut units = Units::default();
            let op = match job {
                Job::Whole {
                    op,
                    table,
                    key,
                    consistent,
                    factor,
                } => {
                    let mut ignored = 0.0;
                    let size = self
                        .item(&table, &key, &mut ignored)
                        .await
                        .as_ref()
                        .map_or(0, item_size);
                    units.rru += factor * read_units(size, consistent);
                    op
                }
                Job::Rerun {
                    op,
                    request,
                    consistent,
                    fallback,
                } => {
                    let size = self
                        .raw(&op, &request)
                        .await
                        .map_or(fallback, |r| sized(&r));
                    units.rru += read_units(size, consistent);
                    units.queries += 1.0;
                    units.query_bytes += size as f64;
                    op
                }
            };
            lock(&self.taken).units.entry(op).or_default().add(&units);
        }
    }

    /// Bills one request (`op`, its body `req`), forwarding it; the server's answer.
    async fn bill(&self, op: &str, req: &Value, forward: impl AsyncFnOnce() -> Answer) -> Answer {
        let mut units = Units {
            requests: 1.0,
            ..Units::default()
        };
        let mut overhead = 0.0;
        let mut outbox = Vec::new();
        let table = req["TableName"].as_str().unwrap_or_default().to_owned();
        let consistent = req["ConsistentRead"].as_bool().unwrap_or(false);
        let answer;
        match op {
            "GetItem" => {
                answer = forward().await;
                let found = answer.json()["Item"].as_object().cloned();
                match (
                    &found,
                    req.get("ProjectionExpression"),
                    req["Key"].as_object(),
                ) {
                    (Some(_), Some(_), Some(key)) => self.defer(Job::Whole {
                        op: op.to_owned(),
                        table: table.clone(),
                        key: key.clone(),
                        consistent,
                        factor: 1.0,
                    }),
                    (Some(item), None, _) => units.rru += read_units(item_size(item), consistent),
                    _ => units.rru += read_units(0, consistent),
                }
            }
            "BatchGetItem" => {
                answer = forward().await;
                let resp = answer.json();
                for (t, ask) in req["RequestItems"].as_object().into_iter().flatten() {
                    let consistent = ask["ConsistentRead"].as_bool().unwrap_or(false);
                    let keys: Vec<&Item> = ask["Keys"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_object)
                        .collect();
                    if ask.get("ProjectionExpression").is_some() {
                        for key in keys {
                            self.defer(Job::Whole {
                                op: op.to_owned(),
                                table: t.clone(),
                                key: key.clone(),
                                consistent,
                                factor: 1.0,
                            });
                        }
                    } else {
                        let found: Vec<usize> = resp["Responses"][t]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_object)
                            .map(item_size)
                            .collect();
                        // Each item as its own GetItem; a key not found costs the least read.
                        for size in &found {
                            units.rru += read_units(*size, consistent);
                        }
                        units.rru += keys.len().saturating_sub(found.len()) as f64
                            * read_units(0, consistent);
                    }
                }
            }
            "Query" | "Scan" => {
                answer = forward().await;
                let size = sized(&answer.json());
                match Self::plain(req) {
                    Some(request) => self.defer(Job::Rerun {
                        op: op.to_owned(),
                        request,
                        consistent,
                        fallback: size,
                    }),
                    None => {
                        units.rru += read_units(size, consistent);
                        units.queries += 1.0;
                        units.query_bytes += size as f64;
                    }
                }
            }
            "TransactGetItems" => {
                answer = forward().await;
                for get in req["TransactItems"].as_array().into_iter().flatten() {
                    let get = &get["Get"];
                    if let (Some(t), Some(key)) =
                        (get["TableName"].as_str(), get["Key"].as_object())
                    {
                        self.defer(Job::Whole {
                            op: op.to_owned(),
                            table: t.to_owned(),
                            key: key.clone(),
                            consistent: true,
                            factor: 2.0,
                        });
                    }
                }
            }
            "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem" | "TransactWriteItems" => {
                // Each write: (table, key, the new item when the request names it).
                let mut writes: Vec<(String, Item, Option<Item>, bool)> = Vec::new();
                let mut checks: Vec<(String, Item)> = Vec::new();
                let factor = if op == "TransactWriteItems" { 2.0 } else { 1.0 };
                match op {
                    "PutItem" => {
                        if let Some(item) = req["Item"].as_object() {
                            writes.push((
                                table.clone(),
                                self.key_of(item),
                                Some(item.clone()),
                                true,
                            ));
                        }
                    }
                    "UpdateItem" | "DeleteItem" => {
                        if let Some(key) = req["Key"].as_object() {
                            writes.push((table.clone(), key.clone(), None, op == "DeleteItem"));
                        }
                    }
                    "BatchWriteItem" => {
                        for (t, list) in req["RequestItems"].as_object().into_iter().flatten() {
                            for w in list.as_array().into_iter().flatten() {
                                if let Some(item) = w["PutRequest"]["Item"].as_object() {
                                    writes.push((
                                        t.clone(),
                                        self.key_of(item),
                                        Some(item.clone()),
                                        true,
                                    ));
                                } else if let Some(key) = w["DeleteRequest"]["Key"].as_object() {
                                    writes.push((t.clone(), key.clone(), None, true));
                                }
                            }
                        }
                    }
                    _ => {
                        for action in req["TransactItems"].as_array().into_iter().flatten() {
                            let t =
                                |a: &Value| a["TableName"].as_str().unwrap_or_default().to_owned();
                            if let Some(item) = action["Put"]["Item"].as_object() {
                                writes.push((
                                    t(&action["Put"]),
                                    self.key_of(item),
                                    Some(item.clone()),
                                    true,
                                ));
                            } else if let Some(key) = action["Update"]["Key"].as_object() {
                                writes.push((t(&action["Update"]), key.clone(), None, false));
                            } else if let Some(key) = action["Delete"]["Key"].as_object() {
                                writes.push((t(&action["Delete"]), key.clone(), None, true));
                            } else if let Some(key) = action["ConditionCheck"]["Key"].as_object() {
                                checks.push((t(&action["ConditionCheck"]), key.clone()));
                            }
                        }
                    }
                }
                let mut olds = Vec::new();
                for (t, key, _, _) in &writes {
                    olds.push(self.item(t, key, &mut overhead).await);
                }
                for (t, key) in &checks {
                    let size = self
                        .item(t, key, &mut overhead)
                        .await
                        .as_ref()
                        .map_or(0, item_size);
                    units.wru_table += write_units(size) * factor;
                }
                answer = forward().await;
                let succeeded = answer.status.is_success();
                for ((t, key, given, known), old) in writes.iter().zip(&olds) {
                    // A put's new item is what it gives, a delete's none; an update's is read.
                    let new = if *known {
                        given.clone()
                    } else if succeeded {
                        self.item(t, key, &mut overhead).await
                    } else {
                        None
                    };
                    if succeeded {
                        self.write(old.as_ref(), new.as_ref(), &mut units, factor);
                        let pk = key.get("pk").and_then(|v| v["S"].as_str()).unwrap_or("");
                        if old.is_none() && given.is_some() && pk.starts_with("OUTBOX#") {
                            let sk = key.get("sk").and_then(|v| v["S"].as_str()).unwrap_or("");
                            outbox.push((pk.to_owned(), sk.to_owned()));
                        }
                    } else {
                        // A refused (conditional) write still costs the table's write.
                        let size = old
                            .as_ref()
                            .map_or(0, item_size)
                            .max(given.as_ref().map_or(0, item_size));
                        units.wru_table += write_units(size) * factor;
                    }
                }
            }
            _ => answer = forward().await,
        }
        let mut taken = lock(&self.taken);
        taken.units.entry(op.to_owned()).or_default().add(&units);
        taken.overhead_ms += overhead;
        taken.outbox.extend(outbox);
        answer
    }
}

/// The size of the items of a query's (or scan's) answer.
fn sized(r: &Value) -> usize {
    r["Items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(item_size)
        .sum()
}

/// Whether `expression` uses the placeholder `name` (`#n`, `:v`) as a whole word.
fn mentions(expression: &str, name: &str) -> bool {
    expression.match_indices(name).any(|(at, _)| {
        !expression[at + name.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The server's answer to a forwarded request.
struct Answer {
    status: StatusCode,
    headers: Vec<(String, Vec<u8>)>,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

async fn send(shared: &Shared, parts: &hyper::http::request::Parts, body: &Bytes) -> Answer {
    let mut out = shared.client.request(
        reqwest::Method::from_bytes(parts.method.as_str().as_bytes())
            .unwrap_or(reqwest::Method::POST),
        format!("{}{}", shared.upstream, parts.uri),
    );
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection") {
            out = out.header(name.as_str(), value.as_bytes());
        }
    }
    match out.body(body.to_vec()).send().await {
        Ok(resp) => {
            let status =
                StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let headers = resp
                .headers()
                .iter()
                .filter(|(n, _)| {
                    !matches!(
                        n.as_str(),
                        "content-length" | "connection" | "transfer-encoding"
                    )
                })
                .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
                .collect();
            let body = resp.bytes().await.unwrap_or_default();
            Answer {
                status,
                headers,
                body,
            }
        }
        Err(_) => Answer {
            status: StatusCode::BAD_GATEWAY,
            headers: Vec::new(),
            body: Bytes::new(),
        },
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let op = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit('.').next())
        .unwrap_or("?")
        .to_owned();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = shared
        .bill(&op, &request, async || send(&shared, &parts, &body).await)
        .await;
    let mut r = Response::new(Full::new(answer.body));
    *r.status_mut() = answer.status;
    for (n, v) in answer.headers {
        if let (Ok(n), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(n.as_bytes()),
            hyper::header::HeaderValue::from_bytes(&v),
        ) {
            r.headers_mut().append(n, v);
        }
    }
    r
}

impl Meter {
    /// A meter in front of the server at `upstream`, for `table` (its keys and indexes read
    /// from the server).
    pub async fn start(upstream: &str, table: &str) -> Result<Self, String> {
        let upstream = upstream.trim_end_matches('/').to_owned();
        let mut shared = Shared {
            upstream,
            client: reqwest::Client::new(),
            keys: Vec::new(),
            indexes: Vec::new(),
            taken: Mutex::new(Taken::default()),
            jobs: Mutex::new(Vec::new()),
        };
        let described = shared
            .raw("DescribeTable", &json!({"TableName": table}))
            .await
            .ok_or(format!("cannot describe table {table}"))?;
        let schema = |s: &Value| -> (String, Option<String>) {
            let of = |kind: &str| {
                s.as_array()
                    .into_iter()
                    .flatten()
                    .find(|k| k["KeyType"] == kind)
                    .and_then(|k| k["AttributeName"].as_str())
                    .map(str::to_owned)
            };
            (of("HASH").unwrap_or_default(), of("RANGE"))
        };
        let (hash, range) = schema(&described["Table"]["KeySchema"]);
        shared.keys = std::iter::once(hash).chain(range).collect();
        shared.indexes = described["Table"]["GlobalSecondaryIndexes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                let (hash, range) = schema(&i["KeySchema"]);
                Index { hash, range }
            })
            .collect();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("meter: {e}"))?;
        let addr = listener.local_addr().map_err(|e| format!("meter: {e}"))?;
        let shared = Arc::new(shared);
        liveroom_host::serve::spawn(listener, Arc::clone(&shared), handle);
        Ok(Self { addr, shared })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The number of global secondary indexes of the table.
    pub fn indexes(&self) -> usize {
        self.shared.indexes.len()
    }

    /// What was billed since the last take (the deferred reads done first).
    pub async fn take(&self) -> Taken {
        self.shared.run_jobs().await;
        std::mem::take(&mut *lock(&self.shared.taken))
    }
}
