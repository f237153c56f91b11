//! Reading the audit log (`crate::audit` writes it): the filter both the
//! operator API and the console take, and its pages.

use crate::state::AppState;
use smartship_store::{AuditEntry, AuditFilter};

/// The operator API's and the console's filter of the audit log.
pub use smartship_api::requests::admin::AuditLogQuery as AuditQuery;

/// The store's filter; empty text filters count as absent.
pub fn filter(q: &AuditQuery) -> AuditFilter {
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    AuditFilter {
        actor: text(&q.actor),
        action: text(&q.action),
        target: text(&q.target),
        since: q.since.map(|s| s.saturating_mul(1000)),
        until: q.until.map(|s| s.saturating_mul(1000)),
    }
}
/// A page of entries and where the next one starts.
pub async fn page(
    s: &AppState,
    q: &AuditQuery,
    limit: i64,
) -> Result<(Vec<AuditEntry>, Option<i64>), smartship_store::StoreError> {
    let rows = s.store.audit_log(&filter(q), q.before, limit).await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|e| e.id))
        .flatten();
    Ok((rows, next))
}
