//! The vendors' signing algorithms, written out from their documentation (not our signers):
//! what the stand-ins check requests with.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

// ---- the vendors' algorithms, written out ------------------------------------------------------

/// SHA-1 (FIPS 180-4 §6.1).
pub(super) fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, t);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

pub(super) fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// HMAC (RFC 2104) over a hash with 64-byte blocks.
pub(super) fn hmac(hash: fn(&[u8]) -> Vec<u8>, key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut block = if key.len() > 64 {
        hash(key)
    } else {
        key.to_vec()
    };
    block.resize(64, 0);
    let inner: Vec<u8> = block
        .iter()
        .map(|b| b ^ 0x36)
        .chain(data.to_vec())
        .collect();
    let outer: Vec<u8> = block.iter().map(|b| b ^ 0x5c).chain(hash(&inner)).collect();
    hash(&outer)
}

pub(super) fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac(|d| sha1(d).to_vec(), key, data)
}

pub(super) fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac(sha256, key, data)
}

/// Percent-decoding of a query component.
pub(super) fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Alibaba's encoding (the doc's Java recipe: `URLEncoder.encode` with `+`→`%20`,
/// `*`→`%2A`, `%7E`→`~`), written as the set it keeps.
pub(super) fn aliyun_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Alibaba's RPC signature V1 of `params` (decoded, `Signature` excluded).
pub(super) fn aliyun_signature(
    method: &str,
    params: &BTreeMap<String, String>,
    secret: &str,
) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (aliyun_encode(k), aliyun_encode(v)))
        .collect();
    pairs.sort();
    let canonical = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let sts = format!(
        "{method}&{}&{}",
        aliyun_encode("/"),
        aliyun_encode(&canonical)
    );
    STANDARD.encode(hmac_sha1(format!("{secret}&").as_bytes(), sts.as_bytes()))
}

/// Tencent's TC3-HMAC-SHA256 signature of a request, from the headers it names as signed.
pub(super) fn tc3_signature(
    secret_key: &str,
    headers: &HashMap<String, String>,
    signed: &str,
    body: &[u8],
    timestamp: i64,
    service: &str,
) -> String {
    let canonical_headers: String = signed
        .split(';')
        .map(|name| {
            let value = headers.get(name).map_or("", String::as_str);
            format!("{name}:{}\n", value.trim().to_lowercase())
        })
        .collect();
    let canonical = format!(
        "POST\n/\n\n{canonical_headers}\n{signed}\n{}",
        hex::encode(sha256(body))
    );
    let date = chrono::DateTime::from_timestamp(timestamp, 0)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    let sts = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{}",
        hex::encode(sha256(canonical.as_bytes()))
    );
    let k_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac_sha256(&k_date, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"tc3_request");
    hex::encode(hmac_sha256(&k_signing, sts.as_bytes()))
}

/// An HS256 JWT's claims, if `secret` signed it.
pub(super) fn hs256_claims(token: &str, secret: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (header, claims, sig) = (parts.next()?, parts.next()?, parts.next()?);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header["alg"] != "HS256" || parts.next().is_some() {
        return None;
    }
    let expected = hmac_sha256(
        secret.as_bytes(),
        format!("{}.{claims}", token_head(token)).as_bytes(),
    );
    if URL_SAFE_NO_PAD.decode(sig).ok()? != expected {
        return None;
    }
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()
}

pub(super) fn token_head(token: &str) -> &str {
    token.split('.').next().unwrap_or_default()
}

pub(super) fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}
