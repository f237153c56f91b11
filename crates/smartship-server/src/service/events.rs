//! The outbox of pushed events: the delivery worker's claims and attempt
//! results, and operators' replays.

use super::{StoreError, wake};
use crate::state::AppState;
use smartship_core::TpId;
use smartship_store::{AttemptRecord, ClaimedEvent};

/// Leases up to `limit` due events for `lease_ms`.
pub async fn claim(
    s: &AppState,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<ClaimedEvent>, StoreError> {
    s.store
        .claim_events(crate::clock::now_ms(), lease_ms, limit)
        .await
}

/// Records delivery attempts (and what each event's next step is).
pub async fn record_attempts(s: &AppState, attempts: &[AttemptRecord]) -> Result<(), StoreError> {
    s.store
        .record_attempts(attempts, crate::clock::now_ms())
        .await
}

/// Queues one event again, due now; false when there is no such event.
pub async fn replay(s: &AppState, id: i64) -> Result<bool, StoreError> {
    let found = s.store.replay_event(id, crate::clock::now_ms()).await?;
    if found {
        wake::events_waiting(s);
    }
    Ok(found)
}

/// Queues every failed event of a platform again; how many.
pub async fn replay_failed(s: &AppState, tp: TpId) -> Result<i64, StoreError> {
    let n = s.store.replay_failed(tp, crate::clock::now_ms()).await?;
    if n > 0 {
        wake::events_waiting(s);
    }
    Ok(n)
}
