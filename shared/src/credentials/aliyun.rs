//! Alibaba Cloud signers (seed 000, seed 002): the RTC join token, the new-IM token, and CDN URL
//! authentication type A for push and pull URLs.
//!
//! Pure functions of their inputs: no clock, no randomness, no I/O — the caller passes time and
//! nonces, so every signature here is reproducible from the published vectors.

use md5::{Digest as _, Md5};
use sha2::Sha256;

/// RTC join token: `hex(sha256(appId + appKey + channelId + userId + nonce + timestamp))`
/// (seed 000). `nonce` is `AK-<uuid>`, or empty for the nonce-less form.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_type_a_reproduces_the_published_vector() {
        // Alibaba Cloud CDN documentation, type A: path /video/standard/1K.html, exp
        // 1444435200, rand 0, uid 0, key aliyuncdnexp1234.
        let key = auth_key(
            "/video/standard/1K.html",
            1_444_435_200,
            "0",
            "0",
            "aliyuncdnexp1234",
        );
        assert_eq!(key, "1444435200-0-0-80cd3862d699b7118eed99103f2a3a4f");
    }

    #[test]
    fn the_rtc_token_reproduces_the_published_vector() {
        // sha256("abc" + "abckey" + "abcChannel" + "abcUser" + "" + "1699423634")
        let token = rtc_token("abc", "abckey", "abcChannel", "abcUser", "", 1_699_423_634);
        assert_eq!(
            token,
            "3c9ee8d9f8734f0b7560ed8022a0590659113955819724fc9345ab8eedf84f31"
        );
    }

    #[test]
    fn the_nonce_is_part_of_the_rtc_token() {
        let a = rtc_token(
            "abc",
            "abckey",
            "abcChannel",
            "abcUser",
            "AK-1",
            1_699_423_634,
        );
        let b = rtc_token(
            "abc",
            "abckey",
            "abcChannel",
            "abcUser",
            "AK-2",
            1_699_423_634,
        );
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn the_im_token_is_sha256_of_the_concatenation() {
        // Computed independently: sha256("app" "key" "u1" "n1" "1700000000" "admin").
        assert_eq!(
            im_token("app", "key", "u1", "n1", 1_700_000_000, "admin"),
            hex::encode(Sha256::digest(b"appkeyu1n11700000000admin"))
        );
    }

    #[test]
    fn each_pull_format_is_signed_on_its_own_path() {
        let auth = UrlAuth {
            key: "k",
            exp: 1_700_000_000,
            rand: "r",
        };
        let [rtmp, flv, hls, rts] = pull_urls("pull.example.com", "live", "s1", Some(auth));
        assert_eq!(
            rtmp,
            format!(
                "rtmp://pull.example.com/live/s1?auth_key={}",
                auth_key("/live/s1", 1_700_000_000, "r", "0", "k")
            )
        );
        assert!(flv.ends_with(&auth_key("/live/s1.flv", 1_700_000_000, "r", "0", "k")));
        assert!(hls.starts_with("https://pull.example.com/live/s1.m3u8?auth_key="));
        assert!(rts.starts_with("artc://pull.example.com/live/s1?auth_key="));
        assert_ne!(flv.rsplit('-').next(), hls.rsplit('-').next());
    }

    #[test]
    fn push_urls_cover_rtmp_rts_and_srt() {
        let auth = UrlAuth {
            key: "k",
            exp: 1,
            rand: "r",
        };
        let [rtmp, rts, srt] = push_urls("push.example.com", "live", "s1", auth);
        let key = auth_key("/live/s1", 1, "r", "0", "k");
        assert_eq!(
            rtmp,
            format!("rtmp://push.example.com/live/s1?auth_key={key}")
        );
        assert_eq!(
            rts,
            format!("artc://push.example.com/live/s1?auth_key={key}")
        );
        assert_eq!(
            srt,
            format!(
                "srt://push.example.com:1105?streamid=#!::h=push.example.com,r=/live/s1?auth_key={key},m=publish"
            )
        );
    }
}
