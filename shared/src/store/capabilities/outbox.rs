//! The outbox as its delivery sees it: the rooms with undelivered entries, a room's entries,
//! and an entry delivered (with the audit entry of its outcome, for a vendor call) or
//! postponed. (Entries are added by the room writes they report.) And the audit log read as a
//! feed for the `audit` webhook: the entries after a cursor, and the cursor moved.
//!
//! Never here: how or where an entry is delivered (that is `delivery`).

use async_trait::async_trait;

use crate::domain::RoomId;
use crate::domain::audit::AuditEntry;
use crate::domain::outbox::Entry;
use crate::store::StoreError;

#[async_trait]
pub trait OutboxWork: Send + Sync {
    /// Rooms with undelivered outbox entries, at most `limit` of them.
    async fn outbox_rooms(&self, limit: usize) -> Result<Vec<RoomId>, StoreError>;

    /// The room's undelivered entries, every sink, each sink's in order.
    async fn outbox(&self, room: &RoomId) -> Result<Vec<Entry>, StoreError>;

    /// Removes a delivered entry (a no-op if it is gone).
    async fn outbox_done(&self, entry: &Entry) -> Result<(), StoreError>;

    /// Removes a delivered (or given up) entry and puts `audit`, the record of its outcome,
    /// in the same atomic write, if the entry is still there: `false` (nothing written) when
    /// another delivery removed it first, so one entry's outcome is audited once.
    async fn outbox_done_audited(
        &self,
        entry: &Entry,
        audit: &AuditEntry,
    ) -> Result<bool, StoreError>;

    /// Records a failed delivery: `attempts` so far, not again before `next_at_ms` (a no-op if
    /// the entry is gone: another delivery finished it).
    async fn outbox_later(
        &self,
        entry: &Entry,
        attempts: u32,
        next_at_ms: i64,
    ) -> Result<(), StoreError>;

    /// The `audit` webhook's feed: the id of the last audit entry delivered (`""` before the
    /// first), and up to `limit` audit entries after it, oldest first.
    async fn audit_feed(&self, limit: usize) -> Result<(String, Vec<AuditEntry>), StoreError>;

    /// Moves the feed's cursor from `from` (`""`: none yet) to `to`, if it is still `from`:
    /// `false` (nothing written) when another delivery moved it meanwhile.
    async fn audit_feed_moved(&self, from: &str, to: &str) -> Result<bool, StoreError>;

    /// Records whether the room's IM group exists (a no-op if the room is gone).
    async fn set_chat_ready(&self, room: &RoomId, ready: bool) -> Result<(), StoreError>;
}
