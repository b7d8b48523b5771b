//! Unit tests of `enforce`: the signers against the vendors' published example vectors, the
//! requests' shapes, the classifiers and the settings.

use super::*;
use crate::env::{ConfigError, Secret, SecretGroups};
use std::collections::HashMap;

fn p(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

fn key(id: &str, secret: &str) -> ApiKey {
    ApiKey {
        id: id.to_owned(),
        secret: Secret::parse_min("TEST", secret, 1).unwrap(),
    }
}

// ---- Alibaba: RPC signature V1 ------------------------------------------------------------------

/// aliyun/darabonba-openapi-util `python/tests/test_client.py` `test_get_rpc_signature`.
#[test]
fn aliyun_signature_matches_the_sdk_vector() {
    let params = [p("query", "test"), p("body", "test")];
    let sts = aliyun::string_to_sign("GET", &params);
    assert_eq!(sts, "GET&%2F&body%3Dtest%26query%3Dtest");
    assert_eq!(
        aliyun::signature("secret", &sts),
        "XlUyV4sXjOuX5FnjUz9IF9tm5rU="
    );
}

/// `test_get_canonical_query_string`: `{test: " ~/*-+"}` gives `test=%20~%2F%2A-%2B`.
#[test]
fn aliyun_percent_encoding_matches_the_sdk_vector() {
    assert_eq!(
        aliyun::canonical_query(&[p("test", " ~/*-+")]),
        "test=%20~%2F%2A-%2B"
    );
    assert_eq!(
        aliyun::percent_encode("2016-02-23T12:46:24Z"),
        "2016-02-23T12%3A46%3A24Z"
    );
    assert_eq!(aliyun::percent_encode("é"), "%C3%A9");
}

fn aliyun_enforcers() -> Enforcers {
    Enforcers {
        live: Some(LiveNames::Aliyun {
            domain: "push.example.com".to_owned(),
            app: "live".to_owned(),
        }),
        rtc: Some(RtcNames::Aliyun {
            app_id: "artc-app".to_owned(),
        }),
        aliyun: Some(key("LTAI-test", "aliyun-secret-0123456789")),
        ..Enforcers::default()
    }
}

fn query_of(url: &str) -> Vec<(String, String)> {
    url.split_once('?')
        .unwrap()
        .1
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

#[test]
fn aliyun_forbid_live_stream_names_the_push_urls_stream_and_is_signed() {
    let e = aliyun_enforcers();
    let calls = e.cut_stream("room-1");
    assert_eq!(calls.len(), 1);
    let r = e.request(&calls[0], 1_700_000_000, "nonce-1").unwrap();
    assert!(
        r.url.starts_with("https://live.aliyuncs.com/?"),
        "{}",
        r.url
    );
    assert!(r.body.is_empty());
    let q: HashMap<_, _> = query_of(&r.url).into_iter().collect();
    for (k, v) in [
        ("Action", "ForbidLiveStream"),
        ("DomainName", "push.example.com"),
        ("AppName", "live"),
        ("StreamName", "room-1"),
        ("LiveStreamType", "publisher"),
        ("Oneshot", "yes"),
        ("Version", "2016-11-01"),
        ("Format", "JSON"),
        ("AccessKeyId", "LTAI-test"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", "nonce-1"),
        ("Timestamp", "2023-11-14T22%3A13%3A20Z"),
    ] {
        assert_eq!(q.get(k).map(String::as_str), Some(v), "{k}");
    }
    // The signature is over every other parameter, decoded.
    let params: Vec<(String, String)> = query_of(&r.url)
        .into_iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k, v.replace("%3A", ":")))
        .collect();
    let sig = aliyun::signature(
        "aliyun-secret-0123456789",
        &aliyun::string_to_sign("POST", &params),
    );
    assert_eq!(q["Signature"], aliyun::percent_encode(&sig));
}

#[test]
fn aliyun_remove_terminals_names_the_vendor_user_id_one_based() {
    let e = aliyun_enforcers();
    let call = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(
        call,
        Enforcement::RemoveMember {
            vendor: Vendor::Aliyun,
            app: "artc-app".to_owned(),
            channel: "room-1".to_owned(),
            user: "_05alice".to_owned(),
        }
    );
    let r = e.request(&call, 1_700_000_000, "n").unwrap();
    let q: HashMap<_, _> = query_of(&r.url).into_iter().collect();
    assert_eq!(q["Action"], "RemoveTerminals");
    assert_eq!(q["AppId"], "artc-app");
    assert_eq!(q["ChannelId"], "room-1");
    assert_eq!(q["TerminalIds.1"], "_05alice");
}

#[test]
fn aliyun_answers_are_classified_by_code() {
    let e = aliyun_enforcers();
    let cut = &e.cut_stream("r")[0];
    let remove = e.remove_member("r", "u").unwrap();
    let err = |code: &str| {
        format!(r#"{{"RequestId":"x","HostId":"live.aliyuncs.com","Code":"{code}","Message":"m"}}"#)
    };
    assert_eq!(
        aliyun::classify(cut, 200, br#"{"RequestId":"1"}"#),
        Outcome::Done
    );
    assert!(matches!(
        aliyun::classify(cut, 400, err("SignatureDoesNotMatch").as_bytes()),
        Outcome::Permanent(r) if r == "aliyun ForbidLiveStream: SignatureDoesNotMatch (HTTP 400)"
    ));
    assert!(matches!(
        aliyun::classify(cut, 404, err("InvalidAccessKeyId.NotFound").as_bytes()),
        Outcome::Permanent(_)
    ));
    assert!(matches!(
        aliyun::classify(cut, 400, err("Throttling.User").as_bytes()),
        Outcome::Retry(_)
    ));
    assert!(matches!(
        aliyun::classify(cut, 500, err("InternalError").as_bytes()),
        Outcome::Retry(_)
    ));
    assert!(matches!(
        aliyun::classify(cut, 502, b"<html>"),
        Outcome::Retry(_)
    ));
    assert!(matches!(
        aliyun::classify(cut, 404, err("InvalidDomain.NotFound").as_bytes()),
        Outcome::Permanent(_)
    ));
    assert_eq!(
        aliyun::classify(&remove, 404, err("ResourceNotExist").as_bytes()),
        Outcome::Done
    );
    assert_eq!(
        aliyun::classify(
            &remove,
            200,
            br#"{"RequestId":"1","Terminals":[{"Code":0,"Message":"Success","Id":"_01u"}]}"#
        ),
        Outcome::Done
    );
    assert!(matches!(
        aliyun::classify(
            &remove,
            200,
            br#"{"RequestId":"1","Terminals":{"Terminal":[{"Code":1,"Message":"Failed","Id":"_01u"}]}}"#
        ),
        Outcome::Permanent(_)
    ));
}

// ---- Tencent: TC3-HMAC-SHA256 -------------------------------------------------------------------

const TC3_BODY: &[u8] =
    br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

/// The "Signature v3" doc's worked example (older revision, SignedHeaders `content-type;host`).
#[test]
fn tencent_signature_matches_the_published_example() {
    let headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Host", "cvm.tencentcloudapi.com"),
        ("X-TC-Action", "DescribeInstances"),
    ];
    let canonical = tencent::canonical_request("POST", "", &headers, "content-type;host", TC3_BODY);
    assert!(
        canonical.ends_with("35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064")
    );
    let sts = tencent::string_to_sign(1_551_113_065, "cvm", &canonical);
    assert!(sts.ends_with("5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"));
    assert!(
        sts.contains("\n2019-02-25/cvm/tc3_request\n"),
        "the UTC date"
    );
    let key = tencent::signing_key(b"Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", 1_551_113_065, "cvm");
    let sig = tencent::signature(&key, &sts);
    assert_eq!(
        sig,
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
    assert_eq!(
        tencent::authorization(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            1_551_113_065,
            "cvm",
            "content-type;host",
            &sig
        ),
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
         SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
}

/// The current doc revision (SignedHeaders `content-type;host;x-tc-action`, the action's
/// value lower-cased): its canonical request's hash, and the signature from its published
/// signing key (the secret itself is masked there).
#[test]
fn tencent_signature_matches_the_current_published_example() {
    let headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Host", "cvm.tencentcloudapi.com"),
        ("X-TC-Action", "DescribeInstances"),
    ];
    let canonical = tencent::canonical_request(
        "POST",
        "",
        &headers,
        "content-type;host;x-tc-action",
        TC3_BODY,
    );
    assert!(canonical.contains("x-tc-action:describeinstances\n"));
    let sts = tencent::string_to_sign(1_551_113_065, "cvm", &canonical);
    assert!(sts.ends_with("7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"));
    let signing: [u8; 32] =
        hex::decode("b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af")
            .unwrap()
            .try_into()
            .unwrap();
    assert_eq!(
        tencent::signature(&signing, &sts),
        "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
    );
}

fn tencent_enforcers() -> Enforcers {
    Enforcers {
        live: Some(LiveNames::Tencent {
            domain: "push.example.com".to_owned(),
        }),
        rtc: Some(RtcNames::Tencent {
            sdkappid: 1_400_000_001,
        }),
        tencent: Some(key("AKID-test", "tencent-secret-0123456789")),
        ..Enforcers::default()
    }
}

fn header<'a>(r: &'a Request, name: &str) -> &'a str {
    r.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn tencent_drop_live_stream_and_remove_user_are_shaped_as_documented() {
    let e = tencent_enforcers();
    let drop = &e.cut_stream("room-1")[0];
    let r = e.request(drop, 1_700_000_000, "unused").unwrap();
    assert_eq!(r.url, "https://live.tencentcloudapi.com/");
    assert_eq!(header(&r, "x-tc-action"), "DropLiveStream");
    assert_eq!(header(&r, "x-tc-version"), "2018-08-01");
    assert_eq!(header(&r, "x-tc-timestamp"), "1700000000");
    assert_eq!(header(&r, "host"), "live.tencentcloudapi.com");
    assert!(r.headers.iter().all(|(k, _)| k != "x-tc-region"));
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"StreamName": "room-1", "DomainName": "push.example.com", "AppName": "live"})
    );
    assert!(header(&r, "authorization").starts_with(
        "TC3-HMAC-SHA256 Credential=AKID-test/2023-11-14/live/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature="
    ));

    let remove = e.remove_member("room-1", "alice").unwrap();
    let r = e.request(&remove, 1_700_000_000, "unused").unwrap();
    assert_eq!(r.url, "https://trtc.tencentcloudapi.com/");
    assert_eq!(header(&r, "x-tc-action"), "RemoveUserByStrRoomId");
    assert_eq!(header(&r, "x-tc-version"), "2019-07-22");
    assert_eq!(header(&r, "x-tc-region"), "ap-guangzhou");
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"SdkAppId": 1_400_000_001u32, "RoomId": "room-1", "UserIds": ["alice"]})
    );
    assert!(header(&r, "authorization").contains("/trtc/tc3_request"));
}

