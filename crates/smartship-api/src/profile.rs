//! `data` payloads of the app's basic information and settings (SPEC §2):
//! `app/info`, the basic-info changes and their examinations, categories,
//! domains, images, violations. Field names and JSON types are those the
//! official SDKs declare (`baidu/smartapp-openapi-go`, `openapi/tp/app`,
//! `openapi/tp/domain`, `openapi/tp/offline`,
//! `openapi/tp/authprocess/getAppInfo.go`); fields that only smartship
//! sends are marked as extensions (a Go client ignores them).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `data` of `app/info`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct AppInfo {
    /// The mini-program's id.
    pub app_id: i64,
    /// Its public key string.
    pub app_key: String,
    /// Its approved name (a name under review is in `audit_info`).
    #[serde(default)]
    pub app_name: String,
    /// Its approved description.
    #[serde(default)]
    pub app_desc: String,
    /// Its approved icon's URL ("" until one passed review).
    #[serde(default)]
    pub photo_addr: String,
    /// -1 banned, 1 normal, 2 new app under review (its first basic
    /// information not approved yet), 4 paused (`app/pause`), 5 forced
    /// offline.
    #[serde(default)]
    pub status: i64,
    /// Why the app is banned or offline, as the operator wrote it; "" when
    /// in service. Extension.
    #[serde(default)]
    pub status_reason: String,
    /// The subject and its authenticity (主体真实性认证); release needs it.
    #[serde(default)]
    pub qualification: Qualification,
    /// The review of the name, icon and description, each field's newest
    /// change.
    #[serde(default)]
    pub audit_info: AuditInfo,
    /// Scopes the calling platform was granted.
    #[serde(default)]
    pub auth_info: Vec<ScopeInfo>,
    /// Service categories: the approved ones (`audit_status` 2) and those
    /// of the newest change while it is under review (1) or failed (3).
    #[serde(default)]
    pub category: Vec<AppCategory>,
    /// This year's changes of each field and their quotas.
    #[serde(default)]
    pub modify_count: ModifyCount,
    /// The lowest developer-tool version packages must be built with; ""
    /// (smartship sets none).
    #[serde(default)]
    pub min_swan_version: String,
    /// Open forced-offline records.
    #[serde(default)]
    pub app_offline_info: Vec<OfflineInfo>,
    /// smartship has no annual review: status 1 (normal), time 0.
    #[serde(default)]
    pub annual_review_info: AnnualReviewInfo,
    /// Web-ification: 0, not offered by smartship.
    #[serde(default)]
    pub web_status: i64,
}

/// `qualification` of [`AppInfo`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Qualification {
    /// Authenticity certification: 1 passed, 0 not yet.
    #[serde(default)]
    pub ad_status: i64,
    /// Certification type: 1 (corporate account) once verified, 0 before.
    #[serde(default)]
    pub ad_type: i64,
    /// The subject's name: the app's approved name (smartship keeps no
    /// separate subject record).
    #[serde(default)]
    pub name: String,
    /// Subject review, spelled as the official Go SDK declares it: 1
    /// passed, 2 under review.
    #[serde(default)]
    pub satus: i64,
    /// Subject type: 2 enterprise.
    #[serde(default, rename = "type")]
    pub kind: i64,
    /// 1 verified, 0 not. Extension (also how the Java SDK spells `satus`).
    #[serde(default)]
    pub status: i64,
    /// The same as a boolean. Extension.
    #[serde(default)]
    pub authenticity_verified: bool,
}

/// `audit_info` of [`AppInfo`]: each field's newest change. Status 0 no
/// change, 1 under review, 2 passed, 3 failed (with its reason).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditInfo {
    #[serde(default)]
    pub audit_app_name: String,
    #[serde(default)]
    pub audit_app_name_status: i64,
    #[serde(default)]
    pub audit_app_name_reason: String,
    #[serde(default)]
    pub audit_app_desc: String,
    #[serde(default)]
    pub audit_app_desc_status: i64,
    #[serde(default)]
    pub audit_app_desc_reason: String,
    #[serde(default)]
    pub audit_photo_addr: String,
    #[serde(default)]
    pub audit_photo_addr_status: i64,
    #[serde(default)]
    pub audit_photo_addr_reason: String,
    /// 1 basic information approved (the `submitaudit` precondition), 0
    /// not. Extension.
    #[serde(default)]
    pub status: i64,
    /// The same as a boolean. Extension.
    #[serde(default)]
    pub basic_info_approved: bool,
}

/// One entry of `auth_info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScopeInfo {
    /// The scope's name.
    pub scope_name: String,
    /// 0: a scope of the mini-program.
    #[serde(default, rename = "type")]
    pub kind: i64,
}

