//! LiveKit: the provider adapter (room access tokens) over the signers of [`sign`].

use serde_json::{Value, json};

use super::{Grant, Provider, RtcCredentials, RtcRequest};
use crate::config::Secret;
use crate::domain::UserId;

mod sign;
pub use sign::*;

pub(crate) struct Livekit {
    pub(crate) url: String,
    pub(crate) api_key: String,
    pub(crate) api_secret: Secret,
}

impl Provider for Livekit {
    fn name(&self) -> &'static str {
        "livekit"
    }

    fn rtc(&self, req: &RtcRequest<'_>) -> Option<RtcCredentials> {
        let publish = req.grant == Grant::Publish;
        let grant = sign::VideoGrant {
            room: req.channel.to_owned(),
            room_join: true,
            can_publish: publish,
            can_subscribe: true,
            can_publish_data: publish,
        };
        let token = sign::access_token(
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
