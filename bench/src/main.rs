//! `liveroom-bench`: the deployed shape, measured. The Lambda function binaries run as the
//! Lambda service runs them — each a process polling a Lambda Runtime API (an emulator here),
//! fed the API Gateway v2 events of `events/` — against a DynamoDB-compatible server behind a
//! proxy that counts every call. `scripts/bench` builds everything and runs all three:
//!
//! ```text
//! liveroom-bench calls --bin-dir DIR --dynamodb URL            DynamoDB calls per invocation
//! liveroom-bench cold  --bin-dir DIR --dynamodb URL [--runs N]  cold init / first response
//! liveroom-bench warm  --bin-dir DIR --dynamodb URL [--runs N]  warm latency of get and list
//! liveroom-bench cost  --bin-dir DIR --dynamodb URL            the bill of a scripted day
//! ```
//!
//! Each prints a Markdown table. Nothing here is a test: figures go to docs/benchmarks.md.

mod cost;
mod meter;
mod proxy;

use liveroom::endpoint::Handler;
use liveroom::{accounts, rooms};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use liveroom::auth::{TokenKeys, TokenKind};
use liveroom::domain::UserId;
use liveroom::env::JwtPrivateKey;
use liveroom::store::dynamo::DynamoStore;
use liveroom::store::dynamo::schema::{counter_keys, room_key};
use serde_json::{Value, json};

use liveroom_host::emulator::{Emulator, Function};
use proxy::Proxy;

/// The secret the sample events are signed with (README: local invocation only).
/// The sample events' `JWT_PRIVATE_KEY` (README: local only).
const EVENTS_SECRET: &str = "bGl2ZXJvb20tc2FtcGxlLWV2ZW50cy1sb2NhbC1rZXk=";
/// Its public key: what the functions that only verify tokens read.
const EVENTS_PUBLIC_KEY: &str = "DmuygVnQJ3tDN6sHeRWxnmH9faJ4Y07IuGPt/tWcKXw=";
const TIMEOUT: Duration = Duration::from_secs(30);
/// The signature-login salt `events/register.json` registers `alice` with.
/// The user the sample events' token names (and whose the bench's rooms are).
const SAMPLE_USER: &str = "5f2b0c9e8d7a4b6c9e1f0a2b3c4d5e6f";
const SAMPLE_SALT: &str = "sample-signature-salt-local-only-0123456789";

/// The functions, as named in `functions/` (one binary each).
const FUNCTIONS: [&str; 55] = [
    "health",
    "openapi",
    "console",
    "register",
    "login",
    "refresh",
    "live-jump",
    "create",
    "get",
    "list",
    "update",
    "start",
    "pause",
    "stop",
    "delete",
    "token",
    "rtc-token",
    "get-meeting-info",
    "update-meeting-info",
    "join",
    "leave",
    "keepalive",
    "members",
    "like",
    "logout",
    "signature-login",
    "user",
    "update-user",
    "delete-user",
    "kick",
    "mute",
    "sweeper",
    "outbox",
    "alibaba-callback",
    "tencent-callback",
    "livekit-callback",
    "tencent-users",
    "tencent-rooms",
    "aliyun-call",
    "admin-whoami",
    "admin-rooms",
    "admin-room",
    "admin-room-series",
    "admin-stats",
    "admin-stop-room",
    "admin-kick",
    "admin-mute",
    "admin-users",
    "admin-disable-user",
    "admin-enable-user",
    "admin-set-roles",
    "admin-create-key",
    "admin-keys",
    "admin-revoke-key",
    "admin-audit",
];

/// The caps on a user's rooms, set high: the bench's sample user makes many.
const HIGH_ROOM_CAPS: [(&str, &str); 2] = [
    ("MAX_OPEN_ROOMS_PER_USER", "100"),
    ("ROOM_CREATIONS_PER_USER_PER_MINUTE", "100000"),
];

/// Ended rooms (of another anchor, category `games`) seeded before the scenarios run.
const ENDED_ROOMS: u32 = 500;

/// A scenario named `create+outbox` runs the `create` binary with the outbox on (webhooks
/// configured: each change writes its entries in the same write). The receiver is never
/// called by these functions (they only write).
const WITH_OUTBOX: &str = "+outbox";

/// A scenario named `tencent-callback+recording` runs the `tencent-callback` binary with
/// `RECORDING=on` (and the recording callbacks' settings).
const WITH_RECORDING: &str = "+recording";

/// A scenario named `list+signed` runs the `list` binary with a live provider (Alibaba CDN
/// URLs signed in every answer: the caller's session and bans are read with the page).
const WITH_SIGNING: &str = "+signed";

/// The callbacks' sample keys (README, Stream callbacks).
const ALIYUN_SAMPLE_KEY: &str = "sample-aliyun-callback-key";
const TENCENT_SAMPLE_KEY: &str = "sample-tencent-callback-key";
/// The recording callbacks' domains (the Alibaba sample is signed over the second).
const BENCH_VOD_DOMAIN: &str = "1250000000.vod2.myqcloud.com";
const BENCH_RECORD_DOMAIN: &str = "hooks.example.com";
const LIVEKIT_SAMPLE_KEY: &str = "sample_livekit_key";
const LIVEKIT_SAMPLE_SECRET: &str = "sample-livekit-secret-local-only-0123456789";

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `BENCH_ONLY` (a prefix of function names; unset: every function) takes `function`.
fn only(function: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |prefix| function.starts_with(&prefix))
}

/// SPEC §10: DynamoDB calls per invocation in the steady state.
fn budget(function: &str) -> Option<u64> {
    match function {
        "get" | "get-meeting-info" => Some(1),
        "list" | "create" | "start" | "pause" | "stop" | "update" | "members" | "like"
        | "keepalive" => Some(2),
        "join" => Some(3),
        // Issue 24: the operator's read (a key, or the account's session), then the stop.
        "admin-stop-room" => Some(3),
        _ => None,
    }
}

struct Options {
    command: String,
    bin_dir: PathBuf,
    dynamodb: String,
    runs: usize,
    events: PathBuf,
}

fn parse_args() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let command = args.next().ok_or("a command: calls, cold, warm or cost")?;
    let mut options = Options {
        command,
        bin_dir: PathBuf::from("target/release"),
        dynamodb: String::new(),
        runs: 25,
        events: PathBuf::from("events"),
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--bin-dir" => options.bin_dir = PathBuf::from(value),
            "--dynamodb" => options.dynamodb = value,
            "--events" => options.events = PathBuf::from(value),
            "--runs" => options.runs = value.parse().map_err(|_| "--runs: a number")?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if options.dynamodb.is_empty() {
        return Err("--dynamodb URL is required".to_owned());
    }
    Ok(options)
}

