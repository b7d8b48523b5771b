//! Unit tests of `credentials/tencent` (kept apart from the request-path code).

use super::*;

#[test]
fn tx_secret_reproduces_the_published_vector() {
    // Tencent Cloud live push-URL documentation.
    assert_eq!(
        tx_secret("e12c46f2612d5106e2034781ab261ca3", "test", "5C271099"),
        "f85a2ab363fe4deaffef9754d79da6fe"
    );
    assert_eq!(tx_time(0x5C27_1099), "5C271099");
}

#[test]
fn a_user_sig_decodes_to_its_fields_and_its_hmac() {
    let sig = user_sig(
        1_400_000_000,
        b"secret",
        "alice",
        1_700_000_000,
        86_400,
        None,
    );
    assert!(!sig.contains(['+', '/', '=']));
    let doc = decode(&sig).unwrap();
    assert_eq!(doc["TLS.ver"], "2.0");
    assert_eq!(doc["TLS.identifier"], "alice");
    assert_eq!(doc["TLS.sdkappid"], 1_400_000_000u32);
    assert_eq!(doc["TLS.time"], 1_700_000_000i64);
    assert_eq!(doc["TLS.expire"], 86_400);
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"secret").unwrap();
    mac.update(
        b"TLS.identifier:alice\nTLS.sdkappid:1400000000\nTLS.time:1700000000\nTLS.expire:86400\n",
    );
    assert_eq!(doc["TLS.sig"], STANDARD.encode(mac.finalize().into_bytes()));
}

#[test]
fn a_numeric_room_userbuf_has_the_version_0_layout() {
    let buf = userbuf(
        "ab",
        0x0102_0304,
        RoomRef::Numeric(10_000),
        0x0A0B_0C0D,
        255,
    );
    assert_eq!(
        buf,
        [
            vec![0, 0, 2, b'a', b'b'],
            vec![1, 2, 3, 4],
            10_000u32.to_be_bytes().to_vec(),
            vec![0x0A, 0x0B, 0x0C, 0x0D],
            vec![0, 0, 0, 255],
            vec![0, 0, 0, 0],
        ]
        .concat()
    );
}

#[test]
fn a_string_room_userbuf_has_version_1_and_the_room_at_the_end() {
    let buf = userbuf("ab", 1, RoomRef::String("r-1"), 2, 42);
    assert_eq!(buf[0], 1);
    assert_eq!(
        &buf[9..13],
        &[0, 0, 0, 0],
        "numeric id is 0 for string rooms"
    );
    assert_eq!(&buf[buf.len() - 5..], &[0, 3, b'r', b'-', b'1']);
}

#[test]
fn the_subscriber_grant_never_sends() {
    use privilege::*;
    assert_eq!(
        SUBSCRIBER & (SEND_AUDIO | SEND_VIDEO | SEND_SUB_VIDEO | CREATE_ROOM),
        0
    );
    assert_ne!(SUBSCRIBER & ENTER_ROOM, 0);
}
