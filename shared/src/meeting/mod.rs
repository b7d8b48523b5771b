//! Co-hosting (SPEC §6): the meeting list of a co-host room and who may change it.
//!
//! The list lives on the room with its own version. The anchor replaces the whole list; a
//! member may change only its own camera and microphone; nobody else may write. Every write is
//! conditional on the version the writer read (or sent), so a stale writer gets 409 and no
//! update is ever lost. Only mode 1 (co-host) rooms have a list, of at most `MAX_CO_HOSTS`
//! members, anchor included. Members may publish: `Room::is_publisher` reads this list, which
//! is how the credentials code grants them publish rights.

use lambda_http::Request;
use serde::Deserialize;

use crate::App;
use crate::auth::Caller;
pub use crate::domain::meeting::{Meeting, Member};
use crate::domain::outbox::EventKind;
use crate::domain::room::Room;
use crate::domain::{FieldError, ImageUrl, Nick, RoomId, RoomMode, RoomStatus, UserId};
use crate::endpoint::{Endpoint, Handler, Route, Visitor, authenticated, json};
use crate::env::SecretGroups;
use crate::error::{ApiError, ErrorCode};
use crate::room_change::{
    Attempt, MAX_ATTEMPTS, RoomTarget, Signer, claimed_room_id, found, found_for, refuse_if_banned,
    report, retry_on_conflict, standing,
};
use crate::store::{Lapsed, Store, StoreError};

pub mod view;

pub use view::{MeetingInfo, MeetingMemberView, member_views, stream_of};

crate::needs!(
    /// `getMeetingInfo`: one read of the room and the caller's ban and session.
    GetMeetingStore,
    GET_MEETING_NEEDS: MemberRead
);
crate::needs!(
    /// `updateMeetingInfo`: the room and the caller's ban and session, then one conditional
    /// write of its list (the room read again only to explain a refusal).
    UpdateMeetingStore,
    UPDATE_MEETING_NEEDS: MemberRead,
    RoomRead,
    MeetingWrite
);

/// A member as sent by a client.
#[derive(Debug, Deserialize)]
pub struct MemberInput {
    pub user_id: String,
    #[serde(default)]
    pub user_nick: Option<String>,
    #[serde(default)]
    pub user_avatar: Option<String>,
    #[serde(default)]
    pub camera_opened: bool,
    #[serde(default)]
    pub mic_opened: bool,
    /// Computed by the server on read; ignored on write.
    #[serde(default)]
    pub rtc_pull_url: Option<String>,
}

/// `updateMeetingInfo` (seed 002 `handler.MeetingActionRequest` plus `version`).
#[derive(Debug, Deserialize)]
pub struct UpdateMeetingRequest {
    pub id: String,
    pub members: Vec<MemberInput>,
    /// The version the client read. Absent (seed 002 clients), the write is conditional on the
    /// version the server read just before it.
    #[serde(default)]
    pub version: Option<u64>,
    #[serde(default)]
    pub user_id: Option<String>,
}

fn parse_member(input: &MemberInput) -> Result<Member, FieldError> {
    Ok(Member {
        user_id: UserId::parse("members.user_id", &input.user_id)?,
        user_nick: Nick::parse(
            "members.user_nick",
            input.user_nick.as_deref().unwrap_or(""),
        )?,
        user_avatar: ImageUrl::parse(
            "members.user_avatar",
            input.user_avatar.as_deref().unwrap_or(""),
        )?,
        camera_opened: input.camera_opened,
        mic_opened: input.mic_opened,
    })
}

fn co_host_room(room: &Room) -> Result<(), ApiError> {
    if room.mode != RoomMode::CoHost {
        return Err(ApiError::new(
            ErrorCode::RoomModeConflict,
            "only co-host rooms (mode 1) have a meeting list",
        )
        .with_detail("mode", i64::from(room.mode)));
    }
    Ok(())
}

