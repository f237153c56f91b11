//! The console's first page: what exists and what waits.

use super::auth::Signed;
use super::layout::{self, Nav};
use super::reviews::when;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

/// `GET /console`
pub async fn show(State(s): State<AppState>, who: Signed) -> Response {
    let l = who.lang;
    let c = match s.store.status_counts().await {
        Ok(c) => c,
        Err(e) => return layout::internal(l, e),
    };
    let now = crate::clock::now_ms();
    let stat = |n: i64, label: &str, id: &str| {
        html! { div.card.stat #(id) { span.n { (n) } span.k { (label) } } }
    };
    let body = html! {
        div.grid {
            (stat(c.apps, l.t("小程序", "apps"), "stat-apps"))
            (stat(c.tps, l.t("第三方平台", "third-party platforms"), "stat-tps"))
            (stat(c.templates, l.t("模板", "templates"), "stat-templates"))
            (stat(c.review_queue, l.t("待审核代码包", "packages waiting for review"), "stat-queue"))
            (stat(c.builds_pending, l.t("构建中", "builds running"), "stat-builds"))
            (stat(c.builds_failed, l.t("构建失败", "builds failed"), "stat-build-failures"))
            (stat(c.rollbacks_pending, l.t("待回滚", "rollbacks pending"), "stat-rollbacks"))
        }
        @if let Some(since) = c.oldest_review_since {
            p #oldest { (l.t("最早的待审核代码包已等待", "The oldest package has waited")) " "
                strong { (l.duration((now - since) / 1000)) }
                " (" (when(&s, since)) ") · "
                a href="/console/reviews" { (l.t("去审核", "Review now")) } }
        }
        h2 { (l.t("代码包状态", "Packages by state")) }
        table #packages-by-state {
            thead { tr { th scope="col" { (l.t("状态", "State")) } th scope="col" { (l.t("数量", "Count")) } } }
            tbody { @for (state, n) in &c.packages_by_state { tr { td { (state) } td { (n) } } } }
        }
        h2 { (l.t("事件推送", "Event delivery")) }
        table #events-by-status {
            thead { tr { th scope="col" { (l.t("状态", "Status")) } th scope="col" { (l.t("数量", "Count")) } } }
            tbody { @for (status, n) in &c.events_by_status { tr { td { (status) } td { (n) } } } }
        }
        @if !c.tps_with_undeliverable.is_empty() {
            p.error { (l.t("有无法送达事件的平台：", "Platforms with undeliverable events: ")) (c.tps_with_undeliverable.join(", ")) }
        }
    };
    layout::page(
        &who,
        StatusCode::OK,
        Nav::Dashboard,
        l.t("概览", "Dashboard"),
        body,
    )
}
