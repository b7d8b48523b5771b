//! Moderation that reaches the vendors (issue 24): the calls that cut a room's stream or remove
//! a member from its RTC channel at the vendor, and the LiveKit egress that records a room
//! (issue 26: started when it goes live, stopped when it pauses or ends), their settings, and
//! (feature `delivery`) their clients.
//!
//! - [`Enforcement`]: one call, a plain serialisable value naming what it acts on exactly as
//!   the room's signed URLs and tokens name it (`crate::credentials`), so that the call cuts
//!   the stream or channel they point at. Made by [`Enforcers::cut_stream`] and
//!   [`Enforcers::remove_member`] from the configured providers' public names; no secret.
//! - [`Enforcers`]: the settings: which vendor serves the stream and the RTC channel, their
//!   names, and (only in a function of [`crate::env::SecretGroups::enforcement`]) each vendor's API base
//!   and its optional API credentials.
//! - Per vendor (feature `delivery`): a pure request builder ([`aliyun`], [`tencent`],
//!   [`livekit`]) and a pure classifier of the answer into an [`Outcome`]; [`Enforcers::send`]
//!   makes the call through [`crate::https`].
//!
//! Alibaba: ApsaraVideo Live `ForbidLiveStream` with `Oneshot=yes` (cut, no blacklist) and
//! ARTC `RemoveTerminals`, RPC signature V1 (HMAC-SHA1). Tencent: CSS `DropLiveStream` and TRTC
//! `RemoveUserByStrRoomId`, TC3-HMAC-SHA256. LiveKit: `RoomService/DeleteRoom` (`roomCreate`)
//! and `RoomService/RemoveParticipant` (`roomAdmin` for the room), and `Egress/ListEgress`,
//! `StartRoomCompositeEgress` and `StopEgress` (`roomRecord`), Twirp with an HS256 JWT.
//! Wire facts: VENDORS.md §7–§12.
//!
//! Never here: when a call is made or retried (the outbox), the audit log, HTTP types of the
//! API, or anything per request but the call itself.

#[cfg(feature = "delivery")]
pub mod aliyun;
#[cfg(feature = "delivery")]
pub mod livekit;
mod settings;
#[cfg(feature = "delivery")]
pub mod tencent;

use serde::{Deserialize, Serialize};

use crate::credentials::aliyun::vendor_user_id;
pub use crate::domain::outbox::{Enforcement, Vendor};
pub use settings::{ApiBases, ApiKey};

/// What became of a call, as the vendor's answer says. Reasons are short texts naming the
/// vendor, the call and its error code: safe for the audit log (no secret, no echoed request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "snake_case")]
pub enum Outcome {
    /// The vendor did it, or there was nothing left to do (the stream was not live, the room
    /// or member was already gone).
    Done,
    /// Try again later: unreachable, throttled, the vendor's internal error.
    Retry(String),
    /// Retrying cannot help: refused credentials, a bad parameter, no credentials configured.
    Permanent(String),
}

/// The stream's CDN names, from `LIVE_PROVIDER`'s settings (what push URLs are signed for).
#[derive(Debug, Clone, PartialEq, Eq)]
enum LiveNames {
    /// `ALIYUN_LIVE_PUSH_DOMAIN`, `ALIYUN_LIVE_APP_NAME` (default `live`).
    Aliyun { domain: String, app: String },
    /// `TENCENT_LIVE_PUSH_DOMAIN`; the app is always `live`.
    Tencent { domain: String },
}

/// The RTC app, from `RTC_PROVIDER`'s settings.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RtcNames {
    /// `ALIYUN_RTC_APP_ID`.
    Aliyun { app_id: String },
    /// `TENCENT_SDKAPPID`.
    Tencent { sdkappid: u32 },
    /// `LIVEKIT_URL`'s server.
    Livekit,
}

/// The enforcement settings: the names every function knows (from the providers' public
/// settings), and, where the function reads [`crate::env::SecretGroups::enforcement`], the API bases and
/// the optional credentials (a vendor without them is not called: see
/// [`Enforcers::sends`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enforcers {
    live: Option<LiveNames>,
    rtc: Option<RtcNames>,
    /// LiveKit serves RTC and `RECORDING=on`: the server starts and stops the rooms' egress
    /// (issue 26). Whatever `VENDOR_ENFORCEMENT` says: that is about moderation.
    egress: bool,
    /// `ALIYUN_ACCESS_KEY_ID` + `ALIYUN_ACCESS_KEY_SECRET`.
    pub aliyun: Option<ApiKey>,
    /// `TENCENT_API_SECRET_ID` + `TENCENT_API_SECRET_KEY` (a Cloud API key, not the SDKAppID's
    /// `TENCENT_SECRET_KEY`).
    pub tencent: Option<ApiKey>,
    /// `LIVEKIT_API_KEY` + `LIVEKIT_API_SECRET`.
    pub livekit: Option<ApiKey>,
    pub bases: ApiBases,
}

