//! Unit tests of `credentials/aliyun` (kept apart from the request-path code).

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

#[test]
fn the_stream_callback_signature_matches_the_documented_example() {
    // help.aliyun.com, "usage notes for callback authentication": md5sum(learn.aliyundoc.com|1519375990|yourkey).
    assert_eq!(
        callback_signature("learn.aliyundoc.com", "1519375990", "yourkey"),
        "9e226fc2c250be266e3657e156f68c12"
    );
}
