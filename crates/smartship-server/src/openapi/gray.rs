//! Phased (gray) release: extension routes under `package/`, app token,
//! the seed's conventions (docs/release.md).
//!
//! While a plan is live (running or paused) it holds its package in the
//! audit slot: `submitaudit` (and a `directCommit` upload) and `rollback`
//! answer 47020 naming the package; `release` of that package completes
//! the plan (as 100 % does); `withdraw` is untouched (it acts on a package
//! under audit, never on the held one).

use super::auth::{AppCall, AppCaller};
use super::error::{ApiError, ok, refusal};
use crate::service::{Actor, phased};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use smartship_api::ErrorCode;
use smartship_api::requests::release::GrayRelease;
use smartship_core::PackageId;
use smartship_core::gray::{self, GrayPlan, GrayRefusal, RampStep};
use smartship_core::phased::{PhasedOp, PhasedRefusal, PhasedRequest};

pub use smartship_api::release::{GrayPlanInfo as GrayPlanView, RampStepInfo as RampStepView};

fn view(plan: Option<&GrayPlan>, version: Option<String>) -> GrayPlanView {
    let Some(p) = plan else {
        return GrayPlanView {
            status: 0,
            plan_id: None,
            package_id: None,
            version: None,
            gray_percentage: None,
            user_list: None,
            ramp: None,
            create_time: None,
            update_time: None,
            end_time: None,
            created_by: None,
        };
    };
    GrayPlanView {
        status: p.status.wire(),
        plan_id: Some(p.id),
        package_id: Some(p.package.0),
        version,
        gray_percentage: Some(i64::from(p.percentage)),
        user_list: Some(p.user_list.clone()),
        ramp: Some(
            p.ramp
                .iter()
                .map(|s| RampStepView {
                    gray_percentage: i64::from(s.percentage),
                    at: s.at.div_euclid(1000),
                })
                .collect(),
        ),
        create_time: Some(p.created_at.div_euclid(1000)),
        update_time: Some(p.updated_at.div_euclid(1000)),
        end_time: p.ended_at.map(|t| t.div_euclid(1000)),
        created_by: Some(p.created_by.clone()),
    }
}

async fn render(s: &AppState, plan: Option<&GrayPlan>) -> Result<Response, ApiError> {
    let version = match plan {
        Some(p) => s
            .store
            .package(p.app, p.package)
            .await?
            .map(|pk| pk.version),
        None => None,
    };
    Ok(ok(view(plan, version)))
}

pub fn gray_refusal(r: &GrayRefusal) -> ApiError {
    match r {
        GrayRefusal::PercentageOutOfRange
        | GrayRefusal::BadUserList(_)
        | GrayRefusal::BadRamp(_) => ApiError::param(r.to_string()),
        GrayRefusal::PercentageNotIncreasing { current, asked } => ApiError::business(
            ErrorCode::GrayPercentageNotIncreasing,
            format!("当前 gray_percentage={current}，请求 {asked}"),
        ),
        GrayRefusal::WrongStatus(..) | GrayRefusal::NoPlan => {
            ApiError::business(ErrorCode::GrayNotInState, r.to_string())
        }
    }
}

/// `ramp`: a JSON array of `{"gray_percentage", "at"}` (Unix seconds).
fn parse_ramp(ramp: Option<&str>) -> Result<Option<Vec<RampStep>>, ApiError> {
    let Some(raw) = ramp else {
        return Ok(None);
    };
    let steps: Vec<serde_json::Value> = serde_json::from_str(raw).map_err(|_| {
        ApiError::param("ramp 必须是 JSON 数组: [{\"gray_percentage\":30,\"at\":1767225600}]")
    })?;
    let mut out = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let pct = step.get("gray_percentage").and_then(|v| v.as_i64());
        let at = step.get("at").and_then(|v| v.as_i64());
        let (Some(pct), Some(at)) = (pct, at) else {
            return Err(ApiError::param(format!(
                "ramp[{i}] 需要整数 gray_percentage 与 at (Unix 秒)"
            )));
        };
        let percentage = gray::check_percentage(pct).map_err(|_| {
            ApiError::param(format!(
                "ramp[{i}].gray_percentage 必须是 1 到 100 之间的整数"
            ))
        })?;
        let at = at
            .checked_mul(1000)
            .filter(|ms| *ms > 0)
            .ok_or_else(|| ApiError::param(format!("ramp[{i}].at 不是有效的 Unix 秒")))?;
        out.push(RampStep { percentage, at });
    }
    Ok(Some(out))
}

