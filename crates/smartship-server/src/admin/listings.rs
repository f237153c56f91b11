//! What exists: paged, filtered lists of apps, platforms, packages and
//! templates, and `GET /admin/v1/status`, the counts an operator checks
//! first (and that `smartship admin status` prints).
//!
//! Every list answers `{"<items>": [...], "total", "page", "page_size"}`:
//! `total` counts every match, so a client pages until it has them all.

use super::AdminError;
use super::shared::{app_view, package_view, tp_of};
use crate::api_doc::AdminErrors;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use smartship_api::admin::{
    AppPage, BuildCounts, PackagePage, QueueCounts, StatusView, TemplatePage, TemplateView, TpPage,
    TpSummary,
};
use smartship_api::requests::admin::{
    AppListQuery, PackageListQuery, TemplateListQuery, TpListQuery,
};
use smartship_core::AppId;
use smartship_core::lifecycle::PackageState;
use smartship_store::{AppFilter, PackageFilter, PageRequest, Tp};
use std::collections::HashMap;

/// Highest page number: with the largest page, far from `i64`'s range.
const MAX_PAGE: i64 = 1_000_000;
/// Largest `page_size` a list accepts.
pub const MAX_PAGE_SIZE: i64 = 500;
const DEFAULT_PAGE_SIZE: i64 = 50;

/// The page asked for, checked: `page` from 1, `page_size` 1 to 500.
fn paging(
    page: Option<i64>,
    page_size: Option<i64>,
) -> Result<(i64, i64, PageRequest), AdminError> {
    let page = page.unwrap_or(1);
    let size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(AdminError::invalid(format!("page must be 1 to {MAX_PAGE}")));
    }
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(AdminError::invalid(format!(
            "page_size must be 1 to {MAX_PAGE_SIZE}"
        )));
    }
    let offset = (page - 1)
        .checked_mul(size)
        .ok_or_else(|| AdminError::invalid("page is too large"))?;
    Ok((
        page,
        size,
        PageRequest {
            offset,
            limit: size,
        },
    ))
}

/// The query of a list: an unknown parameter (a filter of another list,
/// a typo) is refused, never ignored.
fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, AdminError> {
    q.map(|Query(q)| q)
        .map_err(|e| AdminError::invalid(e.body_text()))
}

async fn tp_filter(s: &AppState, client_id: &Option<String>) -> Result<Option<Tp>, AdminError> {
    match client_id {
        Some(c) => Ok(Some(tp_of(s, c).await?)),
        None => Ok(None),
    }
}

/// A state by name or by wire status.
fn parse_state(raw: &str) -> Result<PackageState, AdminError> {
    let raw = raw.trim();
    raw.parse::<i64>()
        .ok()
        .and_then(PackageState::from_wire_status)
        .or_else(|| PackageState::parse(raw))
        .ok_or_else(|| {
            let names: Vec<&str> = PackageState::ALL.iter().map(|s| s.as_str()).collect();
            AdminError::invalid(format!(
                "state must be one of {} or a wire status (1, 3, 4, 5, 6, 8), got {raw:?}",
                names.join(", ")
            ))
        })
}

/// `GET /admin/v1/apps?q=&client_id=&page=&page_size=`
#[utoipa::path(
    get,
    path = "/admin/v1/apps",
    tag = "operator",
    operation_id = "admin_list_apps",
    summary = "Apps, by id",
    security(("admin_token" = [])),
    params(AppListQuery),
    responses((status = 200, description = "A page.", body = AppPage), AdminErrors)
)]
pub async fn apps(
    State(s): State<AppState>,
    q: Result<Query<AppListQuery>, QueryRejection>,
) -> Result<Json<AppPage>, AdminError> {
    let q = query(q)?;
    let (page, size, req) = paging(q.page, q.page_size)?;
    let tp = tp_filter(&s, &q.client_id).await?;
    let filter = AppFilter {
        name_contains: q.q.clone().filter(|t| !t.trim().is_empty()),
        tp: tp.map(|t| t.id),
    };
    let (total, list) = s.store.list_apps(&filter, req).await?;
    Ok(Json(AppPage {
        apps: list.iter().map(app_view).collect(),
        total,
        page,
        page_size: size,
    }))
}

/// `GET /admin/v1/tps?page=&page_size=`: a summary per platform; its
/// secrets only in `GET /admin/v1/tps/{client_id}`.
#[utoipa::path(
    get,
    path = "/admin/v1/tps",
    tag = "operator",
    operation_id = "admin_list_tps",
    summary = "Third-party platforms (no secrets)",
    security(("admin_token" = [])),
    params(TpListQuery),
    responses((status = 200, description = "A page.", body = TpPage), AdminErrors)
)]
pub async fn tps(
    State(s): State<AppState>,
    q: Result<Query<TpListQuery>, QueryRejection>,
) -> Result<Json<TpPage>, AdminError> {
    let q = query(q)?;
    let (page, size, req) = paging(q.page, q.page_size)?;
    let (total, list) = s.store.list_tps(req).await?;
    let items = list
        .iter()
        .map(|tp| TpSummary {
            client_id: tp.client_id.clone(),
            tp_app_id: tp.id.0,
            name: tp.name.clone(),
            message_url: tp.message_url.clone(),
            auth_event_url: tp.auth_event_url.clone(),
            created_at: crate::clock::event_time(tp.created_at, s.tz),
        })
        .collect();
    Ok(Json(TpPage {
        tps: items,
        total,
        page,
        page_size: size,
    }))
}

