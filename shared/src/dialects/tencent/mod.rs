//! Seed 004's dialect: the Tencent serverless live-room service's `/base/v1/oauth/*`,
//! `/base/v1/auth_users/*` and `/base/v1/rooms/*`, for its aPaaS client kits.
//!
//! Identity comes from the `token` the client sends in its parameters (our access token, which
//! those clients treat as opaque), and `userId` must name the token's user. Answers are
//! `{errorCode: 0, errorMessage, data?}` with the doc's messages; errors keep their 4xx/5xx
//! status (see [`super::error_body`]).
//!
//! The files: `users` (`oauth/*`, `auth_users/*`), `rooms` (`rooms/*`), and `wire` (the
//! envelope, the caller and the field names they share).
//!
//! Never here: a rule of the core, or another dialect's wire.

mod rooms;
mod users;
mod wire;

use crate::endpoint::Visitor;
pub use rooms::{ROOMS_NEEDS, RoomsStore, TencentRooms, rooms};
pub use users::{TencentUsers, USERS_NEEDS, UsersStore, users};

/// This module's endpoints, for the edge's route table.
pub fn endpoints(v: &mut impl Visitor) {
    v.visit::<TencentUsers>();
    v.visit::<TencentRooms>();
}
