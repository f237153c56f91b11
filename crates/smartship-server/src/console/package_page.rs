//! A package's page: what was submitted, what the pre-review checks found,
//! its files, what changed against the app's online version, its
//! `app.json` and `ext.json`, and the reviewer's pass and fail.

use super::auth::Signed;
use super::highlight;
use super::i18n::Lang;
use super::layout::{self, Nav, OrInternal, Page};
use super::reviews::{fail_fields, when};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use maud::{Markup, html};
use similar::ChangeTag;
use smartship_core::lifecycle::PackageState;
use smartship_core::manifest::Manifest;
use smartship_store::Package;
use std::collections::HashMap;

/// Files larger than this are listed as changed, not diffed.
const MAX_DIFF_BYTES: u64 = 128 * 1024;
/// Changed files diffed on one page; the rest are listed.
const MAX_DIFFED_FILES: usize = 30;
/// Bytes of old and new text diffed on one page in all.
const MAX_DIFF_TOTAL: u64 = 1024 * 1024;
/// A file's diff gives up looking for the smallest one after this long
/// (similar then returns a coarser, still correct, diff).
const DIFF_DEADLINE: std::time::Duration = std::time::Duration::from_millis(100);
/// Lines shown of one file's diff.
const MAX_DIFF_LINES: usize = 2000;

/// One changed file: its diff's lines (None separates hunks), and whether
/// lines were left out.
struct FileDiff {
    path: String,
    lines: Vec<Option<(ChangeTag, String)>>,
    cut: bool,
}

/// The diff of two texts, computed off the async workers by the caller.
fn file_diff(path: String, old: &str, new: &str) -> FileDiff {
    let d = similar::TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new);
    let mut lines = Vec::new();
    let mut cut = false;
    'groups: for group in d.grouped_ops(3) {
        for op in &group {
            for change in d.iter_changes(op) {
                if lines.len() >= MAX_DIFF_LINES {
                    cut = true;
                    break 'groups;
                }
                let text = change.value().trim_end_matches('\n').to_owned();
                lines.push(Some((change.tag(), text)));
            }
        }
        lines.push(None);
    }
    FileDiff { path, lines, cut }
}

/// What a reviewer compares: the package's files and the online one's.
struct Sources {
    manifest: Option<Manifest>,
    online: Option<(Package, Manifest)>,
    app_json: Option<String>,
    /// The changed text files, and the changed files that are not shown
    /// (binary, large, or past the page's budget).
    diffs: Vec<FileDiff>,
    changed_unshown: Vec<String>,
}

fn text(bytes: Vec<u8>) -> Option<String> {
    String::from_utf8(bytes).ok()
}

fn is_text_path(path: &str) -> bool {
    [
        ".js",
        ".json",
        ".swan",
        ".css",
        ".sjs",
        ".filter.js",
        ".txt",
        ".md",
        ".html",
    ]
    .iter()
    .any(|ext| path.ends_with(ext))
}

async fn sources(s: &AppState, p: &Package) -> anyhow::Result<Sources> {
    let manifest = s.store.package_manifest(p.id).await?;
    let slotted = s.store.slotted_packages(p.app_id).await?;
    let online = slotted
        .iter()
        .find(|o| o.state == PackageState::Online && o.id != p.id)
        .cloned();
    let online = match online {
        Some(o) => s.store.package_manifest(o.id).await?.map(|m| (o, m)),
        None => None,
    };
    let blobs = s.blobs.clone();
    let (m, on) = (manifest.clone(), online.as_ref().map(|(_, m)| m.clone()));
    let (app_json, diffs, changed_unshown) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let Some(m) = m else {
                return Ok((None, Vec::new(), Vec::new()));
            };
            let app_json = match m.files.get("app.json") {
                Some(f) if f.size <= MAX_DIFF_BYTES => text(blobs.get(&f.sha256)?),
                _ => None,
            };
            let mut diffs = Vec::new();
            let mut budget = MAX_DIFF_TOTAL;
            let mut unshown = Vec::new();
            if let Some(on) = on {
                for (path, f) in &m.files {
                    let old = on.files.get(path);
                    if old.is_some_and(|o| o.sha256 == f.sha256) {
                        continue;
                    }
                    let small =
                        f.size <= MAX_DIFF_BYTES && old.is_none_or(|o| o.size <= MAX_DIFF_BYTES);
                    let cost = f.size + old.map_or(0, |o| o.size);
                    if !(small && is_text_path(path))
                        || diffs.len() >= MAX_DIFFED_FILES
                        || cost > budget
                    {
                        unshown.push(path.clone());
                        continue;
                    }
                    budget -= cost;
                    let new_text = text(blobs.get(&f.sha256)?);
                    let old_text = match old {
                        Some(o) => text(blobs.get(&o.sha256)?),
                        None => Some(String::new()),
                    };
                    match (old_text, new_text) {
                        (Some(o), Some(n)) => diffs.push(file_diff(path.clone(), &o, &n)),
                        _ => unshown.push(path.clone()),
                    }
                }
                for path in on.files.keys().filter(|p| !m.files.contains_key(*p)) {
                    unshown.push(format!("{path} (removed)"));
                }
            }
            Ok((app_json, diffs, unshown))
        })
        .await??;
    Ok(Sources {
        manifest,
        online,
        app_json,
        diffs,
        changed_unshown,
    })
}

