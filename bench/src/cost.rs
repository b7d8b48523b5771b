//! `liveroom-bench cost`: the bill of a scripted day of a real app. A sample of the day is run
//! through the deployed shape — `template.yaml` served by `liveroom_host::gateway::Host` through
//! the release function binaries, the table behind the metering proxy (`crate::meter`), the
//! outbox fed the keys of its new entries as the table's stream would (a KEYS_ONLY INSERT record
//! each, what the template's filter passes), the sweeper invoked with a scheduled event — and
//! each operation's measured cost (DynamoDB request units, Lambda GB-seconds and invocations,
//! API Gateway requests) is multiplied by the scenario's count of it (`SCENARIO`, below). Prints
//! Markdown tables: the scenario, DynamoDB by operation, Lambda by function, the bill, where the
//! money goes and what would halve it. A benchmark, not a test: nothing here asserts a figure.
//!
//! Never here: the billing rules of a request (`crate::meter`), the host (`liveroom_host`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use liveroom::auth::{TokenKeys, TokenKind};
use liveroom::domain::UserId;
use liveroom::env::JwtPrivateKey;
use liveroom::store::dynamo::DynamoStore;
use liveroom_host::gateway::{Host, Settings, Usage};
use liveroom_host::template::{Template, parameters};
use serde_json::{Value, json};

use crate::meter::{Meter, Units};

/// Prices, us-east-1, on-demand, as published since 2024-11-01 (written down 2026-12-07, not re-read from AWS then; free tiers ignored).
const PRICES_DATE: &str = "2026-12-07";
/// Lambda arm64, per GB-second.
const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
/// Lambda, per request.
const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
/// DynamoDB on-demand, per write request unit (since 2024-11-01).
const DYNAMODB_WRU: f64 = 0.625 / 1e6;
/// DynamoDB on-demand, per read request unit (since 2024-11-01).
const DYNAMODB_RRU: f64 = 0.125 / 1e6;
/// DynamoDB standard table class, per GB-month stored.
const DYNAMODB_GB_MONTH: f64 = 0.25;
/// API Gateway HTTP API, per request (first 300 million a month; each 512 KB is one).
const API_REQUEST: f64 = 1.00 / 1e6;

// The scripted day.
const SMALL_ROOMS: f64 = 999.0;
const SMALL_ROOM_SECONDS: f64 = 30.0 * 60.0;
/// Viewer visits per small room, each this long.
const SMALL_VISITS: f64 = 20.0;
const VISIT_SECONDS: f64 = 10.0 * 60.0;
const BIG_VIEWERS: f64 = 10_000.0;
const BIG_ROOM_SECONDS: f64 = 3600.0;
const ROOMS: f64 = SMALL_ROOMS + 1.0;
/// A keepalive every 10 s (viewers and anchors), a `get` and a like a minute (viewers), a
/// `members` every 30 s (anchors).
const KEEPALIVE_EVERY: f64 = 10.0;
const GET_EVERY: f64 = 60.0;
const LIKE_EVERY: f64 = 60.0;
const MEMBERS_EVERY: f64 = 30.0;
/// `METRICS_MAX_AGE_SECONDS`: a `get` recounts the room's members when its count is older.
const METRICS_MAX_AGE: f64 = 5.0;
const SWEEPS: f64 = 1440.0;
/// `RetentionDays`: what a day writes is stored this long.
const RETENTION_DAYS: f64 = 30.0;

/// The room sizes (members) the big room's operations are measured at.
const SIZES: [f64; 2] = [40.0, 200.0];
/// The open rooms the sweeper is measured with.
const OPEN_ROOMS: [f64; 2] = [0.0, 20.0];

/// How a scenario line's cost per operation comes from the sample.
#[derive(Clone, Copy)]
enum Basis {
    /// The sample of this label (the small rooms' life cycles).
    Sample,
    /// The mean of the big room's samples at both sizes (no dependence on size expected).
    Mean,
    /// The line through the samples at both sizes (`SIZES`, or `OPEN_ROOMS` for the sweeper),
    /// at this size.
    Fit(f64),
}

/// One line of the scenario: the label of the operation measured, how many a day, and where.
struct Line {
    what: &'static str,
    label: &'static str,
    per_day: f64,
    from: Basis,
    how: String,
}

fn small_concurrent() -> f64 {
    SMALL_VISITS * VISIT_SECONDS / SMALL_ROOM_SECONDS
}

/// Recounts in `seconds` of a room whose viewers `get` at rate `rate`/s: a `get` recounts when
/// the count is older than `METRICS_MAX_AGE` (a renewal process: the dead time, then the wait
/// for the next `get`).
fn recounts(seconds: f64, rate: f64) -> f64 {
    seconds * rate / (1.0 + rate * METRICS_MAX_AGE)
}