/// `GET /admin/v1/packages?app_id=&client_id=&state=&version=&page=&page_size=`
#[utoipa::path(
    get,
    path = "/admin/v1/packages",
    tag = "operator",
    operation_id = "admin_list_packages",
    summary = "Packages, newest first",
    security(("admin_token" = [])),
    params(PackageListQuery),
    responses((status = 200, description = "A page.", body = PackagePage), AdminErrors)
)]
pub async fn packages(
    State(s): State<AppState>,
    q: Result<Query<PackageListQuery>, QueryRejection>,
) -> Result<Json<PackagePage>, AdminError> {
    let q = query(q)?;
    let (page, size, req) = paging(q.page, q.page_size)?;
    let tp = tp_filter(&s, &q.client_id).await?;
    let filter = PackageFilter {
        app: q.app_id.map(AppId),
        tp: tp.map(|t| t.id),
        state: q.state.as_deref().map(parse_state).transpose()?,
        version: q.version.clone(),
    };
    let (total, list) = s.store.list_packages(&filter, req).await?;
    Ok(Json(PackagePage {
        packages: list.iter().map(|p| package_view(&s, p)).collect(),
        total,
        page,
        page_size: size,
    }))
}

/// `GET /admin/v1/templates?client_id=&page=&page_size=`
#[utoipa::path(
    get,
    path = "/admin/v1/templates",
    tag = "operator",
    operation_id = "admin_list_templates",
    summary = "Templates of every platform",
    security(("admin_token" = [])),
    params(TemplateListQuery),
    responses((status = 200, description = "A page.", body = TemplatePage), AdminErrors)
)]
pub async fn templates(
    State(s): State<AppState>,
    q: Result<Query<TemplateListQuery>, QueryRejection>,
) -> Result<Json<TemplatePage>, AdminError> {
    let q = query(q)?;
    let (page, size, req) = paging(q.page, q.page_size)?;
    let tp = tp_filter(&s, &q.client_id).await?;
    let (total, list) = s.store.list_all_templates(tp.map(|t| t.id), req).await?;
    // The platforms of one page, each looked up once.
    let mut client_ids = HashMap::new();
    for t in &list {
        if let std::collections::hash_map::Entry::Vacant(e) = client_ids.entry(t.tp_id.0) {
            let tp = s.store.tp_by_id(t.tp_id).await?;
            e.insert(tp.map(|tp| tp.client_id));
        }
    }
    let items = list
        .iter()
        .map(|t| TemplateView {
            template_id: t.id.0,
            client_id: client_ids.get(&t.tp_id.0).cloned().flatten(),
            draft_id: t.draft_id.0,
            user_version: t.user_version.clone(),
            user_desc: t.user_desc.clone(),
            create_time: t.created_at / 1000,
            created_at: crate::clock::event_time(t.created_at, s.tz),
        })
        .collect();
    Ok(Json(TemplatePage {
        templates: items,
        total,
        page,
        page_size: size,
    }))
}

/// `GET /admin/v1/status`: counts of what exists, what waits, and how
/// event delivery stands.
#[utoipa::path(
    get,
    path = "/admin/v1/status",
    tag = "operator",
    operation_id = "admin_status",
    summary = "What exists, what waits, how event delivery stands",
    security(("admin_token" = [])),
    responses((status = 200, description = "The counts.", body = StatusView), AdminErrors)
)]
pub async fn status(State(s): State<AppState>) -> Result<Json<StatusView>, AdminError> {
    let c = s.store.status_counts().await?;
    let now = crate::clock::now_ms();
    let counts = |v: &[(String, i64)]| v.iter().cloned().collect();
    Ok(Json(StatusView {
        apps: c.apps,
        tps: c.tps,
        templates: c.templates,
        packages: counts(&c.packages_by_state),
        builds: BuildCounts {
            pending: c.builds_pending,
            failed: c.builds_failed,
        },
        review_queue: QueueCounts {
            waiting: c.review_queue,
            oldest_since: c
                .oldest_review_since
                .map(|t| crate::clock::event_time(t, s.tz)),
            oldest_wait_secs: c.oldest_review_since.map(|t| (now - t).max(0) / 1000),
        },
        rollbacks_pending: c.rollbacks_pending,
        events: counts(&c.events_by_status),
        undeliverable_tps: c.tps_with_undeliverable,
        review_policy: s.config.review_policy.as_str().to_owned(),
        timezone: s.config.timezone.clone(),
    }))
}
