//! The stand-in of LiveKit's Twirp `RoomService` (`DeleteRoom`, `RemoveParticipant`) and
//! `Egress` (`StartRoomCompositeEgress`, `ListEgress`, `StopEgress`: livekit/livekit
//! `pkg/service/egress.go`, VENDORS.md §12). Its egresses answer as `EgressInfo` in LiveKit's
//! Twirp JSON: proto (snake_case) names, every field emitted, int64 as strings, enums as names.

use std::sync::Arc;

use hyper::body::Incoming;
use serde_json::{Value, json};

use super::*;
use crate::enforce::oracle::*;

/// A LiveKit server's Twirp `RoomService`.
pub(crate) async fn livekit(api_key: &str, api_secret: &str) -> StandIn {
    start(api_key, api_secret, 0, |server, req| {
        Box::pin(livekit_serve(server, req))
    })
    .await
}

fn twirp(status: u16, code: &str, msg: &str) -> Answer {
    answer(
        status,
        "application/json",
        json!({"code": code, "msg": msg}).to_string(),
    )
}

async fn livekit_serve(server: Arc<Server>, req: hyper::Request<Incoming>) -> Answer {
    let (parts, body) = body_of(req).await;
    let header = |k: &str| {
        parts
            .headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut seen = server.seen.lock().unwrap();
    let reject = |seen: &mut Seen, status: u16, answer_: Answer, why: &str| {
        seen.rejections.push(format!("{status}: {why}"));
        answer_
    };
    // The auth middleware: plain-text 401s.
    let Some(token) = header("authorization")
        .strip_prefix("Bearer ")
        .map(str::to_owned)
    else {
        return reject(
            &mut seen,
            401,
            answer(
                401,
                "text/plain",
                "invalid authorization header. Must start with Bearer ".to_owned(),
            ),
            "no bearer",
        );
    };
    let claims = match hs256_claims(&token, &server.secret) {
        Some(c) if c["iss"] == server.key_id.as_str() => c,
        _ => {
            return reject(
                &mut seen,
                401,
                answer(401, "text/plain", "invalid authorization token".to_owned()),
                "signature or issuer",
            );
        }
    };
    let now = unix_now();
    let (nbf, exp) = (
        claims["nbf"].as_i64().unwrap_or(0),
        claims["exp"].as_i64().unwrap_or(0),
    );
    if exp <= now || nbf > now + 60 {
        return reject(
            &mut seen,
            401,
            answer(
                401,
                "text/plain",
                "invalid authorization token: token is expired".to_owned(),
            ),
            "not valid now",
        );
    }
    let path = parts.uri.path();
    let method = path
        .strip_prefix("/twirp/livekit.RoomService/")
        .or_else(|| path.strip_prefix("/twirp/livekit.Egress/"))
        .unwrap_or_default()
        .to_owned();
    let egress = path.starts_with("/twirp/livekit.Egress/");
    if parts.method != hyper::Method::POST {
        return reject(
            &mut seen,
            404,
            twirp(
                404,
                "bad_route",
                "unsupported method (only POST is allowed)",
            ),
            "method",
        );
    }
    if header("content-type").split(';').next() != Some("application/json") {
        return reject(
            &mut seen,
            404,
            twirp(404, "bad_route", "unexpected Content-Type"),
            "content-type",
        );
    }
    let Ok(params) = serde_json::from_slice::<Value>(&body) else {
        return reject(
            &mut seen,
            400,
            twirp(400, "malformed", "the json request could not be decoded"),
            "body",
        );
    };
    let room = params["room"].as_str().unwrap_or_default().to_owned();
    let video = &claims["video"];
    let granted = match (egress, method.as_str()) {
        (false, "DeleteRoom") => video["roomCreate"] == true,
        (false, "RemoveParticipant") => {
            video["roomAdmin"] == true && video["room"] == room.as_str()
        }
        // `EnsureRecordPermission`.
        (true, "StartRoomCompositeEgress" | "ListEgress" | "StopEgress") => {
            video["roomRecord"] == true
        }
        _ => {
            return reject(
                &mut seen,
                404,
                twirp(404, "bad_route", "no handler for path"),
                "path",
            );
        }
    };
    if !granted {
        return reject(
            &mut seen,
            401,
            twirp(401, "unauthenticated", "permissions denied"),
            "grant",
        );
    }
    let mut call = Call {
        action: method.clone(),
        params: params.clone(),
        answer: "ok".to_owned(),
    };
    let response = if let Some(failure) = seen.script.pop_front() {
        match failure {
            Failure::Internal => twirp(500, "internal", "internal error"),
            Failure::Throttled => twirp(429, "resource_exhausted", "rate limit exceeded"),
        }
    } else if egress {
        egress_serve(&mut seen, &method, &params)
    } else if method == "DeleteRoom" {
        match seen.channels.remove(&room) {
            Some(_) => {
                // The room's egresses end with it.
                let now = unix_nanos();
                for e in seen.egresses.iter_mut().filter(|e| e.room == room) {
                    if e.is_active() {
                        (e.status, e.ended_at) = ("EGRESS_COMPLETE", now);
                    }
                }
                answer(200, "application/json", "{}".to_owned())
            }
            None => twirp(404, "not_found", "requested room does not exist"),
        }
    } else {
        let identity = params["identity"].as_str().unwrap_or_default();
        match seen.channels.get_mut(&room).map(|m| m.remove(identity)) {
            Some(true) => answer(200, "application/json", "{}".to_owned()),
            _ => twirp(404, "not_found", "participant does not exist"),
        }
    };
    let response = match seen.lose {
        Some(0) => {
            seen.lose = None;
            call.answer = "lost".to_owned();
            twirp(503, "unavailable", "the answer was lost")
        }
        Some(n) => {
            seen.lose = Some(n - 1);
            response
        }
        None => response,
    };
    if response.status() != 200 && call.answer == "ok" {
        call.answer = format!("{}", response.status().as_u16());
    }
    seen.calls.push(call);
    response
}

fn unix_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// `EgressInfo` of `e` as LiveKit's Twirp JSON gives it.
fn egress_info(e: &Egress) -> Value {
    json!({
        "egress_id": e.id,
        "room_id": format!("RM_{}", e.room),
        "room_name": e.room,
        "source_type": "EGRESS_SOURCE_TYPE_WEB",
        "status": e.status,
        "started_at": e.started_at.to_string(),
        "ended_at": e.ended_at.to_string(),
        "updated_at": e.ended_at.max(e.started_at).to_string(),
        "details": "",
        "error": "",
        "error_code": 0,
        "room_composite": e.request,
        "stream_results": [],
        "file_results": [],
        "segment_results": [],
        "image_results": [],
        "manifest_location": "",
        "backup_storage_used": false,
        "retry_count": 0,
    })
}

fn info_answer(info: Value) -> Answer {
    answer(200, "application/json", info.to_string())
}

/// The `Egress` RPCs, the grant checked.
fn egress_serve(seen: &mut Seen, method: &str, params: &Value) -> Answer {
    let text = |k: &str| params[k].as_str().unwrap_or_default().to_owned();
    match method {
        "StartRoomCompositeEgress" => {
            let room = text("room_name");
            // `LoadRoom`: the LiveKit room exists once someone joined it.
            if !seen.channels.contains_key(&room) {
                return twirp(404, "not_found", "requested room does not exist");
            }
            let e = Egress {
                id: format!("EG_{:012}", seen.egresses.len() + 1),
                room,
                status: "EGRESS_STARTING",
                request: params.clone(),
                started_at: unix_nanos(),
                ended_at: 0,
            };
            let info = egress_info(&e);
            seen.egresses.push(e);
            info_answer(info)
        }
        "ListEgress" => {
            let (room, id) = (text("room_name"), text("egress_id"));
            let active = params["active"] == true;
            let mut items = Vec::new();
            for e in seen.egresses.iter_mut() {
                // A started egress is recording by the time anyone asks.
                if e.status == "EGRESS_STARTING" {
                    e.status = "EGRESS_ACTIVE";
                }
                let listed = (room.is_empty() || e.room == room)
                    && (id.is_empty() || e.id == id)
                    // Starting, active and ending (redisstore `ListEgress`).
                    && (!active || e.is_active() || e.status == "EGRESS_ENDING");
                if listed {
                    items.push(egress_info(e));
                }
            }
            info_answer(json!({"items": items, "next_page_token": null}))
        }
        _ => {
            let id = text("egress_id");
            let Some(e) = seen.egresses.iter_mut().find(|e| e.id == id) else {
                return twirp(404, "not_found", "egress does not exist");
            };
            if !e.is_active() {
                return twirp(
                    412,
                    "failed_precondition",
                    &format!("egress with status {} cannot be stopped", e.status),
                );
            }
            (e.status, e.ended_at) = ("EGRESS_COMPLETE", unix_nanos());
            // It answers while the file is being finished.
            let mut info = egress_info(e);
            info["status"] = json!("EGRESS_ENDING");
            info_answer(info)
        }
    }
}