fn refused(r: &PhasedRefusal) -> ApiError {
    match r {
        PhasedRefusal::Plan(g) => gray_refusal(g),
        PhasedRefusal::Lifecycle(l) => refusal(l),
    }
}

#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/grayrelease",
    tag = "package",
    operation_id = "package_grayrelease",
    summary = "Release a package that passed audit to a share of users",
    description = "Starts a phased release of the package, or raises the live one's percentage (it only increases); 100 completes it: the package goes online as with `release`. See docs/release.md.",
    security(("app_token" = [])),
    params(GrayRelease),
    responses((status = 200, description = "The plan, or an error.", body = inline(crate::api_doc::GrayPlanAnswer)))
)]
pub async fn grayrelease(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let AppCall { caller, p, .. } = call;
    let req: GrayRelease = p.decode()?;
    let package = PackageId(req.package_id.get());
    let percentage = gray::check_percentage(req.gray_percentage).map_err(|e| gray_refusal(&e))?;
    let users = gray::parse_user_list(req.user_list.as_deref().unwrap_or(""))
        .map_err(|e| gray_refusal(&e))?;
    let ramp = parse_ramp(req.ramp.as_deref())?;
    let now = crate::clock::now_ms();
    if let Some(steps) = &ramp {
        gray::check_ramp(steps, percentage, now).map_err(|e| gray_refusal(&e))?;
    }
    let request = PhasedRequest {
        package,
        percentage,
        users,
        ramp,
    };
    match phased::request(&s, caller.app, request, Actor::App(caller.app)).await? {
        // The plan is stored at 100 % even so: the answer is the refusal.
        Ok(outcome) => match &outcome.release {
            Some(Err(r)) => Err(refusal(r)),
            _ => render(&s, Some(&outcome.plan)).await,
        },
        Err(r) => Err(refused(&r)),
    }
}

async fn change(s: &AppState, caller: &AppCaller, op: PhasedOp) -> Result<Response, ApiError> {
    let done = phased::run(s, caller.app, op, Actor::App(caller.app))
        .await?
        .map_err(|e| refused(&e))?;
    render(s, Some(&done.plan)).await
}

/// `POST package/pausegrayrelease`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/pausegrayrelease",
    tag = "package",
    operation_id = "package_pausegrayrelease",
    summary = "Pause the live phased release's ramp",
    description = "Users keep what they get; the ramp waits until `resumegrayrelease`.",
    security(("app_token" = [])),
    responses((status = 200, description = "The plan, or an error.", body = inline(crate::api_doc::GrayPlanAnswer)))
)]
pub async fn pause(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    change(&s, &call.caller, PhasedOp::Pause).await
}

/// `POST package/resumegrayrelease`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/resumegrayrelease",
    tag = "package",
    operation_id = "package_resumegrayrelease",
    summary = "Resume a paused phased release",
    description = "Steps not yet taken move later by the time the plan was paused.",
    security(("app_token" = [])),
    responses((status = 200, description = "The plan, or an error.", body = inline(crate::api_doc::GrayPlanAnswer)))
)]
pub async fn resume(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    change(&s, &call.caller, PhasedOp::Resume).await
}

/// `POST package/revertgrayrelease`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/revertgrayrelease",
    tag = "package",
    operation_id = "package_revertgrayrelease",
    summary = "Revert the live phased release",
    description = "Every user is back on the online version; the package stays audit passed (status 6).",
    security(("app_token" = [])),
    responses((status = 200, description = "The plan, or an error.", body = inline(crate::api_doc::GrayPlanAnswer)))
)]
pub async fn revert(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    change(&s, &call.caller, PhasedOp::Revert).await
}

/// `GET package/getgrayreleaseplan`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/package/getgrayreleaseplan",
    tag = "package",
    operation_id = "package_getgrayreleaseplan",
    summary = "The app's newest phased release",
    description = "`status` 0 when the app never had one.",
    security(("app_token" = [])),
    responses((status = 200, description = "The plan, or an error.", body = inline(crate::api_doc::GrayPlanAnswer)))
)]
pub async fn get_plan(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let plan = s.store.latest_gray(call.caller.app).await?;
    render(&s, plan.as_ref()).await
}
