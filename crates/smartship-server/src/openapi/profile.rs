//! The app's basic information (app token): `app/info`, the name check,
//! changes of the name, icon, description and categories (each taken for
//! an operator's review as an examination), the category catalogue, and
//! the violations of an app an operator banned or took offline, with the
//! restoration request (`app/offline/update`).
//!
//! A change never replaces the approved value: the app keeps it until an
//! operator passes the change (`POST /admin/v1/examinations/{id}/review`).
//! "Basic info approved", the `submitaudit` precondition, follows from
//! those reviews (see `smartship_core::profile::Approvals`).

use super::auth::AppCall;
use super::error::{ApiError, ok};
use super::images;
use crate::service::examinations;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, TimeZone, Utc};
use smartship_api::ErrorCode;
use smartship_api::profile::*;
use smartship_api::requests::profile::{
    CategoryList, CategoryUpdate, CheckName, OfflineUpdate, SetDescription, SetIcon, SetName,
};
use smartship_core::profile::{self as rules, ExamStatus, Field, NameVerdict};
use smartship_core::runtime::ServiceStatus;
use smartship_store::{ExamRefusal, Examination, NewExamination};

/// The start of the current calendar year (UTC), in Unix ms: quotas count
/// changes submitted since.
pub fn year_start(now_ms: i64) -> i64 {
    let now = Utc
        .timestamp_millis_opt(now_ms)
        .single()
        .unwrap_or_else(Utc::now);
    Utc.with_ymd_and_hms(now.year(), 1, 1, 0, 0, 0)
        .single()
        .map_or(0, |t| t.timestamp_millis())
}

fn text_refusal(param: &str, r: rules::TextRefusal) -> ApiError {
    ApiError::param(format!("{param} {r}"))
}

/// Takes a change for review, or the refusal's code.
async fn submit(
    s: &AppState,
    call: &AppCall,
    field: Field,
    value: String,
    material: String,
    name_claim: Option<String>,
) -> Result<Examination, ApiError> {
    let now = crate::clock::now_ms();
    let change = NewExamination {
        app: call.caller.app,
        field,
        value,
        material,
        name_claim,
        actor: format!("tp:{}", call.caller.tp),
        year_start: year_start(now),
    };
    match examinations::submit(s, change, now).await? {
        Ok(exam) => Ok(exam),
        Err(ExamRefusal::Pending(id)) => Err(ApiError::business(
            ErrorCode::ExaminationPending,
            format!("examine_id={id}"),
        )),
        Err(ExamRefusal::QuotaUsed { used, quota }) => Err(ApiError::business(
            ErrorCode::ModifyQuotaExhausted,
            format!(
                "{}: 本年度已提交 {used} 次，上限 {quota} 次",
                field.as_str()
            ),
        )),
        Err(ExamRefusal::NameTaken) => Err(ApiError::business(
            ErrorCode::NameUnavailable,
            "nick_name 已被其他小程序使用",
        )),
        Err(ExamRefusal::NoApp) => Err(ApiError::Gateway(smartship_api::GatewayCode::TokenInvalid)),
    }
}

/// A name given as `param`: its text, then its words and owner; and its
/// qualification images (`qual_materials`, however the SDK spelled it).
async fn name_check(
    s: &AppState,
    call: &AppCall,
    param: &'static str,
    name: String,
    materials: Option<&str>,
) -> Result<(String, Vec<String>, NameVerdict, Vec<&'static str>), ApiError> {
    rules::check_name_text(&name).map_err(|r| text_refusal(param, r))?;
    let material = match materials {
        Some(raw) => images::uploaded_list(s, call.caller.tp, "qual_materials", raw, 5).await?,
        None => Vec::new(),
    };
    let taken = s.store.name_taken(&name, call.caller.app).await?;
    let (verdict, words) = rules::name_verdict(&name, taken, !material.is_empty());
    Ok((name, material, verdict, words))
}

