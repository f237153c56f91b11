//! Keeping the tables bounded and the work moving: the retention purge,
//! leases of nodes that are gone or stopping, the audit log's writes, and
//! what the server remembers about itself (`meta`).

use super::wake;
use crate::state::AppState;
use smartship_store::{NewAuditEntry, ReleasedLeases, Store, StoreError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A pause between purge batches, so a large backlog never holds the writer.
const BETWEEN_BATCHES: Duration = Duration::from_millis(20);

/// One pass: batches until every kind is below a full batch.
pub async fn purge(state: &AppState, shutdown: &CancellationToken) -> anyhow::Result<u64> {
    let keep_ms = (state.config.retention_days * 86_400_000.0) as i64;
    let before = crate::clock::now_ms() - keep_ms;
    let batch = state.config.retention_batch;
    let mut total = smartship_store::Purged::default();
    loop {
        let p = state.store.purge_expired(before, batch).await?;
        total.tokens += p.tokens;
        total.codes += p.codes;
        total.tickets += p.tickets;
        total.attempts += p.attempts;
        if !p.filled(batch as u64) || shutdown.is_cancelled() {
            break;
        }
        tokio::time::sleep(BETWEEN_BATCHES).await;
    }
    let audit = purge_audit(state, shutdown).await?;
    if total.total() + audit > 0 {
        state.audit.worker(
            "retention",
            String::new(),
            format!(
                "{{\"tokens\":{},\"codes\":{},\"tickets\":{},\"attempts\":{},\"audit_entries\":{audit}}}",
                total.tokens, total.codes, total.tickets, total.attempts
            ),
        );
        tracing::info!(
            tokens = total.tokens,
            codes = total.codes,
            tickets = total.tickets,
            attempts = total.attempts,
            audit_entries = audit,
            "retention: deleted rows older than {} days (audit entries: {} days)",
            state.config.retention_days,
            state.config.audit_retention_days
        );
    }
    Ok(total.total() + audit)
}

/// The audit log's entries older than `audit_retention_days` (none when
/// it is 0), in batches like the rest.
async fn purge_audit(state: &AppState, shutdown: &CancellationToken) -> anyhow::Result<u64> {
    if state.config.audit_retention_days <= 0.0 {
        return Ok(0);
    }
    let keep_ms = (state.config.audit_retention_days * 86_400_000.0) as i64;
    let before = crate::clock::now_ms() - keep_ms;
    let batch = state.config.retention_batch;
    let mut total = 0;
    loop {
        let n = state.store.purge_audit(before, batch).await?;
        total += n;
        if n < batch as u64 || shutdown.is_cancelled() {
            return Ok(total);
        }
        tokio::time::sleep(BETWEEN_BATCHES).await;
    }
}

/// Takes back the work leased by processes of this host that are gone, for
/// this node to do now rather than when their leases run out.
pub async fn take_over_dead_leases(s: &AppState) -> Result<ReleasedLeases, StoreError> {
    let r = release_dead_leases(s).await?;
    if r != Default::default() {
        metrics::counter!("smartship_lease_takeovers_total", "work" => "build").increment(r.builds);
        metrics::counter!("smartship_lease_takeovers_total", "work" => "event").increment(r.events);
        tracing::info!(
            builds = r.builds,
            events = r.events,
            "took over the leased work of a node that is gone"
        );
        s.audit.worker(
            "lease_reaper",
            String::new(),
            format!("{{\"builds\":{},\"events\":{}}}", r.builds, r.events),
        );
        s.build_wakeup.notify_waiters();
        wake::events_waiting(s);
    }
    Ok(r)
}

/// Takes back the work leased by processes of this host that are gone,
/// without more (at start, before the workers and the metrics run).
pub async fn release_dead_leases(s: &AppState) -> Result<ReleasedLeases, StoreError> {
    s.store.release_dead_leases(crate::clock::now_ms()).await
}

/// Gives back what this node still holds (it is stopping and its workers
/// have stopped), for another node to take at once.
pub async fn give_back_own_leases(s: &AppState) -> Result<ReleasedLeases, StoreError> {
    s.store.release_own_leases().await
}

/// Stores audit entries queued by requests and workers.
pub async fn append_audit(s: &AppState, entries: &[NewAuditEntry]) -> Result<(), StoreError> {
    s.store.append_audit(entries).await
}

/// Moves up to `limit` entries written with their changes into the log;
/// how many moved. Also run before the server state exists (at start).
pub async fn move_staged_audit(store: &dyn Store, limit: i64) -> Result<u64, StoreError> {
    store.move_staged_audit(limit).await
}

/// Remembers a value of the installation's own (`meta`).
pub async fn remember(s: &AppState, key: &str, value: &str) -> Result<(), StoreError> {
    s.store.set_meta(key, value).await
}
