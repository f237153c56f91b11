//! The review queue (`/console/reviews`): packages under audit and
//! basic-information changes, oldest first, passed or failed from the list
//! or from a package's page.

use super::auth::{Signed, safe_next};
use super::i18n::Lang;
use super::layout::{self, Nav, OrInternal, Page};
use crate::service::{self, packages::Change};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use smartship_core::lifecycle::{Action, Verdict};
use smartship_core::profile::ExamStatus;
use smartship_store::{Examination, QueuePage, ReviewRefusal};
use std::collections::HashMap;

/// Packages per page of the queue.
pub const PAGE_SIZE: i64 = 50;

/// A time as the console shows it, in the server's zone.
pub fn when(s: &AppState, ms: i64) -> String {
    crate::clock::event_time(ms, s.tz)
}

/// `after=SUBMITTED_AT.ID`, the position a page starts after.
fn parse_after(raw: Option<&String>) -> Option<(i64, i64)> {
    let (at, id) = raw?.split_once('.')?;
    Some((at.parse().ok()?, id.parse().ok()?))
}

/// The reason templates to fail with, and the dialog that asks for one.
pub fn fail_fields(s: &AppState, l: Lang, select_id: &str, reason_id: &str) -> Markup {
    html! {
        label for=(select_id) { (l.t("常用驳回理由", "Reason templates")) }
        select #(select_id) data-target=(reason_id) {
            option value="" { (l.t("— 选择模板 —", "— pick a template —")) }
            @for t in &s.config.console_reason_templates {
                option value=(t) { (t) }
            }
        }
        label for=(reason_id) { (l.t("驳回理由", "Reason")) }
        textarea #(reason_id) name="reason" required maxlength="1000" {}
    }
}

fn fail_dialog(s: &AppState, who: &Signed) -> Markup {
    let l = who.lang;
    html! {
        dialog #fail-dialog aria-labelledby="fail-title" {
            // The script sets the action to the chosen item's review.
            form method="post" action="/console/reviews" {
                h2 #fail-title { (l.t("驳回", "Fail")) " " span #fail-what {} }
                input type="hidden" name="csrf" value=(who.csrf);
                input type="hidden" name="decision" value="fail";
                input type="hidden" name="next" value="/console/reviews";
                (fail_fields(s, l, "reason-template", "dialog-reason"))
                div.actions {
                    button.fail #fail-submit type="submit" { (l.t("确认驳回", "Fail it")) }
                    button #fail-cancel type="button" { (l.t("取消", "Cancel")) }
                }
            }
        }
    }
}

fn shortcuts(l: Lang) -> Markup {
    html! {
        p.muted { (l.t("按", "Press")) " " kbd { "?" } " " (l.t("查看快捷键。", "for the keyboard shortcuts.")) }
        div #shortcuts.card hidden {
            dl.facts {
                dt { kbd { "j" } " / " kbd { "k" } } dd { (l.t("选择下一项 / 上一项", "select the next / previous item")) }
                dt { kbd { "Enter" } } dd { (l.t("打开所选项", "open the selected item")) }
                dt { kbd { "p" } } dd { (l.t("通过所选项", "pass the selected item")) }
                dt { kbd { "f" } } dd { (l.t("驳回所选项（填写理由）", "fail the selected item (with a reason)")) }
            }
        }
    }
}

/// The pass button and the fail link of a row.
fn row_actions(who: &Signed, review: &str, page: &str) -> Markup {
    let l = who.lang;
    html! {
        div.actions {
            form method="post" action=(review) data-pass {
                input type="hidden" name="csrf" value=(who.csrf);
                input type="hidden" name="decision" value="pass";
                input type="hidden" name="next" value="/console/reviews";
                button.pass type="submit" { (l.t("通过", "Pass")) }
            }
            a.button.fail href={ (page) "#fail" } data-fail-link { (l.t("驳回", "Fail")) }
        }
    }
}

/// What the last action did, from the `done` and `id` a redirect carries.
pub(super) fn notice(l: Lang, q: &HashMap<String, String>) -> Markup {
    let verb = match q.get("done").map(String::as_str) {
        Some("pass") => Some(l.t("已通过", "Passed")),
        Some("fail") => Some(l.t("已驳回", "Failed")),
        Some("replay") => Some(l.t("已重新排队推送", "Queued again")),
        Some("rollback") => Some(l.t("已申请回滚", "Rollback requested for")),
        Some("pause") => Some(l.t("已暂停服务", "Service paused for")),
        Some("resume") => Some(l.t("已恢复服务", "Service resumed for")),
        Some("approve") => Some(l.t("已批准基本信息", "Basic information approved for")),
        _ => None,
    };
    html! {
        @if let Some(verb) = verb {
            p.notice #notice role="status" { (verb) " #" (q.get("id").map(String::as_str).unwrap_or("")) }
        }
    }
}

