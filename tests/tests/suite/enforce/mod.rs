//! Moderation that reaches the vendors (issue 24): our enforcement clients (`liveroom::enforce`)
//! against local stand-ins of the vendors' APIs, over real HTTP.
//!
//! Each stand-in parses a request as its vendor does and checks it with an implementation
//! written here from the vendor's documented algorithm, not with our signer: Alibaba's RPC
//! signature V1 (SHA-1 and HMAC written out below, checked against FIPS 180 / RFC 2202 and the
//! SDK's vector), its `Timestamp` window and `SignatureNonce` replay; Tencent's TC3-HMAC-SHA256
//! (checked against the doc's worked example), rebuilt from the `SignedHeaders` the request
//! names, its 5-minute `X-TC-Timestamp` window and the credential scope's service; LiveKit's
//! HS256 JWT (verified by hand), its `nbf`/`exp` and the grant each RPC needs (`roomCreate`
//! for `DeleteRoom`; `roomAdmin` and `video.room` = the request's room for
//! `RemoveParticipant`). Each answers in its vendor's format, errors included.
//!
//! The calls made through the outbox, on both stores, are `outbox`'s. The stand-ins:
//! [`aliyun`], [`tencent`] and [`livekit`] start one on 127.0.0.1:0 and return a [`StandIn`]:
//! its base URL, what it accepted ([`StandIn::calls`]) and refused ([`StandIn::rejections`]), its state (streams,
//! channels and their members) and failures to give ([`StandIn::fail_next`],
//! [`StandIn::throttle_next`]).

mod oracle;
mod outbox;
pub(crate) mod stand_ins;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use liveroom::enforce::{Enforcement, Enforcers, Outcome, Vendor};
use serde_json::json;

use oracle::*;
pub(crate) use stand_ins::*;

