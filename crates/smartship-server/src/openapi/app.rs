//! The app's service state, as the owner (through its third-party
//! platform) sets it: `app/pause` and `app/resume` (app token). A paused
//! app's online package is not served to host runtimes (`/runtime/v1`
//! answers `app_paused`) and `app/info` shows `status` 4. Bans and forced
//! offline are operators' (`PATCH /admin/v1/apps/{id}`); an app under
//! either can neither pause nor resume. `appflow/control` takes the app's
//! traffic offline (type 2: status 7, not served either) and back (type 1),
//! the same way. `app/getsupportversion` lists the base-library versions
//! the platform offers with the app's minimum, which the extension
//! `app/setsupportversion` sets.

use super::auth::AppCall;
use super::error::{ApiError, ok};
use crate::service::parties;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use smartship_api::ErrorCode;
use smartship_api::profile::{SupportVersionItem, SupportVersions};
use smartship_api::requests::profile::{FlowControl, SetSupportVersion};
use smartship_core::runtime::ServiceStatus;
use smartship_core::versions;
use smartship_store::AppUpdate;

use smartship_api::profile::ServiceChange;

async fn change(
    s: &AppState,
    call: AppCall,
    from: ServiceStatus,
    to: ServiceStatus,
    done: &str,
) -> Result<Response, ApiError> {
    let app = call.caller.app;
    match parties::change_service_status(s, app, from, to).await? {
        Ok(()) => Ok(ok(ServiceChange {
            errno: 0,
            msg: done.to_owned(),
        })),
        Err(now) => Err(ApiError::business(
            ErrorCode::AppStatusNotAllowed,
            format!("小程序当前 status={} ({})", now.wire(), now.as_str()),
        )),
    }
}

/// `POST app/pause`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/pause",
    tag = "app",
    operation_id = "app_pause",
    summary = "Pause the app's service",
    description = "Status 1 → 4: host runtimes are no longer served its online package. 47025 when the app is not in service.",
    security(("app_token" = [])),
    responses((status = 200, description = "Done, or an error.", body = inline(crate::api_doc::ServiceChangeAnswer)))
)]
pub async fn pause(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    change(
        &s,
        call,
        ServiceStatus::Normal,
        ServiceStatus::Paused,
        "已暂停服务",
    )
    .await
}

/// `POST app/resume`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/resume",
    tag = "app",
    operation_id = "app_resume",
    summary = "Resume a paused app's service",
    description = "Status 4 → 1. 47025 when the app is not paused (a ban or a forced offline is lifted by an operator only).",
    security(("app_token" = [])),
    responses((status = 200, description = "Done, or an error.", body = inline(crate::api_doc::ServiceChangeAnswer)))
)]
pub async fn resume(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    change(
        &s,
        call,
        ServiceStatus::Paused,
        ServiceStatus::Normal,
        "已恢复服务",
    )
    .await
}

/// `POST appflow/control`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/appflow/control",
    tag = "app",
    operation_id = "appflow_control",
    summary = "Take the app's traffic offline, or open it again",
    description = "`type` 2: status 1 → 7, host runtimes are no longer served its online package (`app_traffic_offline`); `type` 1: status 7 → 1. 47025 when the app is not in the status the change starts from; 40001 for another `type`. `data` is `{errno, msg}` as the official SDKs declare.",
    security(("app_token" = [])),
    params(FlowControl),
    responses((status = 200, description = "Done, or an error.", body = inline(crate::api_doc::ServiceChangeAnswer)))
)]
pub async fn flow_control(State(s): State<AppState>, call: AppCall) -> Result<Response, ApiError> {
    let req: FlowControl = call.p.decode()?;
    match req.kind.as_str() {
        "1" => {
            change(
                &s,
                call,
                ServiceStatus::TrafficOffline,
                ServiceStatus::Normal,
                "已开启流量",
            )
            .await
        }
        "2" => {
            change(
                &s,
                call,
                ServiceStatus::Normal,
                ServiceStatus::TrafficOffline,
                "已下线流量",
            )
            .await
        }
        other => Err(ApiError::param(format!(
            "type 必须是 1（开启流量）或 2（下线流量），收到 {:?}",
            other.chars().take(20).collect::<String>()
        ))),
    }
}

/// The declared base-library versions, oldest first, with the app's
/// minimum (the oldest while it asked for none).
fn support_versions(s: &AppState, minimum: Option<String>) -> SupportVersions {
    // The configuration was checked at start: every entry is a version.
    let available = versions::sorted(&s.config.base_library_versions).unwrap_or_default();
    SupportVersions {
        now_version: minimum
            .or_else(|| available.first().cloned())
            .unwrap_or_default(),
        items: available
            .into_iter()
            .map(|version| SupportVersionItem { version })
            .collect(),
    }
}

/// `GET app/getsupportversion`
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/getsupportversion",
    tag = "app",
    operation_id = "app_get_support_version",
    summary = "The base-library versions offered, and the app's minimum",
    description = "`items`: the base-library versions host runtimes offer (`base_library_versions` in the configuration), oldest first; `now_version`: the lowest the app supports (`app/setsupportversion`), the oldest of `items` while it has set none.",
    security(("app_token" = [])),
    responses((status = 200, description = "The versions, or an error.", body = inline(crate::api_doc::SupportVersionsAnswer)))
)]
pub async fn get_support_version(
    State(s): State<AppState>,
    call: AppCall,
) -> Result<Response, ApiError> {
    let app = call.caller.app_row(&s).await?;
    Ok(ok(support_versions(&s, app.min_base_version)))
}

/// `POST app/setsupportversion` (extension)
#[utoipa::path(
    method(get, post),
    path = "/rest/2.0/smartapp/app/setsupportversion",
    tag = "app",
    operation_id = "app_set_support_version",
    summary = "Set the lowest base-library version the app supports (extension)",
    description = "`version`: one of the `items` of `app/getsupportversion` (compared as dotted numbers: `3.2.0` is `3.2`), else 40001. Answers as `app/getsupportversion` does.",
    security(("app_token" = [])),
    params(SetSupportVersion),
    responses((status = 200, description = "The versions, or an error.", body = inline(crate::api_doc::SupportVersionsAnswer)))
)]
pub async fn set_support_version(
    State(s): State<AppState>,
    call: AppCall,
) -> Result<Response, ApiError> {
    let req: SetSupportVersion = call.p.decode()?;
    let minimum = versions::choose_minimum(&req.version, &s.config.base_library_versions)
        .map_err(|r| ApiError::param(format!("version {r}")))?;
    let update = AppUpdate {
        min_base_version: Some(minimum),
        ..AppUpdate::default()
    };
    let app = parties::update_app(&s, call.caller.app, update)
        .await?
        .ok_or(ApiError::Gateway(smartship_api::GatewayCode::TokenInvalid))?;
    Ok(ok(support_versions(&s, app.min_base_version)))
}
