//! Requests of the package routes (SPEC §4, seed page).

use super::{Credential, Description, Notes, Version};
use crate::fields::Id;
use crate::package::PackageStatus;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

/// `package/upload`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Upload {
    /// A template of the app's third-party platform.
    #[param(inline, example = 1)]
    pub template_id: Id,
    /// The app's ext.json: a JSON object (see docs/api.md).
    #[param(example = r#"{"extEnable":true,"ext":{"name":"demo"}}"#)]
    pub ext_json: String,
    /// Version shown to the platform, one line.
    #[param(inline, example = "1.0.0")]
    pub user_version: Version,
    /// Description of the version, one line.
    #[param(inline, example = "first version")]
    pub user_desc: Description,
    /// Test account for the reviewers.
    #[param(inline)]
    pub test_account: Option<Credential>,
    /// Its password.
    #[param(inline)]
    pub test_password: Option<Credential>,
}

/// `package/submitaudit`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubmitAudit {
    /// The package (`package_id` of `package/get`).
    #[param(inline, example = 1)]
    pub package_id: Id,
    /// What the reviewers should know; may span lines.
    #[param(inline, example = "please review")]
    pub content: Notes,
    /// A remark; may span lines.
    #[param(inline)]
    pub remark: Option<Notes>,
    /// Test account for the reviewers.
    #[param(inline)]
    pub test_account: Option<Credential>,
    /// Its password.
    #[param(inline)]
    pub test_password: Option<Credential>,
}

/// `package/withdraw`, and every route that names one package and
/// nothing else.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OnePackage {
    /// The package (`package_id` of `package/get`).
    #[param(inline, example = 1)]
    pub package_id: Id,
}

/// `package/release`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Release {
    /// The package (`package_id` of `package/get`).
    #[param(inline, example = 1)]
    pub package_id: Id,
    /// Unix seconds: release then instead of now (at most a year ahead; a time not in the future releases now).
    pub release_at: Option<i64>,
}

/// `package/cancelrelease` (extension).
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CancelRelease {
    /// The package whose release is scheduled.
    #[param(inline)]
    pub package_id: Id,
}

/// `package/rollback`.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Rollback {
    /// The package (`package_id` of `package/get`).
    #[param(inline, example = 1)]
    pub package_id: Id,
    /// The earlier version to return to, by package id.
    #[param(inline)]
    pub target_package_id: Option<Id>,
    /// The earlier version to return to, by version; 47035 naming the package ids when several earlier versions carry it.
    #[param(inline)]
    pub version: Option<Version>,
}

/// `package/getdetail`: by `package_id`, by `type`, or the online version.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetDetail {
    /// The package.
    #[param(inline)]
    pub package_id: Option<Id>,
    /// A status: 1 online, 3 development, 4 auditing, 5 audit failed, 6 audit passed, 8 under rollback.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<i64>)]
    pub status: Option<PackageStatus>,
}

/// `package/precheck` (extension).
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Precheck {
    /// The package (`package_id` of `package/get`).
    #[param(inline)]
    pub package_id: Id,
}
