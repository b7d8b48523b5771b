//! Domain values parsed from input.
//!
//! Each type here can only hold a valid value: the constructor (`parse`) is the one place its
//! rule lives, and code that holds one never checks it again. Nothing in this module touches
//! I/O. Parse failures are [`FieldError`]s naming the field, which the handlers turn into a
//! 400 with the endpoint's error code (`crate::error::ApiError::invalid`). Never here: the HTTP
//! error type, or any other import from a layer above.

pub mod audit;
pub mod meeting;
pub mod operator;
pub mod outbox;
pub mod presence;
pub mod recording;
pub mod room;
pub mod series;
pub mod user;

use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// A user id: the username as registered (see [`Username`]), so that the id a client knows
    /// is the id its IM and RTC credentials name. 1 to 32 bytes of ASCII letters, digits, `_`
    /// and `-`: what Tencent IM (at most 32 bytes), Alibaba RTC and LiveKit all accept.
    UserId
);

/// The characters of a user id (and of a username).
fn is_id_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')
}

/// The longest user id (and username): Tencent IM's limit, in bytes.
pub const MAX_USER_ID_BYTES: usize = 32;

impl UserId {
    /// A random id (32 hex digits; tests and fixtures).
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    pub fn parse(field: &'static str, value: &str) -> Result<Self, FieldError> {
        if (1..=MAX_USER_ID_BYTES).contains(&value.len()) && value.bytes().all(is_id_char) {
            Ok(Self(value.to_owned()))
        } else {
            Err(FieldError::new(field, "is not a user id"))
        }
    }
}

impl From<&Username> for UserId {
    /// A user's id is its username as registered.
    fn from(username: &Username) -> Self {
        Self(username.0.clone())
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

    /// The room of RTC channel `channel` (seed 000: a client names the channel): a UUID
    /// (version 8) made from a SHA-256 of the name, so every instance finds the same room with
    /// no lookup item, and no name can pick another room's id.
    pub fn for_channel(channel: &ChannelId) -> Self {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("liveroom/rtc-channel/{}", channel.0).as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        let id = uuid::Builder::from_custom_bytes(bytes).into_uuid();
        Self(id.hyphenated().to_string())
    }

    pub fn parse(field: &'static str, value: &str) -> Result<Self, FieldError> {
        match uuid::Uuid::try_parse(value) {
            Ok(id) if id.hyphenated().to_string() == value => Ok(Self(value.to_owned())),
            _ => Err(FieldError::new(field, "is not a room id")),
        }
    }

    /// Whether this is the room of a seed 000 call ([`Self::for_channel`]: version 8; the
    /// rooms `create` makes are version 4). A call is its two participants' only: it is in no
    /// listing, only they may enter it, and only they publish in it.
    pub fn is_channel(&self) -> bool {
        uuid::Uuid::try_parse(&self.0).is_ok_and(|id| id.get_version_num() == 8)
    }
}

string_newtype!(
    /// An RTC channel id a client chose (seed 000's `channelId`): 1 to 64 ASCII letters,
    /// digits and `-` (what Alibaba RTC accepts, less `_`, with which every Alibaba user id we
    /// sign for starts: see `credentials::aliyun::vendor_user_id`).
    ChannelId
);

impl ChannelId {
    /// Refuses what could be another room's RTC channel: a room's channel is its id, a
    /// hyphenated UUID, so no channel id may have that shape (in any case) — or a client could
    /// sign itself a token for someone else's room. And no `_`: the Alibaba RTC token hashes
    /// the channel id and the user id with no separator between them, and the user ids we
    /// sign for start with `_`, so that a token's channel ends where its user begins.
    pub fn parse(field: &'static str, value: &str) -> Result<Self, FieldError> {
        if !((1..=64).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            return Err(FieldError::new(
                field,
                "must be 1 to 64 ASCII letters, digits and -",
            ));
        }
        if RoomId::parse(field, &value.to_ascii_lowercase()).is_ok() {
            return Err(FieldError::new(
                field,
                "may not be a room id (a UUID): rooms' channels are their ids",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

string_newtype!(
    /// A login name, which is also the user's id ([`UserId`]): 1 to 32 ASCII letters, digits,
    /// `_` and `-`. Unique without regard to case; the id keeps the case it was registered with.
    /// The names vendors reserve for their admin accounts (Tencent IM's `administrator`) are
    /// refused, so that no user is ever issued an admin's IM credentials.
    Username
);

/// Names no user may take (compared without regard to case).
const RESERVED_USERNAMES: [&str; 3] = ["administrator", "admin", "root"];

impl Username {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        if !(1..=MAX_USER_ID_BYTES).contains(&value.len()) {
            return Err(FieldError::new(
                "username",
                format!("must be 1 to {MAX_USER_ID_BYTES} characters"),
            ));
        }
        if !value.bytes().all(is_id_char) {
            return Err(FieldError::new(
                "username",
                "may contain only ASCII letters, digits, _ and -",
            ));
        }
        if RESERVED_USERNAMES
            .iter()
            .any(|r| r.eq_ignore_ascii_case(value))
        {
            return Err(FieldError::new("username", "is reserved"));
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
    /// A link to an image (avatar, cover): empty, or an `http(s)://` URL of at most 1024
    /// printable ASCII characters.
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
        // ASCII only (an IRI is sent percent-encoded), so bytes and characters agree.
        match rest {
            Some(rest)
                if !rest.is_empty()
                    && !rest.starts_with('/')
                    && value.bytes().all(|b| b.is_ascii_graphic()) =>
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
    /// Up to 4096 characters (JSON Schema's `maxLength` counts characters too).
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        if value.chars().count() > 4096 {
            return Err(FieldError::new(
                "extends",
                "must be at most 4096 characters",
            ));
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

/// One page of a listing: `page_num` 1 to [`Page::MAX_NUM`], `page_size` 1 to
/// [`Page::MAX_SIZE`]. Every skipped item is read, so no page starts deeper than
/// [`Page::MAX_OFFSET`] items; the two bounds are independent so that a schema can state them
/// exactly (`maximum`), as the OpenAPI document does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Page {
    pub offset: u32,
    pub size: u32,
}

impl Page {
    pub const MAX_SIZE: i64 = 100;
    pub const MAX_NUM: i64 = 101;
    pub const MAX_OFFSET: i64 = (Self::MAX_NUM - 1) * Self::MAX_SIZE;

    pub fn parse(page_num: i64, page_size: i64) -> Result<Self, FieldError> {
        if !(1..=Self::MAX_SIZE).contains(&page_size) {
            return Err(FieldError::new("page_size", "must be 1 to 100"));
        }
        if !(1..=Self::MAX_NUM).contains(&page_num) {
            return Err(FieldError::new(
                "page_num",
                format!(
                    "must be 1 to {} (listings end there; narrow the filter)",
                    Self::MAX_NUM
                ),
            ));
        }
        let offset = (page_num - 1) * page_size;
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
