//! Moderation that reaches the vendors (issue 24): our enforcement clients (`liveroom::enforce`)
//! against local stand-ins of the vendors' APIs, over real HTTP.
//!
//! Each stand-in parses a request as its vendor does and checks it with an implementation
//! written here from the vendor's documented algorithm, not with our signer: Alibaba's RPC
//! signature V1 (SHA-1 and HMAC written out below, checked against FIPS 180 / RFC 2202 and the
//! SDK's vector), its `Timestamp` window and `SignatureNonce` replay; Tencent's TC3-HMAC-SHA256
//! (checked against the doc's worked example), rebuilt from the `SignedHeaders` the request
//! names, its 5-minute `X-TC-Timestamp` window and the credential scope's service; LiveKit's
//! HS256 JWT (verified by hand), its `nbf`/`exp` and the grant each RPC needs (`roomCreate`
//! for `DeleteRoom`; `roomAdmin` and `video.room` = the request's room for
//! `RemoveParticipant`). Each answers in its vendor's format, errors included.
//!
//! The stand-ins are for later suites too (the outbox's): [`aliyun`], [`tencent`] and
//! [`livekit`] start one on 127.0.0.1:0 and return a [`StandIn`]: its base URL, what it
//! accepted ([`StandIn::calls`]) and refused ([`StandIn::rejections`]), its state (streams,
//! channels and their members) and failures to give ([`StandIn::fail_next`],
//! [`StandIn::throttle_next`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use liveroom::enforce::{Enforcement, Enforcers, Outcome, Vendor};
use liveroom::env::SecretGroups;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

// ---- the vendors' algorithms, written out ------------------------------------------------------

/// SHA-1 (FIPS 180-4 §6.1).
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, t);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// HMAC (RFC 2104) over a hash with 64-byte blocks.
fn hmac(hash: fn(&[u8]) -> Vec<u8>, key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut block = if key.len() > 64 {
        hash(key)
    } else {
        key.to_vec()
    };
    block.resize(64, 0);
    let inner: Vec<u8> = block
        .iter()
        .map(|b| b ^ 0x36)
        .chain(data.to_vec())
        .collect();
    let outer: Vec<u8> = block.iter().map(|b| b ^ 0x5c).chain(hash(&inner)).collect();
    hash(&outer)
}

fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac(|d| sha1(d).to_vec(), key, data)
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac(sha256, key, data)
}

/// Percent-decoding of a query component.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Alibaba's encoding (the doc's Java recipe: `URLEncoder.encode` with `+`→`%20`,
/// `*`→`%2A`, `%7E`→`~`), written as the set it keeps.
fn aliyun_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Alibaba's RPC signature V1 of `params` (decoded, `Signature` excluded).
fn aliyun_signature(method: &str, params: &BTreeMap<String, String>, secret: &str) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (aliyun_encode(k), aliyun_encode(v)))
        .collect();
    pairs.sort();
    let canonical = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let sts = format!(
        "{method}&{}&{}",
        aliyun_encode("/"),
        aliyun_encode(&canonical)
    );
    STANDARD.encode(hmac_sha1(format!("{secret}&").as_bytes(), sts.as_bytes()))
}

/// Tencent's TC3-HMAC-SHA256 signature of a request, from the headers it names as signed.
fn tc3_signature(
    secret_key: &str,
    headers: &HashMap<String, String>,
    signed: &str,
    body: &[u8],
    timestamp: i64,
    service: &str,
) -> String {
    let canonical_headers: String = signed
        .split(';')
        .map(|name| {
            let value = headers.get(name).map_or("", String::as_str);
            format!("{name}:{}\n", value.trim().to_lowercase())
        })
        .collect();
    let canonical = format!(
        "POST\n/\n\n{canonical_headers}\n{signed}\n{}",
        hex::encode(sha256(body))
    );
    let date = chrono::DateTime::from_timestamp(timestamp, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    let sts = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        hex::encode(sha256(canonical.as_bytes()))
    );
    let k_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac_sha256(&k_date, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"tc3_request");
    hex::encode(hmac_sha256(&k_signing, sts.as_bytes()))
}

/// An HS256 JWT's claims, if `secret` signed it.
fn hs256_claims(token: &str, secret: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (header, claims, sig) = (parts.next()?, parts.next()?, parts.next()?);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header["alg"] != "HS256" || parts.next().is_some() {
        return None;
    }
    let expected = hmac_sha256(
        secret.as_bytes(),
        format!("{}.{claims}", token_head(token)).as_bytes(),
    );
    if URL_SAFE_NO_PAD.decode(sig).ok()? != expected {
        return None;
    }
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()
}

