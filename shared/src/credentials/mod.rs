//! Credentials (SPEC §4): vendor providers behind one trait, and the grants the server decides.
//!
//! Three roles can each be served by a different vendor, chosen by configuration:
//! `LIVE_PROVIDER` (CDN push/pull URLs), `RTC_PROVIDER` (room credentials), `IM_PROVIDER`
//! (messaging credentials); `none` for any of them means the field is absent, never faked.
//! The [`Grant`] is decided here and only here: publishers (the anchor; co-hosts once the room
//! has them) may publish, everyone else may only subscribe, and an ended room gets nothing.
//! Nothing in this module is stored: URLs and credentials are computed on every read.
//!
//! Layout: one folder per vendor ([`aliyun`], [`tencent`], [`livekit`]), each its provider
//! adapter (`mod.rs`) over its pure signers (`sign.rs`, which also hold the vendor's callback
//! and webhook signatures); the settings parser on its own (`settings.rs`: which vendor serves
//! each role, each vendor's variables, the callbacks' keys). Vendors are told apart by type,
//! never by comparing their names.

pub mod aliyun;
pub mod livekit;
mod settings;
pub use settings::{CallbackKeys, callback_keys};
pub(crate) use settings::{Settings, Vendor, vendor};
pub(crate) use settings::{im_keeps_groups, reserved_name};
pub mod tencent;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::domain::room::Room;
use crate::domain::{RoomId, RoomStatus, UserId};
use crate::env::Secret;

/// Seed 002 `models.PushLiveInfo`.
#[derive(Debug, Default, Serialize)]
pub struct PushUrlInfo {
    pub rtmp_url: String,
    pub rts_url: String,
    pub srt_url: String,
}

/// Seed 002 `live.PullLiveInfo`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PullUrlInfo {
    pub rtmp_url: String,
    pub flv_url: String,
    pub hls_url: String,
    pub rts_url: String,
}

/// What a user may do in a room's RTC session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grant {
    Publish,
    Subscribe,
}

impl Grant {
    /// The server's decision: `None` for an ended room, publish for its publishers (unless
    /// the anchor muted them), subscribe for everyone else.
    pub fn decide(room: &Room, user: &UserId) -> Option<Grant> {
        match room.status {
            RoomStatus::Ended => None,
            _ if room.is_publisher(user) && !room.is_muted(user) => Some(Grant::Publish),
            _ => Some(Grant::Subscribe),
        }
    }
}

/// A request for room credentials.
#[derive(Debug, Clone, Copy)]
pub struct RtcRequest<'a> {
    pub room: &'a RoomId,
    /// The RTC channel the credentials are for: the room id, or the channel id a seed 000
    /// client chose (its room's id is derived from it).
    pub channel: &'a str,
    pub user: &'a UserId,
    /// The anchor, whose stream a pull URL points at.
    pub anchor: &'a UserId,
    pub grant: Grant,
    pub now: i64,
    pub ttl: i64,
}

/// Room credentials from one provider.
#[derive(Debug, Clone)]
pub struct RtcCredentials {
    /// The provider's own fields (tokens, app ids...).
    pub fields: Value,
    /// An RTC publish URL; only ever present for [`Grant::Publish`].
    pub push_url: Option<String>,
    /// An RTC play URL of the anchor's stream.
    pub pull_url: Option<String>,
}

/// One vendor. Every capability defaults to "not offered".
pub trait Provider: Send + Sync {
    fn name(&self) -> &'static str;

    /// Whether a vendor serves the role (only [`NoProvider`] does not).
    fn is_configured(&self) -> bool {
        true
    }

    /// CDN push URLs for `stream`, valid until `expires_at`.
    fn push_urls(&self, _stream: &str, _expires_at: i64) -> Option<PushUrlInfo> {
        None
    }

    /// CDN pull URLs for `stream`, valid until `expires_at`.
    fn pull_urls(&self, _stream: &str, _expires_at: i64) -> Option<PullUrlInfo> {
        None
    }

    /// A recorded file's playback URL, valid until `expires_at` (issue 26); `None` where this
    /// provider does not sign the vendor's files.
    fn playback_url(
        &self,
        _file: &crate::domain::recording::RecordedFile,
        _expires_at: i64,
    ) -> Option<String> {
        None
    }

    /// Room credentials. `None` if the provider cannot limit credentials to `req.grant`.
    fn rtc(&self, _req: &RtcRequest<'_>) -> Option<RtcCredentials> {
        None
    }

    /// RTC credentials not tied to a room (a Tencent UserSig), or the provider's public
    /// parameters, for the `token` endpoint.
    fn rtc_user(&self, _user: &UserId, _now: i64, _ttl: i64) -> Option<Value> {
        None
    }

