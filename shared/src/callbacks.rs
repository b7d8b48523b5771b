//! Inbound vendor callbacks (issue 9 §2): the CDN's stream events (Alibaba ApsaraVideo Live,
//! Tencent CSS) and LiveKit's webhooks move rooms and presence.
//!
//! Each callback is on when its key is configured (whatever `LIVE_PROVIDER` says) and is
//! checked in the same order: the signature (compared in constant time), then freshness (each
//! vendor's rule), then the event's identity is claimed in the store (a conditional put kept
//! past the freshness window), so a replay is acknowledged the way the vendor expects and
//! changes nothing. Only then does the event act, through the room's state machine
//! ([`crate::rooms::apply_as_system`]): a push starting makes a prepared room live if its
//! anchor is in it (an ended room never comes back, unlike AUI's handler), a push ending
//! pauses a live one. A callback for a room that does not exist is acknowledged and ignored
//! (logged). When the store fails half way, the claim is released and the vendor's retry
//! finds the work undone.
//!
//! The wire formats, with sources, are in VENDORS.md §2 and §3.

use std::collections::BTreeMap;

use lambda_http::Request;
use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::App;
use crate::auth::Caller;
use crate::credentials::livekit::{WEBHOOK_LEEWAY_SECS, WebhookRefusal, verify_webhook};
use crate::credentials::{aliyun, tencent, text};
use crate::domain::room::Action;
use crate::domain::{RoomId, UserId};
use crate::endpoint::{Endpoint, Handler, Route, Visitor, json, within_size};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::room_change::RoomTarget;
use crate::store::Store;

crate::needs!(
    /// A CDN stream callback: the claim of the event, then the room and its guarded change.
    StreamCallbackStore,
    STREAM_CALLBACK_NEEDS: EventClaim,
    RoomRead,
    RoomUpdate
);
crate::needs!(
    /// LiveKit's webhooks: the claim, the room's changes, and presence (join, leave).
    LivekitCallbackStore,
    LIVEKIT_CALLBACK_NEEDS: EventClaim,
    RoomRead,
    RoomView,
    RoomUpdate,
    PresenceWrite,
    ChannelMark,
    MemberRead
);

/// Alibaba's and our freshness window for a signed timestamp (seconds either way).
const FRESHNESS_SECS: i64 = 300;
/// How long past its freshness window an event's claim is kept.
const CLAIM_MARGIN_SECS: i64 = 60;

/// A callback request as the edge read it: lower-cased header names, the query string and
/// the raw body.
#[derive(Debug, Default)]
pub struct Inbound {
    pub headers: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Inbound {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

fn not_configured(name: &str) -> ApiError {
    ApiError::new(
        ErrorCode::CallbackNotConfigured,
        format!("the {name} callback is not configured on this server"),
    )
}

/// A refused callback (401), logged: every refusal is (a forged or replayed callback is an
/// attack worth seeing). Nothing secret is in `message`.
fn refused(source: &'static str, message: &str) -> ApiError {
    tracing::warn!(source, reason = message, "callback refused");
    ApiError::new(ErrorCode::CallbackSignatureInvalid, message.to_owned())
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::SystemVerifyError, message.into())
}

fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// What became of a callback (logged; the vendor gets its usual success answer either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Applied,
    Replayed,
    Ignored,
}

/// The room a stream name stands for: the room id itself, or AUI's RTC mix
/// `{appId}_{roomId}_{anchorId}_camera|_audio`.
fn room_of_stream(stream: &str) -> Option<RoomId> {
    RoomId::parse("stream", stream).ok().or_else(|| {
        let mixed = stream.ends_with("_camera") || stream.ends_with("_audio");
        mixed
            .then(|| stream.split('_').nth(1))
            .flatten()
            .and_then(|id| RoomId::parse("stream", id).ok())
    })
}

/// Claims `id` of `source`, runs `act`, and releases the claim if `act` failed (so the
/// vendor's retry does the work).
async fn once<S, F, Fut>(
    app: &App<S>,
    source: &'static str,
    id: &str,
    until: i64,
    act: F,
) -> Result<Outcome, ApiError>
where
    S: crate::store::EventClaim + ?Sized,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Outcome, ApiError>>,
{
    let now = app.clock.now().timestamp();
    if !app.store.claim_event(source, id, now, until).await? {
        return Ok(Outcome::Replayed);
    }
    match act().await {
        Ok(outcome) => Ok(outcome),
        Err(e) => {
            if let Err(release) = app.store.release_event(source, id).await {
                tracing::error!(source, error = %release, "callback claim not released");
            }
            Err(e)
        }
    }
}