fn token_head(token: &str) -> &str {
    token.split('.').next().unwrap_or_default()
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[test]
fn the_stand_ins_algorithms_reproduce_the_published_vectors() {
    // FIPS 180 and RFC 2202 (test case 2).
    assert_eq!(
        hex::encode(sha1(b"abc")),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        hex::encode(sha1(&[b'a'; 1000])),
        "291e9a6c66994949b57ba5e650361e98fc36b1ba"
    );
    assert_eq!(
        hex::encode(hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    );
    // Alibaba's SDK vector (darabonba-openapi-util `test_get_rpc_signature`).
    let params: BTreeMap<String, String> = [("query", "test"), ("body", "test")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(
        aliyun_signature("GET", &params, "secret"),
        "XlUyV4sXjOuX5FnjUz9IF9tm5rU="
    );
    // Tencent's worked example ("Signature v3", SignedHeaders content-type;host).
    let headers: HashMap<String, String> = [
        ("content-type", "application/json; charset=utf-8"),
        ("host", "cvm.tencentcloudapi.com"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(
        tc3_signature(
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            &headers,
            "content-type;host",
            br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#,
            1_551_113_065,
            "cvm",
        ),
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
}

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
    script: VecDeque<Failure>,
    nonces: HashSet<String>,
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

/// Alibaba's API (ApsaraVideo Live and the live console's ARTC): RPC, signature V1.
pub(crate) async fn aliyun(key_id: &str, secret: &str) -> StandIn {
    start(key_id, secret, 0, |server, req| {
        Box::pin(aliyun_serve(server, req))
    })
    .await
}

fn aliyun_error(status: u16, code: &str, message: &str) -> Answer {
    answer(
        status,
        "application/json",
        json!({
            "RequestId": uuid::Uuid::new_v4().to_string().to_uppercase(),
            "HostId": "live.aliyuncs.com",
            "Code": code,
            "Message": message,
            "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}"),
        })
        .to_string(),
    )
}

async fn aliyun_serve(server: Arc<Server>, req: hyper::Request<Incoming>) -> Answer {
    let (parts, _body) = body_of(req).await;
    let method = parts.method.as_str().to_owned();
    let mut params: BTreeMap<String, String> = parts
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect();
    let mut seen = server.seen.lock().unwrap();
    let reject = |seen: &mut Seen, status: u16, code: &str, why: &str| {
        seen.rejections.push(format!("{code}: {why}"));
        aliyun_error(status, code, why)
    };
    if parts.uri.path() != "/" || !matches!(method.as_str(), "GET" | "POST") {
        return reject(&mut seen, 404, "InvalidAction.NotFound", "path or method");
    }
    let Some(signature) = params.remove("Signature") else {
        return reject(&mut seen, 400, "IncompleteSignature", "no Signature");
    };
    let param = |k: &str| params.get(k).cloned().unwrap_or_default();
    if param("SignatureMethod") != "HMAC-SHA1" || param("SignatureVersion") != "1.0" {
        return reject(
            &mut seen,
            400,
            "IncompleteSignature",
            "SignatureMethod/SignatureVersion",
        );
    }
    if param("AccessKeyId") != server.key_id {
        return reject(
            &mut seen,
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        );
    }
    let Ok(at) = chrono::NaiveDateTime::parse_from_str(&param("Timestamp"), "%Y-%m-%dT%H:%M:%SZ")
    else {
        return reject(&mut seen, 400, "InvalidTimeStamp.Format", "Timestamp");
    };
    // "有效期为31分钟": valid for 31 minutes.
    if (unix_now() - at.and_utc().timestamp()).abs() > 31 * 60 {
        return reject(
            &mut seen,
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        );
    }
    let nonce = param("SignatureNonce");
    if nonce.is_empty() {
        return reject(&mut seen, 400, "MissingSignatureNonce", "SignatureNonce");
    }
    let expected = aliyun_signature(&method, &params, &server.secret);
    if expected != signature {
        return reject(
            &mut seen,
            400,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        );
    }
    if !seen.nonces.insert(nonce) {
        return reject(
            &mut seen,
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        );
    }
    if param("Version") != "2016-11-01" || !param("Format").eq_ignore_ascii_case("JSON") {
        return reject(&mut seen, 400, "InvalidVersion", "Version or Format");
    }
    let action = param("Action");
    let mut call = Call {
        action: action.clone(),
        params: json!(params),
        answer: "ok".to_owned(),
    };
    let response = if let Some(failure) = seen.script.pop_front() {
        match failure {
            Failure::Internal => aliyun_error(
                500,
                "InternalError",
                "The request processing has failed due to some unknown error.",
            ),
            Failure::Throttled => aliyun_error(
                400,
                "Throttling.User",
                "Request was denied due to user flow control.",
            ),
        }
    } else {
        match action.as_str() {
            "ForbidLiveStream" => {
                let ok = param("LiveStreamType") == "publisher"
                    && !param("DomainName").is_empty()
                    && !param("AppName").is_empty()
                    && !param("StreamName").is_empty()
                    && matches!(param("Oneshot").as_str(), "yes" | "no" | "");
                if ok {
                    let stream = format!(
                        "{}/{}/{}",
                        param("DomainName"),
                        param("AppName"),
                        param("StreamName")
                    );
                    seen.streams.remove(&stream);
                    answer(
                        200,
                        "application/json",
                        json!({"RequestId": "16BFE188-B193-4C3C-ADC5-79A7E31486EA"}).to_string(),
                    )
                } else {
                    aliyun_error(400, "InvalidParameter", "ForbidLiveStream parameters")
                }
            }
            "RemoveTerminals" => {
                let ids: Vec<String> = (1..=30)
                    .map_while(|i| params.get(&format!("TerminalIds.{i}")).cloned())
                    .collect();
                if param("AppId").is_empty() || param("ChannelId").is_empty() || ids.is_empty() {
                    aliyun_error(400, "InputInvalid", "AppId, ChannelId, TerminalIds.N")
                } else if let Some(members) = seen.channels.get_mut(&param("ChannelId")) {
                    let terminals: Vec<Value> = ids
                        .iter()
                        .map(|id| {
                            let removed = members.remove(id);
                            json!({"Code": if removed { 0 } else { 1 }, "Message": if removed { "Success" } else { "Failed" }, "Id": id})
                        })
                        .collect();
                    answer(
                        200,
                        "application/json",
                        json!({"RequestId": "R", "Terminals": terminals}).to_string(),
                    )
                } else {
                    aliyun_error(404, "ResourceNotExist", "The channel does not exist.")
                }
            }
            _ => aliyun_error(404, "InvalidAction.NotFound", "Specified api is not found"),
        }
    };
    if response.status() != 200 {
        call.answer = format!("{}", response.status().as_u16());
    }
    seen.calls.push(call);
    response
}

/// Tencent Cloud API 3.0 (CSS and TRTC on one server): TC3-HMAC-SHA256.
pub(crate) async fn tencent(secret_id: &str, secret_key: &str, sdkappid: u64) -> StandIn {
    start(secret_id, secret_key, sdkappid, |server, req| {
        Box::pin(tencent_serve(server, req))
    })
    .await
}

fn tencent_answer(error: Option<(&str, &str)>) -> Answer {
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = match error {
        None => json!({"Response": {"RequestId": request_id}}),
        Some((code, message)) => {
            json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}})
        }
    };
    answer(200, "application/json", body.to_string())
}

async fn tencent_serve(server: Arc<Server>, req: hyper::Request<Incoming>) -> Answer {
    let (parts, body) = body_of(req).await;
    let headers: HashMap<String, String> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let header = |k: &str| headers.get(k).cloned().unwrap_or_default();
    let mut seen = server.seen.lock().unwrap();
    let reject = |seen: &mut Seen, code: &str, why: &str| {
        seen.rejections.push(format!("{code}: {why}"));
        tencent_answer(Some((code, why)))
    };
    if parts.method != hyper::Method::POST || parts.uri.path() != "/" {
        return reject(&mut seen, "InvalidParameter", "POST / only here");
    }
    if !header("content-type").starts_with("application/json") {
        return reject(&mut seen, "InvalidParameter", "content-type");
    }
    let action = header("x-tc-action");
    let (service, version) = match action.as_str() {
        "DropLiveStream" => ("live", "2018-08-01"),
        "RemoveUserByStrRoomId" => ("trtc", "2019-07-22"),
        _ => return reject(&mut seen, "InvalidAction", "The action does not exist."),
    };
    if header("x-tc-version") != version {
        return reject(&mut seen, "NoSuchVersion", "The version does not exist.");
    }
    let Ok(timestamp) = header("x-tc-timestamp").parse::<i64>() else {
        return reject(&mut seen, "MissingParameter", "X-TC-Timestamp");
    };
    // "相差不得超过五分钟": within five minutes of the server's time.
    if (unix_now() - timestamp).abs() > 300 {
        return reject(
            &mut seen,
            "AuthFailure.SignatureExpire",
            "Signature expire.",
        );
    }
    let auth = header("authorization");
    let Some(rest) = auth.strip_prefix("TC3-HMAC-SHA256 ") else {
        return reject(
            &mut seen,
            "AuthFailure.InvalidAuthorization",
            "Authorization",
        );
    };
    let fields: HashMap<&str, &str> = rest.split(", ").filter_map(|f| f.split_once('=')).collect();
    let (Some(credential), Some(signed), Some(signature)) = (
        fields.get("Credential"),
        fields.get("SignedHeaders"),
        fields.get("Signature"),
    ) else {
        return reject(
            &mut seen,
            "AuthFailure.InvalidAuthorization",
            "Authorization fields",
        );
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let date = chrono::DateTime::from_timestamp(timestamp, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    if scope.len() != 4 || scope[1] != date || scope[2] != service || scope[3] != "tc3_request" {
        return reject(
            &mut seen,
            "AuthFailure.InvalidAuthorization",
            "Credential scope",
        );
    }
    if scope[0] != server.key_id {
        return reject(
            &mut seen,
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found.",
        );
    }
    let names: Vec<&str> = signed.split(';').collect();
    if !names.contains(&"content-type") || !names.contains(&"host") {
        return reject(
            &mut seen,
            "AuthFailure.InvalidAuthorization",
            "content-type and host must be signed",
        );
    }
    if header("host") != server.host {
        return reject(&mut seen, "AuthFailure.InvalidAuthorization", "Host");
    }
    if tc3_signature(&server.secret, &headers, signed, &body, timestamp, service) != *signature {
        return reject(
            &mut seen,
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        );
    }
    let Ok(params) = serde_json::from_slice::<Value>(&body) else {
        return reject(&mut seen, "InvalidParameter", "the body is not JSON");
    };
    let mut call = Call {
        action: action.clone(),
        params: params.clone(),
        answer: "ok".to_owned(),
    };
    let error: Option<(&str, &str)> = if let Some(failure) = seen.script.pop_front() {
        Some(match failure {
            Failure::Internal => ("InternalError", "Internal error."),
            Failure::Throttled => (
                "RequestLimitExceeded",
                "The number of requests exceeds the frequency limit.",
            ),
        })
    } else {
        let text = |k: &str| params[k].as_str().unwrap_or_default().to_owned();
        match action.as_str() {
            "DropLiveStream" => {
                if text("StreamName").is_empty()
                    || text("DomainName").is_empty()
                    || text("AppName").is_empty()
                {
                    Some(("MissingParameter", "StreamName, DomainName, AppName"))
                } else {
                    let stream = format!(
                        "{}/{}/{}",
                        text("DomainName"),
                        text("AppName"),
                        text("StreamName")
                    );
                    if seen.streams.remove(&stream) {
                        None
                    } else {
                        Some((
                            "ResourceNotFound.StreamNotAlive",
                            "The stream is not active.",
                        ))
                    }
                }
            }
            _ => {
                let users: Option<Vec<String>> = params["UserIds"].as_array().map(|a| {
                    a.iter()
                        .filter_map(|u| u.as_str().map(str::to_owned))
                        .collect()
                });
                if header("x-tc-region").is_empty() {
                    Some(("MissingParameter", "X-TC-Region"))
                } else if params["SdkAppId"].as_u64() != Some(server.sdkappid) {
                    Some(("UnauthorizedOperation.SdkAppId", "SdkAppId"))
                } else if text("RoomId").is_empty() {
                    Some(("MissingParameter.RoomId", "RoomId"))
                } else if users.as_ref().is_none_or(|u| u.is_empty() || u.len() > 10) {
                    Some(("InvalidParameter.UserIds", "UserIds"))
                } else if let Some(members) = seen.channels.get_mut(&text("RoomId")) {
                    for u in users.unwrap_or_default() {
                        members.remove(&u);
                    }
                    None
                } else {
                    Some(("FailedOperation.RoomNotExist", "The room does not exist."))
                }
            }
        }
    };
    if let Some((code, _)) = error {
        call.answer = code.to_owned();
    }
    seen.calls.push(call);
    tencent_answer(error)
}

/// A LiveKit server's Twirp `RoomService`.
pub(crate) async fn livekit(api_key: &str, api_secret: &str) -> StandIn {
    start(api_key, api_secret, 0, |server, req| {
        Box::pin(livekit_serve(server, req))
    })
    .await
}

fn twirp(status: u16, code: &str, msg: &str) -> Answer {
    answer(
        status,
        "application/json",
        json!({"code": code, "msg": msg}).to_string(),
    )
}

async fn livekit_serve(server: Arc<Server>, req: hyper::Request<Incoming>) -> Answer {
    let (parts, body) = body_of(req).await;
    let header = |k: &str| {
        parts
            .headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut seen = server.seen.lock().unwrap();
    let reject = |seen: &mut Seen, status: u16, answer_: Answer, why: &str| {
        seen.rejections.push(format!("{status}: {why}"));
        answer_
    };
    // The auth middleware: plain-text 401s.
    let Some(token) = header("authorization")
        .strip_prefix("Bearer ")
        .map(str::to_owned)
    else {
        return reject(
            &mut seen,
            401,
            answer(
                401,
                "text/plain",
                "invalid authorization header. Must start with Bearer ".to_owned(),
            ),
            "no bearer",
        );
    };
    let claims = match hs256_claims(&token, &server.secret) {
        Some(c) if c["iss"] == server.key_id.as_str() => c,
        _ => {
            return reject(
                &mut seen,
                401,
                answer(401, "text/plain", "invalid authorization token".to_owned()),
                "signature or issuer",
            );
        }
    };
    let now = unix_now();
    let (nbf, exp) = (
        claims["nbf"].as_i64().unwrap_or(0),
        claims["exp"].as_i64().unwrap_or(0),
    );
    if exp <= now || nbf > now + 60 {
        return reject(
            &mut seen,
            401,
            answer(
                401,
                "text/plain",
                "invalid authorization token: token is expired".to_owned(),
            ),
            "not valid now",
        );
    }
    let method = parts
        .uri
        .path()
        .strip_prefix("/twirp/livekit.RoomService/")
        .unwrap_or_default()
        .to_owned();
    if parts.method != hyper::Method::POST {
        return reject(
            &mut seen,
            404,
            twirp(
                404,
                "bad_route",
                "unsupported method (only POST is allowed)",
            ),
            "method",
        );
    }
    if header("content-type").split(';').next() != Some("application/json") {
        return reject(
            &mut seen,
            404,
            twirp(404, "bad_route", "unexpected Content-Type"),
            "content-type",
        );
    }
    let Ok(params) = serde_json::from_slice::<Value>(&body) else {
        return reject(
            &mut seen,
            400,
            twirp(400, "malformed", "the json request could not be decoded"),
            "body",
        );
    };
    let room = params["room"].as_str().unwrap_or_default().to_owned();
    let video = &claims["video"];
    let granted = match method.as_str() {
        "DeleteRoom" => video["roomCreate"] == true,
        "RemoveParticipant" => video["roomAdmin"] == true && video["room"] == room.as_str(),
        _ => {
            return reject(
                &mut seen,
                404,
                twirp(404, "bad_route", "no handler for path"),
                "path",
            );
        }
    };
    if !granted {
        return reject(
            &mut seen,
            401,
            twirp(401, "unauthenticated", "permissions denied"),
            "grant",
        );
    }
    let mut call = Call {
        action: method.clone(),
        params: params.clone(),
        answer: "ok".to_owned(),
    };
    let response = if let Some(failure) = seen.script.pop_front() {
        match failure {
            Failure::Internal => twirp(500, "internal", "internal error"),
            Failure::Throttled => twirp(429, "resource_exhausted", "rate limit exceeded"),
        }
    } else if method == "DeleteRoom" {
        match seen.channels.remove(&room) {
            Some(_) => answer(200, "application/json", "{}".to_owned()),
            None => twirp(404, "not_found", "requested room does not exist"),
        }
    } else {
        let identity = params["identity"].as_str().unwrap_or_default();
        match seen.channels.get_mut(&room).map(|m| m.remove(identity)) {
            Some(true) => answer(200, "application/json", "{}".to_owned()),
            _ => twirp(404, "not_found", "participant does not exist"),
        }
    };
    if response.status() != 200 {
        call.answer = format!("{}", response.status().as_u16());
    }
    seen.calls.push(call);
    response
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

fn https() -> &'static liveroom::https::Https {
    liveroom::https::client().unwrap()
}

fn cut(e: &Enforcers, room: &str) -> Enforcement {
    let mut calls = e.cut_stream(room);
    assert_eq!(calls.len(), 1, "{calls:?}");
    calls.remove(0)
}

#[tokio::test]
async fn each_call_succeeds_against_its_stand_in() {
    // Alibaba: the stream of the push URLs (push.example.com/live/{room}), and the ARTC
    // terminal of our user's vendor id.
    let s = aliyun(ALIYUN_ID, ALIYUN_SECRET).await;
    let e = enforcers(&aliyun_vars(&s.base, ALIYUN_SECRET));
    s.add_stream("push.example.com/live/room-1");
    s.add_member("room-1", "_05alice");
    let now = unix_now();
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now).await,
        Outcome::Done
    );
    let kick = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(e.send(https(), &kick, now).await, Outcome::Done);
    assert!(!s.has_stream("push.example.com/live/room-1"));
    assert_eq!(s.members("room-1"), Some(BTreeSet::new()));
    let calls = s.calls();
    assert_eq!(calls[0].action, "ForbidLiveStream");
    assert_eq!(calls[0].params["Oneshot"], "yes");
    assert_eq!(calls[0].params["StreamName"], "room-1");
    assert_eq!(calls[1].action, "RemoveTerminals");
    assert_eq!(calls[1].params["TerminalIds.1"], "_05alice");
    assert_eq!(s.rejections(), Vec::<String>::new());

    // Tencent: DropLiveStream of live/{room} on the push domain; TRTC's string room.
    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    let e = enforcers(&tencent_vars(&s.base, TENCENT_KEY));
    s.add_stream("push.example.com/live/room-1");
    s.add_member("room-1", "alice");
    s.add_member("room-1", "bob");
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now).await,
        Outcome::Done
    );
    let kick = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(e.send(https(), &kick, now).await, Outcome::Done);
    assert!(!s.has_stream("push.example.com/live/room-1"));
    assert_eq!(
        s.members("room-1"),
        Some(BTreeSet::from(["bob".to_owned()]))
    );
    let calls = s.calls();
    assert_eq!(
        (calls[0].action.as_str(), calls[1].action.as_str()),
        ("DropLiveStream", "RemoveUserByStrRoomId")
    );
    assert_eq!(
        calls[1].params,
        json!({"SdkAppId": SDKAPPID, "RoomId": "room-1", "UserIds": ["alice"]})
    );
    assert_eq!(s.rejections(), Vec::<String>::new());

    // LiveKit: RemoveParticipant, then DeleteRoom of the room (the LIVEKIT_URL's server).
    let s = livekit(LK_KEY, LK_SECRET).await;
    let url = s.base.replace("http://", "ws://");
    let e = enforcers(&livekit_vars(&url, LK_SECRET));
    s.add_member("room-1", "alice");
    s.add_member("room-1", "bob");
    let kick = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(e.send(https(), &kick, now).await, Outcome::Done);
    assert_eq!(
        s.members("room-1"),
        Some(BTreeSet::from(["bob".to_owned()]))
    );
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now).await,
        Outcome::Done
    );
    assert_eq!(s.members("room-1"), None);
    let calls = s.calls();
    assert_eq!(calls[0].action, "RemoveParticipant");
    assert_eq!(
        calls[0].params,
        json!({"room": "room-1", "identity": "alice"})
    );
    assert_eq!(calls[1].action, "DeleteRoom");
    assert_eq!(s.rejections(), Vec::<String>::new());
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_stand_in_and_permanent() {
    let now = unix_now();
    let s = aliyun(ALIYUN_ID, ALIYUN_SECRET).await;
    s.add_stream("push.example.com/live/room-1");
    let e = enforcers(&aliyun_vars(&s.base, "not-the-aliyun-secret-0123456789"));
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now).await,
        Outcome::Permanent("aliyun ForbidLiveStream: SignatureDoesNotMatch (HTTP 400)".to_owned())
    );
    assert!(s.has_stream("push.example.com/live/room-1"));
    assert!(s.calls().is_empty());
    assert_eq!(s.rejections().len(), 1);

    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    s.add_member("room-1", "alice");
    let e = enforcers(&tencent_vars(&s.base, "not-the-tencent-secret-0123456789"));
    let kick = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(
        e.send(https(), &kick, now).await,
        Outcome::Permanent(
            "tencent RemoveUserByStrRoomId: AuthFailure.SignatureFailure".to_owned()
        )
    );
    assert!(s.calls().is_empty());
    assert_eq!(
        s.members("room-1"),
        Some(BTreeSet::from(["alice".to_owned()]))
    );

    let s = livekit(LK_KEY, LK_SECRET).await;
    s.add_member("room-1", "alice");
    let url = s.base.clone();
    let e = enforcers(&livekit_vars(&url, "not-the-livekit-secret-0123456789"));
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now).await,
        Outcome::Permanent("livekit DeleteRoom: HTTP 401".to_owned())
    );
    assert_eq!(
        s.members("room-1"),
        Some(BTreeSet::from(["alice".to_owned()]))
    );
    assert_eq!(s.rejections().len(), 1);
}

