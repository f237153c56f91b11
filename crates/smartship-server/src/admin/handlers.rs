//! Handlers of the operator API.

use super::AdminError;
use crate::api_doc::{AdminErrorBody, AdminErrors};
use crate::service::parties::{AppSpec, TpSpec};
use crate::service::{self, Actor, packages::Change};
use crate::state::AppState;
use crate::wire::package_info as render;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use smartship_api::admin::{
    AppAdminView, AppView, AttemptView, Authorized, EventDetail, EventView, EventViews,
    PackageDetail, PackageView, PackageViews, QueueEntry, Replayed, ReviewQueue, StorageView,
    TicketView, TpView, TransitionView, Unauthorized,
};
use smartship_core::lifecycle::{Action, Verdict};
use smartship_core::{AppId, PackageId};
use smartship_store::{
    App, AppUpdate, EventRecord, EventStatus, Package, StoreError, Tp, TpUpdate,
};

pub(super) fn body<T>(r: Result<Json<T>, JsonRejection>) -> Result<T, AdminError> {
    r.map(|Json(v)| v)
        .map_err(|e| AdminError::invalid(format!("request body: {}", e.body_text())))
}

fn conflict_or_internal(e: StoreError) -> AdminError {
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTp {
    /// Generated when absent.
    #[schema(min_length = 1, max_length = 64)]
    client_id: Option<String>,
    #[schema(min_length = 1, pattern = r"\S")]
    name: String,
    /// Where audit events go (http or https).
    #[schema(pattern = r"^https?://[^/\s]+")]
    message_url: Option<String>,
    /// Where authorization events go (http or https).
    #[schema(pattern = r"^https?://[^/\s]+")]
    auth_event_url: Option<String>,
    /// Generated when absent.
    msg_token: Option<String>,
    /// 43 base64 characters; generated when absent.
    #[schema(pattern = "^[A-Za-z0-9+/]{43}$")]
    encoding_aes_key: Option<String>,
}

#[utoipa::path(
    post,
    path = "/admin/v1/tps",
    tag = "operator",
    operation_id = "admin_create_tp",
    summary = "Create a third-party platform",
    security(("admin_token" = [])),
    request_body(content = CreateTp, content_type = "application/json"),
    responses((status = 201, description = "The platform, with its generated secrets.", body = TpView), (status = 409, description = "The id or client id is taken (`conflict`).", body = AdminErrorBody), AdminErrors)
)]
pub async fn create_tp(
    State(s): State<AppState>,
    req: Result<Json<CreateTp>, JsonRejection>,
) -> Result<Response, AdminError> {
    let req = body(req)?;
    if req.name.trim().is_empty() {
        return Err(AdminError::invalid("name must not be empty"));
    }
    check_event_url("message_url", &Some(req.message_url.clone()))?;
    check_event_url("auth_event_url", &Some(req.auth_event_url.clone()))?;
    if let Some(k) = &req.encoding_aes_key
        && (k.len() != 43
            || !k
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'))
    {
        return Err(AdminError::invalid(
            "encoding_aes_key must be 43 base64 characters",
        ));
    }
    let tp = service::parties::create_tp(
        &s,
        TpSpec {
            client_id: req.client_id,
            name: req.name,
            message_url: req.message_url,
            auth_event_url: req.auth_event_url,
            msg_token: req.msg_token,
            encoding_aes_key: req.encoding_aes_key,
        },
    )
    .await
    .map_err(conflict_or_internal)?;
    Ok((StatusCode::CREATED, Json(tp_view(&tp))).into_response())
}

pub(super) async fn tp_of(s: &AppState, client_id: &str) -> Result<Tp, AdminError> {
    s.store
        .tp_by_client_id(client_id)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no third-party platform {client_id}")))
}

#[utoipa::path(
    get,
    path = "/admin/v1/tps/{client_id}",
    tag = "operator",
    operation_id = "admin_get_tp",
    summary = "A platform, with its secrets",
    security(("admin_token" = [])),
    params(("client_id" = String, Path, min_length = 1, description = "The platform's client id.")),
    responses((status = 200, description = "The platform.", body = TpView), AdminErrors)
)]
pub async fn get_tp(
    State(s): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<TpView>, AdminError> {
    Ok(Json(tp_view(&tp_of(&s, &client_id).await?)))
}

#[utoipa::path(
    post,
    path = "/admin/v1/tps/{client_id}/token",
    tag = "operator",
    operation_id = "admin_tp_token",
    summary = "Mint a platform token (without a ticket)",
    security(("admin_token" = [])),
    params(("client_id" = String, Path, min_length = 1, description = "The platform's client id.")),
    responses((status = 200, description = "The token, shown once.", body = service::parties::TpToken), AdminErrors)
)]
pub async fn tp_token(
    State(s): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<service::parties::TpToken>, AdminError> {
    let tp = tp_of(&s, &client_id).await?;
    let token = service::parties::mint_tp_token(&s, tp.id).await?;
    Ok(Json(token))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    /// Generated when absent.
    #[schema(minimum = 1)]
    app_id: Option<i64>,
    #[schema(min_length = 1, pattern = r"\S")]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    basic_info_approved: bool,
    #[serde(default)]
    authenticity_verified: bool,
}

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
    params(("app_id" = i64, Path, description = "The app.")),
    responses((status = 200, description = "The app.", body = AppView), AdminErrors)
)]
pub async fn get_app(
    State(s): State<AppState>,
    Path(app_id): Path<i64>,
) -> Result<Json<AppView>, AdminError> {
    let app = s
        .store
        .app(AppId(app_id))
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no app {app_id}")))?;
    Ok(Json(app_view(&app)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApp {
    name: Option<String>,
    basic_info_approved: Option<bool>,
    authenticity_verified: Option<bool>,
    /// `normal`, `paused`, `banned` or `forced_offline`: host runtimes are
    /// served only a normal app.
    service_status: Option<String>,
    /// Why the app is banned or taken offline (required with `banned` and
    /// `forced_offline`): shown to its platform in `app/info` and
    /// `app/violation`.
    reason: Option<String>,
    /// With `forced_offline`: the offending fields, any of `appName`,
    /// `photoAddr`, `appDesc`, comma-separated (`app/offline/update`
    /// corrects them).
    illegal_fields: Option<String>,
}

#[utoipa::path(
    patch,
    path = "/admin/v1/apps/{app_id}",
    tag = "operator",
    operation_id = "admin_update_app",
    summary = "Change an app's name or its approvals",
    security(("admin_token" = [])),
    params(("app_id" = i64, Path, description = "The app.")),
    request_body(content = UpdateApp, content_type = "application/json"),
    responses((status = 200, description = "The app.", body = AppView), AdminErrors)
)]
pub async fn update_app(
    State(s): State<AppState>,
    Path(app_id): Path<i64>,
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
        },
    )
    .await?
    .ok_or_else(|| AdminError::not_found(format!("no app {app_id}")))?;
    tracing::info!(app = app_id, ?service_status, basic_info_approved = ?req.basic_info_approved, "operator changed app");
    Ok(Json(app_view(&app)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Authorize {
    client_id: String,
    /// Comma-separated scopes (default: every scope of the platform).
    scopes: Option<String>,
}

#[utoipa::path(
    post,
    path = "/admin/v1/apps/{app_id}/authorize",
    tag = "operator",
    operation_id = "admin_authorize",
    summary = "Authorize a platform for an app (as the consent page does)",
    security(("admin_token" = [])),
    params(("app_id" = i64, Path, description = "The app.")),
    request_body(content = Authorize, content_type = "application/json"),
    responses((status = 200, description = "The app's tokens, shown once.", body = Authorized), AdminErrors)
)]
pub async fn authorize(
    State(s): State<AppState>,
    Path(app_id): Path<i64>,
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
    params(("app_id" = i64, Path, description = "The app."), ("client_id" = String, Path, min_length = 1, description = "The platform's client id.")),
    responses((status = 200, description = "Ended.", body = Unauthorized), AdminErrors)
)]
pub async fn unauthorize(
    State(s): State<AppState>,
    Path((app_id, client_id)): Path<(i64, String)>,
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

#[utoipa::path(
    get,
    path = "/admin/v1/tps/{client_id}/ticket",
    tag = "operator",
    operation_id = "admin_tp_ticket",
    summary = "The platform's current ticket",
    security(("admin_token" = [])),
    params(("client_id" = String, Path, min_length = 1, description = "The platform's client id.")),
    responses((status = 200, description = "The ticket.", body = TicketView), AdminErrors)
)]
pub async fn tp_ticket(
    State(s): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<TicketView>, AdminError> {
    let tp = tp_of(&s, &client_id).await?;
    let ticket = match s.store.tickets(tp.id, 0).await?.into_iter().next() {
        Some(t) => t,
        // A TP created moments ago may not have had its first rotation yet.
        None => service::tickets::rotate(&s, tp.id).await?,
    };
    Ok(Json(TicketView { ticket }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppAdmin {
    #[schema(min_length = 1, max_length = 64, pattern = r"\S")]
    username: String,
    #[schema(min_length = 8)]
    password: String,
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
    params(("app_id" = i64, Path, description = "The app.")),
    request_body(content = AppAdmin, content_type = "application/json"),
    responses((status = 200, description = "The account.", body = AppAdminView), AdminErrors)
)]
pub async fn upsert_app_admin(
    State(s): State<AppState>,
    Path(app_id): Path<i64>,
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
    params(("app_id" = i64, Path, description = "The app.")),
    responses((status = 200, description = "The packages.", body = PackageViews), AdminErrors)
)]
pub async fn app_packages(
    State(s): State<AppState>,
    Path(app_id): Path<i64>,
) -> Result<Json<PackageViews>, AdminError> {
    let list = s.store.all_packages(AppId(app_id)).await?;
    Ok(Json(PackageViews {
        packages: list.iter().map(|p| package_view(&s, p)).collect(),
    }))
}

async fn package_of(s: &AppState, id: i64) -> Result<Package, AdminError> {
    s.store
        .package_any(PackageId(id))
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no package {id}")))
}

#[utoipa::path(
    get,
    path = "/admin/v1/packages/{package_id}",
    tag = "operator",
    operation_id = "admin_get_package",
    summary = "A package and its transitions",
    security(("admin_token" = [])),
    params(("package_id" = i64, Path, description = "The package.")),
    responses((status = 200, description = "The package.", body = PackageDetail), AdminErrors)
)]
pub async fn get_package(
    State(s): State<AppState>,
    Path(id): Path<i64>,
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// `pass` or `fail`.
    #[schema(pattern = "^(pass|fail)$")]
    pub(super) decision: String,
    /// Needed to fail: shown to the platform. Tab and line breaks are
    /// fine; other control characters and those that reorder or hide text
    /// are not.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]*[^\s\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]*$"
    )]
    pub(super) reason: Option<String>,
}

