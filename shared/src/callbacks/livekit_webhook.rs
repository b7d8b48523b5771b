//! LiveKit's webhooks: the signed JWT over the body's hash, then the room's change (a track
//! published or the room finished), a member's presence (joined, left), or the room's
//! recording (an egress ended: its files, or its failure; issue 26).
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
    #[serde(default, rename = "egressInfo")]
    egress_info: Option<EgressInfo>,
}

/// LiveKit's `EgressInfo` (protojson), the fields a recording uses.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EgressInfo {
    #[serde(default)]
    egress_id: String,
    #[serde(default)]
    room_name: String,
    #[serde(default)]
    status: Value,
    #[serde(default)]
    file_results: Vec<FileInfo>,
    /// An HLS egress's playlists (`SegmentsInfo`).
    #[serde(default)]
    segment_results: Vec<FileInfo>,
    /// Deprecated by LiveKit for `fileResults` and `segmentResults`; read when both are
    /// absent.
    #[serde(default)]
    file: Option<FileInfo>,
    #[serde(default)]
    segments: Option<FileInfo>,
}

/// LiveKit's `FileInfo`, or the fields of its `SegmentsInfo` a recording uses (its playlist's
/// name and location) (protojson: int64 as strings, times in nanoseconds).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileInfo {
    #[serde(default, alias = "playlistName")]
    filename: String,
    #[serde(default)]
    started_at: Value,
    #[serde(default)]
    ended_at: Value,
    #[serde(default)]
    duration: Value,
    #[serde(default)]
    size: Value,
    #[serde(default, alias = "playlistLocation")]
    location: String,
}

const NANOS: i64 = 1_000_000_000;

/// An egress's files as recorded files (its id names each, LiveKit's signature covers them).
fn egress_files(info: &EgressInfo) -> Result<Vec<RecordedFile>, ApiError> {
    let id = file_id("egressId", &info.egress_id)?;
    let results = info.file_results.iter().chain(&info.segment_results);
    let deprecated = (info.file_results.is_empty() && info.segment_results.is_empty())
        .then_some(info.file.iter().chain(&info.segments))
        .into_iter()
        .flatten();
    results
        .chain(deprecated)
        .map(|f| {
            // Where the egress uploaded it (an https URL that needs no escaping: its playback
            // URL), else where it wrote it (its local storage's path: LiveKit's self-hosted
            // default), else its name; no playback URL but for the first.
            let path = |p: &str| {
                let p = p.trim_start_matches('/');
                safe_path("location", p).is_ok().then(|| p.to_owned())
            };
            let location = if safe_url(&f.location) {
                f.location.clone()
            } else {
                path(&f.location)
                    .or_else(|| path(&f.filename))
                    .unwrap_or_default()
            };
            let format = location
                .rsplit_once('.')
                .map(|(_, ext)| ext.to_ascii_lowercase())
                .filter(|ext| matches!(ext.as_str(), "mp4" | "ogg" | "webm" | "m3u8"))
                .unwrap_or_default();
            let nanos = |v: &Value| int(v).unwrap_or(0);
            Ok(RecordedFile {
                vendor: RecordingVendor::Livekit,
                id: id.clone(),
                location,
                format,
                started_at: nanos(&f.started_at) / NANOS,
                ended_at: nanos(&f.ended_at) / NANOS,
                duration_ms: u64::try_from(nanos(&f.duration) / 1_000_000).unwrap_or(0),
                size: u64::try_from(nanos(&f.size)).unwrap_or(0),
                width: 0,
                height: 0,
            })
        })
        .collect()
}

/// What an ended egress reports of its room's recording: its files, or (none, and its status
/// a failure) a failure.
fn egress_recorded(info: &EgressInfo) -> Result<Option<Vec<RecordedFile>>, ApiError> {
    let files = egress_files(info)?;
    if !files.is_empty() {
        return Ok(Some(files));
    }
    // protojson gives the enum's name; a number is read as LiveKit numbers it.
    let failed = match &info.status {
        Value::String(s) => matches!(s.as_str(), "EGRESS_FAILED" | "EGRESS_ABORTED"),
        Value::Number(n) => matches!(n.as_i64(), Some(4 | 5)),
        _ => false,
    };
    Ok(failed.then(Vec::new))
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
    let room = match &event.egress_info {
        Some(info) if event.room.name.is_empty() => info.room_name.clone(),
        _ => event.room.name.clone(),
    };
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
            "egress_ended" if app.config.recording => {
                let Some(info) = &event.egress_info else {
                    return Ok(Outcome::Ignored);
                };
                let Some(files) = egress_recorded(info)? else {
                    return Ok(Outcome::Ignored);
                };
                let Some(id) = room_of_stream(&info.room_name) else {
                    return Ok(Outcome::Ignored);
                };
                let changed = crate::room_change::change_recording(app, &id, |_, recording| {
                    if files.is_empty() {
                        recording.failed()
                    } else {
                        recording.with_files(&files)
                    }
                })
                .await?;
                applied(changed)
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
