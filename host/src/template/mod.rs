//! What the host reads of `template.yaml`: each function's binary (`BuildProperties.Binary`),
//! memory size and timeout, its `HttpApi` events (method and path), and its environment (the
//! Globals' variables and its own, `!Ref` parameters resolved from a local parameters file, or
//! their defaults, `AWS::NoValue` dropping a variable, `!Ref Table` the table's name); and,
//! in [`resources`], the table, the API's CORS and the functions' stream and schedule events.
//!
//! A line parser ([`yaml`]), as the suites' `tests/tests/suite/template.rs` reads the template: the template
//! is generated in one regular shape (two-space indents, one key per line, flow lists only for
//! scalars), and a YAML crate would have to keep CloudFormation's tags (`!Ref`, `!GetAtt`, `!Sub`)
//! as well — serde_yaml, which kept them, is archived, and a new dependency for one file of one
//! shape is not worth it. What the host does not understand in a value it needs (`!If`, `!Sub`,
//! `!GetAtt`, `Fn::…` in an environment variable; a `Condition` on a function) is an error, never
//! a silent guess, so a template that grows past this parser fails loudly here (and so is any
//! key of the table, the CORS configuration or a stream or schedule event it does not know).
//!
//! Never here: serving, processes, events (`crate::gateway`, `crate::emulator`).

use std::collections::BTreeMap;

mod resources;
mod yaml;

use resources::{schedule, stream_source, table_of};
use yaml::{child, children, find, tree, unquote};

/// One HTTP API route of a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST`, …, or `ANY`.
    pub method: String,
    /// `/api/v1/live/join`, possibly with `{name}` or `{name+}` segments.
    pub path: String,
}

impl Route {
    /// The route key API Gateway puts in the event: `POST /api/v1/live/join`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// One `AWS::Serverless::Function`.
#[derive(Clone, Debug)]
pub struct Function {
    /// The logical id (`JoinFunction`).
    pub logical_id: String,
    /// The binary (`join`): `BuildProperties.Binary`, or the `CodeUri` folder's name.
    pub binary: String,
    pub memory_mb: u32,
    pub timeout_secs: u64,
    pub routes: Vec<Route>,
    /// The environment the template gives it, parameters resolved, Globals first.
    pub env: BTreeMap<String, String>,
    /// Its `DynamoDB` events: the table's stream mapped to it.
    pub streams: Vec<StreamSource>,
    /// Its `Schedule` / `ScheduleV2` events.
    pub schedules: Vec<Schedule>,
}

/// A `DynamoDB` event of a function: an event source mapping on the table's stream.
#[derive(Clone, Debug)]
pub struct StreamSource {
    /// The event's name (`NewOutboxEntries`).
    pub name: String,
    /// `LATEST` or `TRIM_HORIZON`.
    pub starting_position: String,
    /// Records per invocation at most (`BatchSize`, default 100).
    pub batch_size: usize,
    /// How long to gather records before invoking (`MaximumBatchingWindowInSeconds`, default 0).
    pub batching_window_secs: u64,
    /// Retries of a failed batch (`MaximumRetryAttempts`; `None`: -1 or absent, until the
    /// records expire — here, forever).
    pub max_retries: Option<u64>,
    /// `FilterCriteria.Filters[].Pattern`, parsed: a record is delivered if any matches (or
    /// if there is none).
    pub filters: Vec<serde_json::Value>,
}

/// A `Schedule` (EventBridge rule) or `ScheduleV2` (EventBridge Scheduler) event of a function.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// The event's name (`EveryMinute`).
    pub name: String,
    /// `ScheduleV2` (Scheduler) or `Schedule` (a rule): the events differ in `source`.
    pub scheduler: bool,
    /// `rate(…)`, as an interval.
    pub every: std::time::Duration,
    /// The `Input` given, parsed; `None`: the default notification.
    pub input: Option<serde_json::Value>,
}

