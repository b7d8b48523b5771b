//! Alibaba ApsaraVideo Live's stream callback: its signature (auth type A over the callback
//! domain, `ALIYUN_LIVE_CALLBACK_KEY`), freshness and replay checks, then the room's change;
//! and its recording callback (issue 26), signed over the recording callback's own domain.
//!
//! Never here: what every callback shares (the claim, the stream's room: `callbacks`).

use super::*;
use crate::credentials::aliyun;

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
    let (at, now) = signed_at(app, inbound, "aliyun", domain, key)?;
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
        stream_kind(action_of),
        until,
        || stream_event(app, stream, action_of),
    )
    .await?;
    log("aliyun", action, stream, outcome);
    Ok(ack)
}

/// Alibaba's signature of a callback (stream or recording): `ALI-LIVE-SIGNATURE =
/// md5("{domain}|{ALI-LIVE-TIMESTAMP}|{key}")`, compared in constant time, then the timestamp
/// within ±[`FRESHNESS_SECS`] of now; the signed time and now, or the refusal of `source`.
fn signed_at<S: ?Sized>(
    app: &App<S>,
    inbound: &Inbound,
    source: &'static str,
    domain: &str,
    key: &crate::env::Secret,
) -> Result<(i64, i64), ApiError> {
    let (Some(timestamp), Some(signature)) = (
        inbound.header("ali-live-timestamp"),
        inbound.header("ali-live-signature"),
    ) else {
        return Err(refused(
            source,
            "ALI-LIVE-TIMESTAMP and ALI-LIVE-SIGNATURE are required",
        ));
    };
    let expected = aliyun::callback_signature(domain, timestamp, text(key));
    if !same(&expected, &signature.to_ascii_lowercase()) {
        return Err(refused(source, "the signature does not verify"));
    }
    let now = app.clock.now().timestamp();
    let at: i64 = timestamp
        .parse()
        .map_err(|_| refused(source, "ALI-LIVE-TIMESTAMP is not a unix time"))?;
    if now.abs_diff(at) > FRESHNESS_SECS.unsigned_abs() {
        return Err(refused(
            source,
            "the callback is stale (ALI-LIVE-TIMESTAMP)",
        ));
    }
    Ok((at, now))
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

/// The recording callback's route.
pub const RECORDING_PATH: &str = "/api/v1/live/callback/alibaba/record";

/// An Alibaba recording callback: a file (`uri`, ...), or a status event (`event`).
#[derive(Debug, Deserialize)]
struct AlibabaRecording {
    #[serde(default)]
    stream: String,
    #[serde(default)]
    uri: String,
    #[serde(default)]
    duration: Value,
    #[serde(default)]
    start_time: Value,
    #[serde(default)]
    stop_time: Value,
    #[serde(default)]
    event: Option<String>,
}

/// Alibaba ApsaraVideo Live's recording callback (录制回调): POSTed JSON, signed with
/// `ALI-LIVE-SIGNATURE = md5("{ALIYUN_LIVE_RECORD_NOTIFY_DOMAIN}|{ALI-LIVE-TIMESTAMP}|{key}")`
/// (for recording callbacks Alibaba signs the host of the callback URL, never the ingest
/// domain); the timestamp within ±300 s. A file (`uri`, its object path in the recording
/// bucket) is added to the recording of the stream's room; status events (`record_started`,
/// ...) are acknowledged. The signature covers no field of the event: one recording callback
/// per (timestamp, stream's room, file format) is accepted, and only a plausible file of the
/// stream's own directory.
pub async fn alibaba_recording<S: StreamCallbackStore + ?Sized>(
    app: &App<S>,
    inbound: &Inbound,
) -> Result<Value, ApiError> {
    let (Some((_, key)), Some(domain)) = (
        &app.config.callbacks.aliyun,
        &app.config.callbacks.aliyun_record_domain,
    ) else {
        return Err(not_configured("Alibaba recording"));
    };
    let (at, now) = signed_at(app, inbound, "aliyun-record", domain, key)?;
    let event: AlibabaRecording = serde_json::from_slice(&inbound.body)
        .map_err(|_| bad("a JSON recording event is required"))?;
    let ack = json!({"code": 200, "message": "success"});
    if !app.config.recording || event.event.is_some() {
        tracing::info!("Alibaba recording callback of another kind: acknowledged");
        return Ok(ack);
    }
    if event.stream.is_empty() {
        return Err(bad("stream is required"));
    }
    let file = alibaba_file(&event)?;
    let until = at.max(now) + FRESHNESS_SECS + CLAIM_MARGIN_SECS;
    let stream = &event.stream;
    let outcome = once_per_signature(
        app,
        "aliyun-record",
        &at.to_string(),
        stream,
        &file_kind(&file),
        until,
        || recording_event(app, stream, Recorded::File(file)),
    )
    .await?;
    log("aliyun-record", "record", stream, outcome);
    Ok(ack)
}

/// A recording callback's file, checked: a relative object path, without `..`, of this
/// callback's own stream (Alibaba's record paths are `{app}/{stream}/…`: the stream is one of
/// its directories), so a reused signature cannot hand a room another room's file.
fn alibaba_file(event: &AlibabaRecording) -> Result<RecordedFile, ApiError> {
    let uri = event.uri.trim_start_matches('/');
    let segments = safe_path("uri", uri)?;
    let own =
        !event.stream.is_empty() && segments[..segments.len() - 1].contains(&event.stream.as_str());
    if !own {
        return Err(bad("uri is not a recording of this stream"));
    }
    let uri = uri.to_owned();
    let started_at = int(&event.start_time).ok_or_else(|| bad("start_time is required"))?;
    let ended_at = int(&event.stop_time).ok_or_else(|| bad("stop_time is required"))?;
    let seconds = match &event.duration {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|d: &f64| d.is_finite() && *d >= 0.0)
    .unwrap_or(ended_at.saturating_sub(started_at).max(0) as f64);
    let format = match uri
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
    {
        Some(ext) if matches!(ext.as_str(), "flv" | "m3u8" | "mp4") => ext,
        _ => return Err(bad("uri is not an flv, m3u8 or mp4 file")),
    };
    Ok(RecordedFile {
        vendor: RecordingVendor::Alibaba,
        id: String::new(),
        location: uri,
        format,
        started_at,
        ended_at,
        duration_ms: (seconds * 1000.0).round() as u64,
        size: 0,
        width: 0,
        height: 0,
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
            Route::post(RECORDING_PATH),
        ],
    )
    .with_needs(STREAM_CALLBACK_NEEDS)
    .with_secrets(SecretGroups::ALIYUN_CALLBACK)
    .without_token();

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let inbound = inbound(app, &req)?;
        if crate::endpoint::routed_path(req.uri().path()) == RECORDING_PATH {
            return json(&alibaba_recording(app, &inbound).await?);
        }
        json(&alibaba(app, &inbound).await?)
    }
}