pub async fn get<S: GetMeetingStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: RoomTarget,
) -> Result<MeetingInfo, ApiError> {
    let id = req.room_id(caller, ErrorCode::RoomQueryParams)?;
    let (room, signer) = member_read(app, caller, &id).await?;
    co_host_room(&room)?;
    Ok(MeetingInfo::view(&room, &signer))
}

/// The room `id` (not deleted) and what may be signed for `caller` in it, from one read of the
/// room with the caller's ban and session: 401 once the caller's session has ended.
pub(crate) async fn member_read<S: crate::store::MemberRead + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    id: &RoomId,
) -> Result<(Room, Signer), ApiError> {
    let (room, banned_until, session) = app
        .store
        .room_member_in_session(id, &caller.user_id, &caller.session.id)
        .await?;
    standing(caller, session)?;
    Ok((
        found_for(room, caller)?,
        Signer::for_viewer(app, caller, banned_until),
    ))
}

/// What a non-anchor member may write: the current list with only its own camera/mic changed.
fn only_own_devices_changed(current: &[Member], next: &[Member], me: &UserId) -> bool {
    current.len() == next.len()
        && current.iter().zip(next).all(|(c, n)| {
            if &c.user_id == me {
                Member {
                    camera_opened: c.camera_opened,
                    mic_opened: c.mic_opened,
                    ..n.clone()
                } == *c
            } else {
                c == n
            }
        })
}

pub async fn update<S: UpdateMeetingStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    req: UpdateMeetingRequest,
) -> Result<MeetingInfo, ApiError> {
    const CODE: ErrorCode = ErrorCode::SystemVerifyError;
    let id = claimed_room_id(caller, req.user_id.as_deref(), &req.id, CODE)?;
    let members = req
        .members
        .iter()
        .map(parse_member)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::invalid(CODE, e))?;
    for (i, m) in members.iter().enumerate() {
        if members[..i].iter().any(|o| o.user_id == m.user_id) {
            return Err(ApiError::invalid_field(
                CODE,
                "members",
                format!("{} is listed twice", m.user_id),
            ));
        }
    }
    let max = if id.is_channel() {
        CALL_SEATS
    } else {
        app.config.max_co_hosts
    };
    if members.len() > max {
        return Err(ApiError::new(
            ErrorCode::RoomFull,
            format!("this room takes at most {max} members, anchor included"),
        )
        .with_detail("max_co_hosts", max));
    }

    let (room, signer) = member_read(app, caller, &id).await?;
    co_host_room(&room)?;
    // A call's seats are leases taken through `/app/token` (see `take_seat`): nobody hands
    // one over under a holder whose credential still runs. Its list changes devices only.
    let mut seated: Vec<&UserId> = room.meeting.members.iter().map(|m| &m.user_id).collect();
    let mut listed: Vec<&UserId> = members.iter().map(|m| &m.user_id).collect();
    seated.sort();
    listed.sort();
    if room.id.is_channel() && seated != listed {
        return Err(ApiError::new(
            ErrorCode::RoomModeConflict,
            "a 1v1 call's seats are taken through /app/token: its meeting list changes cameras \
             and microphones only",
        ));
    }
    if room.status == RoomStatus::Ended {
        return Err(ApiError::new(
            ErrorCode::RoomStateConflict,
            "the room has ended",
        ));
    }
    let expected = req.version.unwrap_or(room.meeting.version);
    if expected != room.meeting.version {
        return Err(stale(room.meeting.version));
    }
    if room.anchor_id != caller.user_id {
        if !room.meeting.contains(&caller.user_id) {
            return Err(ApiError::forbidden(
                "only the anchor and the room's co-hosts may change the meeting list",
            ));
        }
        if !only_own_devices_changed(&room.meeting.members, &members, &caller.user_id) {
            return Err(ApiError::forbidden(
                "a co-host may change only its own camera and microphone",
            ));
        }
    }
    let next = Meeting {
        members,
        version: expected + 1,
    };
    let after = Room {
        meeting: next,
        ..room
    };
    let (id, signer) = (&id, &signer);
    let write = |after: Room| async move {
        let now = app.clock.now();
        let events = report(app, EventKind::CohostsChanged, &after, now, None);
        match app
            .store
            .update_meeting(id, &after.meeting, expected, &events)
            .await
        {
            Ok(()) => Ok(Attempt::Done(MeetingInfo::view(&after, signer))),
            // Someone wrote since we read (or the room ended, or vanished): re-read to say which.
            Err(StoreError::Conflict) => match app.store.room(id).await? {
                None => Err(ApiError::room_not_found()),
                Some(r) if r.is_deleted() => Err(ApiError::room_not_found()),
                Some(r) if r.status == RoomStatus::Ended => Err(ApiError::new(
                    ErrorCode::RoomStateConflict,
                    "the room has ended",
                )),
                // Only another reported change (a status change, a kick) committed: the list
                // is still the one read, so the same change goes again, after it, reporting
                // the room as it is now.
                Some(r) if r.meeting.version == expected => Ok(Attempt::Again(Room {
                    meeting: after.meeting,
                    ..r
                })),
                Some(r) => Err(stale(r.meeting.version)),
            },
            Err(e) => Err(e.into()),
        }
    };
    retry_on_conflict(MAX_ATTEMPTS, after, write, |_| stale(expected)).await
}

