//! The path parameters of the operator and runtime routes, one struct per
//! shape, so that a route's handler and its OpenAPI entry read the same
//! names and meanings.

use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

/// `/…/apps/{app_id}`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AppPath {
    /// The app.
    pub app_id: i64,
}

/// `/admin/v1/apps/{app_id}/authorizations/{client_id}`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AppTpPath {
    /// The app.
    pub app_id: i64,
    /// The platform's client id.
    #[param(min_length = 1)]
    pub client_id: String,
}

/// `/admin/v1/tps/{client_id}…`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TpPath {
    /// The platform's client id.
    #[param(min_length = 1)]
    pub client_id: String,
}

/// `/admin/v1/packages/{package_id}…`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PackagePath {
    /// The package.
    pub package_id: i64,
}

/// `/admin/v1/events/{event_id}…`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EventPath {
    /// The event: its number or its `webhook-id` (`evt_12`).
    #[param(pattern = "^(evt_)?[0-9]+$")]
    pub event_id: String,
}

/// `/admin/v1/examinations/{examine_id}…`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ExaminationPath {
    /// The examination.
    pub examine_id: i64,
}

/// `/admin/v1/operators/{username}…`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OperatorPath {
    /// The operator.
    pub username: String,
}

/// `/admin/v1/runtime-keys/{id}…`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct KeyPath {
    /// The key's id.
    pub id: i64,
}

/// `/runtime/v1/apps/{app_id}/artifacts/{file}`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ArtifactPath {
    /// The app whose package or incremental package it is.
    pub app_id: i64,
    /// `{sha256}.zip`, as `download_url` names it.
    pub file: String,
}

/// `/file/2.0/smartapp/image/{file}`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ImagePath {
    /// `{sha256}.png` or `{sha256}.jpg`, as the upload's URL names it.
    pub file: String,
}