/// Moves the room a stream names by `action`, as the system, if the room is in the state a
/// genuine event of that kind comes from ([`plausible`]).
async fn stream_event<S: StreamCallbackStore + ?Sized>(
    app: &App<S>,
    stream: &str,
    action: Action,
) -> Result<Outcome, ApiError> {
    let Some(room) = room_of_stream(stream) else {
        let stream = clipped(stream);
        tracing::info!(stream, "stream callback for no room of ours: ignored");
        return Ok(Outcome::Ignored);
    };
    let timeout = i64::try_from(app.config.anchor_timeout.as_secs()).unwrap_or(86_400);
    let anchor_since = app.clock.now() - chrono::Duration::seconds(timeout);
    let allowed = |r: &crate::domain::room::Room| plausible(r, action, anchor_since);
    Ok(
        match crate::rooms::apply_as_system(app, &room, action, allowed).await? {
            true => Outcome::Applied,
            false => Outcome::Ignored,
        },
    )
}

/// Whether a CDN stream event for `room` can be genuine, given what its signature cannot
/// prove (it covers no field of the event): a push starts only from an anchor who is in its
/// room (kept alive since `anchor_since`, the sweeper's rule — a room whose anchor is not
/// would be paused again by the next sweep); a push ends only in a live room (the state
/// machine's rule: a pause elsewhere changes nothing).
fn plausible(
    room: &crate::domain::room::Room,
    action: Action,
    anchor_since: chrono::DateTime<chrono::Utc>,
) -> bool {
    match action {
        Action::Start => room.anchor_seen_since(anchor_since),
        Action::Pause | Action::Stop => true,
    }
}

/// At most a room id's length (and some) of a sender's stream name, for the log.
fn clipped(stream: &str) -> &str {
    stream
        .char_indices()
        .nth(64)
        .map_or(stream, |(end, _)| &stream[..end])
}

fn log(source: &'static str, event: &str, stream: &str, outcome: Outcome) {
    // The stream is the sender's text: at most a room id's length of it in the log.
    let stream = clipped(stream);
    if outcome == Outcome::Replayed {
        tracing::warn!(source, event, stream, "callback refused: a replay");
    } else {
        tracing::info!(source, event, stream, outcome = ?outcome, "callback");
    }
}

/// Past this many streams in one signature value, each further one is logged as suspect
/// (and still served). Alibaba's signature covers only `domain|timestamp` and Tencent's only
/// `key + t`, not the event: a captured signature can be sent again with another stream or
/// event while it is fresh, and nothing in it tells that copy from a genuine callback of a
/// busy second. So no callback is refused for the count (a genuine one never is); what a
/// copy can do is bounded by one accepted callback per signature value and room, and by
/// [`plausible`]: see "Residual risk" in docs/callbacks-and-webhooks.md.
pub const STREAMS_PER_SIGNATURE_LOGGED: u64 = 16;

/// [`once`] keyed on what the vendor signed: the signature value (`signature`), the stream's
/// room and the kind of event (a push's start and its end in one second are two genuine
/// events); the signature value's streams counted, and logged past
/// [`STREAMS_PER_SIGNATURE_LOGGED`]. A stream that is no room of ours is ignored before
/// anything is written: a captured signature sent with made-up stream names costs no write.
async fn once_per_signature<S, F, Fut>(
    app: &App<S>,
    source: &'static str,
    signature: &str,
    stream: &str,
    action: Action,
    until: i64,
    act: F,
) -> Result<Outcome, ApiError>
where
    S: crate::store::EventClaim + ?Sized,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Outcome, ApiError>>,
{
    // A room's stream has more than one name (AUI's RTC mix names it second): one room, one
    // stream here.
    let Some(stream) = room_of_stream(stream).map(|r| r.to_string()) else {
        return Ok(Outcome::Ignored);
    };
    let kind = if action == Action::Start {
        "start"
    } else {
        "pause"
    };
    once(
        app,
        source,
        &format!("{signature}|{stream}|{kind}"),
        until,
        || async {
            let uses = app
                .store
                .count_signature_use(source, signature, until)
                .await?;
            if uses > STREAMS_PER_SIGNATURE_LOGGED {
                tracing::warn!(
                    source,
                    signed = signature,
                    streams = uses,
                    stream = %stream,
                    "one signature value for many streams: a busy second, or a captured \
                     signature sent again (served within the rules; rotate the callback key \
                     if it persists)"
                );
            }
            act().await
        },
    )
    .await
}