/// The `AWS::DynamoDB::Table` of the template, as a `CreateTable` request and its TTL.
#[derive(Clone, Debug)]
pub struct Table {
    /// The logical id (`Table`).
    pub logical_id: String,
    /// The `CreateTable` request without its `TableName`: `AttributeDefinitions`,
    /// `KeySchema`, `GlobalSecondaryIndexes`, `LocalSecondaryIndexes`, `BillingMode`,
    /// `ProvisionedThroughput`, `StreamSpecification` (with `StreamEnabled`), `SSESpecification`.
    pub create: serde_json::Value,
    /// `TimeToLiveSpecification.AttributeName`, when enabled.
    pub ttl_attribute: Option<String>,
}

/// The parts of the template the host serves.
#[derive(Clone, Debug)]
pub struct Template {
    pub functions: Vec<Function>,
    /// The table (the host creates it from this; at most one is understood).
    pub table: Option<Table>,
    /// The name `!Ref` of the table resolves to.
    pub table_name: String,
    /// The HTTP API's `CorsConfiguration`, if any.
    pub cors: Option<Cors>,
}

/// An HTTP API's `CorsConfiguration`.
#[derive(Clone, Debug, Default)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<u64>,
    pub allow_credentials: bool,
}
/// A value as written: a scalar, or a `!Ref` to a parameter or resource.
#[derive(Clone, Debug)]
enum Value {
    Literal(String),
    Ref(String),
}

fn value(raw: &str, what: &str) -> Result<Value, String> {
    if let Some(name) = raw.strip_prefix("!Ref ") {
        return Ok(Value::Ref(name.trim().to_owned()));
    }
    if raw.starts_with('!') || raw.starts_with("Fn::") || raw.starts_with('{') {
        return Err(format!(
            "{what}: `{raw}` is not understood by the host (only literals and `!Ref`)"
        ));
    }
    Ok(Value::Literal(unquote(raw)))
}

fn variables(lines: &[&str], env_at: usize, what: &str) -> Result<Vec<(String, Value)>, String> {
    let Some((vars, _)) = child(lines, env_at, "Variables") else {
        return Ok(Vec::new());
    };
    children(lines, vars)
        .into_iter()
        .map(|(_, k, v)| Ok((k.to_owned(), value(v, &format!("{what} {k}"))?)))
        .collect()
}

