//! What the three vendors' recording callbacks share (issue 26): the claim kind of a recorded
//! file, whether a file can be of its room, the room's recording change, and the checks of a
//! vendor's ids, paths and URLs (URL-safe ASCII of bounded bytes: nothing a player, a page or
//! JSON reads otherwise).
//!
//! Never here: a vendor's wire format or signature (`alibaba_stream`, `tencent_stream`,
//! `livekit_webhook`), or the claim itself (`callbacks`).

use super::*;

/// The claim kind of a recorded file (see [`once_per_signature`]): `record:` and its format.
/// A recording of several formats (Tencent's MP4 and HLS, Alibaba's m3u8 and mp4) reports
/// each format's file in one second, under one signature value; and the signature covers no
/// field of the event, so nothing else tells a second genuine file from a captured signature
/// sent again with a file of the sender's choosing. So a signature value adds at most one file
/// per format (of the few each vendor has) to a room.
pub(super) fn file_kind(file: &RecordedFile) -> String {
    format!("record:{}", file.format)
}

/// The claim kind of a recording's failure (see [`once_per_signature`]).
pub(super) const FAILURE_KIND: &str = "record-failed";

/// How long before the room's first start a recorded file may begin (the vendors' clocks and
/// ours differ a little).
const RECORDING_CLOCK_LEEWAY_SECS: i64 = 120;

/// What a recording callback reports of the room a stream names.
#[derive(Debug, Clone)]
pub(super) enum Recorded {
    File(RecordedFile),
    Failed,
}

/// Whether `file` can be a recording of `room`, given what the vendor's signature cannot
/// prove (it covers no field of the event): the room has started, and the file began after
/// its first start (and, once the room ended, before its end) and ends no later than now.
fn plausible_file(room: &Room, file: &RecordedFile, now: i64) -> bool {
    let Some(started) = room.started_at.map(|t| t.timestamp()) else {
        return false;
    };
    let stopped = room.stopped_at.map_or(now, |t| t.timestamp());
    file.started_at >= started - RECORDING_CLOCK_LEEWAY_SECS
        && file.started_at <= stopped + RECORDING_CLOCK_LEEWAY_SECS
        && file.started_at <= file.ended_at
        && file.ended_at <= now + RECORDING_CLOCK_LEEWAY_SECS
}

/// Applies what a recording callback reports to the room `stream` names: a file is added (in
/// its place, once), a failure fails a recording still awaited. A room that is not ours or not
/// recorded is ignored.
pub(super) async fn recording_event<S: StreamCallbackStore + ?Sized>(
    app: &App<S>,
    stream: &str,
    event: Recorded,
) -> Result<Outcome, ApiError> {
    let Some(room) = room_of_stream(stream) else {
        let stream = clipped(stream);
        tracing::info!(stream, "recording callback for no room of ours: ignored");
        return Ok(Outcome::Ignored);
    };
    let now = app.clock.now().timestamp();
    let changed =
        crate::room_change::change_recording(app, &room, |read, recording| match &event {
            Recorded::File(file) if plausible_file(read, file, now) => {
                if recording.is_full() {
                    tracing::warn!(
                        room = %read.id,
                        files = recording.files.len(),
                        "recorded file not kept: the room's recording is full"
                    );
                }
                recording.with_file(file.clone())
            }
            Recorded::File(_) => None,
            Recorded::Failed => (read.started_at.is_some())
                .then(|| recording.failed())
                .flatten(),
        })
        .await?;
    applied(changed)
}

/// The longest file id kept (bytes).
const MAX_FILE_ID: usize = 128;
/// The longest object path (Alibaba) or VOD path (Tencent) kept, in bytes.
const MAX_PATH: usize = 256;
/// The longest URL read (Tencent's `video_url`, LiveKit's `location`), in bytes.
pub(super) const MAX_URL: usize = 512;

/// A vendor's id of a file: at most [`MAX_FILE_ID`] bytes of `[A-Za-z0-9_-]` (what Tencent's
/// file ids and LiveKit's egress ids are), else 400.
pub(super) fn file_id(field: &str, value: &str) -> Result<String, ApiError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_FILE_ID
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        return Err(bad(format!(
            "{field} is not an id of at most {MAX_FILE_ID} letters, digits, '_' and '-'"
        )));
    }
    Ok(value.to_owned())
}

/// A relative path of a recorded file, checked: at most [`MAX_PATH`] bytes of URL-safe ASCII
/// (RFC 3986's unreserved characters, `:` and `/`: nothing a player, a page or JSON reads
/// otherwise, nothing escaped, so what is signed is what is requested), segments neither
/// empty nor `.`/`..`; its segments, else 400.
pub(super) fn safe_path<'a>(field: &str, path: &'a str) -> Result<Vec<&'a str>, ApiError> {
    let ascii = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'/'));
    let segments: Vec<&str> = path.split('/').collect();
    let clean = segments
        .iter()
        .all(|s| !s.is_empty() && *s != "." && *s != "..");
    if path.is_empty() || path.len() > MAX_PATH || !ascii || !clean {
        return Err(bad(format!(
            "{field} is not a path of at most {MAX_PATH} URL-safe characters"
        )));
    }
    Ok(segments)
}

/// Whether `url` is an `https` URL of at most [`MAX_URL`] bytes of printable ASCII that needs
/// no escaping anywhere (no blank, quote, angle bracket, backslash, brace or caret).
pub(super) fn safe_url(url: &str) -> bool {
    url.len() <= MAX_URL
        && url.starts_with("https://")
        && url
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"'<>\\`{}|^".contains(&b))
}

/// A number a vendor sent as a number or as a string of one.
pub(super) fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