#[tokio::test]
async fn failures_and_throttling_are_retried_then_done() {
    let now = unix_now();
    let s = aliyun(ALIYUN_ID, ALIYUN_SECRET).await;
    let e = enforcers(&aliyun_vars(&s.base, ALIYUN_SECRET));
    s.fail_next(1);
    s.throttle_next(1);
    let call = cut(&e, "room-1");
    assert_eq!(
        e.send(https(), &call, now).await,
        Outcome::Retry("aliyun ForbidLiveStream: InternalError (HTTP 500)".to_owned())
    );
    assert_eq!(
        e.send(https(), &call, now).await,
        Outcome::Retry("aliyun ForbidLiveStream: Throttling.User (HTTP 400)".to_owned())
    );
    assert_eq!(e.send(https(), &call, now).await, Outcome::Done);
    assert_eq!(
        s.calls().len(),
        3,
        "each retry is a new, correctly signed call"
    );

    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    let e = enforcers(&tencent_vars(&s.base, TENCENT_KEY));
    s.add_stream("push.example.com/live/room-1");
    s.fail_next(1);
    s.throttle_next(1);
    let call = cut(&e, "room-1");
    assert_eq!(
        e.send(https(), &call, now).await,
        Outcome::Retry("tencent DropLiveStream: InternalError".to_owned())
    );
    assert_eq!(
        e.send(https(), &call, now).await,
        Outcome::Retry("tencent DropLiveStream: RequestLimitExceeded".to_owned())
    );
    assert_eq!(e.send(https(), &call, now).await, Outcome::Done);
    assert!(!s.has_stream("push.example.com/live/room-1"));

    let s = livekit(LK_KEY, LK_SECRET).await;
    let e = enforcers(&livekit_vars(&s.base, LK_SECRET));
    s.add_member("room-1", "alice");
    s.fail_next(1);
    s.throttle_next(1);
    let call = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(
        e.send(https(), &call, now).await,
        Outcome::Retry("livekit RemoveParticipant: internal (HTTP 500)".to_owned())
    );
    assert_eq!(
        e.send(https(), &call, now).await,
        Outcome::Retry("livekit RemoveParticipant: resource_exhausted (HTTP 429)".to_owned())
    );
    assert_eq!(e.send(https(), &call, now).await, Outcome::Done);

    // Nobody listening: retried.
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", gone.local_addr().unwrap());
    drop(gone);
    let e = enforcers(&livekit_vars(&base, LK_SECRET));
    assert!(matches!(
        e.send(https(), &call, now).await,
        Outcome::Retry(_)
    ));
}