fn pretty_json(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| raw.to_owned())
}

fn code(src: &str) -> Markup {
    html! {
        pre tabindex="0" { code { @for line in src.lines() { (highlight::line(line)) "\n" } } }
    }
}

fn diff(l: Lang, d: &FileDiff) -> Markup {
    html! {
        details.diff open {
            summary { code { (d.path) } }
            pre tabindex="0" { code {
                @for line in &d.lines {
                    @match line {
                        Some((ChangeTag::Insert, text)) => span.add { "+ " (highlight::line(text)) },
                        Some((ChangeTag::Delete, text)) => span.del { "- " (highlight::line(text)) },
                        Some((ChangeTag::Equal, text)) => span.ctx { "  " (highlight::line(text)) },
                        None => span.ctx.muted { "…" },
                    }
                }
                @if d.cut {
                    span.ctx.muted { (l.t("（差异过长，其余未显示）", "(the diff goes on; the rest is not shown)")) }
                }
            } }
        }
    }
}

fn checks(l: Lang, s: Option<&str>) -> Markup {
    let findings = s.map(crate::wire::precheck_findings);
    html! {
        @match findings {
            None => p.muted { (l.t("构建完成后才有预审结果。", "The checks run when the build finishes.")) },
            Some(Err(_)) => p.error { (l.t("预审结果无法读取。", "The check results cannot be read.")) },
            Some(Ok(f)) if f.is_empty() => p #checks-ok { span.badge.ok { (l.t("全部通过", "all passed")) } },
            Some(Ok(f)) => div.scroll tabindex="0" { table #checks {
                thead { tr {
                    th scope="col" { (l.t("检查", "Check")) }
                    th scope="col" { (l.t("结果", "Result")) }
                    th scope="col" { (l.t("位置", "Where")) }
                    th scope="col" { (l.t("说明", "Message")) }
                } }
                tbody { @for x in &f { tr {
                    td { code { (x.check) } }
                    td { @if x.blocking { span.badge.bad { (l.t("阻止提审", "blocking")) } } @else { span.badge.warn { (l.t("提示", "note")) } } }
                    td { code { (x.file) @if x.line > 0 { ":" (x.line) } } }
                    td { (x.message) }
                } } }
            } },
        }
    }
}

fn facts(s: &AppState, l: Lang, p: &Package, app_name: &str) -> Markup {
    html! {
        dl.facts #facts {
            dt { (l.t("小程序", "App")) } dd { (app_name) " (" (p.app_id.0) ")" }
            dt { (l.t("状态", "State")) } dd #state { (p.state.as_str()) }
            dt { (l.t("版本", "Version")) } dd #version { (p.version) }
            dt { (l.t("版本描述", "Description")) } dd { (p.version_desc) }
            dt { (l.t("模板", "Template")) } dd { (p.template_id.0) }
            dt { (l.t("提审内容", "Audit content")) } dd { (p.audit_content) }
            dt { (l.t("测试账号", "Test account")) } dd { (p.test_account.as_deref().unwrap_or("—")) }
            dt { (l.t("备注", "Remark")) } dd { (p.remark) }
            dt { (l.t("大小", "Size")) } dd { @if let Some(n) = p.size { (n) " B" } @else { "—" } }
            dt { (l.t("最近变更", "Updated")) } dd { (when(s, p.updated_at)) }
        }
    }
}

/// The files as a tree: each directory once, before its files.
fn tree(m: &Manifest) -> Markup {
    let mut rows: Vec<(usize, String, Option<u64>)> = Vec::new();
    let mut open: Vec<&str> = Vec::new();
    for (path, f) in &m.files {
        let parts: Vec<&str> = path.split('/').collect();
        let (dirs, name) = parts.split_at(parts.len() - 1);
        let same = open.iter().zip(dirs).take_while(|(a, b)| a == b).count();
        open.truncate(same);
        for (depth, dir) in dirs.iter().enumerate().skip(same) {
            rows.push((depth, format!("{dir}/"), None));
            open.push(dir);
        }
        rows.push((dirs.len(), name[0].to_owned(), Some(f.size)));
    }
    html! {
        ul.tree #files {
            @for (depth, name, size) in &rows {
                li class={ "d" (depth.min(&6)) } {
                    @if let Some(size) = size { (name) " " span.muted { (size) " B" } }
                    @else { strong { (name) } }
                }
            }
        }
    }
}

