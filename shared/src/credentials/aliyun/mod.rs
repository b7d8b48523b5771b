//! Alibaba Cloud: the provider adapter (ApsaraVideo Live URLs, RTC tokens, the new IM) over
//! the signers of [`sign`].

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

/// An RTC or IM app; its key only where the function signs with it.
#[derive(Clone)]
pub(crate) struct AliyunApp {
    pub(crate) app_id: String,
    pub(crate) app_key: Option<Secret>,
}

impl AliyunApp {
    /// Whether the RTC app's key is read: room credentials, of any vendor or of Alibaba's.
    pub(crate) fn rtc_key_read(reads: &SecretGroups) -> bool {
        reads.rtc_room || reads.rtc_room_aliyun
    }
}

#[derive(Clone)]
pub(crate) struct AliyunLive {
    pub(crate) push_domain: String,
    pub(crate) pull_domain: String,
    /// `None` where no push URL is signed ([`SecretGroups::live_push`] off).
    pub(crate) push_key: Option<Secret>,
    pub(crate) pull_key: PullKey,
    pub(crate) app_name: String,
    /// `ALIYUN_LIVE_PLAYBACK_DOMAIN`: the domain recordings are played from (its URLs signed
    /// with the pull key, auth type A); unset: no playback URL (issue 26).
    pub(crate) playback_domain: Option<String>,
}

#[derive(Clone)]
pub(crate) struct AliyunIm {
    pub(crate) app: AliyunApp,
    pub(crate) app_sign: String,
}

#[derive(Clone)]
pub(crate) struct Aliyun {
    pub(crate) live: Option<AliyunLive>,
    pub(crate) rtc: Option<AliyunApp>,
    pub(crate) im: Option<AliyunIm>,
}

/// A new-IM token's nonce: `AK-` and 32 random letters. It ends with a letter, so the
/// timestamp that follows it in the signed string (digits) cannot take any of it: nobody can
/// move the nonce's end into the expiry and stretch it.
fn nonce() -> String {
    let mut nonce = String::with_capacity(35);
    nonce.push_str("AK-");
    for byte in uuid::Uuid::new_v4().into_bytes() {
        nonce.push(char::from(b'a' + (byte >> 4)));
        nonce.push(char::from(b'a' + (byte & 0x0f)));
    }
    nonce
}

impl Provider for Aliyun {
    fn name(&self) -> &'static str {
        "aliyun"
    }

    fn restricted(&self, reads: &SecretGroups) -> Arc<dyn Provider> {
        let mut it = self.clone();
        if let Some(live) = it.live.as_mut() {
            live.push_key = held(&live.push_key, reads.live_push);
            live.pull_key = live.pull_key.restricted(reads.live_pull);
        }
        if let Some(rtc) = it.rtc.as_mut() {
            rtc.app_key = held(&rtc.app_key, AliyunApp::rtc_key_read(reads));
        }
        if let Some(im) = it.im.as_mut() {
            im.app.app_key = held(&im.app.app_key, reads.im_token);
        }
        Arc::new(it)
    }

    fn push_urls(&self, stream: &str, expires_at: i64) -> Option<PushUrlInfo> {
        let live = self.live.as_ref()?;
        let push_key = live.push_key.as_ref()?;
        let rand = uuid::Uuid::new_v4().simple().to_string();
        let auth = sign::UrlAuth {
            key: text(push_key),
            exp: expires_at,
            rand: &rand,
        };
        let [rtmp_url, rts_url, srt_url] =
            sign::push_urls(&live.push_domain, &live.app_name, stream, auth);
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
        if file.vendor != crate::domain::recording::RecordingVendor::Alibaba {
            return None;
        }
        let live = self.live.as_ref()?;
        let domain = live.playback_domain.as_ref()?;
        let pull_key = live.pull_key.for_urls()?;
        let path = format!("/{}", file.location.trim_start_matches('/'));
        Some(match pull_key {
            None => format!("https://{domain}{path}"),
            Some(key) => {
                let rand = uuid::Uuid::new_v4().simple().to_string();
                let auth = sign::auth_key(&path, expires_at, &rand, "0", text(key));
                format!("https://{domain}{path}?auth_key={auth}")
            }
        })
    }

    fn pull_urls(&self, stream: &str, expires_at: i64) -> Option<PullUrlInfo> {
        let live = self.live.as_ref()?;
        let pull_key = live.pull_key.for_urls()?;
        let rand = uuid::Uuid::new_v4().simple().to_string();
        let auth = pull_key.map(|key| sign::UrlAuth {
            key: text(key),
            exp: expires_at,
            rand: &rand,
        });
        let [rtmp_url, flv_url, hls_url, rts_url] =
            sign::pull_urls(&live.pull_domain, &live.app_name, stream, auth);
        Some(PullUrlInfo {
            rtmp_url,
            flv_url,
            hls_url,
            rts_url,
        })
    }

    fn rtc(&self, req: &RtcRequest<'_>) -> Option<RtcCredentials> {
        let app = self.rtc.as_ref()?;
        let app_key = app.app_key.as_ref()?;
        // An Alibaba RTC token carries no privileges: whoever holds one may publish. So only
        // publishers get one.
        if req.grant != Grant::Publish {
            return None;
        }
        // The nonce-less form (Alibaba recommends an empty nonce; AUI's `artc://` URLs carry
        // none): the user id, prefix-free, is the last field before the expiry's digits.
        let nonce = "";
        let timestamp = req.now + req.ttl;
        let channel = req.channel;
        let user = sign::vendor_user_id(req.user.as_str());
        let token = sign::rtc_token(&app.app_id, text(app_key), channel, &user, nonce, timestamp);
        Some(RtcCredentials {
            push_url: Some(sign::rtc_url(
                "push",
                channel,
                &app.app_id,
                &user,
                timestamp,
                &token,
            )),
            pull_url: Some(sign::rtc_url(
                "play",
                channel,
                &app.app_id,
                &user,
                timestamp,
                &token,
            )),
            fields: json!({
                "app_id": app.app_id,
                "channel_id": channel,
                "user_id": user,
                "nonce": nonce,
                "timestamp": timestamp,
                "token": token,
                "gslb": ["https://gw.rtn.aliyuncs.com"],
            }),
        })
    }

    fn rtc_user(&self, user: &UserId, _now: i64, _ttl: i64) -> Option<Value> {
        let app = self.rtc.as_ref()?;
        Some(json!({
            "provider": "aliyun",
            "app_id": app.app_id,
            "user_id": sign::vendor_user_id(user.as_str()),
        }))
    }

    fn im(&self, user: &UserId, now: i64, ttl: i64) -> Option<Value> {
        let im = self.im.as_ref()?;
        let app_key = im.app.app_key.as_ref()?;
        let nonce = nonce();
        let timestamp = now + ttl;
        let role = "";
        let user = sign::vendor_user_id(user.as_str());
        let app_token = sign::im_token(
            &im.app.app_id,
            text(app_key),
            &user,
            &nonce,
            timestamp,
            role,
        );
        Some(json!({
            "provider": "aliyun",
            "app_id": im.app.app_id,
            "app_sign": im.app_sign,
            "app_token": app_token,
            "auth": { "user_id": user, "nonce": nonce, "timestamp": timestamp, "role": role },
            "expire": expiry(now, ttl),
        }))
    }
}
