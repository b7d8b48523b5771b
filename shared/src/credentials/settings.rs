//! The providers' settings, read from the environment: which vendor serves each role, the
//! values each vendor needs, and the inbound callbacks' keys ([`CallbackKeys`]), each validated
//! once (a missing or bad one names its variable).

use std::sync::Arc;

use super::aliyun::{Aliyun, AliyunApp, AliyunIm, AliyunLive};
use super::livekit::Livekit;
use super::tencent::{Tencent, TencentApp, TencentLive};
use super::{NoProvider, Provider, Providers, PullKey};
use crate::env::{ConfigError, Secret, SecretGroups};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vendor {
    None,
    Aliyun,
    Tencent,
    Livekit,
}

pub(crate) fn vendor(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Vendor, ConfigError> {
    match lookup(variable).as_deref().map(str::trim) {
        None | Some("") | Some("none") => Ok(Vendor::None),
        Some("aliyun") => Ok(Vendor::Aliyun),
        Some("tencent") => Ok(Vendor::Tencent),
        Some("livekit") => Ok(Vendor::Livekit),
        Some(other) => Err(ConfigError::new(
            variable,
            format!("must be aliyun, tencent, livekit or none (got {other:?})"),
        )),
    }
}

/// Reads settings for the providers; each vendor reads only what its roles need.
pub(crate) struct Settings<'a, F: Fn(&str) -> Option<String>>(pub(crate) &'a F);

impl<F: Fn(&str) -> Option<String>> Settings<'_, F> {
    pub(crate) fn text(&self, variable: &'static str) -> Result<String, ConfigError> {
        match (self.0)(variable) {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
            _ => Err(ConfigError::new(
                variable,
                "is required by the configured provider",
            )),
        }
    }

    pub(crate) fn secret(&self, variable: &'static str) -> Result<Secret, ConfigError> {
        let value = self.text(variable)?;
        Secret::parse_min(variable, &value, 6)
    }

    /// A key read only where `read` (a purpose of the function needs it): `None` elsewhere,
    /// without looking the variable up.
    pub(crate) fn secret_if(
        &self,
        read: bool,
        variable: &'static str,
    ) -> Result<Option<Secret>, ConfigError> {
        read.then(|| self.secret(variable)).transpose()
    }

    /// A CDN pull key, read only where `read`: unset means unsigned pull URLs.
    pub(crate) fn pull_key(
        &self,
        read: bool,
        variable: &'static str,
    ) -> Result<PullKey, ConfigError> {
        if !read {
            return Ok(PullKey::NotRead);
        }
        match (self.0)(variable) {
            Some(v) if !v.trim().is_empty() => {
                Secret::parse_min(variable, v.trim(), 6).map(PullKey::Key)
            }
            _ => Ok(PullKey::Unsigned),
        }
    }

    /// A host name (optionally with a port): what a stream URL is built on.
    /// `TENCENT_SDKAPPID`: the Tencent application's number.
    pub(crate) fn sdkappid(&self) -> Result<u32, ConfigError> {
        let raw = self.text("TENCENT_SDKAPPID")?;
        raw.parse::<u32>().map_err(|_| {
            ConfigError::new(
                "TENCENT_SDKAPPID",
                format!("must be a number (got {raw:?})"),
            )
        })
    }

    pub(crate) fn domain(&self, variable: &'static str) -> Result<String, ConfigError> {
        let value = self.text(variable)?;
        let ok = value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
            && !value.starts_with(['.', '-', ':']);
        if ok {
            Ok(value.to_ascii_lowercase())
        } else {
            Err(ConfigError::new(
                variable,
                format!("must be a host name (got {value:?})"),
            ))
        }
    }

    /// An id that goes into URLs and signed strings verbatim.
    pub(crate) fn id(&self, variable: &'static str) -> Result<String, ConfigError> {
        let value = self.text(variable)?;
        if value.len() <= 128
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            Ok(value)
        } else {
            Err(ConfigError::new(
                variable,
                "must be letters, digits, _ - . (at most 128)",
            ))
        }
    }
}

