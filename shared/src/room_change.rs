//! What every room feature shares, one layer below them all (`rooms`, `meeting`, `moderation`,
//! `presence`, `vendor_tokens`, `callbacks`, `reclaim`, `accounts` and the dialects): the `{id,
//! user_id}` request and its claimed-identity check, the room-or-404 rules, the caller's
//! standing (session and ban), what an answer may sign ([`Signer`]), the outbox report of a
//! change and the expiry of what a write keeps, and the one optimistic retry loop
//! ([`retry_on_conflict`]).
//!
//! Never here: a room's own logic (its state machine is `Room::apply`, its endpoints are
//! `rooms`), HTTP types, or anything that calls a feature module.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::App;
use crate::auth::Caller;
use crate::credentials::Providers;
use crate::domain::RoomStatus;
use crate::domain::outbox::{
    Enforcement, Entry, Event, EventKind, KickedMember, Outbox, status_event,
};
use crate::domain::room::{Counters, Room};
use crate::domain::user::User;
use crate::domain::{FieldError, RoomId};
use crate::error::{ApiError, ErrorCode};
use crate::store::{SessionFound, SessionGuard, StoreError};

// ---- the request naming a room, and who may name it ------------------------------------------

/// A request naming one room: `get`, `start`, `pause`, `stop`, `delete`, `join`, `leave`,
/// `getMeetingInfo`, `rtcToken` (and the dialects' mappings onto them). The seed's `user_id`,
/// if present, must be the caller's ([`RoomTarget::room_id`]).
#[derive(Debug, Deserialize)]
pub struct RoomTarget {
    pub id: String,
    #[serde(default)]
    pub user_id: Option<String>,
}

impl RoomTarget {
    /// The request for room `id` (a dialect's or a callback's mapping).
    pub fn of(id: &impl ToString) -> Self {
        Self {
            id: id.to_string(),
            user_id: None,
        }
    }

    /// The room named, once the body's `user_id` is found to be the caller's (403 otherwise);
    /// a malformed id is `code`.
    pub fn room_id(&self, caller: &Caller, code: ErrorCode) -> Result<RoomId, ApiError> {
        claimed_room_id(caller, self.user_id.as_deref(), &self.id, code)
    }
}

/// A body `user_id`/`anchor` may only repeat the caller's own id (empty counts as absent).
pub fn check_claimed_identity(
    field: &'static str,
    claimed: Option<&str>,
    caller: &Caller,
) -> Result<(), ApiError> {
    match claimed {
        Some(id) if !id.is_empty() && id != caller.user_id.as_str() => Err(ApiError::forbidden(
            format!("{field} must be the caller's own id (it comes from the token)"),
        )
        .with_detail("field", field)),
        _ => Ok(()),
    }
}

/// The room `id` of a body whose `user_id` (if any) must be the caller's: the claim checked
/// first (403), then the id (`code`).
pub fn claimed_room_id(
    caller: &Caller,
    user_id: Option<&str>,
    id: &str,
    code: ErrorCode,
) -> Result<RoomId, ApiError> {
    check_claimed_identity("user_id", user_id, caller)?;
    parse_room_id(code, id)
}

/// A body's room `id`; a malformed one is `code`.
pub fn parse_room_id(code: ErrorCode, raw: &str) -> Result<RoomId, ApiError> {
    RoomId::parse("id", raw).map_err(|e| ApiError::invalid(code, e))
}

/// A malformed field of a request body: 400 `SystemVerifyError`.
pub fn invalid(e: FieldError) -> ApiError {
    ApiError::invalid(ErrorCode::SystemVerifyError, e)
}

// ---- room or 404 ----------------------------------------------------------------------------

/// A room that exists and is not deleted (a deleted room is gone for every reader).
pub fn found(room: Option<Room>) -> Result<Room, ApiError> {
    room.filter(|r| !r.is_deleted())
        .ok_or_else(ApiError::room_not_found)
}

/// [`found`] for a room read with its counters.
pub fn found_view(view: Option<(Room, Counters)>) -> Result<(Room, Counters), ApiError> {
    view.filter(|(r, _)| !r.is_deleted())
        .ok_or_else(ApiError::room_not_found)
}

/// [`found`] for an answer that shows the room to `caller`: a 1v1 call is read only by its
/// participants, and does not exist for anyone else (404, as if it never had).
pub fn found_for(room: Option<Room>, caller: &Caller) -> Result<Room, ApiError> {
    found(room.filter(|r| r.is_readable_by(&caller.user_id)))
}

// ---- the caller's standing --------------------------------------------------------------------

fn session_ended() -> ApiError {
    ApiError::new(
        ErrorCode::UserTokenInvalid,
        "the session has ended; log in again",
    )
}

