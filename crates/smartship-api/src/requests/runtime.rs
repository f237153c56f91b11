//! The query of a host runtime's update check (SPEC §7).

use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

/// `GET /runtime/v1/apps/{app_id}/update`. Each text is at most 128 bytes
/// without control characters.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UpdateCheck {
    /// The host's id of the user (bucketing of phased releases). Without
    /// it, the answer is the online version.
    pub user_id: Option<String>,
    /// The version the host has; an incremental package from it is offered
    /// when the app served that version. Two packages may carry one
    /// version: send `current_package_id` (or `current_sha256`) to be told
    /// apart.
    pub current_version: Option<String>,
    /// The package the host runs (`package_id` of the answer it applied):
    /// decides `up_to_date` and the incremental package's base.
    pub current_package_id: Option<i64>,
    /// The SHA-256 of the zip the host runs, when it knows no package id.
    pub current_sha256: Option<String>,
}