#[tokio::test]
async fn nothing_left_to_do_is_done_as_the_docs_say() {
    let now = unix_now();
    // Tencent: "an inactive stream returns success" (the SDK's ResourceNotFound.StreamNotAlive);
    // a room that does not exist has nobody to remove.
    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    let e = enforcers(&tencent_vars(&s.base, TENCENT_KEY));
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now).await,
        Outcome::Done
    );
    let kick = e.remove_member("room-2", "alice").unwrap();
    assert_eq!(e.send(https(), &kick, now).await, Outcome::Done);
    let answers: Vec<String> = s.calls().into_iter().map(|c| c.answer).collect();
    assert_eq!(
        answers,
        [
            "ResourceNotFound.StreamNotAlive",
            "FailedOperation.RoomNotExist"
        ]
    );

    // LiveKit: 404 for a room or participant that is not there.
    let s = livekit(LK_KEY, LK_SECRET).await;
    let e = enforcers(&livekit_vars(&s.base, LK_SECRET));
    s.add_member("room-1", "bob");
    let kick = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(e.send(https(), &kick, now).await, Outcome::Done);
    assert_eq!(
        e.send(https(), &cut(&e, "room-9"), now).await,
        Outcome::Done
    );
    let answers: Vec<String> = s.calls().into_iter().map(|c| c.answer).collect();
    assert_eq!(answers, ["404", "404"]);

    // Alibaba: a channel that does not exist (404 ResourceNotExist) leaves nothing to remove.
    let s = aliyun(ALIYUN_ID, ALIYUN_SECRET).await;
    let e = enforcers(&aliyun_vars(&s.base, ALIYUN_SECRET));
    let kick = e.remove_member("room-2", "alice").unwrap();
    assert_eq!(e.send(https(), &kick, now).await, Outcome::Done);
}

