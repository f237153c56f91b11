//! `GET /admin/v1/audit-log`: the audit log (see `crate::audit`), newest
//! first, filtered and paged by position.

use super::AdminError;
use crate::api_doc::AdminErrors;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use smartship_api::admin::{AuditEntryView, AuditLogPage};
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

pub fn view(s: &AppState, e: &AuditEntry) -> AuditEntryView {
    AuditEntryView {
        id: e.id,
        at: crate::clock::event_time(e.entry.at, s.tz),
        at_ms: e.entry.at,
        actor: e.entry.actor.clone(),
        address: e.entry.address.clone(),
        action: e.entry.action.clone(),
        target: e.entry.target.clone(),
        detail: e.entry.detail.clone(),
        outcome: e.entry.outcome.clone(),
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

#[utoipa::path(
    get,
    path = "/admin/v1/audit-log",
    tag = "operator",
    operation_id = "admin_audit_log",
    summary = "Every state-changing action: who, from where, when, on what",
    security(("admin_token" = [])),
    params(
        ("actor" = Option<String>, Query, description = "One actor (`app:12`, `console:li.wei`); ending with `:`, every actor of the kind (`console:`)."),
        ("action" = Option<String>, Query, description = "Entries whose action starts with this (`POST /admin/v1/`)."),
        ("target" = Option<String>, Query, description = "Entries on exactly this (`package:12`)."),
        ("since" = Option<i64>, Query, description = "From this time on (Unix seconds)."),
        ("until" = Option<i64>, Query, description = "Before this time (Unix seconds)."),
        ("before" = Option<i64>, Query, description = "Entries older than this id: `next_before` of the previous page."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "At most this many (1 to 500, default 100)."),
    ),
    responses((status = 200, description = "The entries, newest first.", body = AuditLogPage), AdminErrors)
)]
pub async fn list(
    State(s): State<AppState>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditLogPage>, AdminError> {
    let Query(q) = q.map_err(|e| AdminError::invalid(e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AdminError::invalid("limit: 1 to 500"));
    }
    let (rows, next_before) = page(&s, &q, limit).await?;
    Ok(Json(AuditLogPage {
        entries: rows.iter().map(|e| view(&s, e)).collect(),
        next_before,
    }))
}
