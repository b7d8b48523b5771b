//! LiveKit's webhooks: the signed JWT over the body's hash, then the room's change (a track
//! published or the room finished) or a member's presence (joined, left).
//!
//! Never here: what every callback shares (the claim, the outcome: `callbacks`).

use super::*;

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

/// `POST /api/v1/live/callback/livekit`: LiveKit's webhooks ([`livekit`]).
pub struct LivekitCallback;

impl Handler for LivekitCallback {
    const ENDPOINT: Endpoint = Endpoint::new(
        "livekit-callback",
        &[Route::post("/api/v1/live/callback/livekit")],
    )
    .with_needs(LIVEKIT_CALLBACK_NEEDS)
    .with_secrets(SecretGroups::LIVEKIT_CALLBACK)
    .without_token();

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        json(&livekit(app, &inbound(app, &req)?).await?)
    }
}