/// One entry of `category` in [`AppInfo`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppCategory {
    pub category_id: i64,
    pub category_name: String,
    #[serde(default)]
    pub category_desc: String,
    /// 1 under review, 2 passed, 3 failed.
    pub audit_status: i64,
    /// Why it failed.
    #[serde(default)]
    pub reason: String,
    pub parent: CategoryParent,
}

/// `parent` of [`AppCategory`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CategoryParent {
    pub category_id: i64,
    pub category_name: String,
    #[serde(default)]
    pub category_desc: String,
}

/// `modify_count` of [`AppInfo`]: changes submitted this calendar year
/// (UTC), whatever their review, and the yearly quotas.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ModifyCount {
    pub name_modify_used: i64,
    pub name_modify_quota: i64,
    pub image_modify_used: i64,
    pub image_modify_quota: i64,
    pub signature_modify_used: i64,
    pub signature_modify_quota: i64,
    pub category_modify_used: i64,
    pub category_modify_quota: i64,
}

/// One entry of `app_offline_info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OfflineInfo {
    /// 1: taken offline for its basic information (smartship's operators
    /// take an app offline as a whole).
    pub offline_reason: i64,
    /// The offending fields (`appName`, `photoAddr`, `appDesc`),
    /// comma-separated.
    pub illegal_fields: String,
    /// The operator's reason. Extension.
    #[serde(default)]
    pub reason: String,
}

/// `annual_review_info` of [`AppInfo`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AnnualReviewInfo {
    pub annual_review_status: i64,
    pub annual_review_overdue_time: i64,
}

/// `data` of `app/checknamewithqual` (camelCase, as declared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NameCheck {
    /// 0 available, 1 needs qualification material (brand words), 2
    /// contains a forbidden word, 3 taken by another app.
    pub check_result: i64,
    /// The words that decided it.
    pub check_words: Vec<String>,
    /// Qualification fields that must come with the name: 1 trademark
    /// certificate.
    pub required_fields: Vec<i64>,
    /// Qualification fields that may: 2 brand authorization.
    pub optional_fields: Vec<i64>,
}

/// `data` of a change taken for review (`category/update`,
/// `modifyheadimage`, `modifysignature`, `offline/update`; and each entry
/// of `setnicknamewithqual`'s array).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExamineId {
    pub examine_id: i64,
}

/// One top-level category of `app/category/list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CategoryItem {
    pub id: i64,
    pub category_name: String,
    /// 1 open to personal subjects, 2 enterprise only.
    pub category_type: i64,
    /// Its second-level categories, by id (as text).
    pub sub_items: BTreeMap<String, CategorySubItem>,
}

/// A second-level category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CategorySubItem {
    pub id: i64,
    pub category_name: String,
    pub category_type: i64,
    /// 1 needs qualification images (`category_quali`), 0 not.
    pub need_quali: i64,
    /// What qualification it needs.
    pub category_quali: String,
}

/// `data` of `app/modifydomain`: each kind comma-separated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppDomains {
    pub download_domain: String,
    pub request_domain: String,
    pub socket_domain: String,
    pub upload_domain: String,
}

/// `data` of `tp/modifydomain`: each kind a list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TpDomains {
    pub download_domain: Vec<String>,
    pub request_domain: Vec<String>,
    pub socket_domain: Vec<String>,
    pub upload_domain: Vec<String>,
}

/// `data` of `app/violation` (camelCase, as declared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ViolationDetail {
    pub app_id: i64,
    pub problem_details: Vec<ProblemDetail>,
}

/// One ban or forced offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProblemDetail {
    /// The record's id.
    pub task_id: i64,
    /// 1 in force, 2 resolved.
    pub status: i64,
    /// The operator's reason.
    pub problem_desc: String,
    /// The offending fields.
    pub problem_path: String,
    /// The reason a restoration request failed, if one did.
    pub audit_reason: String,
    pub screen_shot: String,
    pub audit_shot: String,
}

/// An examination, as the operator API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExaminationView {
    pub examine_id: i64,
    pub app_id: i64,
    /// name, photo, signature, category, restore, basic_info.
    pub field: String,
    /// The value asked for (JSON for category and restore).
    pub value: String,
    /// Qualification images, comma-separated.
    pub material: String,
    /// pending, passed, failed.
    pub status: String,
    pub reason: String,
    pub submitted_by: String,
    /// Unix ms.
    pub submitted_at: i64,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<i64>,
}

/// `data` of `app/pause`, `app/resume` and `appflow/control`, as the
/// official SDKs declare it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceChange {
    /// 0: done.
    pub errno: i64,
    pub msg: String,
}

/// `data` of `app/getsupportversion`, as the official SDKs declare it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SupportVersions {
    /// The base-library versions the platform offers, oldest first.
    pub items: Vec<SupportVersionItem>,
    /// The app's minimum (`app/setsupportversion`); the oldest of `items`
    /// while it has asked for none.
    pub now_version: String,
}

/// One entry of [`SupportVersions::items`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SupportVersionItem {
    pub version: String,
}