/// The table, the proxy, two co-host rooms of the sample user and a viewer.
struct World {
    options: Options,
    proxy: Proxy,
    table: String,
    room_a: String,
    room_b: String,
    /// A third room of the sample user: what an operator stops.
    room_c: String,
    /// An ended room of the sample user, recorded and its recording awaited: what the
    /// recording callbacks bring files to, and a `get` of a replay reads.
    room_r: String,
    viewer: String,
    /// The viewer's user id: whom an operator kicks, mutes, disables and gives roles.
    viewer_id: String,
    /// An API key the sample user (an admin: `ADMIN_USERS`) made: what `admin-revoke-key`
    /// revokes.
    key_id: String,
    /// A token of `alice`, whom the `register` sample event registers.
    alice: String,
    /// A token of the sample user in a session of its own: what `logout` ends (the sample
    /// events' session must stand for the endpoints that check it).
    sample_other: String,
    client: aws_sdk_dynamodb::Client,
}

fn client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "bench",
        ))
        .http_client(liveroom::store::dynamo::http_client().expect("the production HTTP client"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

impl World {
    async fn new(options: Options) -> Result<Self, String> {
        let proxy = Proxy::start(&options.dynamodb)
            .await
            .map_err(|e| format!("proxy: {e}"))?;
        let table = format!("liveroom-bench-{}", uuid::Uuid::new_v4().simple());
        DynamoStore::new(client(&options.dynamodb), &table)
            .create_table()
            .await
            .map_err(|e| format!("create table: {e}"))?;
        let keys = TokenKeys::issuing(
            &JwtPrivateKey::parse("JWT_PRIVATE_KEY", EVENTS_SECRET).map_err(|e| e.to_string())?,
        );
        // A registered viewer (a session is checked wherever anything is signed).
        let viewer_name = uuid::Uuid::new_v4().simple().to_string();
        let viewer = keys
            .issue(
                &UserId::parse("user", &viewer_name).map_err(|e| e.to_string())?,
                TokenKind::Access,
                chrono::Utc::now(),
                Duration::from_secs(86_400),
            )
            .map_err(|e| e.to_string())?
            .token;
        let alice = keys
            .issue(
                &UserId::parse("user", "alice").map_err(|e| e.to_string())?,
                TokenKind::Access,
                chrono::Utc::now(),
                Duration::from_secs(86_400),
            )
            .map_err(|e| e.to_string())?
            .token;
        let sample_other = keys
            .issue(
                &UserId::parse("user", SAMPLE_USER).map_err(|e| e.to_string())?,
                TokenKind::Access,
                chrono::Utc::now(),
                Duration::from_secs(86_400),
            )
            .map_err(|e| e.to_string())?
            .token;
        let mut world = Self {
            client: client(&proxy.url()),
            options,
            proxy,
            table,
            room_a: String::new(),
            room_b: String::new(),
            room_c: String::new(),
            room_r: String::new(),
            viewer,
            viewer_id: viewer_name.clone(),
            key_id: String::new(),
            alice,
            sample_other,
        };
        // Two co-host rooms of the sample user, made by the create handler in this process.
        let config = liveroom::Config::from_lookup(|k| match k {
            "JWT_PRIVATE_KEY" => Some(EVENTS_SECRET.to_owned()),
            "ADMIN_USERS" => Some(SAMPLE_USER.to_owned()),
            "REGISTRATIONS_PER_ADDRESS_PER_MINUTE" | "REGISTRATIONS_PER_MINUTE" => {
                Some("1000000".to_owned())
            }
            _ => HIGH_ROOM_CAPS
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned()),
        })
        .map_err(|e| e.to_string())?;
        let app = liveroom::App::new(
            config,
            Arc::new(DynamoStore::new(
                client(&world.options.dynamodb),
                &world.table,
            )),
            Arc::new(liveroom::SystemClock),
        );
        // The sample user and the viewer exist, so that every endpoint that checks the
        // session (`token`, `refresh`, and wherever anything is signed) measures its success
        // path.
        for username in [SAMPLE_USER, viewer_name.as_str()] {
            let mut register = world.event("register");
            let body = serde_json::json!({
                "username": username,
                "password": "the bench user's password",
            });
            register["body"] = Value::String(body.to_string());
            register["isBase64Encoded"] = Value::Bool(false);
            let request = lambda_http::request::from_str(&register.to_string())
                .map_err(|e| format!("events/register.json: {e}"))?;
            let response =
                liveroom::http::handle(&app, accounts::Register::ENDPOINT, request).await;
            if response.status() != 200 {
                return Err(format!("register {username}: {}", response.status()));
            }
        }
        let mut ids = Vec::new();
        for _ in 0..3 {
            let request = lambda_http::request::from_str(&world.event("create").to_string())
                .map_err(|e| format!("events/create.json: {e}"))?;
            let response = liveroom::http::handle(&app, rooms::Create::ENDPOINT, request).await;
            let body: Value =
                serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
            ids.push(
                body["id"]
                    .as_str()
                    .ok_or(format!("create failed: {body}"))?
                    .to_owned(),
            );
        }
        world.room_a = ids.remove(0);
        world.room_b = ids.remove(0);
        world.room_c = ids.remove(0);
        let request = lambda_http::request::from_str(&world.event("admin-create-key").to_string())
            .map_err(|e| format!("events/admin-create-key.json: {e}"))?;
        let response =
            liveroom::http::handle(&app, liveroom::admin::AdminCreateKey::ENDPOINT, request).await;
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
        world.key_id = body["key_id"]
            .as_str()
            .ok_or(format!("createKey failed: {body}"))?
            .to_owned();
        // 500 ended rooms of another anchor in category `games`: what a filtered listing
        // must not read through.
        let store = DynamoStore::new(client(&world.options.dynamodb), &world.table);
        let template = liveroom::store::RoomRead::room(
            &store,
            &liveroom::domain::RoomId::parse("id", &world.room_a).map_err(|e| e.to_string())?,
        )
        .await
        .map_err(|e| e.to_string())?
        .ok_or("room a is gone")?;
        // The recorded room: ended a minute ago after ten minutes, its recording awaited.
        let mut recorded = template.clone();
        recorded.id = liveroom::domain::RoomId::generate();
        recorded.status = liveroom::domain::RoomStatus::Ended;
        let now = chrono::Utc::now();
        recorded.started_at = Some(now - chrono::Duration::seconds(600));
        recorded.stopped_at = Some(now - chrono::Duration::seconds(60));
        recorded.recording = Some(liveroom::domain::recording::Recording::awaited());
        liveroom::store::RoomCreate::insert_room(&store, &recorded, &[])
            .await
            .map_err(|e| format!("seed the recorded room: {e}"))?;
        world.room_r = recorded.id.to_string();
        let ended_anchor = UserId::generate();
        for i in 0..ENDED_ROOMS {
            let mut room = template.clone();
            room.id = liveroom::domain::RoomId::generate();
            room.anchor_id = ended_anchor.clone();
            room.category =
                liveroom::domain::Category::parse("games").map_err(|e| e.to_string())?;
            room.status = liveroom::domain::RoomStatus::Ended;
            room.created_at = template.created_at - chrono::Duration::seconds(i64::from(i) + 1);
            liveroom::store::RoomCreate::insert_room(&store, &room, &[])
                .await
                .map_err(|e| format!("seed an ended room: {e}"))?;
        }
        world.proxy.take();
        Ok(world)
    }

    fn binary(&self, name: &str) -> PathBuf {
        self.options.bin_dir.join(name)
    }

    fn env(&self) -> Vec<(String, String)> {
        [
            ("TABLE_NAME", self.table.as_str()),
            ("JWT_PRIVATE_KEY", EVENTS_SECRET),
            ("JWT_PUBLIC_KEY", EVENTS_PUBLIC_KEY),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_ENDPOINT_URL_DYNAMODB", &self.proxy.url()),
            ("RUST_LOG", "info"),
            ("BENCH_ROOM_ID", self.room_a.as_str()),
            // The sample events' user is an operator (the admin functions).
            ("ADMIN_USERS", SAMPLE_USER),
            // Runs register many times from one address in a minute.
            ("REGISTRATIONS_PER_ADDRESS_PER_MINUTE", "1000000"),
            ("REGISTRATIONS_PER_MINUTE", "1000000"),
            // The bench makes more rooms than a user may by default.
            HIGH_ROOM_CAPS[0],
            HIGH_ROOM_CAPS[1],
            // The callbacks' sample keys (README, Stream callbacks).
            ("ALIYUN_LIVE_PUSH_DOMAIN", "push.example.com"),
            ("ALIYUN_LIVE_CALLBACK_KEY", ALIYUN_SAMPLE_KEY),
            ("TENCENT_LIVE_CALLBACK_KEY", TENCENT_SAMPLE_KEY),
            ("LIVEKIT_API_KEY", LIVEKIT_SAMPLE_KEY),
            ("LIVEKIT_API_SECRET", LIVEKIT_SAMPLE_SECRET),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn spawn(&self, name: &str, emulator: &Emulator) -> Result<Function, String> {
        let log = std::env::temp_dir().join(format!("liveroom-bench-{name}.log"));
        let mut env = self.env();
        let binary = match (
            name.strip_suffix(WITH_OUTBOX),
            name.strip_suffix(WITH_SIGNING),
        ) {
            _ if name.ends_with(WITH_RECORDING) => {
                for (k, v) in [
                    ("RECORDING", "on"),
                    ("TENCENT_VOD_PLAY_DOMAIN", BENCH_VOD_DOMAIN),
                    ("ALIYUN_LIVE_RECORD_NOTIFY_DOMAIN", BENCH_RECORD_DOMAIN),
                ] {
                    env.push((k.to_owned(), v.to_owned()));
                }
                name.trim_end_matches(WITH_RECORDING)
            }
            (Some(binary), _) => {
                env.push((
                    "WEBHOOK_URL".to_owned(),
                    "http://127.0.0.1:9/never-called".to_owned(),
                ));
                binary
            }
            (_, Some(binary)) => {
                for (k, v) in [
                    ("LIVE_PROVIDER", "aliyun"),
                    ("ALIYUN_LIVE_PUSH_DOMAIN", "push.example.com"),
                    ("ALIYUN_LIVE_PULL_DOMAIN", "pull.example.com"),
                    ("ALIYUN_LIVE_PUSH_AUTH_KEY", "bench-push-auth-key"),
                    ("ALIYUN_LIVE_PULL_AUTH_KEY", "bench-pull-auth-key"),
                ] {
                    env.push((k.to_owned(), v.to_owned()));
                }
                binary
            }
            _ => name,
        };
        if binary == "aliyun-call" {
            // Seed 000's tokens are Alibaba RTC tokens.
            for (k, v) in [
                ("RTC_PROVIDER", "aliyun"),
                ("ALIYUN_RTC_APP_ID", "bench-rtc-app"),
                ("ALIYUN_RTC_APP_KEY", "bench-rtc-app-key"),
            ] {
                env.push((k.to_owned(), v.to_owned()));
            }
        }
        Function::spawn(&self.binary(binary), emulator, &env, Some(&log)).map_err(|e| {
            format!(
                "{name}: cannot start {}: {e}",
                self.binary(binary).display()
            )
        })
    }

    fn event(&self, name: &str) -> Value {
        let path = self.options.events.join(format!("{name}.json"));
        std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| panic!("cannot read {}", path.display()))
    }

    /// The sample event of `name` for room `room` (when it names one), as `token`'s user.
    fn for_room(&self, name: &str, room: &str, token: Option<&str>) -> Value {
        let mut event = self.event(name);
        if let Some(body) = event["body"]
            .as_str()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
        {
            let mut body = body;
            if body.get("id").is_some() {
                body["id"] = json!(room);
            }
            event["body"] = Value::String(body.to_string());
        }
        if let Some(token) = token {
            event["headers"]["authorization"] = Value::String(format!("Bearer {token}"));
        }
        event
    }

    /// The sample event of admin function `name` about room `room` and the viewer (whatever
    /// of `id`, `user_id` and `key_id` its body names).
    fn admin(&self, name: &str, room: &str) -> Value {
        self.with_body(self.for_room(name, room, None), |b| {
            if b.get("user_id").is_some() {
                b["user_id"] = json!(self.viewer_id);
            }
            if b.get("key_id").is_some() {
                b["key_id"] = json!(self.key_id);
            }
            if b.get("room_id").is_some() {
                b["room_id"] = json!(room);
            }
        })
    }

    /// The `signature` sample event signed afresh (now, and `nonce`) with the sample salt.
    fn signature(&self, nonce: &str) -> Value {
        let ts = chrono::Utc::now().timestamp_millis().to_string();
        self.with_body(self.event("signature-login"), |b| {
            b["ts"] = json!(ts);
            b["nonce"] = json!(nonce);
            b["signature"] = json!(liveroom::accounts::login_signature(
                "alice",
                "",
                &ts,
                nonce,
                SAMPLE_SALT
            ));
        })
    }

    /// The Alibaba callback sample for `room`, signed now.
    /// Signed `back` seconds ago: a push's events are signed at different times (one
    /// signature value per room is accepted once).
    fn aliyun_callback(&self, action: &str, room: &str, back: i64) -> Value {
        use md5::Digest as _;
        let ts = (chrono::Utc::now().timestamp() - back).to_string();
        let mut event = self.event("alibaba-callback");
        let query = json!({"action": action, "id": room, "app": "push.example.com",
                           "appname": "live", "time": ts});
        event["rawQueryString"] = json!(format!(
            "action={action}&id={room}&app=push.example.com&appname=live&time={ts}"
        ));
        event["queryStringParameters"] = query;
        event["headers"]["ali-live-timestamp"] = json!(ts);
        event["headers"]["ali-live-signature"] = json!(hex_of(&md5::Md5::digest(
            format!("push.example.com|{ts}|{ALIYUN_SAMPLE_KEY}").as_bytes()
        )));
        event
    }

    /// The Tencent callback sample for `room`, signed afresh with expiry `t` = now + 600 +
    /// `later` (its signature covers only `t`; one signature value per room is accepted once).
    fn tencent_callback(&self, event_type: i64, room: &str, sequence: &str, later: i64) -> Value {
        use md5::Digest as _;
        let t = chrono::Utc::now().timestamp() + 600 + later;
        self.with_body(self.event("tencent-callback"), |b| {
            b["event_type"] = json!(event_type);
            b["stream_id"] = json!(room);
            b["channel_id"] = json!(room);
            b["sequence"] = json!(sequence);
            b["t"] = json!(t);
            b["sign"] = json!(hex_of(&md5::Md5::digest(
                format!("{TENCENT_SAMPLE_KEY}{t}").as_bytes()
            )));
        })
    }

    /// The Tencent recording sample (`event_type` 100): file `file_id` of `room` in `format`,
    /// recorded in the room's ten minutes, signed afresh with expiry `t` = now + 600 + `later`.
    fn tencent_recording(&self, room: &str, file_id: &str, format: &str, later: i64) -> Value {
        use md5::Digest as _;
        let now = chrono::Utc::now().timestamp();
        let t = now + 600 + later;
        self.with_body(self.event("tencent-callback-recording"), |b| {
            b["stream_id"] = json!(room);
            b["channel_id"] = json!(room);
            b["file_id"] = json!(file_id);
            b["file_format"] = json!(format);
            b["video_url"] = json!(format!(
                "https://{BENCH_VOD_DOMAIN}/d0b4c5e6vodcq1250000000/1a2b3c4d{file_id}/f0.mp4"
            ));
            b["start_time"] = json!(now - 590);
            b["end_time"] = json!(now - 100);
            b["t"] = json!(t);
            b["sign"] = json!(hex_of(&md5::Md5::digest(
                format!("{TENCENT_SAMPLE_KEY}{t}").as_bytes()
            )));
        })
    }

    /// The Alibaba recording sample: file `name` of `room`, signed `back` seconds ago over
    /// the recording callback's domain.
    fn aliyun_recording(&self, room: &str, name: &str, back: i64) -> Value {
        use md5::Digest as _;
        let now = chrono::Utc::now().timestamp();
        let ts = (now - back).to_string();
        let mut event = self.with_body(self.event("alibaba-callback-recording"), |b| {
            b["stream"] = json!(room);
            b["uri"] = json!(format!("live/{room}/{name}.m3u8"));
            b["start_time"] = json!(now - 590);
            b["stop_time"] = json!(now - 100);
        });
        event["headers"]["ali-live-timestamp"] = json!(ts);
        event["headers"]["ali-live-signature"] = json!(hex_of(&md5::Md5::digest(
            format!("{BENCH_RECORD_DOMAIN}|{ts}|{ALIYUN_SAMPLE_KEY}").as_bytes()
        )));
        event
    }

    /// The LiveKit `egress_ended` sample of `room`: egress `egress`, one file, as event `id`.
    fn livekit_recording(&self, room: &str, egress: &str, id: &str) -> Value {
        let now_ns =
            |back: i64| ((chrono::Utc::now().timestamp() - back) * 1_000_000_000).to_string();
        let event = self.with_body(self.event("livekit-callback-recording"), |b| {
            b["id"] = json!(id);
            let info = &mut b["egressInfo"];
            info["egressId"] = json!(egress);
            info["roomName"] = json!(room);
            info["roomComposite"]["roomName"] = json!(room);
            info["startedAt"] = json!(now_ns(590));
            info["endedAt"] = json!(now_ns(100));
            info["fileResults"][0]["startedAt"] = json!(now_ns(590));
            info["fileResults"][0]["endedAt"] = json!(now_ns(100));
            info["fileResults"][0]["filename"] = json!(format!("{room}/{egress}.mp4"));
            info["fileResults"][0]["location"] = json!(format!(
                "https://recordings.example.com/{room}/{egress}.mp4"
            ));
        });
        self.livekit_signed(event)
    }

    /// The LiveKit callback sample as event `kind` of `room`, signed afresh for its body.
    fn livekit_callback(&self, kind: &str, room: &str, id: &str, identity: &str) -> Value {
        let event = self.with_body(self.event("livekit-callback"), |b| {
            b["event"] = json!(kind);
            b["id"] = json!(id);
            b["room"]["name"] = json!(room);
            if !identity.is_empty() {
                b["participant"] = json!({"sid": "PA_bench", "identity": identity});
            }
        });
        self.livekit_signed(event)
    }

    /// `event` with a LiveKit webhook signature of its body, made now.
    fn livekit_signed(&self, mut event: Value) -> Value {
        use base64::Engine as _;
        use sha2::Digest as _;
        let body = event["body"].as_str().unwrap_or_default().to_owned();
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": LIVEKIT_SAMPLE_KEY, "nbf": now, "exp": now + 300,
            "sha256": base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(body.as_bytes())),
        });
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(LIVEKIT_SAMPLE_SECRET.as_bytes()),
        )
        .unwrap_or_default();
        event["headers"]["authorization"] = json!(token);
        event
    }

    /// A seed 004 sample event sent to `operation` (its path's last segment) with `params`
    /// added to its JSON body.
    fn seed004(&self, name: &str, operation: &str, params: Value) -> Value {
        let mut event = self.event(name);
        let path = event["rawPath"].as_str().unwrap_or_default().to_owned();
        let path = match path.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{operation}"),
            None => path,
        };
        event["rawPath"] = json!(path);
        event["requestContext"]["http"]["path"] = json!(path);
        if event["body"].is_null() {
            event["body"] = json!("{}");
        }
        self.with_body(event, |b| {
            if let (Some(b), Some(p)) = (b.as_object_mut(), params.as_object()) {
                b.extend(p.clone());
            }
        })
    }

    /// The seed 000 sample event for `operation` on `channel`.
    fn seed000(&self, operation: &str, channel: &str) -> Value {
        let mut event = self.event("aliyun-call");
        let path = format!("/app/{operation}");
        event["rawPath"] = json!(path);
        event["requestContext"]["http"]["path"] = json!(path);
        event["rawQueryString"] = json!(format!("channelId={channel}"));
        event["queryStringParameters"] = json!({"channelId": channel});
        event
    }

    fn with_body(&self, mut event: Value, edit: impl FnOnce(&mut Value)) -> Value {
        let mut body: Value = event["body"]
            .as_str()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(json!({}));
        edit(&mut body);
        event["body"] = Value::String(body.to_string());
        event
    }
}