#[test]
fn the_stand_ins_algorithms_reproduce_the_published_vectors() {
    // FIPS 180 and RFC 2202 (test case 2).
    assert_eq!(
        hex::encode(sha1(b"abc")),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        hex::encode(sha1(&[b'a'; 1000])),
        "291e9a6c66994949b57ba5e650361e98fc36b1ba"
    );
    assert_eq!(
        hex::encode(hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    );
    // Alibaba's SDK vector (darabonba-openapi-util `test_get_rpc_signature`).
    let params: BTreeMap<String, String> = [("query", "test"), ("body", "test")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(
        aliyun_signature("GET", &params, "secret"),
        "XlUyV4sXjOuX5FnjUz9IF9tm5rU="
    );
    // Tencent's worked example ("Signature v3", SignedHeaders content-type;host).
    let headers: HashMap<String, String> = [
        ("content-type", "application/json; charset=utf-8"),
        ("host", "cvm.tencentcloudapi.com"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(
        tc3_signature(
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            &headers,
            "content-type;host",
            br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#,
            1_551_113_065,
            "cvm",
        ),
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
}

fn https() -> &'static liveroom::https::Https {
    liveroom::https::client().unwrap()
}

fn cut(e: &Enforcers, room: &str) -> Enforcement {
    let mut calls = e.cut_stream(room);
    assert_eq!(calls.len(), 1, "{calls:?}");
    calls.remove(0)
}

#[tokio::test]
async fn each_call_succeeds_against_its_stand_in() {
    // Alibaba: the stream of the push URLs (push.example.com/live/{room}), and the ARTC
    // terminal of our user's vendor id.
    let s = aliyun(ALIYUN_ID, ALIYUN_SECRET).await;
    let e = enforcers(&aliyun_vars(&s.base, ALIYUN_SECRET));
    s.add_stream("push.example.com/live/room-1");
    s.add_member("room-1", "_05alice");
    let now = unix_now();
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now).await,
        Outcome::Done
    );
    let kick = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(e.send(https(), &kick, now).await, Outcome::Done);
    assert!(!s.has_stream("push.example.com/live/room-1"));
    assert_eq!(s.members("room-1"), Some(BTreeSet::new()));
    let calls = s.calls();
    assert_eq!(calls[0].action, "ForbidLiveStream");
    assert_eq!(calls[0].params["Oneshot"], "yes");
    assert_eq!(calls[0].params["StreamName"], "room-1");
    assert_eq!(calls[1].action, "RemoveTerminals");
    assert_eq!(calls[1].params["TerminalIds.1"], "_05alice");
    assert_eq!(s.rejections(), Vec::<String>::new());

    // Tencent: DropLiveStream of live/{room} on the push domain; TRTC's string room.
    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    let e = enforcers(&tencent_vars(&s.base, TENCENT_KEY));
    s.add_stream("push.example.com/live/room-1");
    s.add_member("room-1", "alice");
    s.add_member("room-1", "bob");
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now).await,
        Outcome::Done
    );
    let kick = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(e.send(https(), &kick, now).await, Outcome::Done);
    assert!(!s.has_stream("push.example.com/live/room-1"));
    assert_eq!(
        s.members("room-1"),
        Some(BTreeSet::from(["bob".to_owned()]))
    );
    let calls = s.calls();
    assert_eq!(
        (calls[0].action.as_str(), calls[1].action.as_str()),
        ("DropLiveStream", "RemoveUserByStrRoomId")
    );
    assert_eq!(
        calls[1].params,
        json!({"SdkAppId": SDKAPPID, "RoomId": "room-1", "UserIds": ["alice"]})
    );
    assert_eq!(s.rejections(), Vec::<String>::new());

    // LiveKit: RemoveParticipant, then DeleteRoom of the room (the LIVEKIT_URL's server).
    let s = livekit(LK_KEY, LK_SECRET).await;
    let url = s.base.replace("http://", "ws://");
    let e = enforcers(&livekit_vars(&url, LK_SECRET));
    s.add_member("room-1", "alice");
    s.add_member("room-1", "bob");
    let kick = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(e.send(https(), &kick, now).await, Outcome::Done);
    assert_eq!(
        s.members("room-1"),
        Some(BTreeSet::from(["bob".to_owned()]))
    );
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now).await,
        Outcome::Done
    );
    assert_eq!(s.members("room-1"), None);
    let calls = s.calls();
    assert_eq!(calls[0].action, "RemoveParticipant");
    assert_eq!(
        calls[0].params,
        json!({"room": "room-1", "identity": "alice"})
    );
    assert_eq!(calls[1].action, "DeleteRoom");
    assert_eq!(s.rejections(), Vec::<String>::new());
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_stand_in_and_permanent() {
    let now = unix_now();
    let s = aliyun(ALIYUN_ID, ALIYUN_SECRET).await;
    s.add_stream("push.example.com/live/room-1");
    let e = enforcers(&aliyun_vars(&s.base, "not-the-aliyun-secret-0123456789"));
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now).await,
        Outcome::Permanent("aliyun ForbidLiveStream: SignatureDoesNotMatch (HTTP 400)".to_owned())
    );
    assert!(s.has_stream("push.example.com/live/room-1"));
    assert!(s.calls().is_empty());
    assert_eq!(s.rejections().len(), 1);

    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    s.add_member("room-1", "alice");
    let e = enforcers(&tencent_vars(&s.base, "not-the-tencent-secret-0123456789"));
    let kick = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(
        e.send(https(), &kick, now).await,
        Outcome::Permanent(
            "tencent RemoveUserByStrRoomId: AuthFailure.SignatureFailure".to_owned()
        )
    );
    assert!(s.calls().is_empty());
    assert_eq!(
        s.members("room-1"),
        Some(BTreeSet::from(["alice".to_owned()]))
    );

    let s = livekit(LK_KEY, LK_SECRET).await;
    s.add_member("room-1", "alice");
    let url = s.base.clone();
    let e = enforcers(&livekit_vars(&url, "not-the-livekit-secret-0123456789"));
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now).await,
        Outcome::Permanent("livekit DeleteRoom: HTTP 401".to_owned())
    );
    assert_eq!(
        s.members("room-1"),
        Some(BTreeSet::from(["alice".to_owned()]))
    );
    assert_eq!(s.rejections().len(), 1);
}

/// `call`, failing once and throttled once at its stand-in: each a retry with its reason,
/// then done.
async fn retried_then_done(e: &Enforcers, call: &Enforcement, now: i64, reasons: [&str; 2]) {
    for reason in reasons {
        assert_eq!(
            e.send(https(), call, now).await,
            Outcome::Retry(reason.to_owned())
        );
    }
    assert_eq!(e.send(https(), call, now).await, Outcome::Done);
}

