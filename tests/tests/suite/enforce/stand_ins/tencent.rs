//! The stand-in of Tencent Cloud API 3.0 (CSS `DropLiveStream`, TRTC `RemoveUserByStrRoomId`).

use std::collections::HashMap;
use std::sync::Arc;

use hyper::body::Incoming;
use serde_json::{Value, json};

use super::*;
use crate::enforce::oracle::*;

/// Tencent Cloud API 3.0 (CSS and TRTC on one server): TC3-HMAC-SHA256.
pub(crate) async fn tencent(secret_id: &str, secret_key: &str, sdkappid: u64) -> StandIn {
    start(secret_id, secret_key, sdkappid, |server, req| {
        Box::pin(tencent_serve(server, req))
    })
    .await
}

fn tencent_answer(error: Option<(&str, &str)>) -> Answer {
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = match error {
        None => json!({"Response": {"RequestId": request_id}}),
        Some((code, message)) => {
            json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}})
        }
    };
    answer(200, "application/json", body.to_string())
}

async fn tencent_serve(server: Arc<Server>, req: hyper::Request<Incoming>) -> Answer {
    let (parts, body) = body_of(req).await;
    let headers: HashMap<String, String> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let header = |k: &str| headers.get(k).cloned().unwrap_or_default();
    let mut seen = server.seen.lock().unwrap();
    let reject = |seen: &mut Seen, code: &str, why: &str| {
        seen.rejections.push(format!("{code}: {why}"));
        tencent_answer(Some((code, why)))
    };
    if parts.method != hyper::Method::POST || parts.uri.path() != "/" {
        return reject(&mut seen, "InvalidParameter", "POST / only here");
    }
    if !header("content-type").starts_with("application/json") {
        return reject(&mut seen, "InvalidParameter", "content-type");
    }
    let action = header("x-tc-action");
    let (service, version) = match action.as_str() {
        "DropLiveStream" => ("live", "2018-08-01"),
        "RemoveUserByStrRoomId" => ("trtc", "2019-07-22"),
        _ => return reject(&mut seen, "InvalidAction", "The action does not exist."),
    };
    if header("x-tc-version") != version {
        return reject(&mut seen, "NoSuchVersion", "The version does not exist.");
    }
    let Ok(timestamp) = header("x-tc-timestamp").parse::<i64>() else {
        return reject(&mut seen, "MissingParameter", "X-TC-Timestamp");
    };
    // "相差不得超过五分钟": within five minutes of the server's time.
    if (unix_now() - timestamp).abs() > 300 {
        return reject(
            &mut seen,
            "AuthFailure.SignatureExpire",
            "Signature expire.",
        );
    }
    let auth = header("authorization");
    let Some(rest) = auth.strip_prefix("TC3-HMAC-SHA256 ") else {
        return reject(
            &mut seen,
            "AuthFailure.InvalidAuthorization",
            "Authorization",
        );
    };
    let fields: HashMap<&str, &str> = rest.split(", ").filter_map(|f| f.split_once('=')).collect();
    let (Some(credential), Some(signed), Some(signature)) = (
        fields.get("Credential"),
        fields.get("SignedHeaders"),
        fields.get("Signature"),
    ) else {
        return reject(
            &mut seen,
            "AuthFailure.InvalidAuthorization",
            "Authorization fields",
        );
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let date = chrono::DateTime::from_timestamp(timestamp, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    if scope.len() != 4 || scope[1] != date || scope[2] != service || scope[3] != "tc3_request" {
        return reject(
            &mut seen,
            "AuthFailure.InvalidAuthorization",
            "Credential scope",
        );
    }
    if scope[0] != server.key_id {
        return reject(
            &mut seen,
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found.",
        );
    }
    let names: Vec<&str> = signed.split(';').collect();
    if !names.contains(&"content-type") || !names.contains(&"host") {
        return reject(
            &mut seen,
            "AuthFailure.InvalidAuthorization",
            "content-type and host must be signed",
        );
    }
    if header("host") != server.host {
        return reject(&mut seen, "AuthFailure.InvalidAuthorization", "Host");
    }
    if tc3_signature(&server.secret, &headers, signed, &body, timestamp, service) != *signature {
        return reject(
            &mut seen,
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        );
    }
    let Ok(params) = serde_json::from_slice::<Value>(&body) else {
        return reject(&mut seen, "InvalidParameter", "the body is not JSON");
    };
    let mut call = Call {
        action: action.clone(),
        params: params.clone(),
        answer: "ok".to_owned(),
    };
    let error: Option<(&str, &str)> = if let Some(failure) = seen.script.pop_front() {
        Some(match failure {
            Failure::Internal => ("InternalError", "Internal error."),
            Failure::Throttled => (
                "RequestLimitExceeded",
                "The number of requests exceeds the frequency limit.",
            ),
        })
    } else {
        let text = |k: &str| params[k].as_str().unwrap_or_default().to_owned();
        match action.as_str() {
            "DropLiveStream" => {
                if text("StreamName").is_empty()
                    || text("DomainName").is_empty()
                    || text("AppName").is_empty()
                {
                    Some(("MissingParameter", "StreamName, DomainName, AppName"))
                } else {
                    let stream = format!(
                        "{}/{}/{}",
                        text("DomainName"),
                        text("AppName"),
                        text("StreamName")
                    );
                    if seen.streams.remove(&stream) {
                        None
                    } else {
                        Some((
                            "ResourceNotFound.StreamNotAlive",
                            "The stream is not active.",
                        ))
                    }
                }
            }
            _ => {
                let users: Option<Vec<String>> = params["UserIds"].as_array().map(|a| {
                    a.iter()
                        .filter_map(|u| u.as_str().map(str::to_owned))
                        .collect()
                });
                if header("x-tc-region").is_empty() {
                    Some(("MissingParameter", "X-TC-Region"))
                } else if params["SdkAppId"].as_u64() != Some(server.sdkappid) {
                    Some(("UnauthorizedOperation.SdkAppId", "SdkAppId"))
                } else if text("RoomId").is_empty() {
                    Some(("MissingParameter.RoomId", "RoomId"))
                } else if users.as_ref().is_none_or(|u| u.is_empty() || u.len() > 10) {
                    Some(("InvalidParameter.UserIds", "UserIds"))
                } else if let Some(members) = seen.channels.get_mut(&text("RoomId")) {
                    for u in users.unwrap_or_default() {
                        members.remove(&u);
                    }
                    None
                } else {
                    Some(("FailedOperation.RoomNotExist", "The room does not exist."))
                }
            }
        }
    };
    if let Some((code, _)) = error {
        call.answer = code.to_owned();
    }
    seen.calls.push(call);
    tencent_answer(error)
}
