//! The retention worker: every `retention_interval_secs`, deletes what is
//! past keeping (`Store::purge_expired`: expired or revoked tokens, expired
//! codes, superseded tickets, attempt-log rows of settled events) older than
//! `retention_days`, and audit log entries older than
//! `audit_retention_days`, one small batch at a time, so that tables stay
//! bounded and no writer waits long for its turn.

use crate::state::AppState;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub async fn run(state: AppState, shutdown: CancellationToken) {
    let interval = Duration::from_secs_f64(state.config.retention_interval_secs);
    loop {
        if let Err(e) = purge(&state, &shutdown).await {
            tracing::error!(error = ?e, "retention: purge failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

pub use crate::service::housekeeping::purge;