impl Enforcers {
    /// These settings without the API bases and credentials (a function that does not call).
    pub fn without_keys(&self) -> Self {
        Self {
            live: self.live.clone(),
            rtc: self.rtc.clone(),
            egress: self.egress,
            ..Self::default()
        }
    }

    /// Whether no call is ever decided (no provider with a moderation API, or
    /// `VENDOR_ENFORCEMENT=off`; and no LiveKit egress to start): then no
    /// [`crate::domain::outbox::Sink::Vendor`] entry is written.
    pub fn is_off(&self) -> bool {
        self.live.is_none() && self.rtc.is_none() && !self.egress
    }

    /// Whether the server starts and stops the rooms' recording at the vendor: LiveKit's
    /// room-composite egress, when LiveKit serves RTC and `RECORDING=on` (issue 26).
    pub fn records(&self) -> bool {
        self.egress
    }

    /// The call that starts recording room `room` (which went live and is recorded), if the
    /// server starts its recording ([`Self::records`]).
    pub fn start_recording(&self, room: &str) -> Option<Enforcement> {
        self.egress.then(|| Enforcement::StartRecording {
            vendor: Vendor::Livekit,
            room: room.to_owned(),
        })
    }

    /// The call that stops recording room `room` (which paused or ended), if the server
    /// starts its recording ([`Self::records`]).
    pub fn stop_recording(&self, room: &str) -> Option<Enforcement> {
        self.egress.then(|| Enforcement::StopRecording {
            vendor: Vendor::Livekit,
            room: room.to_owned(),
        })
    }

    /// Whether this function holds the API credentials of any vendor.
    pub fn has_keys(&self) -> bool {
        self.aliyun.is_some() || self.tencent.is_some() || self.livekit.is_some()
    }

    /// The calls that cut room `room`'s stream: the CDN ingest of the live provider (Alibaba,
    /// Tencent) and the LiveKit room when LiveKit serves RTC. Empty with neither.
    pub fn cut_stream(&self, room: &str) -> Vec<Enforcement> {
        let mut calls = Vec::new();
        match &self.live {
            Some(LiveNames::Aliyun { domain, app }) => calls.push(Enforcement::CutStream {
                vendor: Vendor::Aliyun,
                domain: domain.clone(),
                app: app.clone(),
                stream: room.to_owned(),
            }),
            Some(LiveNames::Tencent { domain }) => calls.push(Enforcement::CutStream {
                vendor: Vendor::Tencent,
                domain: domain.clone(),
                app: "live".to_owned(),
                stream: room.to_owned(),
            }),
            None => {}
        }
        if self.rtc == Some(RtcNames::Livekit) {
            calls.push(Enforcement::CutStream {
                vendor: Vendor::Livekit,
                domain: String::new(),
                app: String::new(),
                stream: room.to_owned(),
            });
        }
        calls
    }

    /// The call that removes `user` (our user id) from RTC channel `channel` (a room's id,
    /// or the channel a seed 000 client chose), at the RTC provider; `None` without one.
    pub fn remove_member(&self, channel: &str, user: &str) -> Option<Enforcement> {
        let (vendor, app, user) = match self.rtc.as_ref()? {
            RtcNames::Aliyun { app_id } => (Vendor::Aliyun, app_id.clone(), vendor_user_id(user)),
            RtcNames::Tencent { sdkappid } => {
                (Vendor::Tencent, sdkappid.to_string(), user.to_owned())
            }
            RtcNames::Livekit => (Vendor::Livekit, String::new(), user.to_owned()),
        };
        Some(Enforcement::RemoveMember {
            vendor,
            app,
            channel: channel.to_owned(),
            user,
        })
    }

    /// The credentials `call`'s vendor is called with, if this function holds them.
    pub fn key(&self, vendor: Vendor) -> Option<&ApiKey> {
        match vendor {
            Vendor::Aliyun => self.aliyun.as_ref(),
            Vendor::Tencent => self.tencent.as_ref(),
            Vendor::Livekit => self.livekit.as_ref(),
        }
    }