#[test]
fn tencent_answers_are_classified_by_code() {
    let e = tencent_enforcers();
    let drop = &e.cut_stream("r")[0];
    let remove = e.remove_member("r", "u").unwrap();
    let err = |code: &str| {
        format!(r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"m"}},"RequestId":"x"}}}}"#)
    };
    let ok = br#"{"Response":{"RequestId":"8e50cdb5-56dc-408b-89b0-31818958d424"}}"#;
    assert_eq!(tencent::classify(drop, 200, ok), Outcome::Done);
    assert_eq!(tencent::classify(&remove, 200, ok), Outcome::Done);
    assert_eq!(
        tencent::classify(drop, 200, err("ResourceNotFound.StreamNotAlive").as_bytes()),
        Outcome::Done
    );
    assert_eq!(
        tencent::classify(&remove, 200, err("FailedOperation.RoomNotExist").as_bytes()),
        Outcome::Done
    );
    for code in [
        "AuthFailure.SignatureFailure",
        "AuthFailure.SecretIdNotFound",
        "AuthFailure.SignatureExpire",
        "InvalidParameter",
        "UnauthorizedOperation.SdkAppId",
        "ResourceNotFound.UserNotExist",
    ] {
        assert!(
            matches!(tencent::classify(drop, 200, err(code).as_bytes()), Outcome::Permanent(ref r) if r.ends_with(code)),
            "{code}"
        );
    }
    for code in [
        "RequestLimitExceeded",
        "InternalError",
        "InternalError.GetRoomCacheIpError",
        "FailedOperation.CallOtherSvrFailed",
    ] {
        assert!(
            matches!(
                tencent::classify(drop, 200, err(code).as_bytes()),
                Outcome::Retry(_)
            ),
            "{code}"
        );
    }
    assert!(matches!(
        tencent::classify(drop, 502, b""),
        Outcome::Retry(_)
    ));
    assert!(matches!(
        tencent::classify(drop, 200, b"<html>"),
        Outcome::Retry(_)
    ));
}

