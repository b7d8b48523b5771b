//! Tencent CSS's stream callback: its `sign` (MD5 of the key and `t`), freshness and replay
//! checks, then the room's change.
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
