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

/// Every (channel, user) of ours that a split of `signed` (`channel + user + nonce +
/// timestamp`, with any nonce and a timestamp after `now`) names: a channel we could sign for
/// (a room id, or a seed 000 channel id) and a user id in its Alibaba form.
fn parses(signed: &str, now: i64) -> Vec<(String, String)> {
    use crate::domain::{ChannelId, RoomId, Username};
    let mut out = Vec::new();
    for i in 1..signed.len() {
        let (channel, rest) = signed.split_at(i);
        if RoomId::parse("c", channel).is_err() && ChannelId::parse("c", channel).is_err() {
            continue;
        }
        for j in 1..=rest.len() {
            let (user, tail) = rest.split_at(j);
            let ours = user_of_vendor_id(user).is_some_and(|u| Username::parse(u).is_ok());
            let digits = tail.len() - tail.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            let fresh =
                (1..=digits).any(|k| tail[tail.len() - k..].parse::<i64>().is_ok_and(|t| t > now));
            if ours && fresh {
                out.push((channel.to_owned(), user.to_owned()));
            }
        }
    }
    out
}

#[test]
fn an_rtc_token_splits_into_one_channel_and_one_user_of_ours() {
    let room = "0b4f6c2e-8d1a-4f3b-9c7e-5a6d2e1f0c9b";
    let channels = [
        room.to_owned(),
        format!("{room}x"),
        room[..30].to_owned(),
        "call".into(),
        "call9".into(),
        "9".into(),
        "c-1".into(),
    ];
    let users = [
        "a", "ab", "ali", "alice", "9alice", "a_b", "_05ali", "AK-1", "x", "0", "07",
    ];
    let now = 1_700_000_000;
    for channel in &channels {
        for user in users {
            let vendor = vendor_user_id(user);
            assert_eq!(user_of_vendor_id(&vendor), Some(user));
            for nonce in ["", "AK-abc"] {
                let signed = format!("{channel}{vendor}{nonce}{}", now + 86_400);
                assert_eq!(
                    parses(&signed, now),
                    [(channel.clone(), vendor.clone())],
                    "{signed}"
                );
            }
        }
    }
    assert_eq!(vendor_user_id("alice"), "_05alice");
    assert_eq!(user_of_vendor_id("_05ali"), None);
    assert_eq!(user_of_vendor_id("_5alice"), None);
    assert_eq!(user_of_vendor_id("alice"), None);
}