#[tokio::test]
async fn stale_replayed_or_under_granted_requests_are_refused() {
    let now = unix_now();
    // Tencent: a timestamp more than five minutes off.
    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    let e = enforcers(&tencent_vars(&s.base, TENCENT_KEY));
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now - 301).await,
        Outcome::Permanent("tencent DropLiveStream: AuthFailure.SignatureExpire".to_owned())
    );
    assert!(s.calls().is_empty());

    // Alibaba: a Timestamp out of its window, and a nonce used twice.
    let s = aliyun(ALIYUN_ID, ALIYUN_SECRET).await;
    let e = enforcers(&aliyun_vars(&s.base, ALIYUN_SECRET));
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now - 32 * 60).await,
        Outcome::Permanent(
            "aliyun ForbidLiveStream: InvalidTimeStamp.Expired (HTTP 400)".to_owned()
        )
    );
    let call = cut(&e, "room-1");
    let request = e.request(&call, now, "the-same-nonce").unwrap();
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let a = https()
            .post(
                &request.url,
                &headers,
                Vec::new(),
                std::time::Duration::from_secs(5),
            )
            .await
            .unwrap();
        answers.push(Enforcers::classify(&call, a.status, &a.body));
    }
    assert_eq!(
        answers,
        [
            Outcome::Done,
            Outcome::Retry("aliyun ForbidLiveStream: SignatureNonceUsed (HTTP 400)".to_owned())
        ]
    );
    assert_eq!(s.calls().len(), 1);
    assert_eq!(s.rejections().len(), 2);

    // LiveKit: an expired token, and a roomAdmin grant for another room.
    let s = livekit(LK_KEY, LK_SECRET).await;
    let e = enforcers(&livekit_vars(&s.base, LK_SECRET));
    s.add_member("room-1", "alice");
    let kick = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(
        e.send(https(), &kick, now - 601).await,
        Outcome::Permanent("livekit RemoveParticipant: HTTP 401".to_owned())
    );
    let token = liveroom::credentials::livekit::admin_token(
        LK_KEY,
        LK_SECRET.as_bytes(),
        &liveroom::credentials::livekit::AdminGrant {
            room: "room-2".to_owned(),
            room_admin: true,
            ..Default::default()
        },
        now,
        600,
    )
    .unwrap();
    let auth = format!("Bearer {token}");
    let a = https()
        .post(
            &format!("{}/twirp/livekit.RoomService/RemoveParticipant", s.base),
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            br#"{"room":"room-1","identity":"alice"}"#.to_vec(),
            std::time::Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(
        Enforcers::classify(&kick, a.status, &a.body),
        Outcome::Permanent("livekit RemoveParticipant: unauthenticated (HTTP 401)".to_owned())
    );
    assert_eq!(
        s.members("room-1"),
        Some(BTreeSet::from(["alice".to_owned()]))
    );
    assert_eq!(s.rejections().len(), 2);
    assert!(s.calls().is_empty());
}

#[tokio::test]
async fn without_credentials_nothing_is_called() {
    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    let mut vars = tencent_vars(&s.base, TENCENT_KEY);
    vars.retain(|(k, _)| !k.starts_with("TENCENT_API_SECRET"));
    let e = enforcers(&vars);
    let call = cut(&e, "room-1");
    assert!(!e.sends(&call));
    assert_eq!(call.vendor(), Vendor::Tencent);
    assert!(matches!(
        e.send(https(), &call, unix_now()).await,
        Outcome::Permanent(r) if r.contains("no API credentials")
    ));
    assert!(s.calls().is_empty() && s.rejections().is_empty());
}