fn packages_table(s: &AppState, who: &Signed, page: &QueuePage, now: i64) -> Markup {
    let l = who.lang;
    html! {
        div.scroll tabindex="0" {
            table #queue {
                caption.muted { (l.t("代码包", "Packages")) " · " (page.total) }
                thead { tr {
                    th scope="col" { (l.t("包", "Package")) }
                    th scope="col" { (l.t("小程序", "App")) }
                    th scope="col" { (l.t("版本", "Version")) }
                    th.opt scope="col" { (l.t("描述", "Description")) }
                    th scope="col" { (l.t("已等待", "Waiting")) }
                    th scope="col" { (l.t("预审", "Checks")) }
                    @if who.role.can_review() { th scope="col" { (l.t("操作", "Actions")) } }
                } }
                tbody {
                    @for p in &page.items {
                        @let href = format!("/console/packages/{}", p.package_id.0);
                        @let review = format!("{href}/review");
                        tr data-row tabindex="-1" data-review=(review)
                           data-label={ "#" (p.package_id.0) " " (p.app_name) " " (p.version) } {
                            td { a href=(href) data-open { "#" (p.package_id.0) } }
                            td { (p.app_name) br; span.muted { (p.app_id.0) } }
                            td { (p.version) }
                            td.opt { (p.version_desc) }
                            td title=(when(s, p.submitted_at)) { (l.duration((now - p.submitted_at) / 1000)) }
                            td {
                                @if p.blocking_checks > 0 {
                                    span.badge.bad { (p.blocking_checks) " " (l.t("项未通过", "blocking")) }
                                } @else {
                                    span.badge.ok { (l.t("通过", "ok")) }
                                }
                            }
                            @if who.role.can_review() { td { (row_actions(who, &review, &href)) } }
                        }
                    }
                }
            }
        }
    }
}

