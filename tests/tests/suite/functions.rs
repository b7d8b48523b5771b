//! `scripts/serve-functions`' host (crate `liveroom-host`, issue 23) serving `template.yaml`
//! through the real function binaries: every sample event of `events/` sent over HTTP reaches
//! the function its file names (`join.json` → `join`, `health-root.json` → `health`) and is
//! answered by it (never API Gateway's 404 or 502, never a 500) — so every function with an HTTP
//! route starts with the environment the template gives it. And the check can fail: a copy of the
//! template with a route pointed at another function, or with a variable removed from a
//! function's environment, is caught. And the host builds, for each sample event's request, the
//! event API Gateway builds (the sample's fields; its values where they are the request's).
//!
//! The function binaries are built once per run (`cargo build -p <every function>`, one
//! invocation, as `scripts/serve-functions` builds them: no feature of the suites unified in);
//! each check serves on its own port over a fresh table of the test DynamoDB server.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use liveroom_host::gateway::{Host, Settings};
use liveroom_host::template::{Template, parameters};

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn function_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// The debug binaries of every function, built once for the whole run.
pub(crate) fn bin_dir() -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let mut cmd = std::process::Command::new(cargo);
            cmd.current_dir(root())
                .args(["build", "--locked", "--quiet"]);
            for name in function_names() {
                cmd.args(["-p", &name]);
            }
            let status = cmd.status().map_err(|e| format!("cargo build: {e}"))?;
            if !status.success() {
                return Err(format!("cargo build of the functions: {status}"));
            }
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join("target"));
            let target = if target.is_relative() {
                root().join(target)
            } else {
                target
            };
            Ok(target.join("debug"))
        })
        .clone()
        .unwrap()
}

/// Serves `template` (its text) on a free port over a fresh table; the base URL.
async fn serve(template: &str) -> String {
    let bin_dir = tokio::task::spawn_blocking(bin_dir).await.unwrap();
    let table = format!("liveroom-functions-{}", uuid::Uuid::new_v4().simple());
    liveroom::store::dynamo::DynamoStore::new(crate::common::dynamodb_client(), table.clone())
        .create_table()
        .await
        .unwrap();
    let params =
        parameters(&std::fs::read_to_string(root().join("host/local-parameters.json")).unwrap())
            .unwrap();
    let template = Template::parse(template, &params, &table).unwrap();
    let host = Host::new(
        template,
        Settings {
            idle: Duration::from_secs(60),
            ..Settings::new(bin_dir, &crate::common::dynamodb_endpoint()).quiet()
        },
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(Arc::new(host).serve(listener));
    base
}

/// The function a sample event is for: the longest function name its file name starts with.
fn function_of(stem: &str, names: &[String]) -> String {
    names
        .iter()
        .filter(|n| stem == n.as_str() || stem.starts_with(&format!("{n}-")))
        .max_by_key(|n| n.len())
        .cloned()
        .unwrap_or_else(|| panic!("events/{stem}.json names no function"))
}

/// Sends every HTTP sample event to the host serving `template`; what went wrong, one line each.
async fn problems(template: &str) -> Vec<String> {
    let base = serve(template).await;
    let names = function_names();
    let client = reqwest::Client::new();
    let mut events: Vec<PathBuf> = std::fs::read_dir(root().join("events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    events.sort();
    let mut problems = Vec::new();
    let mut sent = 0;
    for path in events {
        let event: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Some(route) = event["routeKey"].as_str() else {
            continue; // the stream's and the schedule's events
        };
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let expected = function_of(&stem, &names);
        let method = event["requestContext"]["http"]["method"].as_str().unwrap();
        let mut url = format!("{base}{}", event["rawPath"].as_str().unwrap());
        if let Some(q) = event["rawQueryString"].as_str().filter(|q| !q.is_empty()) {
            url = format!("{url}?{q}");
        }
        let mut req = client.request(method.parse().unwrap(), url);
        for (k, v) in event["headers"].as_object().into_iter().flatten() {
            if !["host", "content-length"].contains(&k.as_str()) && !k.starts_with("x-forwarded-") {
                req = req.header(k, v.as_str().unwrap());
            }
        }
        if let Some(cookies) = event["cookies"].as_array() {
            let cookies: Vec<&str> = cookies.iter().filter_map(|c| c.as_str()).collect();
            req = req.header("cookie", cookies.join("; "));
        }
        if let Some(body) = event["body"].as_str() {
            let body = if event["isBase64Encoded"] == serde_json::json!(true) {
                base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .unwrap()
            } else {
                body.as_bytes().to_vec()
            };
            req = req.body(body);
        }
        sent += 1;
        let answer = req.send().await.unwrap();
        let status = answer.status().as_u16();
        let served_by = answer
            .headers()
            .get("x-liveroom-function")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("no function")
            .to_owned();
        let body = answer.text().await.unwrap_or_default();
        let body: String = body.chars().take(200).collect();
        if served_by != expected {
            problems.push(format!(
                "events/{stem}.json ({route}) reached {served_by}, not {expected}: {status} {body}"
            ));
        } else if status >= 500 {
            problems.push(format!(
                "events/{stem}.json ({route}): {expected} answered {status} {body}"
            ));
        }
    }
    assert!(sent >= 30, "only {sent} sample events sent");
    problems
}

fn template() -> String {
    std::fs::read_to_string(root().join("template.yaml")).unwrap()
}

/// The template's `name` resource's lines (from its `  Name:` line to the next resource's).
fn resource_span(text: &str, name: &str) -> std::ops::Range<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == format!("  {name}:"))
        .unwrap_or_else(|| panic!("no resource {name}"));
    let end = (start + 1..lines.len())
        .find(|&i| {
            let l = lines[i];
            l.len() > 2 && l.starts_with("  ") && !l.starts_with("   ") && l.ends_with(':')
                || !l.starts_with(' ') && !l.is_empty()
        })
        .unwrap_or(lines.len());
    start..end
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_of_the_template_reaches_the_function_it_names_which_starts_and_answers() {
    let problems = problems(&template()).await;
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_pointed_at_another_function_in_a_copy_of_the_template_is_caught() {
    // The copy: `/api/v1/live/join` served by the leave function, and `leave` by join.
    let text = template()
        .replace("Path: /api/v1/live/join\n", "Path: /api/v1/live/SWAP\n")
        .replace("Path: /api/v1/live/leave\n", "Path: /api/v1/live/join\n")
        .replace("Path: /api/v1/live/SWAP\n", "Path: /api/v1/live/leave\n");
    assert_ne!(text, template());
    let problems = problems(&text).await;
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("events/join.json") && p.contains("reached leave, not join")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("events/leave.json") && p.contains("reached join, not leave")),
        "{problems:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variable_removed_from_a_function_environment_in_a_copy_of_the_template_is_caught() {
    // The copy: the join function without JWT_PUBLIC_KEY.
    let text = template();
    let span = resource_span(&text, "JoinFunction");
    let copy: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, l)| !(span.contains(i) && l.trim() == "JWT_PUBLIC_KEY: !Ref JwtPublicKey"))
        .map(|(_, l)| l)
        .collect();
    let copy = copy.join("\n") + "\n";
    assert_eq!(copy.lines().count() + 1, text.lines().count());
    let problems = problems(&copy).await;
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].starts_with("events/join.json")
            && problems[0].contains("join answered 502 {\"message\":\"Internal Server Error\"}"),
        "{problems:#?}"
    );
}

