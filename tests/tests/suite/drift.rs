//! The OpenAPI document and the handlers agree, checked as properties: for every documented
//! operation, requests generated from its request schema are answered as documented.
//!
//! - A body the schema accepts is never refused as malformed (400) and never a 5xx.
//! - A body the schema rejects (one property broken at a time: missing, wrong type, `null`
//!   where not nullable, too long or short, out of range, off its pattern or enum) is a 4xx.
//! - Every answer's status is one the operation documents, and its body validates against the
//!   documented schema: every required field present, with its declared type, `null` only
//!   where nullable.
//!
//! Generation is seeded (`LIVEROOM_DRIFT_SEED` picks another seed; `LIVEROOM_DRIFT_RUNS` more
//! valid bodies per operation), so a failure names a body that reproduces it.

use std::collections::HashMap;

use lambda_http::Body;
use liveroom::endpoint::{Endpoint, Handler};
use liveroom::http::resolve;
use liveroom::{accounts, presence, rooms};
use serde_json::{Map, Value, json};

use crate::common::embedded;

const PASSWORD: &str = "correct horse battery";
const CALLER: &str = "drifter";

/// The document, and the schema rules it uses, as a validator and a generator.
struct Doc {
    root: Value,
    patterns: HashMap<String, regex_lite::Regex>,
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Doc {
    fn load() -> Self {
        let root: Value = serde_json::from_str(liveroom::OPENAPI).expect("openapi.json is JSON");
        let mut patterns = HashMap::new();
        collect_patterns(&root, &mut patterns);
        Self { root, patterns }
    }

    /// `schema` with a `$ref` followed.
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let path = r.trim_start_matches("#/");
                let mut at = &self.root;
                for part in path.split('/') {
                    at = &at[part];
                }
                self.resolve(at)
            }
            None => schema,
        }
    }

    fn validate(&self, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
        let s = self.resolve(schema);
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.validate(sub, v, at)?;
            }
        }
        if let Some(any) = s.get("anyOf").and_then(Value::as_array)
            && !any.iter().any(|sub| self.validate(sub, v, at).is_ok())
        {
            return Err(format!("{at}: matches none of anyOf"));
        }
        if let Some(one) = s.get("oneOf").and_then(Value::as_array)
            && one
                .iter()
                .filter(|sub| self.validate(sub, v, at).is_ok())
                .count()
                != 1
        {
            return Err(format!("{at}: does not match exactly one of oneOf"));
        }
        if v.is_null() {
            let typed = s.get("type").is_some();
            return if !typed || s["nullable"] == true {
                Ok(())
            } else {
                Err(format!("{at}: null where not nullable"))
            };
        }
        if let Some(t) = s.get("type").and_then(Value::as_str) {
            let actual = type_of(v);
            if actual != t && !(t == "number" && actual == "integer") {
                return Err(format!("{at}: {actual} where {t} is declared"));
            }
        }
        if let Some(options) = s.get("enum").and_then(Value::as_array)
            && !options.contains(v)
        {
            return Err(format!("{at}: {v} is not one of {options:?}"));
        }
        match v {
            Value::String(text) => {
                let len = text.chars().count() as u64;
                if let Some(min) = s.get("minLength").and_then(Value::as_u64)
                    && len < min
                {
                    return Err(format!("{at}: shorter than {min}"));
                }
                if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
                    && len > max
                {
                    return Err(format!("{at}: longer than {max}"));
                }
                if let Some(p) = s.get("pattern").and_then(Value::as_str)
                    && !self.patterns[p].is_match(text)
                {
                    return Err(format!("{at}: {text:?} does not match {p}"));
                }
                if s["format"] == "date-time" && chrono::DateTime::parse_from_rfc3339(text).is_err()
                {
                    return Err(format!("{at}: {text:?} is not a date-time"));
                }
            }
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                if let Some(min) = s.get("minimum").and_then(Value::as_f64)
                    && x < min
                {
                    return Err(format!("{at}: below {min}"));
                }
                if let Some(max) = s.get("maximum").and_then(Value::as_f64)
                    && x > max
                {
                    return Err(format!("{at}: above {max}"));
                }
            }
            Value::Array(items) => {
                if let Some(item) = s.get("items") {
                    for (i, x) in items.iter().enumerate() {
                        self.validate(item, x, &format!("{at}[{i}]"))?;
                    }
                }
            }
            Value::Object(map) => {
                for name in s
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !map.contains_key(name) {
                        return Err(format!("{at}: required {name} is missing"));
                    }
                }
                let props = s.get("properties").and_then(Value::as_object);
                for (name, x) in map {
                    match props.and_then(|p| p.get(name)) {
                        Some(p) => self.validate(p, x, &format!("{at}.{name}"))?,
                        None if s["additionalProperties"] == false => {
                            return Err(format!("{at}: {name} is not allowed"));
                        }
                        None => {}
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn collect_patterns(v: &Value, out: &mut HashMap<String, regex_lite::Regex>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(p)) = map.get("pattern") {
                let re = regex_lite::Regex::new(p)
                    .unwrap_or_else(|e| panic!("pattern {p} does not compile: {e}"));
                out.insert(p.clone(), re);
            }
            map.values().for_each(|x| collect_patterns(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| collect_patterns(x, out)),
        _ => {}
    }
}

/// What a property of a given name should hold to reach past the first checks (real room ids,
/// the caller's own id): candidates, one picked per body.
type Hints = HashMap<&'static str, Vec<Value>>;

struct Gen<'a> {
    doc: &'a Doc,
    rng: fastrand::Rng,
    hints: Hints,
}

