//! Moderation (what the seeds leave to the client, and LiveKit has): the anchor's `kick`, with
//! a ban that ends by itself, and `mute`.
//!
//! A kick takes the member off the online list and the co-host list at once; while banned,
//! their `join`, `keepalive` and `rtcToken` for the room are 403. The ban lives on the member's
//! presence item and is a condition of every presence write, so a keepalive racing the kick
//! cannot bring them back: it lands either before the kick (and is undone by it) or after (and
//! fails). A mute is on the room item: the muted member's `user_status` says so, and the grant
//! decided for their next credentials is subscribe-only (see `credentials::Grant::decide`).

use lambda_http::Request;
use serde::{Deserialize, Serialize};

use crate::App;
use crate::auth::Caller;
use crate::domain::audit::{Acting, Action, ActorKind, AuditEntry, Source, Target};
use crate::domain::meeting::Meeting;
use crate::domain::operator::Reason;
use crate::domain::outbox::{self, EventKind};
use crate::domain::room::Room;
use crate::domain::{FieldError, RoomId, RoomStatus, UserId};
use crate::endpoint::{Endpoint, Handler, Route, Visitor, authenticated, json};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::operator::{Operator, acting};
use crate::room_change::{
    Attempt, MAX_ATTEMPTS, account_standing, expiry, found, found_for, guard, invalid, report,
    report_enforced, retry_on_conflict, still_stands,
};
use crate::store::{MAX_MUTED, Store, StoreError};

crate::needs!(
    /// `kick`: the room with the anchor's session (one read), the ban (one write), and the
    /// co-host list when the member is on it.
    KickStore,
    KICK_NEEDS: MemberRead,
    RoomRead,
    MemberBan,
    MeetingWrite
);
crate::needs!(
    /// `mute`: one conditional write on the room, held to the anchor's standing (reads only to
    /// explain a refusal).
    MuteStore,
    MUTE_NEEDS: RoomRead,
    SessionRead,
    Moderation
);

/// The longest ban, and the one a kick gives when it names none.
pub const MAX_BAN_SECONDS: i64 = 86_400;
/// The longest ban an operator gives (30 days).
pub const MAX_OPERATOR_BAN_SECONDS: i64 = 2_592_000;
pub const DEFAULT_BAN_SECONDS: i64 = 600;

/// `kick {id, user_id, ban_seconds?}`: `user_id` is the member removed (not the caller).
#[derive(Debug, Deserialize)]
pub struct KickRequest {
    pub id: String,
    pub user_id: String,
    #[serde(default)]
    pub ban_seconds: Option<i64>,
}

/// `mute {id, user_id, mute}`: `user_id` is the member (un)muted.
#[derive(Debug, Deserialize)]
pub struct MuteRequest {
    pub id: String,
    pub user_id: String,
    pub mute: bool,
}

#[derive(Debug, Serialize)]
pub struct KickResponse {
    pub room_id: String,
    pub user_id: String,
    /// When the ban ends (RFC 3339); the kick's own time for `ban_seconds: 0`.
    pub banned_until: String,
    /// Whether the member was on the co-host list (and is not any more).
    pub removed_from_meeting: bool,
}

#[derive(Debug, Serialize)]
pub struct MuteResponse {
    pub room_id: String,
    pub user_id: String,
    pub mute: bool,
}

/// Who kicks or mutes: the room's anchor (through the room API), or an operator (through the
/// admin API, in any room, with a reason). Either way the action is audited with the change.
pub enum By<'a> {
    Anchor(&'a Caller, &'a Acting),
    Operator(&'a Operator, Option<&'a Reason>),
}