// ---- LiveKit: Twirp with an admin JWT ----------------------------------------------------------

const LK_SECRET: &str = "livekit-secret-for-the-tests-0123456789";

fn livekit_enforcers() -> Enforcers {
    Enforcers {
        rtc: Some(RtcNames::Livekit),
        livekit: Some(key("lk_key", LK_SECRET)),
        bases: ApiBases {
            livekit: "https://lk.example.com".to_owned(),
            ..ApiBases::default()
        },
        ..Enforcers::default()
    }
}

fn claims(r: &Request) -> serde_json::Value {
    let token = header(r, "authorization").strip_prefix("Bearer ").unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.validate_exp = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(LK_SECRET.as_bytes()),
        &v,
    )
    .unwrap()
    .claims
}

#[test]
fn livekit_calls_carry_exactly_the_grant_they_need() {
    let e = livekit_enforcers();
    let delete = &e.cut_stream("room-1")[0];
    let r = e.request(delete, 1_700_000_000, "unused").unwrap();
    assert_eq!(
        r.url,
        "https://lk.example.com/twirp/livekit.RoomService/DeleteRoom"
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&r.body).unwrap(),
        serde_json::json!({"room": "room-1"})
    );
    let c = claims(&r);
    assert_eq!(c["iss"], "lk_key");
    assert_eq!(c["nbf"], 1_700_000_000);
    assert_eq!(c["exp"], 1_700_000_600);
    assert_eq!(c["video"], serde_json::json!({"roomCreate": true}));

    let remove = e.remove_member("room-1", "alice").unwrap();
    let r = e.request(&remove, 1_700_000_000, "unused").unwrap();
    assert_eq!(
        r.url,
        "https://lk.example.com/twirp/livekit.RoomService/RemoveParticipant"
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&r.body).unwrap(),
        serde_json::json!({"room": "room-1", "identity": "alice"})
    );
    assert_eq!(
        claims(&r)["video"],
        serde_json::json!({"room": "room-1", "roomAdmin": true})
    );
}

