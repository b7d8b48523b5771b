//! What the host reads of the template's resources besides functions' routes and
//! environments: the table (a `CreateTable` request), the API's `CorsConfiguration`, and the
//! functions' `DynamoDB` and `Schedule`/`ScheduleV2` events.
//!
//! Never here: reading lines (`super::yaml`), serving any of it (the gateway, `crate::stream`,
//! `crate::schedule`).

use super::{Cors, Schedule, StreamSource, Table};

impl Cors {
    pub(super) fn parse(v: &serde_json::Value) -> Result<Self, String> {
        let list = |k: &str| -> Vec<String> {
            v[k].as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        };
        known_keys(
            v,
            &[
                "AllowOrigins",
                "AllowMethods",
                "AllowHeaders",
                "ExposeHeaders",
                "MaxAge",
                "AllowCredentials",
            ],
            "CorsConfiguration",
        )?;
        Ok(Self {
            allow_origins: list("AllowOrigins"),
            allow_methods: list("AllowMethods"),
            allow_headers: list("AllowHeaders"),
            expose_headers: list("ExposeHeaders"),
            max_age: v["MaxAge"].as_str().and_then(|m| m.parse().ok()),
            allow_credentials: v["AllowCredentials"].as_str() == Some("true"),
        })
    }

    /// The `Access-Control-Allow-Origin` an `origin` gets, if it is allowed.
    pub fn allowed_origin(&self, origin: &str) -> Option<String> {
        if self.allow_origins.iter().any(|o| o == "*") && !self.allow_credentials {
            return Some("*".to_owned());
        }
        self.allow_origins
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
            .then(|| origin.to_owned())
    }
}

