//! Tencent Cloud: the provider adapter (CSS URLs, TRTC and IM UserSigs) over the signers of
//! [`sign`].

use std::sync::Arc;

use serde_json::{Value, json};

use super::{
    Grant, Provider, PullKey, PullUrlInfo, PushUrlInfo, RtcCredentials, RtcRequest, expiry, held,
    text,
};
use crate::domain::UserId;
use crate::env::Secret;
use crate::env::SecretGroups;

mod sign;
pub use sign::*;

/// The app shared by TRTC and IM. Its one key (`TENCENT_SECRET_KEY`) is held once per purpose
/// the function signs for, and only then.
#[derive(Clone)]
pub(crate) struct TencentApp {
    pub(crate) sdkappid: u32,
    /// Room credentials (Tencent serving RTC; [`SecretGroups::rtc_room`]).
    pub(crate) room_key: Option<Secret>,
    /// A user's UserSig for TRTC and IM login ([`SecretGroups::user_sig`]).
    pub(crate) user_key: Option<Secret>,
    /// The IM administrator's UserSig (Tencent serving IM; [`SecretGroups::im_admin`]).
    pub(crate) admin_key: Option<Secret>,
    /// `TENCENT_IM_ADMIN`: the IM app's administrator, whom the server calls the REST API as.
    /// Nobody else is ever signed a UserSig for it (a TRTC UserSig is an IM one too).
    pub(crate) admin: UserId,
}

#[derive(Clone)]
pub(crate) struct TencentLive {
    pub(crate) push_domain: String,
    pub(crate) pull_domain: String,
    /// `None` where no push URL is signed ([`SecretGroups::live_push`] off).
    pub(crate) push_key: Option<Secret>,
    pub(crate) pull_key: PullKey,
    /// `TENCENT_VOD_PLAY_KEY`: the VOD Key hotlink protection key recordings are played with;
    /// unset: their URLs unsigned (issue 26).
    pub(crate) vod_key: PullKey,
    /// `TENCENT_VOD_PLAY_DOMAIN`: the VOD domain recordings are played from (a file's location
    /// is its path there); unset: no playback URL.
    pub(crate) vod_domain: Option<String>,
}

#[derive(Clone)]
pub(crate) struct Tencent {
    pub(crate) live: Option<TencentLive>,
    /// Shared by TRTC and IM: one SDKAppID and key for both (seed 001).
    pub(crate) app: Option<TencentApp>,
}

impl Tencent {
    /// The app, unless `user` is its administrator: every UserSig is signed through here.
    fn app_for(&self, user: &UserId) -> Option<&TencentApp> {
        self.app
            .as_ref()
            .filter(|app| !app.admin.as_str().eq_ignore_ascii_case(user.as_str()))
    }

    /// A user's UserSig for TRTC and IM login.
    fn user_sig(&self, user: &UserId, now: i64, ttl: i64) -> Option<(u32, String)> {
        let app = self.app_for(user)?;
        Self::sig(app, app.user_key.as_ref()?, user, now, ttl)
    }

    fn sig(
        app: &TencentApp,
        key: &Secret,
        user: &UserId,
        now: i64,
        ttl: i64,
    ) -> Option<(u32, String)> {
        Some((
            app.sdkappid,
            sign::user_sig(app.sdkappid, key.expose(), user.as_str(), now, ttl, None),
        ))
    }
}

