//! The retention worker: every `retention_interval_secs`, deletes what is
//! past keeping (`Store::purge_expired`: expired or revoked tokens, expired
//! codes, superseded tickets, attempt-log rows of settled events) older than
//! `retention_days`, and audit log entries older than
//! `audit_retention_days`, one small batch at a time, so that tables stay
//! bounded and no writer waits long for its turn.

use crate::state::AppState;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A pause between batches, so a large backlog never holds the writer.
const BETWEEN_BATCHES: Duration = Duration::from_millis(20);

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
