//! What other features ask of rooms: a call's room (seed 000's channel), the rooms a dialect
//! lists, a vendor's callback moving a room as the system, and the ending of a closing
//! account's rooms.
//!
//! Never here: an endpoint of our own API (those are `rooms`'s), or a rule the state machine
//! or the anchor's change already states (this goes through them).

use super::change::{ChangeStore, For, write_with_retry};
use super::create::new_room;
use crate::App;
use crate::auth::Caller;
use crate::domain::outbox::EventKind;
use crate::domain::room::{Action, Expected, Room, RoomQuery, Transition};
use crate::domain::{Category, ChannelId, RoomId, RoomMode, Title};
use crate::error::{ApiError, ErrorCode};
use crate::room_change::{
    Attempt, MAX_ATTEMPTS, account_standing, found, life_cycle_events, report, retry_on_conflict,
    still_stands,
};
use crate::store::StoreError;

/// The category of the rooms made for RTC channels ([`channel_room`]).
pub const CHANNEL_CATEGORY: &str = "rtc-channel";

/// The room of the RTC channel a seed 000 client named, made by the first caller, who is its
/// anchor: a co-host room (title: the channel id, category [`CHANNEL_CATEGORY`]) whose
/// meeting list holds the call's participants, the anchor first (see
/// [`crate::meeting::take_seat`]). `None` when it does not exist and `make` is false. Two
/// first callers at once: one insert wins, the other reads the winner's room.
pub async fn channel_room<S>(
    app: &App<S>,
    caller: &Caller,
    channel: &ChannelId,
    make: bool,
) -> Result<Option<Room>, ApiError>
where
    S: crate::store::RoomRead + crate::store::RoomCreate + crate::store::MemberRead + ?Sized,
{
    let id = RoomId::for_channel(channel);
    // The caller's session (and profile) comes with the room, in the same one read.
    let (room, _, session) = app
        .store
        .room_member_in_session(&id, &caller.user_id, &caller.session.id)
        .await?;
    let ended = session.ended;
    let user = account_standing(caller, session)?;
    if let Some(room) = room {
        return found(Some(room)).map(Some);
    }
    if !make {
        return Ok(None);
    }
    let title = Title::parse(channel.as_str())
        .map_err(|e| ApiError::invalid(ErrorCode::RoomQueryParams, e))?;
    // Made only in a session that stands (a call's first caller gets its token next: not
    // logged out either), by a caller with a profile (a vouched caller has no session).
    let user = user.filter(|_| !ended).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UserTokenInvalid,
            "the session has ended; log in again",
        )
    })?;
    let anchor = crate::domain::meeting::Member {
        user_id: caller.user_id.clone(),
        user_nick: user.nick,
        user_avatar: user.avatar,
        camera_opened: true,
        mic_opened: true,
    };
    let now = app.clock.now();
    let mut room = new_room(
        id.clone(),
        caller,
        anchor.user_nick.clone(),
        title,
        Category::parse(CHANNEL_CATEGORY).map_err(ApiError::internal)?,
        RoomMode::CoHost,
        now,
    );
    room.meeting = crate::domain::meeting::Meeting {
        members: vec![anchor],
        version: 1,
    };
    let events = report(app, EventKind::RoomCreated, &room, now, None);
    match app.store.insert_room(&room, &events).await {
        Ok(()) => {
            crate::domain::outbox::counted(&mut room, &events);
            Ok(Some(room))
        }
        Err(StoreError::Conflict) => found(app.store.room(&id).await?).map(Some),
        Err(e) => Err(e.into()),
    }
}

/// One page of the rooms `query` selects, newest first (seed 004's `query_room`); with
/// `ids`, only those of them (at most 100, read in one batch).
pub async fn find<S>(app: &App<S>, query: &RoomQuery, ids: &[RoomId]) -> Result<Vec<Room>, ApiError>
where
    S: crate::store::RoomList + crate::store::RoomBatchRead + ?Sized,
{
    if ids.is_empty() {
        return Ok(app.store.list_rooms(query).await?);
    }
    let rooms = app.store.rooms_by_id(checked_ids(ids)?).await?;
    Ok(page_of(rooms, query))
}

