//! Apps and platforms: searchable lists; an app's page with its facts,
//! authorizations, packages and the timeline of every package transition
//! with who made it; and the admins' actions on it: roll back the online
//! version, pause and resume its service, and (demo servers only) approve
//! its basic information.

use super::auth::Signed;
use super::i18n::Lang;
use super::layout::{self, Found, Nav, OrInternal, Page, PageError};
use super::reviews::when;
use crate::service::{self, packages::Change};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use smartship_core::AppId;
use smartship_core::lifecycle::{Action, PackageState};
use smartship_store::{App, AppFilter, AppUpdate, PageRequest, ServiceStatus};
use std::collections::HashMap;

const PAGE_SIZE: i64 = 50;
/// Highest page number taken (offsets stay far from overflow).
const MAX_PAGE: i64 = 1_000_000;

/// A value as one segment of a URL's path or query.
pub(super) fn url_part(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

fn page_number(q: &HashMap<String, String>) -> i64 {
    q.get("page")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, MAX_PAGE)
}

fn yes_no(l: Lang, v: bool) -> Markup {
    html! { @if v { span.badge.ok { (l.t("是", "yes")) } } @else { span.badge.warn { (l.t("否", "no")) } } }
}

fn service(l: Lang, st: ServiceStatus) -> Markup {
    let class = if st == ServiceStatus::Normal {
        "badge ok"
    } else {
        "badge bad"
    };
    let label = match st {
        ServiceStatus::Normal => l.t("正常", "normal"),
        ServiceStatus::Paused => l.t("已暂停", "paused"),
        ServiceStatus::Banned => l.t("已封禁", "banned"),
        ServiceStatus::ForcedOffline => l.t("已下线", "forced offline"),
        ServiceStatus::TrafficOffline => l.t("流量已下线", "traffic offline"),
    };
    html! { span class=(class) { (label) } }
}

/// `GET /console/apps?q=&page=`
pub async fn list(
    State(s): State<AppState>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let l = who.lang;
    let search = q
        .get("q")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    let page = page_number(&q);
    let filter = AppFilter {
        name_contains: search.clone(),
        tp: None,
    };
    let (total, apps) = s
        .store
        .list_apps(
            &filter,
            PageRequest {
                offset: (page - 1) * PAGE_SIZE,
                limit: PAGE_SIZE,
            },
        )
        .await
        .or_internal(l)?;
    let link = |p: i64| {
        let mut qs = url::form_urlencoded::Serializer::new(String::new());
        if let Some(v) = &search {
            qs.append_pair("q", v);
        }
        qs.append_pair("page", &p.to_string());
        format!("/console/apps?{}", qs.finish())
    };
    let body = html! {
        form.filters method="get" action="/console/apps" role="search" {
            div {
                label for="q" { (l.t("名称包含", "Name contains")) }
                input #q type="text" name="q" value=(search.as_deref().unwrap_or(""));
            }
            div { button #search type="submit" { (l.t("搜索", "Search")) } }
        }
        p.muted { (l.t("共", "")) " " (total) " " (l.t("个小程序", "apps")) }
        div.scroll tabindex="0" { table #apps {
            thead { tr {
                th scope="col" { "ID" }
                th scope="col" { (l.t("名称", "Name")) }
                th scope="col" { (l.t("服务", "Service")) }
                th.opt scope="col" { (l.t("基本信息", "Basic info")) }
                th.opt scope="col" { (l.t("主体认证", "Verified")) }
            } }
            tbody { @for a in &apps { tr data-row tabindex="-1" {
                td { a href={ "/console/apps/" (a.id.0) } data-open { (a.id.0) } }
                td { (a.name) }
                td { (service(l, a.service_status)) }
                td.opt { (yes_no(l, a.basic_info_approved)) }
                td.opt { (yes_no(l, a.authenticity_verified)) }
            } } }
        } }
        div.pager {
            @if page > 1 { a href=(link(page - 1)) { (l.t("上一页", "Previous page")) } }
            @if page * PAGE_SIZE < total { a #next-page href=(link(page + 1)) { (l.t("下一页", "Next page")) } }
        }
    };
    Ok(layout::page(
        &who,
        StatusCode::OK,
        Nav::Apps,
        l.t("小程序", "Apps"),
        body,
    ))
}

/// `GET /console/tps?page=`
pub async fn platforms(
    State(s): State<AppState>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let l = who.lang;
    let page = page_number(&q);
    let (total, tps) = s
        .store
        .list_tps(PageRequest {
            offset: (page - 1) * PAGE_SIZE,
            limit: PAGE_SIZE,
        })
        .await
        .or_internal(l)?;
    let body = html! {
        p.muted { (l.t("共", "")) " " (total) " " (l.t("个第三方平台", "platforms")) }
        div.scroll tabindex="0" { table #tps {
            thead { tr {
                th scope="col" { (l.t("名称", "Name")) }
                th scope="col" { "client_id" }
                th.opt scope="col" { (l.t("消息推送地址", "Message URL")) }
                th scope="col" { (l.t("事件", "Events")) }
            } }
            tbody { @for tp in &tps { tr {
                td { (tp.name) }
                td { code { (tp.client_id) } }
                td.opt { (tp.message_url.as_deref().unwrap_or("—")) }
                td {
                    a href={ "/console/events?tp=" (super::apps::url_part(&tp.client_id)) } { (l.t("全部", "all")) }
                    " · "
                    a href={ "/console/events?status=failed&tp=" (super::apps::url_part(&tp.client_id)) } { (l.t("失败", "failed")) }
                }
            } } }
        } }
        div.pager {
            @if page > 1 { a href={ "/console/tps?page=" (page - 1) } { (l.t("上一页", "Previous page")) } }
            @if page * PAGE_SIZE < total { a href={ "/console/tps?page=" (page + 1) } { (l.t("下一页", "Next page")) } }
        }
    };
    Ok(layout::page(
        &who,
        StatusCode::OK,
        Nav::Tps,
        l.t("第三方平台", "Platforms"),
        body,
    ))
}