/// Every key path of a JSON value (`requestContext.http.method`), values left out.
fn shape(value: &serde_json::Value, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
    if let Some(object) = value.as_object() {
        for (k, v) in object {
            // Header and query names are the request's own, not the format's.
            let path = format!("{prefix}{k}");
            out.insert(path.clone());
            if !["headers", "queryStringParameters"].contains(&k.as_str()) {
                shape(v, &format!("{path}."), out);
            }
        }
    }
}

/// The host builds the event API Gateway builds: for the request of each HTTP sample event,
/// the same fields (and the same values where they are the request's: route key, path, query,
/// headers, cookies, body) as the sample.
#[test]
fn the_host_builds_each_sample_event_as_api_gateway_does() {
    let text = template();
    let params =
        parameters(&std::fs::read_to_string(root().join("host/local-parameters.json")).unwrap())
            .unwrap();
    let template = Template::parse(&text, &params, "liveroom").unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("events")).unwrap() {
        let path = entry.unwrap().path();
        let sample: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if sample["routeKey"].as_str().is_none() {
            continue;
        }
        let method = sample["requestContext"]["http"]["method"].as_str().unwrap();
        let raw_path = sample["rawPath"].as_str().unwrap();
        let query = sample["rawQueryString"].as_str().unwrap();
        let uri = if query.is_empty() {
            raw_path.to_owned()
        } else {
            format!("{raw_path}?{query}")
        };
        let mut request = hyper::Request::builder().method(method).uri(uri);
        for (k, v) in sample["headers"].as_object().unwrap() {
            request = request.header(k, v.as_str().unwrap());
        }
        if let Some(cookies) = sample["cookies"].as_array() {
            let cookies: Vec<&str> = cookies.iter().filter_map(|c| c.as_str()).collect();
            request = request.header("cookie", cookies.join("; "));
        }
        let (parts, ()) = request.body(()).unwrap().into_parts();
        let body = match sample["body"].as_str() {
            Some(b) if sample["isBase64Encoded"] == serde_json::json!(true) => {
                base64::engine::general_purpose::STANDARD.decode(b).unwrap()
            }
            Some(b) => b.as_bytes().to_vec(),
            None => Vec::new(),
        };
        let (_, route, params) = template.route(method, raw_path).unwrap();
        let built = liveroom_host::payload::event(
            &parts,
            &body,
            route,
            &params,
            sample["requestContext"]["http"]["sourceIp"]
                .as_str()
                .unwrap(),
            "Ab1Cd2Ef3Gh021=",
        );
        let name = path.display();
        let (mut want, mut have) = (Default::default(), Default::default());
        shape(&sample, "", &mut want);
        shape(&built, "", &mut have);
        assert_eq!(have, want, "{name}: the event's fields");
        for key in [
            "version",
            "routeKey",
            "rawPath",
            "rawQueryString",
            "cookies",
            "queryStringParameters",
            "pathParameters",
            "isBase64Encoded",
            "body",
        ] {
            // `create-base64.json` is a handler's sample of a base64 body of a JSON type, which
            // API Gateway itself passes as text.
            let stem = path.file_stem().unwrap().to_str().unwrap();
            if stem == "create-base64" && ["isBase64Encoded", "body"].contains(&key) {
                continue;
            }
            assert_eq!(built[key], sample[key], "{name}: {key}");
        }
        for (k, v) in sample["headers"].as_object().unwrap() {
            if !k.starts_with("x-forwarded-") {
                assert_eq!(&built["headers"][k], v, "{name}: header {k}");
            }
        }
        assert_eq!(
            built["requestContext"]["routeKey"],
            sample["requestContext"]["routeKey"]
        );
        assert_eq!(built["requestContext"]["stage"], "$default");
        checked += 1;
    }
    assert!(checked >= 30, "{checked}");
}