/// `GET app/checknamewithqual`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/checknamewithqual",
    tag = "basic-info",
    operation_id = "app_check_name",
    summary = "Check a name before asking for it",
    description = "`app_name` (4–30, a Chinese character counting two), optional `qual_materials` (uploaded `type` 3 image URLs, comma-separated). `checkResult`: 0 available, 1 needs qualification material (brand words, in `checkWords`), 2 contains a forbidden word, 3 another app has it. A name of the wrong length is 40001.",
    params(CheckName),
    security(("app_token" = [])),
    responses((status = 200, description = "The verdict, or an error.", body = inline(crate::api_doc::NameCheckAnswer)))
)]
pub async fn check_name(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let req: CheckName = call.p.decode()?;
    let (_, _, verdict, words) = name_check(
        &s,
        &call,
        "app_name",
        req.app_name,
        req.qual_materials.as_deref(),
    )
    .await?;
    let needs = verdict == NameVerdict::NeedsQualification;
    Ok(ok(NameCheck {
        check_result: verdict.wire(),
        check_words: words.into_iter().map(str::to_owned).collect(),
        required_fields: if needs {
            vec![rules::QUAL_TRADEMARK]
        } else {
            vec![]
        },
        optional_fields: if needs {
            vec![rules::QUAL_AUTHORIZATION]
        } else {
            vec![]
        },
    }))
}

/// `POST app/setnicknamewithqual`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/setnicknamewithqual",
    tag = "basic-info",
    operation_id = "app_set_name",
    summary = "Ask for a new name (reviewed)",
    description = "`nick_name`, optional `qual_materials`. Checked as `checknamewithqual` does: a forbidden word or a name another app has is 47028, a brand word without material 47029. Taken for review: `data` is `[{\"examine_id\"}]` (an array, as the Go SDK declares). 47026 while a name change is under review, 47027 once the year's quota (2) is used.",
    params(SetName),
    security(("app_token" = [])),
    responses((status = 200, description = "The examination, or an error.", body = inline(crate::api_doc::ExamineIdsAnswer)))
)]
pub async fn set_name(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let req: SetName = call.p.decode()?;
    let (name, material, verdict, words) = name_check(
        &s,
        &call,
        "nick_name",
        req.nick_name,
        req.qual_materials.as_deref(),
    )
    .await?;
    match verdict {
        NameVerdict::Available => {}
        NameVerdict::Forbidden => {
            return Err(ApiError::business(
                ErrorCode::NameUnavailable,
                format!("nick_name 含禁用词 {}", words.join("、")),
            ));
        }
        NameVerdict::Taken => {
            return Err(ApiError::business(
                ErrorCode::NameUnavailable,
                "nick_name 已被其他小程序使用",
            ));
        }
        NameVerdict::NeedsQualification => {
            return Err(ApiError::business(
                ErrorCode::NameNeedsQualification,
                format!(
                    "nick_name 含品牌词 {}，须提供 qual_materials",
                    words.join("、")
                ),
            ));
        }
    }
    let exam = submit(
        &s,
        &call,
        Field::Name,
        name.clone(),
        material.join(","),
        Some(name),
    )
    .await?;
    Ok(ok(vec![ExamineId {
        examine_id: exam.id,
    }]))
}

/// `POST app/modifyheadimage`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/modifyheadimage",
    tag = "basic-info",
    operation_id = "app_set_icon",
    summary = "Ask for a new icon (reviewed)",
    description = "`image_url`: an icon uploaded to `/file/2.0/smartapp/upload/image` (square, at least 144 px), else 47030. `data` is `{\"examine_id\"}` (the Go SDK declares an empty object and ignores it). 47026, 47027 (quota 5).",
    params(SetIcon),
    security(("app_token" = [])),
    responses((status = 200, description = "The examination, or an error.", body = inline(crate::api_doc::ExamineIdAnswer)))
)]
pub async fn set_icon(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let req: SetIcon = call.p.decode()?;
    let image = images::uploaded(&s, call.caller.tp, "image_url", &req.image_url).await?;
    images::check_icon("image_url", &image)?;
    let path = images::image_path(&image);
    let exam = submit(&s, &call, Field::Photo, path, String::new(), None).await?;
    Ok(ok(ExamineId {
        examine_id: exam.id,
    }))
}

