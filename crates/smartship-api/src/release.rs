//! `data` payloads of the release extensions: phased release
//! (`package/grayrelease` and its siblings) and `package/gethistory`
//! (docs/release.md).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A phased release's `status` as a type (the wire keeps the integer:
/// [`GrayPlanInfo::plan_status`] reads it as this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrayPlanStatus {
    /// 0: the app never had a phased release.
    None,
    /// 1
    Running,
    /// 2
    Paused,
    /// 3: released at 100 %.
    Finished,
    /// 4: every user is back on the online version.
    Reverted,
}

impl GrayPlanStatus {
    pub const ALL: [GrayPlanStatus; 5] = [
        GrayPlanStatus::None,
        GrayPlanStatus::Running,
        GrayPlanStatus::Paused,
        GrayPlanStatus::Finished,
        GrayPlanStatus::Reverted,
    ];

    /// The integer on the wire.
    pub const fn wire(self) -> i64 {
        match self {
            GrayPlanStatus::None => 0,
            GrayPlanStatus::Running => 1,
            GrayPlanStatus::Paused => 2,
            GrayPlanStatus::Finished => 3,
            GrayPlanStatus::Reverted => 4,
        }
    }

    /// The status an integer of the wire names; None for another.
    pub fn from_wire(status: i64) -> Option<GrayPlanStatus> {
        GrayPlanStatus::ALL.into_iter().find(|s| s.wire() == status)
    }

    /// A live plan (running or paused) holds its package and serves it.
    pub const fn is_live(self) -> bool {
        matches!(self, GrayPlanStatus::Running | GrayPlanStatus::Paused)
    }
}

impl GrayPlanInfo {
    /// `status` as a type; None for a status this SDK does not know.
    pub fn plan_status(&self) -> Option<GrayPlanStatus> {
        GrayPlanStatus::from_wire(self.status)
    }
}

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

#[cfg(test)]
mod status_tests {
    use super::*;

    #[test]
    fn plan_statuses_round_trip_and_only_running_and_paused_are_live() {
        for s in GrayPlanStatus::ALL {
            assert_eq!(GrayPlanStatus::from_wire(s.wire()), Some(s));
        }
        assert_eq!(GrayPlanStatus::from_wire(5), None);
        let live: Vec<_> = GrayPlanStatus::ALL
            .into_iter()
            .filter(|s| s.is_live())
            .collect();
        assert_eq!(live, [GrayPlanStatus::Running, GrayPlanStatus::Paused]);
    }
}
