//! Tencent Cloud API 3.0 with TC3-HMAC-SHA256: CSS `DropLiveStream` (`2018-08-01`, no region)
//! and TRTC `RemoveUserByStrRoomId` (`2019-07-22`, region required) (VENDORS.md §10, §11).
//!
//! A call is `POST {base}/` with a JSON body and the headers `Content-Type`, `Host`,
//! `X-TC-Action`, `X-TC-Version`, `X-TC-Timestamp` (`X-TC-Region` for TRTC) and
//! `Authorization: TC3-HMAC-SHA256 Credential={SecretId}/{date}/{service}/tc3_request,
//! SignedHeaders=content-type;host;x-tc-action, Signature={hex}`. The signature: a canonical
//! request (method, `/`, query, the signed headers lower-cased `k:v\n`, their names, the hex
//! SHA-256 of the body), hashed into the string to sign, under a key derived from
//! `"TC3" + SecretKey` by the UTC date, the service and `tc3_request`. Answers are HTTP 200,
//! errors in `Response.Error.Code`.
//!
//! Never here: the clock (the caller passes `now`), or the call.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::{ApiBases, ApiKey, Enforcement, Outcome, Request, Vendor, host_of};

/// `HMAC-SHA256(key, data)`.
fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The canonical request: `headers` are every header sent (any case); those named in
/// `signed` (lower-case, sorted, `;`-joined) are signed, names and values lower-cased.
pub fn canonical_request(
    method: &str,
    query: &str,
    headers: &[(&str, &str)],
    signed: &str,
    payload: &[u8],
) -> String {
    let mut canonical = String::new();
    for name in signed.split(';') {
        let value = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| *v);
        canonical.push_str(&format!("{name}:{}\n", value.trim().to_ascii_lowercase()));
    }
    format!(
        "{method}\n/\n{query}\n{canonical}\n{signed}\n{}",
        hex::encode(Sha256::digest(payload))
    )
}

/// The UTC date (`YYYY-MM-DD`) of a timestamp: the credential scope's date.
pub fn date(timestamp: i64) -> String {
    chrono::DateTime::from_timestamp(timestamp, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// `TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{hex sha256(canonical)}`.
pub fn string_to_sign(timestamp: i64, service: &str, canonical_request: &str) -> String {
    format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{}/{service}/tc3_request\n{}",
        date(timestamp),
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

/// The signing key: `"TC3" + SecretKey` through the date, the service and `tc3_request`.
pub fn signing_key(secret_key: &[u8], timestamp: i64, service: &str) -> [u8; 32] {
    let secret_date = hmac(&[b"TC3", secret_key].concat(), date(timestamp).as_bytes());
    let secret_service = hmac(&secret_date, service.as_bytes());
    hmac(&secret_service, b"tc3_request")
}

/// `hex(HMAC-SHA256(signing key, string to sign))`.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac(signing_key, string_to_sign.as_bytes()))
}

/// The `Authorization` header's value.
pub fn authorization(
    secret_id: &str,
    timestamp: i64,
    service: &str,
    signed: &str,
    signature: &str,
) -> String {
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{}/{service}/tc3_request, SignedHeaders={signed}, Signature={signature}",
        date(timestamp)
    )
}

/// The headers we sign.
const SIGNED: &str = "content-type;host;x-tc-action";
const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// The signed request for `call` with `key` at `now`.
pub fn request(call: &Enforcement, key: &ApiKey, bases: &ApiBases, now: i64) -> Option<Request> {
    let (service, action, version, base, region, body) = match call {
        Enforcement::CutStream {
            vendor: Vendor::Tencent,
            domain,
            app,
            stream,
        } => (
            "live",
            "DropLiveStream",
            "2018-08-01",
            &bases.tencent_live,
            None,
            json!({ "StreamName": stream, "DomainName": domain, "AppName": app }),
        ),
        Enforcement::RemoveMember {
            vendor: Vendor::Tencent,
            app,
            channel,
            user,
        } => (
            "trtc",
            "RemoveUserByStrRoomId",
            "2019-07-22",
            &bases.tencent_trtc,
            Some(bases.tencent_trtc_region.as_str()),
            json!({ "SdkAppId": app.parse::<u32>().ok()?, "RoomId": channel, "UserIds": [user] }),
        ),
        _ => return None,
    };
    let body = body.to_string().into_bytes();
    let host = host_of(base);
    let timestamp = now.to_string();
    let mut headers = vec![
        ("Content-Type", CONTENT_TYPE),
        ("Host", host),
        ("X-TC-Action", action),
        ("X-TC-Version", version),
        ("X-TC-Timestamp", timestamp.as_str()),
    ];
    if let Some(region) = region {
        headers.push(("X-TC-Region", region));
    }
    let canonical = canonical_request("POST", "", &headers, SIGNED, &body);
    let sts = string_to_sign(now, service, &canonical);
    let sig = signature(&signing_key(key.secret.expose(), now, service), &sts);
    let auth = authorization(&key.id, now, service, SIGNED, &sig);
    let mut headers: Vec<(String, String)> = headers
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    headers.push(("authorization".to_owned(), auth));
    Some(Request {
        url: format!("{base}/"),
        headers,
        body,
    })
}

/// What Tencent's answer means: HTTP 200 without `Response.Error` is success; an error's
/// `Code` decides (VENDORS.md §10, §11). A stream that is not live (`DropLiveStream`) or a room
/// that does not exist (`RemoveUserByStrRoomId`) leaves nothing to do.
pub fn classify(call: &Enforcement, status: u16, body: &[u8]) -> Outcome {
    let api = call.api();
    if status != 200 {
        let reason = format!("tencent {api}: HTTP {status}");
        return if status >= 500 || status == 429 {
            Outcome::Retry(reason)
        } else {
            Outcome::Permanent(reason)
        };
    }
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        return Outcome::Retry(format!("tencent {api}: an answer that is not JSON"));
    };
    let Some(response) = json.get("Response") else {
        return Outcome::Retry(format!("tencent {api}: an answer without Response"));
    };
    let Some(error) = response.get("Error") else {
        return Outcome::Done;
    };
    let code: String = error["Code"]
        .as_str()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'))
        .take(80)
        .collect();
    let reason = format!("tencent {api}: {code}");
    match code.as_str() {
        "ResourceNotFound.StreamNotAlive" | "FailedOperation.RoomNotExist" => Outcome::Done,
        c if c.starts_with("RequestLimitExceeded")
            || c.starts_with("InternalError")
            || c.starts_with("ResourceUnavailable")
            || c == "FailedOperation.CallOtherSvrFailed"
            || c == "FailedOperation" =>
        {
            Outcome::Retry(reason)
        }
        _ => Outcome::Permanent(reason),
    }
}
