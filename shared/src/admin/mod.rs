//! The admin API (issue 24): what an operator does, `POST /api/v1/admin/<name>`, each its own
//! function. Who the caller is and what it may do is [`crate::operator`]; every change an
//! operator makes is written with its audit entry in one atomic write.
//!
//! The files: [`rooms`] (every anchor's rooms, a stop, a kick, a mute), [`watch`] (one room
//! in full, its series, the stats of every open room), [`users`] (the
//! accounts, disabling and enabling them, their roles), [`keys`] (API keys) and [`log`] (the
//! audit log and `whoami`).
//!
//! Never here: authentication (that is `operator`), or a room rule the room's state machine or
//! the anchor's own moderation does not already hold.

pub mod keys;
pub mod log;
pub mod rooms;
pub mod users;
pub mod watch;

use serde::Serialize;

use crate::domain::operator::Reason;
use crate::endpoint::Visitor;
use crate::error::{ApiError, ErrorCode};

pub use keys::{AdminCreateKey, AdminKeys, AdminRevokeKey};
pub use log::{AdminAudit, AdminWhoami};
pub use rooms::{AdminKick, AdminMute, AdminRooms, AdminStopRoom};
pub use users::{AdminDisableUser, AdminEnableUser, AdminSetRoles, AdminUsers};
pub use watch::{AdminRoom, AdminRoomSeries, AdminStats};

/// This module's endpoints, for the edge's route table.
pub fn endpoints(v: &mut impl Visitor) {
    v.visit::<AdminWhoami>();
    v.visit::<AdminRooms>();
    v.visit::<AdminRoom>();
    v.visit::<AdminRoomSeries>();
    v.visit::<AdminStats>();
    v.visit::<AdminStopRoom>();
    v.visit::<AdminKick>();
    v.visit::<AdminMute>();
    v.visit::<AdminUsers>();
    v.visit::<AdminDisableUser>();
    v.visit::<AdminEnableUser>();
    v.visit::<AdminSetRoles>();
    v.visit::<AdminCreateKey>();
    v.visit::<AdminKeys>();
    v.visit::<AdminRevokeKey>();
    v.visit::<AdminAudit>();
}

/// A 400 of the admin API (every body error is `SystemVerifyError`).
pub(crate) fn invalid(e: crate::domain::FieldError) -> ApiError {
    ApiError::invalid(ErrorCode::SystemVerifyError, e)
}

/// A required reason.
pub(crate) fn reason(value: Option<&str>) -> Result<Reason, ApiError> {
    Reason::parse("reason", value.unwrap_or_default()).map_err(invalid)
}

/// An optional reason (absent or empty: none).
pub(crate) fn optional_reason(value: Option<&str>) -> Result<Option<Reason>, ApiError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => Reason::parse("reason", v).map(Some).map_err(invalid),
    }
}

/// `{kind, id}` as the answers show an actor.
#[derive(Debug, Serialize)]
pub struct ActorView {
    pub kind: &'static str,
    pub id: String,
}