// ---- Alibaba ApsaraVideo Live ---------------------------------------------------------------

/// Alibaba's stream ingest callback (`publish`/`publish_done`), as AUI Kits receives it: GET
/// with the event in the query string, or POST with it in a JSON or form body. Signed with
/// `ALI-LIVE-SIGNATURE = md5("{push domain}|{ALI-LIVE-TIMESTAMP}|{key}")`. The signature
/// covers no field of the event: one callback per (timestamp, stream's room) is accepted, and
/// it acts only where it is [`plausible`].
pub async fn alibaba<S: StreamCallbackStore + ?Sized>(
    app: &App<S>,
    inbound: &Inbound,
) -> Result<Value, ApiError> {
    let Some((domain, key)) = &app.config.callbacks.aliyun else {
        return Err(not_configured("Alibaba stream"));
    };
    let (Some(timestamp), Some(signature)) = (
        inbound.header("ali-live-timestamp"),
        inbound.header("ali-live-signature"),
    ) else {
        return Err(refused(
            "aliyun",
            "ALI-LIVE-TIMESTAMP and ALI-LIVE-SIGNATURE are required",
        ));
    };
    let expected = aliyun::callback_signature(domain, timestamp, text(key));
    if !same(&expected, &signature.to_ascii_lowercase()) {
        return Err(refused("aliyun", "the signature does not verify"));
    }
    let now = app.clock.now().timestamp();
    let at: i64 = timestamp
        .parse()
        .map_err(|_| refused("aliyun", "ALI-LIVE-TIMESTAMP is not a unix time"))?;
    if (now - at).abs() > FRESHNESS_SECS {
        return Err(refused(
            "aliyun",
            "the callback is stale (ALI-LIVE-TIMESTAMP)",
        ));
    }
    let params = alibaba_params(inbound)?;
    let field = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let action = field("action").ok_or_else(|| bad("action is required"))?;
    let stream = field("id").ok_or_else(|| bad("id (the stream) is required"))?;
    let ack = json!({"code": 200, "message": "success"});
    let action_of = match action {
        "publish" => Action::Start,
        "publish_done" => Action::Pause,
        other => {
            tracing::info!(action = other, "Alibaba callback of another kind: ignored");
            return Ok(ack);
        }
    };
    let until = at.max(now) + FRESHNESS_SECS + CLAIM_MARGIN_SECS;
    let outcome = once_per_signature(
        app,
        "aliyun",
        &at.to_string(),
        stream,
        action_of,
        until,
        || stream_event(app, stream, action_of),
    )
    .await?;
    log("aliyun", action, stream, outcome);
    Ok(ack)
}

/// The event's fields: the query string, and a POST's JSON object or form body.
fn alibaba_params(inbound: &Inbound) -> Result<BTreeMap<String, String>, ApiError> {
    let mut params = inbound.query.clone();
    let body = inbound.body.trim_ascii();
    if body.is_empty() {
        return Ok(params);
    }
    if body.starts_with(b"{") {
        let object: serde_json::Map<String, Value> =
            serde_json::from_slice(body).map_err(|e| bad(format!("malformed JSON: {e}")))?;
        for (k, v) in object {
            let text = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            params.insert(k, text);
        }
    } else {
        let text = std::str::from_utf8(body).map_err(|_| bad("the body is not UTF-8"))?;
        params.extend(form_fields(text)?);
    }
    Ok(params)
}

/// The fields of a query string or an `application/x-www-form-urlencoded` body (a repeated
/// name keeps its last value).
pub fn form_fields(text: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let mut fields = BTreeMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        fields.insert(form_decode(k)?, form_decode(v)?);
    }
    Ok(fields)
}

/// `application/x-www-form-urlencoded` decoding of one name or value.
fn form_decode(raw: &str) -> Result<String, ApiError> {
    let mut out = Vec::with_capacity(raw.len());
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| bad("a malformed %-escape in the form body"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| bad("the form body is not UTF-8"))
}

// ---- Tencent CSS ----------------------------------------------------------------------------

/// A Tencent CSS push event (the fields used; the rest are ignored).
#[derive(Debug, Deserialize)]
struct TencentEvent {
    #[serde(default)]
    event_type: Option<i64>,
    #[serde(default)]
    stream_id: String,
    t: Value,
    sign: String,
}