const TEXT: &[char] = &[
    'a', 'b', 'z', 'A', 'Q', '0', '7', '_', '-', ' ', '直', '播', '✓', '.', '/', ':',
];

impl Gen<'_> {
    fn text(&mut self, min: usize, max: usize) -> String {
        let len = if self.rng.bool() {
            self.rng.usize(min..=max.min(min + 24))
        } else {
            // The edges of the range.
            if self.rng.bool() { min } else { max }
        };
        let mut s: String = (0..len)
            .map(|_| TEXT[self.rng.usize(..TEXT.len())])
            .collect();
        // No leading or trailing blank: a blank-only value is "empty".
        if len > 0 {
            s.replace_range(0..s.chars().next().map_or(0, char::len_utf8), "a");
            if s.ends_with(' ') {
                s.pop();
                s.push('b');
            }
        }
        s
    }

    fn valid(&mut self, name: &str, schema: &Value) -> Value {
        if let Some(options) = self.hints.get(name) {
            return options[self.rng.usize(..options.len())].clone();
        }
        let s = self.doc.resolve(schema).clone();
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            return self.valid(name, &all[0]);
        }
        if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
            let pick = one[self.rng.usize(..one.len())].clone();
            return self.valid(name, &pick);
        }
        if let Some(options) = s.get("enum").and_then(Value::as_array) {
            return options[self.rng.usize(..options.len())].clone();
        }
        match s.get("type").and_then(Value::as_str).unwrap_or("object") {
            "boolean" => json!(self.rng.bool()),
            // A fraction (Alibaba's recording `duration`).
            "number" => json!(f64::from(self.rng.u32(0..1_000_000)) / 1000.0),
            "integer" => {
                let min = s.get("minimum").and_then(Value::as_i64).unwrap_or(0);
                let max = s
                    .get("maximum")
                    .and_then(Value::as_i64)
                    .unwrap_or(min + 10_000);
                json!(match self.rng.u8(..4) {
                    0 => min,
                    1 => max,
                    _ => self.rng.i64(min..=max),
                })
            }
            "string" => {
                let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
                let max = s.get("maxLength").and_then(Value::as_u64).unwrap_or(64) as usize;
                // Random text when it fits the pattern, else the documented example.
                for _ in 0..20 {
                    let candidate = json!(self.text(min, max));
                    if self.doc.validate(&s, &candidate, name).is_ok() {
                        return candidate;
                    }
                }
                let example = s
                    .get("example")
                    .cloned()
                    .unwrap_or_else(|| panic!("{name}: a patterned string needs an example"));
                assert!(
                    self.doc.validate(&s, &example, name).is_ok(),
                    "{name}: the example does not validate"
                );
                example
            }
            "array" => {
                let n = self.rng.usize(..=3);
                (0..n)
                    .map(|_| self.valid("items", &s["items"]))
                    .collect::<Vec<_>>()
                    .into()
            }
            _ => self.object(&s),
        }
    }

    fn object(&mut self, s: &Value) -> Value {
        let mut required: Vec<String> = s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        // anyOf of required lists: satisfy one branch.
        if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
            let branch = &any[self.rng.usize(..any.len())];
            required.extend(
                branch["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_owned)),
            );
        }
        let mut out = Map::new();
        let empty = Map::new();
        let props = s
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (name, p) in props {
            let must = required.contains(name);
            if !must && self.rng.u8(..10) < 4 {
                continue;
            }
            let nullable = self.doc.resolve(p)["nullable"] == true;
            let value = if !must && nullable && self.rng.u8(..10) < 2 {
                Value::Null
            } else {
                self.valid(name, p)
            };
            out.insert(name.clone(), value);
        }
        Value::Object(out)
    }
}