impl Template {
    /// Parses `text`, resolving `!Ref`s with `parameters` (over the template's defaults) and
    /// `!Ref Table` (any `AWS::DynamoDB::Table`) to `table`.
    pub fn parse(
        text: &str,
        parameters: &BTreeMap<String, String>,
        table: &str,
    ) -> Result<Self, String> {
        let lines: Vec<&str> = text.lines().collect();
        // Parameters: their defaults, overridden by the local values.
        let mut values: BTreeMap<String, Option<String>> = BTreeMap::new();
        if let Some((at, _)) = find(&lines, &["Parameters"]) {
            for (i, name, _) in children(&lines, at) {
                let default = child(&lines, i, "Default").map(|(_, v)| unquote(v));
                values.insert(name.to_owned(), default);
            }
        }
        for (k, v) in parameters {
            if !values.contains_key(k) {
                return Err(format!(
                    "the parameters file gives `{k}`, which the template does not declare"
                ));
            }
            values.insert(k.clone(), Some(v.clone()));
        }
        // Resources of a type the host resolves `!Ref` of.
        let mut tables = Vec::new();
        let mut table_def = None;
        let mut cors = None;
        let mut function_ids = Vec::new();
        let resources = find(&lines, &["Resources"]).ok_or("the template has no Resources")?;
        for (i, id, _) in children(&lines, resources.0) {
            match child(&lines, i, "Type").map(|(_, v)| v) {
                Some("AWS::DynamoDB::Table") => {
                    if table_def.is_some() {
                        return Err("more than one table: not understood by the host".to_owned());
                    }
                    let props = match child(&lines, i, "Properties") {
                        Some((p, _)) => tree(&lines, p)?,
                        None => serde_json::Value::Null,
                    };
                    table_def = Some(table_of(id, &props)?);
                    tables.push(id.to_owned());
                }
                Some("AWS::Serverless::Function") => function_ids.push((i, id.to_owned())),
                Some("AWS::Serverless::HttpApi") => {
                    if let Some((c, _)) = child(&lines, i, "Properties")
                        .and_then(|(p, _)| child(&lines, p, "CorsConfiguration"))
                    {
                        cors = Some(Cors::parse(&tree(&lines, c)?)?);
                    }
                }
                _ => {}
            }
        }
        let resolve = |v: &Value, what: &str| -> Result<Option<String>, String> {
            match v {
                Value::Literal(s) => Ok(Some(s.clone())),
                Value::Ref(name) if name == "AWS::NoValue" => Ok(None),
                Value::Ref(name) if tables.contains(name) => Ok(Some(table.to_owned())),
                Value::Ref(name) if name == "AWS::Region" => Ok(Some("us-east-1".to_owned())),
                Value::Ref(name) => match values.get(name) {
                    Some(Some(v)) => Ok(Some(v.clone())),
                    Some(None) => Err(format!(
                        "{what}: parameter `{name}` has no default and no value in the parameters file"
                    )),
                    None => Err(format!(
                        "{what}: `!Ref {name}` names nothing the host knows"
                    )),
                },
            }
        };
        let number = |raw: Option<&str>, what: &str| -> Result<Option<u64>, String> {
            raw.map(|r| {
                unquote(r)
                    .parse::<u64>()
                    .map_err(|_| format!("{what}: `{r}` is not a number"))
            })
            .transpose()
        };
        // Globals.
        let globals = find(&lines, &["Globals", "Function"]);
        let global = |key: &str| globals.and_then(|(at, _)| child(&lines, at, key).map(|(_, v)| v));
        let global_memory = number(global("MemorySize"), "Globals MemorySize")?.unwrap_or(128);
        let global_timeout = number(global("Timeout"), "Globals Timeout")?.unwrap_or(3);
        let global_env = match globals.and_then(|(at, _)| child(&lines, at, "Environment")) {
            Some((at, _)) => variables(&lines, at, "Globals")?,
            None => Vec::new(),
        };
        let mut functions = Vec::new();
        for (at, id) in function_ids {
            if child(&lines, at, "Condition").is_some() {
                return Err(format!(
                    "{id}: a Condition on a function is not understood by the host"
                ));
            }
            let properties = child(&lines, at, "Properties").map(|(i, _)| i);
            let prop = |key: &str| properties.and_then(|p| child(&lines, p, key));
            let binary = match child(&lines, at, "Metadata")
                .and_then(|(m, _)| child(&lines, m, "BuildProperties"))
                .and_then(|(b, _)| child(&lines, b, "Binary"))
            {
                Some((_, b)) => unquote(b),
                None => match prop("CodeUri").map(|(_, v)| unquote(v)) {
                    Some(uri) => uri
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    None => return Err(format!("{id}: no BuildProperties.Binary nor CodeUri")),
                },
            };
            let memory = number(prop("MemorySize").map(|(_, v)| v), &id)?.unwrap_or(global_memory);
            let timeout = number(prop("Timeout").map(|(_, v)| v), &id)?.unwrap_or(global_timeout);
            let mut env = BTreeMap::new();
            let own = match prop("Environment") {
                Some((e, _)) => variables(&lines, e, &id)?,
                None => Vec::new(),
            };
            for (k, v) in global_env.iter().chain(own.iter()) {
                match resolve(v, &format!("{id} {k}"))? {
                    Some(v) => {
                        env.insert(k.clone(), v);
                    }
                    None => {
                        env.remove(k);
                    }
                }
            }
            let mut routes = Vec::new();
            let mut streams = Vec::new();
            let mut schedules = Vec::new();
            if let Some((events, _)) = prop("Events") {
                for (e, name, _) in children(&lines, events) {
                    let kind = child(&lines, e, "Type").map(|(_, v)| v);
                    let props = match child(&lines, e, "Properties") {
                        Some((p, _)) => tree(&lines, p)?,
                        None => serde_json::Value::Null,
                    };
                    match kind {
                        Some("HttpApi") => {}
                        Some("DynamoDB") => {
                            streams.extend(stream_source(&id, name, &props)?);
                            continue;
                        }
                        Some(k @ ("Schedule" | "ScheduleV2")) => {
                            schedules.extend(schedule(&id, name, k == "ScheduleV2", &props)?);
                            continue;
                        }
                        other => {
                            return Err(format!(
                                "{id} {name}: an event of type {} is not understood by the host",
                                other.unwrap_or("(none)")
                            ));
                        }
                    }
                    let props = child(&lines, e, "Properties").map(|(p, _)| p);
                    let get = |k: &str| {
                        props
                            .and_then(|p| child(&lines, p, k))
                            .map(|(_, v)| unquote(v))
                    };
                    let (Some(method), Some(path)) = (get("Method"), get("Path")) else {
                        return Err(format!(
                            "{id} {name}: an HttpApi event needs Method and Path"
                        ));
                    };
                    let method = method.to_ascii_uppercase();
                    let method = if method == "*" {
                        "ANY".to_owned()
                    } else {
                        method
                    };
                    routes.push(Route { method, path });
                }
            }
            functions.push(Function {
                logical_id: id,
                binary,
                memory_mb: u32::try_from(memory).unwrap_or(u32::MAX),
                timeout_secs: timeout,
                routes,
                env,
                streams,
                schedules,
            });
        }
        Ok(Self {
            functions,
            table: table_def,
            table_name: table.to_owned(),
            cors,
        })
    }

