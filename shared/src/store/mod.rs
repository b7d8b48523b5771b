//! The store: what the API keeps, behind one small trait per capability, with two
//! implementations.
//!
//! - [`dynamo::DynamoStore`] (feature `dynamodb`): production, one DynamoDB table.
//! - [`embedded::EmbeddedStore`]: the local default, one redb file.
//!
//! Both give the same guarantees, checked by one contract suite (`tests/tests/suite/contract.rs`):
//! usernames are unique; a room write happens only if the room is still in the status and at
//! the version the caller read (so concurrent writers can never interleave into a state the
//! machine forbids); a write that puts outbox entries applies only if the room's change count
//! ([`Room::changes`](crate::domain::room::Room::changes)) is one below their order, and moves it there (so one room's entries are
//! ordered as their writes committed); a listing is newest first; a deleted room is gone for every reader at
//! once and what was under it is removed by the same call or by the sweeper.
//!
//! A handler asks for the capabilities it uses (e.g. `get` for [`RoomView`], [`MetricsWrite`],
//! [`PresenceRead`], [`RoomRead`]) and the compiler holds it to them; [`Capability`] names the
//! same traits as data, with the DynamoDB actions each one performs, so that a test can check
//! every function's IAM policy in `template.yaml` against what its handler may call.
//!
//! The traits live in `capabilities/`, one file per group (accounts, claims, rooms, quota,
//! moderation, presence, sweep, outbox, series: the grouping of the stores' own files), and are
//! re-exported here: a feature names them `crate::store::RoomRead`, never by their file.
//!
//! Never here: who may do what (that is the features' job), or a status change the room's
//! [`Room::apply`](crate::domain::room::Room::apply) did not decide.

mod capabilities;
#[cfg(feature = "dynamodb")]
pub mod dynamo;
pub mod embedded;

pub use capabilities::accounts::{
    SessionFound, SessionGuard, SessionRead, SessionWrite, UserDelete, UserRead, UserUpdate,
    UserWrite,
};
pub use capabilities::claims::{Counter, EventClaim, LoginThrottle, NonceClaim};
pub use capabilities::moderation::{
    Ban, BanList, MAX_BANS_LISTED, MAX_MUTED, MemberBan, MemberRead, Moderation,
};
pub use capabilities::operator::{
    AuditRead, KeyList, KeyRead, KeyTouch, KeyWrite, MAX_KEYS_REVOKED, UserAdmin, UserList,
};
pub use capabilities::outbox::OutboxWork;
pub use capabilities::presence::{CounterWrite, PresenceRead, PresenceWrite, Touch};
pub use capabilities::quota::{RoomCaps, RoomQuota, RoomTally};
pub use capabilities::rooms::{
    ChannelMark, Lapsed, MeetingWrite, MetricsWrite, RecordingWrite, RoomBatchRead, RoomCreate,
    RoomDelete, RoomList, RoomRead, RoomUpdate, RoomView,
};
pub use capabilities::series::{SeriesRead, SeriesWrite, StatsRead};
pub use capabilities::sweep::{RoomSweep, SweptPresence};
pub use capabilities::{Capability, On, Store};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition did not hold: the key exists already, or the item changed or vanished.
    #[error("conditional write failed")]
    Conflict,
    /// The store could not be reached or failed; the text is for the log only.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// An item could not be decoded; the text is for the log only.
    #[error("corrupt item: {0}")]
    Corrupt(String),
}

/// Declares what a feature needs from the store, once: a trait that is the sum of the
/// capability traits (with a blanket impl), and the same list as data.
///
/// `needs!(GetStore, GET_NEEDS: RoomView, MetricsWrite)` emits `trait GetStore: RoomView +
/// MetricsWrite` and `const GET_NEEDS: &[Capability] = &[RoomView, MetricsWrite]`.
#[macro_export]
macro_rules! needs {
    ($(#[$doc:meta])* $name:ident, $list:ident: $($cap:ident),+ $(,)?) => {
        $(#[$doc])*
        pub trait $name: $($crate::store::$cap +)+ {}
        impl<T: $($crate::store::$cap +)+ ?Sized> $name for T {}
        /// The capabilities of the trait of the same feature, as data (IAM policy check).
        pub const $list: &[$crate::store::Capability] = &[$($crate::store::Capability::$cap),+];
    };
}
