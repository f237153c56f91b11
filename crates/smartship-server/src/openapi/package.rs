//! Package routes (SPEC §4, seed page). All take an app access token.

use super::auth::{AppCall, AppCaller};
use super::error::{ApiError, ok, ok_empty, refusal};
use super::params::Params;
use crate::audit::AuditSlot;
use crate::service::{self, Actor, packages::Change};
use crate::state::AppState;
use crate::wire::package_info;
use axum::extract::State;
use axum::response::Response;
use smartship_api::ErrorCode;
use smartship_api::package::{AuditQuota, PackageInfo};
use smartship_core::lifecycle::{self, Action, PackageState, Slot};
use smartship_core::{PackageId, TemplateId, ext_json};
use smartship_store::{NewUpload, Package, Submission};

/// Upper bounds on free-text parameters (characters).
const MAX_VERSION: usize = 64;
const MAX_DESC: usize = 500;
const MAX_CREDENTIAL: usize = 128;

/// `POST package/upload`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/upload",
    tag = "package",
    operation_id = "package_upload",
    summary = "Upload a package from a template and the app's ext_json",
    description = "Creates the app's development package; it builds in the background (`upload_status` of `package/get`).",
    security(("app_token" = [])),
    params(
        ("template_id" = i64, Query, minimum = 1, example = 1, description = "A template of the app's third-party platform."),
        ("ext_json" = String, Query, example = r#"{"extEnable":true,"ext":{"name":"demo"}}"#, description = "The app's ext.json: a JSON object (see docs/api.md)."),
        ("user_version" = String, Query, max_length = 64, example = "1.0.0", description = "Version shown to the platform, one line."),
        ("user_desc" = String, Query, max_length = 500, example = "first version", description = "Description of the version, one line."),
        ("test_account" = Option<String>, Query, max_length = 128, description = "Test account for the reviewers."),
        ("test_password" = Option<String>, Query, max_length = 128, description = "Its password."),
    ),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn upload(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let AppCall { caller, p, audit } = call;
    let template_id = TemplateId(p.id("template_id")?);
    let raw_ext = p
        .raw("ext_json")
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::param("ext_json 不能为空"))?;
    let ext = ext_json::parse(raw_ext, caller.app.0).map_err(|e| ApiError::param(e.to_string()))?;
    let user_version = p.text("user_version", MAX_VERSION)?;
    let user_desc = p.text("user_desc", MAX_DESC)?;
    let test_account = p.optional_text("test_account", MAX_CREDENTIAL)?;
    let test_password = p.optional_text("test_password", MAX_CREDENTIAL)?;
    if !s.store.template_exists(caller.tp, template_id).await? {
        return Err(ApiError::business(
            ErrorCode::TemplateNotFound,
            format!("template_id={template_id}"),
        ));
    }
    let upload = NewUpload {
        app_id: caller.app,
        tp_id: caller.tp,
        template_id,
        version: user_version.to_owned(),
        version_desc: user_desc.to_owned(),
        ext_json: serde_json::to_string(&ext.document)?,
        direct_commit: ext.direct_commit,
        test_account: test_account.map(str::to_owned),
        test_password: test_password.map(str::to_owned),
        committer: "--".to_owned(),
    };
    match service::packages::upload(&s, upload, Actor::App(caller.app), audit.as_ref()).await? {
        Ok(_) => Ok(ok_empty()),
        Err(r) => Err(refusal(&r)),
    }
}

async fn lifecycle_call(
    s: &AppState,
    caller: AppCaller,
    p: &Params,
    audit: Option<&AuditSlot>,
    action: Action,
    submission: Option<Submission>,
) -> Result<Response, ApiError> {
    let package = PackageId(p.id("package_id")?);
    let change = Change {
        submission,
        audit,
        ..Change::new(caller.app, package, action, Actor::App(caller.app))
    };
    match service::packages::act(s, change).await? {
        Ok(_) => Ok(ok_empty()),
        Err(r) => Err(refusal(&r)),
    }
}

/// `POST package/submitaudit`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/submitaudit",
    tag = "package",
    operation_id = "package_submitaudit",
    summary = "Submit the development package for audit",
    description = "Moves the built development package to the audit slot. 47034 when a blocking pre-review check failed on it (`package/precheck`).",
    security(("app_token" = [])),
    params(("package_id" = i64, Query, minimum = 1, example = 1, description = "The package (`package_id` of `package/get`)."),
        ("content" = String, Query, max_length = 500, example = "please review", description = "What the reviewers should know; may span lines."),
        ("remark" = Option<String>, Query, max_length = 500, description = "A remark; may span lines."),
        ("test_account" = Option<String>, Query, max_length = 128, description = "Test account for the reviewers."),
        ("test_password" = Option<String>, Query, max_length = 128, description = "Its password."),
    ),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn submit_audit(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let AppCall { caller, p, audit } = call;
    let submission = Submission {
        content: p.paragraph("content", MAX_DESC)?.to_owned(),
        remark: p
            .optional_paragraph("remark", MAX_DESC)?
            .unwrap_or("")
            .to_owned(),
        test_account: p
            .optional_text("test_account", MAX_CREDENTIAL)?
            .map(str::to_owned),
        test_password: p
            .optional_text("test_password", MAX_CREDENTIAL)?
            .map(str::to_owned),
    };
    if let Ok(id) = p.id("package_id") {
        super::precheck::gate_submission(&s, caller, id).await?;
    }
    lifecycle_call(
        &s,
        caller,
        &p,
        audit.as_ref(),
        Action::SubmitAudit,
        Some(submission),
    )
    .await
}

