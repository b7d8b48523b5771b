//! Unit tests of `store/dynamo` (kept apart from the request-path code; the store itself is
//! tested against a DynamoDB-compatible server by the contract suite).

use super::*;

#[test]
fn only_a_collision_with_another_transaction_is_sent_again() {
    // One item collided, the others were fine: nothing was written, send again.
    assert!(only_collided([Some("None"), Some("TransactionConflict")]));
    assert!(only_collided([None, Some("TransactionConflict")]));
    // A failed condition is the caller's answer (a conflict to re-decide), never a retry.
    assert!(!only_collided([
        Some("TransactionConflict"),
        Some("ConditionalCheckFailed"),
    ]));
    // Throttling, validation, capacity: not ours to retry here.
    assert!(!only_collided([Some("ThrottlingError")]));
    assert!(!only_collided([
        Some("ValidationError"),
        Some("TransactionConflict")
    ]));
    assert!(!only_collided([Some("None"), None]));
}
