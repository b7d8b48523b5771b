//! The anchor's change of a room: read it, let the change decide on what was read, write
//! conditionally on its status and version, and decide again on a lost race
//! ([`write_with_retry`]); `update`, `start`/`pause`/`stop` and the closing of an account all
//! go through it.
//!
//! Never here: what a change is (the endpoints and `Room::apply` decide), or a write that is
//! not the anchor's (the system's is `system::apply_as_system`).

use chrono::{DateTime, Utc};

use super::view::{RoomInfo, info, readable_view_for};
use crate::App;
use crate::auth::Caller;
use crate::domain::RoomId;
use crate::domain::room::{Action, Expected, Room, Transition};
use crate::error::{ApiError, ErrorCode};
use crate::metrics;
use crate::room_change::{
    Attempt, MAX_ATTEMPTS, Signer, found_view, life_cycle_events, retry_on_conflict,
};
use crate::store::StoreError;

crate::needs!(
    /// `update`, `start`, `pause`, `stop`: the room, its counters and the anchor's session in
    /// one read, then one conditional write.
    ChangeStore,
    CHANGE_NEEDS: RoomView,
    RoomUpdate
);

/// Who an anchor's change answers: the anchor's own call (its session checked, its answer
/// signed), or the server closing the anchor's account (`deleteUser`: no answer is signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum For {
    Anchor,
    Closing,
}

/// Reads the room, lets `change` decide (given the time of this attempt), and writes
/// conditionally; re-decides on a lost race. `change` returns `Ok(None)` for "nothing to
/// write". The answer, and whether this call wrote.
pub(super) async fn write_with_retry<S: ChangeStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    id: &RoomId,
    answer: For,
    change: impl Fn(&Room, DateTime<Utc>) -> Result<Option<Room>, ApiError>,
) -> Result<(RoomInfo, bool), ApiError> {
    let change = &change;
    let attempt = |()| async move {
        let (current, counters, signer) = match answer {
            For::Anchor => readable_view_for(app, caller, id).await?,
            For::Closing => {
                let (room, counters) = found_view(app.store.room_view(id).await?)?;
                (room, counters, Signer::nothing(app))
            }
        };
        if current.anchor_id != caller.user_id {
            return Err(ApiError::not_owner());
        }
        let now = app.clock.now();
        let Some(next) = change(&current, now)? else {
            let metrics = metrics::with_counters(&current, counters);
            return Ok(Attempt::Done((
                info(&current, caller, &signer, metrics),
                false,
            )));
        };
        let events = life_cycle_events(app, &current, &next, now);
        match app
            .store
            .update_room(&next, Expected::from(&current), &events)
            .await
        {
            Ok(()) => {
                let metrics = metrics::with_counters(&next, counters);
                Ok(Attempt::Done((info(&next, caller, &signer, metrics), true)))
            }
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

/// The anchor's life-cycle `action` on room `id`, through the state machine.
pub(super) async fn apply_as_anchor<S: ChangeStore + ?Sized>(
    app: &App<S>,
    caller: &Caller,
    id: &RoomId,
    action: Action,
    answer: For,
) -> Result<RoomInfo, ApiError> {
    let retention = app.config.retention;
    let (info, _) = write_with_retry(app, caller, id, answer, |room, now| {
        match room.apply(action, now, retention) {
            Transition::Stay => Ok(None),
            Transition::To(next) => Ok(Some(*next)),
            Transition::Refuse => Err(ApiError::new(
                ErrorCode::RoomStateConflict,
                format!("cannot {} a room that has ended", action.name()),
            )
            .with_detail("status", room.status.as_i64())),
        }
    })
    .await?;
    Ok(info)
}