#[test]
fn livekit_answers_are_classified_by_status() {
    let e = livekit_enforcers();
    let delete = &e.cut_stream("r")[0];
    assert_eq!(livekit::classify(delete, 200, b"{}"), Outcome::Done);
    assert_eq!(
        livekit::classify(
            delete,
            404,
            br#"{"code":"not_found","msg":"requested room does not exist"}"#
        ),
        Outcome::Done
    );
    assert_eq!(
        livekit::classify(
            delete,
            404,
            br#"{"code":"bad_route","msg":"no handler for path"}"#
        ),
        Outcome::Permanent("livekit DeleteRoom: bad_route (HTTP 404)".to_owned())
    );
    assert!(matches!(
        livekit::classify(delete, 404, b"404 page not found"),
        Outcome::Permanent(_)
    ));
    assert_eq!(
        livekit::classify(delete, 401, b"invalid authorization token"),
        Outcome::Permanent("livekit DeleteRoom: HTTP 401".to_owned())
    );
    assert_eq!(
        livekit::classify(
            delete,
            401,
            br#"{"code":"unauthenticated","msg":"permissions denied"}"#
        ),
        Outcome::Permanent("livekit DeleteRoom: unauthenticated (HTTP 401)".to_owned())
    );
    assert!(matches!(
        livekit::classify(delete, 503, br#"{"code":"unavailable","msg":"x"}"#),
        Outcome::Retry(_)
    ));
    assert!(matches!(
        livekit::classify(delete, 429, b""),
        Outcome::Retry(_)
    ));
}

fn lk_recording() -> Enforcers {
    Enforcers {
        egress: true,
        ..livekit_enforcers()
    }
}

fn body(r: &Request) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap()
}

