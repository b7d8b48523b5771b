//! Alibaba Cloud's OpenAPI, RPC style with signature V1 (HMAC-SHA1, `SignatureVersion=1.0`):
//! ApsaraVideo Live `ForbidLiveStream` (`Oneshot=yes`: cut, no blacklist) and the live
//! console's ARTC `RemoveTerminals`, both `Version=2016-11-01` (VENDORS.md §7.1, §8, §9).
//!
//! A call is `POST {base}/?{every parameter, Signature last}` with an empty body, as the SDKs
//! send `@Query` parameters. The signature: percent-encode names and values (RFC 3986:
//! unreserved kept, everything else `%XY` upper-case, space `%20`), sort by name, join
//! `k=v` with `&`; `StringToSign = METHOD&%2F&percentEncode(that)`; `Signature =
//! base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))`.
//!
//! Never here: the clock or randomness (the caller passes `now` and the nonce), or the call.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::{ApiBases, ApiKey, Enforcement, Outcome, Request};
use crate::credentials::text;

/// The API version of both calls.
pub const VERSION: &str = "2016-11-01";

/// RFC 3986 percent-encoding as Alibaba's signature wants it.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonicalized query string: every parameter encoded, sorted by encoded name, joined.
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `METHOD&%2F&percentEncode(canonical query)`.
pub fn string_to_sign(method: &str, params: &[(String, String)]) -> String {
    format!("{method}&%2F&{}", percent_encode(&canonical_query(params)))
}

/// `base64(HMAC-SHA1(secret + "&", string_to_sign))`.
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        format!("{secret}&").as_bytes(),
    );
    STANDARD.encode(ring::hmac::sign(&key, string_to_sign.as_bytes()).as_ref())
}

/// `yyyy-MM-ddTHH:mm:ssZ` (UTC) of `now`.
pub fn timestamp(now: i64) -> String {
    chrono::DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The API parameters of `call` (without the common ones); `None` for a LiveKit or Tencent
/// call.
fn parameters(call: &Enforcement) -> Option<Vec<(String, String)>> {
    let p = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    match call {
        Enforcement::CutStream {
            vendor: super::Vendor::Aliyun,
            domain,
            app,
            stream,
        } => Some(vec![
            p("Action", "ForbidLiveStream"),
            p("DomainName", domain),
            p("AppName", app),
            p("StreamName", stream),
            p("LiveStreamType", "publisher"),
            p("Oneshot", "yes"),
        ]),
        Enforcement::RemoveMember {
            vendor: super::Vendor::Aliyun,
            app,
            channel,
            user,
        } => Some(vec![
            p("Action", "RemoveTerminals"),
            p("AppId", app),
            p("ChannelId", channel),
            // Lists are flattened 1-based.
            p("TerminalIds.1", user),
        ]),
        _ => None,
    }
}

/// The signed request for `call` with `key` at `now`, `nonce` unique per request.
pub fn request(
    call: &Enforcement,
    key: &ApiKey,
    bases: &ApiBases,
    now: i64,
    nonce: &str,
) -> Option<Request> {
    let mut params = parameters(call)?;
    let p = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    params.extend([
        p("Version", VERSION),
        p("Format", "JSON"),
        p("AccessKeyId", &key.id),
        p("SignatureMethod", "HMAC-SHA1"),
        p("SignatureVersion", "1.0"),
        p("SignatureNonce", nonce),
        p("Timestamp", &timestamp(now)),
    ]);
    let sig = signature(text(&key.secret), &string_to_sign("POST", &params));
    let base = match call {
        Enforcement::CutStream { .. } => &bases.aliyun_live,
        Enforcement::RemoveMember { .. } => &bases.aliyun_rtc,
        Enforcement::StartRecording { .. } | Enforcement::StopRecording { .. } => return None,
    };
    let url = format!(
        "{base}/?{}&Signature={}",
        canonical_query(&params),
        percent_encode(&sig)
    );
    Some(Request {
        url,
        headers: vec![
            ("accept".to_owned(), "application/json".to_owned()),
            ("user-agent".to_owned(), "liveroom".to_owned()),
        ],
        body: Vec::new(),
    })
}

/// Error codes that a later call may not meet: throttling and the vendor's own failures.
fn transient(code: &str) -> bool {
    code.starts_with("Throttling")
        || code.contains("InternalError")
        || matches!(
            code,
            "ServiceUnavailable" | "ServerError" | "SignatureNonceUsed" | "Service.NoSignaling"
        )
}

/// Error codes that mean there is nothing left to remove: the channel is gone.
fn nothing_left(call: &Enforcement, code: &str) -> bool {
    matches!(call, Enforcement::RemoveMember { .. })
        && matches!(code, "ResourceNotExist" | "Channel.NotExist")
}

/// What Alibaba's answer means: 2xx is success (for `RemoveTerminals`, each terminal's
/// `Code` 0 too); otherwise the body's `Code` decides (VENDORS.md §7.3, §9).
pub fn classify(call: &Enforcement, status: u16, body: &[u8]) -> Outcome {
    let api = call.api();
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        if let Enforcement::RemoveMember { .. } = call {
            // The live console's API answers a flat array, the RTC product's a wrapped one.
            let terminals = json["Terminals"]
                .as_array()
                .or_else(|| json["Terminals"]["Terminal"].as_array());
            let failed = terminals
                .into_iter()
                .flatten()
                .find(|t| t["Code"].as_i64().unwrap_or(0) != 0);
            if let Some(t) = failed {
                return Outcome::Permanent(format!(
                    "aliyun {api}: terminal not removed (Code {})",
                    t["Code"]
                ));
            }
        }
        return Outcome::Done;
    }
    let code = json["Code"]
        .as_str()
        .or_else(|| json["code"].as_str())
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(80)
        .collect::<String>();
    let reason = if code.is_empty() {
        format!("aliyun {api}: HTTP {status}")
    } else {
        format!("aliyun {api}: {code} (HTTP {status})")
    };
    if nothing_left(call, &code) {
        Outcome::Done
    } else if transient(&code) || status >= 500 || status == 429 {
        Outcome::Retry(reason)
    } else {
        Outcome::Permanent(reason)
    }
}
