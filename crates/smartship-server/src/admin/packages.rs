//! Packages: one with its history and checks, the review of one under
//! audit, its zip, and the review queue.

use super::AdminError;
use super::shared::{Review, body, decision, package_of, package_view};
use crate::api_doc::{AdminErrorBody, AdminErrors};
use crate::service::{self, Actor, packages::Change};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use smartship_api::admin::{PackageDetail, PackageView, QueueEntry, ReviewQueue, TransitionView};
use smartship_api::requests::admin::QueueQuery;
use smartship_api::requests::paths::PackagePath;
use smartship_core::lifecycle::{Action, Verdict};

#[utoipa::path(
    get,
    path = "/admin/v1/packages/{package_id}",
    tag = "operator",
    operation_id = "admin_get_package",
    summary = "A package and its transitions",
    security(("admin_token" = [])),
    params(PackagePath),
    responses((status = 200, description = "The package.", body = PackageDetail), AdminErrors)
)]
pub async fn get_package(
    State(s): State<AppState>,
    Path(PackagePath { package_id: id }): Path<PackagePath>,
) -> Result<Json<PackageDetail>, AdminError> {
    let p = package_of(&s, id).await?;
    let history = s.store.transitions(p.id).await?;
    let prechecks = match s.store.package_checks(p.id).await? {
        Some((json, _)) => Some(crate::wire::precheck_findings(&json)?),
        None => None,
    };
    Ok(Json(PackageDetail {
        package: package_view(&s, &p),
        prechecks,
        transitions: history
            .iter()
            .map(|t| TransitionView {
                action: t.action.clone(),
                from: t.from.map(|f| f.as_str().to_owned()),
                to: t.to.as_str().to_owned(),
                actor: t.actor.clone(),
                detail: t.detail.clone(),
                at: crate::clock::event_time(t.at, s.tz),
                at_ms: t.at,
            })
            .collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/admin/v1/packages/{package_id}/review",
    tag = "operator",
    operation_id = "admin_review",
    summary = "Pass or fail a package under audit",
    security(("admin_token" = [])),
    params(PackagePath),
    request_body(content = Review, content_type = "application/json"),
    responses((status = 200, description = "The package after the review.", body = PackageView), (status = 409, description = "The package is not under audit (`wrong_state`).", body = AdminErrorBody), AdminErrors)
)]
pub async fn review(
    State(s): State<AppState>,
    Path(PackagePath { package_id: id }): Path<PackagePath>,
    req: Result<Json<Review>, JsonRejection>,
) -> Result<Json<PackageView>, AdminError> {
    let req = body(req)?;
    let verdict = match decision(&req.decision, req.reason)? {
        None => Verdict::Pass,
        Some(reason) => Verdict::Fail { reason },
    };
    let p = package_of(&s, id).await?;
    let change = Change::new(p.app_id, p.id, Action::Review(verdict), Actor::Admin);
    match service::packages::act(&s, change).await? {
        Ok(_) => {
            let p = package_of(&s, id).await?;
            Ok(Json(package_view(&s, &p)))
        }
        Err(r) => Err(AdminError::new(
            StatusCode::CONFLICT,
            "wrong_state",
            format!("package {id} cannot be reviewed: {r}"),
        )),
    }
}

#[utoipa::path(
    get,
    path = "/admin/v1/packages/{package_id}/download",
    tag = "operator",
    operation_id = "admin_download",
    summary = "The built package as a zip",
    security(("admin_token" = [])),
    params(PackagePath),
    responses((status = 200, description = "The zip.", content_type = "application/zip", body = Vec<u8>), (status = 409, description = "The package has no built artifact (`not_built`).", body = AdminErrorBody), AdminErrors)
)]
pub async fn download(
    State(s): State<AppState>,
    Path(PackagePath { package_id: id }): Path<PackagePath>,
) -> Result<Response, AdminError> {
    let p = package_of(&s, id).await?;
    let manifest = s.store.package_manifest(p.id).await?.ok_or_else(|| {
        AdminError::new(
            StatusCode::CONFLICT,
            "not_built",
            format!(
                "package {id} has no built artifact (build: {})",
                p.build.as_str()
            ),
        )
    })?;
    let blobs = s.blobs.clone();
    let zip = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<u8>> {
        let mut files = Vec::with_capacity(manifest.files.len());
        for (path, f) in &manifest.files {
            files.push((path.clone(), blobs.get(&f.sha256)?));
        }
        Ok(smartship_core::archive::write_zip(
            files.iter().map(|(p, b)| (p.as_str(), b.as_slice())),
        )?)
    })
    .await??;
    Ok((
        [
            (CONTENT_TYPE, "application/zip".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"package-{id}.zip\""),
            ),
        ],
        zip,
    )
        .into_response())
}

/// The review queue: packages under audit, oldest submission first.
#[utoipa::path(
    get,
    path = "/admin/v1/review-queue",
    tag = "operator",
    operation_id = "admin_review_queue",
    summary = "Packages under audit, oldest submission first",
    security(("admin_token" = [])),
    params(QueueQuery),
    responses((status = 200, description = "The queue.", body = ReviewQueue), AdminErrors)
)]
pub async fn review_queue(
    State(s): State<AppState>,
    q: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ReviewQueue>, AdminError> {
    let Query(q) = q.map_err(|e| AdminError::invalid(e.body_text()))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let list = s.store.packages_under_audit(limit).await?;
    let now = crate::clock::now_ms();
    let mut packages = Vec::with_capacity(list.len());
    for (app, id) in list {
        // A package reviewed since the queue was read is left out.
        let Some(p) = s.store.package(app, id).await? else {
            continue;
        };
        packages.push(QueueEntry {
            app_id: app.0,
            package_id: id.0,
            version: p.version,
            version_desc: p.version_desc,
            submitted_at: crate::clock::event_time(p.updated_at, s.tz),
            waiting_secs: (now - p.updated_at).max(0) / 1000,
        });
    }
    Ok(Json(ReviewQueue { packages }))
}