/// `POST app/modifysignature`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/modifysignature",
    tag = "basic-info",
    operation_id = "app_set_description",
    summary = "Ask for a new description (reviewed)",
    description = "`signature`: 10–56 characters, a character outside ASCII (Chinese) counting two, else 40001. `data` is `{\"examine_id\"}`. 47026, 47027 (quota 5).",
    params(SetDescription),
    security(("app_token" = [])),
    responses((status = 200, description = "The examination, or an error.", body = inline(crate::api_doc::ExamineIdAnswer)))
)]
pub async fn set_description(
    State(s): State<AppState>,
    call: AppCall,
) -> Result<Response, ApiError> {
    let SetDescription { signature } = call.p.decode()?;
    rules::check_signature(&signature).map_err(|r| text_refusal("signature", r))?;
    let exam = submit(&s, &call, Field::Signature, signature, String::new(), None).await?;
    Ok(ok(ExamineId {
        examine_id: exam.id,
    }))
}

/// `GET app/category/list`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/category/list",
    tag = "basic-info",
    operation_id = "app_category_list",
    summary = "The service-category catalogue",
    description = "`category_type`: 1 the categories open to personal subjects, 2 all of them. Each top-level category lists its second-level ones in `sub_items`, keyed by id; `category/update` takes second-level ids.",
    params(CategoryList),
    security(("app_token" = [])),
    responses((status = 200, description = "The catalogue, or an error.", body = inline(crate::api_doc::CategoriesAnswer)))
)]
pub async fn category_list(
    State(_s): State<AppState>,
    call: AppCall,
) -> Result<Response, ApiError> {
    let req: CategoryList = call.p.decode()?;
    let kind = match req.category_type.as_str() {
        "1" => 1,
        "2" => 2,
        other => {
            return Err(ApiError::param(format!(
                "category_type 必须是 1 或 2，收到 {other:?}"
            )));
        }
    };
    let visible = |c: &rules::Category| kind == 2 || c.category_type == 1;
    let list: Vec<CategoryItem> = rules::CATEGORIES
        .iter()
        .filter(|c| c.parent == 0 && visible(c))
        .map(|top| CategoryItem {
            id: top.id,
            category_name: top.name.to_owned(),
            category_type: top.category_type,
            sub_items: rules::CATEGORIES
                .iter()
                .filter(|c| c.parent == top.id && visible(c))
                .map(|c| {
                    (
                        c.id.to_string(),
                        CategorySubItem {
                            id: c.id,
                            category_name: c.name.to_owned(),
                            category_type: c.category_type,
                            need_quali: i64::from(c.needs_quali()),
                            category_quali: c.quali.to_owned(),
                        },
                    )
                })
                .collect(),
        })
        .collect();
    Ok(ok(list))
}

