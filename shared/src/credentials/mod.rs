//! Credentials (SPEC §4): vendor providers behind one trait, and the grants the server decides.
//!
//! Three roles can each be served by a different vendor, chosen by configuration:
//! `LIVE_PROVIDER` (CDN push/pull URLs), `RTC_PROVIDER` (room credentials), `IM_PROVIDER`
//! (messaging credentials); `none` for any of them means the field is absent, never faked.
//! The [`Grant`] is decided here and only here: publishers (the anchor; co-hosts once the room
//! has them) may publish, everyone else may only subscribe, and an ended room gets nothing.
//! Nothing in this module is stored: URLs and credentials are computed on every read.

pub mod aliyun;
pub mod livekit;
mod settings;
pub use settings::callback_keys;
pub mod tencent;

use settings::{Settings, Vendor, vendor};

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use crate::config::{ConfigError, Secret};
use crate::domain::room::Room;
use crate::domain::{RoomId, RoomStatus, UserId};

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

    /// CDN push URLs for `stream`, valid until `expires_at`.
    fn push_urls(&self, _stream: &str, _expires_at: i64) -> Option<PushUrlInfo> {
        None
    }

    /// CDN pull URLs for `stream`, valid until `expires_at`.
    fn pull_urls(&self, _stream: &str, _expires_at: i64) -> Option<PullUrlInfo> {
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

    /// For an IM whose app server keeps a group per room (Tencent IM): the app id and the key
    /// its administrator's UserSig is signed with.
    fn im_groups(&self) -> Option<(u32, &Secret)> {
        None
    }
}

/// The `none` provider: offers nothing.
pub struct NoProvider;

impl Provider for NoProvider {
    fn name(&self) -> &'static str {
        "none"
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
        }
    }
}

impl Providers {
    /// Reads `LIVE_PROVIDER`, `RTC_PROVIDER`, `IM_PROVIDER`, the settings the chosen vendors
    /// need, and `CREDENTIAL_TTL_SECONDS`.
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let live = vendor(lookup, "LIVE_PROVIDER")?;
        let rtc = vendor(lookup, "RTC_PROVIDER")?;
        let im = vendor(lookup, "IM_PROVIDER")?;
        if live == Vendor::Livekit {
            return Err(ConfigError::new(
                "LIVE_PROVIDER",
                "livekit has no CDN push/pull URLs; use aliyun, tencent or none",
            ));
        }
        if im == Vendor::Livekit {
            return Err(ConfigError::new(
                "IM_PROVIDER",
                "livekit has no IM credentials; use aliyun, tencent or none",
            ));
        }
        let s = Settings(lookup);
        let wants = |v: Vendor| (live == v, rtc == v, im == v);

