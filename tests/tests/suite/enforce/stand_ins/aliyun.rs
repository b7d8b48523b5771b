//! The stand-in of Alibaba's RPC API (ApsaraVideo Live `ForbidLiveStream`, ARTC `RemoveTerminals`).

use std::collections::BTreeMap;
use std::sync::Arc;

use hyper::body::Incoming;
use serde_json::{Value, json};

use super::*;
use crate::enforce::oracle::*;

/// Alibaba's API (ApsaraVideo Live and the live console's ARTC): RPC, signature V1.
pub(crate) async fn aliyun(key_id: &str, secret: &str) -> StandIn {
    start(key_id, secret, 0, |server, req| {
        Box::pin(aliyun_serve(server, req))
    })
    .await
}

fn aliyun_error(status: u16, code: &str, message: &str) -> Answer {
    answer(
        status,
        "application/json",
        json!({
            "RequestId": uuid::Uuid::new_v4().to_string().to_uppercase(),
            "HostId": "live.aliyuncs.com",
            "Code": code,
            "Message": message,
            "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}"),
        })
        .to_string(),
    )
}

async fn aliyun_serve(server: Arc<Server>, req: hyper::Request<Incoming>) -> Answer {
    let (parts, _body) = body_of(req).await;
    let method = parts.method.as_str().to_owned();
    let mut params: BTreeMap<String, String> = parts
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect();
    let mut seen = server.seen.lock().unwrap();
    let reject = |seen: &mut Seen, status: u16, code: &str, why: &str| {
        seen.rejections.push(format!("{code}: {why}"));
        aliyun_error(status, code, why)
    };
    if parts.uri.path() != "/" || !matches!(method.as_str(), "GET" | "POST") {
        return reject(&mut seen, 404, "InvalidAction.NotFound", "path or method");
    }
    let Some(signature) = params.remove("Signature") else {
        return reject(&mut seen, 400, "IncompleteSignature", "no Signature");
    };
    let param = |k: &str| params.get(k).cloned().unwrap_or_default();
    if param("SignatureMethod") != "HMAC-SHA1" || param("SignatureVersion") != "1.0" {
        return reject(
            &mut seen,
            400,
            "IncompleteSignature",
            "SignatureMethod/SignatureVersion",
        );
    }
    if param("AccessKeyId") != server.key_id {
        return reject(
            &mut seen,
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        );
    }
    let Ok(at) = chrono::NaiveDateTime::parse_from_str(&param("Timestamp"), "%Y-%m-%dT%H:%M:%SZ")
    else {
        return reject(&mut seen, 400, "InvalidTimeStamp.Format", "Timestamp");
    };
    // "有效期为31分钟": valid for 31 minutes.
    if (unix_now() - at.and_utc().timestamp()).abs() > 31 * 60 {
        return reject(
            &mut seen,
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        );
    }
    let nonce = param("SignatureNonce");
    if nonce.is_empty() {
        return reject(&mut seen, 400, "MissingSignatureNonce", "SignatureNonce");
    }
    let expected = aliyun_signature(&method, &params, &server.secret);
    if expected != signature {
        return reject(
            &mut seen,
            400,
            "SignatureDoesNotMatch",
            "Specified signature is not matched with our calculation.",
        );
    }
    if !seen.nonces.insert(nonce) {
        return reject(
            &mut seen,
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        );
    }
    if param("Version") != "2016-11-01" || !param("Format").eq_ignore_ascii_case("JSON") {
        return reject(&mut seen, 400, "InvalidVersion", "Version or Format");
    }
    let action = param("Action");
    let mut call = Call {
        action: action.clone(),
        params: json!(params),
        answer: "ok".to_owned(),
    };
    let response = if let Some(failure) = seen.script.pop_front() {
        match failure {
            Failure::Internal => aliyun_error(
                500,
                "InternalError",
                "The request processing has failed due to some unknown error.",
            ),
            Failure::Throttled => aliyun_error(
                400,
                "Throttling.User",
                "Request was denied due to user flow control.",
            ),
        }
    } else {
        match action.as_str() {
            "ForbidLiveStream" => {
                let ok = param("LiveStreamType") == "publisher"
                    && !param("DomainName").is_empty()
                    && !param("AppName").is_empty()
                    && !param("StreamName").is_empty()
                    && matches!(param("Oneshot").as_str(), "yes" | "no" | "");
                if ok {
                    let stream = format!(
                        "{}/{}/{}",
                        param("DomainName"),
                        param("AppName"),
                        param("StreamName")
                    );
                    seen.streams.remove(&stream);
                    answer(
                        200,
                        "application/json",
                        json!({"RequestId": "16BFE188-B193-4C3C-ADC5-79A7E31486EA"}).to_string(),
                    )
                } else {
                    aliyun_error(400, "InvalidParameter", "ForbidLiveStream parameters")
                }
            }
            "RemoveTerminals" => {
                let ids: Vec<String> = (1..=30)
                    .map_while(|i| params.get(&format!("TerminalIds.{i}")).cloned())
                    .collect();
                if param("AppId").is_empty() || param("ChannelId").is_empty() || ids.is_empty() {
                    aliyun_error(400, "InputInvalid", "AppId, ChannelId, TerminalIds.N")
                } else if let Some(members) = seen.channels.get_mut(&param("ChannelId")) {
                    let terminals: Vec<Value> = ids
                        .iter()
                        .map(|id| {
                            let removed = members.remove(id);
                            json!({"Code": if removed { 0 } else { 1 }, "Message": if removed { "Success" } else { "Failed" }, "Id": id})
                        })
                        .collect();
                    answer(
                        200,
                        "application/json",
                        json!({"RequestId": "R", "Terminals": terminals}).to_string(),
                    )
                } else {
                    aliyun_error(404, "ResourceNotExist", "The channel does not exist.")
                }
            }
            _ => aliyun_error(404, "InvalidAction.NotFound", "Specified api is not found"),
        }
    };
    if response.status() != 200 {
        call.answer = format!("{}", response.status().as_u16());
    }
    seen.calls.push(call);
    response
}