/// `POST app/category/update`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/category/update",
    tag = "basic-info",
    operation_id = "app_category_update",
    summary = "Ask for new service categories (reviewed)",
    description = "`categorys` (also `categories`): a JSON array `[{\"category_id\":101,\"category_quali\":\"URL,URL\"}]` or comma-separated ids; 1 to 3 second-level categories of `category/list`, those with `need_quali` 1 with uploaded `type` 2 images. Else 47031 (47030 for an image that is not an upload). Replaces the whole set once passed. `data` is `{\"examine_id\"}`. 47026, 47027 (quota 3).",
    params(CategoryUpdate),
    security(("app_token" = [])),
    responses((status = 200, description = "The examination, or an error.", body = inline(crate::api_doc::ExamineIdAnswer)))
)]
pub async fn category_update(
    State(s): State<AppState>,
    call: AppCall,
) -> Result<Response, ApiError> {
    let CategoryUpdate { categorys: raw } = call.p.decode()?;
    if raw.len() > 8192 {
        return Err(ApiError::param("categorys 过长"));
    }
    let mut choices = rules::parse_categories(&raw)
        .map_err(|r| ApiError::business(ErrorCode::CategoryInvalid, format!("categorys {r}")))?;
    for c in &mut choices {
        c.category_quali =
            images::uploaded_list(&s, call.caller.tp, "category_quali", &c.category_quali, 5)
                .await?
                .join(",");
    }
    let value = serde_json::to_string(&choices)?;
    let exam = submit(&s, &call, Field::Category, value, String::new(), None).await?;
    Ok(ok(ExamineId {
        examine_id: exam.id,
    }))
}

/// `POST app/offline/update`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/offline/update",
    tag = "basic-info",
    operation_id = "app_offline_update",
    summary = "Ask to restore an app taken offline (reviewed)",
    description = "Only for an app an operator took offline (`status` 5), else 47025. Optional corrections `app_name`, `app_desc`, `photo_addr` (an uploaded icon), `app_name_material` (uploaded images), checked as their own routes check them; at least one. Passed by an operator, the corrections become the approved values and the service is restored. `data` is `{\"examine_id\"}`. 47026 while one is under review.",
    params(OfflineUpdate),
    security(("app_token" = [])),
    responses((status = 200, description = "The examination, or an error.", body = inline(crate::api_doc::ExamineIdAnswer)))
)]
pub async fn offline_update(
    State(s): State<AppState>,
    call: AppCall,
) -> Result<Response, ApiError> {
    let app = call.caller.app_row(&s).await?;
    if app.service_status != ServiceStatus::ForcedOffline {
        return Err(ApiError::business(
            ErrorCode::AppStatusNotAllowed,
            format!(
                "小程序当前 status={} ({})，只有被强制下线的小程序可以申请恢复",
                app.service_status.wire(),
                app.service_status.as_str()
            ),
        ));
    }
    let req: OfflineUpdate = call.p.decode()?;
    let mut fix = std::collections::BTreeMap::new();
    let material = match req.app_name_material.as_deref() {
        Some(raw) => images::uploaded_list(&s, call.caller.tp, "app_name_material", raw, 5).await?,
        None => Vec::new(),
    };
    if let Some(name) = req.app_name.as_deref() {
        rules::check_name_text(name).map_err(|r| text_refusal("app_name", r))?;
        let taken = s.store.name_taken(name, app.id).await?;
        match rules::name_verdict(name, taken, !material.is_empty()) {
            (NameVerdict::Available, _) => {}
            (NameVerdict::NeedsQualification, w) => {
                return Err(ApiError::business(
                    ErrorCode::NameNeedsQualification,
                    format!(
                        "app_name 含品牌词 {}，须提供 app_name_material",
                        w.join("、")
                    ),
                ));
            }
            (NameVerdict::Forbidden, w) => {
                return Err(ApiError::business(
                    ErrorCode::NameUnavailable,
                    format!("app_name 含禁用词 {}", w.join("、")),
                ));
            }
            (NameVerdict::Taken, _) => {
                return Err(ApiError::business(
                    ErrorCode::NameUnavailable,
                    "app_name 已被其他小程序使用",
                ));
            }
        }
        fix.insert("app_name", name.to_owned());
    }
    if let Some(desc) = req.app_desc.as_deref() {
        rules::check_signature(desc).map_err(|r| text_refusal("app_desc", r))?;
        fix.insert("app_desc", desc.to_owned());
    }
    if let Some(url) = req.photo_addr.as_deref() {
        let image = images::uploaded(&s, call.caller.tp, "photo_addr", url).await?;
        images::check_icon("photo_addr", &image)?;
        fix.insert("photo_addr", images::image_path(&image));
    }
    if fix.is_empty() {
        return Err(ApiError::param(
            "至少提供 app_name、app_desc、photo_addr 之一",
        ));
    }
    let name_claim = fix.get("app_name").cloned();
    let exam = submit(
        &s,
        &call,
        Field::Restore,
        serde_json::to_string(&fix)?,
        material.join(","),
        name_claim,
    )
    .await?;
    Ok(ok(ExamineId {
        examine_id: exam.id,
    }))
}