        let aliyun: Option<Arc<dyn Provider>> = match wants(Vendor::Aliyun) {
            (false, false, false) => None,
            (l, r, i) => Some(Arc::new(Aliyun {
                live: l
                    .then(|| -> Result<_, ConfigError> {
                        Ok(AliyunLive {
                            push_domain: s.domain("ALIYUN_LIVE_PUSH_DOMAIN")?,
                            pull_domain: s.domain("ALIYUN_LIVE_PULL_DOMAIN")?,
                            push_key: s.secret("ALIYUN_LIVE_PUSH_AUTH_KEY")?,
                            pull_key: s.optional_secret("ALIYUN_LIVE_PULL_AUTH_KEY")?,
                            app_name: match lookup("ALIYUN_LIVE_APP_NAME") {
                                Some(_) => s.id("ALIYUN_LIVE_APP_NAME")?,
                                None => "live".to_owned(),
                            },
                        })
                    })
                    .transpose()?,
                rtc: r
                    .then(|| -> Result<_, ConfigError> {
                        Ok(AliyunApp {
                            app_id: s.id("ALIYUN_RTC_APP_ID")?,
                            app_key: s.secret("ALIYUN_RTC_APP_KEY")?,
                        })
                    })
                    .transpose()?,
                im: i
                    .then(|| -> Result<_, ConfigError> {
                        Ok(AliyunIm {
                            app: AliyunApp {
                                app_id: s.id("ALIYUN_IM_APP_ID")?,
                                app_key: s.secret("ALIYUN_IM_APP_KEY")?,
                            },
                            app_sign: s.text("ALIYUN_IM_APP_SIGN")?,
                        })
                    })
                    .transpose()?,
            })),
        };
        let tencent: Option<Arc<dyn Provider>> = match wants(Vendor::Tencent) {
            (false, false, false) => None,
            (l, r, i) => {
                let app = if r || i {
                    let raw = s.text("TENCENT_SDKAPPID")?;
                    let sdkappid = raw.parse::<u32>().map_err(|_| {
                        ConfigError::new(
                            "TENCENT_SDKAPPID",
                            format!("must be a number (got {raw:?})"),
                        )
                    })?;
                    Some(TencentApp {
                        sdkappid,
                        secret: s.secret("TENCENT_SECRET_KEY")?,
                    })
                } else {
                    None
                };
                Some(Arc::new(Tencent {
                    live: l
                        .then(|| -> Result<_, ConfigError> {
                            Ok(TencentLive {
                                push_domain: s.domain("TENCENT_LIVE_PUSH_DOMAIN")?,
                                pull_domain: s.domain("TENCENT_LIVE_PULL_DOMAIN")?,
                                push_key: s.secret("TENCENT_LIVE_PUSH_KEY")?,
                                pull_key: s.optional_secret("TENCENT_LIVE_PULL_KEY")?,
                            })
                        })
                        .transpose()?,
                    app,
                }))
            }
        };
        let livekit: Option<Arc<dyn Provider>> = if rtc == Vendor::Livekit {
            let url = s.text("LIVEKIT_URL")?;
            if !(url.starts_with("wss://")
                || url.starts_with("ws://")
                || url.starts_with("https://")
                || url.starts_with("http://"))
            {
                return Err(ConfigError::new(
                    "LIVEKIT_URL",
                    "must be a ws(s):// or http(s):// URL",
                ));
            }
            Some(Arc::new(Livekit {
                url,
                api_key: s.id("LIVEKIT_API_KEY")?,
                api_secret: Secret::parse("LIVEKIT_API_SECRET", &s.text("LIVEKIT_API_SECRET")?)?,
            }))
        } else {
            None
        };
        let pick = |v: Vendor| -> Arc<dyn Provider> {
            let chosen = match v {
                Vendor::Aliyun => aliyun.clone(),
                Vendor::Tencent => tencent.clone(),
                Vendor::Livekit => livekit.clone(),
                Vendor::None => None,
            };
            chosen.unwrap_or_else(|| Arc::new(NoProvider))
        };
        let ttl =
            crate::config::seconds(lookup, "CREDENTIAL_TTL_SECONDS", 86_400, 60..=7 * 86_400)?;
        Ok(Self {
            live: pick(live),
            rtc: pick(rtc),
            im: pick(im),
            ttl,
        })
    }

    pub(crate) fn ttl_secs(&self) -> i64 {
        i64::try_from(self.ttl.as_secs()).unwrap_or(86_400)
    }

    /// Room credentials for `user`, or why there are none.
    pub fn room_credentials(&self, room: &Room, user: &UserId, now: i64) -> RoomCredentials {
        let Some(grant) = Grant::decide(room, user) else {
            return RoomCredentials::Ended;
        };
        if self.rtc.name() == "none" {
            return RoomCredentials::NoProvider(grant);
        }
        let req = RtcRequest {
            room: &room.id,
            user,
            anchor: &room.anchor_id,
            grant,
            now,
            ttl: self.ttl_secs(),
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

    pub fn rtc_user(&self, user: &UserId, now: i64) -> Option<Value> {
        self.rtc.rtc_user(user, now, self.ttl_secs())
    }

    pub fn im(&self, user: &UserId, now: i64) -> Option<Value> {
        self.im.im(user, now, self.ttl_secs())
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

pub(crate) fn expiry(now: i64, ttl: i64) -> String {
    chrono::DateTime::from_timestamp(now + ttl, 0)
        .map(|t| crate::clock::rfc3339(&t))
        .unwrap_or_default()
}

// ---- Alibaba Cloud ------------------------------------------------------------------------

struct AliyunApp {
    app_id: String,
    app_key: Secret,
}

struct AliyunLive {
    push_domain: String,
    pull_domain: String,
    push_key: Secret,
    pull_key: Option<Secret>,
    app_name: String,
}

struct AliyunIm {
    app: AliyunApp,
    app_sign: String,
}

struct Aliyun {
    live: Option<AliyunLive>,
    rtc: Option<AliyunApp>,
    im: Option<AliyunIm>,
}

fn nonce() -> String {
    format!("AK-{}", uuid::Uuid::new_v4())
}

fn text(secret: &Secret) -> &str {
    std::str::from_utf8(secret.expose()).unwrap_or_default()
}

impl Provider for Aliyun {
    fn name(&self) -> &'static str {
        "aliyun"
    }

    fn push_urls(&self, stream: &str, expires_at: i64) -> Option<PushUrlInfo> {
        let live = self.live.as_ref()?;
        let rand = uuid::Uuid::new_v4().simple().to_string();
        let auth = aliyun::UrlAuth {
            key: text(&live.push_key),
            exp: expires_at,
            rand: &rand,
        };
        let [rtmp_url, rts_url, srt_url] =
            aliyun::push_urls(&live.push_domain, &live.app_name, stream, auth);
        Some(PushUrlInfo {
            rtmp_url,
            rts_url,
            srt_url,
        })
    }

    fn pull_urls(&self, stream: &str, expires_at: i64) -> Option<PullUrlInfo> {
        let live = self.live.as_ref()?;
        let rand = uuid::Uuid::new_v4().simple().to_string();
        let auth = live.pull_key.as_ref().map(|key| aliyun::UrlAuth {
            key: text(key),
            exp: expires_at,
            rand: &rand,
        });
        let [rtmp_url, flv_url, hls_url, rts_url] =
            aliyun::pull_urls(&live.pull_domain, &live.app_name, stream, auth);
        Some(PullUrlInfo {
            rtmp_url,
            flv_url,
            hls_url,
            rts_url,
        })
    }

    fn rtc(&self, req: &RtcRequest<'_>) -> Option<RtcCredentials> {
        let app = self.rtc.as_ref()?;
        // An Alibaba RTC token carries no privileges: whoever holds one may publish. So only
        // publishers get one.
        if req.grant != Grant::Publish {
            return None;
        }
        let nonce = nonce();
        let timestamp = req.now + req.ttl;
        let (channel, user) = (req.room.as_str(), req.user.as_str());
        let token = aliyun::rtc_token(
            &app.app_id,
            text(&app.app_key),
            channel,
            user,
            &nonce,
            timestamp,
        );
        Some(RtcCredentials {
            push_url: Some(aliyun::rtc_url(
                "push",
                channel,
                &app.app_id,
                user,
                timestamp,
                &token,
            )),
            pull_url: Some(aliyun::rtc_url(
                "play",
                channel,
                &app.app_id,
                user,
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
        Some(json!({ "provider": "aliyun", "app_id": app.app_id, "user_id": user }))
    }

    fn im(&self, user: &UserId, now: i64, ttl: i64) -> Option<Value> {
        let im = self.im.as_ref()?;
        let nonce = nonce();
        let timestamp = now + ttl;
        let role = "";
        let app_token = aliyun::im_token(
            &im.app.app_id,
            text(&im.app.app_key),
            user.as_str(),
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

// ---- Tencent Cloud ------------------------------------------------------------------------

struct TencentApp {
    sdkappid: u32,
    secret: Secret,
}

struct TencentLive {
    push_domain: String,
    pull_domain: String,
    push_key: Secret,
    pull_key: Option<Secret>,
}

struct Tencent {
    live: Option<TencentLive>,
    /// Shared by TRTC and IM: one SDKAppID and key for both (seed 001).
    app: Option<TencentApp>,
}

impl Tencent {
    fn user_sig(&self, user: &UserId, now: i64, ttl: i64) -> Option<(u32, String)> {
        let app = self.app.as_ref()?;
        Some((
            app.sdkappid,
            tencent::user_sig(
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

    fn im_groups(&self) -> Option<(u32, &Secret)> {
        self.app.as_ref().map(|a| (a.sdkappid, &a.secret))
    }

    fn push_urls(&self, stream: &str, expires_at: i64) -> Option<PushUrlInfo> {
        let live = self.live.as_ref()?;
        let [rtmp_url, rts_url, srt_url] =
            tencent::push_urls(&live.push_domain, stream, text(&live.push_key), expires_at);
        Some(PushUrlInfo {
            rtmp_url,
            rts_url,
            srt_url,
        })
    }

    fn pull_urls(&self, stream: &str, expires_at: i64) -> Option<PullUrlInfo> {
        let live = self.live.as_ref()?;
        let [rtmp_url, flv_url, hls_url, rts_url] = tencent::pull_urls(
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
        let app = self.app.as_ref()?;
        let (sdkappid, user_sig) = self.user_sig(req.user, req.now, req.ttl)?;
        let privileges = match req.grant {
            Grant::Publish => tencent::privilege::PUBLISHER,
            Grant::Subscribe => tencent::privilege::SUBSCRIBER,
        };
        let room = req.room.as_str();
        let key = tencent::private_map_key(
            sdkappid,
            app.secret.expose(),
            req.user.as_str(),
            tencent::RoomRef::String(room),
            privileges,
            req.now,
            req.ttl,
        );
        let user = req.user.as_str();
        Some(RtcCredentials {
            push_url: (req.grant == Grant::Publish)
                .then(|| tencent::trtc_url("push", room, sdkappid, user, &user_sig)),
            pull_url: Some(tencent::trtc_url("play", room, sdkappid, user, &user_sig)),
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
}

// ---- LiveKit ------------------------------------------------------------------------------

struct Livekit {
    url: String,
    api_key: String,
    api_secret: Secret,
}

impl Provider for Livekit {
    fn name(&self) -> &'static str {
        "livekit"
    }

    fn rtc(&self, req: &RtcRequest<'_>) -> Option<RtcCredentials> {
        let publish = req.grant == Grant::Publish;
        let grant = livekit::VideoGrant {
            room: req.room.to_string(),
            room_join: true,
            can_publish: publish,
            can_subscribe: true,
            can_publish_data: publish,
        };
        let token = livekit::access_token(
            &self.api_key,
            self.api_secret.expose(),
            req.user.as_str(),
            &grant,
            req.now,
            req.ttl,
        )
        .ok()?;
        let url = format!("{}?access_token={token}", self.url);
        Some(RtcCredentials {
            push_url: publish.then(|| url.clone()),
            pull_url: Some(url),
            fields: json!({ "url": self.url, "token": token }),
        })
    }

    fn rtc_user(&self, _user: &UserId, _now: i64, _ttl: i64) -> Option<Value> {
        Some(json!({ "provider": "livekit", "url": self.url }))
    }
}

#[cfg(test)]
#[path = "../tests/credentials.rs"]
mod tests;