#[utoipa::path(
    post,
    path = "/admin/v1/packages/{package_id}/review",
    tag = "operator",
    operation_id = "admin_review",
    summary = "Pass or fail a package under audit",
    security(("admin_token" = [])),
    params(("package_id" = i64, Path, description = "The package.")),
    request_body(content = Review, content_type = "application/json"),
    responses((status = 200, description = "The package after the review.", body = PackageView), (status = 409, description = "The package is not under audit (`wrong_state`).", body = AdminErrorBody), AdminErrors)
)]
pub async fn review(
    State(s): State<AppState>,
    Path(id): Path<i64>,
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
    params(("package_id" = i64, Path, description = "The package.")),
    responses((status = 200, description = "The zip.", content_type = "application/zip", body = Vec<u8>), (status = 409, description = "The package has no built artifact (`not_built`).", body = AdminErrorBody), AdminErrors)
)]
pub async fn download(
    State(s): State<AppState>,
    Path(id): Path<i64>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    client_id: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
}

fn event_view(s: &AppState, e: &EventRecord) -> EventView {
    EventView {
        id: smartship_api::events::webhook_id(e.id),
        event_id: e.id,
        tp_app_id: e.tp_id.0,
        app_id: e.app_id.map(|a| a.0),
        event: e.kind.as_str().to_owned(),
        target: e.target.as_str().to_owned(),
        package_id: e.package_id.map(|p| p.0),
        version: e.version.clone(),
        reason: e.reason.clone(),
        event_time: crate::clock::event_time(e.occurred_at, s.tz),
        status: e.status.as_str().to_owned(),
        attempts: e.attempts,
        next_attempt_at: (e.status == EventStatus::Pending)
            .then(|| crate::clock::event_time(e.next_attempt_at, s.tz)),
        last_error: e.last_error.clone(),
        delivered_at: e.delivered_at.map(|t| crate::clock::event_time(t, s.tz)),
    }
}

