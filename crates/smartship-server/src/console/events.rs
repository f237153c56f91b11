//! Pushed events (`/console/events`): filtered by platform, kind and
//! status; an event's attempt log; replaying one event or every failed
//! event of a platform (admins).

use super::auth::Signed;
use super::i18n::Lang;
use super::layout::{self, Found, Nav, OrInternal, Page};
use super::reviews::when;
use crate::service;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use smartship_core::event_kind::EventKind;
use smartship_store::{EventFilter, EventRecord, EventStatus, PageRequest, Tp};
use std::collections::HashMap;

const PAGE_SIZE: i64 = 50;

fn status_badge(st: EventStatus) -> Markup {
    let class = match st {
        EventStatus::Delivered => "badge ok",
        EventStatus::Pending => "badge warn",
        _ => "badge bad",
    };
    html! { span class=(class) { (st.as_str()) } }
}

/// Every platform, for the filter (the first 500 by id).
async fn platforms(s: &AppState) -> Result<Vec<Tp>, smartship_store::StoreError> {
    Ok(s.store
        .list_tps(PageRequest {
            offset: 0,
            limit: 500,
        })
        .await?
        .1)
}

fn filter_form(l: Lang, tps: &[Tp], q: &HashMap<String, String>) -> Markup {
    let chosen = |k: &str, v: &str| q.get(k).is_some_and(|x| x == v);
    html! {
        form.filters method="get" action="/console/events" {
            div {
                label for="f-tp" { (l.t("第三方平台", "Platform")) }
                select #f-tp name="tp" {
                    option value="" { (l.t("全部", "all")) }
                    @for tp in tps { option value=(tp.client_id) selected[chosen("tp", &tp.client_id)] { (tp.name) } }
                }
            }
            div {
                label for="f-kind" { (l.t("类型", "Kind")) }
                select #f-kind name="kind" {
                    option value="" { (l.t("全部", "all")) }
                    @for k in EventKind::ALL { option value=(k.as_str()) selected[chosen("kind", k.as_str())] { (k.as_str()) } }
                }
            }
            div {
                label for="f-status" { (l.t("状态", "Status")) }
                select #f-status name="status" {
                    option value="" { (l.t("全部", "all")) }
                    @for st in EventStatus::ALL { option value=(st.as_str()) selected[chosen("status", st.as_str())] { (st.as_str()) } }
                }
            }
            div { button #filter type="submit" { (l.t("筛选", "Filter")) } }
        }
    }
}

/// `GET /console/events`
pub async fn list(
    State(s): State<AppState>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let l = who.lang;
    let tps = platforms(&s).await.or_internal(l)?;
    let pick = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let tp = pick("tp").and_then(|c| tps.iter().find(|t| t.client_id == c));
    let filter = EventFilter {
        tp: tp.map(|t| t.id),
        kind: pick("kind")
            .filter(|k| EventKind::parse(k).is_some())
            .map(str::to_owned),
        status: pick("status")
            .filter(|st| EventStatus::parse(st).is_some())
            .map(str::to_owned),
    };
    let before = pick("before").and_then(|b| b.parse().ok());
    let events = s
        .store
        .event_page(&filter, before, PAGE_SIZE)
        .await
        .or_internal(l)?;
    let tp_name = |id: smartship_core::TpId| {
        tps.iter()
            .find(|t| t.id == id)
            .map_or("?", |t| t.name.as_str())
    };
    let next = (events.len() as i64 == PAGE_SIZE)
        .then(|| events.last())
        .flatten()
        .map(|e| {
            let mut qs = url::form_urlencoded::Serializer::new(String::new());
            for k in ["tp", "kind", "status"] {
                if let Some(v) = pick(k) {
                    qs.append_pair(k, v);
                }
            }
            qs.append_pair("before", &e.id.to_string());
            format!("/console/events?{}", qs.finish())
        });
    let body = html! {
        (super::reviews::notice(l, &q))
        (filter_form(l, &tps, &q))
        @if let Some(tp) = tp {
            @if who.role.can_operate() {
                form.inline method="post" action={ "/console/tps/" (super::apps::url_part(&tp.client_id)) "/replay-failed" } {
                    input type="hidden" name="csrf" value=(who.csrf);
                    button #replay-failed type="submit" { (l.t("重新推送该平台全部失败事件", "Replay every failed event of this platform")) }
                }
            }
        }
        @if events.is_empty() {
            p #no-events { (l.t("没有符合条件的事件。", "No event matches.")) }
        } @else {
            div.scroll tabindex="0" { table #events {
                thead { tr {
                    th scope="col" { (l.t("事件", "Event")) }
                    th scope="col" { (l.t("平台", "Platform")) }
                    th scope="col" { (l.t("类型", "Kind")) }
                    th scope="col" { (l.t("状态", "Status")) }
                    th.opt scope="col" { (l.t("尝试", "Attempts")) }
                    th.opt scope="col" { (l.t("发生于", "Occurred")) }
                } }
                tbody { @for e in &events { tr data-row tabindex="-1" {
                    td { a href={ "/console/events/" (e.id) } data-open { "evt_" (e.id) } }
                    td { (tp_name(e.tp_id)) }
                    td { (e.kind.as_str()) @if let Some(p) = e.package_id { br; span.muted { "package " (p.0) } } }
                    td { (status_badge(e.status)) }
                    td.opt { (e.attempts) }
                    td.opt { (when(&s, e.occurred_at)) }
                } } }
            } }
        }
        div.pager { @if let Some(n) = &next { a #next-page href=(n) { (l.t("更早的事件", "Older events")) } } }
    };
    Ok(layout::page(
        &who,
        StatusCode::OK,
        Nav::Events,
        l.t("事件推送", "Events"),
        body,
    ))
}

fn facts(s: &AppState, l: Lang, e: &EventRecord, tp: &str) -> Markup {
    html! {
        dl.facts #facts {
            dt { (l.t("平台", "Platform")) } dd { (tp) }
            dt { (l.t("类型", "Kind")) } dd { (e.kind.as_str()) }
            dt { (l.t("目标", "Target")) } dd { (e.target.as_str()) }
            dt { (l.t("状态", "Status")) } dd #status { (status_badge(e.status)) }
            dt { (l.t("小程序", "App")) } dd { @if let Some(a) = e.app_id { a href={ "/console/apps/" (a.0) } { (a.0) } } @else { "—" } }
            dt { (l.t("代码包", "Package")) } dd { @if let Some(p) = e.package_id { a href={ "/console/packages/" (p.0) } { (p.0) } " " (e.version.as_deref().unwrap_or("")) } @else { "—" } }
            dt { (l.t("理由", "Reason")) } dd { (e.reason.as_deref().unwrap_or("—")) }
            dt { (l.t("发生于", "Occurred")) } dd { (when(s, e.occurred_at)) }
            dt { (l.t("送达于", "Delivered")) } dd { @if let Some(d) = e.delivered_at { (when(s, d)) } @else { "—" } }
            dt { (l.t("最近错误", "Last error")) } dd { (e.last_error.as_deref().unwrap_or("—")) }
        }
    }
}