/// Tencent CSS's push start (`event_type` 1) and end (0) callbacks: JSON signed with
/// `sign = md5(key + t)`, where `t` is the signature's expiry (stale once past). The signature
/// covers no field of the event: one callback per (`t`, stream's room) is accepted, and it
/// acts only where it is [`plausible`].
pub async fn tencent<S: StreamCallbackStore + ?Sized>(
    app: &App<S>,
    inbound: &Inbound,
) -> Result<Value, ApiError> {
    let Some(key) = &app.config.callbacks.tencent else {
        return Err(not_configured("Tencent stream"));
    };
    let event: TencentEvent = serde_json::from_slice(&inbound.body)
        .map_err(|_| refused("tencent", "a signed JSON event (t, sign) is required"))?;
    let t = match &event.t {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| refused("tencent", "t is not a unix time"))?;
    let expected = tencent::callback_sign(text(key), t);
    if !same(&expected, &event.sign.to_ascii_lowercase()) {
        return Err(refused("tencent", "the signature does not verify"));
    }
    let now = app.clock.now().timestamp();
    if t < now {
        return Err(refused("tencent", "the callback is stale (t has passed)"));
    }
    let ack = json!({"code": 0});
    let event_type = event.event_type.unwrap_or(-1);
    let action = match event_type {
        1 => Action::Start,
        0 => Action::Pause,
        other => {
            tracing::info!(
                event_type = other,
                "Tencent callback of another kind: ignored"
            );
            return Ok(ack);
        }
    };
    if event.stream_id.is_empty() {
        return Err(bad("stream_id is required"));
    }
    let until = t + CLAIM_MARGIN_SECS;
    let outcome = once_per_signature(
        app,
        "tencent",
        &t.to_string(),
        &event.stream_id,
        action,
        until,
        || stream_event(app, &event.stream_id, action),
    )
    .await?;
    log(
        "tencent",
        &event_type.to_string(),
        &event.stream_id,
        outcome,
    );
    Ok(ack)
}

// ---- LiveKit --------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct LivekitName {
    #[serde(default)]
    name: String,
    #[serde(default)]
    identity: String,
}

/// A LiveKit webhook event (protojson: camelCase, the fields used).
#[derive(Debug, Deserialize)]
struct LivekitEvent {
    event: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    room: LivekitName,
    #[serde(default)]
    participant: LivekitName,
}

/// LiveKit's webhooks: `Authorization: <JWT>` (no `Bearer`), HS256 with the API secret, `iss`
/// the API key, `exp` required, claim `sha256` = base64(sha256(body)); identity the event `id`.
/// The room's name is its id. `track_published` by the room's anchor starts the room (the
/// anchor is on air); `room_finished` pauses it; `participant_joined`/`participant_left` are
/// the identity's join and leave. `room_started` changes nothing: LiveKit sends it when the
/// first participant of any grant connects, a viewer too, and a viewer connecting must never
/// put a room on air (or undo its anchor's pause).
pub async fn livekit<S: LivekitCallbackStore + ?Sized>(
    app: &App<S>,
    inbound: &Inbound,
) -> Result<Value, ApiError> {
    let Some((api_key, secret)) = &app.config.callbacks.livekit else {
        return Err(not_configured("LiveKit webhook"));
    };
    let token = inbound
        .header("authorization")
        .map(|v| v.strip_prefix("Bearer ").unwrap_or(v).trim())
        .ok_or_else(|| refused("livekit", "Authorization (a LiveKit JWT) is required"))?;
    let now = app.clock.now().timestamp();
    let exp =
        verify_webhook(token, &inbound.body, api_key, secret.expose(), now).map_err(|refusal| {
            refused(
                "livekit",
                match refusal {
                    WebhookRefusal::Signature => "the token does not verify",
                    WebhookRefusal::Stale => "the webhook is stale (its token expired)",
                    WebhookRefusal::Checksum => "the body is not the one signed (sha256)",
                },
            )
        })?;
    let event: LivekitEvent = serde_json::from_slice(&inbound.body)
        .map_err(|e| bad(format!("not a LiveKit webhook event: {e}")))?;
    let ack = json!({"code": 0});
    if event.id.is_empty() {
        return Err(bad("the event has no id"));
    }
    let until = exp.max(now) + WEBHOOK_LEEWAY_SECS + CLAIM_MARGIN_SECS;
    let room = event.room.name.clone();
    let outcome = once(app, "livekit", &event.id, until, || async {
        let Some(id) = room_of_stream(&room) else {
            return Ok(Outcome::Ignored);
        };
        match event.event.as_str() {
            "track_published" => {
                let Ok(user) = UserId::parse("identity", &event.participant.identity) else {
                    return Ok(Outcome::Ignored);
                };
                let by_anchor = |room: &crate::domain::room::Room| room.anchor_id == user;
                applied(crate::rooms::apply_as_system(app, &id, Action::Start, by_anchor).await?)
            }
            "room_finished" => {
                applied(crate::rooms::apply_as_system(app, &id, Action::Pause, |_| true).await?)
            }
            "participant_joined" | "participant_left" => {
                let Ok(user) = UserId::parse("identity", &event.participant.identity) else {
                    return Ok(Outcome::Ignored);
                };
                // The identity is LiveKit's word, signed with our secret: the user our token
                // for the room named.
                let caller = Caller::vouched(user);
                let req = RoomTarget::of(&id);
                let done = if event.event == "participant_joined" {
                    crate::presence::join(app, &caller, req).await.map(|_| ())
                } else {
                    crate::presence::leave(app, &caller, req).await.map(|_| ())
                };
                match done {
                    Ok(()) => Ok(Outcome::Applied),
                    // Gone, ended, or banned: nothing to record.
                    Err(e) if e.http_status() < 500 => Ok(Outcome::Ignored),
                    Err(e) => Err(e),
                }
            }
            _ => Ok(Outcome::Ignored),
        }
    })
    .await?;
    log("livekit", &event.event, &room, outcome);
    Ok(ack)
}