/// The scripted day, line by line.
fn scenario() -> Vec<Line> {
    let small_views = SMALL_ROOMS * SMALL_VISITS;
    let small_gets = small_views * VISIT_SECONDS / GET_EVERY;
    let small_recounts = SMALL_ROOMS * recounts(SMALL_ROOM_SECONDS, small_concurrent() / GET_EVERY);
    let big_gets = BIG_VIEWERS * BIG_ROOM_SECONDS / GET_EVERY;
    let big_recounts = recounts(BIG_ROOM_SECONDS, BIG_VIEWERS / GET_EVERY);
    let line = |what, label, per_day, from, how: &str| Line {
        what,
        label,
        per_day,
        from,
        how: how.to_owned(),
    };
    vec![
        line(
            "anchor: login",
            "login",
            ROOMS,
            Basis::Sample,
            "once per room",
        ),
        line(
            "anchor: create",
            "create",
            ROOMS,
            Basis::Sample,
            "once per room",
        ),
        line(
            "anchor: start",
            "start",
            ROOMS,
            Basis::Sample,
            "once per room",
        ),
        line(
            "anchor: join",
            "join (anchor)",
            ROOMS,
            Basis::Sample,
            "once per room",
        ),
        line(
            "anchor: stop",
            "stop",
            ROOMS,
            Basis::Sample,
            "once per room",
        ),
        line(
            "anchor: keepalive",
            "keepalive (anchor)",
            SMALL_ROOMS * SMALL_ROOM_SECONDS / KEEPALIVE_EVERY,
            Basis::Sample,
            "every 10 s, 999 rooms × 30 min",
        ),
        line(
            "anchor: keepalive, big room",
            "keepalive (anchor)",
            BIG_ROOM_SECONDS / KEEPALIVE_EVERY,
            Basis::Mean,
            "every 10 s, 1 h",
        ),
        line(
            "anchor: members",
            "members",
            SMALL_ROOMS * SMALL_ROOM_SECONDS / MEMBERS_EVERY,
            Basis::Sample,
            "every 30 s, 999 rooms × 30 min",
        ),
        line(
            "anchor: members, big room",
            "members",
            BIG_ROOM_SECONDS / MEMBERS_EVERY,
            Basis::Mean,
            "every 30 s, 1 h",
        ),
        line(
            "viewer: list",
            "list",
            small_views + BIG_VIEWERS,
            Basis::Sample,
            "once per visit",
        ),
        line(
            "viewer: join",
            "join",
            small_views,
            Basis::Sample,
            "20 visits × 999 rooms",
        ),
        line(
            "viewer: join, big room",
            "join (big room)",
            BIG_VIEWERS,
            Basis::Sample,
            "10,000 viewers",
        ),
        line(
            "viewer: keepalive",
            "keepalive",
            small_views * VISIT_SECONDS / KEEPALIVE_EVERY,
            Basis::Sample,
            "every 10 s of a 10 min visit",
        ),
        line(
            "viewer: keepalive, big room",
            "keepalive",
            BIG_VIEWERS * BIG_ROOM_SECONDS / KEEPALIVE_EVERY,
            Basis::Mean,
            "every 10 s, 10,000 viewers × 1 h",
        ),
        line(
            "viewer: get",
            "get",
            small_gets - small_recounts,
            Basis::Sample,
            "a minute of a visit, but for the recounts",
        ),
        line(
            "viewer: get that recounts the members",
            "get (count refresh)",
            small_recounts,
            Basis::Fit(small_concurrent()),
            "count older than 5 s; at the mean 6.7 viewers present",
        ),
        line(
            "viewer: get, big room",
            "get",
            big_gets - big_recounts,
            Basis::Mean,
            "a minute, 10,000 viewers × 1 h, but for the recounts",
        ),
        line(
            "viewer: get that recounts, big room",
            "get (count refresh)",
            big_recounts,
            Basis::Fit(BIG_VIEWERS),
            "at most one per 5 s; at 10,000 members",
        ),
        line(
            "viewer: like",
            "like",
            small_views * VISIT_SECONDS / LIKE_EVERY,
            Basis::Sample,
            "a minute of a visit",
        ),
        line(
            "viewer: like, big room",
            "like",
            BIG_VIEWERS * BIG_ROOM_SECONDS / LIKE_EVERY,
            Basis::Mean,
            "a minute, 10,000 viewers × 1 h",
        ),
        line(
            "viewer: leave",
            "leave",
            small_views,
            Basis::Sample,
            "once per visit",
        ),
        line(
            "viewer: leave, big room",
            "leave (big room)",
            BIG_VIEWERS,
            Basis::Sample,
            "10,000 viewers",
        ),
        line(
            "sweeper (schedule)",
            "sweep",
            SWEEPS,
            Basis::Fit(room_hours() / 24.0),
            "every minute, with the day's mean 20.9 open rooms",
        ),
    ]
}

fn room_hours() -> f64 {
    (SMALL_ROOMS * SMALL_ROOM_SECONDS + BIG_ROOM_SECONDS) / 3600.0
}

fn viewer_hours() -> f64 {
    (SMALL_ROOMS * SMALL_VISITS * VISIT_SECONDS + BIG_VIEWERS * BIG_ROOM_SECONDS) / 3600.0
}

/// One function's share of an operation.
#[derive(Clone, Debug, Default)]
struct Lambda {
    invocations: f64,
    gb_seconds: f64,
    cold_starts: f64,
}

/// What some operations of one label cost in all (divide by `n` for one).
#[derive(Clone, Debug, Default)]
struct Sample {
    n: f64,
    api_requests: f64,
    dynamodb: BTreeMap<String, Units>,
    lambda: BTreeMap<String, Lambda>,
}