fn status_of(out: &Value) -> String {
    out["statusCode"]
        .as_u64()
        .map_or_else(|| "-".to_owned(), |s| s.to_string())
}

/// One step of a scenario: an event, and whether its calls are the measured ones.
struct Step {
    case: &'static str,
    event: Value,
    measured: bool,
    /// Seconds to wait before it (a metrics count comes due after METRICS_MAX_AGE_SECONDS).
    wait: u64,
}

fn warm(case: &'static str, event: Value) -> Step {
    Step {
        case,
        event,
        measured: false,
        wait: 0,
    }
}

fn measure(case: &'static str, event: Value) -> Step {
    Step {
        case,
        event,
        measured: true,
        wait: 0,
    }
}

fn scenarios(w: &World) -> Vec<(&'static str, Vec<Step>)> {
    let r = w.room_r.as_str();
    let (a, b, viewer, alice) = (
        w.room_a.as_str(),
        w.room_b.as_str(),
        Some(w.viewer.as_str()),
        Some(w.alice.as_str()),
    );
    let on = |name: &str, room: &str| w.for_room(name, room, None);
    let mut due = measure("count due (once per period)", on("get", a));
    due.wait = 6;
    vec![
        ("health", vec![measure("", w.event("health"))]),
        ("openapi", vec![measure("", w.event("openapi"))]),
        ("console", vec![measure("", w.event("console"))]),
        ("register", vec![measure("new user", w.event("register"))]),
        ("login", vec![measure("", w.event("login"))]),
        (
            "refresh",
            vec![
                measure("", w.event("refresh")),
                measure("refresh_token (Bearer)", w.event("refresh-token")),
            ],
        ),
        (
            "live-jump",
            vec![
                measure("getLiveJumpUrl", w.event("live-jump")),
                measure("verifyAuthToken (first use)", w.event("live-jump-verify")),
                measure("verifyAuthToken (used: 401)", w.event("live-jump-verify")),
            ],
        ),
        (
            "create",
            vec![
                warm("", w.event("create")),
                measure("anchor_nick in the body", w.event("create")),
                measure(
                    "nick from the user",
                    w.with_body(w.event("create"), |b| {
                        b.as_object_mut().map(|o| o.remove("anchor_nick"));
                    }),
                ),
            ],
        ),
        (
            "get",
            // Room a's count is refreshed by the warm call (seeding the ended rooms can take
            // longer than a metrics period): the measured call is the steady state.
            vec![
                warm("", on("get", b)),
                warm("", on("get", a)),
                measure("", on("get", a)),
                due,
            ],
        ),
        (
            "list",
            vec![
                warm("", w.event("list")),
                measure(
                    "page of 20",
                    w.with_body(w.event("list"), |b| b["page_size"] = json!(20)),
                ),
                measure(
                    "page of 100",
                    w.with_body(w.event("list"), |b| b["page_size"] = json!(100)),
                ),
                measure(
                    "a category nothing is in",
                    w.with_body(w.event("list"), |b| b["category"] = json!("nothing")),
                ),
                measure(
                    "status 1 in a category of 500 ended rooms",
                    w.with_body(w.event("list"), |b| {
                        b["category"] = json!("games");
                        b["status"] = json!(1);
                    }),
                ),
            ],
        ),
        (
            "list+signed",
            vec![
                warm("", w.event("list")),
                measure(
                    "page of 20, URLs signed (the session and bans read)",
                    w.with_body(w.event("list"), |b| b["page_size"] = json!(20)),
                ),
            ],
        ),
        (
            "update",
            vec![warm("", on("update", b)), measure("", on("update", a))],
        ),
        (
            "start",
            vec![warm("", on("start", b)), measure("", on("start", a))],
        ),
        (
            "pause",
            vec![warm("", on("pause", b)), measure("", on("pause", a))],
        ),
        // The callbacks, both rooms paused: a push starts and ends, a replay does nothing.
        (
            "alibaba-callback",
            vec![
                warm("", w.aliyun_callback("publish", b, 2)),
                measure("publish: live", w.aliyun_callback("publish", a, 2)),
                measure(
                    "publish_done: paused",
                    w.aliyun_callback("publish_done", a, 1),
                ),
                measure("a replay", w.aliyun_callback("publish_done", a, 1)),
            ],
        ),
        (
            "tencent-callback",
            vec![
                warm("", w.tencent_callback(0, b, "1", 0)),
                measure("push start: live", w.tencent_callback(1, a, "2", 0)),
                measure("a replay", w.tencent_callback(1, a, "2", 0)),
                measure("push end: paused", w.tencent_callback(0, a, "2", 1)),
            ],
        ),
        (
            "livekit-callback",
            vec![
                warm("", w.livekit_callback("room_finished", b, "EV_b", "")),
                measure(
                    "the anchor's track_published: live",
                    w.livekit_callback("track_published", a, "EV_1", SAMPLE_USER),
                ),
                measure(
                    "room_finished: paused",
                    w.livekit_callback("room_finished", a, "EV_2", ""),
                ),
                measure(
                    "a replay",
                    w.livekit_callback("room_finished", a, "EV_2", ""),
                ),
                measure(
                    "participant_joined (first visit)",
                    w.livekit_callback("participant_joined", a, "EV_3", "bench_lk_user"),
                ),
                measure(
                    "participant_left",
                    w.livekit_callback("participant_left", a, "EV_4", "bench_lk_user"),
                ),
            ],
        ),
        // The recording callbacks (RECORDING=on), each bringing a file to the recorded room.
        (
            "tencent-callback+recording",
            vec![
                warm("", w.tencent_recording(b, "5285890781000000001", "mp4", 20)),
                measure(
                    "a file (event 100): ready",
                    w.tencent_recording(r, "5285890781000000002", "mp4", 21),
                ),
                measure(
                    "a replay",
                    w.tencent_recording(r, "5285890781000000002", "mp4", 21),
                ),
                measure(
                    "the other format, same t: added",
                    w.tencent_recording(r, "5285890781000000003", "hls", 21),
                ),
            ],
        ),
        (
            "alibaba-callback+recording",
            vec![
                warm("", w.aliyun_recording(b, "warm", 20)),
                measure("a file: added", w.aliyun_recording(r, "0_a", 21)),
                measure("a replay", w.aliyun_recording(r, "0_b", 21)),
            ],
        ),
        (
            "livekit-callback+recording",
            vec![
                warm("", w.livekit_recording(b, "EG_bench_b", "EV_r0")),
                measure(
                    "egress_ended (one file): added",
                    w.livekit_recording(r, "EG_bench_r", "EV_r1"),
                ),
                measure("a replay", w.livekit_recording(r, "EG_bench_r", "EV_r1")),
            ],
        ),
        (
            "get",
            vec![measure(
                "an ended room's replay (4 files, URLs signed per viewer)",
                on("get", r),
            )],
        ),
        (
            "join",
            vec![
                warm("", w.for_room("join", b, viewer)),
                measure("first visit", w.for_room("join", a, viewer)),
                measure("return visit", w.for_room("join", a, viewer)),
                measure("the anchor", on("join", a)),
            ],
        ),
        (
            "keepalive",
            vec![
                warm("", w.for_room("keepalive", b, viewer)),
                measure("a viewer", w.for_room("keepalive", a, viewer)),
                measure("the anchor", on("keepalive", a)),
            ],
        ),
        (
            "members",
            vec![warm("", on("members", b)), measure("", on("members", a))],
        ),
        (
            "like",
            vec![warm("", on("like", b)), measure("", on("like", a))],
        ),
        (
            "get-meeting-info",
            vec![
                warm("", on("get-meeting-info", b)),
                measure("", on("get-meeting-info", a)),
            ],
        ),
        (
            "update-meeting-info",
            vec![
                warm("", on("update-meeting-info", b)),
                measure("", on("update-meeting-info", a)),
            ],
        ),
        (
            "leave",
            vec![
                warm("", w.for_room("leave", b, viewer)),
                measure("", w.for_room("leave", a, viewer)),
            ],
        ),
        (
            "token",
            vec![warm("", w.event("token")), measure("", w.event("token"))],
        ),
        (
            "rtc-token",
            vec![
                warm("", on("rtc-token", b)),
                measure("", on("rtc-token", a)),
                measure(
                    "getRtcAuthToken",
                    w.with_body(w.event("rtc-token-get-rtc-auth-token"), |b| {
                        b["room_id"] = json!(a)
                    }),
                ),
            ],
        ),
        (
            "logout",
            vec![
                warm("", w.for_room("logout", "", Some(&w.sample_other))),
                measure("", w.for_room("logout", "", Some(&w.sample_other))),
            ],
        ),
        (
            "signature-login",
            vec![
                warm("", w.signature("bench-warm")),
                measure("", w.signature("bench-measured")),
            ],
        ),
        (
            "user",
            vec![
                warm("", w.for_room("user", a, alice)),
                measure("", w.for_room("user", a, alice)),
            ],
        ),
        (
            "update-user",
            vec![
                warm("", w.for_room("update-user", a, alice)),
                measure("", w.for_room("update-user", a, alice)),
            ],
        ),
        (
            "kick",
            vec![warm("", on("kick", b)), measure("a viewer", on("kick", a))],
        ),
        (
            "mute",
            vec![warm("", on("mute", b)), measure("", on("mute", a))],
        ),
        // The admin API (issue 24), as the sample user (in `ADMIN_USERS`) with its token.
        (
            "admin-whoami",
            vec![
                warm("", w.event("admin-whoami")),
                measure("", w.event("admin-whoami")),
            ],
        ),
        (
            "admin-rooms",
            vec![
                warm("", w.event("admin-rooms")),
                measure("page of 20, live", w.event("admin-rooms")),
            ],
        ),
        (
            "admin-room",
            vec![
                warm("", w.admin("admin-room", b)),
                measure(
                    "room, bans, audit at once; then members",
                    w.admin("admin-room", a),
                ),
            ],
        ),
        (
            "admin-room-series",
            vec![
                warm("", w.admin("admin-room-series", b)),
                measure("", w.admin("admin-room-series", a)),
            ],
        ),
        (
            "admin-stats",
            vec![
                warm("", w.event("admin-stats")),
                measure("", w.event("admin-stats")),
            ],
        ),
        (
            "admin-mute",
            vec![
                warm("", w.admin("admin-mute", b)),
                measure("", w.admin("admin-mute", a)),
            ],
        ),
        (
            "admin-kick",
            vec![
                warm("", w.admin("admin-kick", b)),
                measure("a viewer, banned a day", w.admin("admin-kick", a)),
            ],
        ),
        (
            "admin-stop-room",
            vec![measure(
                "a prepared room",
                w.admin("admin-stop-room", &w.room_c),
            )],
        ),
        (
            "admin-users",
            vec![
                warm("", w.event("admin-users")),
                measure("", w.event("admin-users")),
            ],
        ),
        (
            "admin-set-roles",
            vec![
                warm("", w.admin("admin-set-roles", a)),
                measure("", w.admin("admin-set-roles", a)),
            ],
        ),
        (
            "admin-disable-user",
            vec![measure("no rooms", w.admin("admin-disable-user", a))],
        ),
        (
            "admin-enable-user",
            vec![measure("", w.admin("admin-enable-user", a))],
        ),
        (
            "admin-create-key",
            vec![
                warm("", w.event("admin-create-key")),
                measure("", w.event("admin-create-key")),
            ],
        ),
        (
            "admin-keys",
            vec![
                warm("", w.event("admin-keys")),
                measure("", w.event("admin-keys")),
            ],
        ),
        (
            "admin-revoke-key",
            vec![measure("", w.admin("admin-revoke-key", a))],
        ),
        (
            "admin-audit",
            vec![
                warm("", w.admin("admin-audit", a)),
                measure("a room's 20 latest", w.admin("admin-audit", a)),
            ],
        ),
        // The dialects: seed 004 (identity in the parameters), seed 000 (a 1v1 call).
        (
            "tencent-users",
            vec![
                warm("", w.event("tencent-users")),
                measure("user_keepalive", w.event("tencent-users")),
                measure(
                    "user_keepalive in a room",
                    w.seed004("tencent-users", "user_keepalive", json!({"roomId": a})),
                ),
                measure(
                    "user_query",
                    w.seed004("tencent-users", "user_query", json!({})),
                ),
            ],
        ),
        (
            "tencent-rooms",
            vec![
                warm("", w.event("tencent-rooms")),
                measure(
                    "query_room (not ended, by category)",
                    w.event("tencent-rooms"),
                ),
                measure(
                    "query_room by roomIds",
                    w.seed004("tencent-rooms", "query_room", json!({"roomIds": [a, b]})),
                ),
                // Room a's counts refreshed just before (a refresh is due once per metrics
                // period, whenever the steps before took longer): the steady state.
                warm(
                    "",
                    w.seed004("tencent-rooms", "room_detail", json!({"roomId": a})),
                ),
                measure(
                    "room_detail",
                    w.seed004("tencent-rooms", "room_detail", json!({"roomId": a})),
                ),
                measure(
                    "enter_room (the anchor: update, start, join)",
                    w.seed004(
                        "tencent-rooms",
                        "enter_room",
                        // Room b: `start+outbox` needs room a paused still.
                        json!({"roomId": b, "title": "bench", "category": "music"}),
                    ),
                ),
                measure(
                    "list_users",
                    w.seed004("tencent-rooms", "list_users", json!({"roomId": a})),
                ),
                measure(
                    "leave_room",
                    w.seed004("tencent-rooms", "leave_room", json!({"roomId": a})),
                ),
            ],
        ),
        (
            "aliyun-call",
            vec![
                warm("", w.seed000("token", "bench-warm")),
                measure("token (makes the call)", w.seed000("token", "bench-call")),
                measure(
                    "token again (a participant)",
                    w.seed000("token", "bench-call"),
                ),
                measure(
                    "descChannelUsers",
                    w.seed000("descChannelUsers", "bench-call"),
                ),
                measure(
                    "descChannelStartTime",
                    w.seed000("descChannelStartTime", "bench-call"),
                ),
            ],
        ),
        // The outbox on: a paused room started, another stopped, each change and its entry in
        // one write.
        ("start+outbox", vec![measure("webhooks on", on("start", a))]),
        ("stop+outbox", vec![measure("webhooks on", on("stop", b))]),
        (
            "stop",
            vec![warm("", on("stop", b)), measure("", on("stop", a))],
        ),
        (
            "delete",
            vec![warm("", on("delete", b)), measure("", on("delete", a))],
        ),
        (
            "delete-user",
            vec![measure("no rooms", w.for_room("delete-user", a, alice))],
        ),
        (
            "sweeper",
            vec![measure(
                "5 open rooms (34 calls each: 3 AUI rooms, 2 seed 000 calls), 2 purged",
                w.event("sweeper"),
            )],
        ),
        (
            "sweeper+recording",
            vec![measure(
                "RECORDING=on: the ended rooms awaiting a recording read too (one Query)",
                w.event("sweeper"),
            )],
        ),
        (
            "outbox",
            vec![measure("a stream batch of one room", w.event("outbox"))],
        ),
        (
            "create+outbox",
            vec![
                warm("", w.event("create")),
                measure("webhooks on, anchor_nick in the body", w.event("create")),
                measure(
                    "webhooks on, nick from the user",
                    w.with_body(w.event("create"), |b| {
                        b.as_object_mut().map(|o| o.remove("anchor_nick"));
                    }),
                ),
            ],
        ),
    ]
}

