//! Reading the audit log (`crate::audit` writes it): the filter both the
//! operator API and the console take, and its pages.

use crate::state::AppState;
use serde::Deserialize;
use smartship_store::{AuditEntry, AuditFilter};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

impl AuditQuery {
    /// The store's filter; empty text filters count as absent.
    pub fn filter(&self) -> AuditFilter {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        AuditFilter {
            actor: text(&self.actor),
            action: text(&self.action),
            target: text(&self.target),
            since: self.since.map(|s| s.saturating_mul(1000)),
            until: self.until.map(|s| s.saturating_mul(1000)),
        }
    }
}

/// A page of entries and where the next one starts.
pub async fn page(
    s: &AppState,
    q: &AuditQuery,
    limit: i64,
) -> Result<(Vec<AuditEntry>, Option<i64>), smartship_store::StoreError> {
    let rows = s.store.audit_log(&q.filter(), q.before, limit).await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|e| e.id))
        .flatten();
    Ok((rows, next))
}