#[tokio::test]
async fn failures_and_throttling_are_retried_then_done() {
    let now = unix_now();
    let s = aliyun(ALIYUN_ID, ALIYUN_SECRET).await;
    let e = enforcers(&aliyun_vars(&s.base, ALIYUN_SECRET));
    s.fail_next(1);
    s.throttle_next(1);
    let call = cut(&e, "room-1");
    retried_then_done(
        &e,
        &call,
        now,
        [
            "aliyun ForbidLiveStream: InternalError (HTTP 500)",
            "aliyun ForbidLiveStream: Throttling.User (HTTP 400)",
        ],
    )
    .await;
    assert_eq!(
        s.calls().len(),
        3,
        "each retry is a new, correctly signed call"
    );

    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    let e = enforcers(&tencent_vars(&s.base, TENCENT_KEY));
    s.add_stream("push.example.com/live/room-1");
    s.fail_next(1);
    s.throttle_next(1);
    let call = cut(&e, "room-1");
    retried_then_done(
        &e,
        &call,
        now,
        [
            "tencent DropLiveStream: InternalError",
            "tencent DropLiveStream: RequestLimitExceeded",
        ],
    )
    .await;
    assert!(!s.has_stream("push.example.com/live/room-1"));

    let s = livekit(LK_KEY, LK_SECRET).await;
    let e = enforcers(&livekit_vars(&s.base, LK_SECRET));
    s.add_member("room-1", "alice");
    s.fail_next(1);
    s.throttle_next(1);
    let call = e.remove_member("room-1", "alice").unwrap();
    retried_then_done(
        &e,
        &call,
        now,
        [
            "livekit RemoveParticipant: internal (HTTP 500)",
            "livekit RemoveParticipant: resource_exhausted (HTTP 429)",
        ],
    )
    .await;

    // Nobody listening: retried.
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", gone.local_addr().unwrap());
    drop(gone);
    let e = enforcers(&livekit_vars(&base, LK_SECRET));
    assert!(matches!(
        e.send(https(), &call, now).await,
        Outcome::Retry(_)
    ));
}

#[tokio::test]
async fn nothing_left_to_do_is_done_as_the_docs_say() {
    let now = unix_now();
    // Tencent: "an inactive stream returns success" (the SDK's ResourceNotFound.StreamNotAlive);
    // a room that does not exist has nobody to remove.
    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    let e = enforcers(&tencent_vars(&s.base, TENCENT_KEY));
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now).await,
        Outcome::Done
    );
    let kick = e.remove_member("room-2", "alice").unwrap();
    assert_eq!(e.send(https(), &kick, now).await, Outcome::Done);
    let answers: Vec<String> = s.calls().into_iter().map(|c| c.answer).collect();
    assert_eq!(
        answers,
        [
            "ResourceNotFound.StreamNotAlive",
            "FailedOperation.RoomNotExist"
        ]
    );

    // LiveKit: 404 for a room or participant that is not there.
    let s = livekit(LK_KEY, LK_SECRET).await;
    let e = enforcers(&livekit_vars(&s.base, LK_SECRET));
    s.add_member("room-1", "bob");
    let kick = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(e.send(https(), &kick, now).await, Outcome::Done);
    assert_eq!(
        e.send(https(), &cut(&e, "room-9"), now).await,
        Outcome::Done
    );
    let answers: Vec<String> = s.calls().into_iter().map(|c| c.answer).collect();
    assert_eq!(answers, ["404", "404"]);

    // Alibaba: a channel that does not exist (404 ResourceNotExist) leaves nothing to remove.
    let s = aliyun(ALIYUN_ID, ALIYUN_SECRET).await;
    let e = enforcers(&aliyun_vars(&s.base, ALIYUN_SECRET));
    let kick = e.remove_member("room-2", "alice").unwrap();
    assert_eq!(e.send(https(), &kick, now).await, Outcome::Done);
}

