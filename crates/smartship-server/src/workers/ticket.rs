//! The ticket rotation: every `ticket_interval_secs` each third-party
//! platform gets a new ticket (`service::tickets`). Every worker node runs
//! it; a due platform's ticket is issued once however many nodes find it
//! due at the same moment.

use crate::service;
use crate::state::AppState;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub async fn run(state: AppState, shutdown: CancellationToken) {
    let interval = Duration::from_secs_f64(state.config.ticket_interval_secs);
    // Check often enough that a new TP gets its first ticket promptly.
    let tick = interval.min(Duration::from_secs(5));
    loop {
        let now = crate::clock::now_ms();
        let due_before = now - interval.as_millis() as i64;
        if let Err(e) = service::tickets::rotate_due(&state, now, due_before).await {
            tracing::error!(error = ?e, "ticket rotation failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(tick) => {}
        }
    }
}
