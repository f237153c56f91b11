//! `data` payloads of the package routes (SPEC §4, seed page).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One entry of `package/get`, and the `data` of `package/getdetail`.
///
/// Field names and types follow the public page: `package_id` is a JSON
/// integer, `remark` a string, `commit_time` `YYYY/MM/DD HH:MM:SS`. The upload
/// fields appear only on the development package (see `docs/api.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PackageInfo {
    pub package_id: i64,
    pub version: String,
    pub version_desc: String,
    pub status: i64,
    pub remark: String,
    pub msg: String,
    pub committer: String,
    pub commit_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub rollback_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub upload_status: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub upload_status_desc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub upload_err_code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub upload_err_msg: Option<String>,
    /// Extension: the time (Unix seconds) a scheduled release of this
    /// package (status 6) takes place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_at: Option<i64>,
}

/// `data` of `package/auditquota`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditQuota {
    /// 2 = the quota renews every week; -1 = unlimited.
    pub quota_type: i64,
    /// Submissions allowed per period (-1 when unlimited).
    pub quota_times: i64,
    /// Submissions left in the current period (-1 when unlimited).
    pub remain_times: i64,
}

/// `data` of `package/precheck` (extension): the pre-review checks run at
/// the package's build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PrecheckReport {
    pub package_id: i64,
    /// No finding blocks a submission.
    pub passed: bool,
    /// How many findings block it (`submitaudit` answers 47034).
    pub blocking: i64,
    pub findings: Vec<PrecheckFinding>,
}

/// One finding of [`PrecheckReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PrecheckFinding {
    /// `size.main`, `size.total`, `pages.files`, `json.parse`,
    /// `tabbar.icon`, `code.eval`, `code.remote_script`,
    /// `network.domain`, `privacy.undeclared`.
    pub check: String,
    pub blocking: bool,
    pub file: String,
    /// 1-based; 0 for the whole file.
    pub line: i64,
    pub message: String,
}