fn actions(s: &AppState, who: &Signed, app: &App, online: Option<i64>) -> Markup {
    let l = who.lang;
    let base = format!("/console/apps/{}", app.id.0);
    let form = |path: &str, id: &str, label: &str, extra: Option<(&str, &str)>| {
        html! {
            form method="post" action={ (base) "/" (path) } {
                input type="hidden" name="csrf" value=(who.csrf);
                @if let Some((k, v)) = extra { input type="hidden" name=(k) value=(v); }
                button #(id) type="submit" { (label) }
            }
        }
    };
    html! {
        div.card.actions #app-actions {
            @if let Some(p) = online {
                (form("rollback", "rollback", l.t("回滚线上版本", "Roll back the online version"), Some(("package_id", &p.to_string()))))
            }
            @match app.service_status {
                ServiceStatus::Normal => (form("service", "pause", l.t("暂停服务", "Pause service"), Some(("status", "paused")))),
                ServiceStatus::Paused => (form("service", "resume", l.t("恢复服务", "Resume service"), Some(("status", "normal")))),
                _ => {}
            }
            @if s.demo && !app.basic_info_approved {
                (form("approve", "approve", l.t("批准基本信息（演示）", "Approve basic information (demo)"), None))
            }
        }
    }
}

/// `GET /console/apps/{id}`
pub async fn show(
    State(s): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let l = who.lang;
    let app = s
        .store
        .app(AppId(id))
        .await
        .found(l, || format!("app {id}"))?;
    let (auths, packages, timeline) = tokio::try_join!(
        s.store.app_authorizations(app.id),
        s.store.slotted_packages(app.id),
        s.store.app_timeline(app.id, 200),
    )
    .or_internal(l)?;
    let online = packages
        .iter()
        .find(|p| p.state == PackageState::Online)
        .map(|p| p.id.0);
    let body = html! {
        (super::reviews::notice(l, &q))
        dl.facts #facts {
            dt { "ID" } dd { (app.id.0) }
            dt { "app_key" } dd { code { (app.app_key) } }
            dt { (l.t("描述", "Description")) } dd { (app.description) }
            dt { (l.t("服务", "Service")) } dd #service { (service(l, app.service_status)) }
            dt { (l.t("基本信息已审核", "Basic info approved")) } dd #approved { (yes_no(l, app.basic_info_approved)) }
            dt { (l.t("主体认证", "Verified")) } dd { (yes_no(l, app.authenticity_verified)) }
            dt { (l.t("创建于", "Created")) } dd { (when(&s, app.created_at)) }
        }
        @if who.role.can_operate() { (actions(&s, &who, &app, online)) }
        h2 { (l.t("授权", "Authorizations")) }
        @if auths.is_empty() { p.muted { (l.t("没有授权。", "None.")) } } @else {
            div.scroll tabindex="0" { table #authorizations {
                thead { tr { th scope="col" { (l.t("平台", "Platform")) } th scope="col" { (l.t("权限", "Scopes")) } th scope="col" { (l.t("有效", "Active")) } th.opt scope="col" { (l.t("更新于", "Updated")) } } }
                tbody { @for a in &auths { tr {
                    td { (a.tp_name) br; code.muted { (a.client_id) } }
                    td { (a.scopes) }
                    td { (yes_no(l, a.active)) }
                    td.opt { (when(&s, a.updated_at)) }
                } } }
            } }
        }
        h2 { (l.t("代码包", "Packages")) }
        div.scroll tabindex="0" { table #packages {
            thead { tr { th scope="col" { (l.t("包", "Package")) } th scope="col" { (l.t("版本", "Version")) } th scope="col" { (l.t("状态", "State")) } } }
            tbody { @for p in packages.iter() { tr {
                td { a href={ "/console/packages/" (p.id.0) } { "#" (p.id.0) } }
                td { (p.version) }
                td { (p.state.as_str()) }
            } } }
        } }
        h2 { (l.t("变更记录", "Timeline")) }
        div.scroll tabindex="0" { table #timeline {
            thead { tr {
                th scope="col" { (l.t("时间", "At")) }
                th scope="col" { (l.t("包", "Package")) }
                th scope="col" { (l.t("动作", "Action")) }
                th scope="col" { (l.t("状态变化", "Change")) }
                th scope="col" { (l.t("操作者", "By")) }
            } }
            tbody { @for t in &timeline { tr {
                td { (when(&s, t.transition.at)) }
                td { a href={ "/console/packages/" (t.package_id.0) } { "#" (t.package_id.0) } " " (t.version) }
                td { (t.transition.action) @if !t.transition.detail.is_empty() { br; span.muted { (t.transition.detail) } } }
                td { (t.transition.from.map_or("—", |f| f.as_str())) " → " (t.transition.to.as_str()) }
                td { (t.transition.actor) }
            } } }
        } }
    };
    Ok(layout::page(
        &who,
        StatusCode::OK,
        Nav::Apps,
        &format!("{} · {}", app.name, l.t("小程序", "app")),
        body,
    ))
}

