//! A room's recording as kept on the room item (issue 26): whether it is still awaited, ready
//! or failed, and the files the vendor reported, in recording order. Seed 002's `vod_id` and
//! `vod_info` are read from it (`crate::rooms::view`).
//!
//! The rules: a room recorded ([`Recording::awaited`], made at `create` where `RECORDING=on`
//! and the room did not opt out) is `Preparing` until a file arrives, then `Ready` with every
//! file so far (a room paused and started again has several; a file arriving twice is kept
//! once; at most [`MAX_FILES`]), named by the first file to arrive; `Failed` when the vendor reports a failure before any file arrived, or when nothing
//! arrived within `RECORDING_TIMEOUT_SECONDS` of the room's end ([`Recording::timed_out`], the
//! sweeper's rule). A file that arrives after a failure still makes the recording ready (the
//! file exists); a failure reported after a file arrived changes nothing. Each change bumps
//! `revision`, the condition of the store's write.
//!
//! Never here: I/O, a vendor's wire format (the callbacks parse those), or a signed URL.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Seed 002 `models.VodInfo.status`: 0 preparing, 1 ready, 2 failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum VodStatus {
    #[default]
    Preparing,
    Ready,
    Failed,
}

impl VodStatus {
    /// The seed's number for it.
    pub fn as_u8(self) -> u8 {
        match self {
            VodStatus::Preparing => 0,
            VodStatus::Ready => 1,
            VodStatus::Failed => 2,
        }
    }
}

/// The vendor a file was recorded by (its playback URL is signed by that vendor's rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordingVendor {
    Alibaba,
    Tencent,
    Livekit,
}

/// One recorded file as the vendor reported it (nothing signed: URLs are signed on read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedFile {
    pub vendor: RecordingVendor,
    /// The vendor's id of the file (Tencent's `file_id`, LiveKit's egress id); empty where
    /// the location names it (Alibaba's object path, kept once). A file reported twice (same
    /// id and location) is kept once. (Never skipped when empty: the embedded store's
    /// records are postcard, which has no field names.)
    pub id: String,
    /// Where it is: Alibaba's object path in the recording bucket, the path of Tencent's file
    /// on the VOD playback domain (`TENCENT_VOD_PLAY_DOMAIN`), the URL LiveKit's egress
    /// uploaded it to. Never a host a callback chose (Tencent) and never signed.
    pub location: String,
    /// `mp4`, `m3u8`, `flv`, ... (lower case).
    pub format: String,
    /// When the recorded stream began and ended (unix seconds).
    pub started_at: i64,
    pub ended_at: i64,
    /// Its length in milliseconds.
    pub duration_ms: u64,
    /// Its size in bytes (0 when the vendor does not say).
    pub size: u64,
    pub width: u32,
    pub height: u32,
}

/// A room's recording (see the module's rules).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    pub status: VodStatus,
    /// In recording order (start time, then id).
    pub files: Vec<RecordedFile>,
    /// Bumped by one on every change: the store writes conditionally on it.
    pub revision: u64,
    /// What names the recording: the first file to arrive (its id, or its path), kept once
    /// set, so that no later file, however early it says it began, renames it. Last, for the
    /// embedded store's records.
    #[serde(default)]
    pub vod_id: String,
}

/// At most this many files are kept per room: with the callbacks' limits on a file's id (128
/// bytes) and location (512 bytes, URL-safe ASCII, so nothing is escaped in JSON), a recording
/// stays under 48 KB of the room item (far below DynamoDB's 400 KB, counted old and new
/// together in an update), and a room's `vod_info` under 50 KB of an answer, so a `list` page
/// of 100 rooms stays under Lambda's 6 MB response limit. A further file is not kept (logged).
pub const MAX_FILES: usize = 48;

impl RecordedFile {
    /// What names the file: its id, or (Alibaba) its location.
    pub fn name(&self) -> &str {
        if self.id.is_empty() {
            &self.location
        } else {
            &self.id
        }
    }
}

impl Recording {
    /// A recording awaited: preparing, no file.
    pub fn awaited() -> Self {
        Self::default()
    }

    /// The vendor's id of the recording: that of the first file to arrive (empty before one
    /// arrived).
    pub fn vod_id(&self) -> &str {
        match self.files.first() {
            // Kept before the name was: its first file names it, as it did then.
            Some(first) if self.vod_id.is_empty() => first.name(),
            _ => &self.vod_id,
        }
    }

    /// Whether no further file is kept: the recording holds [`MAX_FILES`].
    pub fn is_full(&self) -> bool {
        self.files.len() >= MAX_FILES
    }

    /// The recording with `file` added in its place: `None` when it holds that file already
    /// (or is full).
    pub fn with_files(&self, files: &[RecordedFile]) -> Option<Self> {
        let mut next: Option<Self> = None;
        for file in files {
            let from = next.as_ref().unwrap_or(self);
            if let Some(more) = from.with_file(file.clone()) {
                next = Some(Self {
                    revision: self.revision + 1,
                    ..more
                });
            }
        }
        next
    }

    /// The recording with `file` added in its place: `None` when it holds that file already
    /// (or is full: [`Recording::is_full`]).
    pub fn with_file(&self, file: RecordedFile) -> Option<Self> {
        if self
            .files
            .iter()
            .any(|f| f.vendor == file.vendor && f.id == file.id && f.location == file.location)
            || self.is_full()
        {
            return None;
        }
        let mut next = self.clone();
        let at = next
            .files
            .partition_point(|f| (f.started_at, f.name()) <= (file.started_at, file.name()));
        if next.vod_id.is_empty() {
            next.vod_id = self.vod_id().to_owned();
        }
        if next.vod_id.is_empty() {
            next.vod_id = file.name().to_owned();
        }
        next.files.insert(at, file);
        next.status = VodStatus::Ready;
        next.revision += 1;
        Some(next)
    }

    /// The recording failed: `None` unless it is still preparing.
    pub fn failed(&self) -> Option<Self> {
        (self.status == VodStatus::Preparing).then(|| Self {
            status: VodStatus::Failed,
            files: Vec::new(),
            revision: self.revision + 1,
            vod_id: String::new(),
        })
    }

    /// Whether the sweeper fails it at `now`: still preparing, its room ended at `stopped_at`,
    /// `timeout` or longer ago.
    pub fn timed_out(
        &self,
        stopped_at: Option<DateTime<Utc>>,
        timeout: std::time::Duration,
        now: DateTime<Utc>,
    ) -> bool {
        let timeout = chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::MAX);
        self.status == VodStatus::Preparing
            && stopped_at.is_some_and(|t| t.checked_add_signed(timeout).is_some_and(|d| d <= now))
    }
}
