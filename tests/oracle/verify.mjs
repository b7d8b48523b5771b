// Verifies credentials liveroom issued, with the vendors' own libraries.
//
// stdin: a JSON array of checks; stdout: a JSON array of results, one per check.
//   {kind: "tencent", sdkappid, key, sig}
//     Tencent's npm library (tls-sig-api-v2) has no verifier, so this decodes the UserSig
//     (base64 with *-_ → +/=, zlib, JSON) and has the library sign the same request at the same
//     instant (Date.now pinned to TLS.time): a plain UserSig with genUserSig, a privateMapKey
//     with genPrivateMapKey / genPrivateMapKeyWithStringRoomID for the room and privileges the
//     userbuf names. Valid when the library's HMAC and userbuf equal ours. Compressed bytes are
//     not compared: the libraries need not emit identical zlib streams.
//   {kind: "livekit", api_key, api_secret, token}
//     LiveKit's own TokenVerifier (signature, issuer, expiry); returns the claims.
//   {kind: "livekit_webhook_sign", api_key, api_secret, body}
//     The Authorization a LiveKit server sends with `body`: an AccessToken valid 5 minutes
//     with claim sha256 = base64(sha256(body)) (livekit/protocol webhook/url_notifier.go).
//   {kind: "livekit_webhook_verify", api_key, api_secret, body, token}
//     What LiveKit's WebhookReceiver.receive checks before it parses: TokenVerifier (signature,
//     issuer = api_key, exp), then the sha256 claim against the body.
import zlib from "node:zlib";
import tls from "tls-sig-api-v2";
import { createHash } from "node:crypto";
import { AccessToken, TokenVerifier } from "livekit-server-sdk";

const sha256 = (body) => createHash("sha256").update(body).digest("base64");

async function signWebhook({ api_key, api_secret, body }) {
  const at = new AccessToken(api_key, api_secret, { ttl: "5m" });
  at.sha256 = sha256(body);
  return { valid: true, token: await at.toJwt() };
}

async function verifyWebhook({ api_key, api_secret, body, token }) {
  try {
    const claims = await new TokenVerifier(api_key, api_secret).verify(token);
    if (claims.sha256 !== sha256(body)) {
      return { valid: false, error: "sha256 checksum of body does not match" };
    }
    return { valid: true, claims };
  } catch (e) {
    return { valid: false, error: String(e && e.message ? e.message : e) };
  }
}

function decodeSig(sig) {
  const b64 = sig.replace(/\*/g, "+").replace(/-/g, "/").replace(/_/g, "=");
  return JSON.parse(zlib.inflateSync(Buffer.from(b64, "base64")).toString());
}

function parseUserbuf(b64) {
  const buf = Buffer.from(b64, "base64");
  let o = 0;
  const version = buf[o++];
  const accountLen = buf.readUInt16BE(o); o += 2;
  const account = buf.subarray(o, o + accountLen).toString(); o += accountLen;
  const sdkappid = buf.readUInt32BE(o); o += 4;
  const roomNum = buf.readUInt32BE(o); o += 4;
  const expiresAt = buf.readUInt32BE(o); o += 4;
  const privileges = buf.readUInt32BE(o); o += 4;
  const accountType = buf.readUInt32BE(o); o += 4;
  let roomStr = null;
  if (version === 1) {
    const len = buf.readUInt16BE(o); o += 2;
    roomStr = buf.subarray(o, o + len).toString(); o += len;
  }
  return { version, account, sdkappid, roomNum, expiresAt, privileges, accountType, roomStr, trailing: buf.length - o };
}

function verifyTencent({ sdkappid, key, sig }) {
  const ours = decodeSig(sig);
  const api = new tls.Api(sdkappid, key);
  const realNow = Date.now;
  Date.now = () => ours["TLS.time"] * 1000;
  let theirs, userbuf = null;
  try {
    if (ours["TLS.userbuf"] === undefined) {
      theirs = decodeSig(api.genUserSig(ours["TLS.identifier"], ours["TLS.expire"]));
    } else {
      userbuf = parseUserbuf(ours["TLS.userbuf"]);
      theirs = decodeSig(
        userbuf.version === 1
          ? api.genPrivateMapKeyWithStringRoomID(ours["TLS.identifier"], ours["TLS.expire"], userbuf.roomStr, userbuf.privileges)
          : api.genPrivateMapKey(ours["TLS.identifier"], ours["TLS.expire"], userbuf.roomNum, userbuf.privileges),
      );
    }
  } finally {
    Date.now = realNow;
  }
  const same = ["TLS.ver", "TLS.identifier", "TLS.sdkappid", "TLS.time", "TLS.expire", "TLS.userbuf", "TLS.sig"]
    .every((k) => JSON.stringify(ours[k]) === JSON.stringify(theirs[k]));
  return {
    valid: same && Number(ours["TLS.sdkappid"]) === Number(sdkappid),
    identifier: ours["TLS.identifier"],
    time: ours["TLS.time"],
    expire: ours["TLS.expire"],
    userbuf,
  };
}

async function verifyLivekit({ api_key, api_secret, token }) {
  try {
    const claims = await new TokenVerifier(api_key, api_secret).verify(token);
    return { valid: true, claims };
  } catch (e) {
    return { valid: false, error: String(e && e.message ? e.message : e) };
  }
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const check of JSON.parse(input)) {
  try {
    if (check.kind === "tencent") results.push(verifyTencent(check));
    else if (check.kind === "livekit") results.push(await verifyLivekit(check));
    else if (check.kind === "livekit_webhook_sign") results.push(await signWebhook(check));
    else if (check.kind === "livekit_webhook_verify") results.push(await verifyWebhook(check));
    else results.push({ valid: false, error: `unknown kind ${check.kind}` });
  } catch (e) {
    results.push({ valid: false, error: String(e && e.message ? e.message : e) });
  }
}
process.stdout.write(JSON.stringify(results));
