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
use liveroom_host::dynamodb::Dynamo;
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

/// A host serving a template over a fresh table.
struct Served {
    base: String,
    host: Arc<Host>,
    table: String,
}

/// Serves `template` (its text) on a free port over a fresh table created from the template's
/// own definition, with `overrides` over the local parameters and `settings` changed by `tune`.
async fn serve_with(
    template: &str,
    overrides: &[(&str, &str)],
    tune: impl FnOnce(Settings) -> Settings,
) -> Served {
    let bin_dir = tokio::task::spawn_blocking(bin_dir).await.unwrap();
    let table = format!("liveroom-functions-{}", uuid::Uuid::new_v4().simple());
    let mut params =
        parameters(&std::fs::read_to_string(root().join("host/local-parameters.json")).unwrap())
            .unwrap();
    for (k, v) in overrides {
        params.insert((*k).to_owned(), (*v).to_owned());
    }
    let template = Template::parse(template, &params, &table).unwrap();
    let endpoint = crate::common::dynamodb_endpoint();
    let created = Dynamo::new(&endpoint)
        .create_table(template.table.as_ref().unwrap(), &table)
        .await
        .unwrap();
    assert!(created);
    let host = Host::new(
        template,
        tune(Settings {
            idle: Duration::from_secs(60),
            ..Settings::new(bin_dir, &endpoint).quiet()
        }),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let host = Arc::new(host);
    tokio::spawn(Arc::clone(&host).serve(listener));
    Served { base, host, table }
}

/// Serves `template`'s HTTP API only (no stream, no schedule); the base URL.
async fn serve(template: &str) -> String {
    serve_with(template, &[], |s| Settings {
        streams: false,
        schedules: false,
        ..s
    })
    .await
    .base
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

/// Registers and logs `name` in over HTTP; the access token.
async fn login(base: &str, name: &str) -> String {
    let http = reqwest::Client::new();
    let body = serde_json::json!({"username": name, "password": "correct horse battery"});
    let r = http
        .post(format!("{base}/api/v1/live/register"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r: serde_json::Value = http
        .post(format!("{base}/login"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().unwrap().to_owned()
}

/// `POST {base}{path}` with `token` and `body`: the status and the JSON answer.
async fn post(
    base: &str,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Waits (polling, at most 60 s) until `done` holds; whether it did.
async fn eventually(mut done: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..240 {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

/// The webhooks `receiver` accepted for `room`, by event name, after checking none was forged.
fn webhooks_of(receiver: &std::sync::Mutex<crate::outbox::Receiver>, room: &str) -> Vec<String> {
    let r = receiver.lock().unwrap();
    assert!(r.faults.is_empty(), "{:?}", r.faults);
    r.events
        .iter()
        .filter(|e| e["room"]["id"] == room)
        .map(|e| e["event"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A webhook reaches the app's backend only through the deployed path: the `create` function
/// writes the outbox entry with the room, the table's stream (as the template's mapping filters
/// and batches it) invokes `outbox`, which signs and POSTs it. No schedule runs, so the sweeper
/// never delivers it. And a copy of the template whose mapping's filter lets no outbox entry
/// through delivers nothing: the check can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_arrives_through_the_table_stream_and_the_outbox_function() {
    let (url, receiver) = crate::outbox::receiver().await;
    let overrides = [
        ("WebhookUrl", url.as_str()),
        ("WebhookSecret", crate::outbox::HOOK_SECRET),
    ];
    let no_schedule = |s: Settings| Settings {
        schedules: false,
        ..s
    };
    let served = serve_with(&template(), &overrides, no_schedule).await;
    let token = login(&served.base, "streamer").await;
    let (status, room) = post(
        &served.base,
        "/api/v1/live/create",
        &token,
        serde_json::json!({"title": "hooked"}),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    let id = room["id"].as_str().unwrap().to_owned();
    assert!(
        eventually(async || webhooks_of(&receiver, &id) == ["room_created"]).await,
        "no room_created webhook: {:?}",
        webhooks_of(&receiver, &id)
    );
    // The host counts an invocation when it returns, which can be just after the receiver
    // got the webhook the invocation sent.
    let invoked = async || {
        served
            .host
            .usage()
            .get("OutboxFunction")
            .is_some_and(|u| u.invocations >= 1)
    };
    assert!(eventually(invoked).await, "{:?}", served.host.usage());
    let usage = served.host.usage();
    assert!(!usage.contains_key("SweeperFunction"), "{usage:?}");

    // The copy: the mapping's filter passes no `OUTBOX#` key.
    let text = template();
    let copy = text.replace(r#"[{"prefix": "OUTBOX#"}]"#, r#"[{"prefix": "NOTHING#"}]"#);
    assert_ne!(copy, text);
    let served = serve_with(&copy, &overrides, no_schedule).await;
    let token = login(&served.base, "streamer").await;
    let (status, room) = post(
        &served.base,
        "/api/v1/live/create",
        &token,
        serde_json::json!({"title": "lost"}),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    let id = room["id"].as_str().unwrap().to_owned();
    // A second room on the first host's path would have been delivered within this time.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(webhooks_of(&receiver, &id), Vec::<String>::new());
    assert!(!served.host.usage().contains_key("OutboxFunction"));
}

/// Issue 24: an operator's kick reaches the RTC vendor only through the deployed path: the
/// `admin-kick` function (which holds no LiveKit secret) writes the call with the kick, the
/// table's stream invokes `outbox` (which holds it), and the LiveKit stand-in, checking the
/// signature, removes the member; the outcome is in the audit log, by the system's outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kick_reaches_the_rtc_vendor_through_the_outbox_function_alone() {
    use crate::enforce::{LK_KEY, LK_SECRET, livekit};
    let lk = livekit(LK_KEY, LK_SECRET).await;
    let url = lk.base.replace("http://", "ws://");
    let overrides = [
        ("RtcProvider", "livekit"),
        ("LivekitUrl", url.as_str()),
        ("LivekitApiKey", LK_KEY),
        ("LivekitApiSecret", LK_SECRET),
        ("AdminUsers", "chief"),
    ];
    let text = template();
    let lines: Vec<&str> = text.lines().collect();
    let kick = lines[resource_span(&text, "AdminKickFunction")].join("\n");
    assert!(!kick.contains("LIVEKIT_API_SECRET"), "{kick}");
    let outbox = lines[resource_span(&text, "OutboxFunction")].join("\n");
    assert!(outbox.contains("LIVEKIT_API_SECRET"), "{outbox}");
    let no_schedule = |s: Settings| Settings {
        schedules: false,
        ..s
    };
    let served = serve_with(&text, &overrides, no_schedule).await;
    let (chief, anchor) = (
        login(&served.base, "chief").await,
        login(&served.base, "streamer").await,
    );
    let (status, room) = post(
        &served.base,
        "/api/v1/live/create",
        &anchor,
        serde_json::json!({"title": "moderated"}),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    let id = room["id"].as_str().unwrap().to_owned();
    lk.add_member(&id, "heckler");
    lk.add_member(&id, "streamer");
    let body = serde_json::json!({"id": id, "user_id": "heckler", "reason": "abuse"});
    let (status, out) = post(&served.base, "/api/v1/admin/kick", &chief, body).await;
    assert_eq!(status, 200, "{out}");
    assert!(
        eventually(async || lk.members(&id).is_some_and(|m| !m.contains("heckler"))).await,
        "not removed at LiveKit: {:?} {:?}",
        lk.calls(),
        lk.rejections()
    );
    assert!(lk.rejections().is_empty(), "{:?}", lk.rejections());
    let usage = served.host.usage();
    assert!(usage["OutboxFunction"].invocations >= 1, "{usage:?}");
    let audited = async || {
        let filter = serde_json::json!({"room_id": id, "action": "vendor.member_removed"});
        let (status, out) = post(&served.base, "/api/v1/admin/audit", &chief, filter).await;
        assert_eq!(status, 200, "{out}");
        out["entries"].as_array().unwrap().clone()
    };
    assert!(eventually(async || !audited().await.is_empty()).await);
    let entries = audited().await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["actor"]["kind"], "system");
    assert_eq!(entries[0]["details"]["outcome"], "done");
    assert_eq!(entries[0]["target"]["id"], "heckler");
}

/// Issue 24: with `WEBHOOK_URL` set, the audit log reaches the receiver through the deployed
/// sweeper (here on a one-second schedule, the table's stream off): an anchor's kick, written
/// by the `kick` function with its audit entry, arrives as a signed `audit` event once it is
/// 10 s old.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_reaches_the_webhook_through_the_sweeper_function() {
    let (url, receiver) = crate::outbox::receiver().await;
    let overrides = [
        ("WebhookUrl", url.as_str()),
        ("WebhookSecret", crate::outbox::HOOK_SECRET),
    ];
    let served = serve_with(&template(), &overrides, |s| Settings {
        streams: false,
        schedules: true,
        schedule_every: Some(Duration::from_secs(1)),
        ..s
    })
    .await;
    let anchor = login(&served.base, "auditor_anchor").await;
    let _ = login(&served.base, "kicked_one").await;
    let (status, room) = post(
        &served.base,
        "/api/v1/live/create",
        &anchor,
        serde_json::json!({"title": "audited"}),
    )
    .await;
    assert_eq!(status, 200, "{room}");
    let id = room["id"].as_str().unwrap().to_owned();
    let body = serde_json::json!({"id": id, "user_id": "kicked_one", "ban_seconds": 0});
    let (status, out) = post(&served.base, "/api/v1/live/kick", &anchor, body).await;
    assert_eq!(status, 200, "{out}");
    let audits = || -> Vec<serde_json::Value> {
        let r = receiver.lock().unwrap();
        assert!(r.faults.is_empty(), "{:?}", r.faults);
        r.events
            .iter()
            .filter(|e| e["event"] == "audit")
            .cloned()
            .collect()
    };
    assert!(
        eventually(async || !audits().is_empty()).await,
        "no audit event"
    );
    let events = audits();
    assert_eq!(events[0]["audit"]["action"], "room.kick");
    assert_eq!(events[0]["audit"]["room_id"], id.as_str());
    assert_eq!(events[0]["id"], events[0]["audit"]["id"]);
    let usage = served.host.usage();
    assert!(usage["SweeperFunction"].invocations >= 1, "{usage:?}");
}

/// Whether `user` is on `room`'s online list in `table`: its presence item (any shard) is listed
/// on the presence index (the sweeper unlists a silent member; the item stays for the counts).
async fn present(table: &str, room: &str, user: &str) -> bool {
    use liveroom::store::dynamo::schema;
    let client = crate::common::dynamodb_client();
    let room = liveroom::domain::RoomId::parse("id", room).unwrap();
    let user = liveroom::domain::UserId::parse("user_id", user).unwrap();
    for pk in schema::presence_partitions(&room) {
        let item = client
            .get_item()
            .table_name(table)
            .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk))
            .key(
                "sk",
                aws_sdk_dynamodb::types::AttributeValue::S(schema::presence_sk(&user)),
            )
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        if item
            .item
            .is_some_and(|i| i.contains_key(schema::GSI_PRESENCE.pk))
        {
            return true;
        }
    }
    false
}

/// The template's schedule runs the sweeper (sped up to every second here; the template's own
/// rate is checked too), and only the sweeper removes a member who went silent: with the
/// schedule off, the silent member's presence stays in the table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_runs_the_sweeper_which_removes_a_silent_member() {
    let params =
        parameters(&std::fs::read_to_string(root().join("host/local-parameters.json")).unwrap())
            .unwrap();
    let parsed = Template::parse(&template(), &params, "liveroom").unwrap();
    let sweeper = parsed
        .functions
        .iter()
        .find(|f| f.logical_id == "SweeperFunction")
        .unwrap();
    assert_eq!(
        sweeper
            .schedules
            .iter()
            .map(|s| (s.every, s.scheduler))
            .collect::<Vec<_>>(),
        [(Duration::from_secs(60), true)]
    );
    // A disabled schedule never runs; a key the host does not know is refused, not ignored.
    let with = |line: &str| {
        template().replace(
            "            ScheduleExpression: rate(1 minute)\n",
            &format!("            ScheduleExpression: rate(1 minute)\n            {line}\n"),
        )
    };
    let disabled = Template::parse(&with("State: DISABLED"), &params, "liveroom").unwrap();
    let sweeper = disabled
        .functions
        .iter()
        .find(|f| f.logical_id == "SweeperFunction")
        .unwrap();
    assert!(sweeper.schedules.is_empty());
    let unknown = Template::parse(&with("FlexibleTimeWindow: OFF"), &params, "liveroom");
    assert!(
        unknown
            .as_ref()
            .is_err_and(|e| e.contains("`FlexibleTimeWindow` is not understood")),
        "{:?}",
        unknown.err()
    );

    let overrides = [("HeartbeatTimeoutSeconds", "5")];
    for scheduled in [true, false] {
        let served = serve_with(&template(), &overrides, |s| Settings {
            streams: false,
            schedules: scheduled,
            schedule_every: Some(Duration::from_secs(1)),
            ..s
        })
        .await;
        let anchor = login(&served.base, "anchor").await;
        let viewer = login(&served.base, "viewer").await;
        let (status, room) = post(
            &served.base,
            "/api/v1/live/create",
            &anchor,
            serde_json::json!({"title": "swept"}),
        )
        .await;
        assert_eq!(status, 200, "{room}");
        let id = room["id"].as_str().unwrap().to_owned();
        let (status, joined) = post(
            &served.base,
            "/api/v1/live/join",
            &viewer,
            serde_json::json!({"id": id}),
        )
        .await;
        assert_eq!(status, 200, "{joined}");
        assert!(present(&served.table, &id, "viewer").await);
        if scheduled {
            assert!(
                eventually(async || !present(&served.table, &id, "viewer").await).await,
                "the silent member is still in the table"
            );
            let usage = served.host.usage();
            assert!(usage["SweeperFunction"].invocations >= 1, "{usage:?}");
            assert_eq!(usage["SweeperFunction"].errors, 0, "{usage:?}");
        } else {
            // Past the heartbeat timeout and several would-be sweeps.
            tokio::time::sleep(Duration::from_secs(8)).await;
            assert!(present(&served.table, &id, "viewer").await);
            assert!(!served.host.usage().contains_key("SweeperFunction"));
        }
    }
}

/// The table the host makes from the template's own definition is the table the store makes
/// (`liveroom-create-table`, the suites' tables): same keys, indexes, projections, stream and
/// TTL, as DynamoDB describes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_made_from_the_template_is_the_table_the_store_makes() {
    let params =
        parameters(&std::fs::read_to_string(root().join("host/local-parameters.json")).unwrap())
            .unwrap();
    let endpoint = crate::common::dynamodb_endpoint();
    let dynamo = Dynamo::new(&endpoint);
    let from_template = format!("liveroom-template-{}", uuid::Uuid::new_v4().simple());
    let template = Template::parse(&template(), &params, &from_template).unwrap();
    assert!(
        dynamo
            .create_table(template.table.as_ref().unwrap(), &from_template)
            .await
            .unwrap()
    );
    // A second time: kept as it is.
    assert!(
        !dynamo
            .create_table(template.table.as_ref().unwrap(), &from_template)
            .await
            .unwrap()
    );
    let from_store = format!("liveroom-store-{}", uuid::Uuid::new_v4().simple());
    liveroom::store::dynamo::DynamoStore::new(crate::common::dynamodb_client(), from_store.clone())
        .create_table()
        .await
        .unwrap();
    let describe = async |name: &str| {
        let t = dynamo.describe_table(name).await.unwrap();
        let mut indexes: Vec<serde_json::Value> = t["GlobalSecondaryIndexes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| serde_json::json!([i["IndexName"], i["KeySchema"], i["Projection"]]))
            .collect();
        indexes.sort_by_key(|i| i[0].to_string());
        let mut attributes = t["AttributeDefinitions"].as_array().unwrap().clone();
        attributes.sort_by_key(|a| a["AttributeName"].to_string());
        let ttl = dynamo
            .call(
                "DynamoDB_20120810.DescribeTimeToLive",
                &serde_json::json!({"TableName": name}),
            )
            .await
            .unwrap();
        serde_json::json!({
            "keys": t["KeySchema"],
            "attributes": attributes,
            "indexes": indexes,
            "stream": t["StreamSpecification"],
            "ttl": ttl["TimeToLiveDescription"]["AttributeName"],
        })
    };
    let (a, b) = (describe(&from_template).await, describe(&from_store).await);
    assert_eq!(a, b);
    assert_eq!(a["indexes"].as_array().unwrap().len(), 9, "{a}");
    assert_eq!(a["stream"]["StreamViewType"], "KEYS_ONLY", "{a}");
    assert_eq!(a["ttl"], "expires_at", "{a}");
}

/// The template's stream filter, as the host applies it (Lambda's event filtering): new outbox
/// entries pass; their updates and deletes, and every other item, do not.
#[test]
fn the_stream_mapping_passes_new_outbox_entries_only() {
    let params =
        parameters(&std::fs::read_to_string(root().join("host/local-parameters.json")).unwrap())
            .unwrap();
    let template = Template::parse(&template(), &params, "liveroom").unwrap();
    let outbox = template
        .functions
        .iter()
        .find(|f| f.logical_id == "OutboxFunction")
        .unwrap();
    let [source] = outbox.streams.as_slice() else {
        panic!("{:?}", outbox.streams)
    };
    assert_eq!(
        (
            source.batch_size,
            source.max_retries,
            source.starting_position.as_str()
        ),
        (100, Some(0), "LATEST")
    );
    let record = |name: &str, pk: &str| {
        serde_json::json!({
            "eventName": name,
            "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {"pk": {"S": pk}, "sk": {"S": "E#1"}}, "StreamViewType": "KEYS_ONLY"},
        })
    };
    let passes = |r: &serde_json::Value| liveroom_host::stream::passes(source, r);
    assert!(passes(&record("INSERT", "OUTBOX#room-1")));
    for (name, pk) in [
        ("MODIFY", "OUTBOX#room-1"),
        ("REMOVE", "OUTBOX#room-1"),
        ("INSERT", "ROOM#room-1"),
        ("INSERT", "outbox#room-1"),
        ("INSERT", "X-OUTBOX#room-1"),
    ] {
        assert!(!passes(&record(name, pk)), "{name} {pk}");
    }
    // A key of another type, or no key, does not pass either.
    let mut numeric = record("INSERT", "OUTBOX#1");
    numeric["dynamodb"]["Keys"]["pk"] = serde_json::json!({"N": "1"});
    assert!(!passes(&numeric));
    assert!(!passes(&serde_json::json!({"eventName": "INSERT"})));
}

/// The API's `CorsConfiguration`, as API Gateway applies it: a browser's preflight is answered
/// by the gateway (no function runs), and an answer to a cross-origin request carries the
/// allowed origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflights_are_answered_by_the_gateway_as_the_template_configures() {
    let base = serve(&template()).await;
    let preflight = crate::common::assert_cors_as_the_template_says(&base).await;
    assert!(
        preflight.headers().get("x-liveroom-function").is_none(),
        "a function answered the preflight"
    );
    // A cross-origin request itself reaches its function.
    let answer = reqwest::Client::new()
        .post(format!("{base}/api/v1/live/get"))
        .header("origin", "https://app.example")
        .json(&serde_json::json!({"id": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
    assert_eq!(answer.headers()["x-liveroom-function"], "get");
    assert_eq!(answer.headers()["access-control-allow-origin"], "*");
    // An `OPTIONS` that is no preflight (no `Origin`) is routed: no route takes it.
    let options = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{base}/api/v1/live/get"))
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), 404);
}
