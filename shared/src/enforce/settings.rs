//! The enforcement settings read from the environment: the names of the configured providers
//! every function knows, and (only in a function of [`SecretGroups::enforcement`]) the
//! vendors' API bases and their optional API credentials.
//!
//! Never here: a call (the parent module and the vendors' files).

use super::{Enforcers, LiveNames, RtcNames};
use crate::env::{ConfigError, Secret, SecretGroups};

/// An API credential pair: a public id and its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub secret: Secret,
}

/// The vendors' API bases (scheme, host and port; no trailing `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBases {
    /// `ALIYUN_LIVE_API_BASE` (default `https://live.aliyuncs.com`): `ForbidLiveStream`.
    pub aliyun_live: String,
    /// `ALIYUN_RTC_API_BASE` (default `https://live.aliyuncs.com`, where the live console's
    /// ARTC apps are managed): `RemoveTerminals`.
    pub aliyun_rtc: String,
    /// `TENCENT_LIVE_API_BASE` (default `https://live.tencentcloudapi.com`): `DropLiveStream`.
    pub tencent_live: String,
    /// `TENCENT_TRTC_API_BASE` (default `https://trtc.tencentcloudapi.com`).
    pub tencent_trtc: String,
    /// `TENCENT_TRTC_REGION` (default `ap-guangzhou`): TRTC's `X-TC-Region`, required there.
    pub tencent_trtc_region: String,
    /// `LIVEKIT_URL` as the server SDKs call its Twirp API (`wss://` as `https://`, `ws://`
    /// as `http://`); empty unless LiveKit serves RTC.
    pub livekit: String,
}

impl Default for ApiBases {
    fn default() -> Self {
        Self {
            aliyun_live: "https://live.aliyuncs.com".to_owned(),
            aliyun_rtc: "https://live.aliyuncs.com".to_owned(),
            tencent_live: "https://live.tencentcloudapi.com".to_owned(),
            tencent_trtc: "https://trtc.tencentcloudapi.com".to_owned(),
            tencent_trtc_region: "ap-guangzhou".to_owned(),
            livekit: String::new(),
        }
    }
}