/// Whether the caller's session still stands, by what one read `found` of it (in the same
/// read as what the caller asked for): 401 `UserTokenInvalid` once a `logout` ended it, a
/// `logout {all}` or `deleteUser` ended every session of its generation, or the user is
/// gone. Every endpoint that signs a vendor credential or URL asks this before signing. The
/// caller's user, or `None` for a caller a vendor vouched for ([`Caller::vouched`]: no session).
pub fn standing(caller: &Caller, found: SessionFound) -> Result<Option<User>, ApiError> {
    let ended = found.ended;
    let user = account_standing(caller, found)?;
    if ended && user.is_some() {
        return Err(session_ended());
    }
    Ok(user)
}

/// [`standing`] but for one session's own `logout`: whether the caller's account still
/// stands for its token (not deleted or disabled, no `logout {all}` since the token was
/// issued). Every route that takes an access token asks this (or [`standing`]) in its first
/// store call; a logged-out session's access token keeps working where nothing is signed, as
/// it always did (docs/api.md, Sessions), until it expires.
pub fn account_standing(caller: &Caller, found: SessionFound) -> Result<Option<User>, ApiError> {
    if caller.expires_at.is_none() {
        return Ok(None);
    }
    // A token outlives its user only if the user was deleted; then it names nobody.
    let Some(user) = found.user.filter(|u| !u.is_deleted()) else {
        return Err(ApiError::new(
            ErrorCode::UserTokenInvalid,
            "the user no longer exists",
        ));
    };
    if user.sessions != caller.session.generation {
        return Err(session_ended());
    }
    // Disabling bumps the generation too; an account enabled again keeps its old tokens dead.
    if user.disabled.is_some() {
        return Err(ApiError::new(
            ErrorCode::UserTokenInvalid,
            "the account is disabled",
        ));
    }
    Ok(Some(user))
}

/// The caller's user, if the caller's session still stands: not logged out, not ended by
/// `logout {all}` or `deleteUser` (one read).
pub async fn live_session<S: crate::store::SessionRead + ?Sized>(
    app: &App<S>,
    caller: &Caller,
) -> Result<User, ApiError> {
    let (user, ended) = app
        .store
        .session(&caller.user_id, &caller.session.id)
        .await?;
    // A vouched caller has no session to renew.
    standing(caller, SessionFound { user, ended })?.ok_or_else(session_ended)
}

/// What a write that comes first in its endpoint holds the caller's standing to, in the same
/// one write ([`SessionGuard`]: the user not closed or disabled, its session generation the
/// token's); `None` for a caller a vendor vouched for (no session).
pub fn guard(caller: &Caller) -> Option<SessionGuard<'_>> {
    caller.expires_at.map(|_| SessionGuard {
        user: &caller.user_id,
        generation: caller.session.generation,
    })
}

/// The answer to a write of the caller's own user item held to [`guard`]: its failed
/// condition is the guard's (the store tells a missing or closed user apart), 401.
pub fn guarded<T>(result: Result<T, StoreError>) -> Result<T, ApiError> {
    result.map_err(|e| match e {
        StoreError::Conflict => ApiError::new(
            ErrorCode::UserTokenInvalid,
            "the session has ended or the account is disabled; log in again",
        ),
        e => e.into(),
    })
}

/// Whether the caller's account still stands for its token ([`account_standing`]), by a read
/// of its own: 401 if not. Where a route's first call cannot carry the user item (a listing's
/// `Query`: run at the same time), and to explain why a write held to [`guard`] (and to
/// conditions of its own) failed, on that path only.
pub async fn still_stands<S: crate::store::SessionRead + ?Sized>(
    app: &App<S>,
    caller: &Caller,
) -> Result<(), ApiError> {
    if caller.expires_at.is_none() {
        return Ok(());
    }
    let (user, ended) = app
        .store
        .session(&caller.user_id, &caller.session.id)
        .await?;
    account_standing(caller, SessionFound { user, ended }).map(drop)
}

/// Whether a ban ending at `until` (if ever banned) still holds at `now`.
pub fn is_banned(until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    until.is_some_and(|until| until > now)
}

/// The refusal of a member whose ban (ending at `until`, if ever banned) still holds at `now`.
pub fn refuse_if_banned(until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), ApiError> {
    match until.filter(|_| is_banned(until, now)) {
        Some(until) => Err(ApiError::new(
            ErrorCode::RoomMemberBanned,
            "the anchor removed you from this room",
        )
        .with_detail("banned_until", crate::clock::rfc3339(&until))),
        None => Ok(()),
    }
}

