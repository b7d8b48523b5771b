//! Alibaba ApsaraVideo Live's stream callback: its signature (auth type A over the callback
//! domain, `ALIYUN_LIVE_CALLBACK_KEY`), freshness and replay checks, then the room's change.
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
    .with_secrets(SecretGroups::ALIYUN_CALLBACK)
    .without_token();

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        json(&alibaba(app, &inbound(app, &req)?).await?)
    }
}
