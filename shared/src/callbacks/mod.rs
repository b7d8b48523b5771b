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
//! The wire formats, with sources, are in VENDORS.md §2 and §3. The files: this one holds what
//! every callback shares (the inbound request, the claim against replays, the stream's room,
//! the outcome); `alibaba_stream`, `tencent_stream` and `livekit_webhook` each verify and apply
//! one vendor's; `recordings` holds what their recording callbacks share (issue 26).

use std::collections::BTreeMap;

use lambda_http::Request;
use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::App;
use crate::auth::Caller;
use crate::credentials::livekit::{WEBHOOK_LEEWAY_SECS, WebhookRefusal, verify_webhook};
use crate::credentials::text;
use crate::domain::recording::{RecordedFile, RecordingVendor};
use crate::domain::room::{Action, Room};
use crate::domain::{RoomId, UserId};
use crate::endpoint::{Endpoint, Handler, Route, Visitor, json, within_size};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::room_change::RoomTarget;
use crate::store::Store;

mod alibaba_stream;
mod livekit_webhook;
mod recordings;
mod tencent_stream;

use recordings::*;

pub use alibaba_stream::{AlibabaCallback, alibaba};
pub use livekit_webhook::{LivekitCallback, livekit};
pub use tencent_stream::{TencentCallback, tencent};

crate::needs!(
    /// A CDN stream callback: the claim of the event, then the room and its guarded change.
    StreamCallbackStore,
    STREAM_CALLBACK_NEEDS: EventClaim,
    RoomRead,
    RoomUpdate,
    RecordingWrite
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
    MemberRead,
    RecordingWrite
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
/// room and the kind of event (`kind`: a push's start and its end in one second are two
/// genuine events; a recorded file of each format is one more, [`file_kind`], since a
/// recording of two formats reports both files in one second, and a recording's failure
/// another); the signature value's streams counted, and logged past
/// [`STREAMS_PER_SIGNATURE_LOGGED`]. A stream that is no room id is ignored before anything is written: a captured signature sent with made-up
/// stream names costs no write (a well-formed id of no room costs the claim, the count and
/// the act's read of the room, as a replay would).
async fn once_per_signature<S, F, Fut>(
    app: &App<S>,
    source: &'static str,
    signature: &str,
    stream: &str,
    kind: &str,
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
                    kind,
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

/// The claim kind of a stream event (see [`once_per_signature`]).
fn stream_kind(action: Action) -> &'static str {
    if action == Action::Start {
        "start"
    } else {
        "pause"
    }
}

// ---- Alibaba ApsaraVideo Live ---------------------------------------------------------------

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