/// What an answer may sign for its viewer: the one rule of every answer that carries a URL or
/// credential (`RoomInfo` and `MeetingInfo` wherever they are answered, `rtcToken`, `token`,
/// the dialects' tokens). Nothing for a member the anchor banned from the room (as `rtcToken`
/// refuses them), and nothing that outlives the viewer's access token (its providers' lifetime
/// is capped at the token's `exp`). Made only by [`Signer::for_viewer`] (and
/// [`Signer::nothing`]).
#[derive(Debug, Clone)]
pub struct Signer {
    /// The configured providers, their credentials' lifetime capped for this viewer.
    pub(crate) providers: Providers,
    /// When (unix seconds) signatures are made.
    pub(crate) now: i64,
    /// Nothing is signed: the viewer is banned from the room (or the room is gone).
    pub(crate) withheld: bool,
}

impl Signer {
    /// What `viewer` may be signed at the app's now, in a room whose ban on them (if any)
    /// ends at `banned_until`.
    pub fn for_viewer<S: ?Sized>(
        app: &App<S>,
        viewer: &Caller,
        banned_until: Option<DateTime<Utc>>,
    ) -> Self {
        let now = app.clock.now();
        Self {
            providers: app
                .config
                .providers
                .until(viewer.expires_at, now.timestamp()),
            now: now.timestamp(),
            withheld: is_banned(banned_until, now),
        }
    }

    /// Signs nothing (the answer about a room that is gone).
    pub fn nothing<S: ?Sized>(app: &App<S>) -> Self {
        Self {
            providers: app.config.providers.clone(),
            now: app.clock.now().timestamp(),
            withheld: true,
        }
    }
}

// ---- what a change reports and keeps ------------------------------------------------------------

/// The expiry of what a write at `now` keeps: `now + RETENTION_DAYS`.
pub fn expiry<S: ?Sized>(app: &App<S>, now: DateTime<Utc>) -> i64 {
    now.timestamp() + i64::try_from(app.config.retention.as_secs()).unwrap_or(i64::MAX / 4)
}

/// The outbox entries reporting `kind` of `room` (as the change leaves it) at `now`: none when
/// no sink is on.
pub fn report<S: ?Sized>(
    app: &App<S>,
    kind: EventKind,
    room: &Room,
    now: DateTime<Utc>,
    member: Option<KickedMember>,
) -> Vec<Entry> {
    report_enforced(app, kind, room, now, member, Vec::new())
}

/// [`report`], and the vendor calls `calls` that enforce the change (issue 24: a stop's
/// stream cut, a kick's removal from the RTC channel), one [`Sink::Vendor`] entry each, in
/// the same write: none when no sink is on and there is no call.
///
/// [`Sink::Vendor`]: crate::domain::outbox::Sink::Vendor
pub fn report_enforced<S: ?Sized>(
    app: &App<S>,
    kind: EventKind,
    room: &Room,
    now: DateTime<Utc>,
    member: Option<KickedMember>,
    calls: Vec<Enforcement>,
) -> Vec<Entry> {
    let outbox = app.config.outbox;
    if outbox.is_off() && calls.is_empty() {
        return Vec::new();
    }
    let mut event = Event::new(kind, room, now);
    event.member = member;
    let order = crate::domain::outbox::order(room);
    let expires_at = expiry(app, now);
    let mut entries = Outbox::enforcing(&room.id, order, now, expires_at, &event, calls);
    entries.splice(
        0..0,
        outbox.entries(&room.id, order, now, expires_at, vec![event]),
    );
    entries
}

/// The outbox entries of a change from `before` to `after` at `now`: its life-cycle event,
/// if the status changed, and the recording calls of the change ([`recording_calls`]).
pub fn life_cycle_events<S: ?Sized>(
    app: &App<S>,
    before: &Room,
    after: &Room,
    now: DateTime<Utc>,
) -> Vec<Entry> {
    life_cycle_enforced(app, before, after, now, Vec::new())
}

/// [`life_cycle_events`], with the vendor calls `calls` that enforce the change (an operator's
/// stop cuts the stream) after its recording calls. Every change of a room's status reports
/// through here: so no path forgets the recording.
pub fn life_cycle_enforced<S: ?Sized>(
    app: &App<S>,
    before: &Room,
    after: &Room,
    now: DateTime<Utc>,
    calls: Vec<Enforcement>,
) -> Vec<Entry> {
    let Some(kind) = status_event(before, after) else {
        return Vec::new();
    };
    let mut all = recording_calls(app, before, after.status == RoomStatus::Live);
    all.extend(calls);
    report_enforced(app, kind, after, now, None, all)
}

/// The vendor calls that keep recording room `before` (as read) in step with a change that
/// leaves it live or not (`live`), issue 26: where the server starts the recording
/// ([`crate::enforce::Enforcers::records`]: LiveKit's egress) and the room is recorded, a room
/// that goes live starts it, and a live room that pauses, ends or is deleted stops it.
pub fn recording_calls<S: ?Sized>(app: &App<S>, before: &Room, live: bool) -> Vec<Enforcement> {
    let enforcers = &app.config.enforcement;
    if before.recording.is_none() {
        return Vec::new();
    }
    let was_live = before.status == RoomStatus::Live;
    let call = match (was_live, live) {
        (false, true) => enforcers.start_recording(before.id.as_str()),
        (true, false) => enforcers.stop_recording(before.id.as_str()),
        _ => None,
    };
    call.into_iter().collect()
}

