//! Domain values parsed from input.
//!
//! Each type here can only hold a valid value: the constructor (`parse`) is the one place its
//! rule lives, and code that holds one never checks it again. Nothing in this module touches
//! I/O. Parse failures are [`FieldError`]s naming the field, which the HTTP layer turns into
//! a 400 with the endpoint's error code.

pub mod meeting;
pub mod presence;
pub mod room;
pub mod user;

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::{ApiError, ErrorCode};

/// A field that failed to parse: which one and why, in words a client developer can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }

    /// The API error for this field under the endpoint's parameter-error code.
    pub fn into_api(self, code: ErrorCode) -> ApiError {
        ApiError::invalid_field(
            code,
            self.field,
            format!("{}: {}", self.field, self.message),
        )
    }
}

/// Checks length in characters (not bytes) and rejects control characters.
fn text(field: &'static str, value: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len < min {
        return Err(if min == 1 {
            FieldError::new(field, "must not be empty")
        } else {
            FieldError::new(field, format!("must be at least {min} characters"))
        });
    }
    if len > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters (got {len})"),
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_newtype!(
    /// A user id: 32 lowercase hex digits (a UUID without hyphens), so it fits every vendor's
    /// user-id rules (Tencent IM allows at most 32 bytes).
    UserId
);

impl UserId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    pub fn parse(field: &'static str, value: &str) -> Result<Self, FieldError> {
        if value.len() == 32
            && value
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            Ok(Self(value.to_owned()))
        } else {
            Err(FieldError::new(field, "is not a user id"))
        }
    }
}

string_newtype!(
    /// A room id: a lowercase hyphenated UUID, valid as an RTC channel id for every vendor.
    RoomId
);

impl RoomId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().hyphenated().to_string())
    }

    pub fn parse(field: &'static str, value: &str) -> Result<Self, FieldError> {
        match uuid::Uuid::try_parse(value) {
            Ok(id) if id.hyphenated().to_string() == value => Ok(Self(value.to_owned())),
            _ => Err(FieldError::new(field, "is not a room id")),
        }
    }
}

string_newtype!(
    /// A login name: 3 to 64 characters of letters, digits and `._@+-` (so an e-mail address or
    /// a phone number works). Unique without regard to case.
    Username
);

impl Username {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let len = value.chars().count();
        if !(3..=64).contains(&len) {
            return Err(FieldError::new("username", "must be 3 to 64 characters"));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '+' | '-'))
        {
            return Err(FieldError::new(
                "username",
                "may contain only letters, digits and . _ @ + -",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The key that makes usernames unique: `Alice` and `alice` are one user.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A password as typed: 8 to 128 characters. Never logged, never stored (only its hash is).
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(value: String) -> Result<Self, FieldError> {
        let len = value.chars().count();
        if len < 8 {
            return Err(FieldError::new("password", "must be at least 8 characters"));
        }
        if len > 128 {
            return Err(FieldError::new(
                "password",
                "must be at most 128 characters",
            ));
        }
        Ok(Self(value))
    }

    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

string_newtype!(
    /// A display name: up to 64 characters, may be empty.
    Nick
);

impl Nick {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, FieldError> {
        text(field, value, 0, 64).map(Self)
    }

    pub fn empty() -> Self {
        Self(String::new())
    }
}

string_newtype!(
    /// A link to an image (avatar, cover): empty, or an `http(s)://` URL of at most 1024 bytes.
    ImageUrl
);

impl ImageUrl {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(Self(String::new()));
        }
        if value.len() > 1024 {
            return Err(FieldError::new(field, "must be at most 1024 bytes"));
        }
        let rest = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"));
        match rest {
            Some(rest)
                if !rest.is_empty()
                    && !rest.starts_with('/')
                    && !value.chars().any(|c| c.is_whitespace() || c.is_control()) =>
            {
                Ok(Self(value.to_owned()))
            }
            _ => Err(FieldError::new(field, "must be an http:// or https:// URL")),
        }
    }

    pub fn empty() -> Self {
        Self(String::new())
    }
}

string_newtype!(
    /// A room title: 1 to 128 characters.
    Title
);

impl Title {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        text("title", value, 1, 128).map(Self)
    }
}