impl Providers {
    /// Reads `LIVE_PROVIDER`, `RTC_PROVIDER`, `IM_PROVIDER`, the settings the chosen vendors
    /// need, the keys of the purposes `reads` names (and no other), and
    /// `CREDENTIAL_TTL_SECONDS`.
    pub fn from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
        reads: &SecretGroups,
    ) -> Result<Self, ConfigError> {
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
                            push_key: s.secret_if(reads.live_push, "ALIYUN_LIVE_PUSH_AUTH_KEY")?,
                            pull_key: s.pull_key(reads.live_pull, "ALIYUN_LIVE_PULL_AUTH_KEY")?,
                            playback_domain: match lookup("ALIYUN_LIVE_PLAYBACK_DOMAIN") {
                                Some(v) if !v.trim().is_empty() => {
                                    Some(s.domain("ALIYUN_LIVE_PLAYBACK_DOMAIN")?)
                                }
                                _ => None,
                            },
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
                            app_key: s
                                .secret_if(AliyunApp::rtc_key_read(reads), "ALIYUN_RTC_APP_KEY")?,
                        })
                    })
                    .transpose()?,
                im: i
                    .then(|| -> Result<_, ConfigError> {
                        Ok(AliyunIm {
                            app: AliyunApp {
                                app_id: s.id("ALIYUN_IM_APP_ID")?,
                                app_key: s.secret_if(reads.im_token, "ALIYUN_IM_APP_KEY")?,
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
                    let sdkappid = s.sdkappid()?;
                    // One key, read once, held for each purpose that needs it here.
                    let (room, user, admin) =
                        (reads.rtc_room && r, reads.user_sig, reads.im_admin && i);
                    let key = s.secret_if(room || user || admin, "TENCENT_SECRET_KEY")?;
                    let held = |read: bool| key.clone().filter(|_| read);
                    Some(TencentApp {
                        sdkappid,
                        room_key: held(room),
                        user_key: held(user),
                        admin_key: held(admin),
                        admin: tencent_im_admin(lookup)?,
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
                                push_key: s.secret_if(reads.live_push, "TENCENT_LIVE_PUSH_KEY")?,
                                pull_key: s.pull_key(reads.live_pull, "TENCENT_LIVE_PULL_KEY")?,
                                vod_key: s.pull_key(reads.live_pull, "TENCENT_VOD_PLAY_KEY")?,
                                vod_domain: match lookup("TENCENT_VOD_PLAY_DOMAIN") {
                                    Some(v) if !v.trim().is_empty() => {
                                        Some(s.domain("TENCENT_VOD_PLAY_DOMAIN")?)
                                    }
                                    _ => None,
                                },
                            })
                        })
                        .transpose()?,
                    app,
                }))
            }
        };
        let livekit: Option<Arc<dyn Provider>> = if rtc == Vendor::Livekit {
            let url = s.text("LIVEKIT_URL")?;
            // Clients connect there with the tokens we sign: never in the clear over a
            // network (ws:// and http:// only to a loopback host, a local LiveKit).
            let plain = url
                .strip_prefix("ws://")
                .or_else(|| url.strip_prefix("http://"));
            let secure = url.starts_with("wss://") || url.starts_with("https://");
            if !(secure || plain.is_some_and(crate::env::is_loopback)) {
                return Err(ConfigError::new(
                    "LIVEKIT_URL",
                    "must be a wss:// (or https://) URL; ws:// only to a loopback host",
                ));
            }
            Some(Arc::new(Livekit {
                url,
                api_key: s.id("LIVEKIT_API_KEY")?,
                api_secret: reads
                    .rtc_room
                    .then(|| Secret::parse("LIVEKIT_API_SECRET", &s.text("LIVEKIT_API_SECRET")?))
                    .transpose()?,
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
        let ttl = crate::env::seconds(lookup, "CREDENTIAL_TTL_SECONDS", 86_400, 60..=7 * 86_400)?;
        let play_ttl = crate::env::seconds(lookup, "PLAY_URL_TTL_SECONDS", 3600, 60..=7 * 86_400)?;
        Ok(Self {
            live: pick(live),
            rtc: pick(rtc),
            im: pick(im),
            ttl,
            play_ttl,
        })
    }
}

/// `TENCENT_IM_ADMIN` (default `administrator`): the Tencent IM app's administrator, whose
/// name nobody may register and for whom no UserSig is signed but the server's own.
pub(crate) fn tencent_im_admin(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<crate::domain::UserId, ConfigError> {
    let admin = match lookup("TENCENT_IM_ADMIN") {
        Some(v) if !v.trim().is_empty() => v.trim().to_owned(),
        _ => "administrator".to_owned(),
    };
    crate::domain::UserId::parse("TENCENT_IM_ADMIN", &admin)
        .map_err(|e| ConfigError::new("TENCENT_IM_ADMIN", e.message))
}

/// The user name a configured vendor keeps for itself (Tencent's IM administrator, when
/// Tencent serves RTC or IM), read without any secret: every function that registers users
/// knows it.
pub(crate) fn reserved_name(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<crate::domain::UserId>, ConfigError> {
    let tencent = vendor(lookup, "RTC_PROVIDER")? == Vendor::Tencent
        || vendor(lookup, "IM_PROVIDER")? == Vendor::Tencent;
    tencent.then(|| tencent_im_admin(lookup)).transpose()
}

/// Whether the IM provider keeps a group per room (Tencent IM): the outbox's IM sink is on.
pub(crate) fn im_keeps_groups(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<bool, ConfigError> {
    Ok(vendor(lookup, "IM_PROVIDER")? == Vendor::Tencent)
}

/// The keys of the inbound callbacks; each is on when its key is set.
#[derive(Debug, Clone, Default)]
pub struct CallbackKeys {
    /// `ALIYUN_LIVE_CALLBACK_KEY`, with the ingest domain `ALIYUN_LIVE_PUSH_DOMAIN` it signs.
    pub aliyun: Option<(String, Secret)>,
    /// `TENCENT_LIVE_CALLBACK_KEY`.
    pub tencent: Option<Secret>,
    /// `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` (webhooks are signed with them).
    pub livekit: Option<(String, Secret)>,
    /// `ALIYUN_LIVE_RECORD_NOTIFY_DOMAIN`: the host of the recording callback's URL, which
    /// Alibaba signs its recording callbacks with (`ALIYUN_LIVE_CALLBACK_KEY` as the key;
    /// issue 26). Never the ingest domain, so that a stream callback's signature never passes
    /// for a recording's. Unset: the recording callback is off.
    pub aliyun_record_domain: Option<String>,
    /// `TENCENT_VOD_PLAY_DOMAIN`: the VOD domain Tencent's recordings are played from. A
    /// recording event's `video_url` must be on it (Tencent's signature covers no field of the
    /// event, so the host is checked, never taken); required with the Tencent callback where
    /// `RECORDING=on` (issue 26).
    pub tencent_vod_domain: Option<String>,
}

/// The inbound callbacks' keys (each callback is on when its key is set, whatever the
/// providers are): `ALIYUN_LIVE_CALLBACK_KEY` (signing `ALIYUN_LIVE_PUSH_DOMAIN`, then
/// required), `TENCENT_LIVE_CALLBACK_KEY`, and `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET`.
/// Only those of the callbacks `reads` names are read.
pub fn callback_keys(
    lookup: &impl Fn(&str) -> Option<String>,
    reads: SecretGroups,
) -> Result<CallbackKeys, ConfigError> {
    let s = Settings(lookup);
    let set = |name: &str| lookup(name).is_some_and(|v| !v.trim().is_empty());
    let aliyun = if reads.aliyun_callback && set("ALIYUN_LIVE_CALLBACK_KEY") {
        Some((
            s.domain("ALIYUN_LIVE_PUSH_DOMAIN")?,
            s.secret("ALIYUN_LIVE_CALLBACK_KEY")?,
        ))
    } else {
        None
    };
    let tencent = if reads.tencent_callback && set("TENCENT_LIVE_CALLBACK_KEY") {
        Some(s.secret("TENCENT_LIVE_CALLBACK_KEY")?)
    } else {
        None
    };
    let livekit = if reads.livekit_callback && set("LIVEKIT_API_KEY") && set("LIVEKIT_API_SECRET") {
        Some((
            s.id("LIVEKIT_API_KEY")?,
            Secret::parse("LIVEKIT_API_SECRET", &s.text("LIVEKIT_API_SECRET")?)?,
        ))
    } else {
        None
    };
    let aliyun_record_domain = match &aliyun {
        Some((push, _)) if set("ALIYUN_LIVE_RECORD_NOTIFY_DOMAIN") => {
            let domain = s.domain("ALIYUN_LIVE_RECORD_NOTIFY_DOMAIN")?;
            if &domain == push {
                return Err(ConfigError::new(
                    "ALIYUN_LIVE_RECORD_NOTIFY_DOMAIN",
                    "must not be ALIYUN_LIVE_PUSH_DOMAIN (a stream callback's signature would \
                     pass for a recording's)",
                ));
            }
            Some(domain)
        }
        _ => None,
    };
    let recording = lookup("RECORDING").is_some_and(|v| v.trim() == "on");
    let tencent_vod_domain = match &tencent {
        Some(_) if set("TENCENT_VOD_PLAY_DOMAIN") => Some(s.domain("TENCENT_VOD_PLAY_DOMAIN")?),
        Some(_) if recording => {
            return Err(ConfigError::new(
                "TENCENT_VOD_PLAY_DOMAIN",
                "is required where RECORDING=on and TENCENT_LIVE_CALLBACK_KEY is set (the VOD \
                 domain Tencent's recordings are played from)",
            ));
        }
        _ => None,
    };
    Ok(CallbackKeys {
        aliyun,
        tencent,
        livekit,
        aliyun_record_domain,
        tencent_vod_domain,
    })
}
