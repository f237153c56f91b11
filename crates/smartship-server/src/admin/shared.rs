//! What the operator API's resources share: reading a JSON body, the
//! views of platforms, apps and packages, finding one by its id, a review's
//! decision.

use super::AdminError;
use crate::state::AppState;
use crate::wire::package_info as render;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde_json::Value;
use smartship_api::admin::{AppView, PackageView, TpView};
pub use smartship_api::requests::admin::Review;
use smartship_core::PackageId;
use smartship_store::{App, Package, StoreError, Tp};

pub(super) fn body<T>(r: Result<Json<T>, JsonRejection>) -> Result<T, AdminError> {
    r.map(|Json(v)| v)
        .map_err(|e| AdminError::invalid(format!("request body: {}", e.body_text())))
}

pub(super) fn conflict_or_internal(e: StoreError) -> AdminError {
    match e {
        StoreError::Conflict(m) => AdminError::new(StatusCode::CONFLICT, "conflict", m),
        other => other.into(),
    }
}

pub(super) fn tp_view(tp: &Tp) -> TpView {
    TpView {
        client_id: tp.client_id.clone(),
        tp_app_id: tp.id.0,
        name: tp.name.clone(),
        message_url: tp.message_url.clone(),
        auth_event_url: tp.auth_event_url.clone(),
        msg_token: tp.msg_token.clone(),
        encoding_aes_key: tp.encoding_aes_key.clone(),
        webhook_secret: tp.webhook_secret.clone(),
        redirect_domain: tp.redirect_domain.clone(),
        ip_allowlist: tp.ip_allowlist.clone(),
        release_events: tp.release_events.clone(),
    }
}

pub(super) fn app_view(app: &App) -> AppView {
    AppView {
        app_id: app.id.0,
        app_key: app.app_key.clone(),
        name: app.name.clone(),
        description: app.description.clone(),
        basic_info_approved: app.basic_info_approved,
        authenticity_verified: app.authenticity_verified,
        service_status: app.service_status.as_str().to_owned(),
    }
}

pub(super) fn package_view(s: &AppState, p: &Package) -> PackageView {
    PackageView {
        info: render(p, s.tz),
        app_id: p.app_id.0,
        template_id: p.template_id.0,
        state: p.state.as_str().to_owned(),
        build: p.build.as_str().to_owned(),
        size: p.size,
        ext_json: serde_json::from_str::<Value>(&p.ext_json).unwrap_or(Value::Null),
        audit_content: p.audit_content.clone(),
        test_account: p.test_account.clone(),
        rollback_due_at: p.rollback_due_at,
    }
}

pub(super) async fn tp_of(s: &AppState, client_id: &str) -> Result<Tp, AdminError> {
    s.store
        .tp_by_client_id(client_id)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no third-party platform {client_id}")))
}

pub(super) async fn package_of(s: &AppState, id: i64) -> Result<Package, AdminError> {
    s.store
        .package_any(PackageId(id))
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no package {id}")))
}

/// A reviewer's `decision` and `reason`: None to pass, the reason (1 to
/// 1,000 characters) to fail.
pub(super) fn decision(
    decision: &str,
    reason: Option<String>,
) -> Result<Option<String>, AdminError> {
    match (decision, reason) {
        ("pass", _) => Ok(None),
        ("fail", Some(reason)) if !reason.trim().is_empty() => {
            if reason.chars().count() > 1000 {
                return Err(AdminError::invalid("reason is longer than 1000 characters"));
            }
            if let Err(why) = smartship_core::text::check_free_text(&reason) {
                return Err(AdminError::invalid(format!("reason {why}")));
            }
            Ok(Some(reason))
        }
        ("fail", _) => Err(AdminError::invalid("a fail decision needs a reason")),
        (other, _) => Err(AdminError::invalid(format!(
            "decision must be \"pass\" or \"fail\", got {other:?}"
        ))),
    }
}