#[test]
fn livekit_recording_calls_list_first_then_start_or_stop_with_the_record_grant() {
    let e = lk_recording();
    let start = e.start_recording("room-1").unwrap();
    let stop = e.stop_recording("room-1").unwrap();
    assert_eq!(
        (start.api(), stop.api()),
        ("StartRoomCompositeEgress", "StopEgress")
    );
    assert_eq!(start.action(), "vendor.recording_started");
    assert_eq!(stop.action(), "vendor.recording_stopped");
    for call in [&start, &stop] {
        assert!(livekit::is_recording(call));
        let r = e.request(call, 1_700_000_000, "unused").unwrap();
        assert_eq!(
            r.url,
            "https://lk.example.com/twirp/livekit.Egress/ListEgress"
        );
        assert_eq!(
            body(&r),
            serde_json::json!({"room_name": "room-1", "active": true})
        );
        let c = claims(&r);
        assert_eq!(c["video"], serde_json::json!({"roomRecord": true}));
        assert_eq!(c["exp"], 1_700_000_600);
    }
    let key = e.livekit.clone().unwrap();
    let base = "https://lk.example.com";
    // Nothing active: the start starts one, the stop has nothing to stop.
    for none in [&br#"{"items":[],"next_page_token":null}"#[..], b"{}"] {
        let then = livekit::after_list(&start, &key, base, 1_700_000_000, none).unwrap();
        assert_eq!(then.len(), 1);
        assert_eq!(
            then[0].url,
            "https://lk.example.com/twirp/livekit.Egress/StartRoomCompositeEgress"
        );
        assert_eq!(
            body(&then[0]),
            serde_json::json!({
                "room_name": "room-1",
                "layout": "speaker",
                "file_outputs": [{"file_type": "MP4", "filepath": "liveroom/{room_name}/{time}.mp4"}]
            })
        );
        assert_eq!(
            claims(&then[0])["video"],
            serde_json::json!({"roomRecord": true})
        );
        assert!(
            livekit::after_list(&stop, &key, base, 1_700_000_000, none)
                .unwrap()
                .is_empty()
        );
    }
    // Two active (one starting), one ending: no second start; a stop of each recording one.
    let listed = serde_json::json!({"items": [
        {"egress_id": "EG_a", "room_name": "room-1", "status": "EGRESS_ACTIVE", "started_at": "1700000000000000000"},
        {"egress_id": "EG_b", "room_name": "room-1", "status": "EGRESS_STARTING"},
        {"egress_id": "EG_c", "room_name": "room-1", "status": "EGRESS_ENDING"}
    ]})
    .to_string();
    assert!(
        livekit::after_list(&start, &key, base, 0, listed.as_bytes())
            .unwrap()
            .is_empty()
    );
    let stops = livekit::after_list(&stop, &key, base, 0, listed.as_bytes()).unwrap();
    let ids: Vec<serde_json::Value> = stops.iter().map(body).collect();
    assert_eq!(
        ids,
        [
            serde_json::json!({"egress_id": "EG_a"}),
            serde_json::json!({"egress_id": "EG_b"})
        ]
    );
    assert!(stops[0].url.ends_with("/twirp/livekit.Egress/StopEgress"));
    assert_eq!(
        claims(&stops[0])["video"],
        serde_json::json!({"roomRecord": true})
    );
    // An answer that cannot be read is permanent.
    assert!(matches!(
        livekit::after_list(&stop, &key, base, 0, b"<html>"),
        Err(Outcome::Permanent(_))
    ));
    assert!(matches!(
        livekit::after_list(&stop, &key, base, 0, br#"{"items": 3}"#),
        Err(Outcome::Permanent(_))
    ));
    // Not where the server does not record: no call at all.
    assert_eq!(livekit_enforcers().start_recording("room-1"), None);
    assert_eq!(livekit_enforcers().stop_recording("room-1"), None);
}

#[test]
fn livekit_recording_answers_are_classified_per_request() {
    let e = lk_recording();
    let key = e.livekit.clone().unwrap();
    let start = e.start_recording("r").unwrap();
    let stop = e.stop_recording("r").unwrap();
    let stop_one = &livekit::after_list(
        &stop,
        &key,
        "https://lk.example.com",
        0,
        br#"{"items":[{"egress_id":"EG_a","status":"EGRESS_ACTIVE"}]}"#,
    )
    .unwrap()[0];
    let start_one =
        &livekit::after_list(&start, &key, "https://lk.example.com", 0, b"{}").unwrap()[0];
    let twirp = |code: &str| serde_json::json!({"code": code, "msg": "m"}).to_string();
    // StopEgress of an ended egress (412) or an unknown one (404): done.
    assert_eq!(
        livekit::classify_step(
            &stop,
            stop_one,
            412,
            twirp("failed_precondition").as_bytes()
        ),
        Outcome::Done
    );
    assert_eq!(
        livekit::classify_step(&stop, stop_one, 404, twirp("not_found").as_bytes()),
        Outcome::Done
    );
    assert_eq!(
        livekit::classify_step(&stop, stop_one, 200, b"{}"),
        Outcome::Done
    );
    // A start before anyone joined (the LiveKit room does not exist yet): again later.
    assert_eq!(
        livekit::classify_step(&start, start_one, 404, twirp("not_found").as_bytes()),
        Outcome::Retry("livekit StartRoomCompositeEgress: not_found (HTTP 404)".to_owned())
    );
    assert_eq!(
        livekit::classify_step(
            &start,
            start_one,
            412,
            twirp("failed_precondition").as_bytes()
        ),
        Outcome::Permanent(
            "livekit StartRoomCompositeEgress: failed_precondition (HTTP 412)".to_owned()
        )
    );
    // The list: a refused grant is permanent and names the request; 503 is retried; a 404 is
    // never "already gone" for a list.
    assert_eq!(
        livekit::classify(&stop, 401, twirp("unauthenticated").as_bytes()),
        Outcome::Permanent("livekit StopEgress: ListEgress: unauthenticated (HTTP 401)".to_owned())
    );
    assert!(matches!(
        livekit::classify(&start, 503, twirp("unavailable").as_bytes()),
        Outcome::Retry(_)
    ));
    assert!(matches!(
        livekit::classify(&start, 404, twirp("not_found").as_bytes()),
        Outcome::Permanent(_)
    ));
}

#[test]
fn the_egress_follows_recording_and_livekit_whatever_vendor_enforcement_says() {
    let mut vars = vec![
        ("RTC_PROVIDER", "livekit"),
        ("LIVEKIT_URL", "wss://lk.example.com"),
        ("LIVEKIT_API_KEY", "lk_key"),
        ("LIVEKIT_API_SECRET", LK_SECRET),
        ("VENDOR_ENFORCEMENT", "off"),
    ];
    let e = settings(&vars, SecretGroups::ENFORCEMENT).unwrap();
    assert!(e.is_off() && !e.records());
    vars.push(("RECORDING", "on"));
    let e = settings(&vars, SecretGroups::ENFORCEMENT).unwrap();
    assert!(!e.is_off() && e.records());
    assert!(e.cut_stream("r").is_empty(), "still no moderation");
    assert!(e.start_recording("r").is_some());
    assert_eq!(e.bases.livekit, "https://lk.example.com");
    assert!(e.livekit.is_some());
    // The writers know it without the keys.
    let writer = settings(&vars, SecretGroups::NOTHING).unwrap();
    assert!(writer.records() && !writer.has_keys());
    assert!(e.without_keys().records());
    // Another RTC provider: the CDN records by its own configuration.
    vars[0] = ("RTC_PROVIDER", "none");
    vars.truncate(0);
    vars.push(("RECORDING", "on"));
    assert!(
        !settings(&vars, SecretGroups::ENFORCEMENT)
            .unwrap()
            .records()
    );
}

// ---- the settings and the value -----------------------------------------------------------------

fn settings(vars: &[(&str, &str)], reads: SecretGroups) -> Result<Enforcers, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Enforcers::from_lookup(&|k: &str| vars.get(k).cloned(), &reads)
}