// ---- the optimistic retry loop --------------------------------------------------------------

/// How often a write re-reads and retries after losing a race before giving up with 409.
pub const MAX_ATTEMPTS: usize = 32;

/// What one attempt of an optimistic write came to.
#[derive(Debug)]
pub enum Attempt<S, T> {
    /// Finished (written, or nothing to write, or refused by an error): the answer.
    Done(T),
    /// Lost a race (the conditional write found the item changed): try again from this
    /// state (typically what was read again).
    Again(S),
}

/// Runs `attempt` from `state` until it is done, at most `attempts` times; past that, the
/// answer is `exhausted` of the last state (409 as a rule). Each attempt reads, decides and
/// writes conditionally on what it read: a lost race hands the next attempt its state, so
/// concurrent writers serialise and no update is lost. The state is passed by value (an
/// attempt's future owns it), so the futures stay `Send` whatever they hold.
pub async fn retry_on_conflict<S, T, F, Fut>(
    attempts: usize,
    state: S,
    mut attempt: F,
    exhausted: impl FnOnce(S) -> ApiError,
) -> Result<T, ApiError>
where
    F: FnMut(S) -> Fut,
    Fut: Future<Output = Result<Attempt<S, T>, ApiError>>,
{
    let mut state = state;
    for _ in 0..attempts {
        match attempt(state).await? {
            Attempt::Done(answer) => return Ok(answer),
            Attempt::Again(next) => state = next,
        }
    }
    Err(exhausted(state))
}

// ---- a room's recording (issue 26) --------------------------------------------------------------

/// Writes `next` as `read`'s recording (conditionally on the revision read), with its
/// `room_recorded` report when it is decided (ready or failed): `Ok(false)` when the room
/// changed since (the caller reads again, or leaves it to the next sweep).
pub async fn write_recording<S: crate::store::RecordingWrite + ?Sized>(
    app: &App<S>,
    read: &Room,
    next: &crate::domain::recording::Recording,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let expected = read.recording.as_ref().map_or(0, |r| r.revision);
    let events = recorded_events(app, read, next, now);
    match app
        .store
        .update_recording(&read.id, next, expected, &events)
        .await
    {
        Ok(()) => Ok(true),
        Err(StoreError::Conflict) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The outbox entries of `read`'s recording becoming `next` at `now`: a `room_recorded` event
/// (to the webhook receiver) when its status changes to ready or failed; none for a further
/// file of a ready recording.
fn recorded_events<S: ?Sized>(
    app: &App<S>,
    read: &Room,
    next: &crate::domain::recording::Recording,
    now: DateTime<Utc>,
) -> Vec<Entry> {
    use crate::domain::recording::VodStatus;
    let before = read.recording.as_ref().map(|r| r.status);
    if next.status == VodStatus::Preparing || before == Some(next.status) {
        return Vec::new();
    }
    let outbox = app.config.outbox;
    if outbox.is_off() {
        return Vec::new();
    }
    let room = Room {
        recording: Some(next.clone()),
        ..read.clone()
    };
    let mut event = Event::new(EventKind::RoomRecorded, &room, now);
    event.recording = Some(crate::domain::outbox::RecordingSummary::of(next));
    let order = crate::domain::outbox::order(&room);
    outbox.entries(&room.id, order, now, expiry(app, now), vec![event])
}

/// Changes the recording of room `id` by `change` of what is stored (read again after a lost
/// race): `Ok(false)` when the room is not ours, not recorded, or `change` leaves it as it
/// is (a file already kept, a failure after a file).
pub async fn change_recording<S, F>(app: &App<S>, id: &RoomId, change: F) -> Result<bool, ApiError>
where
    S: crate::store::RecordingWrite + crate::store::RoomRead + ?Sized,
    F: Fn(
        &Room,
        &crate::domain::recording::Recording,
    ) -> Option<crate::domain::recording::Recording>,
{
    for _ in 0..MAX_ATTEMPTS {
        let Some(room) = app.store.room(id).await? else {
            return Ok(false);
        };
        let Some(next) = room.recording.as_ref().and_then(|r| change(&room, r)) else {
            return Ok(false);
        };
        if room.is_deleted() {
            return Ok(false);
        }
        if write_recording(app, &room, &next, app.clock.now()).await? {
            return Ok(true);
        }
    }
    Err(ApiError::new(
        ErrorCode::RoomVersionConflict,
        "the room's recording is changing too fast; retry",
    ))
}
