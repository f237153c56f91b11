//! The blob collector: every `blob_gc_interval_secs`, one collection
//! (`service::blobs`).

use crate::service;
use crate::state::AppState;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub async fn run(state: AppState, shutdown: CancellationToken) {
    let interval = Duration::from_secs_f64(state.config.blob_gc_interval_secs);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(interval) => {}
        }
        if let Err(e) = service::blobs::collect(&state).await {
            tracing::error!(error = ?e, "blob collection failed");
        }
    }
}
