//! Package routes (SPEC §4, seed page). All take an app access token.

use super::auth::{AppCall, AppCaller};
use super::error::{ApiError, ok, ok_empty, refusal};
use crate::audit::AuditSlot;
use crate::service::{self, Actor, packages::Change};
use crate::state::AppState;
use crate::wire::package_info;
use axum::extract::State;
use axum::response::Response;
use smartship_api::ErrorCode;
use smartship_api::package::{AuditQuota, PackageInfo};
use smartship_api::requests::package::{
    CancelRelease, GetDetail, OnePackage, Release, Rollback, SubmitAudit, Upload,
};
use smartship_core::lifecycle::{self, Action, PackageState, Slot};
use smartship_core::{PackageId, TemplateId, ext_json};
use smartship_store::{NewUpload, Package, Submission};

/// `POST package/upload`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/upload",
    tag = "package",
    operation_id = "package_upload",
    summary = "Upload a package from a template and the app's ext_json",
    description = "Creates the app's development package; it builds in the background (`upload_status` of `package/get`).",
    security(("app_token" = [])),
    params(Upload),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn upload(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let AppCall { caller, p, audit } = call;
    let req: Upload = p.decode()?;
    let template_id = TemplateId(req.template_id.get());
    let ext =
        ext_json::parse(&req.ext_json, caller.app.0).map_err(|e| ApiError::param(e.to_string()))?;
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
        version: req.user_version.into_string(),
        version_desc: req.user_desc.into_string(),
        ext_json: serde_json::to_string(&ext.document)?,
        direct_commit: ext.direct_commit,
        test_account: req.test_account.map(|t| t.into_string()),
        test_password: req.test_password.map(|t| t.into_string()),
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
    package: PackageId,
    audit: Option<&AuditSlot>,
    action: Action,
    submission: Option<Submission>,
) -> Result<Response, ApiError> {
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
    params(SubmitAudit),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn submit_audit(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let AppCall { caller, p, audit } = call;
    let req: SubmitAudit = p.decode()?;
    let package = PackageId(req.package_id.get());
    let submission = Submission {
        content: req.content.into_string(),
        remark: req.remark.map(|r| r.into_string()).unwrap_or_default(),
        test_account: req.test_account.map(|t| t.into_string()),
        test_password: req.test_password.map(|t| t.into_string()),
    };
    super::precheck::gate_submission(&s, caller, package.0).await?;
    lifecycle_call(
        &s,
        caller,
        package,
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
    params(Release),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn release(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let AppCall { caller, p, audit } = call;
    let req: Release = p.decode()?;
    let package = PackageId(req.package_id.get());
    let when = match req.release_at {
        None => None,
        Some(secs) => lifecycle::release_time(secs, crate::clock::now_ms())
            .map_err(|_| ApiError::param("release_at 必须是一年之内的 Unix 秒"))?,
    };
    let Some(at) = when else {
        return lifecycle_call(&s, caller, package, audit.as_ref(), Action::Release, None).await;
    };
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
    params(CancelRelease),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn cancel_release(
    State(s): State<AppState>,
    call: AppCall,
) -> Result<Response, ApiError> {
    let AppCall { caller, p, .. } = call;
    let req: CancelRelease = p.decode()?;
    let package = PackageId(req.package_id.get());
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
    params(Rollback),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn rollback(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let AppCall { caller, p, audit } = call;
    let req: Rollback = p.decode()?;
    let by_id = req.target_package_id.map(|id| id.get());
    let by_version = req.version.as_deref();
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
    let package = PackageId(req.package_id.get());
    lifecycle_call(&s, caller, package, audit.as_ref(), action, None).await
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
    params(OnePackage),
    responses((status = 200, description = "Success without data, or an error.", body = inline(crate::api_doc::Done)))
)]
pub async fn withdraw(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let req: OnePackage = call.p.decode()?;
    lifecycle_call(
        &s,
        call.caller,
        PackageId(req.package_id.get()),
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
    params(GetDetail),
    responses((status = 200, description = "The package, or an error (47001 when there is none).", body = inline(crate::api_doc::OnePackage)))
)]
pub async fn get_detail(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let AppCall { caller, p, .. } = call;
    let req: GetDetail = p.decode()?;
    let wanted = req
        .status
        .and_then(|status| PackageState::from_wire_status(status.wire()));
    let package = match (req.package_id, wanted) {
        (Some(id), _) => s
            .store
            .package(caller.app, PackageId(id.get()))
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