impl Sample {
    fn add(&mut self, other: &Sample) {
        self.n += other.n;
        self.api_requests += other.api_requests;
        for (op, u) in &other.dynamodb {
            self.dynamodb.entry(op.clone()).or_default().add(u);
        }
        for (f, l) in &other.lambda {
            let mine = self.lambda.entry(f.clone()).or_default();
            mine.invocations += l.invocations;
            mine.gb_seconds += l.gb_seconds;
            mine.cold_starts += l.cold_starts;
        }
    }

    /// `self × a + other × b`, per operation (`n` = 1).
    fn combine(&self, a: f64, other: &Sample, b: f64) -> Sample {
        let per = |s: &Sample| if s.n > 0.0 { 1.0 / s.n } else { 0.0 };
        let (a, b) = (a * per(self), b * per(other));
        let mut out = Sample {
            n: 1.0,
            api_requests: self.api_requests * a + other.api_requests * b,
            ..Sample::default()
        };
        for (s, k) in [(self, a), (other, b)] {
            for (op, u) in &s.dynamodb {
                let mine = out.dynamodb.entry(op.clone()).or_default();
                let u = u.scaled(k);
                mine.rru += u.rru;
                mine.wru_table += u.wru_table;
                mine.wru_index += u.wru_index;
                mine.stored_bytes += u.stored_bytes;
                mine.requests += u.requests;
                mine.queries += u.queries;
                mine.query_bytes += u.query_bytes;
            }
            for (f, l) in &s.lambda {
                let mine = out.lambda.entry(f.clone()).or_default();
                mine.invocations += l.invocations * k;
                mine.gb_seconds += l.gb_seconds * k;
                mine.cold_starts += l.cold_starts * k;
            }
        }
        // A line through two points can go below zero: nothing costs less than nothing.
        for u in out.dynamodb.values_mut() {
            u.rru = u.rru.max(0.0);
            u.wru_table = u.wru_table.max(0.0);
            u.wru_index = u.wru_index.max(0.0);
        }
        for l in out.lambda.values_mut() {
            l.invocations = l.invocations.max(0.0);
            l.gb_seconds = l.gb_seconds.max(0.0);
        }
        out
    }

    fn dynamodb_total(&self) -> Units {
        let mut t = Units::default();
        for u in self.dynamodb.values() {
            t.add(u);
        }
        t
    }
}

/// The parts of the bill.
const PARTS: [&str; 7] = [
    "Lambda requests",
    "Lambda compute (GB-s)",
    "DynamoDB reads",
    "DynamoDB writes, table",
    "DynamoDB writes, indexes",
    "DynamoDB storage",
    "API Gateway requests",
];

/// The dollars a day of `per_day` operations costing `one` each, by part (`PARTS`).
fn dollars(one: &Sample, per_day: f64) -> [f64; 7] {
    let units = one.dynamodb_total();
    let invocations: f64 = one.lambda.values().map(|l| l.invocations).sum();
    let gb_seconds: f64 = one.lambda.values().map(|l| l.gb_seconds).sum();
    // What a day writes stays RETENTION_DAYS: the steady state holds that many days of it.
    let stored_gb = (units.stored_bytes * RETENTION_DAYS).max(0.0) / 1e9;
    [
        invocations * LAMBDA_REQUEST,
        gb_seconds * LAMBDA_GB_SECOND,
        units.rru * DYNAMODB_RRU,
        units.wru_table * DYNAMODB_WRU,
        units.wru_index * DYNAMODB_WRU,
        stored_gb * DYNAMODB_GB_MONTH * 12.0 / 365.0,
        one.api_requests * API_REQUEST,
    ]
    .map(|d| d * per_day)
}

/// The run: the host, the meter, the samples by label.
struct Run {
    host: Arc<Host>,
    meter: Meter,
    base: String,
    http: reqwest::Client,
    memory_mb: BTreeMap<String, u32>,
    samples: BTreeMap<String, Sample>,
    keys: TokenKeys,
    sequence: u64,
}

fn usage_delta(
    before: &BTreeMap<String, Usage>,
    after: &BTreeMap<String, Usage>,
) -> Vec<(String, Usage)> {
    after
        .iter()
        .filter_map(|(f, a)| {
            let b = before.get(f).cloned().unwrap_or_default();
            (a.invocations > b.invocations).then(|| {
                (
                    f.clone(),
                    Usage {
                        invocations: a.invocations - b.invocations,
                        cold_starts: a.cold_starts - b.cold_starts,
                        billed_ms: a.billed_ms - b.billed_ms,
                        gb_seconds: a.gb_seconds - b.gb_seconds,
                        ..Usage::default()
                    },
                )
            })
        })
        .collect()
}

impl Run {
    /// Bills what happened since `before` (the host's usage) to `sample`: the meter's units,
    /// and the functions' GB-seconds less the time they waited for the meter's own reads.
    async fn settle(
        &self,
        before: &BTreeMap<String, Usage>,
        sample: &mut Sample,
    ) -> Vec<(String, String)> {
        let taken = self.meter.take().await;
        for (op, u) in &taken.units {
            sample.dynamodb.entry(op.clone()).or_default().add(u);
        }
        for (f, u) in usage_delta(before, &self.host.usage()) {
            let memory = f64::from(self.memory_mb.get(&f).copied().unwrap_or(128));
            let invocations = u.invocations as f64;
            // At least 1 ms billed per invocation, as Lambda bills.
            let billed_ms = (u.billed_ms as f64 - taken.overhead_ms).max(invocations);
            let l = sample.lambda.entry(f).or_default();
            l.invocations += invocations;
            l.cold_starts += u.cold_starts as f64;
            l.gb_seconds += billed_ms / 1000.0 * memory / 1024.0;
        }
        taken.outbox
    }

