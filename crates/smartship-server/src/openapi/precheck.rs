//! The pre-review checks of a package (`smartship_core::precheck`), run at
//! its build: `package/precheck` (extension) shows them without
//! submitting, and `package/submitaudit` refuses a package with a blocking
//! finding (47034, naming it).

use super::auth::{AppCall, AppCaller};
use super::error::{ApiError, ok};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use smartship_api::ErrorCode;
use smartship_api::package::PrecheckReport;
use smartship_api::requests::package::Precheck;
use smartship_core::PackageId;
use smartship_core::precheck::Finding;

/// The findings of a package of the caller's app: None while it has not
/// been built (or its build failed before the checks ran).
async fn findings(
    s: &AppState,
    caller: AppCaller,
    package: PackageId,
) -> Result<Option<Vec<Finding>>, ApiError> {
    if s.store.package(caller.app, package).await?.is_none() {
        return Err(ApiError::business(ErrorCode::PackageNotFound, ""));
    }
    let Some((json, _)) = s.store.package_checks(package).await? else {
        return Ok(None);
    };
    Ok(Some(serde_json::from_str(&json)?))
}

/// Refuses a submission whose package has a blocking finding.
pub async fn gate_submission(
    s: &AppState,
    caller: AppCaller,
    package: i64,
) -> Result<(), ApiError> {
    let Ok(Some(found)) = findings(s, caller, PackageId(package)).await else {
        // Unknown or unbuilt packages are the lifecycle's to refuse.
        return Ok(());
    };
    match smartship_core::precheck::first_blocking(&found) {
        Some(f) => Err(ApiError::business(
            ErrorCode::PrecheckFailed,
            format!("{} {}:{} {}", f.check, f.file, f.line, f.message),
        )),
        None => Ok(()),
    }
}

/// `GET package/precheck` (extension)
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/precheck",
    tag = "package",
    operation_id = "package_precheck",
    summary = "The pre-review checks of a built package (extension)",
    description = "Every finding of the automated pre-review checks run at the package's build, each with its check, file and line; `passed` when none blocks `submitaudit` (which answers 47034 otherwise). 47012 while the package is building or when its build failed, 47001 for a package that is not the app's.",
    security(("app_token" = [])),
    params(Precheck),
    responses((status = 200, description = "The report, or an error.", body = inline(crate::api_doc::PrecheckAnswer)))
)]
pub async fn precheck(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let req: Precheck = call.p.decode()?;
    let id = req.package_id.get();
    let Some(found) = findings(&s, call.caller, PackageId(id)).await? else {
        return Err(ApiError::business(
            ErrorCode::PackageNotBuilt,
            format!("package_id={id} 尚未构建完成，预审检查未运行"),
        ));
    };
    let blocking = found.iter().filter(|f| f.blocking).count() as i64;
    Ok(ok(PrecheckReport {
        package_id: id,
        passed: blocking == 0,
        blocking,
        findings: found.into_iter().map(crate::wire::finding).collect(),
    }))
}
