//! The stand-in of LiveKit's Twirp RoomService (`DeleteRoom`, `RemoveParticipant`).

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
    let method = parts
        .uri
        .path()
        .strip_prefix("/twirp/livekit.RoomService/")
        .unwrap_or_default()
        .to_owned();
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
    let granted = match method.as_str() {
        "DeleteRoom" => video["roomCreate"] == true,
        "RemoveParticipant" => video["roomAdmin"] == true && video["room"] == room.as_str(),
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
    } else if method == "DeleteRoom" {
        match seen.channels.remove(&room) {
            Some(_) => answer(200, "application/json", "{}".to_owned()),
            None => twirp(404, "not_found", "requested room does not exist"),
        }
    } else {
        let identity = params["identity"].as_str().unwrap_or_default();
        match seen.channels.get_mut(&room).map(|m| m.remove(identity)) {
            Some(true) => answer(200, "application/json", "{}".to_owned()),
            _ => twirp(404, "not_found", "participant does not exist"),
        }
    };
    if response.status() != 200 {
        call.answer = format!("{}", response.status().as_u16());
    }
    seen.calls.push(call);
    response
}