/// Bodies the schema rejects, each breaking one thing of `base` (a valid body with every
/// property present), and what was broken.
fn invalid_bodies(doc: &Doc, schema: &Value, base: &Value) -> Vec<(String, Value)> {
    let s = doc.resolve(schema);
    let mut out = vec![
        ("a JSON array".to_owned(), json!([])),
        ("a JSON string".to_owned(), json!("x")),
    ];
    let Some(props) = s.get("properties").and_then(Value::as_object) else {
        return out;
    };
    for name in s["required"].as_array().into_iter().flatten() {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove(name.as_str().unwrap());
        out.push((format!("without {name}"), body));
    }
    for (name, p) in props {
        let p = doc.resolve(p);
        let mut candidates = vec![Value::Null, json!(true), json!({"x": 1})];
        match p.get("type").and_then(Value::as_str) {
            Some("string") => {
                candidates.push(json!(12345));
                if let Some(max) = p.get("maxLength").and_then(Value::as_u64) {
                    candidates.push(json!("a".repeat(max as usize + 1)));
                }
                for bad in [
                    "", " ", "a b", "\u{1}x", "ÄÖ", "x/y", "UPPER", "ftp://x", "a\u{0}",
                ] {
                    candidates.push(json!(bad));
                }
                if let Some(example) = p.get("example").and_then(Value::as_str) {
                    candidates.push(json!(format!("{example}\u{0}")));
                    candidates.push(json!(example.to_uppercase()));
                }
            }
            Some("integer") => {
                candidates.push(json!("1"));
                candidates.push(json!(1.5));
                if let Some(min) = p.get("minimum").and_then(Value::as_i64) {
                    candidates.push(json!(min - 1));
                }
                if let Some(max) = p.get("maximum").and_then(Value::as_i64) {
                    candidates.push(json!(max + 1));
                }
                if p.get("enum").is_some() {
                    candidates.push(json!(99));
                }
            }
            Some("boolean") => candidates.push(json!("true")),
            Some("array") => candidates.push(json!([12345])),
            _ => candidates.push(json!(-1)),
        }
        for bad in candidates {
            let mut body = base.clone();
            body[name.as_str()] = bad.clone();
            // Only what the document itself rejects.
            if doc.validate(schema, &body, "body").is_err() {
                out.push((format!("{name} = {bad}"), body));
            }
        }
    }
    out
}

/// A valid body with every property present (the base of the mutations).
fn full_body(g: &mut Gen<'_>, schema: &Value) -> Value {
    let s = g.doc.resolve(schema).clone();
    let mut out = Map::new();
    for (name, p) in s["properties"].as_object().into_iter().flatten() {
        out.insert(name.clone(), g.valid(name, p));
    }
    Value::Object(out)
}

struct Setup {
    app: liveroom::App,
    token: String,
    hints: Hints,
    _store: crate::common::TestStore,
}

/// A user (the caller) and rooms of theirs, on a fresh store.
async fn setup() -> Setup {
    let store = embedded();
    // It makes rooms by the hundred: the caps on a user's rooms set high (a 429 past them is
    // documented, and checked like any answer).
    let app = liveroom::App::new(
        liveroom::Config::from_lookup(|k| match k {
            "JWT_PRIVATE_KEY" => Some(crate::common::EVENTS_SECRET.to_owned()),
            "MAX_OPEN_ROOMS_PER_USER" => Some("100".to_owned()),
            "ROOM_CREATIONS_PER_USER_PER_MINUTE" => Some("100000".to_owned()),
            _ => None,
        })
        .expect("config"),
        std::sync::Arc::clone(&store.store),
        std::sync::Arc::new(liveroom::SystemClock),
    );
    let call = |endpoint, token: String, body| {
        let app = &app;
        async move { crate::common::call(app, endpoint, &token, body).await }
    };
    for name in [CALLER, "bob"] {
        let (status, _) = call(
            accounts::Register::ENDPOINT,
            String::new(),
            json!({"username": name, "password": PASSWORD,
                   "salt": "drift-salt-0123456789abcdefghijklmnopqrstuvwxyz"}),
        )
        .await;
        assert_eq!(status, 200);
    }
    let (_, pair) = call(
        accounts::Login::ENDPOINT,
        String::new(),
        json!({"username": CALLER, "password": PASSWORD}),
    )
    .await;
    let token = pair["token"].as_str().unwrap().to_owned();
    let mut rooms = Vec::new();
    for mode in [0, 1] {
        let (_, room) = call(
            rooms::Create::ENDPOINT,
            token.clone(),
            json!({"title": "drift", "mode": mode}),
        )
        .await;
        rooms.push(room["id"].clone());
    }
    let (_, _) = call(
        presence::Join::ENDPOINT,
        token.clone(),
        json!({"id": rooms[0]}),
    )
    .await;
    let me = json!(CALLER);
    let mut hints: Hints = HashMap::new();
    hints.insert(
        "id",
        vec![
            rooms[0].clone(),
            rooms[1].clone(),
            json!(uuid::Uuid::new_v4().to_string()),
        ],
    );
    for name in ["user_id", "anchor", "anchor_id"] {
        hints.insert(name, vec![me.clone(), json!("")]);
    }
    hints.insert("refresh_token", vec![pair["refresh_token"].clone()]);
    hints.insert("username", vec![me.clone(), json!("bob"), json!("nobody")]);
    hints.insert("password", vec![json!(PASSWORD), json!("wrong password")]);
    hints.insert("next_token", vec![Value::Null]);
    // Seed 004 passes identity in the parameters.
    hints.insert("token", vec![json!(token.clone())]);
    hints.insert("userId", vec![me.clone()]);
    hints.insert("roomId", hints["id"].clone());
    hints.insert(
        "searchUserId",
        vec![me.clone(), json!("bob"), json!("nobody")],
    );
    hints.insert(
        "members",
        vec![
            json!([]),
            json!([{"user_id": CALLER}]),
            json!([{"user_id": CALLER, "camera_opened": true}, {"user_id": "bob"}]),
        ],
    );
    Setup {
        app,
        token,
        hints,
        _store: store,
    }
}

