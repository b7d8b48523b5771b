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
}

/// At most this many files are kept per room.
pub const MAX_FILES: usize = 200;

/// At most this many bytes of files are kept per room (each file as [`RecordedFile::weight`]
/// counts it): the room item, which holds the recording, stays far below DynamoDB's 400 KB
/// item limit whatever the vendor's paths (a DynamoDB update is sized with the item's old and
/// new values together), so a room's writes never fail for its recording's size. About 500
/// files of Alibaba's usual paths, 60 of the longest a callback may send.
pub const MAX_FILES_BYTES: usize = 64 * 1024;

impl RecordedFile {
    /// What names the file: its id, or (Alibaba) its location.
    pub fn name(&self) -> &str {
        if self.id.is_empty() {
            &self.location
        } else {
            &self.id
        }
    }

    /// An upper bound of the bytes the file takes in the room item: its texts and what its
    /// field names and numbers take in the item's JSON.
    pub fn weight(&self) -> usize {
        const FIXED: usize = 192;
        self.id.len() + self.location.len() + self.format.len() + FIXED
    }
}

impl Recording {
    /// A recording awaited: preparing, no file.
    pub fn awaited() -> Self {
        Self::default()
    }

    /// The vendor's id of the recording: that of its first file (empty before one arrived).
    pub fn vod_id(&self) -> &str {
        self.files
            .first()
            .map(RecordedFile::name)
            .unwrap_or_default()
    }

    /// Whether `file` is no longer kept: the recording holds [`MAX_FILES`] files, or
    /// [`MAX_FILES_BYTES`] with it.
    pub fn is_full_for(&self, file: &RecordedFile) -> bool {
        let bytes: usize = self.files.iter().map(RecordedFile::weight).sum();
        self.files.len() >= MAX_FILES || bytes + file.weight() > MAX_FILES_BYTES
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
    /// (or is full: [`Recording::is_full_for`]).
    pub fn with_file(&self, file: RecordedFile) -> Option<Self> {
        if self
            .files
            .iter()
            .any(|f| f.vendor == file.vendor && f.id == file.id && f.location == file.location)
            || self.is_full_for(&file)
        {
            return None;
        }
        let mut next = self.clone();
        let at = next
            .files
            .partition_point(|f| (f.started_at, f.name()) <= (file.started_at, file.name()));
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
