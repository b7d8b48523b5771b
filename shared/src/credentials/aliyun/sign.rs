//! Alibaba Cloud signers (seed 000, seed 002): the RTC join token, the new-IM token, and CDN URL
//! authentication type A for push and pull URLs.
//!
//! Pure functions of their inputs: no clock, no randomness, no I/O — the caller passes time and
//! nonces, so every signature here is reproducible from the published vectors.

use md5::{Digest as _, Md5};
use sha2::Sha256;

/// The id Alibaba's RTC and IM tokens name for our user `user`: `_`, the id's length in two
/// digits, then the id (`alice` is `_05alice`).
///
/// Both tokens hash their fields concatenated with no separator
/// (`appId+appKey+channelId+userId+nonce+timestamp`, `appId+appKey+userId+nonce+timestamp+role`),
/// and Alibaba accepts any split of that string that its own checks allow. With plain ids a
/// token for channel `ab` and user `c` would verify for channel `a` and user `bc`, and
/// `alice`'s for `ali`. In this form the ids are prefix-free (the length says where one ends,
/// so no id of ours is the start of another or runs into the nonce), and each starts with `_`,
/// which no channel id we sign for contains (a room's channel is its UUID; a seed 000 channel
/// id may not contain `_`): a token's string splits into a channel and a user of ours in
/// exactly one way. The ids are at most 35 characters, within Alibaba's 64.
pub fn vendor_user_id(user: &str) -> String {
    format!("_{:02}{user}", user.len())
}

/// Our user id in an Alibaba RTC or IM user id made by [`vendor_user_id`], or `None` when it
/// is not one.
pub fn user_of_vendor_id(vendor: &str) -> Option<&str> {
    let rest = vendor.strip_prefix('_')?;
    let (len, user) = rest.split_at_checked(2)?;
    if !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    (len.parse::<usize>().ok()? == user.len() && !user.is_empty()).then_some(user)
}

/// RTC join token: `hex(sha256(appId + appKey + channelId + userId + nonce + timestamp))`
/// (seed 000). `nonce` may be empty: the nonce-less form, which the API issues.
pub fn rtc_token(
    app_id: &str,
    app_key: &str,
    channel_id: &str,
    user_id: &str,
    nonce: &str,
    timestamp: i64,
) -> String {
    let mut h = Sha256::new();
    for part in [app_id, app_key, channel_id, user_id, nonce] {
        h.update(part.as_bytes());
    }
    h.update(timestamp.to_string().as_bytes());
    hex::encode(h.finalize())
}

/// New-IM token: `sha256Hex(appId + appKey + userId + nonce + timestamp + role)`.
pub fn im_token(
    app_id: &str,
    app_key: &str,
    user_id: &str,
    nonce: &str,
    timestamp: i64,
    role: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [app_id, app_key, user_id, nonce] {
        h.update(part.as_bytes());
    }
    h.update(timestamp.to_string().as_bytes());
    h.update(role.as_bytes());
    hex::encode(h.finalize())
}

/// CDN URL authentication type A: the value of `auth_key` for `path` (the URI path, starting
/// with `/`), valid until `exp` (unix seconds):
/// `{exp}-{rand}-{uid}-md5("{path}-{exp}-{rand}-{uid}-{key}")`.
pub fn auth_key(path: &str, exp: i64, rand: &str, uid: &str, key: &str) -> String {
    let digest = Md5::digest(format!("{path}-{exp}-{rand}-{uid}-{key}").as_bytes());
    format!("{exp}-{rand}-{uid}-{}", hex::encode(digest))
}

/// What a signed stream URL needs besides the path.
#[derive(Debug, Clone, Copy)]
pub struct UrlAuth<'a> {
    pub key: &'a str,
    pub exp: i64,
    pub rand: &'a str,
}

impl UrlAuth<'_> {
    fn sign(&self, path: &str) -> String {
        auth_key(path, self.exp, self.rand, "0", self.key)
    }
}

/// Push URLs for `{app}/{stream}` on `domain`: RTMP, RTS (`artc://`) and SRT.
pub fn push_urls(domain: &str, app: &str, stream: &str, auth: UrlAuth<'_>) -> [String; 3] {
    let path = format!("/{app}/{stream}");
    let key = auth.sign(&path);
    [
        format!("rtmp://{domain}{path}?auth_key={key}"),
        format!("artc://{domain}{path}?auth_key={key}"),
        format!("srt://{domain}:1105?streamid=#!::h={domain},r={path}?auth_key={key},m=publish"),
    ]
}

/// Pull URLs for `{app}/{stream}` on `domain`: RTMP, FLV, HLS and RTS (`artc://`). Each format
/// has its own path, so each is signed on its own.
pub fn pull_urls(domain: &str, app: &str, stream: &str, auth: Option<UrlAuth<'_>>) -> [String; 4] {
    let base = format!("/{app}/{stream}");
    let url = |scheme: &str, path: String| match auth {
        Some(auth) => format!("{scheme}://{domain}{path}?auth_key={}", auth.sign(&path)),
        None => format!("{scheme}://{domain}{path}"),
    };
    [
        url("rtmp", base.clone()),
        url("https", format!("{base}.flv")),
        url("https", format!("{base}.m3u8")),
        url("artc", base),
    ]
}

/// The AUI Kits RTC push/play URL for the Alibaba RTC SDK (`artc://live.aliyun.com/...`).
pub fn rtc_url(
    action: &str,
    channel: &str,
    app_id: &str,
    user_id: &str,
    timestamp: i64,
    token: &str,
) -> String {
    format!(
        "artc://live.aliyun.com/{action}/{channel}?sdkAppId={app_id}&userId={user_id}&timestamp={timestamp}&token={token}"
    )
}

/// The stream callbacks' signature, `ALI-LIVE-SIGNATURE`: `md5("{domain}|{timestamp}|{key}")`
/// hex, the domain being the ingest domain the callback is configured on.
pub fn callback_signature(domain: &str, timestamp: &str, key: &str) -> String {
    hex::encode(Md5::digest(
        format!("{domain}|{timestamp}|{key}").as_bytes(),
    ))
}

#[cfg(test)]
#[path = "../../tests/aliyun.rs"]
mod tests;
