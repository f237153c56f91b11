//! The audit log in the console (`/console/audit`): every state-changing
//! action, newest first, filtered by actor, action and target.

use super::auth::Signed;
use super::layout::{self, Nav, OrInternal, Page};
use crate::service::audit_log::{AuditQuery, page};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use maud::html;
use std::collections::HashMap;

const PAGE_SIZE: i64 = 100;

/// `GET /console/audit`
pub async fn show(
    State(s): State<AppState>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let l = who.lang;
    let text = |k: &str| {
        q.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let query = AuditQuery {
        actor: text("actor"),
        action: text("action"),
        target: text("target"),
        before: text("before").and_then(|b| b.parse().ok()),
        ..AuditQuery::default()
    };
    let (rows, next) = page(&s, &query, PAGE_SIZE).await.or_internal(l)?;
    let next = next.map(|before| {
        let mut qs = url::form_urlencoded::Serializer::new(String::new());
        for k in ["actor", "action", "target"] {
            if let Some(v) = text(k) {
                qs.append_pair(k, &v);
            }
        }
        qs.append_pair("before", &before.to_string());
        format!("/console/audit?{}", qs.finish())
    });
    let field = |id: &str, name: &str, label: &str, hint: &str| {
        html! {
            div {
                label for=(id) { (label) }
                input id=(id) type="text" name=(name) placeholder=(hint) value=(text(name).unwrap_or_default());
            }
        }
    };
    let body = html! {
        form.filters method="get" action="/console/audit" {
            (field("f-actor", "actor", l.t("操作者（以 : 结尾为一类）", "Actor (ending with : for a kind)"), "console:"))
            (field("f-action", "action", l.t("动作（前缀）", "Action (prefix)"), "POST /admin/v1/"))
            (field("f-target", "target", l.t("对象", "Target"), "package:12"))
            div { button #filter type="submit" { (l.t("筛选", "Filter")) } }
        }
        @if rows.is_empty() {
            p #no-entries { (l.t("没有符合条件的记录。", "No entry matches.")) }
        } @else {
            div.scroll tabindex="0" { table #audit {
                thead { tr {
                    th scope="col" { (l.t("时间", "At")) }
                    th scope="col" { (l.t("操作者", "Actor")) }
                    th scope="col" { (l.t("动作", "Action")) }
                    th scope="col" { (l.t("对象", "Target")) }
                    th scope="col" { (l.t("结果", "Outcome")) }
                    th.opt scope="col" { (l.t("参数", "Detail")) }
                } }
                tbody { @for e in &rows { tr {
                    td { (super::reviews::when(&s, e.entry.at)) }
                    td { (e.entry.actor) @if let Some(a) = &e.entry.address { br; span.muted { (a) } } }
                    td { code { (e.entry.action) } }
                    td { (e.entry.target) }
                    td { @if e.entry.outcome == "ok" { span.badge.ok { "ok" } } @else { span.badge.bad { (e.entry.outcome) } } }
                    td.opt { code.detail { (e.entry.detail) } }
                } } }
            } }
        }
        div.pager { @if let Some(n) = &next { a #next-page href=(n) { (l.t("更早的记录", "Older entries")) } } }
    };
    Ok(layout::page(
        &who,
        StatusCode::OK,
        Nav::Audit,
        l.t("审计日志", "Audit log"),
        body,
    ))
}