/// The participants of a 1v1 call (a channel's room), the first caller's seat included.
pub const CALL_SEATS: usize = 2;

/// How often [`take_seat`] decides again after losing a race for a seat.
const SEAT_ATTEMPTS: usize = 8;

/// Seats `caller` in the call held in `room` (a channel's room, see
/// [`crate::rooms::channel_room`]), whose list is its participants, the first caller's seat
/// included. A participant already seated keeps its seat; a newcomer takes a free one of
/// [`CALL_SEATS`] through the list's versioned write. A seat whose holder has been silent past
/// `HEARTBEAT_TIMEOUT_SECONDS` (off the online list, or never on it) is free; when no seat is,
/// the newcomer is refused (409 `RoomFull`): the cap is the server's, whatever the clients do.
/// Returns the room as seated.
pub async fn take_seat<S>(app: &App<S>, room: Room, caller: &Caller) -> Result<Room, ApiError>
where
    S: crate::store::RoomRead
        + crate::store::MeetingWrite
        + crate::store::UserRead
        + crate::store::MemberRead
        + ?Sized,
{
    co_host_room(&room)?;
    // The seat the caller would take (its ban checked and profile read once, on the first try).
    let seat: Option<Member> = None;
    let attempt = |(room, mut seat): (Room, Option<Member>)| async move {
        if room.meeting.contains(&caller.user_id) {
            return Ok(Attempt::Done(room));
        }
        if room.status == RoomStatus::Ended {
            return Err(ApiError::new(
                ErrorCode::RoomStateConflict,
                "the room has ended",
            ));
        }
        let mut members = room.meeting.members.clone();
        // The holders whose seats this write frees: their leases must still have run out
        // when it commits (a holder's renewal meanwhile fails it, and the seat stays theirs).
        let mut lapsed = Vec::new();
        if members.len() >= CALL_SEATS {
            // Free the seats of those silent past the heartbeat timeout. A holder never seen
            // is the call's first caller between its room's creation and its presence: its
            // lease runs from the creation.
            let held: Vec<UserId> = members.iter().map(|m| m.user_id.clone()).collect();
            let seen = app.store.seen(&room.id, &held).await?;
            let alive_since = app.clock.now()
                - chrono::Duration::from_std(app.config.heartbeat_timeout)
                    .map_err(ApiError::internal)?;
            let mut kept = Vec::with_capacity(members.len());
            for (member, seen) in members.into_iter().zip(seen) {
                if seen.unwrap_or(room.created_at) >= alive_since {
                    kept.push(member);
                } else {
                    lapsed.push(Lapsed {
                        user: member.user_id,
                        before: alive_since,
                    });
                }
            }
            members = kept;
        }
        if members.len() >= CALL_SEATS {
            return Err(ApiError::new(
                ErrorCode::RoomFull,
                format!("this call already has its {CALL_SEATS} participants"),
            )
            .with_detail("seats", CALL_SEATS));
        }
        let member = match &seat {
            Some(member) => member.clone(),
            None => {
                // Someone the anchor kicked takes no seat while banned (kicking freed it).
                let (_, banned_until) = app.store.room_member(&room.id, &caller.user_id).await?;
                refuse_if_banned(banned_until, app.clock.now())?;
                let member = participant(app, &caller.user_id).await?;
                seat = Some(member.clone());
                member
            }
        };
        members.push(member);
        let expected = room.meeting.version;
        let after = Room {
            meeting: Meeting {
                members,
                version: expected + 1,
            },
            ..room.clone()
        };
        let events = report(
            app,
            EventKind::CohostsChanged,
            &after,
            app.clock.now(),
            None,
        );
        match app
            .store
            .replace_seats(&room.id, &after.meeting, expected, &lapsed, &events)
            .await
        {
            Ok(()) => {
                let mut after = after;
                crate::domain::outbox::counted(&mut after, &events);
                Ok(Attempt::Done(after))
            }
            // Someone else was seated (or the room changed) meanwhile: decide again.
            Err(StoreError::Conflict) => Ok(Attempt::Again((
                found(app.store.room(&room.id).await?)?,
                seat,
            ))),
            Err(e) => Err(e.into()),
        }
    };
    retry_on_conflict(SEAT_ATTEMPTS, (room, seat), attempt, |(room, _)| {
        stale(room.meeting.version)
    })
    .await
}

