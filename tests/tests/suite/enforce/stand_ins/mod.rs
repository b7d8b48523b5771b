//! Local stand-ins of the vendors' enforcement APIs (see the parent module), and the settings
//! our clients are pointed at them with.

mod aliyun;
mod livekit;
mod tencent;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use liveroom::enforce::Enforcers;
use liveroom::env::SecretGroups;
use serde_json::Value;

pub(crate) use aliyun::aliyun;
pub(crate) use livekit::livekit;
pub(crate) use tencent::tencent;

// ---- the stand-ins -------------------------------------------------------------------------------

/// A failure to give instead of serving a call.
#[derive(Debug, Clone, Copy)]
enum Failure {
    Internal,
    Throttled,
}

/// A call a stand-in accepted (correctly signed, fresh, with the grant it needs).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    /// The API's name of it (`ForbidLiveStream`, `DropLiveStream`, `DeleteRoom`, ...).
    pub(crate) action: String,
    /// Its parameters: Alibaba's query, Tencent's and LiveKit's JSON body.
    pub(crate) params: Value,
    /// What it answered: `ok`, or the error code it gave.
    pub(crate) answer: String,
}

/// What a stand-in holds and saw.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub(crate) calls: Vec<Call>,
    /// Requests refused before any action: the code and why.
    pub(crate) rejections: Vec<String>,
    /// Live streams (`{domain}/{app}/{stream}`; LiveKit: rooms are channels).
    pub(crate) streams: BTreeSet<String>,
    /// RTC channels (LiveKit rooms) and their members.
    pub(crate) channels: BTreeMap<String, BTreeSet<String>>,
    /// LiveKit's egresses, in the order they were started.
    pub(crate) egresses: Vec<Egress>,
    script: VecDeque<Failure>,
    /// LiveKit: after this many more calls are answered, the next is made but answered 503
    /// as if its answer were lost.
    lose: Option<usize>,
    nonces: HashSet<String>,
}

/// A LiveKit egress the stand-in started.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Egress {
    pub(crate) id: String,
    pub(crate) room: String,
    /// `EGRESS_STARTING` when started, `EGRESS_ACTIVE` once listed, `EGRESS_COMPLETE` once
    /// stopped (or its room deleted).
    pub(crate) status: &'static str,
    /// The start request as received.
    pub(crate) request: Value,
    /// Unix nanoseconds.
    pub(crate) started_at: i64,
    pub(crate) ended_at: i64,
}

impl Egress {
    pub(crate) fn is_active(&self) -> bool {
        matches!(self.status, "EGRESS_STARTING" | "EGRESS_ACTIVE")
    }
}

/// A running stand-in.
#[derive(Clone)]
pub(crate) struct StandIn {
    pub(crate) base: String,
    pub(crate) seen: Arc<Mutex<Seen>>,
}

impl StandIn {
    pub(crate) fn calls(&self) -> Vec<Call> {
        self.seen.lock().unwrap().calls.clone()
    }

    pub(crate) fn rejections(&self) -> Vec<String> {
        self.seen.lock().unwrap().rejections.clone()
    }

    /// The next `n` calls fail with the vendor's internal error (HTTP 500 at Alibaba and
    /// LiveKit; HTTP 200 with `InternalError` at Tencent, as it answers).
    pub(crate) fn fail_next(&self, n: usize) {
        let mut seen = self.seen.lock().unwrap();
        seen.script
            .extend(std::iter::repeat_n(Failure::Internal, n));
    }

    /// The next `n` calls are throttled, in the vendor's format.
    pub(crate) fn throttle_next(&self, n: usize) {
        let mut seen = self.seen.lock().unwrap();
        seen.script
            .extend(std::iter::repeat_n(Failure::Throttled, n));
    }

    /// LiveKit: the next `after` calls are answered, then one is made but answered 503
    /// `unavailable` (its answer lost on the way: the caller cannot tell it was made).
    pub(crate) fn lose_after(&self, after: usize) {
        self.seen.lock().unwrap().lose = Some(after);
    }

    /// A stream goes live (Alibaba, Tencent: `{domain}/{app}/{stream}`).
    pub(crate) fn add_stream(&self, stream: &str) {
        self.seen.lock().unwrap().streams.insert(stream.to_owned());
    }

    /// `user` (the vendor's id of them) is in RTC channel `channel`.
    pub(crate) fn add_member(&self, channel: &str, user: &str) {
        let mut seen = self.seen.lock().unwrap();
        seen.channels
            .entry(channel.to_owned())
            .or_default()
            .insert(user.to_owned());
    }

