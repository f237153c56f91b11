//! The blob collector: every `blob_gc_interval_secs`, removes the blobs
//! that no row names any more (the files of refused and deleted drafts, of
//! uploads that failed half-way) and that were last stored longer ago than
//! `blob_gc_grace_secs` (`BlobStore::collect` says why that keeps a write
//! in flight safe). Idempotent: several nodes may run it at once.

use crate::state::AppState;
use smartship_store::blobs::Collected;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub async fn run(state: AppState, shutdown: CancellationToken) {
    let interval = Duration::from_secs_f64(state.config.blob_gc_interval_secs);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(interval) => {}
        }
        if let Err(e) = collect(&state).await {
            tracing::error!(error = ?e, "blob collection failed");
        }
    }
}

/// One collection.
pub async fn collect(state: &AppState) -> anyhow::Result<Collected> {
    // The cutoff is taken before the references are read: a row inserted
    // after the read names blobs stored after the cutoff.
    let grace_ms = (state.config.blob_gc_grace_secs * 1000.0) as i64;
    let cutoff = crate::clock::now_ms() - grace_ms;
    let referenced = state.store.referenced_blobs().await?;
    let blobs = state.blobs.clone();
    let done = tokio::task::spawn_blocking(move || blobs.collect(&referenced, cutoff)).await??;
    if done.blobs > 0 {
        tracing::info!(
            blobs = done.blobs,
            bytes = done.bytes,
            "unreferenced blobs removed"
        );
        state.audit.worker(
            "blob_gc",
            String::new(),
            format!("{{\"blobs\":{},\"bytes\":{}}}", done.blobs, done.bytes),
        );
    }
    Ok(done)
}