fn describe(counts: &proxy::Counts) -> (u64, String) {
    let total = counts.values().sum();
    let parts: Vec<String> = counts.iter().map(|(op, n)| format!("{n} {op}")).collect();
    (total, parts.join(", "))
}

async fn calls(w: &World) -> Result<bool, String> {
    println!("| function | case | DynamoDB calls | by operation | budget | status |");
    println!("|---|---|---|---|---|---|");
    let mut within = true;
    for (function, steps) in scenarios(w).into_iter().filter(|(f, _)| only(f)) {
        let emulator = Emulator::start().await.map_err(|e| e.to_string())?;
        let _process = w.spawn(function, &emulator)?;
        for step in steps {
            if step.wait > 0 {
                tokio::time::sleep(Duration::from_secs(step.wait)).await;
            }
            w.proxy.take();
            let out = emulator.invoke(&step.event, TIMEOUT).await?;
            let counts = w.proxy.take();
            if !step.measured {
                continue;
            }
            let (total, parts) = describe(&counts);
            let limit = budget(
                function
                    .trim_end_matches(WITH_OUTBOX)
                    .trim_end_matches(WITH_SIGNING)
                    .trim_end_matches(WITH_RECORDING),
            );
            let steady = !step.case.contains("once per period") && !step.case.contains("return");
            let verdict = match limit {
                Some(b) if steady && total > b => {
                    within = false;
                    "**over**".to_owned()
                }
                Some(b) => format!("{b}"),
                None => "–".to_owned(),
            };
            let status = if out.ok {
                status_of(&out.body)
            } else {
                "error".to_owned()
            };
            println!(
                "| `{function}` | {} | {total} | {parts} | {verdict} | {status} |",
                step.case
            );
        }
    }
    Ok(within)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One cold start: exec → first `/next`, exec → first response (ms).
async fn cold_run(w: &World, binary: &str, event: &Value) -> Result<(f64, f64), String> {
    let emulator = Emulator::start().await.map_err(|e| e.to_string())?;
    let process = w.spawn(binary, &emulator)?;
    let out = emulator.invoke(event, TIMEOUT).await?;
    let next = emulator.take_first_next().ok_or("no /next")?;
    let times = (ms(next - process.spawned), ms(out.at - process.spawned));
    drop(process);
    Ok(times)
}

fn size(path: &Path) -> String {
    std::fs::metadata(path).map_or_else(
        |_| "–".to_owned(),
        |m| format!("{:.1}", m.len() as f64 / (1024.0 * 1024.0)),
    )
}

async fn cold(w: &World) -> Result<bool, String> {
    let runs = w.options.runs;
    let scenario: BTreeMap<&str, Value> = scenarios(w)
        .into_iter()
        .filter_map(|(f, steps)| steps.into_iter().find(|s| s.measured).map(|s| (f, s.event)))
        .collect();
    let get_event = w.for_room("get", &w.room_a, None);
    let mut binaries: Vec<(&str, Value)> = vec![
        ("bench-hello", get_event.clone()),
        ("bench-bare-get", get_event),
    ];
    for function in FUNCTIONS.into_iter().filter(|f| only(f)) {
        match scenario.get(function) {
            Some(event) if w.binary(function).exists() => binaries.push((function, event.clone())),
            _ => println!("(`{function}` is not built: skipped)"),
        }
    }
    // Round-robin, so that a slower moment of the machine touches every binary alike.
    let mut samples: BTreeMap<&str, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for _ in 0..runs {
        for (binary, event) in &binaries {
            let (init, first) = cold_run(w, binary, event).await?;
            let entry = samples.entry(binary).or_default();
            entry.0.push(init);
            entry.1.push(first);
        }
    }
    let medians: BTreeMap<&str, (f64, f64)> = samples
        .into_iter()
        .map(|(b, (i, f))| (b, (median(i), median(f))))
        .collect();
    let (hello_init, hello_first) = medians["bench-hello"];
    let (_, bare_first) = medians["bench-bare-get"];
    println!(
        "Medians of {runs} cold starts each, round-robin over the binaries (exec → first `/next` is init; exec → first response is what a caller waits for). Goals: init ≤ 1.2 × hello; first response ≤ 1.2 × hello for `health`/`openapi`/`console`, ≤ 1.0 × the bare-SDK baseline for `get`.\n"
    );
    println!(
        "| binary | MiB | init ms | init × hello | first response ms | first response × baseline | baseline |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut within = true;
    for (binary, _) in &binaries {
        let (init, first) = medians[binary];
        let (baseline, base_first) = match *binary {
            "bench-hello" => ("itself", hello_first),
            "bench-bare-get" | "health" | "openapi" | "console" => ("hello", hello_first),
            "get" => ("bare-get", bare_first),
            _ => ("–", f64::NAN),
        };
        let init_ratio = init / hello_init;
        let first_ratio = first / base_first;
        let goal = binary.starts_with("bench-")
            || (init_ratio <= 1.2
                && match *binary {
                    "health" | "openapi" | "console" => first_ratio <= 1.2,
                    "get" => first_ratio <= 1.0,
                    _ => true,
                });
        within &= goal;
        let mark = if goal { "" } else { " **over**" };
        println!(
            "| `{binary}` | {} | {init:.2} | {init_ratio:.2}{mark} | {first:.2} | {} | {baseline} |",
            size(&w.binary(binary)),
            if first_ratio.is_nan() {
                "–".to_owned()
            } else {
                format!("{first_ratio:.2}")
            },
        );
    }
    Ok(within)
}

async fn latencies(emulator: &Emulator, event: &Value, runs: usize) -> Result<Vec<f64>, String> {
    for _ in 0..20 {
        emulator.invoke(event, TIMEOUT).await?;
    }
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let answer = emulator.invoke(event, TIMEOUT).await?;
        out.push(ms(answer.at - started));
    }
    Ok(out)
}

async fn sdk_latencies<F, Fut>(runs: usize, call: F) -> Result<Vec<f64>, String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    for _ in 0..20 {
        call().await?;
    }
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        call().await?;
        out.push(ms(started.elapsed()));
    }
    Ok(out)
}

