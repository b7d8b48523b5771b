//! Tencent CSS's stream callback: its `sign` (MD5 of the key and `t`), freshness and replay
//! checks, then the room's change; on the same route its recording events (`event_type` 100, a
//! file; 332 with a failure, issue 26).
//!
//! Never here: what every callback shares (the claim, the stream's room: `callbacks`).

use super::*;
use crate::credentials::tencent;

/// A Tencent CSS push event (the fields used; the rest are ignored).
#[derive(Debug, Deserialize)]
struct TencentEvent {
    #[serde(default)]
    event_type: Option<i64>,
    #[serde(default)]
    stream_id: String,
    t: Value,
    sign: String,
    // The recording event (100).
    #[serde(default)]
    file_id: Value,
    #[serde(default)]
    file_format: String,
    #[serde(default)]
    video_url: String,
    #[serde(default)]
    start_time: Value,
    #[serde(default)]
    end_time: Value,
    #[serde(default)]
    duration: Value,
    #[serde(default)]
    file_size: Value,
    // The recording's status event (332).
    #[serde(default)]
    record_event: String,
}

/// A recording event's file, checked: its `video_url` on the VOD domain `vod_domain`
/// (`TENCENT_VOD_PLAY_DOMAIN`; http or https, as Tencent sends either), its path without
/// `..`, a query or escapes, and with a directory named by the `file_id` (Tencent's VOD paths
/// are `/{prefix}/{hex}{file_id}/{name}`). Only the path is kept: the playback URL is made
/// on the configured domain, so a reused signature can neither send viewers to another host
/// nor have another directory signed.
fn tencent_file(event: &TencentEvent, vod_domain: &str) -> Result<RecordedFile, ApiError> {
    let id = match &event.file_id {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    // A VOD file id is a number (19 digits today): the directory a VOD Key signature covers
    // is named by it, so a sender cannot name a directory of their own choosing.
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("file_id is not a VOD file id (digits)"));
    }
    // Tencent's own events have been seen with a trailing blank.
    let url = event.video_url.trim();
    let path = vod_path(url, vod_domain, &id)?;
    let started_at = int(&event.start_time).ok_or_else(|| bad("start_time is required"))?;
    let ended_at = int(&event.end_time).ok_or_else(|| bad("end_time is required"))?;
    let duration = int(&event.duration)
        .unwrap_or(ended_at.saturating_sub(started_at))
        .max(0);
    let format = match event.file_format.to_ascii_lowercase().as_str() {
        "hls" => "m3u8".to_owned(),
        f @ ("flv" | "mp4" | "aac" | "m3u8") => f.to_owned(),
        _ => return Err(bad("file_format is not flv, hls, mp4 or aac")),
    };
    Ok(RecordedFile {
        vendor: RecordingVendor::Tencent,
        id,
        location: path.to_owned(),
        format,
        started_at,
        ended_at,
        duration_ms: u64::try_from(duration).unwrap_or(0).saturating_mul(1000),
        size: int(&event.file_size)
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(0),
        width: 0,
        height: 0,
    })
}

/// The path of `url` when it is a file of `file_id` on `domain`:
/// `http(s)://{domain}/…/{dir}/{name}`, a [`safe_path`] whose last directory (the one a VOD
/// Key signature covers) is named by the file id, bare or after at most 16 hex digits (as
/// Tencent names it: `…/6367ba459031868223267109922/playlist.m3u8`); else 400.
fn vod_path<'a>(url: &'a str, domain: &str, file_id: &str) -> Result<&'a str, ApiError> {
    let wrong = || bad("video_url is not a file of file_id on TENCENT_VOD_PLAY_DOMAIN");
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .filter(|_| url.len() <= MAX_URL)
        .ok_or_else(wrong)?;
    let (host, path) = rest.split_at(rest.find('/').ok_or_else(wrong)?);
    if !host.eq_ignore_ascii_case(domain) {
        return Err(wrong());
    }
    let segments = safe_path("video_url", &path[1..])?;
    let named = segments.len() >= 2
        && segments[segments.len() - 2]
            .strip_suffix(file_id)
            .is_some_and(|p| p.len() <= 16 && p.bytes().all(|b| b.is_ascii_hexdigit()));
    if !named {
        return Err(wrong());
    }
    Ok(path)
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
    // Where rooms are not recorded, a recording event is acknowledged and ignored (as
    // before recordings were kept).
    let recording = app.config.recording;
    let vod_domain = app.config.callbacks.tencent_vod_domain.as_deref();
    let recorded = match (event_type, event.record_event.as_str(), vod_domain) {
        (100, _, Some(domain)) if recording => {
            let file = tencent_file(&event, domain)?;
            Some((file_kind(&file), Recorded::File(file)))
        }
        (332, "record_start_failed" | "record_error", _) if recording => {
            Some((FAILURE_KIND.to_owned(), Recorded::Failed))
        }
        _ => None,
    };
    if let Some((kind, recorded)) = recorded {
        if event.stream_id.is_empty() {
            return Err(bad("stream_id is required"));
        }
        let until = t + CLAIM_MARGIN_SECS;
        let stream = &event.stream_id;
        let outcome =
            once_per_signature(app, "tencent", &t.to_string(), stream, &kind, until, || {
                recording_event(app, stream, recorded)
            })
            .await?;
        log("tencent", &event_type.to_string(), stream, outcome);
        return Ok(ack);
    }
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
        stream_kind(action),
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

/// `POST /api/v1/live/callback/tencent`: Tencent CSS's stream callback ([`tencent`]).
pub struct TencentCallback;

impl Handler for TencentCallback {
    const ENDPOINT: Endpoint = Endpoint::new(
        "tencent-callback",
        &[Route::post("/api/v1/live/callback/tencent")],
    )
    .with_needs(STREAM_CALLBACK_NEEDS)
    .with_secrets(SecretGroups::TENCENT_CALLBACK)
    .without_token();

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        json(&tencent(app, &inbound(app, &req)?).await?)
    }
}