/// `GET /console/packages/{id}`
pub async fn show(
    State(s): State<AppState>,
    who: Signed,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let l = who.lang;
    let p = layout::package_or_404(&s, l, id).await?;
    let app_name = s
        .store
        .app(p.app_id)
        .await
        .or_internal(l)?
        .map(|a| a.name)
        .unwrap_or_default();
    let checked = s
        .store
        .package_checks(p.id)
        .await
        .or_internal(l)?
        .map(|(json, _)| json);
    let src = sources(&s, &p).await.or_internal(l)?;
    let review = format!("/console/packages/{id}/review");
    let next = format!("/console/packages/{id}");
    let reviewable = p.state == PackageState::Auditing && who.role.can_review();
    let body = html! {
        @if let Some(done) = q.get("done") {
            p.notice #notice role="status" { (if done == "pass" { l.t("已通过。", "Passed.") } else { l.t("已驳回。", "Failed.") }) }
        }
        div data-subject data-review=(review) data-label={ "#" (id) } {
            (facts(&s, l, &p, &app_name))
            @if reviewable {
                h2 #fail { (l.t("审核", "Review")) }
                div.card.actions {
                    form method="post" action=(review) data-pass {
                        input type="hidden" name="csrf" value=(who.csrf);
                        input type="hidden" name="decision" value="pass";
                        input type="hidden" name="next" value=(next);
                        button.pass #pass type="submit" { (l.t("通过", "Pass")) }
                    }
                    form.grow method="post" action=(review) {
                        input type="hidden" name="csrf" value=(who.csrf);
                        input type="hidden" name="decision" value="fail";
                        input type="hidden" name="next" value=(next);
                        (fail_fields(&s, l, "reason-template", "reason"))
                        button.fail #fail-submit type="submit" { (l.t("驳回", "Fail")) }
                    }
                }
            }
        }
        h2 { (l.t("预审结果", "Pre-review checks")) }
        (checks(l, checked.as_deref()))
        h2 { (l.t("与线上版本的差异", "Changes against the online version")) }
        @match &src.online {
            None => p.muted { (l.t("该小程序没有线上版本。", "The app has no online version.")) },
            Some((o, _)) => {
                p.muted { (l.t("线上版本", "Online version")) " " (o.version) " (#" (o.id.0) ")" }
                @if src.diffs.is_empty() && src.changed_unshown.is_empty() {
                    p { (l.t("文件没有变化。", "No file changed.")) }
                }
                @for d in &src.diffs { (diff(l, d)) }
                @if !src.changed_unshown.is_empty() {
                    p { (l.t("其他变化的文件（二进制或较大）：", "Other changed files (binary or large):")) }
                    ul { @for f in &src.changed_unshown { li { code { (f) } } } }
                }
            }
        }
        h2 { "app.json" }
        @match &src.app_json {
            Some(j) => (code(&pretty_json(j))),
            None => p.muted { (l.t("没有，或超过 128 KB 未显示。", "None, or larger than 128 KB and not shown.")) },
        }
        h2 { "ext.json" }
        @if p.ext_json.len() as u64 <= MAX_DIFF_BYTES {
            (code(&pretty_json(&p.ext_json)))
        } @else {
            p.muted { (p.ext_json.len()) " B" }
        }
        h2 { (l.t("文件", "Files")) }
        @match &src.manifest {
            Some(m) => (tree(m)),
            None => p.muted { (l.t("尚未构建。", "Not built yet.")) },
        }
    };
    let title = format!("{} #{id} · {}", l.t("代码包", "Package"), p.version);
    Ok(layout::page(
        &who,
        StatusCode::OK,
        Nav::Reviews,
        &title,
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_is_bounded_and_marks_its_cut() {
        let old: String = (0..3000).map(|i| format!("a{i}\n")).collect();
        let new: String = (0..3000).map(|i| format!("b{i}\n")).collect();
        let d = file_diff("a.js".into(), &old, &new);
        assert!(d.cut);
        assert_eq!(d.lines.len(), MAX_DIFF_LINES);
        let small = file_diff("b.js".into(), "x\ny\n", "x\nz\n");
        assert!(!small.cut);
        let tags: Vec<_> = small
            .lines
            .iter()
            .flatten()
            .map(|(t, s)| (*t, s.as_str()))
            .collect();
        assert_eq!(
            tags,
            vec![
                (ChangeTag::Equal, "x"),
                (ChangeTag::Delete, "y"),
                (ChangeTag::Insert, "z")
            ]
        );
    }
}