/// `POST package/release`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/release",
    tag = "package",
    operation_id = "package_release",
    summary = "Release a package that passed audit",
    description = "The package goes online; the previous online version becomes `rollback_version`. With `release_at` (extension) in the future, the release is held until then (`package/cancelrelease` cancels it).",
    security(("app_token" = [])),
    params(
        ("package_id" = i64, Query, minimum = 1, example = 1, description = "The package (`package_id` of `package/get`)."),
        ("release_at" = Option<i64>, Query, description = "Unix seconds: release then instead of now (at most a year ahead; a time not in the future releases now)."),
    ),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn release(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let AppCall { caller, p, audit } = call;
    let Some(raw) = p.optional("release_at") else {
        return lifecycle_call(&s, caller, &p, audit.as_ref(), Action::Release, None).await;
    };
    let when = raw
        .parse::<i64>()
        .ok()
        .and_then(|secs| lifecycle::release_time(secs, crate::clock::now_ms()).ok())
        .ok_or_else(|| ApiError::param("release_at 必须是一年之内的 Unix 秒"))?;
    let Some(at) = when else {
        return lifecycle_call(&s, caller, &p, audit.as_ref(), Action::Release, None).await;
    };
    let package = PackageId(p.id("package_id")?);
    match service::schedule::schedule(&s, caller.app, package, at, Actor::App(caller.app)).await? {
        Ok(()) => Ok(ok_empty()),
        Err(r) => Err(refusal(&r)),
    }
}

/// `POST package/cancelrelease` (extension)
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/cancelrelease",
    tag = "package",
    operation_id = "package_cancelrelease",
    summary = "Cancel a scheduled release",
    description = "The package stays audit passed (status 6).",
    security(("app_token" = [])),
    params(("package_id" = i64, Query, minimum = 1, description = "The package whose release is scheduled.")),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn cancel_release(
    State(s): State<AppState>,
    call: AppCall,
) -> Result<Response, ApiError> {
    let AppCall { caller, p, .. } = call;
    let package = PackageId(p.id("package_id")?);
    if service::schedule::cancel(&s, caller.app, package, Actor::App(caller.app)).await? {
        return Ok(ok_empty());
    }
    match s.store.package(caller.app, package).await? {
        None => Err(ApiError::business(ErrorCode::PackageNotFound, "")),
        Some(_) => Err(ApiError::business(
            ErrorCode::WrongPackageState,
            "该代码包没有定时发布",
        )),
    }
}

/// `POST package/rollback`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/rollback",
    tag = "package",
    operation_id = "package_rollback",
    summary = "Roll the online package back to an earlier version",
    description = "`package_id` names the online package. Without a target it returns to the previous version; `target_package_id` or `version` (extensions) name any retained earlier version (`package/gethistory`). Takes effect after the rollback delay.",
    security(("app_token" = [])),
    params(
        ("package_id" = i64, Query, minimum = 1, example = 1, description = "The package (`package_id` of `package/get`)."),
        ("target_package_id" = Option<i64>, Query, minimum = 1, description = "The earlier version to return to, by package id."),
        ("version" = Option<String>, Query, max_length = 64, description = "The earlier version to return to, by version; 47035 naming the package ids when several earlier versions carry it."),
    ),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn rollback(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let AppCall { caller, p, audit } = call;
    let by_id = p.optional_id("target_package_id")?;
    let by_version = p.optional_text("version", MAX_VERSION)?;
    let action = match (by_id, by_version) {
        (Some(_), Some(_)) => {
            return Err(ApiError::param("target_package_id 与 version 只能给出一个"));
        }
        (Some(id), None) => Action::RollbackTo(PackageId(id)),
        (None, Some(v)) => {
            // A version is not an identity: two packages may carry it, and
            // then the caller must say which.
            let all = s.store.all_packages(caller.app).await?;
            let found: Vec<_> = all
                .iter()
                .rev()
                .filter(|pk| pk.version == v && smartship_core::lifecycle::is_retained(pk.state))
                .collect();
            match found.as_slice() {
                [] => {
                    return Err(ApiError::business(
                        ErrorCode::NotARollbackTarget,
                        format!("version={v}"),
                    ));
                }
                [one] => Action::RollbackTo(one.id),
                many => {
                    let ids: Vec<String> = many.iter().map(|pk| pk.id.0.to_string()).collect();
                    return Err(ApiError::business(
                        ErrorCode::VersionAmbiguous,
                        format!(
                            "version={v} 对应代码包 {}，请用 target_package_id 指定",
                            ids.join(", ")
                        ),
                    ));
                }
            }
        }
        (None, None) => Action::Rollback,
    };
    lifecycle_call(&s, caller, &p, audit.as_ref(), action, None).await
}