    /// The outbox's stream batches for `keys` (at most 100 records each, as the template's
    /// mapping has it), delivered; billed to `sample`.
    async fn deliver(
        &mut self,
        mut keys: Vec<(String, String)>,
        sample: &mut Sample,
    ) -> Result<(), String> {
        while !keys.is_empty() {
            let batch: Vec<(String, String)> = keys.drain(..keys.len().min(100)).collect();
            let records: Vec<Value> = batch
                .iter()
                .map(|(pk, sk)| {
                    self.sequence += 1;
                    json!({
                        "eventID": uuid::Uuid::new_v4().simple().to_string(),
                        "eventName": "INSERT",
                        "eventVersion": "1.1",
                        "eventSource": "aws:dynamodb",
                        "awsRegion": "us-east-1",
                        "dynamodb": {
                            "ApproximateCreationDateTime": chrono::Utc::now().timestamp(),
                            "Keys": {"pk": {"S": pk}, "sk": {"S": sk}},
                            "SequenceNumber": self.sequence.to_string(),
                            "SizeBytes": pk.len() + sk.len() + 8,
                            "StreamViewType": "KEYS_ONLY"
                        },
                        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/liveroom-Table/stream/2026-01-01T00:00:00.000"
                    })
                })
                .collect();
            let before = self.host.usage();
            self.host
                .invoke("OutboxFunction", &json!({"Records": records}))
                .await
                .map_err(|f| format!("outbox: {}", f.why))?;
            keys.extend(self.settle(&before, sample).await);
        }
        Ok(())
    }