type FormResult =
    Result<axum::extract::Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>;

/// An admin's form on an app: checked, or the refusal.
fn admin_form(
    who: &Signed,
    form: FormResult,
) -> Result<HashMap<String, String>, layout::PageError> {
    let form = form.map(|f| f.0).unwrap_or_default();
    who.check_csrf(&form)
        .and_then(|()| who.require(who.role.can_operate()))?;
    Ok(form)
}

fn back(id: i64, done: &str) -> Response {
    Redirect::to(&format!("/console/apps/{id}?done={done}&id={id}")).into_response()
}

/// `POST /console/apps/{id}/rollback`: the online version goes back to
/// the previous one, after the rollback delay (as `package/rollback`).
pub async fn rollback(
    State(s): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    form: FormResult,
) -> Page {
    let l = who.lang;
    let form = admin_form(&who, form)?;
    let Some(package) = form.get("package_id").and_then(|p| p.parse().ok()) else {
        return Ok(layout::message(
            l,
            StatusCode::BAD_REQUEST,
            l.t("无法回滚", "Cannot roll back"),
            "package_id",
        ));
    };
    let app = AppId(id);
    let change = Change::new(
        app,
        smartship_core::PackageId(package),
        Action::Rollback,
        who.actor(),
    );
    let decision = service::packages::act(&s, change).await;
    Ok(match decision.or_internal(l)? {
        Ok(_) => {
            tracing::info!(app = id, package, operator = %who.operator.username, "console: rollback requested");
            back(id, "rollback")
        }
        Err(r) => layout::message(
            l,
            StatusCode::CONFLICT,
            l.t("无法回滚", "Cannot roll back"),
            &r.to_string(),
        ),
    })
}

/// `POST /console/apps/{id}/service`: pauses (`status=paused`) or resumes
/// (`status=normal`) the app's service; bans and forced offlines stay with
/// the operator API, which takes their reason.
pub async fn set_service(
    State(s): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    form: FormResult,
) -> Page {
    let l = who.lang;
    let form = admin_form(&who, form)?;
    let (status, done) = match form.get("status").map(String::as_str) {
        Some("paused") => (ServiceStatus::Paused, "pause"),
        Some("normal") => (ServiceStatus::Normal, "resume"),
        _ => {
            return Ok(layout::message(
                l,
                StatusCode::BAD_REQUEST,
                l.t("无法修改", "Cannot change"),
                "status: paused or normal",
            ));
        }
    };
    let update = AppUpdate {
        service_status: Some(status),
        ..AppUpdate::default()
    };
    change_app(&s, l, id, update).await?;
    tracing::info!(app = id, status = status.as_str(), operator = %who.operator.username, "console: service changed");
    Ok(back(id, done))
}

/// `POST /console/apps/{id}/approve`: on a demo server, approves the app's
/// basic information at once (a real platform reviews each change).
pub async fn approve(
    State(s): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    form: FormResult,
) -> Page {
    let l = who.lang;
    admin_form(&who, form)?;
    if !s.demo {
        return Ok(layout::message(
            l,
            StatusCode::FORBIDDEN,
            l.t("无权操作", "Forbidden"),
            l.t(
                "只有演示服务器可以直接批准。",
                "Only a demo server approves directly.",
            ),
        ));
    }
    let update = AppUpdate {
        basic_info_approved: Some(true),
        ..AppUpdate::default()
    };
    change_app(&s, l, id, update).await?;
    Ok(back(id, "approve"))
}

/// Changes app `id` as an operator, or the page saying there is none.
async fn change_app(s: &AppState, l: Lang, id: i64, update: AppUpdate) -> Result<(), PageError> {
    service::parties::update_app(s, AppId(id), update)
        .await
        .found(l, || format!("app {id}"))?;
    Ok(())
}