    /// The function and route of a request, as API Gateway picks them: a route of the exact
    /// method before an `ANY` one, exact paths before ones with `{parameters}`, and among those
    /// the one with more literal segments; with the path parameters it binds.
    pub fn route(
        &self,
        method: &str,
        path: &str,
    ) -> Option<(&Function, &Route, BTreeMap<String, String>)> {
        let mut best: Option<(Rank, &Function, &Route, BTreeMap<String, String>)> = None;
        for f in &self.functions {
            for r in &f.routes {
                if r.method != "ANY" && r.method != method {
                    continue;
                }
                let Some(params) = match_path(&r.path, path) else {
                    continue;
                };
                let literal = r.path.split('/').filter(|s| !s.starts_with('{')).count();
                let rank = (params.is_empty(), literal, r.method != "ANY");
                if best.as_ref().is_none_or(|(b, ..)| rank > *b) {
                    best = Some((rank, f, r, params));
                }
            }
        }
        best.map(|(_, f, r, p)| (f, r, p))
    }
}

/// How well a route matches: exact path, literal segments, exact method.
type Rank = (bool, usize, bool);

/// Binds `path` to `pattern`'s `{name}` (one segment) and `{name+}` (the rest) segments.
fn match_path(pattern: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    let mut want = pattern.split('/');
    let mut have = path.split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(h)) => {
                if let Some(name) = w.strip_prefix('{').and_then(|r| r.strip_suffix("+}")) {
                    let rest: Vec<&str> = std::iter::once(h).chain(have).collect();
                    params.insert(name.to_owned(), rest.join("/"));
                    return Some(params);
                }
                if let Some(name) = w.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                    if h.is_empty() {
                        return None;
                    }
                    params.insert(name.to_owned(), h.to_owned());
                } else if w != h {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// Reads a parameters file: a JSON object of strings (or numbers), or `KEY=VALUE` lines
/// (`#` comments and blank lines skipped).
pub fn parameters(text: &str) -> Result<BTreeMap<String, String>, String> {
    if text.trim_start().starts_with('{') {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("parameters file: {e}"))?;
        let object = json
            .as_object()
            .ok_or("parameters file: not a JSON object")?;
        return object
            .iter()
            .filter(|(k, _)| !k.starts_with('_'))
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => Ok((k.clone(), s.clone())),
                serde_json::Value::Number(n) => Ok((k.clone(), n.to_string())),
                serde_json::Value::Bool(b) => Ok((k.clone(), b.to_string())),
                _ => Err(format!("parameters file: `{k}` is not a string")),
            })
            .collect();
    }
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once('=') {
            Some((k, v)) => Ok((k.trim().to_owned(), unquote(v))),
            None => Err(format!("parameters file: `{l}` is not KEY=VALUE")),
        })
        .collect()
}
