//! A room's recording as kept on the room item (issue 26): whether it is still awaited, ready
//! or failed, and the files the vendor reported, in recording order. Seed 002's `vod_id` and
//! `vod_info` are read from it (`crate::rooms::view`).
//!
//! The rules: a room recorded ([`Recording::awaited`], made at `create` where `RECORDING=on`
//! and the room did not opt out) is `Preparing` until a file arrives, then `Ready` with every
//! file so far (a room paused and started again has several; a file arriving twice is kept
//! once); `Failed` when the vendor reports a failure before any file arrived, or when nothing
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
    /// The vendor's id of the file (Tencent's `file_id`, LiveKit's egress id, Alibaba's
    /// object path); a file reported twice (same id and location) is kept once.
    pub id: String,
    /// Where it is: an object path (Alibaba, LiveKit) or the vendor's unsigned URL (Tencent).
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
}

/// At most this many files are kept per room (a room item stays far below DynamoDB's 400 KB).
pub const MAX_FILES: usize = 200;

impl Recording {
    /// A recording awaited: preparing, no file.
    pub fn awaited() -> Self {
        Self::default()
    }

    /// The vendor's id of the recording: that of its first file (empty before one arrived).
    pub fn vod_id(&self) -> &str {
        self.files
            .first()
            .map(|f| f.id.as_str())
            .unwrap_or_default()
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
    /// (or is full).
    pub fn with_file(&self, file: RecordedFile) -> Option<Self> {
        if self
            .files
            .iter()
            .any(|f| f.vendor == file.vendor && f.id == file.id && f.location == file.location)
            || self.files.len() >= MAX_FILES
        {
            return None;
        }
        let mut next = self.clone();
        let at = next
            .files
            .partition_point(|f| (f.started_at, f.id.as_str()) <= (file.started_at, &file.id));
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