/// `rate(5 minutes)` as an interval (`cron(…)` is not understood: an error).
fn rate(expression: &str) -> Result<std::time::Duration, String> {
    let inner = expression
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            format!("`{expression}`: only rate(…) schedules are understood by the host")
        })?;
    let (n, unit) = inner
        .trim()
        .split_once(' ')
        .ok_or_else(|| format!("`{expression}`: rate(N unit)"))?;
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{expression}`: rate(N unit)"))?;
    let seconds = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        other => return Err(format!("`{expression}`: unit `{other}`")),
    };
    Ok(std::time::Duration::from_secs(n * seconds))
}

/// The `CreateTable` request and TTL attribute of a table's `Properties`.
pub(super) fn table_of(logical_id: &str, props: &serde_json::Value) -> Result<Table, String> {
    use serde_json::{Value as Json, json};
    let mut create = serde_json::Map::new();
    let number = |v: &Json, what: &str| -> Result<Json, String> {
        match v.as_str().map(str::parse::<u64>) {
            Some(Ok(n)) => Ok(json!(n)),
            _ => Err(format!("{logical_id} {what}: not a number")),
        }
    };
    for (k, v) in props.as_object().into_iter().flatten() {
        match k.as_str() {
            "AttributeDefinitions"
            | "KeySchema"
            | "GlobalSecondaryIndexes"
            | "LocalSecondaryIndexes"
            | "BillingMode" => {
                create.insert(k.clone(), v.clone());
            }
            "ProvisionedThroughput" => {
                let mut t = serde_json::Map::new();
                for (name, n) in v.as_object().into_iter().flatten() {
                    t.insert(name.clone(), number(n, name)?);
                }
                create.insert(k.clone(), Json::Object(t));
            }
            "StreamSpecification" => {
                let view = v["StreamViewType"].as_str().ok_or(format!(
                    "{logical_id}: StreamSpecification without StreamViewType"
                ))?;
                create.insert(
                    k.clone(),
                    json!({ "StreamEnabled": true, "StreamViewType": view }),
                );
            }
            "SSESpecification" => {
                create.insert(
                    k.clone(),
                    json!({ "Enabled": v["SSEEnabled"].as_str() == Some("true") }),
                );
            }
            // What a local server has no use for.
            "TimeToLiveSpecification"
            | "PointInTimeRecoverySpecification"
            | "Tags"
            | "DeletionProtectionEnabled"
            | "TableClass" => {}
            other => {
                return Err(format!(
                    "{logical_id}: `{other}` is not understood by the host"
                ));
            }
        }
    }
    for index in create
        .get_mut("GlobalSecondaryIndexes")
        .and_then(Json::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(t) = index.get_mut("ProvisionedThroughput") {
            let mut out = serde_json::Map::new();
            for (name, n) in t.as_object().into_iter().flatten() {
                out.insert(name.clone(), number(n, name)?);
            }
            *t = Json::Object(out);
        }
    }
    let ttl = &props["TimeToLiveSpecification"];
    let ttl_attribute = (ttl["Enabled"].as_str() == Some("true"))
        .then(|| ttl["AttributeName"].as_str().map(str::to_owned))
        .flatten();
    Ok(Table {
        logical_id: logical_id.to_owned(),
        create: Json::Object(create),
        ttl_attribute,
    })
}

/// A `DynamoDB` event's mapping (`None` when `Enabled: false`).
pub(super) fn stream_source(
    function: &str,
    name: &str,
    p: &serde_json::Value,
) -> Result<Option<StreamSource>, String> {
    let what = format!("{function} {name}");
    let number = |key: &str| -> Result<Option<i64>, String> {
        p[key]
            .as_str()
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| format!("{what} {key}: not a number"))
            })
            .transpose()
    };
    known_keys(
        p,
        &[
            "Stream",
            "StartingPosition",
            "BatchSize",
            "MaximumBatchingWindowInSeconds",
            "MaximumRetryAttempts",
            "FilterCriteria",
            "Enabled",
        ],
        &what,
    )?;
    if p["Enabled"].as_str() == Some("false") {
        return Ok(None);
    }
    let mut filters = Vec::new();
    for f in p["FilterCriteria"]["Filters"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let pattern = f["Pattern"]
            .as_str()
            .ok_or(format!("{what}: a filter without a Pattern"))?;
        let pattern: serde_json::Value =
            serde_json::from_str(pattern).map_err(|e| format!("{what}: filter pattern: {e}"))?;
        crate::stream::check_pattern(&pattern).map_err(|e| format!("{what}: {e}"))?;
        filters.push(pattern);
    }
    let batch_size = number("BatchSize")?.unwrap_or(100);
    Ok(Some(StreamSource {
        name: name.to_owned(),
        starting_position: p["StartingPosition"]
            .as_str()
            .unwrap_or("LATEST")
            .to_owned(),
        batch_size: usize::try_from(batch_size.clamp(1, 10_000)).unwrap_or(100),
        batching_window_secs: u64::try_from(number("MaximumBatchingWindowInSeconds")?.unwrap_or(0))
            .unwrap_or(0),
        max_retries: number("MaximumRetryAttempts")?.and_then(|n| u64::try_from(n).ok()),
        filters,
    }))
}

/// A `Schedule` or `ScheduleV2` event (`None` when disabled).
pub(super) fn schedule(
    function: &str,
    name: &str,
    scheduler: bool,
    p: &serde_json::Value,
) -> Result<Option<Schedule>, String> {
    let what = format!("{function} {name}");
    known_keys(
        p,
        &[
            "Schedule",
            "ScheduleExpression",
            "Input",
            "Description",
            "Name",
            "Enabled",
            "State",
        ],
        &what,
    )?;
    if p["Enabled"].as_str() == Some("false") || p["State"].as_str() == Some("DISABLED") {
        return Ok(None);
    }
    let expression = p["Schedule"]
        .as_str()
        .or(p["ScheduleExpression"].as_str())
        .ok_or(format!("{what}: no schedule expression"))?;
    let input = p["Input"]
        .as_str()
        .map(|i| serde_json::from_str(i).map_err(|e| format!("{what} Input: {e}")))
        .transpose()?;
    Ok(Some(Schedule {
        name: name.to_owned(),
        scheduler,
        every: rate(expression).map_err(|e| format!("{what}: {e}"))?,
        input,
    }))
}

/// Refuses a key of `v` outside `known`: what the host does not understand is an error.
fn known_keys(v: &serde_json::Value, known: &[&str], what: &str) -> Result<(), String> {
    match v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .find(|k| !known.contains(k))
    {
        Some(key) => Err(format!("{what}: `{key}` is not understood by the host")),
        None => Ok(()),
    }
}