/// `POST package/withdraw`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/withdraw",
    tag = "package",
    operation_id = "package_withdraw",
    summary = "Withdraw a package from audit",
    description = "The package under audit goes back to development.",
    security(("app_token" = [])),
    params(("package_id" = i64, Query, minimum = 1, example = 1, description = "The package (`package_id` of `package/get`).")),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn withdraw(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    lifecycle_call(
        &s,
        call.caller,
        &call.p,
        call.audit.as_ref(),
        Action::Withdraw,
        None,
    )
    .await
}

/// Slot order of `package/get`: online, audit, development (as the seed's
/// example lists the online version first).
fn list_rank(p: &Package) -> u8 {
    match p.state.slot() {
        Some(Slot::Online) => 0,
        Some(Slot::Audit) => 1,
        _ => 2,
    }
}

/// `GET package/get`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/get",
    tag = "package",
    operation_id = "package_get",
    summary = "The app's packages in their slots",
    description = "Online, audit and development packages, in that order.",
    security(("app_token" = [])),
    responses((status = 200, description = "The packages, or an error.", body = inline(crate::api_doc::Packages)))
)]
pub async fn get(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let caller = call.caller;
    let slotted = s.store.slotted_packages(caller.app).await?;
    let mut packages: Vec<&Package> = slotted.iter().collect();
    packages.sort_by_key(|pk| list_rank(pk));
    let list: Vec<PackageInfo> = packages
        .into_iter()
        .map(|pk| package_info(pk, s.tz))
        .collect();
    Ok(ok(list))
}

/// `GET package/getdetail`: by `package_id`, by `type`, or the online version.
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/getdetail",
    tag = "package",
    operation_id = "package_getdetail",
    summary = "One package: by id, by status, or the online one",
    security(("app_token" = [])),
    params(
        ("package_id" = Option<i64>, Query, minimum = 1, description = "The package."),
        ("type" = Option<i64>, Query, description = "A status: 1 online, 3 development, 4 auditing, 5 audit failed, 6 audit passed, 8 under rollback."),
    ),
    responses((status = 200, description = "The package, or an error (47001 when there is none).", body = inline(crate::api_doc::OnePackage)))
)]
pub async fn get_detail(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let AppCall { caller, p, .. } = call;
    let wanted = match p.optional("type") {
        None => None,
        Some(t) => Some(
            t.parse::<i64>()
                .ok()
                .and_then(PackageState::from_wire_status)
                .ok_or_else(|| {
                    ApiError::param(format!("type 必须是 1、3、4、5、6、8 之一，收到 {t:?}"))
                })?,
        ),
    };
    let package = match (p.optional_id("package_id")?, wanted) {
        (Some(id), _) => s
            .store
            .package(caller.app, PackageId(id))
            .await?
            .filter(|pk| pk.state.wire_status().is_some())
            .filter(|pk| wanted.is_none_or(|w| w == pk.state)),
        (None, Some(state)) => s.store.package_in_state(caller.app, state).await?,
        (None, None) => s
            .store
            .slotted_packages(caller.app)
            .await?
            .iter()
            .find(|pk| pk.state.slot() == Some(Slot::Online))
            .cloned(),
    };
    match package {
        Some(pk) => Ok(ok(package_info(&pk, s.tz))),
        None => Err(ApiError::business(ErrorCode::PackageNotFound, "")),
    }
}

/// `GET package/auditquota`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/auditquota",
    tag = "package",
    operation_id = "package_auditquota",
    summary = "The app's audit submission quota",
    security(("app_token" = [])),
    responses((status = 200, description = "The quota, or an error.", body = inline(crate::api_doc::Quota)))
)]
pub async fn audit_quota(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let caller = call.caller;
    let quota = match s.action_context(String::new()).quota {
        None => AuditQuota {
            quota_type: -1,
            quota_times: -1,
            remain_times: -1,
        },
        Some(q) => {
            let used = s.store.quota_used(caller.app, q.period_start).await?;
            AuditQuota {
                quota_type: 2,
                quota_times: q.limit,
                remain_times: (q.limit - used).max(0),
            }
        }
    };
    Ok(ok(quota))
}