#[utoipa::path(
    get,
    path = "/admin/v1/events",
    tag = "operator",
    operation_id = "admin_events",
    summary = "Pushed events, newest first",
    security(("admin_token" = [])),
    params(("client_id" = Option<String>, Query, description = "Events of this platform."), ("status" = Option<String>, Query, pattern = "^(pending|delivered|failed|undeliverable|discarded)$", description = "`pending`, `delivered`, `failed`, `undeliverable` or `discarded`."), ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "At most this many (1 to 1000, default 100).")),
    responses((status = 200, description = "The events.", body = EventViews), AdminErrors)
)]
pub async fn events(
    State(s): State<AppState>,
    q: Result<Query<EventQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventViews>, AdminError> {
    let Query(q) = q.map_err(|e| AdminError::invalid(e.body_text()))?;
    let tp = match &q.client_id {
        Some(c) => Some(tp_of(&s, c).await?.id),
        None => None,
    };
    let status = match &q.status {
        None => None,
        Some(st) => Some(EventStatus::parse(st).ok_or_else(|| {
            AdminError::invalid(
                "status must be pending, delivered, failed, undeliverable or discarded",
            )
        })?),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let list = s.store.events(tp, status, limit).await?;
    Ok(Json(EventViews {
        events: list.iter().map(|e| event_view(&s, e)).collect(),
    }))
}

/// Events are addressed by their number or their `webhook-id` (`evt_12`).
fn event_id(raw: &str) -> Result<i64, AdminError> {
    raw.strip_prefix("evt_")
        .unwrap_or(raw)
        .parse()
        .map_err(|_| AdminError::invalid(format!("{raw:?} is not an event id")))
}

#[utoipa::path(
    get,
    path = "/admin/v1/events/{event_id}",
    tag = "operator",
    operation_id = "admin_get_event",
    summary = "An event and its delivery attempts",
    security(("admin_token" = [])),
    params(("event_id" = String, Path, pattern = "^(evt_)?[0-9]+$", description = "The event: its number or its `webhook-id` (`evt_12`).")),
    responses((status = 200, description = "The event.", body = EventDetail), AdminErrors)
)]
pub async fn get_event(
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<EventDetail>, AdminError> {
    let id = event_id(&raw)?;
    let e = s
        .store
        .event(id)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no event {id}")))?;
    let attempts = s.store.event_attempts(id).await?;
    Ok(Json(EventDetail {
        event: event_view(&s, &e),
        attempt_log: attempts
            .iter()
            .map(|a| AttemptView {
                attempt: a.attempt,
                url: a.url.clone(),
                at: crate::clock::event_time(a.started_at, s.tz),
                at_ms: a.started_at,
                duration_ms: a.duration_ms,
                status_code: a.status_code,
                response_body: a.response_body.clone(),
                error: a.error.clone(),
                outcome: a.outcome.as_str().to_owned(),
            })
            .collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/admin/v1/events/{event_id}/replay",
    tag = "operator",
    operation_id = "admin_replay_event",
    summary = "Queue an event again",
    security(("admin_token" = [])),
    params(("event_id" = String, Path, pattern = "^(evt_)?[0-9]+$", description = "The event: its number or its `webhook-id` (`evt_12`).")),
    responses((status = 200, description = "Queued.", body = Replayed), AdminErrors)
)]
pub async fn replay_event(
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<Replayed>, AdminError> {
    let id = event_id(&raw)?;
    if !service::events::replay(&s, id).await? {
        return Err(AdminError::not_found(format!("no event {id}")));
    }
    Ok(Json(Replayed { replayed: 1 }))
}

#[utoipa::path(
    post,
    path = "/admin/v1/tps/{client_id}/events/replay-failed",
    tag = "operator",
    operation_id = "admin_replay_failed",
    summary = "Queue a platform's failed events again",
    security(("admin_token" = [])),
    params(("client_id" = String, Path, min_length = 1, description = "The platform's client id.")),
    responses((status = 200, description = "How many.", body = Replayed), AdminErrors)
)]
pub async fn replay_failed(
    State(s): State<AppState>,
    Path(client_id): Path<String>,
) -> Result<Json<Replayed>, AdminError> {
    let tp = tp_of(&s, &client_id).await?;
    let n = service::events::replay_failed(&s, tp.id).await?;
    Ok(Json(Replayed { replayed: n }))
}

/// `null` clears a setting, an absent field leaves it.
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTp {
    /// An http or https URL; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = r"^https?://[^/\s]+")]
    message_url: Option<Option<String>>,
    /// An http or https URL; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = r"^https?://[^/\s]+")]
    auth_event_url: Option<Option<String>>,
    /// `whsec_` and the base64 of at least 16 bytes; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = "^whsec_[A-Za-z0-9+/=]{22,}$")]
    webhook_secret: Option<Option<String>>,
    /// A domain name such as `isv.example`; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = r"^\.?([A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}$")]
    redirect_domain: Option<Option<String>>,
    /// Comma-separated networks (`203.0.113.0/24,2001:db8::/32`); `null`
    /// removes the allow-list.
    #[serde(default, deserialize_with = "double_option")]
    ip_allowlist: Option<Option<String>>,
    /// The release events to subscribe to, replacing the list (`[]`: none):
    /// `PACKAGE_BUILD_SUCCESS`, `PACKAGE_BUILD_FAIL`, `PACKAGE_RELEASE`,
    /// `PACKAGE_GRAY_RELEASE`, `PACKAGE_ROLLBACK`.
    #[serde(default)]
    release_events: Option<Vec<String>>,
}

fn check_event_url(field: &str, url: &Option<Option<String>>) -> Result<(), AdminError> {
    if let Some(Some(u)) = url {
        let parsed = url::Url::parse(u)
            .map_err(|e| AdminError::invalid(format!("{field}: not a URL ({e})")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(AdminError::invalid(format!(
                "{field}: must be an http or https URL with a host"
            )));
        }
    }
    Ok(())
}

#[utoipa::path(
    patch,
    path = "/admin/v1/tps/{client_id}",
    tag = "operator",
    operation_id = "admin_update_tp",
    summary = "Change a platform's event URLs, webhook secret, redirect domain or IP allow-list",
    security(("admin_token" = [])),
    params(("client_id" = String, Path, min_length = 1, description = "The platform's client id.")),
    request_body(content = UpdateTp, content_type = "application/json"),
    responses((status = 200, description = "The platform.", body = TpView), AdminErrors)
)]
pub async fn update_tp(
    State(s): State<AppState>,
    Path(client_id): Path<String>,
    req: Result<Json<UpdateTp>, JsonRejection>,
) -> Result<Json<TpView>, AdminError> {
    let req = body(req)?;
    if let Some(Some(list)) = &req.ip_allowlist {
        let policy = crate::net_guard::NetworkPolicy::parse(list)
            .map_err(|e| AdminError::invalid(format!("ip_allowlist: {e}")))?;
        if policy == crate::net_guard::NetworkPolicy::default() {
            return Err(AdminError::invalid(
                "ip_allowlist must list at least one network (null removes the allow-list)",
            ));
        }
    }
    if let Some(Some(domain)) = &req.redirect_domain {
        let d = domain.trim().trim_start_matches('.');
        let valid = !d.is_empty()
            && d.len() <= 253
            && d.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid {
            return Err(AdminError::invalid(
                "redirect_domain must be a domain name such as isv.example",
            ));
        }
    }
    if let Some(list) = &req.release_events {
        for e in list {
            if !smartship_core::event_kind::EventKind::parse(e)
                .is_some_and(|k| k.is_release_event())
            {
                return Err(AdminError::invalid(format!(
                    "release_events: {e:?} is not PACKAGE_BUILD_SUCCESS, PACKAGE_BUILD_FAIL, \
                     PACKAGE_RELEASE, PACKAGE_GRAY_RELEASE or PACKAGE_ROLLBACK"
                )));
            }
        }
    }
    check_event_url("message_url", &req.message_url)?;
    check_event_url("auth_event_url", &req.auth_event_url)?;
    if let Some(Some(secret)) = &req.webhook_secret
        && smartship_api::crypto::standard_webhook_signature(secret, "x", 0, b"").is_err()
    {
        return Err(AdminError::invalid(
            "webhook_secret must be whsec_ followed by the base64 of at least 16 bytes",
        ));
    }
    let tp = service::parties::update_tp(
        &s,
        &client_id,
        TpUpdate {
            message_url: req.message_url,
            auth_event_url: req.auth_event_url,
            webhook_secret: req.webhook_secret,
            redirect_domain: req
                .redirect_domain
                .map(|d| d.map(|d| d.trim().trim_start_matches('.').to_ascii_lowercase())),
            ip_allowlist: req.ip_allowlist,
            release_events: req.release_events.map(|mut l| {
                l.sort();
                l.dedup();
                l
            }),
        },
    )
    .await?
    .ok_or_else(|| AdminError::not_found(format!("no third-party platform {client_id}")))?;
    Ok(Json(tp_view(&tp)))
}

#[utoipa::path(
    get,
    path = "/admin/v1/storage",
    tag = "operator",
    operation_id = "admin_storage",
    summary = "Blob storage in use",
    security(("admin_token" = [])),
    responses((status = 200, description = "Counts and bytes.", body = StorageView), AdminErrors)
)]
pub async fn storage(State(s): State<AppState>) -> Result<Json<StorageView>, AdminError> {
    let blobs = s.blobs.clone();
    let (count, bytes) = tokio::task::spawn_blocking(move || blobs.usage()).await??;
    Ok(Json(StorageView {
        blob_count: count,
        blob_bytes: bytes,
    }))
}

