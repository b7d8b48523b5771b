//! LiveKit: the provider adapter (room access tokens) over the signers of [`sign`].

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Grant, Provider, RtcCredentials, RtcRequest, held};
use crate::domain::UserId;
use crate::env::Secret;

mod sign;
pub use sign::*;

#[derive(Clone)]
pub(crate) struct Livekit {
    pub(crate) url: String,
    pub(crate) api_key: String,
    /// `None` where no room credential is signed ([`crate::env::SecretGroups::rtc_room`] off).
    pub(crate) api_secret: Option<Secret>,
}

impl Provider for Livekit {
    fn name(&self) -> &'static str {
        "livekit"
    }

    fn restricted(&self, reads: &crate::env::SecretGroups) -> Arc<dyn Provider> {
        let mut it = self.clone();
        it.api_secret = held(&it.api_secret, reads.rtc_room);
        Arc::new(it)
    }

    fn rtc(&self, req: &RtcRequest<'_>) -> Option<RtcCredentials> {
        let api_secret = self.api_secret.as_ref()?;
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
            api_secret.expose(),
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
