//! Collecting the blobs no row names any more (the files of refused and
//! deleted drafts, of uploads that failed half-way), last stored longer ago
//! than `blob_gc_grace_secs` (`BlobStore::collect` says why that keeps a
//! write in flight safe). Idempotent: several nodes may collect at once.

use crate::state::AppState;
use smartship_store::blobs::Collected;

/// One collection.
pub async fn collect(s: &AppState) -> anyhow::Result<Collected> {
    // The cutoff is taken before the references are read: a row inserted
    // after the read names blobs stored after the cutoff.
    let grace_ms = (s.config.blob_gc_grace_secs * 1000.0) as i64;
    let cutoff = crate::clock::now_ms() - grace_ms;
    let referenced = s.store.referenced_blobs().await?;
    let blobs = s.blobs.clone();
    let done = tokio::task::spawn_blocking(move || blobs.collect(&referenced, cutoff)).await??;
    if done.blobs > 0 {
        tracing::info!(
            blobs = done.blobs,
            bytes = done.bytes,
            "unreferenced blobs removed"
        );
        s.audit.worker(
            "blob_gc",
            String::new(),
            format!("{{\"blobs\":{},\"bytes\":{}}}", done.blobs, done.bytes),
        );
    }
    Ok(done)
}