#[tokio::test]
async fn stale_replayed_or_under_granted_requests_are_refused() {
    let now = unix_now();
    // Tencent: a timestamp more than five minutes off.
    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    let e = enforcers(&tencent_vars(&s.base, TENCENT_KEY));
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now - 301).await,
        Outcome::Permanent("tencent DropLiveStream: AuthFailure.SignatureExpire".to_owned())
    );
    assert!(s.calls().is_empty());

    // Alibaba: a Timestamp out of its window, and a nonce used twice.
    let s = aliyun(ALIYUN_ID, ALIYUN_SECRET).await;
    let e = enforcers(&aliyun_vars(&s.base, ALIYUN_SECRET));
    assert_eq!(
        e.send(https(), &cut(&e, "room-1"), now - 32 * 60).await,
        Outcome::Permanent(
            "aliyun ForbidLiveStream: InvalidTimeStamp.Expired (HTTP 400)".to_owned()
        )
    );
    let call = cut(&e, "room-1");
    let request = e.request(&call, now, "the-same-nonce").unwrap();
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let a = https()
            .post(
                &request.url,
                &headers,
                Vec::new(),
                std::time::Duration::from_secs(5),
            )
            .await
            .unwrap();
        answers.push(Enforcers::classify(&call, a.status, &a.body));
    }
    assert_eq!(
        answers,
        [
            Outcome::Done,
            Outcome::Retry("aliyun ForbidLiveStream: SignatureNonceUsed (HTTP 400)".to_owned())
        ]
    );
    assert_eq!(s.calls().len(), 1);
    assert_eq!(s.rejections().len(), 2);

    // LiveKit: an expired token, and a roomAdmin grant for another room.
    let s = livekit(LK_KEY, LK_SECRET).await;
    let e = enforcers(&livekit_vars(&s.base, LK_SECRET));
    s.add_member("room-1", "alice");
    let kick = e.remove_member("room-1", "alice").unwrap();
    assert_eq!(
        e.send(https(), &kick, now - 601).await,
        Outcome::Permanent("livekit RemoveParticipant: HTTP 401".to_owned())
    );
    let token = liveroom::credentials::livekit::admin_token(
        LK_KEY,
        LK_SECRET.as_bytes(),
        &liveroom::credentials::livekit::AdminGrant {
            room: "room-2".to_owned(),
            room_admin: true,
            ..Default::default()
        },
        now,
        600,
    )
    .unwrap();
    let auth = format!("Bearer {token}");
    let a = https()
        .post(
            &format!("{}/twirp/livekit.RoomService/RemoveParticipant", s.base),
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            br#"{"room":"room-1","identity":"alice"}"#.to_vec(),
            std::time::Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(
        Enforcers::classify(&kick, a.status, &a.body),
        Outcome::Permanent("livekit RemoveParticipant: unauthenticated (HTTP 401)".to_owned())
    );
    assert_eq!(
        s.members("room-1"),
        Some(BTreeSet::from(["alice".to_owned()]))
    );
    assert_eq!(s.rejections().len(), 2);
    assert!(s.calls().is_empty());
}

