//! `data` payloads of the release extensions: phased release
//! (`package/grayrelease` and its siblings) and `package/gethistory`
//! (docs/release.md).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A phased release, as every gray route answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GrayPlanInfo {
    /// 0 when the app never had a phased release; else 1 running, 2 paused,
    /// 3 finished, 4 reverted.
    pub status: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gray_percentage: Option<i64>,
    /// The allow-list: host user ids that get the package whatever the percentage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_list: Option<Vec<String>>,
    /// Steps not yet taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp: Option<Vec<RampStepInfo>>,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// One step of a ramp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RampStepInfo {
    pub gray_percentage: i64,
    /// Unix seconds.
    pub at: i64,
}

/// One version that was online (`package/gethistory`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HistoryEntry {
    pub package_id: i64,
    pub version: String,
    pub version_desc: String,
    /// `online`, `rolling_back`, `history` (an earlier version) or
    /// `rolled_back`; the last two are rollback targets.
    pub state: String,
    /// Unix seconds of the last time it went online, and who did it
    /// (`app:<id>`, `worker:rollback`, `worker:gray`, `worker:schedule`...).
    pub released_at: Option<i64>,
    pub released_by: Option<String>,
    /// Unix seconds of the last rollback requested while it was online, and who.
    pub rolled_back_at: Option<i64>,
    pub rolled_back_by: Option<String>,
}

/// `data` of `package/gethistory`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct History {
    pub count: i64,
    pub list: Vec<HistoryEntry>,
}