fn examinations_table(s: &AppState, who: &Signed, exams: &[Examination], now: i64) -> Markup {
    let l = who.lang;
    html! {
        div.scroll tabindex="0" {
            table #examinations {
                caption.muted { (l.t("基本信息变更", "Basic-information changes")) " · " (exams.len()) }
                thead { tr {
                    th scope="col" { (l.t("编号", "Id")) }
                    th scope="col" { (l.t("小程序", "App")) }
                    th scope="col" { (l.t("字段", "Field")) }
                    th scope="col" { (l.t("新值", "New value")) }
                    th scope="col" { (l.t("已等待", "Waiting")) }
                    @if who.role.can_review() { th scope="col" { (l.t("操作", "Actions")) } }
                } }
                tbody {
                    @for e in exams {
                        @let review = format!("/console/examinations/{}/review", e.id);
                        @let page = "/console/reviews";
                        tr data-row tabindex="-1" data-review=(review)
                           data-label={ (l.t("变更", "change")) " #" (e.id) } {
                            td { "#" (e.id) }
                            td { (e.app_id.0) }
                            td { (e.field.as_str()) }
                            td { (e.value) }
                            td title=(when(s, e.submitted_at)) { (l.duration((now - e.submitted_at) / 1000)) }
                            @if who.role.can_review() { td { (row_actions(who, &review, page)) } }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /console/reviews`
pub async fn queue(
    State(s): State<AppState>,
    who: Signed,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let l = who.lang;
    let after = parse_after(q.get("after"));
    let page = s
        .store
        .review_queue_page(after, PAGE_SIZE)
        .await
        .or_internal(l)?;
    let exams = s
        .store
        .examinations(Some(ExamStatus::Pending), None, 0, PAGE_SIZE)
        .await
        .or_internal(l)?;
    let now = crate::clock::now_ms();
    let next = (page.items.len() as i64 == PAGE_SIZE)
        .then(|| page.items.last())
        .flatten()
        .map(|p| {
            format!(
                "/console/reviews?after={}.{}",
                p.submitted_at, p.package_id.0
            )
        });
    let body = html! {
        (notice(l, &q))
        (shortcuts(l))
        h2 { (l.t("代码包审核", "Package reviews")) }
        @if page.items.is_empty() {
            p #queue-empty { (l.t("没有等待审核的代码包。", "No package is waiting for review.")) }
        } @else {
            (packages_table(&s, &who, &page, now))
        }
        div.pager {
            @if after.is_some() { a href="/console/reviews" { (l.t("第一页", "First page")) } }
            @if let Some(next) = &next { a #next-page href=(next) { (l.t("下一页", "Next page")) } }
        }
        h2 { (l.t("基本信息审核", "Basic-information reviews")) }
        @if exams.is_empty() {
            p { (l.t("没有等待审核的变更。", "No change is waiting for review.")) }
        } @else {
            (examinations_table(&s, &who, &exams, now))
        }
        @if who.role.can_review() { (fail_dialog(&s, &who)) }
    };
    Ok(layout::page(
        &who,
        StatusCode::OK,
        Nav::Reviews,
        l.t("审核队列", "Review queue"),
        body,
    ))
}

/// The reviewer's decision from a form.
fn verdict(l: Lang, form: &HashMap<String, String>) -> Result<Verdict, layout::PageError> {
    let bad = |m: &str| {
        Err(layout::message(
            l,
            StatusCode::BAD_REQUEST,
            l.t("无法审核", "Cannot review"),
            m,
        )
        .into())
    };
    match form.get("decision").map(String::as_str) {
        Some("pass") => Ok(Verdict::Pass),
        Some("fail") => {
            let reason = form.get("reason").map(|r| r.trim()).unwrap_or("");
            if reason.is_empty() {
                return bad(l.t("驳回需要填写理由。", "A fail needs a reason."));
            }
            if reason.chars().count() > 1000 {
                return bad(l.t(
                    "理由不能超过 1000 个字符。",
                    "The reason is longer than 1000 characters.",
                ));
            }
            if smartship_core::text::check_free_text(reason).is_err() {
                return bad(l.t(
                    "理由不能包含控制字符或隐藏字符（换行与制表符除外）。",
                    "The reason holds a control or hidden character (line breaks and tabs are fine).",
                ));
            }
            Ok(Verdict::Fail {
                reason: reason.to_owned(),
            })
        }
        _ => bad(l.t(
            "decision 必须是 pass 或 fail。",
            "decision must be pass or fail.",
        )),
    }
}

/// Back to where the form came from, saying what was done.
fn done(form: &HashMap<String, String>, verdict: &Verdict, id: i64) -> Response {
    let next = safe_next(
        form.get("next")
            .map(String::as_str)
            .or(Some("/console/reviews")),
    );
    let sep = if next.contains('?') { '&' } else { '?' };
    let what = if matches!(verdict, Verdict::Pass) {
        "pass"
    } else {
        "fail"
    };
    Redirect::to(&format!("{next}{sep}done={what}&id={id}")).into_response()
}

type FormResult =
    Result<axum::extract::Form<HashMap<String, String>>, axum::extract::rejection::FormRejection>;

/// Checks a review form: its CSRF token, the operator's role, the verdict.
fn review_form(
    who: &Signed,
    form: FormResult,
) -> Result<(HashMap<String, String>, Verdict), layout::PageError> {
    let form = form.map(|f| f.0).unwrap_or_default();
    who.check_csrf(&form)?;
    who.require(who.role.can_review())?;
    let verdict = verdict(who.lang, &form)?;
    Ok((form, verdict))
}

/// `POST /console/packages/{id}/review`
pub async fn review_package(
    State(s): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    form: FormResult,
) -> Page {
    let l = who.lang;
    let (form, verdict) = review_form(&who, form)?;
    let p = layout::package_or_404(&s, l, id).await?;
    let change = Change::new(p.app_id, p.id, Action::Review(verdict.clone()), who.actor());
    Ok(
        match service::packages::act(&s, change).await.or_internal(l)? {
            Ok(_) => {
                tracing::info!(package = id, operator = %who.operator.username, pass = matches!(verdict, Verdict::Pass), "console: package reviewed");
                done(&form, &verdict, id)
            }
            Err(refusal) => layout::message(
                l,
                StatusCode::CONFLICT,
                l.t("无法审核", "Cannot review"),
                &format!(
                    "{} #{id}: {refusal}",
                    l.t(
                        "此代码包当前不能审核",
                        "This package cannot be reviewed now"
                    )
                ),
            ),
        },
    )
}

/// `POST /console/examinations/{id}/review`
pub async fn review_examination(
    State(s): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    form: FormResult,
) -> Page {
    let l = who.lang;
    let (form, verdict) = review_form(&who, form)?;
    let reason = match &verdict {
        Verdict::Pass => None,
        Verdict::Fail { reason } => Some(reason.as_str()),
    };
    let conflict = |m: String| {
        layout::message(
            l,
            StatusCode::CONFLICT,
            l.t("无法审核", "Cannot review"),
            &m,
        )
    };
    Ok(
        match service::examinations::review(&s, id, reason, who.actor())
            .await
            .or_internal(l)?
        {
            Ok(_) => done(&form, &verdict, id),
            Err(ReviewRefusal::NotFound) => layout::not_found(
                l,
                &format!("{} #{id}", l.t("没有这项变更", "No such change")),
            ),
            Err(ReviewRefusal::Decided(st)) => conflict(format!(
                "#{id}: {} ({})",
                l.t("已审核过", "already decided"),
                st.as_str()
            )),
            Err(ReviewRefusal::NameTaken) => conflict(format!(
                "#{id}: {}",
                l.t(
                    "名称已被其他小程序占用，请驳回。",
                    "another app has the name since; fail it."
                )
            )),
            Err(ReviewRefusal::NotOffline(now)) => conflict(format!(
                "#{id}: {} ({})",
                l.t(
                    "小程序已不是下线状态，请驳回。",
                    "the app is no longer offline; fail it."
                ),
                now.as_str()
            )),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_parse_or_start_over() {
        assert_eq!(
            parse_after(Some(&"1700000000000.42".to_owned())),
            Some((1_700_000_000_000, 42))
        );
        assert_eq!(parse_after(Some(&"x.1".to_owned())), None);
        assert_eq!(parse_after(Some(&"17".to_owned())), None);
        assert_eq!(parse_after(None), None);
    }
}