/// LiveKit's egress (issue 26), straight at the stand-in: each egress RPC needs `roomRecord`
/// (a server token with every other grant is refused: Twirp 401 `permissions denied`, as
/// `EnsureRecordPermission` answers); with it, the start, list and stop answer `EgressInfo` in
/// LiveKit's Twirp JSON (proto names, int64 as strings, enums as names), and a stop of an
/// ended egress is 412 `failed_precondition`, an unknown one 404.
#[tokio::test]
async fn the_egress_needs_the_record_grant_and_answers_in_livekits_format() {
    use liveroom::credentials::livekit::{AdminGrant, admin_token};
    let now = unix_now();
    let s = livekit(LK_KEY, LK_SECRET).await;
    s.add_member("room-1", "alice");
    let post = |grant: AdminGrant, method: &'static str, body: serde_json::Value| {
        let base = s.base.clone();
        async move {
            let token = admin_token(LK_KEY, LK_SECRET.as_bytes(), &grant, now, 600).unwrap();
            let auth = format!("Bearer {token}");
            let a = https()
                .post(
                    &format!("{base}/twirp/livekit.Egress/{method}"),
                    &[
                        ("content-type", "application/json"),
                        ("authorization", &auth),
                    ],
                    body.to_string().into_bytes(),
                    std::time::Duration::from_secs(5),
                )
                .await
                .unwrap();
            (
                a.status,
                serde_json::from_slice::<serde_json::Value>(&a.body).unwrap(),
            )
        }
    };
    let all_but_record = AdminGrant {
        room: "room-1".to_owned(),
        room_create: true,
        room_admin: true,
        ..AdminGrant::default()
    };
    let record = AdminGrant {
        room_record: true,
        ..AdminGrant::default()
    };
    let start = json!({"room_name": "room-1", "layout": "speaker",
        "file_outputs": [{"file_type": "MP4", "filepath": "x/{room_name}.mp4"}]});
    for (method, body) in [
        ("StartRoomCompositeEgress", start.clone()),
        ("ListEgress", json!({"room_name": "room-1"})),
        ("StopEgress", json!({"egress_id": "EG_x"})),
    ] {
        assert_eq!(
            post(all_but_record.clone(), method, body).await,
            (
                401,
                json!({"code": "unauthenticated", "msg": "permissions denied"})
            ),
            "{method}"
        );
    }
    assert_eq!(s.rejections(), ["401: grant", "401: grant", "401: grant"]);
    let (status, info) = post(record.clone(), "StartRoomCompositeEgress", start.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(info["status"], "EGRESS_STARTING");
    assert_eq!(info["room_name"], "room-1");
    assert_eq!(info["room_composite"], start);
    assert!(info["started_at"].as_str().unwrap().parse::<i64>().unwrap() > 0);
    assert_eq!(info["ended_at"], "0");
    assert_eq!(info["file_results"], json!([]));
    let id = info["egress_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("EG_"));
    let (_, list) = post(
        record.clone(),
        "ListEgress",
        json!({"room_name": "room-1", "active": true}),
    )
    .await;
    assert_eq!(list["items"][0]["status"], "EGRESS_ACTIVE");
    let (status, info) = post(record.clone(), "StopEgress", json!({"egress_id": id})).await;
    assert_eq!((status, &info["status"]), (200, &json!("EGRESS_ENDING")));
    assert_eq!(
        post(record.clone(), "StopEgress", json!({"egress_id": id})).await,
        (
            412,
            json!({"code": "failed_precondition", "msg": "egress with status EGRESS_COMPLETE cannot be stopped"})
        )
    );
    assert_eq!(
        post(
            record.clone(),
            "StopEgress",
            json!({"egress_id": "EG_unknown"})
        )
        .await
        .0,
        404
    );
    let (_, list) = post(
        record.clone(),
        "ListEgress",
        json!({"room_name": "room-1", "active": true}),
    )
    .await;
    assert_eq!(list["items"], json!([]));
    let (_, list) = post(record.clone(), "ListEgress", json!({"room_name": "room-1"})).await;
    assert_eq!(list["items"][0]["status"], "EGRESS_COMPLETE");
    // A room nobody joined does not exist at LiveKit: nothing to record.
    let (status, answer) = post(
        record,
        "StartRoomCompositeEgress",
        json!({"room_name": "room-2"}),
    )
    .await;
    assert_eq!((status, &answer["code"]), (404, &json!("not_found")));

    // Our calls, twice each: one egress, then none.
    let e = enforcers(&[livekit_vars(&s.base, LK_SECRET), vec![("RECORDING", "on")]].concat());
    s.add_member("room-3", "bob");
    let start = e.start_recording("room-3").unwrap();
    let stop = e.stop_recording("room-3").unwrap();
    for _ in 0..2 {
        assert_eq!(e.send(https(), &start, now).await, Outcome::Done);
    }
    assert_eq!(s.egresses("room-3").len(), 1);
    for _ in 0..2 {
        assert_eq!(e.send(https(), &stop, now).await, Outcome::Done);
    }
    assert!(s.egresses("room-3").iter().all(|e| !e.is_active()));
    assert_eq!(s.rejections().len(), 3);
}

#[tokio::test]
async fn without_credentials_nothing_is_called() {
    let s = tencent(TENCENT_ID, TENCENT_KEY, SDKAPPID).await;
    let mut vars = tencent_vars(&s.base, TENCENT_KEY);
    vars.retain(|(k, _)| !k.starts_with("TENCENT_API_SECRET"));
    let e = enforcers(&vars);
    let call = cut(&e, "room-1");
    assert!(!e.sends(&call));
    assert_eq!(call.vendor(), Vendor::Tencent);
    assert!(matches!(
        e.send(https(), &call, unix_now()).await,
        Outcome::Permanent(r) if r.contains("no API credentials")
    ));
    assert!(s.calls().is_empty() && s.rejections().is_empty());
}