async fn warm_latency(w: &World) -> Result<bool, String> {
    let runs = w.options.runs.max(100);
    let mut rows = Vec::new();
    for (function, event) in [
        ("get", w.for_room("get", &w.room_a, None)),
        (
            "list",
            w.with_body(w.event("list"), |b| b["page_size"] = json!(20)),
        ),
        ("bench-bare-get", w.for_room("get", &w.room_a, None)),
    ] {
        let emulator = Emulator::start().await.map_err(|e| e.to_string())?;
        let _process = w.spawn(function, &emulator)?;
        let v = latencies(&emulator, &event, runs).await?;
        rows.push((format!("`{function}` through the emulator"), v));
    }
    let client = Arc::new(w.client.clone());
    let (table, room) = (
        w.table.clone(),
        liveroom::domain::RoomId::parse("id", &w.room_a).map_err(|e| e.to_string())?,
    );
    let batch = {
        let (client, table, room) = (Arc::clone(&client), table.clone(), room.clone());
        sdk_latencies(runs, move || {
            let (client, table, room) = (Arc::clone(&client), table.clone(), room.clone());
            async move {
                let mut keys = vec![room_key(&room)];
                keys.extend(counter_keys(&room));
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| e.to_string())?;
                client
                    .batch_get_item()
                    .request_items(&table, request)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .await?
    };
    rows.push((
        "bare SDK `BatchGetItem` (what `get` makes)".to_owned(),
        batch,
    ));
    let query = {
        let (client, table) = (Arc::clone(&client), table.clone());
        sdk_latencies(runs, move || {
            let (client, table) = (Arc::clone(&client), table.clone());
            async move {
                client
                    .query()
                    .table_name(&table)
                    .index_name("gsi1")
                    .key_condition_expression("gsi1pk = :pk")
                    .expression_attribute_values(":pk", AttributeValue::S("ROOMS".to_owned()))
                    .scan_index_forward(false)
                    .limit(20)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .await?
    };
    rows.push(("bare SDK `Query` (what `list` makes)".to_owned(), query));
    println!(
        "Warm latency, {runs} calls each after 20 warm-up calls (the DynamoDB server is moto, behind the counting proxy, on this machine).\n"
    );
    println!("| what | p50 ms | p99 ms |");
    println!("|---|---|---|");
    for (what, v) in rows {
        println!(
            "| {what} | {:.2} | {:.2} |",
            percentile(v.clone(), 0.5),
            percentile(v, 0.99)
        );
    }
    Ok(true)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "liveroom-bench: {e}\nusage: liveroom-bench calls|cold|warm|cost --bin-dir DIR --dynamodb URL [--runs N] [--events DIR]"
            );
            return ExitCode::from(2);
        }
    };
    let command = options.command.clone();
    if command == "cost" {
        return match cost::run(&options.bin_dir, &options.dynamodb).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("liveroom-bench: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let world = match World::new(options).await {
        Ok(w) => w,
        Err(e) => {
            eprintln!("liveroom-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command.as_str() {
        "calls" => calls(&world).await,
        "cold" => cold(&world).await,
        "warm" => warm_latency(&world).await,
        other => Err(format!("unknown command {other}")),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("liveroom-bench: a budget or goal is not met (marked **over**)");
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("liveroom-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