fn applied(changed: bool) -> Result<Outcome, ApiError> {
    Ok(if changed {
        Outcome::Applied
    } else {
        Outcome::Ignored
    })
}

/// This module's endpoints, for the edge's route table.
pub fn endpoints(v: &mut impl Visitor) {
    v.visit::<AlibabaCallback>();
    v.visit::<TencentCallback>();
    v.visit::<LivekitCallback>();
}

/// A vendor callback's request as the verifiers read it (headers, query string, raw body).
fn inbound<S: ?Sized>(app: &App<S>, req: &Request) -> Result<Inbound, ApiError> {
    let body: &[u8] = req.body().as_ref();
    within_size(app, body)?;
    let headers = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    Ok(Inbound {
        headers,
        // API Gateway's `rawQueryString` is in the URI (lambda_http puts it there), as is the
        // local server's.
        query: form_fields(req.uri().query().unwrap_or_default())?,
        body: body.to_vec(),
    })
}

/// Alibaba ApsaraVideo Live's stream callback ([`alibaba`]): AUI Kits' path (the Java
/// server's, any method; the Go server's at the root, GET).
pub struct AlibabaCallback;

impl Handler for AlibabaCallback {
    const ENDPOINT: Endpoint = Endpoint::new(
        "alibaba-callback",
        &[
            Route::get("/api/v1/live/handlePushStreamEventCallback"),
            Route::post("/api/v1/live/handlePushStreamEventCallback"),
            Route::get("/handlePushStreamEventCallback"),
        ],
    )
    .with_needs(STREAM_CALLBACK_NEEDS)
    .with_secrets(SecretGroups::ALIYUN_CALLBACK);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        json(&alibaba(app, &inbound(app, &req)?).await?)
    }
}

/// `POST /api/v1/live/callback/tencent`: Tencent CSS's stream callback ([`tencent`]).
pub struct TencentCallback;

impl Handler for TencentCallback {
    const ENDPOINT: Endpoint = Endpoint::new(
        "tencent-callback",
        &[Route::post("/api/v1/live/callback/tencent")],
    )
    .with_needs(STREAM_CALLBACK_NEEDS)
    .with_secrets(SecretGroups::TENCENT_CALLBACK);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        json(&tencent(app, &inbound(app, &req)?).await?)
    }
}

/// `POST /api/v1/live/callback/livekit`: LiveKit's webhooks ([`livekit`]).
pub struct LivekitCallback;

impl Handler for LivekitCallback {
    const ENDPOINT: Endpoint = Endpoint::new(
        "livekit-callback",
        &[Route::post("/api/v1/live/callback/livekit")],
    )
    .with_needs(LIVEKIT_CALLBACK_NEEDS)
    .with_secrets(SecretGroups::LIVEKIT_CALLBACK);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        json(&livekit(app, &inbound(app, &req)?).await?)
    }
}