/// Runs a collection of unreferenced blobs now (the worker runs one every
/// `blob_gc_interval_secs`).
#[utoipa::path(
    post,
    path = "/admin/v1/blobs/collect",
    tag = "operator",
    operation_id = "admin_collect_blobs",
    summary = "Remove the blobs no row names any more",
    description = "Files of refused and deleted drafts, and anything else no draft, template, package, incremental package or image names, last stored longer ago than `blob_gc_grace_secs`.",
    security(("admin_token" = [])),
    responses((status = 200, description = "What was removed.", body = smartship_api::admin::CollectedView), AdminErrors)
)]
pub async fn collect_blobs(
    State(s): State<AppState>,
) -> Result<Json<smartship_api::admin::CollectedView>, AdminError> {
    let done = service::blobs::collect(&s).await?;
    Ok(Json(smartship_api::admin::CollectedView {
        blobs_removed: done.blobs,
        bytes_removed: done.bytes,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    limit: Option<i64>,
}

/// The review queue: packages under audit, oldest submission first.
#[utoipa::path(
    get,
    path = "/admin/v1/review-queue",
    tag = "operator",
    operation_id = "admin_review_queue",
    summary = "Packages under audit, oldest submission first",
    security(("admin_token" = [])),
    params(("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "At most this many (1 to 1000, default 100).")),
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