    /// Whether `call` can be made here (its vendor's credentials are configured); without
    /// them it is not enforced.
    pub fn sends(&self, call: &Enforcement) -> bool {
        self.key(call.vendor()).is_some()
    }
}

/// The host (and port) of a base, as the `Host` header carries it.
#[cfg(feature = "delivery")]
fn host_of(base: &str) -> &str {
    base.split_once("://").map_or(base, |(_, rest)| rest)
}

/// An HTTP request to make: what the builders return, so that they stay pure.
#[cfg(feature = "delivery")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Always `POST` (every API here takes it).
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[cfg(feature = "delivery")]
mod send {
    use std::time::Duration;

    use super::{Enforcement, Enforcers, Outcome, Request, Vendor};
    use crate::https::Https;

    /// One call's time limit, connection included.
    const CALL_TIMEOUT: Duration = Duration::from_secs(5);

    impl Enforcers {
        /// The request for `call` at `now` (unix seconds), `nonce` a fresh unique text (Alibaba's
        /// `SignatureNonce`; a UUID), or the outcome without a call (no credentials here).
        pub fn request(
            &self,
            call: &Enforcement,
            now: i64,
            nonce: &str,
        ) -> Result<Request, Outcome> {
            let Some(key) = self.key(call.vendor()) else {
                return Err(Outcome::Permanent(format!(
                    "{} {}: no API credentials configured",
                    call.vendor().as_str(),
                    call.api()
                )));
            };
            let request = match call.vendor() {
                Vendor::Aliyun => super::aliyun::request(call, key, &self.bases, now, nonce),
                Vendor::Tencent => super::tencent::request(call, key, &self.bases, now),
                Vendor::Livekit => super::livekit::request(call, key, &self.bases.livekit, now),
            };
            request.ok_or_else(|| {
                Outcome::Permanent(format!(
                    "{} {}: the call does not fit the vendor",
                    call.vendor().as_str(),
                    call.api()
                ))
            })
        }

        /// What the vendor's answer `(status, body)` to `call` means.
        pub fn classify(call: &Enforcement, status: u16, body: &[u8]) -> Outcome {
            match call.vendor() {
                Vendor::Aliyun => super::aliyun::classify(call, status, body),
                Vendor::Tencent => super::tencent::classify(call, status, body),
                Vendor::Livekit => super::livekit::classify(call, status, body),
            }
        }

        /// Makes `call` at `now` through `https` and says what became of it. A LiveKit
        /// recording call is its `ListEgress`, then the requests its answer leaves to do
        /// (`livekit::after_list`), each until one is not done.
        pub async fn send(&self, https: &Https, call: &Enforcement, now: i64) -> Outcome {
            let nonce = uuid::Uuid::new_v4().to_string();
            let request = match self.request(call, now, &nonce) {
                Ok(r) => r,
                Err(outcome) => return outcome,
            };
            let (status, body) = match post(https, call, &request).await {
                Ok(answer) => answer,
                Err(outcome) => return outcome,
            };
            let outcome = Self::classify(call, status, &body);
            if outcome != Outcome::Done || !super::livekit::is_recording(call) {
                return outcome;
            }
            let Some(key) = self.key(call.vendor()) else {
                return outcome;
            };
            let then = match super::livekit::after_list(call, key, &self.bases.livekit, now, &body)
            {
                Ok(then) => then,
                Err(outcome) => return outcome,
            };
            for request in then {
                let outcome = match post(https, call, &request).await {
                    Ok((status, body)) => {
                        super::livekit::classify_step(call, &request, status, &body)
                    }
                    Err(outcome) => outcome,
                };
                if outcome != Outcome::Done {
                    return outcome;
                }
            }
            Outcome::Done
        }
    }

    /// `request` of `call` through `https`: the answer's status and body, or a retry.
    async fn post(
        https: &Https,
        call: &Enforcement,
        request: &Request,
    ) -> Result<(u16, Vec<u8>), Outcome> {
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        match https
            .post(&request.url, &headers, request.body.clone(), CALL_TIMEOUT)
            .await
        {
            Ok(answer) => Ok((answer.status, answer.body.to_vec())),
            Err(e) => Err(Outcome::Retry(format!(
                "{} {}: {e}",
                call.vendor().as_str(),
                call.api()
            ))),
        }
    }
}

#[cfg(all(test, feature = "delivery"))]
#[path = "../tests/enforce.rs"]
mod tests;