/// `GET app/violation`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/violation",
    tag = "basic-info",
    operation_id = "app_violation",
    summary = "Why the app was banned or taken offline",
    description = "Every ban and forced offline of the app, newest first: `problemDesc` the operator's reason, `problemPath` the offending fields, `status` 1 in force, 2 resolved, `auditReason` why the newest restoration request failed.",
    security(("app_token" = [])),
    responses((status = 200, description = "The records, or an error.", body = inline(crate::api_doc::ViolationAnswer)))
)]
pub async fn violation(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let app = call.caller.app;
    let profile = s.store.profile(app, 0).await?;
    let failed_restore = profile
        .latest
        .iter()
        .find(|e| e.field == Field::Restore && e.status == ExamStatus::Failed)
        .map(|e| e.reason.clone())
        .unwrap_or_default();
    let problem_details = s
        .store
        .violations(app)
        .await?
        .into_iter()
        .map(|v| ProblemDetail {
            task_id: v.id,
            status: if v.resolved_at.is_none() { 1 } else { 2 },
            problem_desc: v.reason,
            problem_path: v.illegal_fields,
            audit_reason: if v.resolved_at.is_none() {
                failed_restore.clone()
            } else {
                String::new()
            },
            screen_shot: String::new(),
            audit_shot: String::new(),
        })
        .collect();
    Ok(ok(ViolationDetail {
        app_id: app.0,
        problem_details,
    }))
}