/// `user` as the server seats it in a call: the profile's nick and avatar, camera and
/// microphone on.
pub(crate) async fn participant<S: crate::store::UserRead + ?Sized>(
    app: &App<S>,
    user: &UserId,
) -> Result<Member, ApiError> {
    let (user_nick, user_avatar) = app
        .store
        .user(user)
        .await?
        .map(|u| (u.nick, u.avatar))
        .unwrap_or_else(|| (Nick::empty(), ImageUrl::empty()));
    Ok(Member {
        user_id: user.clone(),
        user_nick,
        user_avatar,
        camera_opened: true,
        mic_opened: true,
    })
}

fn stale(current: u64) -> ApiError {
    ApiError::new(
        ErrorCode::RoomVersionConflict,
        "the meeting list changed since you read it; read it again and retry",
    )
    .with_detail("version", current)
}

/// This module's endpoints, for the edge's route table.
pub fn endpoints(v: &mut impl Visitor) {
    v.visit::<GetMeetingInfo>();
    v.visit::<UpdateMeetingInfo>();
}

/// `POST /api/v1/live/getMeetingInfo`: a room's co-hosts ([`get`]).
pub struct GetMeetingInfo;

impl Handler for GetMeetingInfo {
    const ENDPOINT: Endpoint = Endpoint::new(
        "get-meeting-info",
        &[Route::post("/api/v1/live/getMeetingInfo")],
    )
    .with_needs(GET_MEETING_NEEDS)
    .with_secrets(SecretGroups {
        live_pull: true,
        ..SecretGroups::TOKENS
    })
    .with_param_error(ErrorCode::RoomQueryParams);

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&get(app, &caller, body).await?)
    }
}

/// `POST /api/v1/live/updateMeetingInfo`: the anchor sets a room's co-hosts ([`update`]).
pub struct UpdateMeetingInfo;

impl Handler for UpdateMeetingInfo {
    const ENDPOINT: Endpoint = Endpoint::new(
        "update-meeting-info",
        &[Route::post("/api/v1/live/updateMeetingInfo")],
    )
    .with_needs(UPDATE_MEETING_NEEDS)
    .with_secrets(SecretGroups {
        live_pull: true,
        ..SecretGroups::TOKENS
    });

    async fn call<S: Store + ?Sized>(app: &App<S>, req: Request) -> Result<String, ApiError> {
        let (caller, body) = authenticated(app, Self::ENDPOINT, &req)?;
        json(&update(app, &caller, body).await?)
    }
}

#[cfg(test)]
#[path = "../tests/meeting.rs"]
mod tests;
