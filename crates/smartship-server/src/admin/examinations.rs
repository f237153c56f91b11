//! The review of basic-information changes: `GET /admin/v1/examinations`
//! (oldest first, by status and app, paged by id) and `POST
//! /admin/v1/examinations/{examine_id}/review`. A pass makes the change the
//! app's approved value; "basic info approved" is recomputed in the same
//! transaction.

use super::AdminError;
use crate::api_doc::{AdminErrorBody, AdminErrors};
use crate::service::{Actor, examinations};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Serialize;
use smartship_api::profile::ExaminationView;
use smartship_api::requests::admin::ExaminationQuery;
use smartship_api::requests::paths::ExaminationPath;
use smartship_core::AppId;
use smartship_core::profile::ExamStatus;
use smartship_store::{Examination, ReviewRefusal};

pub fn view(e: &Examination) -> ExaminationView {
    ExaminationView {
        examine_id: e.id,
        app_id: e.app_id.0,
        field: e.field.as_str().to_owned(),
        value: e.value.clone(),
        material: e.material.clone(),
        status: e.status.as_str().to_owned(),
        reason: e.reason.clone(),
        submitted_by: e.submitted_by.clone(),
        submitted_at: e.submitted_at,
        reviewed_by: e.reviewed_by.clone(),
        reviewed_at: e.reviewed_at,
    }
}

/// A page of examinations.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Examinations {
    pub examinations: Vec<ExaminationView>,
    /// `after` of the next page; null on the last.
    pub next_after: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/admin/v1/examinations",
    tag = "operator",
    operation_id = "admin_examinations",
    summary = "Basic-information changes, oldest first",
    security(("admin_token" = [])),
    params(ExaminationQuery),
    responses((status = 200, description = "A page.", body = Examinations), AdminErrors)
)]
pub async fn list(
    State(s): State<AppState>,
    q: Result<Query<ExaminationQuery>, QueryRejection>,
) -> Result<Json<Examinations>, AdminError> {
    let Query(q) = q.map_err(|e| AdminError::invalid(e.body_text()))?;
    let status = q
        .status
        .as_deref()
        .map(|v| {
            ExamStatus::parse(v).ok_or_else(|| {
                AdminError::invalid(format!("status: {v:?} is not pending, passed or failed"))
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AdminError::invalid("limit must be 1 to 500"));
    }
    let after = q.after.unwrap_or(0);
    if after < 0 || q.app_id.is_some_and(|a| a < 1) {
        return Err(AdminError::invalid("after and app_id must be positive"));
    }
    let rows = s
        .store
        .examinations(status, q.app_id.map(AppId), after, limit)
        .await?;
    let next_after = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|e| e.id))
        .flatten();
    Ok(Json(Examinations {
        examinations: rows.iter().map(view).collect(),
        next_after,
    }))
}

#[utoipa::path(
    post,
    path = "/admin/v1/examinations/{examine_id}/review",
    tag = "operator",
    operation_id = "admin_review_examination",
    summary = "Pass or fail a basic-information change",
    security(("admin_token" = [])),
    params(ExaminationPath),
    request_body(content = super::shared::Review, content_type = "application/json"),
    responses((status = 200, description = "The examination after the review.", body = ExaminationView), (status = 409, description = "Already decided (`wrong_state`).", body = AdminErrorBody), AdminErrors)
)]
pub async fn review(
    State(s): State<AppState>,
    Path(ExaminationPath { examine_id: id }): Path<ExaminationPath>,
    req: Result<Json<super::shared::Review>, JsonRejection>,
) -> Result<Json<ExaminationView>, AdminError> {
    let req = super::shared::body(req)?;
    let reason = super::shared::decision(&req.decision, req.reason)?;
    let reason = reason.map(|r| r.trim().to_owned());
    match examinations::review(&s, id, reason.as_deref(), Actor::Admin).await? {
        Ok(e) => Ok(Json(view(&e))),
        Err(ReviewRefusal::NotFound) => Err(AdminError::not_found(format!("no examination {id}"))),
        Err(ReviewRefusal::Decided(st)) => Err(AdminError::new(
            StatusCode::CONFLICT,
            "wrong_state",
            format!("examination {id} is already {}", st.as_str()),
        )),
        Err(ReviewRefusal::NameTaken) => Err(AdminError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("examination {id}: another app has had the name since; fail it"),
        )),
        Err(ReviewRefusal::NotOffline(now)) => Err(AdminError::new(
            StatusCode::CONFLICT,
            "wrong_state",
            format!(
                "examination {id}: the app is {} now, no longer forced offline; fail it",
                now.as_str()
            ),
        )),
    }
}
