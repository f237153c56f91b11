//! Apps: create, read, change, authorize to a platform and end it, their
//! administrators and their packages.

use super::AdminError;
use super::shared::{app_view, body, conflict_or_internal, package_view, tp_of};
use crate::api_doc::{AdminErrorBody, AdminErrors};
use crate::service;
use crate::service::parties::AppSpec;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use smartship_api::admin::{AppAdminView, AppView, Authorized, PackageViews, Unauthorized};
use smartship_api::requests::admin::{AppAdmin, Authorize, CreateApp, UpdateApp};
use smartship_api::requests::paths::{AppPath, AppTpPath};
use smartship_core::AppId;
use smartship_store::AppUpdate;

#[utoipa::path(
    post,
    path = "/admin/v1/apps",
    tag = "operator",
    operation_id = "admin_create_app",
    summary = "Create an app",
    security(("admin_token" = [])),
    request_body(content = CreateApp, content_type = "application/json"),
    responses((status = 201, description = "The app.", body = AppView), (status = 409, description = "The id or client id is taken (`conflict`).", body = AdminErrorBody), AdminErrors)
)]
pub async fn create_app(
    State(s): State<AppState>,
    req: Result<Json<CreateApp>, JsonRejection>,
) -> Result<Response, AdminError> {
    let req = body(req)?;
    if req.name.trim().is_empty() {
        return Err(AdminError::invalid("name must not be empty"));
    }
    if req.app_id.is_some_and(|id| id <= 0) {
        return Err(AdminError::invalid("app_id must be a positive integer"));
    }
    let app = service::parties::create_app(
        &s,
        AppSpec {
            app_id: req.app_id,
            name: req.name,
            description: req.description,
            basic_info_approved: req.basic_info_approved,
            authenticity_verified: req.authenticity_verified,
        },
    )
    .await
    .map_err(conflict_or_internal)?;
    Ok((StatusCode::CREATED, Json(app_view(&app))).into_response())
}

#[utoipa::path(
    get,
    path = "/admin/v1/apps/{app_id}",
    tag = "operator",
    operation_id = "admin_get_app",
    summary = "An app",
    security(("admin_token" = [])),
    params(AppPath),
    responses((status = 200, description = "The app.", body = AppView), AdminErrors)
)]
pub async fn get_app(
    State(s): State<AppState>,
    Path(AppPath { app_id }): Path<AppPath>,
) -> Result<Json<AppView>, AdminError> {
    let app = s
        .store
        .app(AppId(app_id))
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no app {app_id}")))?;
    Ok(Json(app_view(&app)))
}

#[utoipa::path(
    patch,
    path = "/admin/v1/apps/{app_id}",
    tag = "operator",
    operation_id = "admin_update_app",
    summary = "Change an app's name or its approvals",
    security(("admin_token" = [])),
    params(AppPath),
    request_body(content = UpdateApp, content_type = "application/json"),
    responses((status = 200, description = "The app.", body = AppView), AdminErrors)
)]
pub async fn update_app(
    State(s): State<AppState>,
    Path(AppPath { app_id }): Path<AppPath>,
    req: Result<Json<UpdateApp>, JsonRejection>,
) -> Result<Json<AppView>, AdminError> {
    let req = body(req)?;
    let service_status = req
        .service_status
        .as_deref()
        .map(|v| {
            smartship_store::ServiceStatus::parse(v).ok_or_else(|| {
                AdminError::invalid(format!(
                    "service_status: {v:?} is not normal, paused, banned or forced_offline"
                ))
            })
        })
        .transpose()?;
    let sanction = matches!(
        service_status,
        Some(
            smartship_store::ServiceStatus::Banned | smartship_store::ServiceStatus::ForcedOffline
        )
    );
    let reason = req.reason.map(|r| r.trim().to_owned());
    if sanction && reason.as_deref().is_none_or(str::is_empty) {
        return Err(AdminError::invalid(
            "reason: required with service_status banned or forced_offline",
        ));
    }
    if !sanction && (reason.is_some() || req.illegal_fields.is_some()) {
        return Err(AdminError::invalid(
            "reason, illegal_fields: only with service_status banned or forced_offline",
        ));
    }
    if let Some(fields) = &req.illegal_fields
        && let Some(bad) = fields
            .split(',')
            .find(|f| !["appName", "photoAddr", "appDesc"].contains(&f.trim()))
    {
        return Err(AdminError::invalid(format!(
            "illegal_fields: {bad:?} is not appName, photoAddr or appDesc"
        )));
    }
    let app = service::parties::update_app(
        &s,
        AppId(app_id),
        AppUpdate {
            name: req.name,
            basic_info_approved: req.basic_info_approved,
            authenticity_verified: req.authenticity_verified,
            service_status,
            reason,
            illegal_fields: req.illegal_fields,
            min_base_version: None,
        },
    )
    .await?
    .ok_or_else(|| AdminError::not_found(format!("no app {app_id}")))?;
    tracing::info!(app = app_id, ?service_status, basic_info_approved = ?req.basic_info_approved, "operator changed app");
    Ok(Json(app_view(&app)))
}

