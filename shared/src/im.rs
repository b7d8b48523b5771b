//! The Tencent IM REST API, as the app server's administrator (issue 9's group per room):
//! create, destroy and notify a room's `AVChatRoom` group.
//!
//! Calls are `POST {base}/v4/{service}/{command}?sdkappid=…&identifier={admin}&usersig=…
//! &random=…&contenttype=json` with a JSON body. The API answers HTTP 200 with
//! `{ActionStatus, ErrorCode, ErrorInfo}` for success and failure alike (VENDORS.md §Tencent IM
//! REST). "Already exists" (10021, 10025) is success for a create and "already gone" (10010,
//! 10015) for a destroy, so both are idempotent and safe to retry. The admin's UserSig is made
//! once per process, renewed five minutes before it expires, and made again (one retry) when
//! the API says it expired (70001).

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use crate::credentials::tencent::user_sig;
use crate::env::Secret;
use crate::https;

/// How long the admin's UserSig is issued for (Tencent advises at least 24 h).
const SIG_TTL_SECS: i64 = 48 * 3600;
/// A UserSig is renewed this long before it expires.
const SIG_RENEW_SECS: i64 = 300;
/// One call's time limit, connection included.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The API's "group id in use" (10021) and "in use, and you own it" (10025).
const GROUP_EXISTS: [i64; 2] = [10021, 10025];
/// The API's "group dissolved or never existed" (10010) and "no group with that id" (10015).
const GROUP_GONE: [i64; 2] = [10010, 10015];
/// The API's "UserSig expired".
const SIG_EXPIRED: i64 = 70001;

/// A failed call: the API could not be reached or answered badly (retry later), or it refused.
#[derive(Debug, thiserror::Error)]
pub enum ImError {
    #[error("IM API unavailable: {0}")]
    Unavailable(String),
    #[error("IM API refused ({code}): {info}")]
    Refused { code: i64, info: String },
}

/// The client: one per process (its UserSig and connections are reused).
pub struct TencentIm {
    base: String,
    sdkappid: u32,
    admin: String,
    key: Secret,
    sig: Mutex<Option<(String, i64)>>,
}

impl TencentIm {
    /// A client of the API at `base` (e.g. `https://console.tim.qq.com`) for app `sdkappid`,
    /// calling as `admin` with UserSigs signed by `key`.
    pub fn new(base: &str, sdkappid: u32, admin: &str, key: Secret) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            sdkappid,
            admin: admin.to_owned(),
            key,
            sig: Mutex::new(None),
        }
    }

    /// The admin's UserSig at `now`: the cached one unless it expires within five minutes (or
    /// `fresh` asks for a new one).
    fn user_sig(&self, now: i64, fresh: bool) -> String {
        let mut cached = self.sig.lock().unwrap_or_else(|p| p.into_inner());
        match cached.as_ref() {
            Some((sig, expires_at)) if !fresh && now + SIG_RENEW_SECS < *expires_at => sig.clone(),
            _ => {
                let sig = user_sig(
                    self.sdkappid,
                    self.key.expose(),
                    &self.admin,
                    now,
                    SIG_TTL_SECS,
                    None,
                );
                *cached = Some((sig.clone(), now + SIG_TTL_SECS));
                sig
            }
        }
    }

    /// One call; a 70001 is retried once with a new UserSig. Returns the answer on
    /// `ErrorCode` 0, the refusal otherwise.
    pub async fn call(
        &self,
        service: &str,
        command: &str,
        body: &Value,
        now: i64,
    ) -> Result<Value, ImError> {
        match self.once(service, command, body, now, false).await {
            Err(ImError::Refused {
                code: SIG_EXPIRED, ..
            }) => self.once(service, command, body, now, true).await,
            other => other,
        }
    }

    async fn once(
        &self,
        service: &str,
        command: &str,
        body: &Value,
        now: i64,
        fresh: bool,
    ) -> Result<Value, ImError> {
        let mut random = [0u8; 4];
        getrandom::fill(&mut random).map_err(|e| ImError::Unavailable(e.to_string()))?;
        // The UserSig is base64 with `*-_` (URL-safe as it is); the admin is a user id
        // (letters, digits, `_`, `-`): nothing here needs escaping.
        let url = format!(
            "{}/v4/{service}/{command}?sdkappid={}&identifier={}&usersig={}&random={}&contenttype=json",
            self.base,
            self.sdkappid,
            self.admin,
            self.user_sig(now, fresh),
            u32::from_be_bytes(random),
        );
        let answer = https::client()
            .map_err(ImError::Unavailable)?
            .post(
                &url,
                &[("content-type", "application/json")],
                body.to_string().into_bytes(),
                CALL_TIMEOUT,
            )
            .await
            .map_err(ImError::Unavailable)?;
        if !(200..300).contains(&answer.status) {
            return Err(ImError::Unavailable(format!("HTTP {}", answer.status)));
        }
        let answer: Value = serde_json::from_slice(&answer.body)
            .map_err(|e| ImError::Unavailable(format!("not JSON: {e}")))?;
        let code = answer["ErrorCode"].as_i64().unwrap_or(-1);
        if answer["ActionStatus"] == "OK" && code == 0 {
            Ok(answer)
        } else {
            Err(ImError::Refused {
                code,
                info: answer["ErrorInfo"].as_str().unwrap_or_default().to_owned(),
            })
        }
    }

    /// A group command for which the refusals `done` mean its effect is already there.
    async fn idempotent(
        &self,
        command: &str,
        body: &Value,
        done: &[i64],
        now: i64,
    ) -> Result<(), ImError> {
        match self.call("group_open_http_svc", command, body, now).await {
            Err(ImError::Refused { code, .. }) if done.contains(&code) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Makes the room's `AVChatRoom` group, its id the room id; one that exists already counts.
    pub async fn create_group(&self, group: &str, name: &str, now: i64) -> Result<(), ImError> {
        let body = json!({"Type": "AVChatRoom", "GroupId": group, "Name": name});
        self.idempotent("create_group", &body, &GROUP_EXISTS, now)
            .await
    }

    /// Dissolves the room's group; one that is gone already counts.
    pub async fn destroy_group(&self, group: &str, now: i64) -> Result<(), ImError> {
        self.idempotent(
            "destroy_group",
            &json!({"GroupId": group}),
            &GROUP_GONE,
            now,
        )
        .await
    }

    /// A system notification to every member of the group, `content` as JSON text; a group
    /// that is gone has nobody to tell (success).
    pub async fn notify(&self, group: &str, content: &Value, now: i64) -> Result<(), ImError> {
        let body = json!({"GroupId": group, "Content": content.to_string()});
        self.idempotent("send_group_system_notification", &body, &GROUP_GONE, now)
            .await
    }
}