/// [`find`] for `caller`, whose account must still stand ([`account_standing`]): with
/// `ids`, the caller's session comes in the same one batch; else it is read at the same time
/// as the listing (whose `Query`s cannot carry it).
pub async fn find_for<S>(
    app: &App<S>,
    caller: &Caller,
    query: &RoomQuery,
    ids: &[RoomId],
) -> Result<Vec<Room>, ApiError>
where
    S: crate::store::RoomList + crate::store::RoomBatchRead + crate::store::SessionRead + ?Sized,
{
    if ids.is_empty() {
        let (rooms, ()) =
            futures_util::future::try_join(find(app, query, ids), still_stands(app, caller))
                .await?;
        return Ok(rooms);
    }
    let (rooms, session) = app
        .store
        .rooms_by_id_in_session(checked_ids(ids)?, &caller.user_id, &caller.session.id)
        .await?;
    account_standing(caller, session)?;
    Ok(page_of(rooms, query))
}

/// At most 100 room ids (one batch read).
fn checked_ids(ids: &[RoomId]) -> Result<&[RoomId], ApiError> {
    if ids.len() > 100 {
        return Err(ApiError::invalid_field(
            ErrorCode::RoomQueryParams,
            "roomIds",
            "at most 100 room ids",
        ));
    }
    Ok(ids)
}

/// The page of `rooms` (read by id) that `query` selects, newest first.
fn page_of(rooms: Vec<Room>, query: &RoomQuery) -> Vec<Room> {
    let mut rooms: Vec<Room> = rooms
        .into_iter()
        .filter(|room| query.matches(room))
        .collect();
    rooms.sort_by_key(|r| std::cmp::Reverse(r.created_key()));
    rooms
        .into_iter()
        .skip(query.page.offset as usize)
        .take(query.page.size as usize)
        .collect()
}

/// `action` on room `id` as the system (a vendor's callback said the stream started or
/// stopped): through the state machine and its guarded write, without an owner, if the room
/// as read satisfies `allowed` (e.g. the event came from its anchor). Returns whether the room
/// changed; a room that is gone, not allowed, or that the machine will not move (an ended room
/// never comes back), is left alone.
pub(crate) async fn apply_as_system<S>(
    app: &App<S>,
    id: &RoomId,
    action: Action,
    allowed: impl Fn(&Room) -> bool,
) -> Result<bool, ApiError>
where
    S: crate::store::RoomRead + crate::store::RoomUpdate + ?Sized,
{
    let allowed = &allowed;
    let attempt = |()| async move {
        let Some(current) = app
            .store
            .room(id)
            .await?
            .filter(|r| !r.is_deleted() && allowed(r))
        else {
            return Ok(Attempt::Done(false));
        };
        let now = app.clock.now();
        let Transition::To(next) = current.apply(action, now, app.config.retention) else {
            return Ok(Attempt::Done(false));
        };
        match app
            .store
            .update_room(
                &next,
                Expected::from(&current),
                &life_cycle_events(app, &current, &next, now),
            )
            .await
        {
            Ok(()) => Ok(Attempt::Done(true)),
            Err(StoreError::Conflict) => Ok(Attempt::Again(())),
            Err(e) => Err(e.into()),
        }
    };
    retry_on_conflict(MAX_ATTEMPTS, (), attempt, |()| {
        ApiError::new(
            ErrorCode::RoomVersionConflict,
            "the room is changing too fast; retry",
        )
    })
    .await
}

/// Ends every room of the caller that has not ended (their account is closing): each through
/// the state machine like the anchor's own `stop`. Returns how many this call ended. The
/// rooms are those of the caller's tally (every room `create` made that is not known to have
/// ended), read in one item; a room the tally does not hold (made before it existed) is ended
/// by the sweeper once its anchor's keepalive lapses.
pub async fn end_rooms_of<S: crate::store::RoomQuota + ChangeStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
) -> Result<u64, ApiError> {
    let (_, tally) = app.store.user_tally(&caller.user_id).await?;
    let mut ended = 0;
    let retention = app.config.retention;
    for id in &tally.open {
        // The anchor's `stop`; whether this call is the one that ended the room is whether it
        // wrote.
        let stopped = write_with_retry(app, caller, id, For::Closing, |room, now| {
            match room.apply(Action::Stop, now, retention) {
                Transition::To(next) => Ok(Some(*next)),
                Transition::Stay | Transition::Refuse => Ok(None),
            }
        })
        .await;
        match stopped {
            Ok((_, ends)) => ended += u64::from(ends),
            // Deleted meanwhile (or never the caller's): nothing to end.
            Err(e) if matches!(e.code, ErrorCode::RoomNotExists | ErrorCode::RoomNotOwner) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ended)
}