/// Per-operation overrides: kick and mute name someone other than the caller.
fn hints_for(path: &str, base: &Hints) -> Hints {
    let mut h = base.clone();
    if path.ends_with("/kick") || path.ends_with("/mute") {
        h.insert("user_id", vec![json!("bob"), json!("carol")]);
    }
    if path.ends_with("/user") {
        h.insert(
            "user_id",
            vec![json!(CALLER), json!("bob"), json!("nobody"), json!("")],
        );
    }
    if path.ends_with("/register") {
        h.remove("username");
    }
    if path.contains("/admin/") {
        // The admin API names any account (and never with an empty id).
        h.insert(
            "user_id",
            vec![json!("bob"), json!(CALLER), json!("nobody")],
        );
    }
    h
}

async fn send(setup: &Setup, path: &str, body: &Value) -> (u16, Value) {
    let endpoint: Endpoint = resolve(&lambda_http::http::Method::POST, path).unwrap();
    let req = lambda_http::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", setup.token))
        .body(Body::Text(body.to_string()))
        .unwrap();
    let response = liveroom::http::handle(&setup.app, endpoint, req).await;
    let status = response.status().as_u16();
    let body = serde_json::from_slice(response.body().as_ref())
        .unwrap_or_else(|_| panic!("{path}: the answer is not JSON"));
    (status, body)
}

/// The answer is documented: its status, and its body against that status's schema.
fn check_answer(doc: &Doc, op: &Value, path: &str, sent: &Value, status: u16, body: &Value) {
    let documented = &op["responses"][status.to_string()];
    assert!(
        documented.is_object(),
        "{path}: status {status} is not documented; sent {sent}, got {body}"
    );
    let schema = &documented["content"]["application/json"]["schema"];
    if let Err(e) = doc.validate(schema, body, "answer") {
        panic!(
            "{path}: the {status} answer does not match its schema ({e}); sent {sent}, got {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_as_its_document_says() {
    let doc = Doc::load();
    let seed: u64 = std::env::var("LIVEROOM_DRIFT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let runs: usize = std::env::var("LIVEROOM_DRIFT_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let paths = doc.root["paths"].as_object().unwrap().clone();
    let mut checked = 0usize;
    for (path, ops) in &paths {
        let Some(op) = ops.get("post") else { continue };
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        if schema.is_null() {
            // Not a JSON API body (LiveKit's `application/webhook+json`): its own suite
            // (`callbacks`) drives it.
            continue;
        }
        let setup = setup().await;
        let mut g = Gen {
            doc: &doc,
            rng: fastrand::Rng::with_seed(seed ^ path.len() as u64),
            hints: hints_for(path, &setup.hints),
        };
        // Bodies the document accepts.
        for _ in 0..runs {
            let body = g.valid("body", schema);
            assert!(
                doc.validate(schema, &body, "body").is_ok(),
                "{path}: the generator made an invalid body {body}"
            );
            let (status, answer) = send(&setup, path, &body).await;
            check_answer(&doc, op, path, &body, status, &answer);
            assert!(
                status != 400 && status < 500,
                "{path}: a body the document accepts was refused ({status}): sent {body}, got {answer}"
            );
            checked += 1;
        }
        // Bodies it rejects.
        let base = full_body(&mut g, schema);
        for (what, body) in invalid_bodies(&doc, schema, &base) {
            let (status, answer) = send(&setup, path, &body).await;
            check_answer(&doc, op, path, &body, status, &answer);
            assert!(
                (400..500).contains(&status),
                "{path}: a body the document rejects ({what}) was answered {status}: sent {body}, got {answer}"
            );
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} requests were checked");
}