/// `GET /console/events/{id}`
pub async fn show(
    State(s): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let l = who.lang;
    let e = s.store.event(id).await.found(l, || format!("evt_{id}"))?;
    let tp = s.store.tp_by_id(e.tp_id).await.or_internal(l)?;
    let tp = tp.map(|t| t.name).unwrap_or_default();
    let attempts = s.store.event_attempts(id).await.or_internal(l)?;
    let body = html! {
        (super::reviews::notice(l, &q))
        (facts(&s, l, &e, &tp))
        @if who.role.can_operate() {
            form.inline method="post" action={ "/console/events/" (id) "/replay" } {
                input type="hidden" name="csrf" value=(who.csrf);
                button.primary #replay type="submit" { (l.t("重新推送", "Replay")) }
            }
        }
        h2 { (l.t("推送记录", "Attempt log")) }
        @if attempts.is_empty() {
            p.muted { (l.t("还没有推送过。", "No attempt yet.")) }
        } @else {
            div.scroll tabindex="0" { table #attempts {
                thead { tr {
                    th scope="col" { "#" }
                    th scope="col" { (l.t("时间", "At")) }
                    th scope="col" { (l.t("结果", "Outcome")) }
                    th scope="col" { "HTTP" }
                    th.opt scope="col" { (l.t("耗时", "Took")) }
                    th scope="col" { (l.t("错误或应答", "Error or answer")) }
                } }
                tbody { @for a in &attempts { tr {
                    td { (a.attempt) }
                    td { (when(&s, a.started_at)) }
                    td { (a.outcome.as_str()) }
                    td { @if let Some(c) = a.status_code { (c) } @else { "—" } }
                    td.opt { (a.duration_ms) " ms" }
                    td { (a.error.as_deref().or(a.response_body.as_deref()).unwrap_or("")) }
                } } }
            } }
        }
    };
    Ok(layout::page(
        &who,
        StatusCode::OK,
        Nav::Events,
        &format!("{} evt_{id}", l.t("事件", "Event")),
        body,
    ))
}

type FormResult =
    Result<axum::extract::Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>;

/// `POST /console/events/{id}/replay`
pub async fn replay(
    State(s): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    form: FormResult,
) -> Page {
    let form = form.map(|f| f.0).unwrap_or_default();
    who.check_csrf(&form)
        .and_then(|()| who.require(who.role.can_operate()))?;
    if !service::events::replay(&s, id)
        .await
        .or_internal(who.lang)?
    {
        return Ok(layout::not_found(who.lang, &format!("evt_{id}")));
    }
    tracing::info!(event = id, operator = %who.operator.username, "console: event replayed");
    Ok(Redirect::to(&format!("/console/events/{id}?done=replay&id={id}")).into_response())
}

/// `POST /console/tps/{client_id}/replay-failed`
pub async fn replay_failed(
    State(s): State<AppState>,
    who: Signed,
    Path(client_id): Path<String>,
    form: FormResult,
) -> Page {
    let l = who.lang;
    let form = form.map(|f| f.0).unwrap_or_default();
    who.check_csrf(&form)
        .and_then(|()| who.require(who.role.can_operate()))?;
    let tp = s
        .store
        .tp_by_client_id(&client_id)
        .await
        .found(l, || client_id.clone())?;
    let n = service::events::replay_failed(&s, tp.id)
        .await
        .or_internal(l)?;
    tracing::info!(tp = %client_id, replayed = n, operator = %who.operator.username, "console: failed events replayed");
    let mut qs = url::form_urlencoded::Serializer::new(String::new());
    qs.append_pair("tp", &client_id)
        .append_pair("done", "replay")
        .append_pair("id", &n.to_string());
    Ok(Redirect::to(&format!("/console/events?{}", qs.finish())).into_response())
}
