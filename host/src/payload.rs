//! API Gateway's HTTP API payload format 2.0: the event it builds of a request to a route, and
//! the HTTP response it makes of a function's answer.
//!
//! Never here: routing, instances, or anything about one function (`crate::gateway`).

use std::collections::BTreeMap;

use base64::Engine as _;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

use crate::template::Route;

/// Whether API Gateway passes a body of this content type as text (else base64).
fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else {
        return false;
    };
    let ct = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    ct.starts_with("text/")
        || ct == "application/json"
        || ct == "application/xml"
        || ct == "application/javascript"
        || ct.ends_with("+json")
        || ct.ends_with("+xml")
}

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i += 3;
            }
            (b'+', ..) => {
                out.push(b' ');
                i += 1;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The payload 2.0 event of a request to `route`.
pub fn event(
    parts: &hyper::http::request::Parts,
    body: &[u8],
    route: &Route,
    path_parameters: &BTreeMap<String, String>,
    source_ip: &str,
    request_id: &str,
) -> Value {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies = Vec::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == hyper::header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            );
            continue;
        }
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let domain = headers
        .get("host")
        .cloned()
        .unwrap_or_else(|| "localhost".to_owned());
    headers.insert("x-forwarded-for".to_owned(), source_ip.to_owned());
    headers.insert("x-forwarded-proto".to_owned(), "http".to_owned());
    let port = domain
        .rsplit_once(':')
        .map(|(_, p)| p.to_owned())
        .unwrap_or_else(|| "80".to_owned());
    headers.insert("x-forwarded-port".to_owned(), port);
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let mut query: BTreeMap<String, String> = BTreeMap::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k), percent_decode(v));
        query
            .entry(k)
            .and_modify(|old| {
                old.push(',');
                old.push_str(&v);
            })
            .or_insert(v);
    }
    let now = chrono::Utc::now();
    let user_agent = headers.get("user-agent").cloned().unwrap_or_default();
    let key = route.key();
    let protocol = format!("{:?}", parts.version);
    let mut event = json!({
        "version": "2.0",
        "routeKey": key,
        "rawPath": parts.uri.path(),
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": domain,
            "domainPrefix": domain.split('.').next().unwrap_or(""),
            "http": {
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
                "protocol": protocol,
                "sourceIp": source_ip,
                "userAgent": user_agent,
            },
            "requestId": request_id,
            "routeKey": key,
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = json!(query);
    }
    if !path_parameters.is_empty() {
        event["pathParameters"] = json!(path_parameters);
    }
    if !body.is_empty() {
        let content_type = parts
            .headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        match std::str::from_utf8(body) {
            Ok(text) if is_text(content_type) => event["body"] = json!(text),
            _ => {
                event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
                event["isBase64Encoded"] = json!(true);
            }
        }
    }
    event
}

/// The HTTP response of a function's payload 2.0 answer.
pub fn response(answer: &Value) -> Result<Response<Full<Bytes>>, String> {
    // A bare answer (no statusCode) is a 200 with the JSON as its body, as API Gateway reads it.
    let Some(status) = answer.get("statusCode") else {
        let mut r = Response::new(Full::new(Bytes::from(answer.to_string())));
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Ok(r);
    };
    let status = status
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or("a bad statusCode")?;
    let body = match answer.get("body") {
        Some(Value::String(s)) if answer["isBase64Encoded"] == json!(true) => {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| format!("a bad base64 body: {e}"))?
        }
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => other.to_string().into_bytes(),
    };
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    let headers = r.headers_mut();
    let mut add = |name: &str, value: &str| -> Result<(), String> {
        let name =
            HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("header {name}: {e}"))?;
        let value = HeaderValue::from_str(value).map_err(|e| format!("header {name}: {e}"))?;
        headers.append(name, value);
        Ok(())
    };
    if let Some(Value::Object(h)) = answer.get("headers") {
        for (k, v) in h {
            add(k, v.as_str().unwrap_or(&v.to_string()))?;
        }
    }
    if let Some(Value::Object(h)) = answer.get("multiValueHeaders") {
        for (k, vs) in h {
            for v in vs.as_array().into_iter().flatten() {
                add(k, v.as_str().unwrap_or(&v.to_string()))?;
            }
        }
    }
    if let Some(Value::Array(cookies)) = answer.get("cookies") {
        for c in cookies.iter().filter_map(Value::as_str) {
            add("set-cookie", c)?;
        }
    }
    Ok(r)
}
