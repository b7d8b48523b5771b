//! LiveKit's server API over Twirp: `RoomService/DeleteRoom` (grant `roomCreate`),
//! `RoomService/RemoveParticipant` (grant `roomAdmin` for that room), and the recording's
//! `Egress/ListEgress`, `Egress/StartRoomCompositeEgress` and `Egress/StopEgress` (grant
//! `roomRecord`; issue 26) (VENDORS.md §12).
//!
//! A call is `POST {base}/twirp/livekit.{Service}/{Method}` with a JSON body and
//! `Authorization: Bearer {JWT}`, an HS256 token from the API key and secret valid ten minutes
//! (as the server SDKs sign them). Success is HTTP 200 (`{}`, or the RPC's message in proto
//! names); errors are Twirp's JSON `{code, msg}` with the code's HTTP status, or a plain-text
//! 401 from the auth middleware.
//!
//! A recording call is more than one request, each built and judged here: first `ListEgress`
//! of the room's active egresses ([`request`], judged by [`classify`]), then what its answer
//! leaves to do ([`after_list`]: a start only when none is active; a stop of each active
//! one), each judged by [`classify_step`].
//!
//! Never here: the clock (the caller passes `now`), or the call.

use serde_json::{Value, json};

use super::{ApiKey, Enforcement, Outcome, Request, Vendor};
use crate::credentials::livekit::{AdminGrant, admin_token};

/// How long a call's token is valid (the node SDK's `ServiceBase`: ten minutes).
pub const TOKEN_TTL_SECS: i64 = 600;

/// Where the egress writes a recording, in the storage the egress service is configured with
/// (no storage credentials here): LiveKit fills in `{room_name}` and `{time}`.
pub const RECORDING_FILEPATH: &str = "liveroom/{room_name}/{time}.mp4";

const ROOM_SERVICE: &str = "livekit.RoomService";
const EGRESS: &str = "livekit.Egress";

/// One Twirp RPC: its service, method, body and the grant it needs.
struct Rpc {
    service: &'static str,
    method: &'static str,
    body: Value,
    grant: AdminGrant,
}

/// The grant of the egress RPCs.
fn record() -> AdminGrant {
    AdminGrant {
        room_record: true,
        ..AdminGrant::default()
    }
}

/// The first (for a moderation call, the only) RPC of `call`.
fn rpc(call: &Enforcement) -> Option<Rpc> {
    match call {
        Enforcement::CutStream {
            vendor: Vendor::Livekit,
            stream,
            ..
        } => Some(Rpc {
            service: ROOM_SERVICE,
            method: "DeleteRoom",
            body: json!({ "room": stream }),
            grant: AdminGrant {
                room_create: true,
                ..AdminGrant::default()
            },
        }),
        Enforcement::RemoveMember {
            vendor: Vendor::Livekit,
            channel,
            user,
            ..
        } => Some(Rpc {
            service: ROOM_SERVICE,
            method: "RemoveParticipant",
            body: json!({ "room": channel, "identity": user }),
            grant: AdminGrant {
                room: channel.clone(),
                room_admin: true,
                ..AdminGrant::default()
            },
        }),
        Enforcement::StartRecording {
            vendor: Vendor::Livekit,
            room,
        }
        | Enforcement::StopRecording {
            vendor: Vendor::Livekit,
            room,
        } => Some(Rpc {
            service: EGRESS,
            method: "ListEgress",
            body: json!({ "room_name": room, "active": true }),
            grant: record(),
        }),
        _ => None,
    }
}

/// `rpc` signed with `key` at `now`, to the server at `base`.
fn signed(rpc: Rpc, key: &ApiKey, base: &str, now: i64) -> Option<Request> {
    let token = admin_token(
        &key.id,
        key.secret.expose(),
        &rpc.grant,
        now,
        TOKEN_TTL_SECS,
    )
    .ok()?;
    Some(Request {
        url: format!("{base}/twirp/{}/{}", rpc.service, rpc.method),
        headers: vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("authorization".to_owned(), format!("Bearer {token}")),
            ("user-agent".to_owned(), "liveroom".to_owned()),
        ],
        body: rpc.body.to_string().into_bytes(),
    })
}

/// The signed (first) request for `call` with `key` at `now`, to the server at `base`.
pub fn request(call: &Enforcement, key: &ApiKey, base: &str, now: i64) -> Option<Request> {
    signed(rpc(call)?, key, base, now)
}

/// Whether `call` is a recording call: more requests follow its `ListEgress` ([`after_list`]).
pub fn is_recording(call: &Enforcement) -> bool {
    matches!(
        call,
        Enforcement::StartRecording {
            vendor: Vendor::Livekit,
            ..
        } | Enforcement::StopRecording {
            vendor: Vendor::Livekit,
            ..
        }
    )
}

/// The `StartRoomCompositeEgress` body of room `room`: the room's speaker layout to one MP4
/// file at [`RECORDING_FILEPATH`].
pub fn start_body(room: &str) -> Value {
    json!({
        "room_name": room,
        "layout": "speaker",
        "file_outputs": [{ "file_type": "MP4", "filepath": RECORDING_FILEPATH }],
    })
}