impl Enforcers {
    /// Reads the providers' public names (`LIVE_PROVIDER`, `RTC_PROVIDER` and the domains,
    /// app name and ids they use; none with `VENDOR_ENFORCEMENT=off`), whether the server
    /// starts LiveKit's egress (`RTC_PROVIDER=livekit` and `RECORDING=on`, whatever
    /// `VENDOR_ENFORCEMENT` says), and where `reads.enforcement` the API bases and the
    /// credential pairs (each optional; half a pair is refused).
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
        reads: &SecretGroups,
    ) -> Result<Self, ConfigError> {
        use crate::credentials::{Settings, Vendor as Chosen, vendor};
        let s = Settings(lookup);
        let live = match vendor(lookup, "LIVE_PROVIDER")? {
            Chosen::Aliyun => Some(LiveNames::Aliyun {
                domain: s.domain("ALIYUN_LIVE_PUSH_DOMAIN")?,
                app: match lookup("ALIYUN_LIVE_APP_NAME") {
                    Some(_) => s.id("ALIYUN_LIVE_APP_NAME")?,
                    None => "live".to_owned(),
                },
            }),
            Chosen::Tencent => Some(LiveNames::Tencent {
                domain: s.domain("TENCENT_LIVE_PUSH_DOMAIN")?,
            }),
            Chosen::Livekit | Chosen::None => None,
        };
        let rtc_vendor = vendor(lookup, "RTC_PROVIDER")?;
        let rtc = match rtc_vendor {
            Chosen::Aliyun => Some(RtcNames::Aliyun {
                app_id: s.id("ALIYUN_RTC_APP_ID")?,
            }),
            Chosen::Tencent => Some(RtcNames::Tencent {
                sdkappid: s.sdkappid()?,
            }),
            Chosen::Livekit => Some(RtcNames::Livekit),
            Chosen::None => None,
        };
        // `VENDOR_ENFORCEMENT=off`: no call is decided, so none is written (nothing costs more).
        let (live, rtc) = match lookup("VENDOR_ENFORCEMENT").as_deref().map(str::trim) {
            None | Some("" | "on") => (live, rtc),
            Some("off") => (None, None),
            Some(_) => {
                return Err(ConfigError::new("VENDOR_ENFORCEMENT", "must be on or off"));
            }
        };
        // The egress follows RECORDING alone (`Config` checks its value).
        let recording = lookup("RECORDING").is_some_and(|v| v.trim() == "on");
        let mut it = Self {
            live,
            rtc,
            egress: rtc_vendor == Chosen::Livekit && recording,
            ..Self::default()
        };
        if !reads.enforcement {
            return Ok(it);
        }
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let base = |variable: &'static str, default: &str| match set(variable) {
            Some(v) => api_base(variable, &v),
            None => Ok(default.to_owned()),
        };
        let defaults = ApiBases::default();
        it.bases = ApiBases {
            aliyun_live: base("ALIYUN_LIVE_API_BASE", &defaults.aliyun_live)?,
            aliyun_rtc: base("ALIYUN_RTC_API_BASE", &defaults.aliyun_rtc)?,
            tencent_live: base("TENCENT_LIVE_API_BASE", &defaults.tencent_live)?,
            tencent_trtc: base("TENCENT_TRTC_API_BASE", &defaults.tencent_trtc)?,
            tencent_trtc_region: match set("TENCENT_TRTC_REGION") {
                Some(_) => s.id("TENCENT_TRTC_REGION")?,
                None => defaults.tencent_trtc_region,
            },
            livekit: String::new(),
        };
        let pair = |id: &'static str, secret: &'static str| -> Result<_, ConfigError> {
            match (set(id), set(secret)) {
                (None, None) => Ok(None),
                (Some(_), Some(v)) => Ok(Some(ApiKey {
                    id: s.id(id)?,
                    secret: Secret::parse_min(secret, v.trim(), 16)?,
                })),
                (Some(_), None) => Err(ConfigError::new(
                    secret,
                    format!("is required when {id} is set (or unset both)"),
                )),
                (None, Some(_)) => Err(ConfigError::new(
                    id,
                    format!("is required when {secret} is set (or unset both)"),
                )),
            }
        };
        it.aliyun = pair("ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET")?;
        it.tencent = pair("TENCENT_API_SECRET_ID", "TENCENT_API_SECRET_KEY")?;
        // LiveKit's key is the one its tokens are signed with; its secret is optional here.
        if it.rtc == Some(RtcNames::Livekit) || it.egress {
            it.bases.livekit = livekit_api_base(&s.text("LIVEKIT_URL")?)?;
            if let Some(v) = set("LIVEKIT_API_SECRET") {
                it.livekit = Some(ApiKey {
                    id: s.id("LIVEKIT_API_KEY")?,
                    secret: Secret::parse("LIVEKIT_API_SECRET", v.trim())?,
                });
            }
        }
        Ok(it)
    }
}

/// `LIVEKIT_URL` as the server SDKs call its API: `wss://` as `https://`, `ws://` as `http://`.
fn livekit_api_base(url: &str) -> Result<String, ConfigError> {
    let url = url.trim().trim_end_matches('/');
    let base = if let Some(rest) = url.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = url.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        url.to_owned()
    };
    api_base("LIVEKIT_URL", &base)
}

/// An API base: `https://host[:port]`, or `http://` to a loopback host (a local stand-in);
/// no path, query or user info (a signature covers the path, `/`).
fn api_base(variable: &'static str, value: &str) -> Result<String, ConfigError> {
    let value = value.trim().trim_end_matches('/');
    let bad = || {
        ConfigError::new(
            variable,
            "must be https://host[:port] (http:// only to a loopback host), without a path",
        )
    };
    let (https, rest) = match (
        value.strip_prefix("https://"),
        value.strip_prefix("http://"),
    ) {
        (Some(rest), _) => (true, rest),
        (None, Some(rest)) => (false, rest),
        (None, None) => return Err(bad()),
    };
    let authority_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !authority_ok || !(https || crate::env::is_loopback(rest)) {
        return Err(bad());
    }
    Ok(value.to_owned())
}
