//! `GET /admin/v1/audit-log`: the audit log (see `crate::audit`), newest
//! first, filtered and paged by position.

use super::AdminError;
use crate::api_doc::AdminErrors;
use crate::service::audit_log::{AuditQuery, page};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use smartship_api::admin::{AuditEntryView, AuditLogPage};
use smartship_store::AuditEntry;

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

#[utoipa::path(
    get,
    path = "/admin/v1/audit-log",
    tag = "operator",
    operation_id = "admin_audit_log",
    summary = "Every state-changing action: who, from where, when, on what",
    security(("admin_token" = [])),
    params(AuditQuery),
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
