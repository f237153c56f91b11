//! `data` payloads of the package routes (SPEC §4, seed page).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A package's `status` as a type. The wire keeps the integer the official
/// SDKs declare (`PackageInfo::status`); [`PackageInfo::package_status`]
/// reads it as this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PackageStatus {
    /// 1: what users get.
    Online,
    /// 3: the development package (uploaded, building or built).
    Development,
    /// 4: under audit.
    Auditing,
    /// 5: failed its audit.
    AuditFailed,
    /// 6: passed its audit, waiting for its release.
    AuditPassed,
    /// 8: online, rolling back to an earlier version.
    RollingBack,
}

impl PackageStatus {
    pub const ALL: [PackageStatus; 6] = [
        PackageStatus::Online,
        PackageStatus::Development,
        PackageStatus::Auditing,
        PackageStatus::AuditFailed,
        PackageStatus::AuditPassed,
        PackageStatus::RollingBack,
    ];

    /// The integer on the wire.
    pub const fn wire(self) -> i64 {
        match self {
            PackageStatus::Online => 1,
            PackageStatus::Development => 3,
            PackageStatus::Auditing => 4,
            PackageStatus::AuditFailed => 5,
            PackageStatus::AuditPassed => 6,
            PackageStatus::RollingBack => 8,
        }
    }

    /// The status an integer of the wire names; None for another.
    pub fn from_wire(status: i64) -> Option<PackageStatus> {
        PackageStatus::ALL.into_iter().find(|s| s.wire() == status)
    }

    /// How the documents and the CLI name it.
    pub const fn as_str(self) -> &'static str {
        match self {
            PackageStatus::Online => "online",
            PackageStatus::Development => "development",
            PackageStatus::Auditing => "auditing",
            PackageStatus::AuditFailed => "audit_failed",
            PackageStatus::AuditPassed => "audit_passed",
            PackageStatus::RollingBack => "rolling_back",
        }
    }
}

/// As a parameter (`type` of `package/getdetail`): the integer of the wire.
impl Serialize for PackageStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.wire())
    }
}

impl<'de> Deserialize<'de> for PackageStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Wire;
        impl serde::de::Visitor<'_> for Wire {
            type Value = PackageStatus;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a package status")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PackageStatus, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PackageStatus, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PackageStatus, E> {
                v.parse()
                    .ok()
                    .and_then(PackageStatus::from_wire)
                    .ok_or_else(|| E::custom(format!("必须是 1、3、4、5、6、8 之一，收到 {v:?}")))
            }
        }
        d.deserialize_any(Wire)
    }
}

impl PackageInfo {
    /// `status` as a type; None for a status this SDK does not know.
    pub fn package_status(&self) -> Option<PackageStatus> {
        PackageStatus::from_wire(self.status)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_statuses_round_trip_and_others_are_unknown() {
        for s in PackageStatus::ALL {
            assert_eq!(PackageStatus::from_wire(s.wire()), Some(s));
        }
        for other in [0, 2, 7, 9, -1] {
            assert_eq!(PackageStatus::from_wire(other), None);
        }
    }
}