impl Provider for Tencent {
    fn name(&self) -> &'static str {
        "tencent"
    }

    fn im_groups(&self) -> Option<(u32, &Secret, &UserId)> {
        let app = self.app.as_ref()?;
        Some((app.sdkappid, app.admin_key.as_ref()?, &app.admin))
    }

    fn keeps_groups(&self) -> bool {
        self.app.is_some()
    }

    fn restricted(&self, reads: &SecretGroups) -> Arc<dyn Provider> {
        let mut it = self.clone();
        if let Some(live) = it.live.as_mut() {
            live.push_key = held(&live.push_key, reads.live_push);
            live.pull_key = live.pull_key.restricted(reads.live_pull);
            live.vod_key = live.vod_key.restricted(reads.live_pull);
        }
        if let Some(app) = it.app.as_mut() {
            app.room_key = held(&app.room_key, reads.rtc_room);
            app.user_key = held(&app.user_key, reads.user_sig);
            app.admin_key = held(&app.admin_key, reads.im_admin);
        }
        Arc::new(it)
    }

    fn push_urls(&self, stream: &str, expires_at: i64) -> Option<PushUrlInfo> {
        let live = self.live.as_ref()?;
        let push_key = live.push_key.as_ref()?;
        let [rtmp_url, rts_url, srt_url] =
            sign::push_urls(&live.push_domain, stream, text(push_key), expires_at);
        Some(PushUrlInfo {
            rtmp_url,
            rts_url,
            srt_url,
        })
    }

    fn playback_url(
        &self,
        file: &crate::domain::recording::RecordedFile,
        expires_at: i64,
    ) -> Option<String> {
        if file.vendor != crate::domain::recording::RecordingVendor::Tencent {
            return None;
        }
        let live = self.live.as_ref()?;
        let key = live.vod_key.for_urls()?;
        // The file's path on the VOD domain (the callback kept nothing else).
        let path = file.location.strip_prefix('/')?;
        let url = format!("https://{}/{path}", live.vod_domain.as_ref()?);
        let Some(key) = key else {
            return Some(url);
        };
        let us = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
        sign::vod_play_url(&url, text(key), expires_at, &us)
    }

    fn pull_urls(&self, stream: &str, expires_at: i64) -> Option<PullUrlInfo> {
        let live = self.live.as_ref()?;
        let pull_key = live.pull_key.for_urls()?;
        let [rtmp_url, flv_url, hls_url, rts_url] =
            sign::pull_urls(&live.pull_domain, stream, pull_key.map(text), expires_at);
        Some(PullUrlInfo {
            rtmp_url,
            flv_url,
            hls_url,
            rts_url,
        })
    }

    fn rtc(&self, req: &RtcRequest<'_>) -> Option<RtcCredentials> {
        let app = self.app_for(req.user)?;
        let key = app.room_key.as_ref()?;
        let (sdkappid, user_sig) = Self::sig(app, key, req.user, req.now, req.ttl)?;
        let privileges = match req.grant {
            Grant::Publish => sign::privilege::PUBLISHER,
            Grant::Subscribe => sign::privilege::SUBSCRIBER,
        };
        let room = req.channel;
        let key = sign::private_map_key(
            sdkappid,
            key.expose(),
            req.user.as_str(),
            sign::RoomRef::String(room),
            privileges,
            req.now,
            req.ttl,
        );
        let user = req.user.as_str();
        Some(RtcCredentials {
            push_url: (req.grant == Grant::Publish)
                .then(|| sign::trtc_url("push", room, sdkappid, user, &user_sig)),
            pull_url: Some(sign::trtc_url("play", room, sdkappid, user, &user_sig)),
            fields: json!({
                "sdk_app_id": sdkappid,
                "user_id": user,
                "user_sig": user_sig,
                "str_room_id": room,
                "private_map_key": key,
                "privilege_map": privileges,
            }),
        })
    }

    fn rtc_user(&self, user: &UserId, now: i64, ttl: i64) -> Option<Value> {
        let (sdkappid, user_sig) = self.user_sig(user, now, ttl)?;
        Some(json!({
            "provider": "tencent",
            "sdk_app_id": sdkappid,
            "user_id": user,
            "user_sig": user_sig,
            "expire": expiry(now, ttl),
        }))
    }

    fn im(&self, user: &UserId, now: i64, ttl: i64) -> Option<Value> {
        self.rtc_user(user, now, ttl)
    }

    fn tencent_user_sig(&self, user: &UserId, now: i64, ttl: i64) -> Option<(u32, String)> {
        self.user_sig(user, now, ttl)
    }
}