    /// Messaging credentials for `user`.
    fn im(&self, _user: &UserId, _now: i64, _ttl: i64) -> Option<Value> {
        None
    }

    /// A Tencent UserSig for `user` and the SDK app id it is for (seed 004's `sdkUserSig`),
    /// from a provider that signs them.
    fn tencent_user_sig(&self, _user: &UserId, _now: i64, _ttl: i64) -> Option<(u32, String)> {
        None
    }

    /// For an IM whose app server keeps a group per room (Tencent IM): the app id, the key
    /// its administrator's UserSig is signed with, and the administrator (where the function
    /// reads that key: [`crate::env::SecretGroups::im_admin`]).
    fn im_groups(&self) -> Option<(u32, &Secret, &UserId)> {
        None
    }

    /// Whether, as the IM provider, it keeps a group per room (Tencent IM); no key needed.
    fn keeps_groups(&self) -> bool {
        false
    }

    /// This provider holding only the keys of the purposes `reads` names.
    fn restricted(&self, reads: &crate::env::SecretGroups) -> Arc<dyn Provider>;
}

/// A CDN pull key as a function holds it.
#[derive(Clone)]
pub(crate) enum PullKey {
    /// The function signs no pull URL ([`crate::env::SecretGroups::live_pull`] off): it builds none.
    NotRead,
    /// No key is configured: pull URLs are unsigned.
    Unsigned,
    Key(Secret),
}

impl PullKey {
    /// `None` where no pull URL may be built; `Some(None)` for unsigned ones.
    pub(crate) fn for_urls(&self) -> Option<Option<&Secret>> {
        match self {
            Self::NotRead => None,
            Self::Unsigned => Some(None),
            Self::Key(key) => Some(Some(key)),
        }
    }

    pub(crate) fn restricted(&self, read: bool) -> Self {
        if read { self.clone() } else { Self::NotRead }
    }
}

/// A key kept only where `read`.
pub(crate) fn held(key: &Option<Secret>, read: bool) -> Option<Secret> {
    key.clone().filter(|_| read)
}

/// The `none` provider: offers nothing.
pub struct NoProvider;

impl Provider for NoProvider {
    fn name(&self) -> &'static str {
        "none"
    }

    fn is_configured(&self) -> bool {
        false
    }

    fn restricted(&self, _reads: &crate::env::SecretGroups) -> Arc<dyn Provider> {
        Arc::new(NoProvider)
    }
}

/// The configured provider of each role and the credential lifetime.
#[derive(Clone)]
pub struct Providers {
    pub live: Arc<dyn Provider>,
    pub rtc: Arc<dyn Provider>,
    pub im: Arc<dyn Provider>,
    /// `CREDENTIAL_TTL_SECONDS` (default 86400).
    pub ttl: Duration,
    /// `PLAY_URL_TTL_SECONDS` (default 3600): a recording's playback URL is valid this long
    /// (at most as long as the credentials, issue 26).
    pub play_ttl: Duration,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Providers")
            .field("live", &self.live.name())
            .field("rtc", &self.rtc.name())
            .field("im", &self.im.name())
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl Default for Providers {
    fn default() -> Self {
        Self {
            live: Arc::new(NoProvider),
            rtc: Arc::new(NoProvider),
            im: Arc::new(NoProvider),
            ttl: Duration::from_secs(86_400),
            play_ttl: Duration::from_secs(3600),
        }
    }
}

impl Providers {
    /// These providers holding only the keys of the purposes `reads` names.
    pub fn restricted(&self, reads: &crate::env::SecretGroups) -> Self {
        Self {
            live: self.live.restricted(reads),
            rtc: self.rtc.restricted(reads),
            im: self.im.restricted(reads),
            ttl: self.ttl,
            play_ttl: self.play_ttl,
        }
    }

    pub(crate) fn ttl_secs(&self) -> i64 {
        i64::try_from(self.ttl.as_secs()).unwrap_or(86_400)
    }

    /// These providers for a caller whose proof holds until `until` (unix seconds; `None`: a
    /// caller no answer reaches), at `now`: whatever they sign expires by then at the latest,
    /// so no credential or URL outlives the access token that asked for it.
    pub fn until(&self, until: Option<i64>, now: i64) -> Self {
        let left = u64::try_from(until.map_or(0, |t| t.saturating_sub(now))).unwrap_or(0);
        Self {
            ttl: self.ttl.min(Duration::from_secs(left)),
            ..self.clone()
        }
    }

