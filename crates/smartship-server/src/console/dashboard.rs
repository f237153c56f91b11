//! The console's first page: what exists and what waits.

use super::auth::Signed;
use super::i18n::Lang;
use super::layout::{self, Nav, OrInternal, Page};
use super::reviews::when;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use maud::{Markup, html};

/// Days the chart covers.
const DAYS: i64 = 14;
/// Deliveries the lag figures are taken from at most (the newest).
const MAX_LAGS: i64 = 10_000;

/// A lag percentile, readable: "120 ms", "3.4 s", "—" with no delivery.
fn lag_label(lags: &[i64], p: f64) -> String {
    if lags.is_empty() {
        return "—".to_owned();
    }
    let mut sorted = lags.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    let ms = sorted[rank.min(sorted.len() - 1)].max(0);
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// One day of the chart: (day number, reviews, releases).
type Day = (i64, i64, i64);

/// Reviews (passed and failed) and releases for each of the last days,
/// oldest first, days without any included.
fn per_day(rows: &[(i64, String, i64)], today: i64) -> Vec<Day> {
    (today - DAYS + 1..=today)
        .map(|day| {
            let of = |actions: &[&str]| {
                rows.iter()
                    .filter(|(d, a, _)| *d == day && actions.contains(&a.as_str()))
                    .map(|(_, _, n)| n)
                    .sum::<i64>()
            };
            (day, of(&["review_pass", "review_fail"]), of(&["release"]))
        })
        .collect()
}

/// `MM-DD` of a day number (days since 1970-01-01 in the server's zone).
fn day_label(day: i64) -> String {
    chrono::DateTime::from_timestamp(day * 86_400, 0)
        .map(|d| d.format("%m-%d").to_string())
        .unwrap_or_default()
}

/// Bars per day, drawn as SVG by the server (no script), with the figures
/// in a table for screen readers and for reading exact numbers.
fn chart(l: Lang, days: &[Day]) -> Markup {
    let (w, h, pad) = (700.0, 180.0, 24.0);
    let max = days.iter().map(|d| d.1.max(d.2)).max().unwrap_or(0).max(1) as f64;
    let slot = (w - pad) / days.len().max(1) as f64;
    let bar = (slot / 2.0 - 3.0).max(2.0);
    let y = |n: i64| h - pad - (n as f64 / max) * (h - 2.0 * pad);
    html! {
        figure.card.chart {
            svg #daily-chart viewBox={ "0 0 " (w) " " (h) } role="img" aria-labelledby="daily-title" {
                title #daily-title { (l.t("每天的审核数与发布数", "Reviews and releases per day")) }
                line x1=(pad) y1=(h - pad) x2=(w) y2=(h - pad) stroke="#8a93a3" {}
                text x="0" y=(pad) font-size="11" fill="#555e6e" { (max as i64) }
                @for (i, (day, reviews, releases)) in days.iter().enumerate() {
                    @let x = pad + i as f64 * slot;
                    rect x=(x) y=(y(*reviews)) width=(bar) height=((h - pad - y(*reviews)).max(0.0)) fill="#2251c7" {}
                    rect x=(x + bar + 2.0) y=(y(*releases)) width=(bar) height=((h - pad - y(*releases)).max(0.0)) fill="#17663a" {}
                    @if i % 2 == 0 {
                        text x=(x) y=(h - 6.0) font-size="11" fill="#555e6e" { (day_label(*day)) }
                    }
                }
            }
            figcaption {
                span.key.reviews { (l.t("审核（通过与驳回）", "reviews (passed and failed)")) }
                " "
                span.key.releases { (l.t("发布", "releases")) }
            }
            details {
                summary { (l.t("数据", "Figures")) }
                table #daily {
                    thead { tr { th scope="col" { (l.t("日期", "Day")) } th scope="col" { (l.t("审核", "Reviews")) } th scope="col" { (l.t("发布", "Releases")) } } }
                    tbody { @for (day, reviews, releases) in days { tr { td { (day_label(*day)) } td { (reviews) } td { (releases) } } } }
                }
            }
        }
    }
}

/// `GET /console`
pub async fn show(State(s): State<AppState>, who: Signed) -> Page {
    let l = who.lang;
    let c = s.store.status_counts().await.or_internal(l)?;
    let now = crate::clock::now_ms();
    let offset_ms = i64::from(s.tz.local_minus_utc()) * 1000;
    let since_days = now - DAYS * 86_400_000;
    let (lags, daily) = tokio::try_join!(
        s.store.delivery_lags(now - 3_600_000, MAX_LAGS),
        s.store.daily_actions(since_days, offset_ms),
    )
    .or_internal(l)?;
    let count = |status: &str| {
        c.events_by_status
            .iter()
            .find(|(st, _)| st == status)
            .map_or(0, |(_, n)| *n)
    };
    let today = (now + offset_ms) / 86_400_000;
    let days = per_day(&daily, today);
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
        div.grid {
            (stat(count("pending"), l.t("待推送", "pending"), "stat-pending"))
            (stat(count("failed"), l.t("推送失败", "failed"), "stat-failed"))
            div.card.stat #stat-lag {
                span.n { (lag_label(&lags, 50.0)) " / " (lag_label(&lags, 99.0)) }
                span.k { (l.t("近一小时推送延迟 p50 / p99", "delivery lag p50 / p99, last hour")) " (" (lags.len()) ")" }
            }
        }
        table #events-by-status {
            thead { tr { th scope="col" { (l.t("状态", "Status")) } th scope="col" { (l.t("数量", "Count")) } } }
            tbody { @for (status, n) in &c.events_by_status { tr { td { (status) } td { (n) } } } }
        }
        @if !c.tps_with_undeliverable.is_empty() {
            p.error { (l.t("有无法送达事件的平台：", "Platforms with undeliverable events: ")) (c.tps_with_undeliverable.join(", ")) }
        }
        h2 { (l.t("近 14 天审核与发布", "Reviews and releases, last 14 days")) }
        (chart(l, &days))
    };
    Ok(layout::page(
        &who,
        StatusCode::OK,
        Nav::Dashboard,
        l.t("概览", "Dashboard"),
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lags_read_as_percentiles() {
        assert_eq!(lag_label(&[], 50.0), "—");
        assert_eq!(lag_label(&[30, 10, 20], 50.0), "20 ms");
        assert_eq!(lag_label(&[30, 10, 2_500], 99.0), "2.5 s");
    }

    #[test]
    fn every_day_has_its_counts() {
        let rows = vec![
            (100, "review_pass".to_owned(), 2),
            (100, "review_fail".to_owned(), 1),
            (100, "release".to_owned(), 4),
            (95, "release".to_owned(), 1),
            (80, "release".to_owned(), 9),
        ];
        let days = per_day(&rows, 100);
        assert_eq!(days.len(), 14);
        assert_eq!(days[0].0, 87);
        assert_eq!(days[13], (100, 3, 4));
        assert_eq!(days[8], (95, 0, 1));
        assert_eq!(day_label(0), "01-01");
    }
}