impl By<'_> {
    /// The room (not deleted) if this actor may act in it on `target`.
    fn over(&self, room: Option<Room>, target: &UserId) -> Result<Room, ApiError> {
        match self {
            By::Anchor(caller, _) => anchor_over(found_for(room, caller)?, caller, target),
            By::Operator(operator, _) => {
                let room = found(room)?;
                if operator.actor.kind == ActorKind::User && operator.actor.id == target.as_str() {
                    return Err(themself());
                }
                if &room.anchor_id == target {
                    return Err(ApiError::forbidden(
                        "an operator does not kick or mute a room's anchor: stop the room",
                    )
                    .with_detail("field", "user_id"));
                }
                Ok(room)
            }
        }
    }

    /// The audit entry of `action` on `target` in `room`, at `now`.
    fn audit<S: ?Sized>(
        &self,
        app: &App<S>,
        action: Action,
        room: &RoomId,
        target: &UserId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AuditEntry {
        let (by, reason) = match self {
            By::Anchor(_, by) => ((*by).clone(), None),
            By::Operator(operator, reason) => (operator.acting(), reason.cloned()),
        };
        let days = app.config.audit_retention_days;
        AuditEntry::new(now, days, &by, action, Target::user(target))
            .in_room(room)
            .because(reason)
    }

    fn longest_ban(&self) -> i64 {
        match self {
            By::Anchor(..) => MAX_BAN_SECONDS,
            By::Operator(..) => MAX_OPERATOR_BAN_SECONDS,
        }
    }
}

/// The room (not deleted), if the caller is its anchor and `target` is someone else.
fn anchor_over(room: Room, caller: &Caller, target: &UserId) -> Result<Room, ApiError> {
    if room.anchor_id != caller.user_id {
        return Err(ApiError::not_owner());
    }
    if target == &caller.user_id {
        return Err(themself());
    }
    Ok(room)
}

/// The anchor naming themself: a well-formed request nobody may make.
fn themself() -> ApiError {
    ApiError::forbidden("the anchor cannot kick or mute themself").with_detail("field", "user_id")
}

pub async fn kick<S: KickStore + ?Sized>(
    app: &App<S>,
    by: &By<'_>,
    req: KickRequest,
) -> Result<KickResponse, ApiError> {
    let id = RoomId::parse("id", &req.id).map_err(invalid)?;
    let target = UserId::parse("user_id", &req.user_id).map_err(invalid)?;
    let ban_seconds = req.ban_seconds.unwrap_or(DEFAULT_BAN_SECONDS);
    let longest = by.longest_ban();
    if !(0..=longest).contains(&ban_seconds) {
        return Err(invalid(FieldError::new(
            "ban_seconds",
            format!("must be 0 to {longest}"),
        )));
    }
    let room = match by {
        // The anchor's session comes with the room, in the same one read.
        By::Anchor(caller, _) => {
            let (room, _, session) = app
                .store
                .room_member_in_session(&id, &caller.user_id, &caller.session.id)
                .await?;
            account_standing(caller, session)?;
            room
        }
        By::Operator(..) => app.store.room(&id).await?,
    };
    let room = by.over(room, &target)?;
    let now = app.clock.now();
    let until = now + chrono::Duration::seconds(ban_seconds);
    let audit = by
        .audit(app, Action::RoomKick, &id, &target, now)
        .detail("banned_until", crate::clock::rfc3339(&until))
        .detail("ban_seconds", ban_seconds);
    let (id, target, audit) = (&id, &target, &audit);
    // The ban; again after another reported change committed in between (its entry's order).
    let ban = |mut room: Room| async move {
        // The member leaves the RTC channel too (issue 24), through the outbox.
        let removal = app
            .config
            .enforcement
            .remove_member(id.as_str(), target.as_str());
        let kicked = report_enforced(
            app,
            EventKind::MemberKicked,
            &room,
            now,
            Some(outbox::kicked(target, until)),
            removal.into_iter().collect(),
        );
        match app
            .store
            .ban_member(id, target, until, expiry(app, now), &kicked, Some(audit))
            .await
        {
            Ok(()) => {
                outbox::counted(&mut room, &kicked);
                Ok(Attempt::Done(room))
            }
            Err(StoreError::Conflict) => {
                Ok(Attempt::Again(by.over(app.store.room(id).await?, target)?))
            }
            Err(e) => Err(e.into()),
        }
    };
    let room = retry_on_conflict(MAX_ATTEMPTS, room, ban, |_| {
        ApiError::new(
            ErrorCode::RoomVersionConflict,
            "the room is changing too fast; retry the kick",
        )
    })
    .await?;
    // Then off the co-host list (a retry of the kick finishes it if this fails). A write that
    // took the member off is looked at again, and answered as done.
    let unseat = |(room, removed): (Room, bool)| async move {
        if room.status == RoomStatus::Ended || !room.meeting.contains(target) {
            return Ok(Attempt::Done(KickResponse {
                room_id: id.to_string(),
                user_id: target.to_string(),
                banned_until: crate::clock::rfc3339(&until),
                removed_from_meeting: removed,
            }));
        }
        let next = Meeting {
            members: room
                .meeting
                .members
                .iter()
                .filter(|m| &m.user_id != target)
                .cloned()
                .collect(),
            version: room.meeting.version + 1,
        };
        let mut after = Room {
            meeting: next,
            ..room.clone()
        };
        let now = app.clock.now();
        let events = report(app, EventKind::CohostsChanged, &after, now, None);
        match app
            .store
            .update_meeting(id, &after.meeting, room.meeting.version, &events)
            .await
        {
            Ok(()) => {
                outbox::counted(&mut after, &events);
                Ok(Attempt::Again((after, true)))
            }
            Err(StoreError::Conflict) => {
                Ok(Attempt::Again((found(app.store.room(id).await?)?, removed)))
            }
            Err(e) => Err(e.into()),
        }
    };
    retry_on_conflict(MAX_ATTEMPTS, (room, false), unseat, |_| {
        ApiError::new(
            ErrorCode::RoomVersionConflict,
            "the co-host list is changing too fast; retry the kick",
        )
    })
    .await
}