#[utoipa::path(
    post,
    path = "/admin/v1/apps/{app_id}/authorize",
    tag = "operator",
    operation_id = "admin_authorize",
    summary = "Authorize a platform for an app (as the consent page does)",
    security(("admin_token" = [])),
    params(AppPath),
    request_body(content = Authorize, content_type = "application/json"),
    responses((status = 200, description = "The app's tokens, shown once.", body = Authorized), AdminErrors)
)]
pub async fn authorize(
    State(s): State<AppState>,
    Path(AppPath { app_id }): Path<AppPath>,
    req: Result<Json<Authorize>, JsonRejection>,
) -> Result<Json<Authorized>, AdminError> {
    let req = body(req)?;
    let tp = tp_of(&s, &req.client_id).await?;
    let app = s
        .store
        .app(AppId(app_id))
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no app {app_id}")))?;
    let scopes = req
        .scopes
        .as_deref()
        .unwrap_or(service::parties::DEFAULT_SCOPES);
    let tokens = service::parties::authorize(&s, app.id, tp.id, scopes).await?;
    Ok(Json(Authorized {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_in: tokens.expires_in,
        app_id: app.id.0,
        client_id: tp.client_id,
    }))
}

#[utoipa::path(
    delete,
    path = "/admin/v1/apps/{app_id}/authorize/{client_id}",
    tag = "operator",
    operation_id = "admin_unauthorize",
    summary = "End an authorization",
    security(("admin_token" = [])),
    params(AppTpPath),
    responses((status = 200, description = "Ended.", body = Unauthorized), AdminErrors)
)]
pub async fn unauthorize(
    State(s): State<AppState>,
    Path(AppTpPath { app_id, client_id }): Path<AppTpPath>,
) -> Result<Json<Unauthorized>, AdminError> {
    let tp = tp_of(&s, &client_id).await?;
    if !service::parties::unauthorize(&s, AppId(app_id), tp.id).await? {
        return Err(AdminError::not_found(format!(
            "app {app_id} has no active authorization with {client_id}"
        )));
    }
    Ok(Json(Unauthorized {
        app_id,
        client_id,
        authorized: false,
    }))
}

/// Creates (or resets) an administrator account of an app, used to sign in
/// on the consent page.
#[utoipa::path(
    post,
    path = "/admin/v1/apps/{app_id}/admins",
    tag = "operator",
    operation_id = "admin_upsert_app_admin",
    summary = "Create or reset an app administrator (consent page sign-in)",
    security(("admin_token" = [])),
    params(AppPath),
    request_body(content = AppAdmin, content_type = "application/json"),
    responses((status = 200, description = "The account.", body = AppAdminView), AdminErrors)
)]
pub async fn upsert_app_admin(
    State(s): State<AppState>,
    Path(AppPath { app_id }): Path<AppPath>,
    req: Result<Json<AppAdmin>, JsonRejection>,
) -> Result<Json<AppAdminView>, AdminError> {
    let req = body(req)?;
    let username = req.username.trim();
    if username.is_empty() || username.chars().count() > 64 {
        return Err(AdminError::invalid("username must have 1 to 64 characters"));
    }
    if req.password.chars().count() < 8 {
        return Err(AdminError::invalid(
            "password must have at least 8 characters",
        ));
    }
    s.store
        .app(AppId(app_id))
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no app {app_id}")))?;
    let password = req.password.clone();
    let hash = tokio::task::spawn_blocking(move || crate::passwords::hash(&password)).await?;
    service::parties::set_app_admin(&s, username, AppId(app_id), &hash).await?;
    Ok(Json(AppAdminView {
        app_id,
        username: username.to_owned(),
    }))
}

#[utoipa::path(
    get,
    path = "/admin/v1/apps/{app_id}/packages",
    tag = "operator",
    operation_id = "admin_app_packages",
    summary = "Every package of an app, in any state",
    security(("admin_token" = [])),
    params(AppPath),
    responses((status = 200, description = "The packages.", body = PackageViews), AdminErrors)
)]
pub async fn app_packages(
    State(s): State<AppState>,
    Path(AppPath { app_id }): Path<AppPath>,
) -> Result<Json<PackageViews>, AdminError> {
    let list = s.store.all_packages(AppId(app_id)).await?;
    Ok(Json(PackageViews {
        packages: list.iter().map(|p| package_view(&s, p)).collect(),
    }))
}