/// The requests that follow the `ListEgress` answer `body` (HTTP 200) of recording call
/// `call` (signed with `key` at `now`, to `base`): a start, none when an egress of the room is
/// active already (the start was made before: a delivery twice, or a retry after a lost
/// answer); a stop of each active egress (none when none is). An answer that cannot be read
/// is permanent.
pub fn after_list(
    call: &Enforcement,
    key: &ApiKey,
    base: &str,
    now: i64,
    body: &[u8],
) -> Result<Vec<Request>, Outcome> {
    let unreadable = || {
        Outcome::Permanent(format!(
            "livekit {}: ListEgress answer not understood",
            call.api()
        ))
    };
    let answer: Value = serde_json::from_slice(body).map_err(|_| unreadable())?;
    let items = match &answer["items"] {
        Value::Array(items) => items.as_slice(),
        // Proto JSON may leave out an empty list.
        Value::Null => &[],
        _ => return Err(unreadable()),
    };
    let active: Vec<&str> = items
        .iter()
        .filter(|e| is_active(&e["status"]))
        .filter_map(|e| e["egress_id"].as_str())
        .collect();
    let rpcs = match call {
        Enforcement::StartRecording { room, .. } if active.is_empty() => vec![Rpc {
            service: EGRESS,
            method: "StartRoomCompositeEgress",
            body: start_body(room),
            grant: record(),
        }],
        Enforcement::StartRecording { .. } => Vec::new(),
        Enforcement::StopRecording { .. } => active
            .into_iter()
            .map(|id| Rpc {
                service: EGRESS,
                method: "StopEgress",
                body: json!({ "egress_id": id }),
                grant: record(),
            })
            .collect(),
        _ => return Err(unreadable()),
    };
    rpcs.into_iter()
        .map(|rpc| signed(rpc, key, base, now).ok_or_else(unreadable))
        .collect()
}

/// Whether an `EgressInfo.status` (a name in Twirp's JSON; a number tolerated) is one an
/// egress records in: `EGRESS_STARTING` or `EGRESS_ACTIVE` (`ListEgress {active}` may also
/// list an `EGRESS_ENDING` one: it is being stopped already).
fn is_active(status: &Value) -> bool {
    match status {
        // The default value: proto JSON may leave it out.
        Value::Null => true,
        Value::String(s) => matches!(s.as_str(), "EGRESS_STARTING" | "EGRESS_ACTIVE"),
        Value::Number(n) => matches!(n.as_u64(), Some(0 | 1)),
        _ => false,
    }
}

/// The Twirp code of an error answer, sanitised (lowercase letters and `_`, at most 40).
fn code_of(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || *c == '_')
        .take(40)
        .collect()
}

/// What LiveKit's answer to RPC `method` of `call` means: 200 is success; Twirp's
/// `not_found` (404) is success where it says the thing is already gone (the room, the
/// participant, the egress), and a retry for a start (the LiveKit room does not exist until
/// someone joins it); a 404 `bad_route` is a wrong URL, permanent; `StopEgress`'s
/// `failed_precondition` (412: the egress has ended) is success; 401/403 and other 4xx are
/// permanent; 408, 429 and 5xx are retried.
fn judge(call: &Enforcement, method: &str, status: u16, body: &[u8]) -> Outcome {
    let api = call.api();
    if status == 200 {
        return Outcome::Done;
    }
    let code = code_of(body);
    let reason = match (code.is_empty(), method == api) {
        (true, true) => format!("livekit {api}: HTTP {status}"),
        (false, true) => format!("livekit {api}: {code} (HTTP {status})"),
        (true, false) => format!("livekit {api}: {method}: HTTP {status}"),
        (false, false) => format!("livekit {api}: {method}: {code} (HTTP {status})"),
    };
    let gone = matches!(method, "DeleteRoom" | "RemoveParticipant" | "StopEgress");
    match (status, code.as_str()) {
        (404, "not_found") if gone => Outcome::Done,
        (404, "not_found") if method == "StartRoomCompositeEgress" => Outcome::Retry(reason),
        (412, "failed_precondition") if method == "StopEgress" => Outcome::Done,
        (500.., _) | (429 | 408, _) => Outcome::Retry(reason),
        _ => Outcome::Permanent(reason),
    }
}

/// What LiveKit's answer to the (first) request of `call` means ([`judge`]).
pub fn classify(call: &Enforcement, status: u16, body: &[u8]) -> Outcome {
    match rpc(call) {
        Some(rpc) => judge(call, rpc.method, status, body),
        None => Outcome::Permanent(format!("livekit {}: not a LiveKit call", call.api())),
    }
}

/// What LiveKit's answer to `request`, one of [`after_list`]'s, means ([`judge`]).
pub fn classify_step(call: &Enforcement, request: &Request, status: u16, body: &[u8]) -> Outcome {
    let method = request.url.rsplit('/').next().unwrap_or_default();
    judge(call, method, status, body)
}