pub async fn mute<S: MuteStore + ?Sized>(
    app: &App<S>,
    by: &By<'_>,
    req: MuteRequest,
) -> Result<MuteResponse, ApiError> {
    let id = RoomId::parse("id", &req.id).map_err(invalid)?;
    let target = UserId::parse("user_id", &req.user_id).map_err(invalid)?;
    let anchor = match by {
        By::Anchor(caller, _) => {
            if target == caller.user_id {
                return Err(themself());
            }
            // A call is its seated participants' alone: its anchor too acts on it only while
            // seated.
            if id.is_channel() {
                by.over(app.store.room(&id).await?, &target)?;
            }
            Some(&caller.user_id)
        }
        // An operator's mute reads the room first (whose anchor it may not mute).
        By::Operator(..) => {
            by.over(app.store.room(&id).await?, &target)?;
            None
        }
    };
    let action = if req.mute {
        Action::RoomMute
    } else {
        Action::RoomUnmute
    };
    let audit = by.audit(app, action, &id, &target, app.clock.now());
    // The anchor's standing is held to by the write itself (one call, as the write alone).
    let held = match by {
        By::Anchor(caller, _) => guard(caller),
        By::Operator(..) => None,
    };
    match app
        .store
        .set_muted(&id, anchor, &target, req.mute, Some(&audit), held)
        .await
    {
        Ok(()) => Ok(MuteResponse {
            room_id: id.to_string(),
            user_id: target.to_string(),
            mute: req.mute,
        }),
        // Say why: the anchor's session ended, no room, not the anchor, or the muted set is
        // full.
        Err(StoreError::Conflict) => {
            if let By::Anchor(caller, _) = by {
                still_stands(app, caller).await?;
            }
            by.over(app.store.room(&id).await?, &target)?;
            Err(ApiError::new(
                ErrorCode::RoomFull,
                format!("at most {MAX_MUTED} members of a room can be muted at once"),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// This module's endpoints, for the edge's route table.
pub fn endpoints(v: &mut impl Visitor) {
    v.visit::<Kick>();
    v.visit::<Mute>();
}

/// `POST /api/v1/live/kick`: the anchor removes a member, and may ban them ([`kick`]).
pub struct Kick;

impl Handler for Kick {
    const ENDPOINT: Endpoint = Endpoint::new("kick", &[Route::post("/api/v1/live/kick")])
        .with_needs(KICK_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        let by = acting(&caller, Source::Anchor, &req);
        json(&kick(app, &By::Anchor(&caller, &by), body).await?)
    }
}

/// `POST /api/v1/live/mute`: the anchor mutes or unmutes members ([`mute`]).
pub struct Mute;

impl Handler for Mute {
    const ENDPOINT: Endpoint = Endpoint::new("mute", &[Route::post("/api/v1/live/mute")])
        .with_needs(MUTE_NEEDS)
        .with_secrets(SecretGroups::TOKENS);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        let by = acting(&caller, Source::Anchor, &req);
        json(&mute(app, &By::Anchor(&caller, &by), body).await?)
    }
}