string_newtype!(
    /// A room notice (公告): up to 1024 characters.
    Notice
);

impl Notice {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        text("notice", value, 0, 1024).map(Self)
    }

    pub fn empty() -> Self {
        Self(String::new())
    }
}

string_newtype!(
    /// The client's own extension data, usually a JSON string: up to 4096 bytes, kept verbatim.
    Extends
);

impl Extends {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        if value.len() > 4096 {
            return Err(FieldError::new("extends", "must be at most 4096 bytes"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn empty() -> Self {
        Self(String::new())
    }
}

string_newtype!(
    /// A room category used for listing: up to 32 letters, digits, `_` or `-`; may be empty.
    Category
);

impl Category {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        if value.len() > 32
            || !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(FieldError::new(
                "category",
                "must be at most 32 letters, digits, _ or -",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn empty() -> Self {
        Self(String::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A room's mode (seed 002): normal live, co-host (连麦) or PK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub enum RoomMode {
    Normal = 0,
    CoHost = 1,
    Pk = 2,
}

impl TryFrom<i64> for RoomMode {
    type Error = FieldError;
    fn try_from(value: i64) -> Result<Self, FieldError> {
        match value {
            0 => Ok(Self::Normal),
            1 => Ok(Self::CoHost),
            2 => Ok(Self::Pk),
            _ => Err(FieldError::new(
                "mode",
                "must be 0 (normal), 1 (co-host) or 2 (PK)",
            )),
        }
    }
}

impl From<RoomMode> for i64 {
    fn from(mode: RoomMode) -> i64 {
        mode as i64
    }
}

/// A room's status: 0 prepare, 1 live, 2 ended. See [`room::Room::apply`] for the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub enum RoomStatus {
    Prepare = 0,
    Live = 1,
    Ended = 2,
}

impl TryFrom<i64> for RoomStatus {
    type Error = FieldError;
    fn try_from(value: i64) -> Result<Self, FieldError> {
        match value {
            0 => Ok(Self::Prepare),
            1 => Ok(Self::Live),
            2 => Ok(Self::Ended),
            _ => Err(FieldError::new(
                "status",
                "must be 0 (prepare), 1 (live) or 2 (ended)",
            )),
        }
    }
}

impl From<RoomStatus> for i64 {
    fn from(status: RoomStatus) -> i64 {
        status as i64
    }
}

impl RoomStatus {
    pub fn as_i64(self) -> i64 {
        self as i64
    }
}

/// `list`'s status filter: -1 (or absent) means every status.
pub fn parse_status_filter(value: Option<i64>) -> Result<Option<RoomStatus>, FieldError> {
    match value {
        None | Some(-1) => Ok(None),
        Some(v) => RoomStatus::try_from(v)
            .map(Some)
            .map_err(|_| FieldError::new("status", "must be -1 (all), 0, 1 or 2")),
    }
}

/// One page of a listing: `page_num` from 1, `page_size` 1..=100, and no deeper than
/// [`Page::MAX_OFFSET`] items, since every skipped item is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u32,
    pub size: u32,
}

impl Page {
    pub const MAX_SIZE: i64 = 100;
    pub const MAX_OFFSET: i64 = 10_000;

    pub fn parse(page_num: i64, page_size: i64) -> Result<Self, FieldError> {
        if !(1..=Self::MAX_SIZE).contains(&page_size) {
            return Err(FieldError::new("page_size", "must be 1 to 100"));
        }
        if page_num < 1 {
            return Err(FieldError::new("page_num", "must be 1 or more"));
        }
        let offset = (page_num - 1).saturating_mul(page_size);
        if offset > Self::MAX_OFFSET {
            return Err(FieldError::new(
                "page_num",
                format!("pages end at item {}; narrow the filter", Self::MAX_OFFSET),
            ));
        }
        // Both fit in u32: offset <= 10_000, size <= 100.
        Ok(Self {
            offset: offset as u32,
            size: page_size as u32,
        })
    }
}

#[cfg(test)]
#[path = "../tests/domain.rs"]
mod tests;