const ALIYUN: &[(&str, &str)] = &[
    ("LIVE_PROVIDER", "aliyun"),
    ("RTC_PROVIDER", "livekit"),
    ("ALIYUN_LIVE_PUSH_DOMAIN", "Push.Example.com"),
    ("ALIYUN_LIVE_APP_NAME", "show"),
    ("LIVEKIT_URL", "wss://lk.example.com/"),
    ("LIVEKIT_API_KEY", "lk_key"),
];

#[test]
fn names_come_from_the_providers_settings_and_keys_only_with_the_group() {
    let e = settings(ALIYUN, SecretGroups::NOTHING).unwrap();
    assert_eq!(
        e.cut_stream("room-1"),
        vec![
            Enforcement::CutStream {
                vendor: Vendor::Aliyun,
                domain: "push.example.com".to_owned(),
                app: "show".to_owned(),
                stream: "room-1".to_owned(),
            },
            Enforcement::CutStream {
                vendor: Vendor::Livekit,
                domain: String::new(),
                app: String::new(),
                stream: "room-1".to_owned(),
            },
        ]
    );
    assert_eq!(e.aliyun, None);
    // Without the group, no secret is even looked up.
    let mut vars = ALIYUN.to_vec();
    vars.extend([
        ("ALIYUN_ACCESS_KEY_ID", "LTAI-test"),
        ("ALIYUN_ACCESS_KEY_SECRET", "aliyun-secret-0123456789"),
        ("LIVEKIT_API_SECRET", LK_SECRET),
    ]);
    let e = settings(&vars, SecretGroups::NOTHING).unwrap();
    assert!(e.aliyun.is_none() && e.livekit.is_none());
    let reads = SecretGroups {
        enforcement: true,
        ..SecretGroups::NOTHING
    };
    let e = settings(&vars, reads).unwrap();
    assert_eq!(e.aliyun.as_ref().map(|k| k.id.as_str()), Some("LTAI-test"));
    assert_eq!(e.livekit.as_ref().map(|k| k.id.as_str()), Some("lk_key"));
    assert!(e.tencent.is_none());
    assert_eq!(
        e.bases,
        ApiBases {
            livekit: "https://lk.example.com".to_owned(),
            ..ApiBases::default()
        }
    );
    assert!(e.cut_stream("r").iter().all(|c| e.sends(c)));
    assert!(
        !format!("{e:?}").contains("aliyun-secret"),
        "secrets are redacted"
    );
    assert_eq!(e.without_keys().aliyun, None);
}