    /// Room credentials for `user`, or why there are none. A 1v1 call's credentials come only
    /// from [`Self::call_credentials`] (seed 000's `/app/token`), which bounds them by the
    /// caller's seat: every other answer carries none for a call.
    pub fn room_credentials(&self, room: &Room, user: &UserId, now: i64) -> RoomCredentials {
        if room.id.is_channel() {
            return match Grant::decide(room, user) {
                None => RoomCredentials::Ended,
                Some(grant) => RoomCredentials::Unavailable(grant),
            };
        }
        self.channel_credentials(room, room.id.as_str(), user, now, self.ttl_secs())
    }

    /// The credentials of a seated participant of a call for RTC channel `channel` (the seed
    /// 000 client's own name of the call's channel), valid for `ttl` seconds from `now`: the
    /// caller passes the seat's lease, so that no credential for a seat outlives its holder's
    /// hold on it (a seat is given to someone else only once its lease has passed).
    pub fn call_credentials(
        &self,
        room: &Room,
        channel: &str,
        user: &UserId,
        now: i64,
        ttl: i64,
    ) -> RoomCredentials {
        self.channel_credentials(room, channel, user, now, ttl.min(self.ttl_secs()))
    }

    fn channel_credentials(
        &self,
        room: &Room,
        channel: &str,
        user: &UserId,
        now: i64,
        ttl: i64,
    ) -> RoomCredentials {
        let Some(grant) = Grant::decide(room, user) else {
            return RoomCredentials::Ended;
        };
        if !self.rtc.is_configured() {
            return RoomCredentials::NoProvider(grant);
        }
        let req = RtcRequest {
            room: &room.id,
            channel,
            user,
            anchor: &room.anchor_id,
            grant,
            now,
            ttl,
        };
        match self.rtc.rtc(&req) {
            Some(c) => RoomCredentials::Issued(grant, c),
            None => RoomCredentials::Unavailable(grant),
        }
    }

    /// The anchor's CDN push URLs (the caller checks that the viewer is the anchor).
    pub fn push_urls(&self, room: &Room, now: i64) -> Option<PushUrlInfo> {
        self.live.push_urls(room.id.as_str(), now + self.ttl_secs())
    }

    pub fn pull_urls(&self, room: &Room, now: i64) -> Option<PullUrlInfo> {
        self.live.pull_urls(room.id.as_str(), now + self.ttl_secs())
    }

    /// A recorded file's playback URL, signed by the live provider (`PLAY_URL_TTL_SECONDS`
    /// capped like every credential's lifetime).
    pub fn playback_url(
        &self,
        file: &crate::domain::recording::RecordedFile,
        now: i64,
    ) -> Option<String> {
        use crate::domain::recording::RecordingVendor;
        let ttl = i64::try_from(self.play_ttl.as_secs())
            .unwrap_or(3600)
            .min(self.ttl_secs());
        if ttl <= 0 {
            return None;
        }
        match file.vendor {
            // Where the egress stored it (its storage decides who reads it): an https URL only.
            RecordingVendor::Livekit => file
                .location
                .starts_with("https://")
                .then(|| file.location.clone()),
            RecordingVendor::Alibaba | RecordingVendor::Tencent => {
                self.live.playback_url(file, now + ttl)
            }
        }
    }

    pub fn rtc_user(&self, user: &UserId, now: i64) -> Option<Value> {
        self.rtc.rtc_user(user, now, self.ttl_secs())
    }

    pub fn im(&self, user: &UserId, now: i64) -> Option<Value> {
        self.im.im(user, now, self.ttl_secs())
    }

    /// A Tencent UserSig for `user` from the IM provider, else from the RTC provider (one
    /// signature serves both: TRTC and IM share the SDK app id).
    pub fn tencent_user_sig(&self, user: &UserId, now: i64) -> Option<(u32, String)> {
        let ttl = self.ttl_secs();
        self.im
            .tencent_user_sig(user, now, ttl)
            .or_else(|| self.rtc.tencent_user_sig(user, now, ttl))
    }
}

/// The outcome of asking for room credentials.
#[derive(Debug)]
pub enum RoomCredentials {
    /// The room has ended: no credentials for anyone.
    Ended,
    /// No RTC provider is configured; the grant is still the server's.
    NoProvider(Grant),
    /// The provider cannot express this grant (Alibaba RTC tokens carry no privileges, so an
    /// audience member gets none and watches through the pull URLs).
    Unavailable(Grant),
    Issued(Grant, RtcCredentials),
}

/// A key as the text the vendors' formulas concatenate (keys are read from the environment,
/// so always UTF-8).
pub(crate) fn text(secret: &Secret) -> &str {
    std::str::from_utf8(secret.expose()).unwrap_or_default()
}

pub(crate) fn expiry(now: i64, ttl: i64) -> String {
    chrono::DateTime::from_timestamp(now + ttl, 0)
        .map(|t| crate::clock::rfc3339(&t))
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "../tests/credentials.rs"]
mod tests;