    pub(crate) fn members(&self, channel: &str) -> Option<BTreeSet<String>> {
        self.seen.lock().unwrap().channels.get(channel).cloned()
    }

    /// LiveKit: the egresses of room `room`, oldest first.
    pub(crate) fn egresses(&self, room: &str) -> Vec<Egress> {
        let seen = self.seen.lock().unwrap();
        seen.egresses
            .iter()
            .filter(|e| e.room == room)
            .cloned()
            .collect()
    }

    pub(crate) fn has_stream(&self, stream: &str) -> bool {
        self.seen.lock().unwrap().streams.contains(stream)
    }
}

/// A stand-in's server state: its credentials and what it saw.
struct Server {
    key_id: String,
    secret: String,
    /// The Tencent SDKAppID whose rooms it serves.
    sdkappid: u64,
    host: String,
    seen: Arc<Mutex<Seen>>,
}

type Answer = hyper::Response<Full<Bytes>>;
/// A stand-in's request handler.
type Handle = fn(
    Arc<Server>,
    hyper::Request<Incoming>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Answer> + Send>>;

fn answer(status: u16, content_type: &str, body: String) -> Answer {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    response
        .headers_mut()
        .insert("content-type", content_type.parse().unwrap());
    response
}

async fn start(key_id: &str, secret: &str, sdkappid: u64, handle: Handle) -> StandIn {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let server = Arc::new(Server {
        key_id: key_id.to_owned(),
        secret: secret.to_owned(),
        sdkappid,
        host: host.clone(),
        seen: Arc::clone(&seen),
    });
    liveroom_host::serve::spawn(listener, server, handle);
    StandIn {
        base: format!("http://{host}"),
        seen,
    }
}

async fn body_of(req: hyper::Request<Incoming>) -> (hyper::http::request::Parts, Vec<u8>) {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes().to_vec());
    (parts, body.unwrap_or_default())
}

// ---- our clients against them --------------------------------------------------------------------

pub(crate) const ALIYUN_ID: &str = "LTAI5tTestAccessKeyId";
pub(crate) const ALIYUN_SECRET: &str = "aliyun-access-key-secret-0123456789";
pub(crate) const TENCENT_ID: &str = "AKIDTestSecretId0123456789";
pub(crate) const TENCENT_KEY: &str = "tencent-secret-key-0123456789";
pub(crate) const SDKAPPID: u64 = 1_400_000_001;
pub(crate) const LK_KEY: &str = "lk_key";
pub(crate) const LK_SECRET: &str = "livekit-secret-for-the-tests-0123456789";

/// The enforcement settings of a function that calls (`SecretGroups::enforcement`), from
/// `vars`.
pub(crate) fn enforcers(vars: &[(&str, &str)]) -> Enforcers {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let reads = SecretGroups {
        enforcement: true,
        ..SecretGroups::NOTHING
    };
    Enforcers::from_lookup(&|k: &str| vars.get(k).cloned(), &reads).unwrap()
}

pub(crate) fn aliyun_vars<'a>(base: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("LIVE_PROVIDER", "aliyun"),
        ("RTC_PROVIDER", "aliyun"),
        ("ALIYUN_LIVE_PUSH_DOMAIN", "push.example.com"),
        ("ALIYUN_RTC_APP_ID", "artc-app"),
        ("ALIYUN_ACCESS_KEY_ID", ALIYUN_ID),
        ("ALIYUN_ACCESS_KEY_SECRET", secret),
        ("ALIYUN_LIVE_API_BASE", base),
        ("ALIYUN_RTC_API_BASE", base),
    ]
}

pub(crate) fn tencent_vars<'a>(base: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("LIVE_PROVIDER", "tencent"),
        ("RTC_PROVIDER", "tencent"),
        ("TENCENT_LIVE_PUSH_DOMAIN", "push.example.com"),
        ("TENCENT_SDKAPPID", "1400000001"),
        ("TENCENT_API_SECRET_ID", TENCENT_ID),
        ("TENCENT_API_SECRET_KEY", secret),
        ("TENCENT_LIVE_API_BASE", base),
        ("TENCENT_TRTC_API_BASE", base),
    ]
}

pub(crate) fn livekit_vars<'a>(url: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("RTC_PROVIDER", "livekit"),
        ("LIVEKIT_URL", url),
        ("LIVEKIT_API_KEY", LK_KEY),
        ("LIVEKIT_API_SECRET", secret),
    ]
}