#[test]
fn half_a_pair_and_a_plain_http_base_are_refused() {
    let reads = SecretGroups {
        enforcement: true,
        ..SecretGroups::NOTHING
    };
    let mut vars = ALIYUN.to_vec();
    vars.push(("ALIYUN_ACCESS_KEY_ID", "LTAI-test"));
    assert_eq!(
        settings(&vars, reads).unwrap_err().variable,
        "ALIYUN_ACCESS_KEY_SECRET"
    );
    let mut vars = ALIYUN.to_vec();
    vars.push(("TENCENT_API_SECRET_KEY", "tencent-secret-0123456789"));
    assert_eq!(
        settings(&vars, reads).unwrap_err().variable,
        "TENCENT_API_SECRET_ID"
    );
    let mut vars = ALIYUN.to_vec();
    vars.push(("TENCENT_LIVE_API_BASE", "http://live.tencentcloudapi.com"));
    assert_eq!(
        settings(&vars, reads).unwrap_err().variable,
        "TENCENT_LIVE_API_BASE"
    );
    let mut vars = ALIYUN.to_vec();
    vars.push(("ALIYUN_LIVE_API_BASE", "https://live.aliyuncs.com/x"));
    assert_eq!(
        settings(&vars, reads).unwrap_err().variable,
        "ALIYUN_LIVE_API_BASE"
    );
    // A LiveKit URL with a path: refused only where the API is called.
    let mut vars = ALIYUN.to_vec();
    vars.push(("LIVEKIT_URL", "wss://lk.example.com/rtc"));
    vars.remove(
        vars.iter()
            .position(|(k, v)| *k == "LIVEKIT_URL" && *v == "wss://lk.example.com/")
            .unwrap(),
    );
    assert!(settings(&vars, SecretGroups::NOTHING).is_ok());
    assert_eq!(settings(&vars, reads).unwrap_err().variable, "LIVEKIT_URL");
    let mut vars = ALIYUN.to_vec();
    vars.push(("ALIYUN_LIVE_API_BASE", "http://127.0.0.1:8080/"));
    let e = settings(&vars, reads).unwrap();
    assert_eq!(e.bases.aliyun_live, "http://127.0.0.1:8080");
}

#[test]
fn a_call_without_credentials_is_not_made() {
    let e = settings(ALIYUN, SecretGroups::NOTHING).unwrap();
    let call = &e.cut_stream("r")[0];
    assert!(!e.sends(call));
    assert!(matches!(
        e.request(call, 0, "n"),
        Err(Outcome::Permanent(r)) if r == "aliyun ForbidLiveStream: no API credentials configured"
    ));
}

#[test]
fn the_value_round_trips_as_json() {
    let e = tencent_enforcers();
    let calls = [
        e.cut_stream("room-1").remove(0),
        e.remove_member("room-1", "alice").unwrap(),
    ];
    let json = serde_json::to_value(&calls).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"call": "cut_stream", "vendor": "tencent", "domain": "push.example.com", "app": "live", "stream": "room-1"},
            {"call": "remove_member", "vendor": "tencent", "app": "1400000001", "channel": "room-1", "user": "alice"},
        ])
    );
    let back: Vec<Enforcement> = serde_json::from_value(json).unwrap();
    assert_eq!(back, calls);
    assert_eq!(calls[0].action(), "vendor.stream_cut");
    assert_eq!(calls[1].action(), "vendor.member_removed");
    assert_eq!(
        serde_json::to_value(Outcome::Retry("x".to_owned())).unwrap(),
        serde_json::json!({"outcome": "retry", "reason": "x"})
    );
}

// ---- through the outbox ------------------------------------------------------------------------