    /// One request to the API; billed under `label` (none: setup, not billed). A `get` that
    /// recounted the room's members (it queried the presence) is billed as such.
    async fn call(
        &mut self,
        label: Option<&str>,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> Result<Value, String> {
        let _ = self.meter.take().await;
        let before = self.host.usage();
        let mut req = self
            .http
            .post(format!("{}/api/v1/live/{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = req.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let mut sample = Sample {
            n: 1.0,
            api_requests: 1.0,
            ..Sample::default()
        };
        let outbox = self.settle(&before, &mut sample).await;
        self.deliver(outbox, &mut sample).await?;
        if !status.is_success() {
            return Err(format!("{path}: {status} {text}"));
        }
        if let Some(label) = label {
            let label = match label.strip_prefix("get") {
                Some(rest) if sample.dynamodb.contains_key("Query") => {
                    format!("get (count refresh){rest}")
                }
                _ => label.to_owned(),
            };
            self.samples.entry(label).or_default().add(&sample);
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// One scheduled run of the sweeper, billed under `label`.
    async fn sweep(&mut self, label: Option<&str>) -> Result<(), String> {
        let _ = self.meter.take().await;
        let before = self.host.usage();
        let event = json!({
            "version": "0",
            "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": "Scheduled Event",
            "source": "aws.scheduler",
            "account": "123456789012",
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "region": "us-east-1",
            "resources": ["arn:aws:scheduler:us-east-1:123456789012:schedule/default/liveroom-SweeperFunctionEveryMinute"],
            "detail": {}
        });
        self.host
            .invoke("SweeperFunction", &event)
            .await
            .map_err(|f| format!("sweeper: {}", f.why))?;
        let mut sample = Sample {
            n: 1.0,
            ..Sample::default()
        };
        let outbox = self.settle(&before, &mut sample).await;
        self.deliver(outbox, &mut sample).await?;
        if let Some(label) = label {
            self.samples
                .entry(label.to_owned())
                .or_default()
                .add(&sample);
        }
        Ok(())
    }

    /// A registered user's token (register, then login; billed under `login` if given).
    async fn anchor(&mut self, login: Option<&str>) -> Result<String, String> {
        let username = format!("anchor{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let password = "the cost bench's password";
        self.call(
            None,
            "register",
            None,
            json!({"username": username, "password": password, "nick": "Anchor"}),
        )
        .await?;
        let answer = self
            .call(
                login,
                "login",
                None,
                json!({"username": username, "password": password}),
            )
            .await?;
        answer["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or(format!("login: no token in {answer}"))
    }

    /// A viewer's token: a user registered (for signature login: no password hash) and a
    /// token issued with the template's key, as if the viewer had logged in days ago.
    async fn viewer(&mut self) -> Result<String, String> {
        let username = format!("viewer{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        self.call(
            None,
            "register",
            None,
            json!({"username": username, "salt": "cost-bench-signature-salt-local-only"}),
        )
        .await?;
        self.keys
            .issue(
                &UserId::parse("username", &username).map_err(|e| e.to_string())?,
                TokenKind::Access,
                chrono::Utc::now(),
                Duration::from_secs(86_400),
            )
            .map(|t| t.token)
            .map_err(|e| e.to_string())
    }

    /// A new room of `anchor`, started, the anchor in it; its id.
    async fn room(&mut self, anchor: &str, billed: bool) -> Result<String, String> {
        let l = |s| billed.then_some(s);
        let created = self
            .call(
                l("create"),
                "create",
                Some(anchor),
                json!({"title": "Friday night live", "notice": "Welcome!", "cover_url": "https://cdn.example.com/cover.png", "mode": 1, "category": "music"}),
            )
            .await?;
        let id = created["id"]
            .as_str()
            .ok_or(format!("create: no id in {created}"))?
            .to_owned();
        self.call(l("start"), "start", Some(anchor), json!({"id": id}))
            .await?;
        self.call(l("join (anchor)"), "join", Some(anchor), json!({"id": id}))
            .await?;
        Ok(id)
    }

    /// The sample of `label`, or of `label @x` for `x` in `xs` (a mean, or the line through
    /// them at `x`), per operation.
    fn per_op(&self, label: &str, from: Basis, xs: [f64; 2]) -> Result<Sample, String> {
        let get = |l: &str| {
            self.samples
                .get(l)
                .filter(|s| s.n > 0.0)
                .ok_or(format!("no sample of `{l}`"))
        };
        let at = |x: f64| format!("{label} @{x}");
        Ok(match from {
            Basis::Sample => get(label)?.combine(1.0, &Sample::default(), 0.0),
            Basis::Mean => get(&at(xs[0]))?.combine(0.5, get(&at(xs[1]))?, 0.5),
            Basis::Fit(x) => {
                let t = (x - xs[0]) / (xs[1] - xs[0]);
                let mut one = get(&at(xs[0]))?.combine(1.0 - t, get(&at(xs[1]))?, t);
                if label.starts_with("get (count refresh)") {
                    // The recount's queries (one per presence shard, on an index: eventually
                    // consistent) read more as the room grows, rounded up to 4 KB per query:
                    // the line runs through the bytes, the units are rounded at the size.
                    if let Some(q) = one.dynamodb.get_mut("Query").filter(|q| q.queries > 0.0) {
                        let per_query = (q.query_bytes / q.queries / 4096.0).ceil().max(1.0);
                        q.rru = q.queries * 0.5 * per_query;
                    }
                }
                one
            }
        })
    }
}

/// The webhook receiver the outbox delivers to: answers every request 200.
async fn receiver() -> Result<String, String> {
    use http_body_util::Full;
    use hyper::body::Bytes;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("receiver: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("receiver: {e}"))?;
    liveroom_host::serve::spawn(listener, std::sync::Arc::new(()), |_, _| async {
        hyper::Response::new(Full::new(Bytes::from_static(b"{}")))
    });
    Ok(format!("http://{addr}/webhook"))
}

fn money(d: f64) -> String {
    if d >= 100.0 {
        format!("${d:.0}")
    } else if d >= 0.1 {
        format!("${d:.2}")
    } else {
        format!("${d:.4}")
    }
}

fn count(n: f64) -> String {
    let n = n.round();
    #[allow(clippy::cast_possible_truncation)]
    let digits = (n as i64).to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Runs the sample and prints the bill.
pub async fn run(bin_dir: &Path, dynamodb: &str) -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let table = format!("liveroom-cost-{}", uuid::Uuid::new_v4().simple());
    DynamoStore::new(crate::client(dynamodb), &table)
        .create_table()
        .await
        .map_err(|e| format!("create table: {e}"))?;
    let meter = Meter::start(dynamodb, &table).await?;
    let mut params = parameters(
        &std::fs::read_to_string(root.join("host/local-parameters.json"))
            .map_err(|e| format!("host/local-parameters.json: {e}"))?,
    )?;
    let webhook = receiver().await?;
    for (k, v) in [
        // Webhooks on: every change writes its outbox entries, the outbox delivers them.
        ("WebhookUrl", webhook.as_str()),
        (
            "WebhookSecret",
            "the cost bench's webhook secret, 32 bytes or more",
        ),
        ("RegistrationsPerAddressPerMinute", "1000000"),
        ("RegistrationsPerMinute", "1000000"),
        // Nobody goes silent in the sample (compressed time): every viewer leaves, and the
        // sweeps find no one to reclaim.
        ("HeartbeatTimeoutSeconds", "3600"),
        ("AnchorTimeoutSeconds", "3600"),
        ("IdleRoomTimeoutSeconds", "3600"),
        ("LogLevel", "warn"),
    ] {
        params.insert(k.to_owned(), v.to_owned());
    }
    let private_key = params
        .get("JwtPrivateKey")
        .cloned()
        .ok_or("no JwtPrivateKey in host/local-parameters.json")?;
    let text = std::fs::read_to_string(root.join("template.yaml"))
        .map_err(|e| format!("template.yaml: {e}"))?;
    let template = Template::parse(&text, &params, &table)?;
    let memory_mb = template
        .functions
        .iter()
        .map(|f| (f.logical_id.clone(), f.memory_mb))
        .collect();
    let host = Arc::new(Host::new(
        template,
        Settings {
            // No instance stops during the sample: every billed invocation is warm.
            idle: Duration::from_secs(3600),
            // The sample drives the outbox and the sweeper itself, each counted once.
            streams: false,
            schedules: false,
            ..Settings::new(bin_dir.to_path_buf(), &meter.url()).quiet()
        },
    )?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("listen: {e}"))?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| format!("listen: {e}"))?
    );
    tokio::spawn(Arc::clone(&host).serve(listener));
    let indexes = meter.indexes();
    let mut run = Run {
        host,
        meter,
        base,
        http: reqwest::Client::new(),
        memory_mb,
        samples: BTreeMap::new(),
        keys: TokenKeys::issuing(
            &JwtPrivateKey::parse("JWT_PRIVATE_KEY", &private_key).map_err(|e| e.to_string())?,
        ),
        sequence: 0,
    };
    let started = std::time::Instant::now();
    eprintln!("liveroom-bench cost: setup (20 open rooms, every function warm)");

    // Setup, not billed: 20 open rooms (what a listing pages through, and the sweeper's second
    // point), every function warm (the sample measures warm invocations).
    let mut fillers = Vec::new();
    for _ in 0..20 {
        let anchor = run.anchor(None).await?;
        let id = run.room(&anchor, false).await?;
        fillers.push((anchor, id));
    }
    let warm = run.viewer().await?;
    let (filler_anchor, filler) = fillers[0].clone();
    for path in ["join", "keepalive", "get", "like"] {
        run.call(None, path, Some(&warm), json!({"id": filler, "count": 1}))
            .await?;
    }
    run.call(
        None,
        "list",
        Some(&warm),
        json!({"page_num": 1, "page_size": 20, "status": -1}),
    )
    .await?;
    run.call(
        None,
        "members",
        Some(&filler_anchor),
        json!({"id": filler, "limit": 20}),
    )
    .await?;
    run.call(
        None,
        "keepalive",
        Some(&filler_anchor),
        json!({"id": filler}),
    )
    .await?;
    run.call(None, "leave", Some(&warm), json!({"id": filler}))
        .await?;
    run.sweep(None).await?;

    eprintln!("liveroom-bench cost: sweeps with 20 open rooms");
    for _ in 0..3 {
        run.sweep(Some(&format!("sweep @{}", OPEN_ROOMS[1])))
            .await?;
    }

    eprintln!("liveroom-bench cost: 3 small rooms' life cycles");
    for _ in 0..3 {
        let anchor = run.anchor(Some("login")).await?;
        let id = run.room(&anchor, true).await?;
        let mut viewers = Vec::new();
        for _ in 0..4 {
            let v = run.viewer().await?;
            run.call(
                Some("list"),
                "list",
                Some(&v),
                json!({"page_num": 1, "page_size": 20, "status": -1}),
            )
            .await?;
            run.call(Some("join"), "join", Some(&v), json!({"id": id}))
                .await?;
            viewers.push(v);
        }
        for _ in 0..3 {
            for v in &viewers {
                run.call(Some("keepalive"), "keepalive", Some(v), json!({"id": id}))
                    .await?;
                run.call(Some("get"), "get", Some(v), json!({"id": id}))
                    .await?;
                run.call(Some("like"), "like", Some(v), json!({"id": id, "count": 3}))
                    .await?;
            }
            run.call(
                Some("keepalive (anchor)"),
                "keepalive",
                Some(&anchor),
                json!({"id": id}),
            )
            .await?;
            run.call(
                Some("members"),
                "members",
                Some(&anchor),
                json!({"id": id, "limit": 20}),
            )
            .await?;
        }
        for v in &viewers {
            run.call(Some("leave"), "leave", Some(v), json!({"id": id}))
                .await?;
        }
        run.call(Some("stop"), "stop", Some(&anchor), json!({"id": id}))
            .await?;
    }

    eprintln!(
        "liveroom-bench cost: the big room at {} and {} members",
        SIZES[0], SIZES[1]
    );
    let anchor = run.anchor(None).await?;
    let big = run.room(&anchor, false).await?;
    let mut viewers: Vec<String> = Vec::new();
    for size in SIZES {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        while viewers.len() < size as usize {
            let v = run.viewer().await?;
            run.call(
                Some("join (big room)"),
                "join",
                Some(&v),
                json!({"id": big}),
            )
            .await?;
            viewers.push(v);
        }
        let at = |l: &str| format!("{l} @{size}");
        for v in viewers.iter().rev().take(20).cloned().collect::<Vec<_>>() {
            run.call(
                Some(&at("keepalive")),
                "keepalive",
                Some(&v),
                json!({"id": big}),
            )
            .await?;
            run.call(
                Some(&at("like")),
                "like",
                Some(&v),
                json!({"id": big, "count": 3}),
            )
            .await?;
            run.call(Some(&at("get")), "get", Some(&v), json!({"id": big}))
                .await?;
        }
        for _ in 0..5 {
            run.call(
                Some(&at("keepalive (anchor)")),
                "keepalive",
                Some(&anchor),
                json!({"id": big}),
            )
            .await?;
            run.call(
                Some(&at("members")),
                "members",
                Some(&anchor),
                json!({"id": big, "limit": 20}),
            )
            .await?;
        }
        // Recounts: a `get` once the count is older than METRICS_MAX_AGE.
        for v in viewers.iter().take(2).cloned().collect::<Vec<_>>() {
            tokio::time::sleep(Duration::from_secs_f64(METRICS_MAX_AGE + 0.3)).await;
            run.call(Some(&at("get")), "get", Some(&v), json!({"id": big}))
                .await?;
        }
    }
    for v in viewers.iter().take(20).cloned().collect::<Vec<_>>() {
        run.call(
            Some("leave (big room)"),
            "leave",
            Some(&v),
            json!({"id": big}),
        )
        .await?;
    }

    eprintln!("liveroom-bench cost: sweeps with no open room");
    run.call(None, "stop", Some(&anchor), json!({"id": big}))
        .await?;
    for (anchor, id) in fillers.clone() {
        run.call(None, "stop", Some(&anchor), json!({"id": id}))
            .await?;
    }
    for _ in 0..3 {
        run.sweep(Some(&format!("sweep @{}", OPEN_ROOMS[0])))
            .await?;
    }
    eprintln!(
        "liveroom-bench cost: sample done in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    report(&run, indexes)
}

/// Prints the scenario, the tables and the bill.
fn report(run: &Run, indexes: usize) -> Result<(), String> {
    let lines = scenario();
    let mut day: Vec<(&Line, Sample, [f64; 7])> = Vec::new();
    for line in &lines {
        let xs = if line.label == "sweep" {
            OPEN_ROOMS
        } else {
            SIZES
        };
        let one = run.per_op(line.label, line.from, xs)?;
        let d = dollars(&one, line.per_day);
        day.push((line, one, d));
    }
    let total: f64 = day.iter().map(|(_, _, d)| d.iter().sum::<f64>()).sum();

    println!(
        "Scenario: a day of {} rooms; {} room-hours, {} viewer-hours. Prices us-east-1, on-demand, as published since 2024-11-01 (table of {PRICES_DATE}, not re-read from AWS); free tiers ignored.",
        count(ROOMS),
        count(room_hours()),
        count(viewer_hours())
    );
    println!();
    println!("| operation | per day | how counted | measured as |");
    println!("|---|---|---|---|");
    for (line, _, _) in &day {
        let from = match line.from {
            Basis::Sample => "small rooms' sample".to_owned(),
            Basis::Mean => format!("mean at {} and {} members", SIZES[0], SIZES[1]),
            Basis::Fit(x) if line.label == "sweep" => format!(
                "line through {} and {} open rooms, at {x:.1}",
                OPEN_ROOMS[0], OPEN_ROOMS[1]
            ),
            Basis::Fit(x) => format!(
                "line through {} and {} members, at {}",
                SIZES[0],
                SIZES[1],
                count(x)
            ),
        };
        println!(
            "| {} | {} | {} | {from} |",
            line.what,
            count(line.per_day),
            line.how
        );
    }

    println!();
    println!(
        "#### The sample, per operation measured (warm invocations; `@n`: at n members, or n open rooms)"
    );
    println!();
    println!(
        "| measured | n | DynamoDB calls / op | RRU / op | WRU table / op | WRU indexes / op | bytes stored / op | Lambda ms billed / op | outbox invocations / op |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (label, s) in &run.samples {
        let one = s.combine(1.0, &Sample::default(), 0.0);
        let u = one.dynamodb_total();
        let calls: Vec<String> = one
            .dynamodb
            .iter()
            .map(|(op, u)| format!("{:.1} {op}", u.requests))
            .collect();
        let ms: f64 = one
            .lambda
            .iter()
            .map(|(f, l)| {
                l.gb_seconds * 1000.0 * 1024.0
                    / f64::from(run.memory_mb.get(f).copied().unwrap_or(128))
            })
            .sum();
        let outbox = one
            .lambda
            .get("OutboxFunction")
            .map_or(0.0, |l| l.invocations);
        println!(
            "| {label} | {} | {} | {:.2} | {:.2} | {:.2} | {:.0} | {ms:.1} | {outbox:.2} |",
            s.n,
            calls.join(", "),
            u.rru,
            u.wru_table,
            u.wru_index,
            u.stored_bytes,
        );
    }

    println!();
    println!("#### DynamoDB request units by operation ({indexes} global secondary indexes)");
    println!();
    println!(
        "| operation | per day | DynamoDB requests / op | RRU / op | WRU table / op | WRU indexes / op | RRU a day | WRU a day | $ a day |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let (mut rru, mut wru) = (0.0, 0.0);
    for (line, one, d) in &day {
        let u = one.dynamodb_total();
        rru += u.rru * line.per_day;
        wru += u.wru() * line.per_day;
        println!(
            "| {} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
            line.what,
            count(line.per_day),
            u.requests,
            u.rru,
            u.wru_table,
            u.wru_index,
            count(u.rru * line.per_day),
            count(u.wru() * line.per_day),
            money(d[2] + d[3] + d[4]),
        );
    }
    println!(
        "| **all** | | | | | | {} | {} | {} |",
        count(rru),
        count(wru),
        money(day.iter().map(|(_, _, d)| d[2] + d[3] + d[4]).sum())
    );

    println!();
    println!("#### Lambda by function (arm64, the template's memory; measured billed durations)");
    println!();
    println!(
        "| function | memory MB | max memory used MB | invocations a day | GB-s a day | ms billed / invocation | $ a day |"
    );
    println!("|---|---|---|---|---|---|---|");
    let usage = run.host.usage();
    let mut by_function: BTreeMap<String, Lambda> = BTreeMap::new();
    for (line, one, _) in &day {
        for (f, l) in &one.lambda {
            let mine = by_function.entry(f.clone()).or_default();
            mine.invocations += l.invocations * line.per_day;
            mine.gb_seconds += l.gb_seconds * line.per_day;
        }
    }
    let mut functions: Vec<_> = by_function.iter().collect();
    functions.sort_by(|a, b| {
        let cost = |l: &Lambda| l.invocations * LAMBDA_REQUEST + l.gb_seconds * LAMBDA_GB_SECOND;
        cost(b.1).total_cmp(&cost(a.1))
    });
    for (f, l) in &functions {
        let memory = run.memory_mb.get(*f).copied().unwrap_or(128);
        let max = usage.get(*f).map_or(0, |u| u.max_memory_mb);
        println!(
            "| {f} | {memory} | {max} | {} | {} | {:.1} | {} |",
            count(l.invocations),
            count(l.gb_seconds),
            l.gb_seconds / l.invocations.max(1.0) * 1000.0 * 1024.0 / f64::from(memory),
            money(l.invocations * LAMBDA_REQUEST + l.gb_seconds * LAMBDA_GB_SECOND)
        );
    }
    let cold: f64 = run
        .samples
        .values()
        .flat_map(|s| s.lambda.values())
        .map(|l| l.cold_starts)
        .sum();

    println!();
    println!("#### API Gateway (HTTP API)");
    println!();
    let api: f64 = day
        .iter()
        .map(|(l, one, _)| one.api_requests * l.per_day)
        .sum();
    println!(
        "{} requests a day (every body under 512 KB: one request each): {} a day.",
        count(api),
        money(api * API_REQUEST)
    );

    println!();
    println!("#### The bill");
    println!();
    println!("| part | $ a day | share |");
    println!("|---|---|---|");
    let mut parts = [0.0; 7];
    for (_, _, d) in &day {
        for (p, x) in parts.iter_mut().zip(d) {
            *p += x;
        }
    }
    for (name, d) in PARTS.iter().zip(parts) {
        println!("| {name} | {} | {:.0} % |", money(d), d / total * 100.0);
    }
    println!("| **a day** | **{}** | |", money(total));
    println!("| a month (30 days) | {} | |", money(total * 30.0));
    println!("| per room-hour | {} | |", money(total / room_hours()));
    println!(
        "| per thousand viewer-hours | {} | |",
        money(total / viewer_hours() * 1000.0)
    );

    println!();
    println!("#### Where the money goes");
    println!();
    let mut items: Vec<(String, f64)> = Vec::new();
    for (line, _, d) in &day {
        for (name, x) in PARTS.iter().zip(d) {
            items.push((format!("{}: {name}", line.what), *x));
        }
    }
    items.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("| item | $ a day | share |");
    println!("|---|---|---|");
    for (name, d) in items.iter().take(8) {
        println!("| {name} | {} | {:.0} % |", money(*d), d / total * 100.0);
    }

    println!();
    println!("#### What would halve it (computed from the same figures)");
    println!();
    let mut removed = 0.0;
    let mut names = Vec::new();
    for (name, d) in &items {
        if removed >= total / 2.0 {
            break;
        }
        removed += d;
        names.push(name.as_str());
    }
    println!("| change | $ a day | of today's |");
    println!("|---|---|---|");
    println!(
        "| without the top {} item(s) ({}) | {} | {:.0} % |",
        names.len(),
        names.join("; "),
        money(total - removed),
        (total - removed) / total * 100.0
    );
    let keepalive = |d: &(&Line, Sample, [f64; 7])| d.0.label.starts_with("keepalive");
    let keepalive_cost: f64 = day
        .iter()
        .filter(|d| keepalive(d))
        .map(|d| d.2.iter().sum::<f64>())
        .sum();
    println!(
        "| keepalives every 20 s instead of 10 s (HeartbeatTimeoutSeconds 40) | {} | {:.0} % |",
        money(total - keepalive_cost / 2.0),
        (total - keepalive_cost / 2.0) / total * 100.0
    );
    let keepalive_index: f64 = day
        .iter()
        .filter(|d| d.0.label == "keepalive")
        .map(|d| d.2[4])
        .sum();
    println!(
        "| a viewer's keepalive that does not move its presence in the index (no index write) | {} | {:.0} % |",
        money(total - keepalive_index),
        (total - keepalive_index) / total * 100.0
    );
    let all_index = parts[4];
    println!(
        "| no index writes at all (the bound of any index redesign) | {} | {:.0} % |",
        money(total - all_index),
        (total - all_index) / total * 100.0
    );
    let anchor_room_writes: f64 = day
        .iter()
        .filter(|d| d.0.label == "keepalive (anchor)")
        .map(|d| d.2[4])
        .sum();
    println!(
        "| an anchor's keepalive that does not rewrite the room (its index writes) | {} | {:.0} % |",
        money(total - anchor_room_writes),
        (total - anchor_room_writes) / total * 100.0
    );
    eprintln!(
        "liveroom-bench cost: {cold:.0} cold start(s) among the billed invocations (every function is warmed first; the rest were warm)"
    );
    Ok(())
}