/// `GET app/info`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/info",
    tag = "auth",
    operation_id = "app_info",
    summary = "The app's information, its reviews and the platform's scopes",
    description = "In the shape the official SDKs declare (`getAppInfo.go`): approved `app_name`, `app_desc`, `photo_addr`; `audit_info` with each field's newest change (status 1 under review, 2 passed, 3 failed with its reason); `category` with `audit_status` and `parent`; `modify_count`; `status` (-1 banned, 1 normal, 2 new app under review, 4 paused, 5 forced offline); `app_offline_info`; `qualification` (`ad_status`, `ad_type`, `name`, `satus`, `type`).",
    security(("app_token" = [])),
    responses((status = 200, description = "The app, or an error.", body = inline(crate::api_doc::AppInfoAnswer)))
)]
pub async fn app_info(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let base = s.base_url();
    let caller = call.caller;
    let app = caller.app_row(&s).await?;
    let profile = s
        .store
        .profile(app.id, year_start(crate::clock::now_ms()))
        .await?;
    let scopes = s
        .store
        .authorization_scopes(caller.app, caller.tp)
        .await?
        .unwrap_or_default();
    let latest = |f: Field| profile.latest.iter().find(|e| e.field == f);
    let audit = |f: Field| match latest(f) {
        Some(e) => (e.value.clone(), e.status.wire(), e.reason.clone()),
        None => (String::new(), 0, String::new()),
    };
    let (audit_app_name, audit_app_name_status, audit_app_name_reason) = audit(Field::Name);
    let (audit_app_desc, audit_app_desc_status, audit_app_desc_reason) = audit(Field::Signature);
    let (audit_photo_addr, audit_photo_addr_status, audit_photo_addr_reason) = audit(Field::Photo);
    let audit_photo_addr = images::absolute(base, &audit_photo_addr);
    let used = |f: Field| {
        profile
            .used
            .iter()
            .find(|(x, _)| *x == f)
            .map_or(0, |(_, n)| *n)
    };
    let quota = |f: Field| f.yearly_quota().unwrap_or(0);
    let approved_pending_under_review = !app.basic_info_approved
        && profile
            .latest
            .iter()
            .any(|e| e.status == ExamStatus::Pending && e.field != Field::Restore);
    let status = if app.service_status == ServiceStatus::Normal && approved_pending_under_review {
        2
    } else {
        app.service_status.wire()
    };
    let open = profile.open_violations.first();
    let verified = app.authenticity_verified;
    Ok(ok(AppInfo {
        app_id: app.id.0,
        app_key: app.app_key,
        app_name: app.name.clone(),
        app_desc: app.description,
        photo_addr: images::absolute(base, &profile.photo_addr),
        status,
        status_reason: open.map(|v| v.reason.clone()).unwrap_or_default(),
        qualification: Qualification {
            ad_status: i64::from(verified),
            ad_type: i64::from(verified),
            name: app.name,
            satus: if verified { 1 } else { 2 },
            kind: 2,
            status: i64::from(verified),
            authenticity_verified: verified,
        },
        audit_info: AuditInfo {
            audit_app_name,
            audit_app_name_status,
            audit_app_name_reason,
            audit_app_desc,
            audit_app_desc_status,
            audit_app_desc_reason,
            audit_photo_addr,
            audit_photo_addr_status,
            audit_photo_addr_reason,
            status: i64::from(app.basic_info_approved),
            basic_info_approved: app.basic_info_approved,
        },
        auth_info: scopes
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| ScopeInfo {
                scope_name: s.to_owned(),
                kind: 0,
            })
            .collect(),
        category: categories(&profile.categories, latest(Field::Category))?,
        modify_count: ModifyCount {
            name_modify_used: used(Field::Name),
            name_modify_quota: quota(Field::Name),
            image_modify_used: used(Field::Photo),
            image_modify_quota: quota(Field::Photo),
            signature_modify_used: used(Field::Signature),
            signature_modify_quota: quota(Field::Signature),
            category_modify_used: used(Field::Category),
            category_modify_quota: quota(Field::Category),
        },
        min_swan_version: String::new(),
        app_offline_info: profile
            .open_violations
            .iter()
            .filter(|v| v.status == ServiceStatus::ForcedOffline)
            .map(|v| OfflineInfo {
                offline_reason: 1,
                illegal_fields: v.illegal_fields.clone(),
                reason: v.reason.clone(),
            })
            .collect(),
        annual_review_info: AnnualReviewInfo {
            annual_review_status: 1,
            annual_review_overdue_time: 0,
        },
        web_status: 0,
    }))
}

/// The approved categories (2), then those of the newest change while it
/// is under review (1) or after it failed (3), each once.
fn categories(approved: &str, newest: Option<&Examination>) -> Result<Vec<AppCategory>, ApiError> {
    let parse = |json: &str| -> Result<Vec<rules::CategoryChoice>, ApiError> {
        Ok(serde_json::from_str(json)?)
    };
    let mut out: Vec<AppCategory> = Vec::new();
    let mut push = |id: i64, status: i64, reason: &str| {
        let Some(c) = rules::category(id) else { return };
        if out.iter().any(|x| x.category_id == id) {
            return;
        }
        let parent = rules::category(c.parent);
        out.push(AppCategory {
            category_id: c.id,
            category_name: c.name.to_owned(),
            category_desc: String::new(),
            audit_status: status,
            reason: reason.to_owned(),
            parent: CategoryParent {
                category_id: c.parent,
                category_name: parent.map(|p| p.name.to_owned()).unwrap_or_default(),
                category_desc: String::new(),
            },
        });
    };
    for c in parse(approved)? {
        push(c.category_id, ExamStatus::Passed.wire(), "");
    }
    if let Some(e) = newest.filter(|e| e.status != ExamStatus::Passed) {
        for c in parse(&e.value)? {
            push(c.category_id, e.status.wire(), &e.reason);
        }
    }
    Ok(out)
}