#[test]
fn vendor_enforcement_off_decides_no_call_and_a_bad_value_is_refused() {
    let mut vars = ALIYUN.to_vec();
    assert!(!settings(&vars, SecretGroups::NOTHING).unwrap().is_off());
    vars.push(("VENDOR_ENFORCEMENT", "off"));
    let e = settings(&vars, SecretGroups::ENFORCEMENT).unwrap();
    assert!(e.is_off());
    assert!(e.cut_stream("r").is_empty());
    assert_eq!(e.remove_member("r", "alice"), None);
    vars.pop();
    vars.push(("VENDOR_ENFORCEMENT", "on"));
    assert!(!settings(&vars, SecretGroups::NOTHING).unwrap().is_off());
    vars.pop();
    vars.push(("VENDOR_ENFORCEMENT", "maybe"));
    assert_eq!(
        settings(&vars, SecretGroups::NOTHING).unwrap_err().variable,
        "VENDOR_ENFORCEMENT"
    );
    // No provider that serves the stream or RTC: off, whatever the switch.
    assert!(settings(&[], SecretGroups::ENFORCEMENT).unwrap().is_off());
}

#[test]
fn the_writers_hold_no_key_and_the_deliverers_do() {
    let mut vars = ALIYUN.to_vec();
    vars.extend([
        ("ALIYUN_ACCESS_KEY_ID", "LTAI5tTestAccessKeyId"),
        (
            "ALIYUN_ACCESS_KEY_SECRET",
            "aliyun-access-key-secret-0123456789",
        ),
        (
            "LIVEKIT_API_SECRET",
            "livekit-secret-for-the-tests-0123456789",
        ),
    ]);
    assert!(!settings(&vars, SecretGroups::TOKENS).unwrap().has_keys());
    let delivering = settings(&vars, SecretGroups::DELIVERY).unwrap();
    assert!(delivering.has_keys());
    assert!(!delivering.without_keys().has_keys());
    assert_eq!(
        delivering.without_keys().cut_stream("r"),
        delivering.cut_stream("r")
    );
}

#[test]
fn a_change_s_calls_are_vendor_entries_after_its_events_in_the_same_order() {
    use crate::domain::outbox::{Event, EventKind, Outbox, Sink};
    use crate::domain::*;
    let e = settings(ALIYUN, SecretGroups::NOTHING).unwrap();
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let room = RoomId::generate();
    let r = room::Room {
        id: room.clone(),
        anchor_id: UserId::generate(),
        anchor_nick: Nick::empty(),
        title: Title::parse("t").unwrap(),
        notice: Notice::empty(),
        cover_url: ImageUrl::empty(),
        extends: Extends::empty(),
        category: Category::empty(),
        mode: RoomMode::Normal,
        status: RoomStatus::Ended,
        version: 3,
        created_at: now,
        updated_at: now,
        started_at: None,
        stopped_at: Some(now),
        meeting: meeting::Meeting::default(),
        anchor_seen_at: None,
        channel_started_at: None,
        expires_at: None,
        metrics: room::MetricsSnapshot::default(),
        shards_used: 0,
        deleted_at: None,
        muted: Vec::new(),
        chat_ready: false,
        changes: 6,
        stopped: None,
        recording: None,
    };
    let event = Event::new(EventKind::RoomEnded, &r, now);
    let calls = e.cut_stream(room.as_str());
    let order = crate::domain::outbox::order(&r);
    let vendor = Outbox::enforcing(&room, order, now, 99, &event, calls.clone());
    assert_eq!(vendor.len(), 2, "Alibaba's ingest and LiveKit's room");
    let hooks = Outbox {
        im: false,
        webhook: true,
    }
    .entries(&room, order, now, 99, vec![event.clone()]);
    assert!(
        vendor
            .iter()
            .all(|v| v.sink == Sink::Vendor && v.order == 7)
    );
    assert_eq!(
        vendor
            .iter()
            .map(|v| v.call.clone().unwrap())
            .collect::<Vec<_>>(),
        calls
    );
    // One change's entries share its order; its calls keep theirs, and an entry of another
    // sink is never one of them.
    assert!(vendor[0].seq < vendor[1].seq);
    assert_eq!(&vendor[0].seq[..16], &hooks[0].seq[..16]);
    assert!(hooks[0].call.is_none());
    assert!(Outbox::enforcing(&room, order, now, 99, &event, Vec::new()).is_empty());
    // An entry stored before vendor calls (no `call`) reads back as before.
    let mut json = serde_json::to_value(&hooks[0]).unwrap();
    assert!(json.get("call").is_none());
    json.as_object_mut().unwrap().remove("call");
    let back: crate::domain::outbox::Entry = serde_json::from_value(json).unwrap();
    assert_eq!(back, hooks[0]);
}
