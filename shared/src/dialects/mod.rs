//! The other seed systems' wire dialects (SPEC §11), as thin mappings onto the core: seed
//! 004's Tencent live-room service ([`tencent`], `/base/v1/...`) and seed 000's Alibaba 1v1
//! call server ([`aliyun`], `/app/...`). Each turns its dialect's parameters into a call of
//! the same functions the AUI endpoints call (accounts, rooms, presence, meeting, credentials)
//! and the answer into its dialect's envelope; none decides anything the core decides. Errors
//! keep the core's status and code, in the dialect's envelope ([`error_body`]).

use lambda_http::Request;
use lambda_http::http::header;
use serde_json::{Map, Value, json};

use crate::App;
pub use crate::endpoint::Envelope;
use crate::endpoint::within_size;
use crate::error::{ApiError, ErrorCode};

pub mod aliyun;
pub mod tencent;

/// The error body of `envelope` for `err` (the status stays `err`'s: 4xx for the client's
/// fault, where seed 004 answered 500 for everything).
pub fn error_body(envelope: Envelope, err: &ApiError, request_id: &str) -> Value {
    match envelope {
        Envelope::Aui => serde_json::to_value(err.body(request_id)).unwrap_or_default(),
        Envelope::Tencent => json!({
            "errorCode": err.code.code(),
            "codeStr": err.code.reason(),
            "errorMessage": format!("{}({}): {}", err.code.reason(), err.code.code(), err.message),
            "details": err.details,
            "requestId": request_id,
        }),
        Envelope::Aliyun => json!({
            "result": false,
            "requestId": request_id,
            "code": err.code.code().to_string(),
            "reason": err.code.reason(),
            "message": err.message,
            "details": err.details,
        }),
    }
}

/// A dialect request's parameters: the body (a JSON object or a form), then the query string
/// over it — the query wins, as seed 004's `parseRequestParams` has it.
#[derive(Debug, Default)]
pub struct Params {
    fields: Map<String, Value>,
}

impl Params {
    /// Reads `body` (by its content type: a form, else JSON) and `query`.
    pub fn parse(query: &str, body: &[u8], content_type: Option<&str>) -> Result<Self, ApiError> {
        let mut fields = Map::new();
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::new(ErrorCode::SystemVerifyError, "the body is not UTF-8"))?;
        let essence = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        if !text.trim().is_empty() {
            if essence.as_deref() == Some("application/x-www-form-urlencoded") {
                for (k, v) in crate::callbacks::form_fields(text.trim())? {
                    fields.insert(k, Value::String(v));
                }
            } else {
                // Seed 004's clients send JSON; some without the content type.
                match serde_json::from_str::<Value>(text) {
                    Ok(Value::Object(map)) => fields = map,
                    _ => {
                        return Err(ApiError::new(
                            ErrorCode::SystemVerifyError,
                            "the body must be a JSON object (or a form)",
                        ));
                    }
                }
            }
        }
        for (k, v) in crate::callbacks::form_fields(query)? {
            fields.insert(k, Value::String(v));
        }
        Ok(Self { fields })
    }

    /// A text parameter: a string; `None` when absent, `null` or empty.
    pub fn text(&self, code: ErrorCode, key: &str) -> Result<Option<String>, ApiError> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid_field(
                code,
                key,
                format!("{key}: must be a string"),
            )),
        }
    }

    /// A text parameter as given, `""` included (a room's fields: an empty title is refused,
    /// an empty cover clears it); `None` when absent or `null`.
    pub fn given(&self, code: ErrorCode, key: &str) -> Result<Option<String>, ApiError> {
        match self.fields.get(key) {
            Some(Value::String(s)) if s.is_empty() => Ok(Some(String::new())),
            _ => self.text(code, key),
        }
    }

    /// An id parameter: a string, or a number as its text (seed 004's ids are numbers in
    /// some clients).
    pub fn id(&self, code: ErrorCode, key: &str) -> Result<Option<String>, ApiError> {
        match self.fields.get(key) {
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            _ => self.text(code, key),
        }
    }

    /// A whole-number parameter: a number or a string of digits.
    pub fn int(&self, code: ErrorCode, key: &str) -> Result<Option<i64>, ApiError> {
        let wrong = || ApiError::invalid_field(code, key, format!("{key}: must be a whole number"));
        match self.fields.get(key) {
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(wrong),
            _ => match self.text(code, key).map_err(|_| wrong())? {
                None => Ok(None),
                Some(t) => t.trim().parse::<i64>().map(Some).map_err(|_| wrong()),
            },
        }
    }

    /// A list of strings: an array, or one string (a query string carries one).
    pub fn list(&self, code: ErrorCode, key: &str) -> Result<Vec<String>, ApiError> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(ApiError::invalid_field(
                        code,
                        key,
                        format!("{key}: must be strings"),
                    )),
                })
                .collect(),
            Some(Value::String(s)) if s.is_empty() => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(_) => Err(ApiError::invalid_field(
                code,
                key,
                format!("{key}: must be a list of strings"),
            )),
        }
    }

    /// The raw value (a signature's `ts` is checked exactly as it was signed).
    pub fn raw(&self, key: &str) -> Value {
        self.fields.get(key).cloned().unwrap_or(Value::Null)
    }
}

/// A dialect request's operation (its path's last segment) and parameters (body and query
/// string).
fn request<S: ?Sized>(app: &App<S>, req: &Request) -> Result<(String, Params), ApiError> {
    let body: &[u8] = req.body().as_ref();
    within_size(app, body)?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let params = Params::parse(req.uri().query().unwrap_or_default(), body, content_type)?;
    Ok((operation(req.uri().path()).to_owned(), params))
}

/// The last segment of a dialect path: which of the group's operations it is.
pub fn operation(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

/// A time as seed 004 writes it: `YYYY-MM-DD hh:mm:ss`, UTC.
pub fn seed_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// An RFC 3339 time of a core answer in seed 004's format ("" stays "").
pub(crate) fn seed_time_of(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| seed_time(&t.with_timezone(&chrono::Utc)))
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "../tests/dialects.rs"]
mod tests;
