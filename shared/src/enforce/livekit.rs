//! LiveKit's server API over Twirp: `RoomService/DeleteRoom` (grant `roomCreate`) and
//! `RoomService/RemoveParticipant` (grant `roomAdmin` for that room) (VENDORS.md §12).
//!
//! A call is `POST {base}/twirp/livekit.RoomService/{Method}` with a JSON body and
//! `Authorization: Bearer {JWT}`, an HS256 token from the API key and secret valid ten minutes
//! (as the server SDKs sign them). Success is HTTP 200 `{}`; errors are Twirp's JSON
//! `{code, msg}` with the code's HTTP status, or a plain-text 401 from the auth middleware.
//!
//! Never here: the clock (the caller passes `now`), or the call.

use serde_json::{Value, json};

use super::{ApiKey, Enforcement, Outcome, Request, Vendor};
use crate::credentials::livekit::{AdminGrant, admin_token};

/// How long a call's token is valid (the node SDK's `ServiceBase`: ten minutes).
pub const TOKEN_TTL_SECS: i64 = 600;

/// The RPC, its body and the grant it needs.
fn rpc(call: &Enforcement) -> Option<(&'static str, Value, AdminGrant)> {
    match call {
        Enforcement::CutStream {
            vendor: Vendor::Livekit,
            stream,
            ..
        } => Some((
            "DeleteRoom",
            json!({ "room": stream }),
            AdminGrant {
                room_create: true,
                ..AdminGrant::default()
            },
        )),
        Enforcement::RemoveMember {
            vendor: Vendor::Livekit,
            channel,
            user,
            ..
        } => Some((
            "RemoveParticipant",
            json!({ "room": channel, "identity": user }),
            AdminGrant {
                room: channel.clone(),
                room_admin: true,
                ..AdminGrant::default()
            },
        )),
        _ => None,
    }
}

/// The signed request for `call` with `key` at `now`, to the server at `base`.
pub fn request(call: &Enforcement, key: &ApiKey, base: &str, now: i64) -> Option<Request> {
    let (method, body, grant) = rpc(call)?;
    let token = admin_token(&key.id, key.secret.expose(), &grant, now, TOKEN_TTL_SECS).ok()?;
    Some(Request {
        url: format!("{base}/twirp/livekit.RoomService/{method}"),
        headers: vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("authorization".to_owned(), format!("Bearer {token}")),
            ("user-agent".to_owned(), "liveroom".to_owned()),
        ],
        body: body.to_string().into_bytes(),
    })
}

/// What LiveKit's answer means: 200 is success, and so is Twirp's `not_found` (404: the room,
/// or the participant, is already gone; a 404 `bad_route` is a wrong URL, permanent); 401/403
/// and other 4xx are permanent; 408, 429 and 5xx are retried.
pub fn classify(call: &Enforcement, status: u16, body: &[u8]) -> Outcome {
    let api = call.api();
    if status == 200 {
        return Outcome::Done;
    }
    let code: String = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || *c == '_')
        .take(40)
        .collect();
    let reason = if code.is_empty() {
        format!("livekit {api}: HTTP {status}")
    } else {
        format!("livekit {api}: {code} (HTTP {status})")
    };
    if status == 404 && code == "not_found" {
        Outcome::Done
    } else if status >= 500 || status == 429 || status == 408 {
        Outcome::Retry(reason)
    } else {
        Outcome::Permanent(reason)
    }
}
