//! Tencent Cloud: the provider adapter (CSS URLs, TRTC and IM UserSigs) over the signers of
//! [`sign`].

use serde_json::{Value, json};

use super::{Grant, Provider, PullUrlInfo, PushUrlInfo, RtcCredentials, RtcRequest, expiry, text};
use crate::config::Secret;
use crate::domain::UserId;

mod sign;
pub use sign::*;

pub(crate) struct TencentApp {
    pub(crate) sdkappid: u32,
    pub(crate) secret: Secret,
    /// `TENCENT_IM_ADMIN`: the IM app's administrator, whom the server calls the REST API as.
    /// Nobody else is ever signed a UserSig for it (a TRTC UserSig is an IM one too).
    pub(crate) admin: UserId,
}

pub(crate) struct TencentLive {
    pub(crate) push_domain: String,
    pub(crate) pull_domain: String,
    pub(crate) push_key: Secret,
    pub(crate) pull_key: Option<Secret>,
}

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

    fn user_sig(&self, user: &UserId, now: i64, ttl: i64) -> Option<(u32, String)> {
        let app = self.app_for(user)?;
        Some((
            app.sdkappid,
            sign::user_sig(
                app.sdkappid,
                app.secret.expose(),
                user.as_str(),
                now,
                ttl,
                None,
            ),
        ))
    }
}

impl Provider for Tencent {
    fn name(&self) -> &'static str {
        "tencent"
    }

    fn im_groups(&self) -> Option<(u32, &Secret, &UserId)> {
        self.app.as_ref().map(|a| (a.sdkappid, &a.secret, &a.admin))
    }

    fn push_urls(&self, stream: &str, expires_at: i64) -> Option<PushUrlInfo> {
        let live = self.live.as_ref()?;
        let [rtmp_url, rts_url, srt_url] =
            sign::push_urls(&live.push_domain, stream, text(&live.push_key), expires_at);
        Some(PushUrlInfo {
            rtmp_url,
            rts_url,
            srt_url,
        })
    }

    fn pull_urls(&self, stream: &str, expires_at: i64) -> Option<PullUrlInfo> {
        let live = self.live.as_ref()?;
        let [rtmp_url, flv_url, hls_url, rts_url] = sign::pull_urls(
            &live.pull_domain,
            stream,
            live.pull_key.as_ref().map(text),
            expires_at,
        );
        Some(PullUrlInfo {
            rtmp_url,
            flv_url,
            hls_url,
            rts_url,
        })
    }

    fn rtc(&self, req: &RtcRequest<'_>) -> Option<RtcCredentials> {
        let app = self.app_for(req.user)?;
        let (sdkappid, user_sig) = self.user_sig(req.user, req.now, req.ttl)?;
        let privileges = match req.grant {
            Grant::Publish => sign::privilege::PUBLISHER,
            Grant::Subscribe => sign::privilege::SUBSCRIBER,
        };
        let room = req.channel;
        let key = sign::private_map_key(
            sdkappid,
            app.secret.expose(),
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
